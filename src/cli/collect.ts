// `flowsentry collect --listen udp://HOST:PORT [--out flows.jsonl|flows.csv] [--features netflow] [--json]`: receives
// NetFlow v5 / v9 / IPFIX and writes one FlowRecord per JSON line (to --out, else stdout), or per CSV row under a
// header when --out ends in .csv; with --features netflow, the rows of `extract --features netflow` instead (the
// columns a model for `detect/serve --netflow` trains on). Runs until SIGINT/SIGTERM, --duration or --count,
// then prints the summary (stdout with --out or --json, stderr when stdout carries the flows). Receiving and
// decoding run on two threads (src/flows/collector-pipeline.ts); receiving with recvmmsg batches when native/ is built.

import type { Command } from 'commander';
import { closeSync, openSync } from 'node:fs';
import { integerOption, receiverOption, runCommand, stopOnSignals, type GlobalOptions } from './command.js';
import { MAX_TIMER_MS } from '../util/timers.js';
import { DEFAULT_RECEIVE_BUFFER, MAX_RECEIVE_BUFFER, type CollectorStats } from '../flows/collector.js';
import { CollectorPipeline, OutputWriteError, type ReceiverKind } from '../flows/collector-pipeline.js';
import { UsageError, UserError } from '../errors.js';
import { checkWritableFile } from '../workflow/paths.js';
import { describeWriteError } from '../util/output.js';

interface CollectOptions extends GlobalOptions {
  listen: string;
  out?: string;
  features?: string;
  receiveBuffer: number;
  duration?: number;
  count?: number;
  receiver: ReceiverKind;
}

/**
 * The --out format from its extension: .csv is CSV with a header; .jsonl, .ndjson, .json or no extension (e.g.
 * /dev/null) is JSON lines; anything else is refused rather than written in a format its name does not say.
 */
export function outFormat(path: string): 'csv' | 'jsonl' {
  const m = /\.([^./\\]+)$/.exec(path);
  const ext = m ? m[1].toLowerCase() : '';
  if (ext === 'csv') return 'csv';
  if (ext === '' || ext === 'jsonl' || ext === 'ndjson' || ext === 'json') return 'jsonl';
  throw new UsageError(`--out ${path}: collect writes .csv (CSV with a header) or .jsonl (JSON lines), not .${m![1]}`);
}

/** Parses udp://HOST:PORT (IPv6 hosts in brackets). */
export function parseListen(url: string): { host: string; port: number } {
  const m = /^udp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(url);
  const port = m ? Number(m[2]) : -1;
  if (!m || port > 65535) throw new UsageError(`--listen expects udp://HOST:PORT (e.g. udp://0.0.0.0:2055), got '${url}'`);
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}

export function register(program: Command): void {
  program
    .command('collect')
    .description('receive NetFlow v5/v9 and IPFIX exports and write flow records as JSON lines or CSV')
    .requiredOption('--listen <url>', 'where to listen, udp://HOST:PORT')
    .option('--out <file>', 'write flows to this file: CSV if it ends in .csv, else JSON lines (default: JSON lines on stdout)')
    .option('--features <set>', 'netflow: write the NetFlow feature rows of `extract --features netflow`, to train a model for `serve --netflow` (default: the flow records)')
    .option('--receive-buffer <bytes>', 'socket receive buffer to request', integerOption('--receive-buffer', 1, MAX_RECEIVE_BUFFER), DEFAULT_RECEIVE_BUFFER)
    .option('--duration <seconds>', 'stop after this many seconds', integerOption('--duration', 1, Math.floor(MAX_TIMER_MS / 1000)))
    .option('--count <records>', 'stop once this many flow records were decoded', integerOption('--count', 1))
    .option('--receiver <kind>', 'auto (recvmmsg when built, else dgram), recvmmsg or dgram', receiverOption, 'auto')
    .option('--json', 'print the summary as JSON on stdout (without --out, the flows are then not written)')
    .action(async (opts: CollectOptions, cmd: Command) => {
      const global = { ...cmd.optsWithGlobals<GlobalOptions>(), ...opts };
      const toStdout = opts.out === undefined;
      await runCommand(global, () => collect(opts, toStdout && !opts.json), (s) => summaryText(s, toStdout));
    });
}

async function collect(opts: CollectOptions, flowsToStdout: boolean): Promise<CollectorStats> {
  const { host, port } = parseListen(opts.listen);
  const format = opts.out !== undefined ? outFormat(opts.out) : 'jsonl';
  if (opts.features !== undefined && opts.features !== 'netflow') {
    throw new UsageError(`--features expects netflow (flow exports carry no CIC features), got '${opts.features}'`);
  }
  let stopping = false;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = (): void => ((stopping = true), resolve())));
  /** Flow records decoded, as the decoding thread last reported. */
  let decoded = 0;
  // In place before the collector starts (its decoding thread and warm-up take ~0.2 s): a stop meanwhile ends the run
  // as soon as it listens, exit 0, where the signal's default action killed it (exit 143). A signal while stopping
  // (after a first one, --duration or --count) quits at once: the final flush decodes and writes everything queued.
  const removeSignalHandlers = stopOnSignals(['SIGINT', 'SIGTERM'], {
    stop,
    stopping: () => stopping,
    lost: () => {
      const output = opts.out ?? (flowsToStdout ? 'the output' : undefined);
      const written = output === undefined ? '' : `${output} holds only the flows written before it (its last line may be cut); `;
      return `${written}${decoded} flow records decoded so far`;
    },
  });
  let outFd: number | undefined;
  try {
    if (opts.out !== undefined) {
      checkWritableFile(opts.out, '--out');
      try {
        outFd = openSync(opts.out, 'w');
      } catch (err) {
        throw new UserError(`cannot write: ${describeWriteError(err)}`, { file: opts.out });
      }
    } else if (flowsToStdout) outFd = 1;

    const onRecords = (records: number): void => {
      decoded = records;
      if (opts.count !== undefined && records >= opts.count) stop();
    };
    const pipeline = await CollectorPipeline.start({
      host,
      port,
      receiveBuffer: opts.receiveBuffer,
      receiver: opts.receiver,
      listenOption: '--listen',
      outFd,
      outName: opts.out ?? 'stdout',
      format,
      features: opts.features,
      onRecords,
      onError: (err) => {
        // flows on stdout whose reader went away (`| head`): done, quietly (src/util/output.ts)
        if (flowsToStdout && err instanceof OutputWriteError && err.code === 'EPIPE') process.exit(0);
        stop();
      },
    });
    const bound = pipeline.address;
    // an IPv6 address in a URL is bracketed, as --listen takes it: udp://[::1]:4739
    const shownHost = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
    process.stderr.write(`flowsentry: listening on udp://${shownHost}:${bound.port}\n`);
    const timer = opts.duration !== undefined ? setTimeout(stop, opts.duration * 1000) : undefined;
    await stopped;
    if (timer) clearTimeout(timer);
    return await pipeline.stop();
  } finally {
    removeSignalHandlers();
    if (outFd !== undefined && outFd > 2) closeSync(outFd);
  }
}

function summaryText(s: CollectorStats, toStderr: boolean): string {
  const lines = [
    `datagrams ${s.datagrams} (${s.bytes} bytes) from ${s.exporters.length} exporter(s) in ${s.seconds.toFixed(1)} s`,
    `flow records ${s.records}, options records ${s.optionsRecords}`,
    `templates ${s.templates}, options templates ${s.optionsTemplates}, withdrawals ${s.withdrawals}`,
    `malformed datagrams ${s.malformed}${reasons(s.malformedByReason)}`,
    `pending data sets: buffered ${s.pendingBuffered}, decoded ${s.pendingDecoded}, dropped ${s.pendingDropped}`,
    `kernel drops ${s.kernelDrops ?? 'unknown'}, decoder backlog drops ${s.ringDropped ?? 0}; receive buffer ${s.receiveBuffer.granted} bytes (requested ${s.receiveBuffer.requested}); received with ${s.receiver ?? 'dgram'}`,
  ];
  if (Object.keys(s.skipped).length > 0) lines.push(`skipped${reasons(s.skipped)}`);
  const text = lines.join('\n');
  if (!toStderr) return text;
  process.stderr.write(`${text}\n`);
  return '';
}

function reasons(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

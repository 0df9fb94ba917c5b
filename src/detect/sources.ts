// Traffic sources of the detection engine. Each turns its input into FlowRecords and submits them:
//   - a capture file, at full speed or at the capture's own pace (`realtime`);
//   - pcap on stdin;
//   - live capture: `tcpdump -i IF -w - -U` as a child process writing pcap to a pipe. Only tcpdump needs capture
//     privileges (CAP_NET_RAW / CAP_NET_ADMIN, e.g. `setcap cap_net_raw,cap_net_admin=eip $(which tcpdump)` or a
//     member of the pcap group); Flowsentry itself runs unprivileged (docs/detect.md);
//   - the NetFlow v5/v9 / IPFIX collector, on its own thread, handing over columnar chunks (src/detect/netflow-worker.ts).
// Packet sources go through the flow meter; a quiet live flow is still emitted by a wall-clock expiry timer.

import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { captureDamageLine, readCapture, type CaptureSummary } from '../io/capture.js';
import type { CollectorStats } from '../flows/collector.js';
import type { FlowRecord } from '../flows/flow-record.js';
import { FlowMeter, type MeterOptions, type MeterStats } from '../flows/meter.js';
import type { AlertStage } from './alert.js';
import type { FlowChunk } from './flow-chunk.js';
import type { ModelScorer } from './model-scorer.js';
import { NetflowWorkerSource } from './netflow-worker.js';
import { MAX_PORT, NETFLOW_LISTEN } from './config-limits.js';

export type Submit = (flow: FlowRecord, stage: AlertStage) => void;
/** Takes a chunk of collected flows; calls `release(chunk)` once it no longer reads it. */
export type SubmitChunk = (chunk: FlowChunk, release: (chunk: FlowChunk) => void) => void;

export interface PacketSourceOptions extends MeterOptions {
  /** Replay a capture file at the pace of its timestamps. */
  realtime?: boolean;
  /** Also score each flow once after its first N packets (0 = only at flow end). */
  earlyPackets?: number;
  signal?: AbortSignal;
  /** How the capture is named in its summary and damage line when it is a stream (default: the reader's name). */
  sourceName?: string;
  /** Called once with a reader of the flow meter's live counters (for metrics). */
  onMeter?: (stats: () => MeterStats) => void;
}

export interface PacketSourceSummary {
  /** The reader's summary; without `format` and `gzip` when a stream was stopped before its first byte. */
  capture: Omit<CaptureSummary, 'format' | 'gzip'> & Partial<Pick<CaptureSummary, 'format' | 'gzip'>>;
  meter: MeterStats;
  /**
   * Why the source ended before it was stopped, when that is a fault: the capture is cut short or damaged (a file,
   * or a writer on stdin that died mid-packet), or tcpdump exited with an error. One line; `detect` exits 1 with it.
   */
  damage?: string;
}

/** Reads a capture (file path, '-' for stdin, or a stream), meters it into flows and submits them. */
export async function runPacketSource(source: string | Readable, submit: Submit, options: PacketSourceOptions = {}): Promise<PacketSourceSummary> {
  const meter = new FlowMeter((flow) => submit(flow, 'final'), {
    ...options,
    onEarly: options.earlyPackets ? (flow) => submit(flow, 'early') : undefined,
  });
  options.onMeter?.(() => meter.stats);
  let input: string | Readable = source;
  let pace: (() => Promise<void>) | undefined;
  let firstPacketUs = 0;
  let lastPacketUs = 0;
  let startedAt = 0;
  if (options.realtime && typeof source === 'string' && source !== '-') {
    input = createReadStream(source, { highWaterMark: 16 * 1024 });
    pace = async () => {
      const due = startedAt + (lastPacketUs - firstPacketUs) / 1000 - performance.now();
      if (due > 1) await new Promise((r) => setTimeout(r, due));
    };
  }
  // stdin goes through a pass-through we can end, so SIGTERM (abort) ends the capture cleanly even while the writer
  // keeps the pipe open.
  let stopStdin: (() => void) | undefined;
  if (source === '-') {
    const pass = new PassThrough();
    process.stdin.pipe(pass);
    input = pass;
    stopStdin = () => {
      process.stdin.unpipe(pass);
      process.stdin.destroy();
      pass.end();
    };
    if (options.signal?.aborted) stopStdin();
    else options.signal?.addEventListener('abort', stopStdin, { once: true });
  }
  // Streams (stdin, tcpdump) and realtime replays can go quiet: expire flows on the capture's clock advanced by the
  // wall time since the last packet arrived, so an ended connection is scored within a second whatever the epoch of
  // the capture's timestamps (a fast replay of an old file is not cut short: little wall time passes between packets).
  const live = typeof source !== 'string' || source === '-' || options.realtime === true;
  let lastArrival = 0;
  const expiry = live ? setInterval(() => lastArrival > 0 && meter.expire(lastPacketUs + (performance.now() - lastArrival) * 1000), 1000) : undefined;
  // what the reader calls a stream it was handed ('<stream>'), as the user knows it: <stdin>, tcpdump on IF
  const streamName = source === '-' ? '<stdin>' : typeof source === 'string' ? undefined : options.sourceName;
  const stream = source === '-' ? process.stdin : typeof source === 'string' ? undefined : source;
  try {
    const capture = await readCapture(
      input,
      (packet) => {
        if (options.signal?.aborted) return;
        if (firstPacketUs === 0) {
          firstPacketUs = packet.tsUs;
          startedAt = performance.now();
        }
        lastPacketUs = packet.tsUs;
        lastArrival = performance.now();
        meter.addPacket(packet);
      },
      pace,
    ).catch((err: unknown) => {
      // a stream our stop (SIGTERM, Ctrl-C) ended before its first byte holds no capture, and that is no fault
      if (stream !== undefined && options.signal?.aborted && (stream as { bytesRead?: number }).bytesRead === 0) return undefined;
      if (streamName === undefined || !(err instanceof UserError) || err.location?.file !== '<stream>') throw err;
      throw err.at({ ...err.location, file: streamName });
    });
    meter.flush();
    if (capture === undefined) return { capture: { source: streamName ?? '<stream>', packets: 0, bytes: 0, skipped: {} }, meter: meter.stats };
    const named = { ...capture, source: typeof source === 'string' && source !== '-' ? source : (streamName ?? capture.source) };
    // a stream cut by our own stop (SIGTERM, Ctrl-C) is not damage; one cut by its writer is
    const damage = stream !== undefined && options.signal?.aborted ? undefined : captureDamageLine(named, 'scored');
    return { capture: named, meter: meter.stats, ...(damage !== undefined ? { damage } : {}) };
  } finally {
    if (expiry) clearInterval(expiry);
    if (stopStdin) options.signal?.removeEventListener('abort', stopStdin);
  }
}

/**
 * Live capture through tcpdump; resolves when tcpdump exits or `signal` aborts (then flows are flushed). tcpdump
 * exiting on its own with an error (the interface went away, it was killed) is the summary's `damage`.
 */
export async function runInterfaceSource(iface: string, submit: Submit, options: PacketSourceOptions & { tcpdump?: string; filter?: string } = {}): Promise<PacketSourceSummary> {
  const args = ['-i', iface, '-w', '-', '-U', '-n', '-s', '262144', ...(options.filter ? [options.filter] : [])];
  const child = spawn(options.tcpdump ?? 'tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new UserError(`cannot start tcpdump for live capture: ${err.message} (install tcpdump; see docs/detect.md for privileges)`)));
  });
  await spawned;
  const stopCapture = (): void => void child.kill('SIGTERM');
  options.signal?.addEventListener('abort', stopCapture, { once: true });
  const name = `tcpdump on ${iface}`;
  try {
    const summary = await runPacketSource(child.stdout, submit, { ...options, sourceName: name });
    if (options.signal?.aborted) return summary;
    const { code, signal } = await exited;
    if (code === 0) return summary;
    const why = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    const said = tcpdumpComplaint(stderr);
    return { ...summary, damage: `${name}: tcpdump ${why}${said ? ` (${said})` : ''}; the flows of the ${summary.capture.packets} packets read were scored` };
  } catch (err) {
    // tcpdump that fails to start capturing writes no capture at all: its own last line says why
    child.kill('SIGTERM');
    await exited;
    const said = tcpdumpComplaint(stderr);
    if (/permission|Operation not permitted|You don't have permission/i.test(said)) {
      throw new UserError(`tcpdump may not capture on ${iface}: ${said} (see docs/detect.md for privileges)`);
    }
    if (said && err instanceof UserError) throw new UserError(`${name} failed: ${said}`);
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', stopCapture);
    child.kill('SIGTERM');
  }
}

/** What tcpdump said on stderr, on one line, without its start and end chatter. */
function tcpdumpComplaint(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^tcpdump: listening on |^\d+ packets? (captured|received by filter|dropped by kernel)$/.test(line))
    .join(' ');
}

/** The listen address with the port the socket is bound to (`udp://HOST:0` asks the system for a free one). */
export function boundListen(listen: string, port: number | undefined): string {
  const m = NETFLOW_LISTEN.exec(listen);
  return m && port !== undefined ? `udp://${m[1]}:${port}` : listen;
}

/**
 * Listens for NetFlow/IPFIX on a collector thread and submits its chunks of up to `chunkRows` flows (handed over at
 * most `maxDelayMs` after their first record arrived); resolves with the collector's stats when `signal` aborts,
 * after the last chunk was submitted.
 */
export async function runNetflowSource(
  listen: string,
  submit: SubmitChunk,
  options: {
    signal?: AbortSignal;
    receiveBuffer?: number;
    chunkRows?: number;
    maxDelayMs?: number;
    /** Rows submitted and not yet released, at most; beyond it records are dropped (counted) on the collector thread. */
    maxRows?: number;
    /** The engine's scorer (loaded with `shared`); with a NetFlow-feature model, chunks come scored from the collector thread. */
    model?: ModelScorer;
    onDropped?: (records: number) => void;
    /** The collector's skip counts by reason (malformed datagrams, skipped parts), each second while they change. */
    onSkips?: (skips: Record<string, number>) => void;
    /** Called once listening, with the port and how datagrams are received. */
    onListening?: (port: number, receiver: 'recvmmsg' | 'dgram') => void;
    /** As `collect --receiver`: 'auto' (default) receives with the native recvmmsg receiver when it is built, else dgram. */
    receiver?: 'auto' | 'recvmmsg' | 'dgram';
    /** The native receiver's ring, in bytes (default 32 MiB). */
    ringBytes?: number;
    /** n more datagrams dropped by the native receiver because its ring was full; each second while they change. */
    onRingDropped?: (datagrams: number) => void;
    /** Where the address was given, named in the line of a failed listen (default '--netflow'; see listenFailure). */
    listenOption?: string;
  } = {},
): Promise<CollectorStats & { backlogDropped: number }> {
  // the config schema refuses any other address where it was given; an API caller's is named by listenOption
  const where = options.listenOption ?? '--netflow';
  const m = NETFLOW_LISTEN.exec(listen);
  if (!m) throw new UserError(`${where} ${listen}: expected udp://HOST:PORT`);
  if (Number(m[2]) > MAX_PORT) throw new UserError(`${where} ${listen}: the port must be at most ${MAX_PORT}`);
  const source = await NetflowWorkerSource.start(
    {
      host: m[1].replace(/^\[|\]$/g, ''),
      port: Number(m[2]),
      receiveBuffer: options.receiveBuffer,
      chunkRows: options.chunkRows ?? 1024,
      maxDelayMs: options.maxDelayMs ?? 5,
      maxRows: options.maxRows ?? 200_000,
      model: options.model?.featureSet === 'netflow' ? { doc: options.model.doc, file: options.model.model.file } : undefined,
      receiver: options.receiver,
      ringBytes: options.ringBytes,
      listenOption: where,
    },
    submit,
    (records) => options.onDropped?.(records),
    (skips) => options.onSkips?.(skips),
    (datagrams) => options.onRingDropped?.(datagrams),
  );
  options.onListening?.(source.port, source.receiver);
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  return source.stop();
}

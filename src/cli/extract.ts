// `flowsentry extract <captures...>`: pcap / pcapng (optionally gzipped, '-' for stdin) → one row of flow features
// per flow (CIC or NetFlow set), CSV or JSON lines, streamed. Thin: parse options, call src/flows/extract.ts, print.

import { checkNotAnInput, checkWritableFile, dataOutputFormat } from '../workflow/paths.js';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkCaptureFiles } from './capture-files.js';
import { extractFlows, type ExtractSummary, type FeatureSet, type OutputFormat } from '../flows/extract.js';
import { captureDamageLine } from '../io/capture.js';
import { integerOption, numberOption, runCommand, type GlobalOptions } from './command.js';
import { stdoutStream } from '../util/output.js';
import { statSync } from 'node:fs';

interface ExtractCliOptions extends GlobalOptions {
  features: string;
  out?: string;
  format?: string;
  idleTimeout: number;
  activeTimeout: number;
  maxFlows: number;
  workers: number;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // readCapture reports the missing file
  }
}

/** One line per capture file that is cut short or damaged (captureDamageLine); empty when every file is whole. */
export function captureDamageLines(s: ExtractSummary): string[] {
  return s.captures.map((capture) => captureDamageLine(capture, 'written')).filter((line) => line !== undefined);
}

function render(s: ExtractSummary): string {
  const skipped = Object.entries(s.skipped)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  return [
    `packets ${s.packets}, flows ${s.flows}, evictions ${s.evictions}, trailing packets absorbed ${s.trailingPackets}`,
    `skipped: ${skipped || 'none'}`,
    `${s.seconds.toFixed(2)} s, ${Math.round(s.packetsPerSecond)} packets/s`,
  ].join('\n');
}

/** The --out format from its extension; a refusal here also names --format, which says the format of any name. */
function extensionFormat(out: string): OutputFormat {
  try {
    return dataOutputFormat(out);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${err.message}, or say it with --format csv|jsonl`);
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('extract')
    .description('turn packet captures (pcap, pcapng, gzipped, - for stdin) into flow feature rows')
    .argument('<captures...>', 'capture files, or - for stdin')
    .option('--features <set>', 'feature set: cic (CICFlowMeter, 83 features) or netflow (compact)', 'cic')
    .option('--out <file>', 'output file, .csv or .jsonl (default: CSV on stdout)')
    .option('--format <fmt>', 'csv or jsonl (default: from the --out extension)')
    .option('--idle-timeout <s>', 'seconds of silence that end a flow', numberOption('--idle-timeout', { above: 0 }), 120)
    .option('--active-timeout <s>', 'longest flow duration in seconds', numberOption('--active-timeout', { above: 0 }), 120)
    .option('--max-flows <n>', 'most live flows; the least recently seen is evicted beyond it', integerOption('--max-flows', 1), 100_000)
    .option('--workers <n>', 'threads: CIC CSV to --out FILE uses 2 (metering, CSV writing); otherwise N threads each read the files and meter a share of the flows', integerOption('--workers', 1), 1)
    .option('--json', 'print the summary as JSON')
    .action(async (captures: string[], opts: ExtractCliOptions, cmd: Command) => {
      const globals = { ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json };
      await runCommand(
        globals,
        async () => {
          if (opts.features !== 'cic' && opts.features !== 'netflow') throw new UsageError(`--features expects cic or netflow, got '${opts.features}'`);
          if (opts.format !== undefined && opts.format !== 'csv' && opts.format !== 'jsonl') throw new UsageError(`--format expects csv or jsonl, got '${opts.format}'`);
          if (opts.out === undefined && opts.json) throw new UsageError('--json prints the summary on stdout: give the flows a file with --out');
          if (captures.filter((c) => c === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
          if (opts.out !== undefined) checkWritableFile(opts.out, '--out');
          if (opts.out !== undefined) checkNotAnInput(opts.out, '--out', captures);
          // --format says the format of any --out name; without it, the extension must say it
          const format = (opts.format as OutputFormat | undefined) ?? (opts.out !== undefined ? extensionFormat(opts.out) : undefined);
          checkCaptureFiles(captures);
          // A progress bar on a terminal, over the total size of the capture files (gzip: compressed size unknown).
          // Its module (cli-progress and its dependencies, 20 files) is imported only then.
          const sizes = captures.map((c) => (c === '-' ? 0 : fileSize(c)));
          const total = sizes.reduce((a, b) => a + b, 0);
          const progress =
            process.stderr.isTTY === true && !opts.json && total > 1 << 26 ? (await import('../util/progress.js')).createProgress('extract', total, true) : undefined;
          const summary = await extractFlows(captures, opts.out ?? stdoutStream(), {
            ...(progress ? { onProgress: (bytes: number, index: number) => progress.update(Math.min(total, sizes.slice(0, index).reduce((a, b) => a + b, 0) + bytes)) } : {}),
            features: opts.features as FeatureSet,
            ...(format !== undefined ? { format } : {}),
            idleTimeoutS: opts.idleTimeout,
            activeTimeoutS: opts.activeTimeout,
            maxFlows: opts.maxFlows,
            workers: opts.workers,
          });
          progress?.stop();
          const damage = captureDamageLines(summary);
          for (const line of damage) process.stderr.write(`flowsentry: ${line}\n`);
          if (damage.length > 0) process.exitCode = 1;
          if (opts.out === undefined) {
            // Rows went to stdout: the human summary goes to stderr.
            process.stderr.write(`${render(summary)}\n`);
          }
          return summary;
        },
        (s) => (opts.out === undefined ? '' : render(s)),
      );
    });
}

// `flowsentry detect` and `flowsentry serve`: live detection with a saved model. `detect` runs until its source ends
// (or Ctrl-C) and prints a summary; `serve` adds the store, the HTTP API, the dashboard and metrics, and runs until
// SIGTERM/SIGINT/SIGHUP (a closed terminal). Each drains the pipeline and flushes every sink before exiting. Thin:
// options → config → service.

import type { Command } from 'commander';
import { UsageError, UserError } from '../errors.js';
import type { RunningService, ServiceSummary } from '../detect/service.js';
import type { ServiceConfig } from '../serve/config.js';
import type { ReceiverKind } from '../flows/collector-pipeline.js';
import { checkCaptureFiles } from './capture-files.js';
import { integerOption, numberOption, receiverOption, runCommand, stopOnSignals, type GlobalOptions } from './command.js';
import { MAX_AGGREGATION_WINDOW_S, MAX_EARLY_PACKETS } from '../detect/config-limits.js';
import { MAX_TIMER_MS } from '../util/timers.js';
import { keepRunningOnStdoutErrors } from '../util/output.js';

interface DetectCliOptions extends GlobalOptions {
  model?: string;
  pcap?: string;
  interface?: string;
  netflow?: string;
  receiver?: ReceiverKind;
  stdin?: boolean;
  realtime?: boolean;
  sink?: string[];
  store?: string;
  earlyPackets?: number;
  aggregationWindow?: number;
  onAlert?: string;
  onAlertMinScore?: number;
  onAlertPerMinute?: number;
  onAlertTimeoutMs?: number;
  onAlertExecute?: boolean;
  http?: string;
  token?: string;
  config?: string;
  maxFlows?: number;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--model <file>', 'saved model (.fsm)')
    .option('--pcap <file>', 'replay a capture file')
    .option('--realtime', 'replay the capture at its own pace')
    .option('--interface <if>', 'live capture through tcpdump (see docs/detect.md for privileges)')
    .option('--netflow <udp://host:port>', 'listen for NetFlow v5/v9 and IPFIX')
    .option('--stdin', 'read pcap from standard input')
    .option('--receiver <kind>', 'NetFlow receiver: auto (recvmmsg when built, else dgram), recvmmsg or dgram', receiverOption)
    .option('--sink <spec>', 'stdout | file:PATH | webhook:URL | syslog:HOST[:PORT] (repeatable; default: detect stdout, none with --json or in serve)', collect)
    .option('--early-packets <n>', 'also score each flow after its first N packets (default 8; 0: only at flow end)', integerOption('--early-packets', 0, MAX_EARLY_PACKETS))
    .option('--aggregation-window <s>', 'seconds within which alerts of one source and label grow one alert (default 60)', numberOption('--aggregation-window', { above: 0, max: MAX_AGGREGATION_WINDOW_S }))
    .option('--on-alert <command>', "run a command per new alert, e.g. 'nft add element inet filter bl { {src} }' (dry-run unless --on-alert-execute)")
    .option('--on-alert-min-score <x>', 'only alerts with at least this score run the command (default 0)', numberOption('--on-alert-min-score'))
    .option('--on-alert-per-minute <n>', 'rate limit of the command (default 60)', integerOption('--on-alert-per-minute', 1))
    .option('--on-alert-timeout-ms <n>', 'kill the command after this long (default 5000)', integerOption('--on-alert-timeout-ms', 1, MAX_TIMER_MS))
    .option('--on-alert-execute', 'really run the command (default: dry-run, logged)')
    .option('--max-flows <n>', 'most live flows in the flow meter (default 100000)', integerOption('--max-flows', 1))
    .option('--config <file>', 'JSON configuration file (see docs/detect.md)')
    .option('--json', 'print the final summary as JSON');
}

async function toConfig(opts: DetectCliOptions, serve: boolean): Promise<ServiceConfig> {
  const { loadConfig } = await import('../serve/config.js');
  // the hook settings given, which amend the config file's onAlert (the schema has the defaults)
  const hookOptions = { command: opts.onAlert, minScore: opts.onAlertMinScore, perMinute: opts.onAlertPerMinute, timeoutMs: opts.onAlertTimeoutMs, execute: opts.onAlertExecute };
  const given = Object.entries(hookOptions).filter(([, value]) => value !== undefined);
  const onAlert = given.length > 0 ? Object.fromEntries(given) : undefined;
  const config = loadConfig(
    {
      model: opts.model,
      pcap: opts.pcap,
      interface: opts.interface,
      netflow: opts.netflow,
      receiver: opts.receiver,
      stdin: opts.stdin,
      realtime: opts.realtime,
      sinks: opts.sink,
      store: opts.store,
      earlyPackets: opts.earlyPackets,
      aggregationWindowS: opts.aggregationWindow,
      onAlert,
      http: opts.http,
      token: opts.token,
      maxFlows: opts.maxFlows,
    },
    opts.config,
  );
  // detect's default sink, when neither --sink nor the config file names one (a default given as the option's value
  // would override the file's sinks)
  if (!serve && !opts.json && config.sinks.length === 0) config.sinks = ['stdout'];
  if (opts.json && config.sinks.includes('stdout')) throw new UsageError('--json prints the summary on stdout: send alerts to another sink (file:, webhook:, syslog:)');
  if (!serve && !config.pcap && !config.interface && !config.netflow && !config.stdin) throw new UsageError('detect needs a source: --pcap, --interface, --netflow or --stdin');
  if (config.pcap) checkCaptureFiles([config.pcap]);
  if (config.netflow) {
    // NetFlow/IPFIX records carry no CICFlowMeter features: refuse a CIC model at start, not once per record
    const { loadModel } = await import('../store/model-file.js');
    const { featureSetFor } = await import('../detect/model-scorer.js');
    if (featureSetFor(await loadModel(config.model), config.model) === 'cic') {
      throw new UserError(
        'this model needs CICFlowMeter features, which only packet sources (--pcap, --interface, --stdin) provide; for --netflow, train on the rows of `collect --features netflow` (flow exports) or `extract --features netflow` (captures)',
        { file: config.model },
      );
    }
  }
  return config;
}

function render(s: ServiceSummary): string {
  const e = s.engine;
  return [
    `${s.source}: ${e.flowsScored} flows scored (${e.earlyScored} early verdicts) in ${s.seconds.toFixed(2)} s`,
    `alerts: ${e.alertsRaised} raised, ${e.alertsAggregated} aggregated into them${e.duplicates ? `, ${e.duplicates} duplicate records (already counted)` : ''}; dropped ${e.dropped}, scoring errors ${e.scoringErrors}`,
    ...Object.entries(s.sinks).map(([name, st]) => `sink ${name}: written ${st.written}, dropped ${st.dropped}, failed ${st.failed}`),
    ...(s.storeWriteFailures ? [`store: ${s.storeWriteFailures} flushes failed (their rows were retried${s.storeRowsDropped ? `; ${s.storeRowsDropped} rows not stored: alerts lost and traffic cells` : ''})`] : []),
    ...(s.hook ? [`on-alert: ran ${s.hook.ran}, dry-run ${s.hook.dryRun}, rate-limited ${s.hook.rateLimited}, below score ${s.hook.belowScore}, failed ${s.hook.failed}, timed out ${s.hook.timedOut}`] : []),
  ].join('\n');
}

/** The signals that stop the service as its source's end does: SIGHUP is the terminal closing under a foreground run. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** What quitting while the service stops loses, for the line of a signal that comes then. */
function lostOnQuit(service: RunningService | undefined): string {
  if (!service) return 'the service had not started, nothing was scored';
  const { flowsScored, queued } = service.engine.stats();
  const lost = [...(queued > 0 ? [`${queued} queued flows not yet scored`] : []), 'alerts the sinks have not yet written'];
  if (service.store) lost.push("the store's unflushed alert and traffic rows");
  const last = lost.pop()!;
  return `${flowsScored} flows scored so far; ${lost.length > 0 ? `${lost.join(', ')} and ` : ''}${last} are lost`;
}

/**
 * Runs the service until it is done; SIGTERM, SIGINT or SIGHUP stops it (drain and flush). The handlers are in place
 * before the model loads: a stop that comes while the service starts (the model load takes ~0.4 s) stops it as soon
 * as it is up, a clean exit 0, where the signal's default action killed the process (exit 143). A signal while it
 * stops (after a first one, or once its source ended) quits at once, saying what is lost (stopOnSignals).
 */
async function runUntilDone(opts: DetectCliOptions, cmd: Command, serve: boolean): Promise<void> {
  const globals = { ...cmd.optsWithGlobals<GlobalOptions>(), json: opts.json };
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  if (serve) keepRunningOnStdoutErrors(); // the stdout sink counts its failures; `detect | head` ends quietly
  let service: RunningService | undefined;
  let stopRequested = false;
  const removeSignalHandlers = stopOnSignals(STOP_SIGNALS, {
    stop: () => {
      stopRequested = true;
      if (service) void service.stop();
    },
    stopping: () => stopRequested || service?.stopping === true,
    lost: () => lostOnQuit(service),
  });
  let alertsOnStdout = false;
  try {
    await runCommand(
      globals,
      async () => {
        const config = await toConfig(opts, serve);
        alertsOnStdout = config.sinks.includes('stdout');
        // loaded on demand: the service's HTTP server, store and metrics cost every other command ~0.5 s of start-up
        const { startService } = await import('../detect/service.js');
        service = await startService(config, {
          http: serve,
          store: serve || opts.store !== undefined,
          keepAlive: serve,
          log,
          onNetflowPort: (port) => log(`collecting NetFlow/IPFIX on udp port ${port}`),
        });
        if (serve) log(`flowsentry serve: dashboard ${service.url}/#token=${service.token}`);
        if (stopRequested) void service.stop();
        const summary = await service.done;
        // A packet source that ended in damage (detect only; serve logged it and kept running): after every sink is flushed.
        if (!serve && summary.damage !== undefined) {
          process.stderr.write(`flowsentry: ${summary.damage}\n`);
          process.exitCode = 1;
        }
        return summary;
      },
      (summary) => {
        if (!alertsOnStdout) return render(summary);
        // stdout holds the alerts' JSON lines (`detect ... | jq`): the summary goes with the other notices
        process.stderr.write(`${render(summary)}\n`);
        return '';
      },
    );
  } finally {
    removeSignalHandlers();
  }
}

export function register(program: Command): void {
  addCommonOptions(program.command('detect').description('score live flows with a saved model and emit explained alerts'))
    .option('--store <file>', 'also keep alerts in this DuckDB store')
    .action((opts: DetectCliOptions, cmd: Command) => runUntilDone(opts, cmd, false));

  addCommonOptions(program.command('serve').description('run the detection service: store, HTTP API, dashboard and metrics'))
    .option('--http <host:port>', 'address of the API and dashboard (default 127.0.0.1:8470)')
    .option('--store <file>', 'DuckDB store of alerts, traffic and feedback (default flowsentry-data/alerts.duckdb)')
    .option('--token <token>', 'API bearer token (default: generated on first start and kept beside the store)')
    .action((opts: DetectCliOptions, cmd: Command) => runUntilDone(opts, cmd, true));
}

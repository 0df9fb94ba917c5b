// Runs the detection pipeline: a traffic source → the engine (scorer, sinks, store, hook) → optionally the HTTP API
// and dashboard. `detect` and `serve` are the same service; `serve` adds the store and the HTTP server and keeps
// running. Stopping (source end, SIGTERM/SIGINT, or `stop()`) stops the source, drains the engine and flushes every
// sink and the store before resolving.

import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { DetectionEngine, type EngineStats } from './engine.js';
import { ModelScorer } from './model-scorer.js';
import { createSink, statsBySink } from './sinks/index.js';
import type { SinkStats } from './sinks/sink.js';
import { ResponseHook, type HookStats } from './response-hook.js';
import { boundListen, runInterfaceSource, runNetflowSource, runPacketSource, type PacketSourceSummary, type Submit, type SubmitChunk } from './sources.js';
import { collectorSkips } from './netflow-worker.js';
import { AlertStore } from '../store/alert-store.js';
import { kernelDropsForPort, listenFailure } from '../flows/collector.js';
import type { MeterStats } from '../flows/meter.js';
import { countSkip } from '../io/pcap.js';
import { EngineMetrics } from '../serve/metrics.js';
import { buildServer, closeServer } from '../serve/api.js';
import { loadOrCreateToken } from '../serve/auth.js';
import type { ServiceConfig } from '../serve/config.js';

export interface ServiceSummary {
  model: { name: string; file: string };
  source: string;
  seconds: number;
  engine: EngineStats;
  sinks: Record<string, SinkStats>;
  hook: HookStats | null;
  /** Source-side counters: packets and skips by reason, or collector datagrams. */
  input: Record<string, unknown>;
  /** Flow end → verdict latency histogram: [upper bound in seconds, flows at most that late], +Inf last. */
  latency: [number | string, number][];
  /** The packet source ended in damage (see PacketSourceSummary.damage): its one line; `detect` then exits 1. */
  damage?: string;
  /** The store's flushes that failed (e.g. a full disk; their rows were retried), when there is a store. */
  storeWriteFailures?: number;
  /** Alerts lost and traffic cells the store dropped while its flushes failed (AlertStore.rowsDropped), when there is one. */
  storeRowsDropped?: number;
  /** Alerts and traffic cells the store deleted for being older than its retention, when it has one. */
  storeExpired?: { alerts: number; trafficCells: number };
  /** Store tables rebuilt without their expired rows (AlertStore.compactions), when it has a retention. */
  storeCompactions?: number;
}

export interface RunningService {
  readonly engine: DetectionEngine;
  readonly scorer: ModelScorer;
  readonly store: AlertStore | undefined;
  /** `http://HOST:PORT` once the HTTP server listens (serve only). */
  readonly url: string | undefined;
  readonly token: string | undefined;
  /** Resolves when the source has ended (file) and everything is flushed, or after `stop()`. */
  readonly done: Promise<ServiceSummary>;
  /** Whether it is stopping (draining and flushing) or stopped: after `stop()`, or once its source ended (without keepAlive). */
  readonly stopping: boolean;
  stop(): Promise<ServiceSummary>;
}

export interface ServiceOptions {
  /** Start the HTTP API, dashboard and metrics (serve). */
  http: boolean;
  /** Keep the store (always with http). */
  store: boolean;
  /** Keep running after a capture file ends (serve), until stop(). */
  keepAlive: boolean;
  log: (line: string) => void;
  /** Called with the collector's UDP port once listening. */
  onNetflowPort?: (port: number) => void;
}

/** The source as /api/health and the summary name it; `netflowPort`: the port the collector listens on, once bound. */
function sourceName(c: ServiceConfig, netflowPort?: number): string {
  if (c.pcap) return `pcap:${c.pcap}`;
  if (c.interface) return `interface:${c.interface}`;
  if (c.netflow) return boundListen(c.netflow, netflowPort);
  if (c.stdin) return 'stdin';
  return 'none';
}

export async function startService(config: ServiceConfig, options: ServiceOptions): Promise<RunningService> {
  const started = performance.now();
  // With a NetFlow source, the collector thread scores with this scorer's arrays (shared, not a second copy).
  const scorer = await ModelScorer.load(config.model, { shared: config.netflow !== undefined, log: options.log });
  const sinks = config.sinks.map((spec) => createSink(spec, options.log));
  let store: AlertStore | undefined;
  if (options.store || options.http) {
    mkdirSync(dirname(config.store), { recursive: true });
    // flush every 5 s: each flush updates every aggregate that grew (a flood keeps thousands growing, and DuckDB's
    // update work competes with the collector thread for the cores), while API reads lay what is not yet written over
    // the stored rows, so reads stay current without a write; SIGTERM flushes everything (250 ms → 1 s took a NetFlow
    // flood's p99 from 161 ms to 72-107 ms)
    const retentionMs = config.storeRetentionHours === undefined ? undefined : config.storeRetentionHours * 3_600_000;
    store = await AlertStore.open(config.store, 5000, options.log, config.storeMaxPending, retentionMs);
  }
  const hook = config.onAlert
    ? new ResponseHook({ template: config.onAlert.command, minScore: config.onAlert.minScore, perMinute: config.onAlert.perMinute, timeoutMs: config.onAlert.timeoutMs, execute: config.onAlert.execute, log: options.log })
    : undefined;
  const metrics = new EngineMetrics();
  metrics.driftSource = () => scorer.driftStatus();
  // the run summary's counters, live in /metrics
  if (store) metrics.sources.store = () => store;
  metrics.sources.sinks = () => sinks.map((s) => ({ name: s.name, stats: s.stats() }));
  if (hook) metrics.sources.hook = () => hook.stats;
  let decodeSkips: () => Readonly<Record<string, number>> = () => ({});
  metrics.sources.decodeSkips = () => decodeSkips();
  const engine = new DetectionEngine({ scorer, metrics, sinks, store, hook, aggregationWindowMs: config.aggregationWindowS * 1000, batchSize: config.batchSize, maxQueue: config.maxQueue });
  engine.events.on('error', (err: unknown) => options.log(`scoring error: ${err instanceof Error ? err.message : String(err)}`));

  let server: FastifyInstance | undefined;
  let url: string | undefined;
  let token: string | undefined;
  if (options.http && store) {
    token = loadOrCreateToken(`${config.store}.token`, config.token).token;
    const doc = scorer.doc;
    server = buildServer({
      store,
      metrics,
      token,
      events: engine.events,
      model: () => ({
        name: doc.meta.modelName,
        file: config.model,
        task: doc.meta.task,
        version: doc.meta.flowsentryVersion,
        createdAt: doc.meta.createdAt,
        labelView: doc.meta.labelView,
        classes: doc.labels.classes,
        params: doc.meta.params,
        cv: doc.meta.cv,
        test: doc.meta.test,
        threshold: doc.threshold,
        features: doc.schema.features.map((f) => f.name),
        ...(doc.meta.evaluation ?? {}),
      }),
      drift: () => scorer.driftStatus(),
      log: options.log,
      health: () => ({ source: sourceName(config, netflowPort), ...(receiver ? { receiver } : {}), model: config.model, ...engine.stats(), ...(damage !== undefined ? { sourceDamage: damage } : {}), ...(sourceError !== undefined ? { sourceError } : {}) }),
    });
    const [host, port] = [config.http.slice(0, config.http.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(config.http.slice(config.http.lastIndexOf(':') + 1))];
    try {
      url = await server.listen({ host, port });
    } catch (err) {
      await server.close();
      await engine.close(); // the store, sinks and hook, so the store's lock goes with this error
      throw listenFailure(host, port, err, config.placeOf.http ?? '--http', 'http'); // the default is changed in --http
    }
  }

  let damage: string | undefined;
  /** Why the source stopped, when it failed (serve keeps running without it; /api/health says it). */
  let sourceError: string | undefined;
  /** How the NetFlow source receives datagrams (recvmmsg or dgram), once it listens. */
  let receiver: string | undefined;
  /** The port the NetFlow collector is bound to, once it listens (`udp://HOST:0` takes a free one). */
  let netflowPort: number | undefined;
  const abort = new AbortController();
  const submit: Submit = (flow, stage) => {
    engine.submit(flow, stage);
  };
  const onMeter = (stats: () => MeterStats): void => void (decodeSkips = () => stats().skipped);
  const meterOptions = { maxFlows: config.maxFlows, earlyPackets: config.earlyPackets, signal: abort.signal, onMeter };
  const runSource = async (): Promise<Record<string, unknown>> => {
    // A packet source that ends in damage (a capture file cut short, a stdin writer that died mid-packet, tcpdump
    // exiting with an error): its flows before the damage are scored as usual; `detect` exits 1 with the line once
    // everything is flushed, `serve` logs it once and keeps running (status and /metrics show it).
    const packetSource = async (run: Promise<PacketSourceSummary>): Promise<Record<string, unknown>> => {
      const result = await run;
      const skips = { ...result.meter.skipped };
      for (const [reason, n] of Object.entries(result.capture.skipped)) countSkip(skips, reason, n);
      decodeSkips = () => skips;
      damage = result.damage;
      if (damage !== undefined) {
        metrics.captureDamaged.set({ file: result.capture.source }, 1);
        if (options.keepAlive) options.log(`flowsentry: ${damage}`);
      }
      const { damage: _line, ...summary } = result;
      return summary;
    };
    if (config.pcap) return packetSource(runPacketSource(config.pcap, submit, { ...meterOptions, realtime: config.realtime }));
    if (config.stdin) return packetSource(runPacketSource('-', submit, meterOptions));
    if (config.interface) return packetSource(runInterfaceSource(config.interface, submit, meterOptions));
    if (config.netflow) {
      const submitChunk: SubmitChunk = (chunk, release) => void engine.submitChunk(chunk, release);
      const onDropped = (records: number): void => metrics.drops.inc({ where: 'netflow-backlog' }, records);
      const onRingDropped = (datagrams: number): void => metrics.drops.inc({ where: 'netflow-ring' }, datagrams);
      const onListening = (port: number, kind: string): void => {
        receiver = kind;
        netflowPort = port;
        metrics.sources.kernelDrops = () => ({ port, drops: kernelDropsForPort(port) });
        options.onNetflowPort?.(port);
      };
      const onSkips = (skips: Record<string, number>): void => void (decodeSkips = () => skips);
      const netflow = { signal: abort.signal, receiver: config.receiver, chunkRows: config.batchSize, maxRows: config.maxQueue, model: scorer, onDropped, onRingDropped, onSkips, onListening, listenOption: config.placeOf.netflow };
      const collector = await runNetflowSource(config.netflow, submitChunk, netflow);
      const skips = collectorSkips(collector.malformedByReason, collector.skipped, collector.pendingDropped);
      decodeSkips = () => skips;
      return { collector };
    }
    return {};
  };

  let stopping: Promise<ServiceSummary> | undefined;
  let input: Record<string, unknown> = {};
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const sourceDone = runSource().then(
    (r) => {
      input = r;
    },
    (err: unknown) => {
      input = { error: err instanceof Error ? err.message : String(err) };
      // serve keeps running and says why its source stopped; detect stops with the error itself
      if (!options.keepAlive) throw err;
      sourceError = input.error as string;
      options.log(`source stopped: ${sourceError}`);
    },
  );

  const stop = (): Promise<ServiceSummary> => {
    stopping ??= (async () => {
      abort.abort();
      release();
      await sourceDone.catch(() => undefined);
      await engine.close();
      if (server) await closeServer(server);
      return {
        model: { name: scorer.model.name, file: config.model },
        source: sourceName(config, netflowPort),
        seconds: (performance.now() - started) / 1000,
        engine: engine.stats(),
        sinks: statsBySink(sinks),
        hook: hook ? { ...hook.stats } : null,
        input,
        latency: metrics.latency.cumulative().map(([le, n]) => [Number.isFinite(le) ? le : '+Inf', n]),
        ...(damage !== undefined ? { damage } : {}),
        ...(store ? { storeWriteFailures: store.writeFailures, storeRowsDropped: store.rowsDropped } : {}),
        ...(store && config.storeRetentionHours !== undefined ? { storeExpired: { ...store.expired }, storeCompactions: store.compactions } : {}),
      };
    })();
    return stopping;
  };

  const done = (async () => {
    try {
      await sourceDone;
    } catch (err) {
      await stop(); // what was scored before the source failed still reaches every sink
      throw err;
    }
    if (options.keepAlive) await released;
    return stop();
  })();

  return {
    engine,
    scorer,
    store,
    url,
    token,
    done,
    stop,
    get stopping() {
      return stopping !== undefined;
    },
  };
}

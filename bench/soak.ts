// Soak run of the live service: `flowsentry serve` under a steady NetFlow v9 load of real flow records for tens of
// minutes, watched from outside.
//
// Traffic: the flows of the shared captures, metered by `extract --features netflow`, each bidirectional flow sent
// as the two unidirectional records an exporter such as softflowd would send (forward; reverse when it has reverse
// packets), a folder's captures interleaved by their offset from each capture's first flow. Two pools replayed in
// loops at a fixed total flow rate: pcaps/practical-packet-analysis (benign hosts and small attacks: the same
// addresses every loop, as a network's hosts keep talking) and, for a share of the records (--attack-share),
// pcaps/ddos (spoofed floods: addresses shifted each loop, octets 2-3 XOR the loop number, so the flood keeps
// bringing new sources). Every loop shifts source ports (new flows); timestamps are the send time (time-shifted).
// RFC 3954 (NetFlow v9) datagrams, the template resent every 20 s.
// Service: `serve --netflow --store --sink file: --sink webhook:` (the webhook is a receiver in this process that
// answers 503 for a chosen stretch of the run: a sink failure mid-run), plus a live /api/events client.
// Every few seconds: /metrics, /api/health and /api/alerts, /api/traffic, /api/top-talkers with their latencies,
// the service's VmRSS, the store file and its WAL, the file sink's size, the load average. Written as CSV, and
// at the end the counters are checked against each other (flows sent = scored + dropped; alerts raised = store =
// live feed = distinct ids in the file sink; webhook deliveries; store compactions), and a disagreement fails the run.
// With --snapshots the service runs with `--heapsnapshot-signal=SIGUSR2` and writes a heap snapshot (after a full GC)
// at each of those minutes; at the end each is summed by constructor and the first compared with the last.
//
//   npm run bench -- soak [--minutes 25] [--rate 1000] [--poll 5] [--model FILE] [--dir DIR]
//                         [--attack-share 0.1] [--webhook-fail 10-12 (minutes of the run the webhook fails)]
//                         [--aggregation-window S] [--retention-hours H (the store's storeRetentionHours)]
//                         [--snapshots 5,40,74 (minutes of the run)]

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { heapGrowth, summarizeHeapSnapshot } from './lib/heap-snapshot.js';
import { machineLine, processCpuSeconds, runCli } from './lib/measure.js';
import { netflowTrainingCsv, templateDatagram } from './service.js';

const CLI = resolve('dist/src/cli/main.js');
const DATA = resolve(process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets');
const RECORDS_PER_DATAGRAM = 30;
const RECORD_BYTES = 30;
const TOKEN = 'soak-token-0123456789abcdef';


/** One unidirectional record, times relative to its capture's first flow. */
interface SoakRecord {
  offsetMs: number;
  durationMs: number;
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  protocol: number;
  packets: number;
  bytes: number;
  flags: number;
}

function ipv4(text: string): number | undefined {
  const p = text.split('.');
  if (p.length !== 4) return undefined;
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** The unidirectional records of the shared captures in `folder`; IPv6 flows (the v9 template here is IPv4) are counted. */
function captureRecords(dir: string, folder: string): { records: SoakRecord[]; flows: number; ipv6: number } {
  const files = readdirSync(join(DATA, folder)).map((f) => join(DATA, folder, f));
  const records: SoakRecord[] = [];
  let flows = 0;
  let ipv6 = 0;
  const flagBits: [string, number][] = [['tcp_fin', 1], ['tcp_syn', 2], ['tcp_rst', 4], ['tcp_psh', 8], ['tcp_ack', 16], ['tcp_urg', 32], ['tcp_ece', 64], ['tcp_cwr', 128]];
  for (const file of files) {
    const out = join(dir, 'capture.csv');
    runCli(['extract', file, '--features', 'netflow', '--out', out]);
    const [header, ...lines] = readFileSync(out, 'utf8').trim().split('\n');
    const col = new Map(header.split(',').map((n, i) => [n, i]));
    const at = (f: string[], name: string): string => f[col.get(name)!];
    let first = Infinity;
    const parsed = lines.filter((l) => l.length > 0).map((l) => l.split(','));
    for (const f of parsed) first = Math.min(first, Date.parse(`${at(f, 'start').replace(' ', 'T')}Z`));
    for (const f of parsed) {
      flows++;
      const src = ipv4(at(f, 'src_addr'));
      const dst = ipv4(at(f, 'dst_addr'));
      if (src === undefined || dst === undefined) {
        ipv6++;
        continue;
      }
      const offsetMs = Date.parse(`${at(f, 'start').replace(' ', 'T')}Z`) - first;
      const durationMs = Math.round(Number(at(f, 'duration_s')) * 1000);
      const flags = flagBits.reduce((s, [name, bit]) => s | (Number(at(f, name)) > 0 ? bit : 0), 0);
      const base = { offsetMs, durationMs, protocol: Number(at(f, 'protocol')), flags };
      records.push({ ...base, src, dst, srcPort: Number(at(f, 'src_port')), dstPort: Number(at(f, 'dst_port')), packets: Number(at(f, 'fwd_packets')), bytes: Number(at(f, 'fwd_bytes')) });
      if (Number(at(f, 'bwd_packets')) > 0) {
        records.push({ ...base, src: dst, dst: src, srcPort: Number(at(f, 'dst_port')), dstPort: Number(at(f, 'src_port')), packets: Number(at(f, 'bwd_packets')), bytes: Number(at(f, 'bwd_bytes')) });
      }
    }
  }
  records.sort((a, b) => a.offsetMs - b.offsetMs);
  return { records, flows, ipv6 };
}

/** A pool of records replayed in a loop; each loop shifts the source ports and, with `shiftAddresses`, the addresses. */
class RecordLoop {
  private next = 0;
  loop = 0;
  constructor(readonly records: readonly SoakRecord[], private readonly shiftAddresses: boolean) {}
  /** The next record as [record, address XOR, port shift]. */
  take(): [SoakRecord, number, number] {
    const rec = this.records[this.next];
    const shift = this.shiftAddresses ? ((this.loop % 4096) << 8) >>> 0 : 0;
    const out: [SoakRecord, number, number] = [rec, shift, this.loop * 7919];
    if (++this.next === this.records.length) {
      this.next = 0;
      this.loop++;
    }
    return out;
  }
}


/** NetFlow v9 exporter (RFC 3954) of two record loops: a share `attackShare` of the records from `attack`. */
class LoopExporter {
  private seq = 0;
  private attackCredit = 0;
  sent = 0;
  private readonly started = Date.now();
  constructor(readonly normal: RecordLoop, readonly attack: RecordLoop, private readonly attackShare: number) {}

  private header(count: number, length: number): Buffer {
    const b = Buffer.alloc(length);
    b.writeUInt16BE(9, 0);
    b.writeUInt16BE(count, 2);
    b.writeUInt32BE(this.uptime(), 4);
    b.writeUInt32BE(Math.floor(Date.now() / 1000), 8);
    b.writeUInt32BE(this.seq++ >>> 0, 12);
    b.writeUInt32BE(1, 16);
    return b;
  }

  private uptime(): number {
    return (Date.now() - this.started + 3_600_000) >>> 0;
  }

  template(): Buffer {
    return templateDatagram(this.seq++, this.uptime());
  }

  datagram(): Buffer {
    const b = this.header(RECORDS_PER_DATAGRAM, 20 + 4 + RECORDS_PER_DATAGRAM * RECORD_BYTES);
    const uptime = this.uptime();
    b.writeUInt16BE(256, 20);
    b.writeUInt16BE(4 + RECORDS_PER_DATAGRAM * RECORD_BYTES, 22);
    for (let r = 0, o = 24; r < RECORDS_PER_DATAGRAM; r++, o += RECORD_BYTES) {
      this.attackCredit += this.attackShare;
      const fromAttack = this.attackCredit >= 1;
      if (fromAttack) this.attackCredit -= 1;
      const [rec, shift, portShift] = (fromAttack ? this.attack : this.normal).take();
      b.writeUInt32BE(rec.bytes >>> 0, o);
      b.writeUInt32BE(rec.packets >>> 0, o + 4);
      b.writeUInt8(rec.protocol, o + 8);
      b.writeUInt8(rec.flags, o + 9);
      b.writeUInt16BE((rec.srcPort + portShift) & 0xffff, o + 10);
      b.writeUInt32BE((rec.src ^ shift) >>> 0, o + 12);
      b.writeUInt16BE(rec.dstPort, o + 16);
      b.writeUInt32BE((rec.dst ^ shift) >>> 0, o + 18);
      b.writeUInt32BE((uptime - 1) >>> 0, o + 22);
      b.writeUInt32BE((uptime - 1 - Math.min(rec.durationMs, 3_000_000)) >>> 0, o + 26);
    }
    this.sent += RECORDS_PER_DATAGRAM;
    return b;
  }
}

interface Scrape {
  scored: number;
  alerts: number;
  drops: Record<string, number>;
  rssBytes: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  lagP50: number;
  lagP99: number;
  samples: number;
  sinkFailures: number;
  storeWriteFailures: number;
  decoderErrors: number;
  kernelDrops: number;
  compactions: number;
}

function parseMetrics(text: string): Scrape {
  const s: Scrape = { scored: 0, alerts: 0, drops: {}, rssBytes: NaN, heapUsed: NaN, heapTotal: NaN, external: NaN, lagP50: NaN, lagP99: NaN, samples: 0, sinkFailures: 0, storeWriteFailures: 0, decoderErrors: 0, kernelDrops: 0, compactions: 0 };
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    s.samples++;
    const m = /^(\w+)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m) continue;
    const [, name, labels = '', value] = m;
    const v = Number(value);
    if (name === 'flowsentry_flows_scored_total') s.scored += v;
    else if (name === 'flowsentry_alerts_total') s.alerts += v;
    else if (name === 'flowsentry_dropped_total') s.drops[/where="([^"]+)"/.exec(labels)![1]] = v;
    else if (name === 'flowsentry_process_resident_memory_bytes') s.rssBytes = v;
    else if (name === 'flowsentry_nodejs_heap_size_used_bytes') s.heapUsed = v;
    else if (name === 'flowsentry_nodejs_heap_size_total_bytes') s.heapTotal = v;
    else if (name === 'flowsentry_nodejs_external_memory_bytes') s.external = v;
    else if (name === 'flowsentry_nodejs_eventloop_lag_p50_seconds') s.lagP50 = v;
    else if (name === 'flowsentry_nodejs_eventloop_lag_p99_seconds') s.lagP99 = v;
    else if (name === 'flowsentry_sink_failures_total') s.sinkFailures += v;
    else if (name === 'flowsentry_store_write_failures_total') s.storeWriteFailures += v;
    else if (name === 'flowsentry_decoder_errors_total') s.decoderErrors += v;
    else if (name === 'flowsentry_kernel_drops_total') s.kernelDrops += v;
    else if (name === 'flowsentry_store_compactions_total') s.compactions += v;
  }
  return s;
}

function procStatus(pid: number): { rssKb: number; hwmKb: number; threads: number } {
  const t = readFileSync(`/proc/${pid}/status`, 'utf8');
  const n = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(t)?.[1] ?? NaN);
  return { rssKb: n('VmRSS'), hwmKb: n('VmHWM'), threads: n('Threads') };
}


function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

export async function run(args: string[]): Promise<void> {
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const minutes = Number(opt('minutes', '25'));
  const rate = Number(opt('rate', '1000'));
  const pollS = Number(opt('poll', '5'));
  const [failFrom, failTo] = opt('webhook-fail', '10-12').split('-').map(Number);
  const dir = resolve(opt('dir', '/tmp/flowsentry-soak'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`# Service soak\n\n${machineLine()}\nload average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

  let model = opt('model', '');
  if (!model) {
    const csv = netflowTrainingCsv(dir);
    model = join(dir, 'netflow-rf.fsm');
    runCli(['train', csv, '--label', 'label', '--models', 'rf', '--cv', '2', '--out', model, '--json']);
  }
  const attackShare = Number(opt('attack-share', '0.1'));
  const normal = captureRecords(dir, 'pcaps/practical-packet-analysis');
  const attack = captureRecords(dir, 'pcaps/ddos');
  console.log(`model ${model}; practical-packet-analysis: ${normal.flows} flows (${normal.ipv6} IPv6, not sent) -> ${normal.records.length} records a loop, same addresses each loop; ddos: ${attack.flows} flows (${attack.ipv6} IPv6) -> ${attack.records.length} records a loop, addresses shifted each loop; ${attackShare} of the records from ddos`);

  // webhook receiver: 503 while the failure stretch lasts
  let hookReceived = 0;
  let hookRefused = 0;
  const runStart = Date.now();
  const failing = (): boolean => {
    const m = (Date.now() - runStart) / 60_000;
    return m >= failFrom && m < failTo;
  };
  const hookServer = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (failing()) {
        hookRefused++;
        res.writeHead(503).end();
      } else {
        hookReceived++;
        res.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  const hookPort = (hookServer.address() as { port: number }).port;

  const store = join(dir, 'store.duckdb');
  const sinkFile = join(dir, 'alerts.jsonl');
  const serveArgs = ['serve', '--model', resolve(model), '--netflow', 'udp://127.0.0.1:0', '--http', '127.0.0.1:0', '--store', store, '--token', TOKEN, '--sink', `file:${sinkFile}?keep=100`, '--sink', `webhook:http://127.0.0.1:${hookPort}/hook`, '--json'];
  const window = opt('aggregation-window', '');
  if (window) serveArgs.push('--aggregation-window', window);
  const retentionHours = opt('retention-hours', '');
  if (retentionHours) {
    writeFileSync(join(dir, 'serve.json'), JSON.stringify({ storeRetentionHours: Number(retentionHours) }));
    serveArgs.push('--config', join(dir, 'serve.json'));
  }
  const snapshotMinutes = opt('snapshots', '').split(',').filter((m) => m.length > 0).map(Number);
  // the snapshots are written to the service's working directory
  const nodeFlags = snapshotMinutes.length > 0 ? ['--heapsnapshot-signal=SIGUSR2'] : [];
  const proc = spawn(process.execPath, [...nodeFlags, CLI, ...serveArgs], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let err = '';
  let out = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let base = '';
  let port = 0;
  for (const deadline = Date.now() + 30_000; ; ) {
    const m = /dashboard (http:\/\/127\.0\.0\.1:\d+)\//.exec(err);
    const n = /udp port (\d+)/.exec(err);
    if (m && n) {
      base = m[1];
      port = Number(n[1]);
      break;
    }
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = proc.pid!;
  const auth = { authorization: `Bearer ${TOKEN}` };

  // live feed client (the dashboard's stream)
  let feedNew = 0;
  let feedUpdates = 0;
  const feed = new AbortController();
  const feedDone = (async () => {
    const res = await fetch(`${base}/api/events?token=${TOKEN}`, { signal: feed.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let pending = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      pending += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = pending.indexOf('\n\n')) >= 0) {
        const event = pending.slice(0, cut);
        pending = pending.slice(cut + 2);
        const data = /^data: (.*)$/m.exec(event);
        if (!data) continue;
        if ((JSON.parse(data[1]) as { isNew: boolean }).isNew) feedNew++;
        else feedUpdates++;
      }
    }
  })().catch(() => undefined);

  // sender
  const exporter = new LoopExporter(new RecordLoop(normal.records, false), new RecordLoop(attack.records, true), attackShare);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.connect(port, '127.0.0.1', r));
  sock.setSendBufferSize(4 << 20);
  let sending = true;
  const perMs = rate / 1000 / RECORDS_PER_DATAGRAM;
  const sender = (async () => {
    const t0 = performance.now();
    let datagrams = 0;
    let templateAt = -Infinity;
    while (sending) {
      const now = performance.now();
      if (now - templateAt >= 20_000) {
        sock.send(exporter.template());
        templateAt = now;
      }
      const due = Math.floor((now - t0) * perMs);
      while (datagrams < due) {
        sock.send(exporter.datagram());
        datagrams++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const timedGet = async (path: string): Promise<{ ms: number; body: string; status: number }> => {
    const t = performance.now();
    const res = await fetch(`${base}${path}`, { headers: auth });
    const body = await res.text();
    return { ms: performance.now() - t, body, status: res.status };
  };

  const columns = ['t_s', 'sent', 'scored', 'alerts_metric', 'alerts_store', 'feed_new', 'feed_updates', 'drops', 'kernel_drops', 'decoder_errors', 'rss_mb', 'rss_metric_mb', 'heap_used_mb', 'heap_total_mb', 'external_mb', 'lag_p50_ms', 'lag_p99_ms', 'metrics_samples', 'store_mb', 'wal_mb', 'sink_file_mb', 'sink_failures', 'store_write_failures', 'hook_received', 'hook_refused', 'cpu_s', 'threads', 'load1', 'ms_metrics', 'ms_health', 'ms_alerts', 'ms_traffic', 'ms_top', 'api_errors', 'open_aggregates', 'compactions'];
  const rows: number[][] = [];
  let apiErrors = 0;
  const poll = async (): Promise<number[]> => {
    const t = (Date.now() - runStart) / 1000;
    const met = await timedGet('/metrics');
    const health = await timedGet('/api/health');
    const alerts = await timedGet('/api/alerts?limit=50');
    const traffic = await timedGet(`/api/traffic?since=${Date.now() - 3_600_000}`);
    const top = await timedGet(`/api/top-talkers?since=${Date.now() - 3_600_000}`);
    for (const r of [met, health, alerts, traffic, top]) if (r.status !== 200) apiErrors++;
    const s = parseMetrics(met.body);
    const openAggregates = health.status === 200 ? ((JSON.parse(health.body) as { openAggregates?: number }).openAggregates ?? NaN) : NaN;
    const storeTotal = alerts.status === 200 ? (JSON.parse(alerts.body) as { total: number }).total : NaN;
    const st = procStatus(pid);
    const drops = Object.entries(s.drops).reduce((a, [k, v]) => a + (k === 'explanation-budget' ? 0 : v), 0);
    const row = [t, exporter.sent, s.scored, s.alerts, storeTotal, feedNew, feedUpdates, drops, s.kernelDrops, s.decoderErrors, st.rssKb / 1024, s.rssBytes / 2 ** 20, s.heapUsed / 2 ** 20, s.heapTotal / 2 ** 20, s.external / 2 ** 20, s.lagP50 * 1000, s.lagP99 * 1000, s.samples, size(store) / 2 ** 20, size(`${store}.wal`) / 2 ** 20, size(sinkFile) / 2 ** 20, s.sinkFailures, s.storeWriteFailures, hookReceived, hookRefused, processCpuSeconds(pid), st.threads, loadavg()[0], met.ms, health.ms, alerts.ms, traffic.ms, top.ms, apiErrors, openAggregates, s.compactions];
    rows.push(row);
    writeFileSync(join(dir, 'soak.csv'), `${[columns.join(','), ...rows.map((r) => r.map((v) => (Number.isInteger(v) ? v : v.toFixed(3))).join(','))].join('\n')}\n`);
    return row;
  };

  const col = (name: string): number => columns.indexOf(name);
  const snapshots: { minute: number; file: string; seconds: number; heapUsedAfterMb: number }[] = [];
  const takeSnapshot = async (): Promise<void> => {
    const isSnapshot = (n: string): boolean => n.endsWith('.heapsnapshot');
    const earlier = new Set(readdirSync(dir).filter(isSnapshot));
    const t = performance.now();
    proc.kill('SIGUSR2');
    // v8.writeHeapSnapshot runs on the service's main thread: once the file exists, the next answer comes after it
    let file: string | undefined;
    while (!(file = readdirSync(dir).find((n) => isSnapshot(n) && !earlier.has(n)))) await new Promise((r) => setTimeout(r, 200));
    const metrics = await timedGet('/metrics');
    const minute = (Date.now() - runStart) / 60_000;
    snapshots.push({ minute, file: join(dir, file), seconds: (performance.now() - t) / 1000, heapUsedAfterMb: parseMetrics(metrics.body).heapUsed / 2 ** 20 });
    console.log(`${minute.toFixed(1)} min: heap snapshot ${file} in ${snapshots.at(-1)!.seconds.toFixed(1)} s, heap used after it ${snapshots.at(-1)!.heapUsedAfterMb.toFixed(1)} MB`);
  };
  const endAt = runStart + minutes * 60_000;
  let lastPrint = 0;
  while (Date.now() < endAt) {
    const row = await poll();
    if (row[0] - lastPrint >= 60) {
      lastPrint = row[0];
      console.log(`${(row[0] / 60).toFixed(1)} min: sent ${row[col('sent')]} scored ${row[col('scored')]} alerts ${row[col('alerts_metric')]}/${row[col('alerts_store')]} rss ${row[col('rss_mb')].toFixed(0)} MB heap ${row[col('heap_used_mb')].toFixed(0)} MB store ${row[col('store_mb')].toFixed(1)} MB lag p99 ${row[col('lag_p99_ms')].toFixed(1)} ms alerts API ${row[col('ms_alerts')].toFixed(1)} ms load ${row[col('load1')].toFixed(2)}`);
    }
    if (proc.exitCode !== null) throw new Error(`serve exited: ${err}`);
    if (snapshots.length < snapshotMinutes.length && row[0] >= snapshotMinutes[snapshots.length] * 60) await takeSnapshot();
    await new Promise((r) => setTimeout(r, pollS * 1000));
  }
  sending = false;
  await sender;
  await new Promise((r) => setTimeout(r, 5000)); // the queue drains, the store flushes within 5 s
  const last = await poll();
  feed.abort();
  await feedDone;

  // distinct alert ids in the file sink (every state of an aggregate is a line; rotated files included: it keeps 100,
  // as its default 5 of 64 MB hold only ~65 minutes of this load)
  const ids = new Set<string>();
  let sinkLines = 0;
  for (const f of readdirSync(dir).filter((n) => n.startsWith('alerts.jsonl'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (line.length === 0) continue;
      sinkLines++;
      ids.add((JSON.parse(line) as { id: string }).id);
    }
  }
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
  sock.close();
  await new Promise<void>((r) => hookServer.close(() => r()));
  const summary = JSON.parse(out) as { engine: Record<string, number>; sinks: Record<string, Record<string, number>>; storeWriteFailures?: number; storeRowsDropped?: number; storeExpired?: Record<string, number>; storeCompactions?: number };
  const webhook = summary.sinks.webhook;
  const agree = (...values: (number | undefined)[]): boolean => values.every((v) => v === values[0]);
  const checks: Record<string, boolean> = {
    'sent = scored + dropped + kernel drops': agree(exporter.sent, last[col('scored')] + last[col('drops')] + last[col('kernel_drops')]),
    'alerts: metric = summary = live feed new = file-sink ids': agree(last[col('alerts_metric')], summary.engine.alertsRaised, feedNew, ids.size),
    'updates = file-sink lines = webhook written + dropped + failed': agree(summary.engine.alertUpdates, sinkLines, webhook.written + webhook.dropped + webhook.failed),
    ...(summary.storeExpired
      ? {
          'alerts = store + expired': agree(summary.engine.alertsRaised, last[col('alerts_store')] + summary.storeExpired.alerts),
          'compactions: metric = summary': agree(last[col('compactions')], summary.storeCompactions),
        }
      : {}),
  };
  const disagreements = Object.keys(checks).filter((k) => !checks[k]);

  const heap = snapshots.map((snapshot) => ({ ...snapshot, summary: summarizeHeapSnapshot(snapshot.file) }));
  const megabytes = (bytes: number): number => Math.round(bytes / 2 ** 10) / 2 ** 10;

  const warm = rows.filter((r) => r[0] >= 300 && r !== last);
  const hours = (xs: number[][]): number[] => xs.map((r) => r[0] / 3600);
  const firstWindow = rows.filter((r) => r[0] < 300);
  const lastWindow = rows.filter((r) => r[0] >= minutes * 60 - 300 && r !== last);
  const lat = (xs: number[][], c: string): string => `${percentile(xs.map((r) => r[col(c)]), 0.5).toFixed(1)} / ${percentile(xs.map((r) => r[col(c)]), 0.99).toFixed(1)}`;
  const result = {
    minutes,
    rate,
    loops: { normal: exporter.normal.loop, attack: exporter.attack.loop },
    sent: exporter.sent,
    scored: last[col('scored')],
    drops: last[col('drops')],
    kernelDrops: last[col('kernel_drops')],
    decoderErrors: last[col('decoder_errors')],
    alertsMetric: last[col('alerts_metric')],
    alertsStore: last[col('alerts_store')],
    alertsSummary: summary.engine.alertsRaised,
    feedNew,
    feedUpdates,
    alertUpdates: summary.engine.alertUpdates,
    sinkLines,
    sinkDistinctIds: ids.size,
    hookReceived,
    hookRefused,
    sinks: summary.sinks,
    storeWriteFailures: summary.storeWriteFailures,
    storeRowsDropped: summary.storeRowsDropped,
    storeExpired: summary.storeExpired,
    storeCompactions: summary.storeCompactions,
    compactionMinutes: rows.filter((r, i) => i > 0 && r[col('compactions')] > rows[i - 1][col('compactions')]).map((r) => Math.round(r[0] / 6) / 10),
    openAggregatesMax: Math.max(...rows.map((r) => r[col('open_aggregates')])),
    openAggregatesEnd: last[col('open_aggregates')],
    rssMb: { start: rows[0][col('rss_mb')], warm: warm[0]?.[col('rss_mb')], end: last[col('rss_mb')], max: Math.max(...rows.map((r) => r[col('rss_mb')])) },
    rssSlopeMbPerHour: warm.length > 2 ? slope(hours(warm), warm.map((r) => r[col('rss_mb')])) : NaN,
    heapUsedMb: { start: rows[0][col('heap_used_mb')], warm: warm[0]?.[col('heap_used_mb')], end: last[col('heap_used_mb')] },
    heapSlopeMbPerHour: warm.length > 2 ? slope(hours(warm), warm.map((r) => r[col('heap_used_mb')])) : NaN,
    storeMb: last[col('store_mb')],
    walMbMax: Math.max(...rows.map((r) => r[col('wal_mb')])),
    sinkFileMb: last[col('sink_file_mb')],
    metricsSamples: { start: rows[0][col('metrics_samples')], end: last[col('metrics_samples')] },
    lagP99MsMax: Math.max(...rows.map((r) => r[col('lag_p99_ms')])),
    apiP50P99Ms: {
      alertsFirst5: lat(firstWindow, 'ms_alerts'),
      alertsLast5: lat(lastWindow, 'ms_alerts'),
      trafficFirst5: lat(firstWindow, 'ms_traffic'),
      trafficLast5: lat(lastWindow, 'ms_traffic'),
      topFirst5: lat(firstWindow, 'ms_top'),
      topLast5: lat(lastWindow, 'ms_top'),
      metricsFirst5: lat(firstWindow, 'ms_metrics'),
      metricsLast5: lat(lastWindow, 'ms_metrics'),
    },
    apiErrors,
    cpuSeconds: last[col('cpu_s')],
    loadAverageEnd: loadavg(),
    heapSnapshots: heap.map((h) => ({ minute: h.minute, seconds: h.seconds, heapUsedAfterMb: h.heapUsedAfterMb, liveMb: megabytes(h.summary.bytes), nativeMb: megabytes(h.summary.nativeBytes), nodes: h.summary.nodes })),
    heapGrowthFirstToLast:
      heap.length >= 2
        ? heapGrowth(heap[0].summary, heap.at(-1)!.summary, 25).map((g) => ({ name: g.name, countBefore: g.countBefore, countAfter: g.countAfter, mbBefore: megabytes(g.bytesBefore), mbAfter: megabytes(g.bytesAfter) }))
        : [],
    checks,
    serviceLog: err.split('\n').filter((l) => l.length > 0).slice(0, 40),
  };
  writeFileSync(join(dir, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  if (!existsSync(join(dir, 'soak.csv'))) throw new Error('no samples written');
  if (disagreements.length > 0) throw new Error(`counters disagree: ${disagreements.join('; ')}`);
}

// Live detection service benchmark (issue 7 targets).
//
// (a) Throughput and latency from the NetFlow source: a 100-tree random forest trained on NetFlow features of the
//     shared captures (`extract --features netflow`; pcaps/ddos/* labelled attack, the benign practical-packet-analysis
//     captures normal) is served by `flowsentry serve --netflow udp://127.0.0.1:0` as a child process. This process
//     generates real NetFlow v9 datagrams (one template, 45 IPv4 records of 30 bytes each per datagram: SYN-flood-like
//     and web-like flows from a few thousand sources) and sends them over loopback at controlled rates. Per rate we
//     read from the service's /metrics: flows scored, the flow-end (record arrival) → verdict latency histogram, drops;
//     and the kernel's drops on the collector socket (/proc/net/udp). For context, the same model scores the same
//     flows offline in one batch in this process.
// (b) Memory under a SYN flood: pcaps/ddos/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng (converted to pcap by editcap) is
//     replayed in a loop for 60 s into `serve --stdin` (CIC-feature forest), each loop shifting timestamps by the
//     capture's span and rewriting TCP source ports so every flow is new; RSS of the service is sampled every second.
//
//   npm run bench -- service [--rates 50000,100000,150000,200000] [--seconds 10] [--memory-seconds 60] [--skip-memory]
//                            [--skip-throughput] [--model FILE | --keep-model] [--commands serve,detect]
//                            [--receivers auto|recvmmsg|dgram,... (how the service receives NetFlow; each adds its rows)]
//   (FLOWSENTRY_BENCH_PROFILE=dir: CPU profiles of the service; --keep-model saves the trained forest in
//   the temp folder as flowsentry-bench-netflow-rf.fsm, --model reuses it)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { machineLine, markdownTable, processCpuSeconds, runCli } from './lib/measure.js';
import { NETFLOW_FEATURES } from '../src/flows/features/netflow.js';
import { ModelScorer } from '../src/detect/model-scorer.js';
import type { FlowRecord } from '../src/flows/flow-record.js';

const CLI = resolve('dist/src/cli/main.js');
const DATA = resolve(process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets');
const BENIGN = ['dns_lab', 'http_espn', 'http_google', 'http_post', 'mail_sender_attachment'];
const RECORDS_PER_DATAGRAM = 45;
const RECORD_BYTES = 30;


/** NetFlow-feature training CSV: the model's features plus `label`, from the shared captures. */
export function netflowTrainingCsv(dir: string): string {
  const rows: string[] = [[...NETFLOW_FEATURES, 'label'].join(',')];
  const captures = [
    ...readdirSync(join(DATA, 'pcaps/ddos')).map((f) => [join(DATA, 'pcaps/ddos', f), 'attack']),
    ...BENIGN.map((b) => [join(DATA, 'pcaps/practical-packet-analysis', `${b}.pcapng`), 'normal']),
  ];
  for (const [file, label] of captures) {
    const out = join(dir, 'part.csv');
    runCli(['extract', file, '--features', 'netflow', '--out', out]);
    const [header, ...lines] = readFileSync(out, 'utf8').trim().split('\n');
    const names = header.split(',');
    const idx = NETFLOW_FEATURES.map((f) => names.indexOf(f));
    // benign captures are small: repeat them so the forest sees enough normal rows (their flows are the truth)
    const copies = label === 'normal' ? 20 : 1;
    for (let c = 0; c < copies; c++) for (const l of lines) {
      const f = l.split(',');
      rows.push([...idx.map((i) => f[i]), label].join(','));
    }
  }
  const csv = join(dir, 'netflow-train.csv');
  writeFileSync(csv, `${rows.join('\n')}\n`);
  return csv;
}

// ---------- NetFlow v9 generator ----------

/** The NetFlow v9 template of the generated records: (field type, length) pairs, RFC 3954 numbering. */
const FIELDS: [number, number][] = [
  [1, 4], // IN_BYTES
  [2, 4], // IN_PKTS
  [4, 1], // PROTOCOL
  [6, 1], // TCP_FLAGS
  [7, 2], // L4_SRC_PORT
  [8, 4], // IPV4_SRC_ADDR
  [11, 2], // L4_DST_PORT
  [12, 4], // IPV4_DST_ADDR
  [21, 4], // LAST_SWITCHED
  [22, 4], // FIRST_SWITCHED
];

/** A NetFlow v9 datagram holding the one template (id 256) of FIELDS. */
export function templateDatagram(seq: number, uptimeMs: number): Buffer {
  const b = Buffer.alloc(20 + 8 + FIELDS.length * 4);
  b.writeUInt16BE(9, 0);
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(uptimeMs >>> 0, 4);
  b.writeUInt32BE(Math.floor(Date.now() / 1000), 8);
  b.writeUInt32BE(seq >>> 0, 12);
  b.writeUInt32BE(1, 16);
  b.writeUInt16BE(0, 20);
  b.writeUInt16BE(b.length - 20, 22);
  b.writeUInt16BE(256, 24);
  b.writeUInt16BE(FIELDS.length, 26);
  FIELDS.forEach(([t, l], i) => {
    b.writeUInt16BE(t, 28 + i * 4);
    b.writeUInt16BE(l, 30 + i * 4);
  });
  return b;
}

/** Deterministic pseudo-random flows: half SYN-flood-like (1 packet, SYN), half web-like (many packets, ACK|PSH|FIN). */
export class FlowGenerator {
  private state = 12345;
  private seq = 0;
  private readonly started = Date.now();
  private rand(): number {
    this.state = (Math.imul(this.state, 1103515245) + 12345) >>> 0;
    return this.state / 2 ** 32;
  }
  datagram(): Buffer {
    const b = Buffer.alloc(20 + 4 + RECORDS_PER_DATAGRAM * RECORD_BYTES);
    const uptime = (Date.now() - this.started + 1_000_000) >>> 0;
    b.writeUInt16BE(9, 0);
    b.writeUInt16BE(RECORDS_PER_DATAGRAM, 2);
    b.writeUInt32BE(uptime, 4);
    b.writeUInt32BE(Math.floor(Date.now() / 1000), 8);
    b.writeUInt32BE(this.seq++ >>> 0, 12);
    b.writeUInt32BE(1, 16);
    b.writeUInt16BE(256, 20);
    b.writeUInt16BE(4 + RECORDS_PER_DATAGRAM * RECORD_BYTES, 22);
    let o = 24;
    for (let r = 0; r < RECORDS_PER_DATAGRAM; r++) {
      const flood = this.rand() < 0.5;
      const packets = flood ? 1 : 5 + Math.floor(this.rand() * 60);
      const bytes = flood ? 40 + Math.floor(this.rand() * 20) : packets * (60 + Math.floor(this.rand() * 1200));
      const duration = flood ? 0 : Math.floor(this.rand() * 20_000);
      b.writeUInt32BE(bytes, o);
      b.writeUInt32BE(packets, o + 4);
      b.writeUInt8(6, o + 8);
      b.writeUInt8(flood ? 0x02 : 0x1b, o + 9);
      b.writeUInt16BE(1024 + Math.floor(this.rand() * 60_000), o + 10);
      const src = flood ? (0xc6120000 | Math.floor(this.rand() * 4096)) >>> 0 : (0x0a000000 | Math.floor(this.rand() * 512)) >>> 0;
      b.writeUInt32BE(src, o + 12);
      b.writeUInt16BE(flood ? 80 : [80, 443, 22, 25][Math.floor(this.rand() * 4)], o + 16);
      b.writeUInt32BE(0x0a0a0a0a, o + 18);
      b.writeUInt32BE((uptime - 5) >>> 0, o + 22);
      b.writeUInt32BE((uptime - 5 - duration) >>> 0, o + 26);
      o += RECORD_BYTES;
    }
    return b;
  }
  /** The same flows as FlowRecords (for the offline comparison). */
  records(n: number): FlowRecord[] {
    const out: FlowRecord[] = [];
    while (out.length < n) {
      const d = this.datagram();
      for (let r = 0, o = 24; r < RECORDS_PER_DATAGRAM && out.length < n; r++, o += RECORD_BYTES) {
        const last = d.readUInt32BE(o + 22);
        const first = d.readUInt32BE(o + 26);
        const packets = d.readUInt32BE(o + 4);
        const bytes = d.readUInt32BE(o);
        out.push({
          source: 'netflow-v9',
          srcAddr: [0, 1, 2, 3].map((k) => d[o + 12 + k]).join('.'),
          dstAddr: '10.10.10.10',
          srcPort: d.readUInt16BE(o + 10),
          dstPort: d.readUInt16BE(o + 16),
          protocol: 6,
          vlan: 0,
          startMs: first,
          endMs: last,
          packets,
          bytes,
          fwdPackets: packets,
          bwdPackets: 0,
          fwdBytes: bytes,
          bwdBytes: 0,
          tcpFlags: d[o + 9],
          endReason: 'exported',
        } as FlowRecord);
      }
    }
    return out;
  }
}

// ---------- service child and its metrics ----------

interface Child {
  proc: ChildProcess;
  base: string;
  netflowPort: number;
  stderr: () => string;
}

/** `serve` (HTTP on a free port) or, with `detect`, `detect --json` (no store, no HTTP; its summary is on stdout). */
async function startServe(args: string[], wantNetflow: boolean, command: 'serve' | 'detect' = 'serve'): Promise<Child & { stdout: () => string }> {
  const prof = process.env.FLOWSENTRY_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FLOWSENTRY_BENCH_PROFILE}`] : [];
  const how = command === 'serve' ? ['serve', '--http', '127.0.0.1:0'] : ['detect', '--json'];
  const proc = spawn(process.execPath, [...prof, CLI, ...how, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stdin!.on('error', () => undefined);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = command === 'serve' ? /dashboard (http:\/\/127\.0\.0\.1:\d+)\//.exec(err) : ['', ''];
    const n = /udp port (\d+)/.exec(err);
    if (m && (!wantNetflow || n)) return { proc, base: m[1], netflowPort: n ? Number(n[1]) : 0, stderr: () => err, stdout: () => out };
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopServe(c: Child): Promise<void> {
  if (c.proc.exitCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  const t = setTimeout(() => c.proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

interface Metrics {
  scored: number;
  buckets: [number, number][];
  drops: Record<string, number>;
}

async function metrics(base: string): Promise<Metrics> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let scored = 0;
  const buckets: [number, number][] = [];
  const drops: Record<string, number> = {};
  for (const line of text.split('\n')) {
    let m = /^flowsentry_flows_scored_total\{stage="\w+"\} (\S+)/.exec(line);
    if (m) scored += Number(m[1]);
    m = /^flowsentry_scoring_latency_seconds_bucket\{le="([^"]+)"\} (\S+)/.exec(line);
    if (m) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
    m = /^flowsentry_dropped_total\{where="([^"]+)"\} (\S+)/.exec(line);
    if (m) drops[m[1]] = Number(m[2]);
  }
  return { scored, buckets, drops };
}

/** Quantile from cumulative histogram deltas, linear within a bucket. */
function quantile(before: [number, number][], after: [number, number][], q: number): number {
  const counts = after.map(([le, n], i) => [le, n - (before[i]?.[1] ?? 0)] as [number, number]);
  const total = counts[counts.length - 1][1];
  if (total === 0) return NaN;
  const target = q * total;
  let prevLe = 0;
  let prevN = 0;
  for (const [le, n] of counts) {
    if (n >= target) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((target - prevN) / Math.max(1, n - prevN)) * (le - prevLe);
    }
    prevLe = le;
    prevN = n;
  }
  return prevLe;
}

function kernelDrops(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[1]?.endsWith(`:${hex}`)) return Number(f[f.length - 1]);
      }
    } catch {
      // not Linux
    }
  }
  return 0;
}


function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Sends datagrams at `flowsPerSecond` for `seconds`; returns records sent. */
export async function offer(port: number, gen: FlowGenerator, flowsPerSecond: number, seconds: number): Promise<number> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.connect(port, '127.0.0.1', r));
  sock.setSendBufferSize(4 << 20);
  const perMs = flowsPerSecond / 1000 / RECORDS_PER_DATAGRAM;
  const t0 = performance.now();
  let sent = 0;
  let seq = 0;
  sock.send(templateDatagram(seq++, 1_000_000));
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor((performance.now() - t0) * perMs);
    let burst = 0;
    while (sent < due && burst++ < 200) {
      if (sent % 200 === 0) sock.send(templateDatagram(seq++, 1_000_000));
      sock.send(gen.datagram());
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
  sock.close();
  return sent * RECORDS_PER_DATAGRAM;
}

// ---------- (b) SYN-flood loop ----------

export function pcapRecords(file: string): { header: Buffer; records: Buffer[]; spanS: number } {
  const buf = readFileSync(file);
  const header = buf.subarray(0, 24);
  if (buf.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('expected a little-endian microsecond pcap');
  const records: Buffer[] = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const len = buf.readUInt32LE(o + 8);
    records.push(Buffer.from(buf.subarray(o, o + 16 + len)));
    o += 16 + len;
  }
  const first = records[0].readUInt32LE(0);
  const last = records[records.length - 1].readUInt32LE(0);
  return { header, records, spanS: last - first + 2 };
}

/** One loop of the capture: timestamps shifted by `loop` spans, TCP source ports rewritten (Ethernet/IPv4/TCP). */
export function loopChunk(records: Buffer[], loop: number, spanS: number): Buffer {
  const out = Buffer.concat(records);
  for (let o = 0; o < out.length; ) {
    const len = out.readUInt32LE(o + 8);
    out.writeUInt32LE(out.readUInt32LE(o) + loop * spanS, o);
    const p = o + 16;
    if (len >= 34 && out.readUInt16BE(p + 12) === 0x0800 && out[p + 23] === 6) {
      const ihl = (out[p + 14] & 0x0f) * 4;
      const tcp = p + 14 + ihl;
      if (tcp + 2 <= p + len) out.writeUInt16BE((out.readUInt16BE(tcp) + loop * 7919) & 0xffff, tcp);
    }
    o += 16 + len;
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const rates = opt('rates', '50000,100000,150000,200000').split(',').map(Number);
  const seconds = Number(opt('seconds', '10'));
  const memorySeconds = Number(opt('memory-seconds', '60'));
  const dir = mkdtempSync(join(tmpdir(), 'fs-bench-service-'));
  const children: Child[] = [];
  try {
    console.log(`# Live detection benchmark\n\n${machineLine()}\nload average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    // model on NetFlow features (--model FILE reuses one trained by an earlier run, see --keep-model)
    let model = opt('model', '');
    if (!model) {
      const csv = netflowTrainingCsv(dir);
      model = args.includes('--keep-model') ? join(tmpdir(), 'flowsentry-bench-netflow-rf.fsm') : join(dir, 'netflow-rf.fsm');
      const t0 = performance.now();
      runCli(['train', csv, '--label', 'label', '--models', 'rf', '--cv', '2', '--out', model, '--json']);
      console.log(`trained a 100-tree rf on ${readFileSync(csv, 'utf8').split('\n').length - 2} NetFlow-feature rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (${model})`);
    }

    // offline: the same model, the same flows, one batch
    const scorer = await ModelScorer.load(model);
    const flows = new FlowGenerator().records(200_000);
    await scorer.scoreBatch(flows.slice(0, 1000));
    const o0 = performance.now();
    const offline = await scorer.scoreBatch(flows);
    const offlineS = (performance.now() - o0) / 1000;
    const offlineAlerts = offline.verdicts.filter((v) => v.isAlert).length;
    console.log(`offline: ${flows.length} flows in one batch: ${offlineS.toFixed(2)} s = ${Math.round(flows.length / offlineS)} flows/s (${offlineAlerts} alerts)\n`);

    const rows: (string | number)[][] = [];
    const commands = opt('commands', 'serve,detect').split(',') as ('serve' | 'detect')[];
    const receivers = opt('receivers', 'auto').split(',');
    for (const rate of args.includes('--skip-throughput') ? [] : rates) {
      for (const [command, receiver] of commands.flatMap((c) => receivers.map((r) => [c, r] as const))) {
        const extra = command === 'serve' ? ['--store', join(dir, `rate-${rate}-${receiver}.duckdb`)] : [];
        const svc = await startServe(['--model', model, '--netflow', 'udp://127.0.0.1:0', '--receiver', receiver, ...extra], true, command);
        children.push(svc);
        const gen = new FlowGenerator();
        const warm = await offer(svc.netflowPort, gen, 5000, 1); // warm-up (JIT, template)
        await new Promise((r) => setTimeout(r, 500));
        const before = command === 'serve' ? await metrics(svc.base) : { scored: warm, buckets: [], drops: {} };
        const cpu0 = processCpuSeconds(svc.proc.pid!);
        const k0 = kernelDrops(svc.netflowPort);
        const w0 = performance.now();
        const sent = await offer(svc.netflowPort, gen, rate, seconds);
        let after: Metrics;
        let cpu: number;
        let kernel: number;
        if (command === 'serve') {
          // let the queue drain (at most 10 s)
          after = await metrics(svc.base);
          for (let i = 0; i < 100 && after.scored - before.scored < sent && (i === 0 || after.scored !== (await metrics(svc.base)).scored || i < 5); i++) {
            await new Promise((r) => setTimeout(r, 100));
            after = await metrics(svc.base);
          }
          cpu = processCpuSeconds(svc.proc.pid!) - cpu0;
          kernel = kernelDrops(svc.netflowPort) - k0;
        } else {
          // detect has no metrics endpoint: SIGTERM drains it and it prints its summary (latency over the warm-up too)
          await new Promise((r) => setTimeout(r, 500));
          kernel = kernelDrops(svc.netflowPort) - k0;
          cpu = processCpuSeconds(svc.proc.pid!) - cpu0;
          await stopServe(svc);
          const summary = JSON.parse(svc.stdout()) as {
            engine: { flowsScored: number; dropped: number };
            input: { collector: { backlogDropped: number } };
            latency: [number | string, number][];
          };
          after = {
            scored: summary.engine.flowsScored,
            buckets: summary.latency.map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), n]),
            drops: { 'engine-queue': summary.engine.dropped, 'netflow-backlog': summary.input.collector.backlogDropped },
          };
        }
        const wall = (performance.now() - w0) / 1000;
        const scored = after.scored - before.scored;
        const engineDrops = Object.entries(after.drops).reduce((s, [k, v]) => s + (k === 'explanation-budget' ? 0 : v - (before.drops[k] ?? 0)), 0);
        const p50 = quantile(before.buckets, after.buckets, 0.5) * 1000;
        const p99 = quantile(before.buckets, after.buckets, 0.99) * 1000;
        rows.push([receivers.length > 1 ? `${command} [${receiver}]` : command, rate, sent, scored, Math.round(scored / seconds), (100 * (1 - scored / sent)).toFixed(2), kernel, engineDrops, p50.toFixed(2), p99.toFixed(1), cpu.toFixed(1), wall.toFixed(1)]);
        console.log(`${command} offered ${rate}/s: sent ${sent}, scored ${scored} (${Math.round(scored / seconds)}/s), kernel drops ${kernel} datagrams, engine drops ${engineDrops}, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(1)} ms, service CPU ${cpu.toFixed(1)} s`);
        await stopServe(svc);
      }
    }
    console.log(
      `\n${markdownTable(['command', 'offered flows/s', 'sent', 'scored', 'scored/s', 'lost %', 'kernel drops (datagrams)', 'engine drops', 'p50 ms', 'p99 ms', 'service CPU s', 'wall s'], rows)}\n`,
    );

    if (!args.includes('--skip-memory')) {
      const pcap = join(dir, 'dominate.pcap');
      const e = spawnSync('editcap', ['-F', 'pcap', join(DATA, 'pcaps/ddos/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng'), pcap]);
      if (e.status !== 0) throw new Error(`editcap failed: ${e.stderr}`);
      const { header, records, spanS } = pcapRecords(pcap);
      const cicModel = join(dir, 'cic-rf.fsm');
      const cics = readdirSync(join(DATA, 'cic-ids2017')).filter((f) => f.endsWith('.csv')).map((f) => join(DATA, 'cic-ids2017', f));
      runCli(['train', ...cics, '--models', 'rf', '--cv', '2', '--out', cicModel, '--json']);
      const svc = await startServe(['--model', cicModel, '--stdin', '--store', join(dir, 'flood.duckdb')], false);
      children.push(svc);
      const stdin = svc.proc.stdin!;
      const write = (b: Buffer): Promise<void> => new Promise((r) => (stdin.write(b) ? r() : stdin.once('drain', () => r())));
      await write(header);
      const samples: [number, number][] = [];
      const start = performance.now();
      const queue: number[] = [];
      const sampler = setInterval(() => {
        samples.push([(performance.now() - start) / 1000, rssMb(svc.proc.pid!)]);
        void fetch(`${svc.base}/metrics`)
          .then((r) => r.text())
          .then((t) => queue.push(Number(/^flowsentry_queue_depth\{queue="engine"\} (\S+)/m.exec(t)?.[1] ?? NaN)));
      }, 1000);
      let loop = 0;
      let packets = 0;
      while (performance.now() - start < memorySeconds * 1000) {
        await write(loopChunk(records, loop++, spanS));
        packets += records.length;
      }
      clearInterval(sampler);
      const m = await metrics(svc.base);
      const health = (await (await fetch(`${svc.base}/health`)).json()) as Record<string, number>;
      await stopServe(svc);
      const rss = samples.map((s) => s[1]);
      const half = samples.filter((s) => s[0] >= memorySeconds / 2);
      const n = half.length;
      const mx = half.reduce((a, s) => a + s[0], 0) / n;
      const my = half.reduce((a, s) => a + s[1], 0) / n;
      const slope = half.reduce((a, s) => a + (s[0] - mx) * (s[1] - my), 0) / half.reduce((a, s) => a + (s[0] - mx) ** 2, 0);
      console.log(
        `SYN flood loop: ${loop} loops, ${packets} packets in ${memorySeconds} s (${Math.round(packets / memorySeconds)} packets/s); flows scored ${m.scored}, ` +
          `alerts raised ${health.alertsRaised}, drops ${JSON.stringify(m.drops)}; RSS max ${Math.max(...rss).toFixed(0)} MB, ` +
          `first ${rss[0]?.toFixed(0)} MB, last ${rss[rss.length - 1]?.toFixed(0)} MB, slope over the second half ${slope.toFixed(2)} MB/s`,
      );
      console.log(`RSS samples (s, MB): ${samples.map(([t, r]) => `${t.toFixed(0)}:${r.toFixed(0)}`).join(' ')}`);
      console.log(`engine queue depth samples: ${queue.join(' ')}`);
    }
    console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    for (const c of children) await stopServe(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

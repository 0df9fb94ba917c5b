// Collector throughput: flowsentry collect vs nfcapd (nfdump 1.7) on the same datagram stream over loopback.
// The stream repeats real softflowd datagrams (test/fixtures/netflow, v5 / v9 / IPFIX) up to the requested number of
// records. A separate sender process replays it to each collector in turn at each offered rate (0 = as fast as it can);
// both collectors run as separate processes with an 8 MiB receive buffer (ours: the CollectorPipeline that
// `flowsentry collect` runs, started by this file's --serve mode). We measure, per collector: records
// decoded (its own summary), kernel drops (/proc/net/udp), the time from the first datagram sent until the socket
// queue is drained and the collector has gone idle, and the collector's CPU seconds (/proc/PID/task/*/schedstat).
//
//   npm run bench -- collector [--records N] [--rates 10000,20000,40000,0 (datagrams/s, 0 = as fast as possible)] [--versions 5,9,10]
//                              [--repeat N (each cell N times, the three collectors in turn; then a table of medians)]
//                              [--receivers auto|recvmmsg|dgram,... (how ours receives; each adds its two rows)]
//                              [--features netflow (adds a row per receiver: `collect --features netflow` CSV to /dev/null)]

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineLine, markdownTable } from './lib/measure.js';
import { loadSeeds, type FuzzTarget } from './fuzz-netflow.js';
import { decodeDatagram, DecodeStats, FlowBatch, TemplateStore } from '../src/io/netflow/decode.js';
import { CollectorPipeline, type ReceiverKind } from '../src/flows/collector-pipeline.js';

const BUFFER = 8 << 20;

interface Row {
  version: string;
  rate: number;
  collector: string;
  sent: number;
  decoded: number;
  kernelDrops: number;
  seconds: number;
  cpuSeconds: number;
}

/** Records each datagram of the seed stream carries (decoded once here). */
function recordsPerDatagram(datagrams: Buffer[]): number[] {
  const store = new TemplateStore();
  const stats = new DecodeStats();
  const batch = new FlowBatch();
  return datagrams.map((d) => {
    decodeDatagram(d, '127.0.0.1', 0, store, batch, stats);
    return batch.length;
  });
}

function buildStream(version: number, records: number): { file: string; datagrams: number; records: number } {
  const target: FuzzTarget = version === 5 ? 'v5' : version === 9 ? 'v9' : 'ipfix';
  const seeds = loadSeeds(target).filter((_, i, all) => target !== 'ipfix' || i < all.length); // both IPFIX fixtures
  const counts = recordsPerDatagram(seeds);
  const parts: Buffer[] = [];
  let total = 0;
  let n = 0;
  while (total < records) {
    for (let i = 0; i < seeds.length && total < records; i++) {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(seeds[i].length);
      parts.push(h, seeds[i]);
      total += counts[i];
      n++;
    }
  }
  const file = join(mkdtempSync(join(tmpdir(), 'flowsentry-bench-')), `stream-v${version}.bin`);
  writeFileSync(file, Buffer.concat(parts));
  return { file, datagrams: n, records: total };
}

/** Sender mode (run in its own process): replays a stream file to 127.0.0.1:port. */
async function send(file: string, port: number, rate: number): Promise<void> {
  const data = readFileSync(file);
  const datagrams: Buffer[] = [];
  for (let off = 0; off + 4 <= data.length; ) {
    const n = data.readUInt32BE(off);
    datagrams.push(data.subarray(off + 4, off + 4 + n));
    off += 4 + n;
  }
  const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: BUFFER });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  socket.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const start = performance.now();
  const inFlight = 64;
  let next = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (next < datagrams.length && next - done < inFlight) {
        if (rate > 0 && next > (rate * (performance.now() - start)) / 1000) {
          setTimeout(pump, 1);
          return;
        }
        socket.send(datagrams[next++], () => {
          done++;
          if (done === datagrams.length) resolve();
          else if (next - done < inFlight / 2) pump();
        });
      }
    };
    pump();
  });
  socket.close();
}

function udpQueue(port: number): { rx: number; drops: number } {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'latin1').split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 13 && cols[1].endsWith(hex)) {
      return { rx: parseInt(cols[4].split(':')[1], 16), drops: Number(cols[cols.length - 1]) };
    }
  }
  return { rx: 0, drops: 0 };
}

/** CPU seconds of every thread of a process so far (/proc/PID/task/TID/schedstat: ns on CPU). */
function cpuSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    return ns / 1e9;
  } catch {
    return Number.NaN;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitListening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error('collector exited before listening');
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    if (readFileSync('/proc/net/udp', 'latin1').includes(`${hex} `)) return;
    await sleep(25);
  }
  throw new Error(`nothing listens on ${port}`);
}

async function measure(
  name: string,
  version: string,
  stream: { file: string; records: number },
  port: number,
  rate: number,
  command: string,
  args: string[],
  parseRecords: (stdout: string, stderr: string) => number,
): Promise<Row> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await waitListening(port, child);
  await sleep(300);
  const cpu0 = cpuSeconds(child.pid as number);
  const start = performance.now();
  const sender = spawn(process.execPath, ['dist/bench/run.js', 'collector', '--send', stream.file, String(port), String(rate)], { stdio: 'inherit' });
  await new Promise<void>((r) => sender.on('exit', () => r()));
  // Done: the socket queue is empty and the collector has stopped using CPU (its decoder may lag the socket).
  let quiet = 0;
  let end = performance.now();
  let lastCpu = cpuSeconds(child.pid as number);
  while (quiet < 3) {
    await sleep(20);
    const nowCpu = cpuSeconds(child.pid as number);
    if (udpQueue(port).rx === 0 && nowCpu - lastCpu < 0.002) quiet++;
    else {
      quiet = 0;
      end = performance.now();
    }
    lastCpu = nowCpu;
  }
  const { drops } = udpQueue(port);
  const cpu = cpuSeconds(child.pid as number) - cpu0;
  child.kill('SIGTERM');
  await exited;
  return { version, rate, collector: name, sent: stream.records, decoded: parseRecords(stdout, stderr), kernelDrops: drops, seconds: (end - start) / 1000, cpuSeconds: cpu };
}

/**
 * Collector mode (own process): what `flowsentry collect` runs — the two-thread CollectorPipeline — without loading
 * the other CLI commands; prints the summary JSON at SIGTERM.
 */
async function serve(port: number, receiver: ReceiverKind, out: string | undefined, features: string | undefined): Promise<void> {
  const outFd = out === undefined ? undefined : openSync(out, 'w');
  const netflow = features === 'netflow' ? ({ format: 'csv', features: 'netflow' } as const) : {};
  const pipeline = await CollectorPipeline.start({ host: '127.0.0.1', port, receiveBuffer: BUFFER, outFd, receiver, ...netflow });
  process.once('SIGTERM', () => {
    void pipeline.stop().then((stats) => {
      process.stdout.write(`${JSON.stringify(stats)}\n`);
      process.exit(0);
    });
  });
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--send') return send(args[1], Number(args[2]), Number(args[3] ?? 0));
  if (args[0] === '--serve') return serve(Number(args[1]), args[2] as ReceiverKind, args[3], args[4]);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
  };
  const records = Number(opt('--records', '1000000'));
  const rates = opt('--rates', '10000,20000,40000,0').split(',').map(Number);
  const repeat = Number(opt('--repeat', '1'));
  const versions = opt('--versions', '5,9,10').split(',').map(Number);
  const receivers = opt('--receivers', 'auto').split(',') as ReceiverKind[];
  const features = opt('--features', '');
  const rows: Row[] = [];
  let port = 41_000 + Math.floor(Math.random() * 1000) * 20;
  for (const version of versions) {
    const stream = buildStream(version, records);
    const label = version === 10 ? 'IPFIX' : `v${version}`;
    for (const rate of rates.flatMap((r) => new Array<number>(repeat).fill(r))) {
      const nfdir = mkdtempSync(join(tmpdir(), 'flowsentry-nfcapd-'));
      const nfcapd = ['-p', String(++port), '-b', '127.0.0.1', '-w', nfdir, '-B', String(BUFFER), '-t', '3600'];
      rows.push(
        await measure('nfcapd -w (nffile)', label, stream, port, rate, 'nfcapd', nfcapd, (out, err) => {
          const m = /Flows: (\d+)/.exec(out + err);
          return m ? Number(m[1]) : Number.NaN;
        }),
      );
      rmSync(nfdir, { recursive: true, force: true });
      let receivedBy = '';
      const ours = (out: string): number => {
        const summary = JSON.parse(out) as { records: number; receiver: string };
        receivedBy = summary.receiver;
        return summary.records;
      };
      for (const receiver of receivers) {
        const serveArgs = (p: number): string[] => ['dist/bench/run.js', 'collector', '--serve', String(p), receiver];
        // Named by the receiver it ran with (auto: whichever was available).
        const named = (row: Row): Row => ({ ...row, collector: row.collector.replace('collect', `collect [${receivedBy}]`) });
        rows.push(named(await measure('flowsentry collect', label, stream, ++port, rate, process.execPath, serveArgs(port), ours)));
        rows.push(named(await measure('flowsentry collect --out', label, stream, ++port, rate, process.execPath, [...serveArgs(port), '/dev/null'], ours)));
        if (features === 'netflow') {
          const args = [...serveArgs(port + 1), '/dev/null', 'netflow'];
          rows.push(named(await measure('flowsentry collect --out x.csv --features netflow', label, stream, ++port, rate, process.execPath, args, ours)));
        }
      }
    }
    rmSync(stream.file, { force: true });
  }
  const table = markdownTable(
    ['stream', 'offered datagrams/s', 'collector', 'records sent', 'records decoded', 'lost', 'kernel drops (datagrams)', 'seconds', 'records/s decoded', 'CPU s', 'records per CPU s'],
    rows.map((r) => [
      r.version,
      r.rate > 0 ? r.rate : 'max',
      r.collector,
      r.sent,
      r.decoded,
      r.sent - r.decoded,
      r.kernelDrops,
      r.seconds.toFixed(2),
      Math.round(r.decoded / r.seconds),
      r.cpuSeconds.toFixed(2),
      Math.round(r.decoded / r.cpuSeconds),
    ]),
  );
  console.log(`Collector, ${machineLine()}; receive buffer ${BUFFER} bytes requested by both; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log(table);
  if (repeat > 1) {
    const cells = new Map<string, Row[]>();
    for (const r of rows) {
      const key = `${r.version}|${r.rate}|${r.collector}`;
      cells.set(key, [...(cells.get(key) ?? []), r]);
    }
    const median = (values: number[]): number => {
      const v = [...values].sort((a, b) => a - b);
      return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    };
    console.log(`\nMedians of ${repeat} runs per cell:\n`);
    console.log(
      markdownTable(
        ['stream', 'offered datagrams/s', 'collector', 'records decoded (median)', 'min', 'max', 'kernel drops (median)', 'CPU s (median)'],
        [...cells.values()].map((runs) => [
          runs[0].version,
          runs[0].rate > 0 ? runs[0].rate : 'max',
          runs[0].collector,
          median(runs.map((r) => r.decoded)),
          Math.min(...runs.map((r) => r.decoded)),
          Math.max(...runs.map((r) => r.decoded)),
          median(runs.map((r) => r.kernelDrops)),
          median(runs.map((r) => r.cpuSeconds)).toFixed(2),
        ]),
      ),
    );
  }
}

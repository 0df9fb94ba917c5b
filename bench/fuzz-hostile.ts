// Hostile-input sweep of the command line (issue 6): every shared capture and variants made from it — truncated at
// several offsets, garbage appended, wrong magic, gzip cut mid-stream, pcap snap length 0 / 2^32-1, records longer
// than the snap length, a record length past any snap length, pcapng with an unknown block, a bad block length and an
// unknown block longer than the file — each run through `flowsentry extract` and `flowsentry detect --pcap` in a
// child process. A run passes when it exits 0 with its skips counted in the JSON summary, or exits 1 with one line
// that names the file; it fails on any other exit code, a stack trace, more than one error line, a timeout (hang) or
// a peak RSS above the bound. The collector gets every shared NetFlow fixture datagram cut at every length, over
// UDP to `flowsentry collect`: it must count them and exit 0.
//
//   npm run bench -- fuzz-hostile [--quick]   (--quick: the first two captures of each folder)

import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NETFLOW_FEATURES } from '../src/flows/features/netflow.js';
import { Rng } from '../src/util/rng.js';
import { machineLine, markdownTable } from './lib/measure.js';

const CLI = resolve('dist/src/cli/main.js');
const CAPTURES = resolve('../shared/datasets/pcaps');
const NETFLOW_FIXTURES = resolve('test/fixtures/netflow');
const TIMEOUT_MS = 60_000;
const MAX_RSS_MB = 400;

interface Variant {
  name: string;
  bytes: Buffer;
}

interface Outcome {
  file: string;
  variant: string;
  command: string;
  code: number | null;
  rssMb: number;
  verdict: string;
  detail: string;
}

const isPcapng = (b: Buffer): boolean => b.length >= 4 && b.readUInt32BE(0) === 0x0a0d0d0a;

/** Byte order of a pcap global header (true: little-endian). */
const pcapLittle = (b: Buffer): boolean => b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;

/** Offsets of the blocks of a pcapng file (first section's byte order). */
function pcapngBlocks(b: Buffer): number[] {
  const little = b.readUInt32LE(8) === 0x1a2b3c4d;
  const out: number[] = [];
  for (let pos = 0; pos + 12 <= b.length; ) {
    out.push(pos);
    const len = little ? b.readUInt32LE(pos + 4) : b.readUInt32BE(pos + 4);
    if (len < 12) break;
    pos += len;
  }
  return out;
}

function variants(file: Buffer, rng: Rng): Variant[] {
  const out: Variant[] = [{ name: 'clean', bytes: file }];
  for (const at of [1, 3, 4, 10, 23, 24, 25, 31, 40]) out.push({ name: `cut-${at}`, bytes: file.subarray(0, at) });
  out.push({ name: 'cut-half', bytes: file.subarray(0, file.length >> 1) }, { name: 'cut-last-byte', bytes: file.subarray(0, file.length - 1) });
  const garbage = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rng.next() * 256)));
  out.push({ name: 'garbage-appended', bytes: Buffer.concat([file, garbage]) });
  out.push({ name: 'wrong-magic', bytes: Buffer.concat([Buffer.from('XXXX'), file.subarray(4)]) });
  const gz = gzipSync(file);
  out.push({ name: 'gzip', bytes: gz }, { name: 'gzip-cut', bytes: gz.subarray(0, Math.floor(gz.length / 2)) });
  out.push({ name: 'garbage-only', bytes: garbage }, { name: 'empty', bytes: Buffer.alloc(0) });
  if (!isPcapng(file)) {
    const little = pcapLittle(file);
    const withU32 = (at: number, v: number): Buffer => {
      const b = Buffer.from(file);
      if (little) b.writeUInt32LE(v, at);
      else b.writeUInt32BE(v, at);
      return b;
    };
    out.push({ name: 'snaplen-0', bytes: withU32(16, 0) }, { name: 'snaplen-huge', bytes: withU32(16, 0xffffffff) });
    out.push({ name: 'caplen-over-snaplen', bytes: withU32(16, 64) }); // most records are longer than 64 bytes
    out.push({ name: 'record-length-corrupt', bytes: withU32(24 + 8, 0x7ffffff0) });
  } else {
    const blocks = pcapngBlocks(file);
    const little = file.readUInt32LE(8) === 0x1a2b3c4d;
    const u32 = (v: number): Buffer => {
      const b = Buffer.alloc(4);
      if (little) b.writeUInt32LE(v);
      else b.writeUInt32BE(v);
      return b;
    };
    const mid = blocks[Math.floor(blocks.length / 2)] ?? file.length;
    const unknown = Buffer.concat([u32(0x0badbeef), u32(20), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), u32(20)]);
    out.push({ name: 'unknown-block', bytes: Buffer.concat([file.subarray(0, mid), unknown, file.subarray(mid)]) });
    const bad = Buffer.from(file);
    bad.set(u32(bad.readUInt32LE(mid + 4) === 0 ? 13 : (little ? bad.readUInt32LE(mid + 4) : bad.readUInt32BE(mid + 4)) + 2), mid + 4);
    out.push({ name: 'bad-block-length', bytes: bad });
    const huge = Buffer.concat([u32(0x0badbeef), u32(0x7ffffff0), Buffer.alloc(8)]);
    out.push({ name: 'unknown-block-past-end', bytes: Buffer.concat([file.subarray(0, mid), huge, file.subarray(mid)]) });
  }
  return out;
}

/** Runs the CLI under /usr/bin/time (peak RSS); resolves with exit code, output and peak RSS in MB. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; rssMb: number; timedOut: boolean }> {
  return new Promise((done) => {
    // A process group of its own: a hung run is killed with its Node child, not just /usr/bin/time.
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M', process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const m = /PEAK_RSS_KB=(\d+)/.exec(stderr);
      const timeLines = /Command exited with non-zero status \d+\n|PEAK_RSS_KB=\d+\n?/g;
      done({ code, stdout, stderr: stderr.replace(timeLines, ''), rssMb: m ? Number(m[1]) / 1024 : Number.NaN, timedOut });
    });
  });
}

function judge(path: string, command: string, r: Awaited<ReturnType<typeof runCli>>): Outcome {
  const base = { file: basename(path), variant: basename(path).slice(basename(path).lastIndexOf('.') + 1), command, code: r.code, rssMb: r.rssMb };
  const errLines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  if (r.timedOut) return { ...base, verdict: 'FAIL', detail: `no exit within ${TIMEOUT_MS / 1000} s` };
  if (/\n\s+at .+:\d+:\d+\)?/.test(r.stderr)) return { ...base, verdict: 'FAIL', detail: `stack trace: ${errLines[0] ?? ''}` };
  if (r.rssMb > MAX_RSS_MB) return { ...base, verdict: 'FAIL', detail: `peak RSS ${r.rssMb.toFixed(0)} MB` };
  if (r.code === 0) {
    try {
      type Counts = { skipped?: Record<string, number>; packets?: number };
      const summary = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Counts & { input?: { capture?: Counts } };
      const counts = summary.input?.capture ?? summary; // detect's summary has the reader's counts under input
      return { ...base, verdict: 'ok', detail: `packets ${counts.packets ?? '?'}, skipped ${JSON.stringify(counts.skipped ?? {})}` };
    } catch {
      return { ...base, verdict: 'ok', detail: 'exit 0' };
    }
  }
  if (r.code === 1 && errLines.length === 1 && errLines[0]!.includes(path)) return { ...base, verdict: 'ok', detail: errLines[0]! };
  return { ...base, verdict: 'FAIL', detail: `exit ${r.code}: ${errLines.slice(0, 3).join(' | ')}` };
}

/** Every fixture datagram cut at every length, sent to `flowsentry collect`; it must exit 0 having counted every one. */
async function collectorSweep(): Promise<Outcome> {
  const datagrams: Buffer[] = [];
  for (const name of readdirSync(NETFLOW_FIXTURES).filter((f) => f.endsWith('.bin'))) {
    const file = readFileSync(join(NETFLOW_FIXTURES, name));
    for (let off = 0; off + 4 <= file.length; ) {
      const n = file.readUInt32BE(off);
      const d = file.subarray(off + 4, off + 4 + n);
      off += 4 + n;
      if (datagrams.length > 20_000) continue;
      for (let cut = 0; cut <= d.length; cut++) datagrams.push(d.subarray(0, cut));
    }
  }
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  // Not under /usr/bin/time, which ignores SIGINT: the peak RSS is the child's VmHWM, read before the signal.
  const child = spawn(process.execPath, [CLI, 'collect', '--listen', `udp://127.0.0.1:${port}`, '--out', '/dev/null', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Sent once it listens (a fixed wait was too short at load ~10: nothing arrived, and the run still passed).
  for (let waited = 0; !stderr.includes('listening on') && waited < TIMEOUT_MS; waited += 100) await new Promise((r) => setTimeout(r, 100));
  const socket = dgram.createSocket('udp4');
  for (let i = 0; i < datagrams.length; i++) {
    await new Promise<void>((r) => socket.send(datagrams[i]!, port, '127.0.0.1', () => r()));
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 2)); // paced: loss here is not what is measured
  }
  socket.close();
  await new Promise((r) => setTimeout(r, 1000));
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  const rssMb = hwm ? Number(hwm[1]) / 1024 : Number.NaN;
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const base = { file: `${datagrams.length} cut datagrams`, variant: 'datagram-cuts', command: 'collect', code, rssMb };
  try {
    const s = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { datagrams: number; malformed: number; records: number; kernelDrops?: number };
    // Every datagram sent is counted: received, or dropped by the kernel (the datagrams and the drops are both counted).
    const accounted = s.datagrams + (s.kernelDrops ?? 0) === datagrams.length;
    const ok = code === 0 && !/\n\s+at /.test(stderr) && accounted;
    return { ...base, verdict: ok ? 'ok' : 'FAIL', detail: `received ${s.datagrams} of ${datagrams.length}, malformed ${s.malformed}, records ${s.records}, kernel drops ${s.kernelDrops ?? '?'}` };
  } catch {
    return { ...base, verdict: 'FAIL', detail: `exit ${code}: ${stderr.split('\n').slice(0, 3).join(' | ')}` };
  }
}

function trainModel(dir: string): string {
  // A NetFlow-feature decision tree (any model does: `detect --pcap` must read the hostile file before scoring).
  const rows = [[...NETFLOW_FEATURES, 'label'].join(',')];
  for (let i = 0; i < 200; i++) rows.push([...NETFLOW_FEATURES.map((_, k) => (i * (k + 3)) % 97), i % 5 ? 'normal' : 'attack'].join(','));
  writeFileSync(join(dir, 'train.csv'), `${rows.join('\n')}\n`);
  const model = join(dir, 'model.fsm');
  const r = spawnSync(process.execPath, [CLI, 'train', join(dir, 'train.csv'), '--label', 'label', '--models', 'dt', '--cv', '2', '--out', model], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`training the sweep's model failed: ${r.stderr}`);
  return model;
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const dir = mkdtempSync(join(tmpdir(), 'fs-hostile-'));
  const rng = new Rng(6);
  const model = trainModel(dir);
  const outcomes: Outcome[] = [];
  const started = performance.now();
  try {
    for (const folder of readdirSync(CAPTURES).sort()) {
      const files = readdirSync(join(CAPTURES, folder)).sort();
      for (const name of quick ? files.slice(0, 2) : files) {
        const file = readFileSync(join(CAPTURES, folder, name));
        for (const v of variants(file, rng)) {
          const path = join(dir, `${name}.${v.name}`);
          writeFileSync(path, v.bytes);
          outcomes.push(judge(path, 'extract', await runCli(['extract', path, '--out', join(dir, 'out.csv'), '--json'])));
          outcomes.push(judge(path, 'detect --pcap', await runCli(['detect', '--model', model, '--pcap', path, '--json'])));
          rmSync(path);
        }
      }
    }
    outcomes.push(await collectorSweep());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const failed = outcomes.filter((o) => o.verdict !== 'ok');
  const rss = outcomes.map((o) => o.rssMb).filter((v) => Number.isFinite(v));
  console.log(machineLine());
  const byVariant = new Map<string, Outcome[]>();
  for (const o of outcomes) byVariant.set(`${o.variant}\t${o.command}`, [...(byVariant.get(`${o.variant}\t${o.command}`) ?? []), o]);
  const rows = [...byVariant].map(([key, list]) => {
    const exits = [...new Set(list.map((o) => String(o.code)))].join('/');
    const example = list.find((o) => o.code !== 0) ?? list[0]!;
    return [...key.split('\t'), list.length, list.filter((o) => o.verdict === 'ok').length, exits, Math.max(...list.map((o) => o.rssMb)).toFixed(0), example.detail.slice(0, 120)];
  });
  console.log(markdownTable(['variant', 'command', 'runs', 'ok', 'exit codes', 'peak RSS MB', 'example'], rows));
  if (failed.length > 0) console.log(markdownTable(['file', 'command', 'exit', 'detail'], failed.map((o) => [o.file, o.command, String(o.code), o.detail.slice(0, 140)])));
  console.log(`${outcomes.length} runs, ${failed.length} failed, largest peak RSS ${Math.max(...rss).toFixed(0)} MB, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (failed.length > 0) process.exitCode = 1;
}

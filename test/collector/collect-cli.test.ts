// `flowsentry collect` end to end: real softflowd datagrams (fixture) sent over UDP to the command, JSON lines or CSV
// out (by the --out extension), JSON summary on stdout; a malformed datagram is counted, not fatal; a bad --listen or
// an --out extension that names another format is a usage error (exit 2).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDatagrams } from './build.js';

const CLI = 'dist/src/cli/main.js';
const truth = JSON.parse(readFileSync('test/fixtures/netflow/softflowd-truth.json', 'utf8')) as Record<string, { records: number; packets: number; bytes: number }>;

/**
 * Runs `collect [--out OUT] --count N --json` on a free port, sends it the datagrams (each acknowledged by the socket
 * before the next), and returns its exit code, stdout and stderr once it stops.
 */
async function collectDatagrams(out: string | undefined, count: number, datagrams: Iterable<Buffer>): Promise<{ code: number; stdout: string; stderr: string }> {
  const outArgs = out === undefined ? [] : ['--out', out];
  const child = spawn(process.execPath, [CLI, 'collect', '--listen', 'udp://127.0.0.1:0', ...outArgs, '--count', String(count), '--duration', '20', '--json']);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on udp:\/\/[^\s]+:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`collect exited early: ${stderr}`)));
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const socket = dgram.createSocket('udp4');
  for (const d of datagrams) await new Promise<void>((resolve) => socket.send(d, port, '127.0.0.1', () => resolve()));
  socket.close();
  const code = await exited;
  return { code, stdout, stderr };
}

test('collect --json without --out: stdout is the summary alone, the flows are not written (as --help and collector.md say)', async () => {
  const want = truth['softflowd-ipfix'];
  const { code, stdout, stderr } = await collectDatagrams(undefined, want.records, readDatagrams('test/fixtures/netflow/softflowd-ipfix.bin'));
  assert.equal(code, 0, stderr);
  const summary = JSON.parse(stdout) as { records: number };
  assert.equal(summary.records, want.records);
  assert.equal(stdout.trim().split('\n').length, 1);
});

test('collect writes every flow as a JSON line and summarises, stopping at --count', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowsentry-collect-'));
  const out = join(dir, 'flows.jsonl');
  const want = truth['softflowd-ipfix'];
  const datagrams = [Buffer.from('not a flow export'), ...readDatagrams('test/fixtures/netflow/softflowd-ipfix.bin')];
  const { code, stdout, stderr } = await collectDatagrams(out, want.records, datagrams);
  assert.equal(code, 0, stderr);
  const summary = JSON.parse(stdout) as { records: number; malformed: number; malformedByReason: Record<string, number> };
  assert.equal(summary.records, want.records);
  assert.equal(summary.malformed, 1);
  assert.deepEqual(summary.malformedByReason, { 'unknown-version': 1 });
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, want.records);
  let packets = 0;
  let bytes = 0;
  for (const line of lines) {
    const r = JSON.parse(line) as Record<string, unknown>;
    for (const k of ['srcAddr', 'dstAddr', 'srcPort', 'dstPort', 'protocol', 'startMs', 'endMs', 'fwdPackets', 'bwdPackets', 'exporter']) {
      assert.ok(k in r, `missing ${k}`);
    }
    assert.equal(r.source, 'ipfix');
    packets += r.packets as number;
    bytes += r.bytes as number;
  }
  assert.deepEqual({ packets, bytes }, { packets: want.packets, bytes: want.bytes });
  rmSync(dir, { recursive: true, force: true });
});

test('collect --out flows.csv writes CSV with a header: the same records as the JSON lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowsentry-collect-'));
  const want = truth['softflowd-v9'];
  const run = async (out: string): Promise<void> => {
    const { code, stderr } = await collectDatagrams(out, want.records, readDatagrams('test/fixtures/netflow/softflowd-v9.bin'));
    assert.equal(code, 0, stderr);
  };
  await run(join(dir, 'flows.csv'));
  await run(join(dir, 'flows.jsonl'));
  const [header, ...rows] = readFileSync(join(dir, 'flows.csv'), 'utf8').trim().split('\n');
  const names = header.split(',');
  const jsonl = readFileSync(join(dir, 'flows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(names, Object.keys(jsonl[0]), 'the columns are the JSON fields, in order');
  assert.equal(rows.length, want.records);
  const asJson = rows.map((r) => Object.fromEntries(r.split(',').map((v, k) => [names[k], /^-?\d+(\.\d+)?$/.test(v) && !names[k].endsWith('Addr') && names[k] !== 'exporter' ? Number(v) : v])));
  const key = (r: Record<string, unknown>): string => JSON.stringify(r);
  assert.deepEqual(asJson.map(key).sort(), jsonl.map(key).sort());
  assert.equal(asJson.reduce((s, r) => s + (r.packets as number), 0), want.packets);
  rmSync(dir, { recursive: true, force: true });
});

test('collect refuses an --out extension of another format before listening', () => {
  const r = spawnSync(process.execPath, [CLI, 'collect', '--listen', 'udp://127.0.0.1:29064', '--out', join(tmpdir(), 'flows.parquet')], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--out .*flows\.parquet: collect writes \.csv \(CSV with a header\) or \.jsonl \(JSON lines\), not \.parquet/);
  assert.doesNotMatch(r.stderr, /listening/);
});

test('collect rejects a malformed --listen with a usage error', () => {
  const r = spawnSync(process.execPath, [CLI, 'collect', '--listen', 'tcp://0.0.0.0:2055'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--listen expects udp:\/\/HOST:PORT/);
});

test('collect refuses an unwritable --out before listening, in one line that says why', () => {
  const r = spawnSync(process.execPath, [CLI, 'collect', '--listen', 'udp://127.0.0.1:29063', '--out', '/no-such-folder/flows.jsonl'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), 'flowsentry: /no-such-folder/flows.jsonl: --out: cannot write here: folder /no-such-folder does not exist');
});

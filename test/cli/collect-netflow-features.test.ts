// `collect --features netflow`: NetFlow/IPFIX exports → the rows `extract --features netflow` writes (same header,
// same writer) → `train --task anomaly` → a model `detect --netflow` accepts and scores live exports with.
// Truth: softflowd's committed v9 export and its report (test/fixtures/netflow), extract's own header, softflowd
// reading a committed capture (its report's records, packets and bytes) and nfcapd/nfdump 1.7's per-flow packets,
// bytes and durations of the same datagrams. The softflowd part skips when softflowd is absent, the nfdump checks
// when nfcapd or nfdump is.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ByteWriter } from '../../src/flows/byte-writer.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { extractColumns, writeFlowRow } from '../../src/flows/flow-rows.js';
import { readDatagrams } from '../collector/build.js';
import { hasSoftflowd, runSoftflowd, type SoftflowdReport } from '../collector/softflowd.js';
import { CLI, cli } from '../helpers/cli.js';

const CAPTURE = 'samples/captures/synscan.pcapng';
const truth = JSON.parse(readFileSync('test/fixtures/netflow/softflowd-truth.json', 'utf8')) as Record<string, { records: number; packets: number; bytes: number }>;
const COLUMNS = extractColumns('netflow');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts a command that prints `pattern` (capturing its UDP port) on stderr once it listens, then calls `send(port)`. */
async function runListening(args: readonly string[], pattern: RegExp, send: (port: number) => Promise<unknown>, stop?: (child: ReturnType<typeof spawn>) => Promise<void>): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = pattern.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`${args[0]} exited before listening: ${stderr}`)));
  });
  await send(port);
  await stop?.(child);
  return { code: await exited, stdout, stderr };
}

/** `collect --listen udp://127.0.0.1:0 ARGS --count N --json`, fed by `send`. */
function collect(args: readonly string[], send: (port: number) => Promise<unknown>, count: number): Promise<Run> {
  return runListening(['collect', '--listen', 'udp://127.0.0.1:0', ...args, '--count', String(count), '--duration', '60', '--json'], /listening on udp:\/\/\S+:(\d+)/, send);
}

async function sendDatagrams(port: number, datagrams: readonly Buffer[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  for (const d of datagrams) await new Promise<void>((resolve) => socket.send(d, port, '127.0.0.1', () => resolve()));
  socket.close();
}

/** Datagrams waiting in the receive queue of the UDP socket on `port` (/proc/net/udp), 0 when none is there. */
function queued(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const line = readFileSync('/proc/net/udp', 'latin1').split('\n').find((l) => l.includes(hex));
  return line ? parseInt(line.trim().split(/\s+/)[4]!.split(':')[1]!, 16) : 0;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Until the socket on `port` has no datagram queued (at most 5 s). */
async function drained(port: number): Promise<void> {
  for (let i = 0; i < 100 && queued(port) > 0; i++) await sleep(50);
}

/** A CSV file's rows as records of its header's columns. */
function csvRows(path: string): { header: string; rows: Record<string, string>[] } {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header!.split(',');
  return { header: header!, rows: lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v]))) };
}

/** A flow's identity and what it carried (`key`) and its duration in whole milliseconds. */
interface Flow {
  key: string;
  ms: number;
}

/** Flows of one tool in an order another tool's list of the same flows has too (by key, then duration). */
function sortFlows(flows: Flow[]): Flow[] {
  return flows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.ms - b.ms));
}

function netflowFlows(rows: Record<string, string>[]): Flow[] {
  return sortFlows(rows.map((r) => ({ key: [r.src_addr, r.dst_addr, r.src_port, r.dst_port, r.packets, r.bytes].join(' '), ms: Math.round(Number(r.duration_s) * 1000) })));
}

/** The same flows with the same counts, and durations at most `toleranceMs` apart. */
function assertSameFlows(actual: Flow[], expected: Flow[], toleranceMs: number, message: string): void {
  assert.deepEqual(actual.map((f) => f.key), expected.map((f) => f.key), message);
  const apart = actual.filter((f, i) => Math.abs(f.ms - expected[i]!.ms) > toleranceMs).map((f, i) => ({ flow: f.key, ms: f.ms, expected: expected[i]!.ms }));
  assert.deepEqual(apart, [], `${message}: durations`);
}

/** softflowd's export of CAPTURE (`-v version`), received here: its report and datagrams, to send to each receiver alike. */
async function softflowdExport(version: string): Promise<{ report: SoftflowdReport; datagrams: Buffer[] }> {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const datagrams: Buffer[] = [];
  socket.on('message', (d: Buffer) => datagrams.push(d));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  const report = await runSoftflowd(CAPTURE, port, ['-v', version]);
  await drained(port);
  await sleep(50);
  socket.close();
  return { report, datagrams };
}

function sums(rows: Record<string, string>[]): { records: number; packets: number; bytes: number } {
  return { records: rows.length, packets: rows.reduce((t, r) => t + Number(r.packets), 0), bytes: rows.reduce((t, r) => t + Number(r.bytes), 0) };
}

describe('collect --features netflow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-collect-netflow-'));
  let extractHeader = '';
  before(() => {
    const out = join(dir, 'extract.csv');
    const r = cli(['extract', CAPTURE, '--features', 'netflow', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    extractHeader = readFileSync(out, 'utf8').split('\n')[0]!;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes extract's NetFlow rows of each record, in CSV and JSON lines; without it, the FlowRecord fields", async () => {
    const want = truth['softflowd-v9']!;
    const datagrams = readDatagrams('test/fixtures/netflow/softflowd-v9.bin');
    const outputs = { records: join(dir, 'records.jsonl'), csv: join(dir, 'netflow.csv'), jsonl: join(dir, 'netflow.jsonl') };
    for (const [kind, out] of Object.entries(outputs)) {
      const r = await collect(['--out', out, ...(kind === 'records' ? [] : ['--features', 'netflow'])], (port) => sendDatagrams(port, datagrams), want.records);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { records: number }).records, want.records);
    }
    const records = readFileSync(outputs.records, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as FlowRecord);
    assert.equal(records.length, want.records);
    assert.ok(!('features' in records[0]!), 'the default rows are the FlowRecord fields');

    const { header, rows } = csvRows(outputs.csv);
    assert.equal(header, extractHeader, "extract's header");
    assert.deepEqual(sums(rows), { records: want.records, packets: want.packets, bytes: want.bytes }, "softflowd's records, packets and bytes");
    // each row is what extract's row writer makes of the record: the same text, CSV and JSON lines
    const writer = new ByteWriter(new Writable({ write: (_chunk, _encoding, done: () => void) => done() }));
    const rowText = (record: FlowRecord, format: 'csv' | 'jsonl'): string => {
      writeFlowRow(writer, record, 'netflow', format, COLUMNS);
      return Buffer.from(writer.take()).toString('utf8');
    };
    const csvLines = readFileSync(outputs.csv, 'utf8').split('\n').slice(1, -1);
    const jsonLines = readFileSync(outputs.jsonl, 'utf8').split('\n').slice(0, -1);
    assert.equal(csvLines.length, records.length);
    assert.equal(jsonLines.length, records.length);
    records.forEach((record, i) => {
      assert.equal(`${csvLines[i]}\n`, rowText(record, 'csv'), `CSV row ${i + 1}`);
      assert.equal(`${jsonLines[i]}\n`, rowText(record, 'jsonl'), `JSON line ${i + 1}`);
    });
  });

  it('refuses a feature set exports do not carry: one usage line, exit 2', () => {
    const r = cli(['collect', '--listen', 'udp://127.0.0.1:0', '--features', 'cic', '--count', '1']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "flowsentry: --features expects netflow (flow exports carry no CIC features), got 'cic'\n");
  });

  it('softflowd v9 and IPFIX of a capture → rows as nfdump sees them → train --task anomaly → detect --netflow scores the export', async (t) => {
    if (!hasSoftflowd()) return t.skip('softflowd is not installed');
    // each export is received once and sent to every receiver: softflowd -r times its records from the wall clock at
    // its start, truncated to milliseconds, so two runs differ by up to 1 ms per duration
    const exported: Record<string, { report: SoftflowdReport; datagrams: Buffer[]; rows: Record<string, string>[] }> = {};
    for (const version of ['9', '10']) {
      const { report, datagrams } = await softflowdExport(version);
      const out = join(dir, `softflowd-v${version}.csv`);
      const r = await collect(['--out', out, '--features', 'netflow'], (port) => sendDatagrams(port, datagrams), report.records);
      assert.equal(r.code, 0, r.stderr);
      const { header, rows } = csvRows(out);
      assert.equal(header, extractHeader);
      assert.deepEqual(sums(rows), { records: report.records, packets: report.packets, bytes: report.bytes }, `v${version}: softflowd's report`);
      exported[version] = { report, datagrams, rows };
    }
    const v9 = netflowFlows(exported['9']!.rows);
    const ipfix = netflowFlows(exported['10']!.rows);
    // per flow, as nfdump decodes the same datagrams: v9 packets, bytes and durations; IPFIX packets and bytes (nfdump
    // 1.7.1 gives the IPFIX flows, timed by sysUpTime, durations near 2^64 ms: a negative difference read unsigned)
    const nfdump = await nfdumpFlows(join(dir, 'nfcapd'), exported['9']!.datagrams);
    if (nfdump) {
      assertSameFlows(v9, nfdump, 0, 'v9 rows = nfdump');
      assertSameFlows(ipfix, (await nfdumpFlows(join(dir, 'nfcapd-ipfix'), exported['10']!.datagrams))!, Infinity, 'IPFIX rows = nfdump');
    } else t.diagnostic('nfcapd/nfdump not installed: rows checked against softflowd\'s totals only');
    // the IPFIX export carries the same flows as the v9 one (another softflowd run: durations within 1 ms)
    assertSameFlows(ipfix, v9, 1, 'IPFIX rows = v9 rows');

    // unlabelled rows under --task anomaly are the normal baseline; the model takes NetFlow features only
    const model = join(dir, 'baseline.fsm');
    const trained = cli(['train', join(dir, 'softflowd-v9.csv'), '--task', 'anomaly', '--models', 'iforest', '--out', model, '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    const info = JSON.parse(cli(['info', model, '--json']).stdout) as { dropped: { name: string; reason: string }[] };
    assert.deepEqual(
      info.dropped.filter((d) => d.reason === 'identifier').map((d) => d.name),
      ['src_addr', 'dst_addr', 'start', 'vlan', 'end_reason', 'src_port'],
    );

    // the IPFIX export again (the datagrams softflowd sent), to detect --netflow: every record is scored
    const records = exported['10']!.report.records;
    const detect = await runListening(
      ['detect', '--model', model, '--netflow', 'udp://127.0.0.1:0', '--sink', `file:${join(dir, 'alerts.jsonl')}`, '--json'],
      /udp port (\d+)/,
      async (port) => {
        await sendDatagrams(port, exported['10']!.datagrams);
        // until the socket is drained and the collector thread's last chunk (at most 5 ms old) is handed over
        await drained(port);
        await sleep(1000);
      },
      async (child) => void child.kill('SIGTERM'),
    );
    assert.equal(detect.code, 0, detect.stderr);
    const summary = JSON.parse(detect.stdout) as { engine: { flowsScored: number; scoringErrors: number } };
    assert.equal(summary.engine.flowsScored, records);
    assert.equal(summary.engine.scoringErrors, 0);

    // collect's default CSV trains without its times and context, and detect names the way to trainable columns
    const recordsCsv = join(dir, 'records.csv');
    const plain = await collect(['--out', recordsCsv], (port) => sendDatagrams(port, exported['9']!.datagrams), exported['9']!.report.records);
    assert.equal(plain.code, 0, plain.stderr);
    const recordsModel = join(dir, 'records.fsm');
    assert.equal(cli(['train', recordsCsv, '--task', 'anomaly', '--models', 'iforest', '--out', recordsModel, '--json']).code, 0);
    const recordsInfo = JSON.parse(cli(['info', recordsModel, '--json']).stdout) as { features: { name: string; aliases: string[] }[] };
    const featureNames = recordsInfo.features.flatMap((f) => [f.name, ...f.aliases]);
    for (const name of ['startMs', 'endMs', 'vlan', 'source', 'endReason', 'exporter', 'observationDomain']) assert.ok(!featureNames.includes(name), `${name} is not a feature`);
    const refused = cli(['detect', '--model', recordsModel, '--netflow', 'udp://127.0.0.1:0']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^flowsentry: .*features that live flows do not carry \(tcpFlags;.*`collect --features netflow` \(flow exports\)/);
  });
});

/**
 * nfcapd (in `dir`) receiving `datagrams`, then nfdump's flows of what it wrote; undefined when nfcapd or nfdump is
 * not installed.
 */
async function nfdumpFlows(dir: string, datagrams: readonly Buffer[]): Promise<Flow[] | undefined> {
  const installed = (command: string): boolean => spawnSync(command, ['-V'], { stdio: 'ignore' }).error === undefined;
  if (!installed('nfcapd') || !installed('nfdump')) return undefined;
  mkdirSync(dir);
  // below Linux's ephemeral ports (32768-60999), which the test's other sockets get
  const port = 20_000 + Math.floor(Math.random() * 12_000);
  const nfcapd = spawn('nfcapd', ['-p', String(port), '-b', '127.0.0.1', '-w', dir, '-t', '3600'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => nfcapd.on('exit', () => resolve()));
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (let i = 0; i < 100 && !readFileSync('/proc/net/udp', 'latin1').includes(hex); i++) await sleep(50);
  await sendDatagrams(port, datagrams);
  await drained(port);
  await sleep(300);
  nfcapd.kill('SIGTERM');
  await exited;
  assert.ok(readdirSync(dir).some((f) => f.startsWith('nfcapd.')), 'nfcapd wrote its file');
  const lines = spawnSync('nfdump', ['-R', dir, '-o', 'csv'], { encoding: 'utf8' }).stdout.split('\n');
  const names = lines[0]!.split(',');
  const at = (name: string): number => names.indexOf(name);
  return sortFlows(
    lines
      .slice(1)
      .filter((line) => /^\d{4}-\d\d-\d\d /.test(line))
      .map((line) => line.split(','))
      .map((f) => ({ key: ['sa', 'da', 'sp', 'dp', 'ipkt', 'ibyt'].map((name) => f[at(name)]).join(' '), ms: Math.round(Number(f[at('td')]) * 1000) })),
  );
}

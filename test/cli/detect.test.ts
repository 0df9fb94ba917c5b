// `flowsentry detect` and `serve` as a person runs them: the --json summary against the capture's own packet count
// (capinfos) and the alert file; an NSL-KDD model refused for live flows, a CIC model for NetFlow input; usage
// errors; the API's token and body checks on a running server; SIGTERM with a live stream open and a client stalled
// mid-request; SIGHUP as SIGTERM; SIGTERM in the middle of a replay drains everything accepted into the file sink and
// the store (exit 0), and a restart on the same store keeps the token and the alerts; a dead webhook does not stall
// detection.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cli } from '../helpers/cli.js';
import { SESSION_HIJACKING, SYNSCAN, TRAINING_CSVS, latestById, sharedFiles, startServe, trainPortscanModel, waitFor, writeTo } from '../e2e/service-harness.js';

const AMP_SYN = 'pcaps/ddos/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng';
const captures = sharedFiles(SYNSCAN, SESSION_HIJACKING, AMP_SYN);
const skip = !captures || !sharedFiles(...TRAINING_CSVS) ? 'shared datasets missing' : false;

interface Summary {
  model: { name: string; file: string };
  source: string;
  seconds: number;
  engine: { flowsScored: number; earlyScored: number; alertsRaised: number; alertsAggregated: number; alertUpdates: number; dropped: number; queued: number; scoringErrors: number };
  sinks: Record<string, { written: number; dropped: number; failed: number }>;
  input: { capture?: { packets: number; format: string }; meter?: { flows: number; liveFlows: number } };
}

/** A free TCP port on 127.0.0.1 with nothing listening on it (bound, read, closed). */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('detect and serve from the command line', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-detect-cli-'));
  const model = join(dir, 'cic-rf.fsm');
  const [synscan, hijack, ampSyn] = captures ?? [];
  const stops: (() => Promise<unknown>)[] = [];

  before(() => trainPortscanModel(model));
  after(async () => {
    for (const stop of stops) await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('detect --json: summary counts agree with the capture and the alert file', () => {
    const out = join(dir, 'synscan.jsonl');
    const r = cli(['detect', '--model', model, '--pcap', synscan, '--sink', `file:${out}`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Summary;
    assert.deepEqual(Object.keys(s).sort(), ['engine', 'hook', 'input', 'latency', 'model', 'seconds', 'sinks', 'source']);
    assert.equal(s.model.name, 'rf');
    assert.equal(s.source, `pcap:${synscan}`);
    assert.equal(s.input.capture?.packets, 2011, 'capinfos counts 2011 packets in synscan.pcapng');
    assert.equal(s.input.capture?.format, 'pcapng');
    // every flow the meter emitted was scored; nothing dropped or failed
    assert.equal(s.engine.flowsScored - s.engine.earlyScored, s.input.meter?.flows);
    assert.ok(s.engine.flowsScored > 1900, `~2000 probed ports, ${s.engine.flowsScored} flows`);
    assert.deepEqual([s.engine.dropped, s.engine.queued, s.engine.scoringErrors], [0, 0, 0]);
    // the file holds one line per alert update: new aggregates plus growths
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines.length, s.engine.alertUpdates);
    assert.equal(s.sinks.file.written, lines.length);
    const alerts = latestById(readFileSync(out, 'utf8'));
    assert.equal(alerts.size, s.engine.alertsRaised);
    const scanner = [...alerts.values()].find((a) => a.flow.srcAddr === '172.16.0.8');
    assert.ok(scanner && scanner.count > 1900, 'the scan is one aggregated alert from the scanner');
  });

  it('--receiver takes auto, recvmmsg or dgram; anything else is one usage line naming the option, as for collect', () => {
    const r = cli(['detect', '--model', model, '--netflow', 'udp://127.0.0.1:0', '--receiver', 'bogus']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, "flowsentry: --receiver expects auto, recvmmsg or dgram, got 'bogus'\n");
  });

  it('refuses a CIC-feature model for --netflow at start with one line (it started and logged a scoring error per batch)', () => {
    for (const command of ['detect', 'serve']) {
      const extra = command === 'serve' ? ['--http', '127.0.0.1:0', '--store', join(dir, 'netflow-refused.duckdb')] : [];
      const r = cli([command, '--model', model, '--netflow', 'udp://127.0.0.1:0', ...extra]);
      assert.equal(r.code, 1, `${command}: ${r.stderr}`);
      assert.equal(r.stderr, `flowsentry: ${model}: this model needs CICFlowMeter features, which only packet sources (--pcap, --interface, --stdin) provide; for --netflow, train on the rows of \`collect --features netflow\` (flow exports) or \`extract --features netflow\` (captures)\n`);
      assert.equal(r.stdout, '');
    }
  });

  it('refuses a model trained on NSL-KDD for live flows, naming missing features (exit 1)', () => {
    const nsl = join(dir, 'nsl.fsm');
    const t = cli(['train', resolve('samples/nsl-kdd/KDDTrain+_sample.txt'), '--models', 'dt', '--cv', '2', '--out', nsl, '--json']);
    assert.equal(t.code, 0, t.stderr);
    const r = cli(['detect', '--model', nsl, '--pcap', synscan, '--json']);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^flowsentry: .*nsl\.fsm: .*features that live flows do not carry \(duration, protocol_type, service, flag, src_bytes/);
    assert.equal(r.stdout, '');
  });

  it('accepts a model trained on `extract --features netflow` rows and scores capture flows with it', () => {
    // attack: the SYN scan's flows; normal: a benign web capture's. Identifier columns are left out of the CSV.
    const benign = sharedFiles('pcaps/practical-packet-analysis/http_espn.pcapng', 'pcaps/practical-packet-analysis/dns_lab.pcapng');
    if (!benign) return;
    const rows: string[] = [];
    let header = '';
    for (const [file, label] of [[synscan, 'attack'], ...benign.map((b) => [b, 'normal'])]) {
      const out = join(dir, 'nf.csv');
      assert.equal(cli(['extract', file, '--features', 'netflow', '--out', out]).code, 0);
      const [head, ...lines] = readFileSync(out, 'utf8').trim().split('\n');
      const keep = head.split(',').map((n, i) => (['src_addr', 'dst_addr', 'start', 'end_reason', 'vlan'].includes(n) ? -1 : i)).filter((i) => i >= 0);
      header = [...keep.map((i) => head.split(',')[i]), 'label'].join(',');
      for (let copy = 0; copy < (label === 'normal' ? 20 : 1); copy++) for (const l of lines) rows.push([...keep.map((i) => l.split(',')[i]), label].join(','));
    }
    const csv = join(dir, 'netflow-train.csv');
    writeFileSync(csv, `${header}\n${rows.join('\n')}\n`);
    const nfModel = join(dir, 'netflow.fsm');
    const t = cli(['train', csv, '--label', 'label', '--models', 'dt', '--cv', '2', '--out', nfModel, '--json']);
    assert.equal(t.code, 0, t.stderr);
    const r = cli(['detect', '--model', nfModel, '--pcap', synscan, '--sink', `file:${join(dir, 'nf.jsonl')}`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Summary;
    assert.equal(s.engine.flowsScored - s.engine.earlyScored, s.input.meter?.flows);
    assert.ok(s.engine.alertsRaised >= 1, 'the scanner is flagged by the NetFlow-feature model');
  });

  it('a model trained on the whole `extract --features netflow` CSV scores live flows; one more column is refused by name', () => {
    const benign = sharedFiles('pcaps/practical-packet-analysis/http_espn.pcapng');
    if (!benign) return;
    const parts = [[synscan, 'attack'], [benign[0], 'normal']].map(([file, label]) => {
      const out = join(dir, `whole-${label}.csv`);
      assert.equal(cli(['extract', file, '--features', 'netflow', '--out', out]).code, 0);
      const [head, ...lines] = readFileSync(out, 'utf8').trim().split('\n');
      return { head, lines: lines.map((l) => `${l},${label}`) };
    });
    // the addresses, start, VLAN and end reason that extract writes first are not features: detect takes the model
    const csv = join(dir, 'whole-netflow.csv');
    writeFileSync(csv, `${parts[0].head},label\n${parts.flatMap((p) => p.lines).join('\n')}\n`);
    const wholeModel = join(dir, 'whole-netflow.fsm');
    assert.equal(cli(['train', csv, '--label', 'label', '--models', 'dt', '--cv', '2', '--out', wholeModel, '--json']).code, 0);
    const ok = cli(['detect', '--model', wholeModel, '--pcap', synscan, '--sink', `file:${join(dir, 'whole.jsonl')}`, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const s = JSON.parse(ok.stdout) as Summary;
    assert.equal(s.engine.flowsScored - s.engine.earlyScored, s.input.meter?.flows);

    // a feature live flows do not carry is named, with the NetFlow columns to train on instead
    const extra = join(dir, 'extra-netflow.csv');
    const rows = parts.flatMap((p) => p.lines).map((l, i) => `${l.slice(0, l.lastIndexOf(','))},${i % 7},${l.slice(l.lastIndexOf(',') + 1)}`);
    writeFileSync(extra, `${parts[0].head},tcp_window,label\n${rows.join('\n')}\n`);
    const extraModel = join(dir, 'extra-netflow.fsm');
    assert.equal(cli(['train', extra, '--label', 'label', '--models', 'dt', '--cv', '2', '--out', extraModel, '--json']).code, 0);
    const r = cli(['detect', '--model', extraModel, '--pcap', synscan, '--json']);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /features that live flows do not carry \(tcp_window; the others are NetFlow features: train on those columns only \(protocol, src_port, dst_port, duration_s/);
  });

  it('usage errors: no source, two sources, --json with the stdout sink (exit 2 each)', () => {
    const none = cli(['detect', '--model', model]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /detect needs a source/);
    const two = cli(['detect', '--model', model, '--pcap', synscan, '--stdin']);
    assert.equal(two.code, 2);
    assert.equal(two.stderr, 'flowsentry: choose one traffic source (pcap, interface, netflow or stdin), not --pcap and --stdin\n');
    const json = cli(['detect', '--model', model, '--pcap', synscan, '--sink', 'stdout', '--json']);
    assert.equal(json.code, 2);
    for (const r of [none, two, json]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('serve: the API needs the token; malformed and oversized bodies get 4xx and the server lives on', async () => {
    const s = await startServe(['--model', model, '--stdin', '--store', join(dir, 'api.duckdb')]);
    stops.push(() => s.stop());
    s.child.stdin.end(readFileSync(synscan));
    const { alerts } = await waitFor('an alert in the store', async () => {
      const a = (await (await s.get('/api/alerts')).json()) as { alerts: { id: string }[] };
      return a.alerts.length > 0 ? a : undefined;
    });
    const id = alerts[0].id;
    assert.equal((await s.get('/health', null)).status, 200);
    assert.equal((await s.get('/metrics', null)).status, 200);
    for (const path of ['/api/alerts', `/api/alerts/${id}`, '/api/model', '/api/traffic', '/api/events']) {
      assert.equal((await s.get(path, null)).status, 401, path);
      assert.equal((await s.get(path, 'wrong-token-0123456789')).status, 401, path);
    }
    const post = (body: string, token: string | null = s.token, type = 'application/json') =>
      fetch(`${s.base}/api/alerts/${id}/feedback`, { method: 'POST', headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body });
    assert.equal((await post('{"verdict":"confirmed"}', null)).status, 401);
    assert.equal((await post('{"verdict":')).status, 400, 'truncated JSON');
    assert.equal((await post('{"verdict":"maybe"}')).status, 400, 'unknown verdict');
    assert.equal((await post('{"verdict":"confirmed","extra":1}')).status, 400, 'unknown key');
    assert.equal((await post(JSON.stringify({ verdict: 'confirmed', note: 'x'.repeat(1 << 20) }))).status, 413, '1 MiB body');
    assert.equal((await post('verdict=confirmed', s.token, 'application/x-www-form-urlencoded')).status, 415);
    assert.equal((await s.get('/api/alerts?limit=-1')).status, 400);
    assert.equal((await s.get('/api/alerts?bogus=1')).status, 400);
    assert.equal((await s.get('/api/alerts/does-not-exist')).status, 404);
    // still serving, and a valid request works
    assert.equal((await post('{"verdict":"confirmed"}')).status, 200);
    const stored = (await (await s.get(`/api/alerts/${id}`)).json()) as { feedback: string };
    assert.equal(stored.feedback, 'confirmed');
    assert.deepEqual(await s.stop(), { code: 0, signal: null }, s.stderr());
  });

  it('serve: SIGTERM ends an open live stream and cuts a client stalled mid-request after a grace, then exits 0', async () => {
    const s = await startServe(['--model', model, '--stdin', '--store', join(dir, 'shutdown.duckdb')]);
    stops.push(() => s.stop());
    const live = await fetch(`${s.base}/api/events?token=${s.token}`);
    const stream = live.body!.getReader();
    assert.match(new TextDecoder().decode((await stream.read()).value), /: connected/);
    // a request whose body never comes: the server's parser waits mid-message
    const stalled = connect(Number(new URL(s.base).port), '127.0.0.1');
    stalled.on('error', () => undefined);
    await new Promise<void>((r) => stalled.once('connect', r));
    stalled.write(`POST /api/alerts/x/feedback HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${s.token}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"verdict":`);
    const cut = new Promise<void>((r) => stalled.once('close', () => r()));
    const exit = await s.stop(10_000);
    assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
    assert.equal((await stream.read()).done, true, 'the live stream ended');
    await cut;
  });

  it('serve: SIGHUP (the terminal closing) drains and flushes as SIGTERM does, exit 0', async () => {
    const out = join(dir, 'hup.jsonl');
    const s = await startServe(['--model', model, '--stdin', '--store', join(dir, 'hup.duckdb'), '--sink', `file:${out}`, '--json']);
    stops.push(() => s.stop());
    await writeTo(s.child, Buffer.concat([readFileSync(synscan), readFileSync(hijack), readFileSync(ampSyn)]));
    await waitFor('an alert in the file sink', () => existsSync(out) && readFileSync(out, 'utf8').length > 0, 20_000, 20);
    s.child.kill('SIGHUP');
    assert.deepEqual(await s.exited, { code: 0, signal: null }, s.stderr());
    const summary = JSON.parse(s.stdout()) as Summary;
    const lines = readFileSync(out, 'utf8').trim().split('\n').length;
    assert.equal(lines, summary.engine.alertUpdates, 'every alert update reached the file');
    assert.equal(summary.sinks.file.written, lines);
    assert.deepEqual([summary.engine.dropped, summary.engine.queued], [0, 0]);
  });

  it('SIGTERM mid-replay drains every accepted alert into the file sink and the store; a restart resumes the store', async () => {
    const store = join(dir, 'drain.duckdb');
    const out = join(dir, 'drain.jsonl');
    const s = await startServe(['--model', model, '--stdin', '--store', store, '--sink', `file:${out}`, '--json']);
    stops.push(() => s.stop());
    // three captures as consecutive pcapng sections; stdin stays open, as from a live tcpdump
    await writeTo(s.child, Buffer.concat([readFileSync(synscan), readFileSync(hijack), readFileSync(ampSyn)]));
    await waitFor('the first alert in the file sink', () => existsSync(out) && readFileSync(out, 'utf8').length > 0, 20_000, 20);
    const linesAtSigterm = readFileSync(out, 'utf8').trim().split('\n').length;
    const exit = await s.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
    const summary = JSON.parse(s.stdout()) as Summary;
    // every flow the meter emitted (including those flushed at SIGTERM) got its final verdict, none dropped
    assert.equal(summary.engine.flowsScored - summary.engine.earlyScored, summary.input.meter?.flows);
    assert.deepEqual([summary.engine.dropped, summary.engine.queued, summary.engine.scoringErrors], [0, 0, 0]);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines.length, summary.engine.alertUpdates, 'every alert update reached the file');
    assert.equal(summary.sinks.file.written, lines.length);
    assert.ok(lines.length > linesAtSigterm, `alerts were still in flight at SIGTERM (${linesAtSigterm} then ${lines.length} lines)`);
    const inFile = latestById(readFileSync(out, 'utf8'));
    assert.equal(inFile.size, summary.engine.alertsRaised);
    assert.ok(inFile.size > 1);

    // Restart on the same store: same token (kept beside the store), and every alert with its final count.
    const again = await startServe(['--model', model, '--stdin', '--store', store]);
    stops.push(() => again.stop());
    again.child.stdin.end();
    assert.equal(again.token, s.token);
    const page = (await (await again.get('/api/alerts?limit=10000')).json()) as { total: number; alerts: { id: string; count: number }[] };
    assert.equal(page.total, inFile.size);
    assert.deepEqual(new Map(page.alerts.map((a) => [a.id, a.count])), new Map([...inFile.values()].map((a) => [a.id, a.count])));
    assert.deepEqual(await again.stop(), { code: 0, signal: null });
  });

  it('a webhook receiver that is down does not stall detection', async () => {
    const port = await deadPort();
    const plain = cli(['detect', '--model', model, '--pcap', ampSyn, '--sink', `file:${join(dir, 'plain.jsonl')}`, '--json']);
    assert.equal(plain.code, 0, plain.stderr);
    const t0 = performance.now();
    const hooked = cli(['detect', '--model', model, '--pcap', ampSyn, '--sink', `file:${join(dir, 'hooked.jsonl')}`, '--sink', `webhook:http://127.0.0.1:${port}/alerts`, '--json']);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(hooked.code, 0, hooked.stderr);
    const a = JSON.parse(plain.stdout) as Summary;
    const b = JSON.parse(hooked.stdout) as Summary;
    assert.equal(b.engine.flowsScored, a.engine.flowsScored);
    assert.equal(b.engine.alertsRaised, a.engine.alertsRaised);
    // every alert update of the run reached the file sink (how many updates a run makes depends on batch timing)
    assert.equal(b.sinks.file.written, b.engine.alertUpdates, 'the file sink got every alert');
    const webhook = b.sinks.webhook;
    assert.equal(webhook.written, 0);
    assert.equal(webhook.failed + webhook.dropped, b.sinks.file.written, 'every webhook delivery is counted as failed or dropped');
    assert.ok(seconds < a.seconds + 15, `detect with a dead webhook took ${seconds.toFixed(1)} s (without: ${a.seconds.toFixed(1)} s)`);
  });
});

// `detect` and `serve` as a user first meets them (session 7 audit): with alerts on stdout (the default sink) stdout
// is JSON lines only, the summary goes to stderr; the config file's sinks are used (detect's stdout default overrode
// them); a config file that is not JSON is named with line and column; an HTTP address that is taken, unknown or out of range is one line
// naming it and where it was given (option, config file or variable; not "internal error"), and the store it opened is
// released (an --http out of range is a usage error); a NetFlow port past 65535 is refused (the
// socket took it modulo 65536: 99999 listened on 34463); serve whose source fails says so in /api/health.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cli } from '../helpers/cli.js';
import { SYNSCAN, TRAINING_CSVS, sharedFiles, startServe, trainPortscanModel, waitFor } from '../e2e/service-harness.js';

const captures = sharedFiles(SYNSCAN);
const skip = !captures || !sharedFiles(...TRAINING_CSVS) ? 'shared datasets missing' : false;

describe('detect and serve: what a user meets first', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-detect-audit-'));
  const model = join(dir, 'cic-rf.fsm');
  const [synscan] = captures ?? [];

  before(() => trainPortscanModel(model));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('detect with alerts on stdout: every stdout line is an alert, the summary is on stderr', () => {
    const r = cli(['detect', '--model', model, '--pcap', synscan]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length >= 1);
    for (const line of lines) assert.equal(typeof (JSON.parse(line) as { id: string }).id, 'string', line);
    assert.match(r.stderr, /: 1994 flows scored \(0 early verdicts\) in [\d.]+ s\nalerts: \d+ raised, /);
    assert.match(r.stderr, /\nsink stdout: written \d+, dropped 0, failed 0\n$/);
  });

  it('detect with alerts in a file: the summary stays on stdout', () => {
    const r = cli(['detect', '--model', model, '--pcap', synscan, '--sink', `file:${join(dir, 'alerts.jsonl')}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pcap:.*: 1994 flows scored/);
    assert.equal(r.stderr, '');
  });

  it('detect writes alerts to the config file\'s sinks (stdout only when no sink is named anywhere)', () => {
    const config = join(dir, 'flowsentry.json');
    const alerts = join(dir, 'from-config.jsonl');
    writeFileSync(config, JSON.stringify({ model, sinks: [`file:${alerts}`] }));
    const r = cli(['detect', '--config', config, '--pcap', synscan]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pcap:.*: 1994 flows scored[^]*\nsink file: written (\d+), dropped 0, failed 0\n$/);
    const written = Number(/sink file: written (\d+)/.exec(r.stdout)![1]);
    assert.ok(written > 0);
    assert.equal(readFileSync(alerts, 'utf8').trim().split('\n').length, written);
    writeFileSync(config, JSON.stringify({ model, sinks: ['stdout'] }));
    const json = cli(['detect', '--config', config, '--pcap', synscan, '--json']);
    assert.equal(json.code, 2);
    assert.equal(json.stderr, 'flowsentry: --json prints the summary on stdout: send alerts to another sink (file:, webhook:, syslog:)\n');
  });

  it('a config file that is not JSON: the line names its file, line and column', () => {
    const config = join(dir, 'broken.json');
    writeFileSync(config, '{\n  "model": "m.fsm",\n  "batchSize": 10,\n}\n');
    const r = cli(['detect', '--config', config, '--pcap', synscan]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `flowsentry: ${config}, line 4, column 1: config is not JSON: Expected double-quoted property name\n`);
  });

  it('detect --stdin given no capture: the line names <stdin>, as its damage line does', () => {
    for (const input of ['', 'GET / HTTP/1.1\r\n\r\n']) {
      const r = cli(['detect', '--model', model, '--stdin', '--sink', `file:${join(dir, 'stdin.jsonl')}`], input);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^flowsentry: <stdin>: (empty file|not a packet capture)/);
    }
  });

  it('serve whose source fails to start keeps serving and says why in /api/health', { skip: spawnSync('tcpdump', ['--version']).error ? 'no tcpdump' : false }, async () => {
    const served = await startServe(['--model', model, '--interface', 'no-such-if0', '--store', join(dir, 'no-source.duckdb')]);
    try {
      const health = (await waitFor('the source error', async () => {
        const h = (await (await served.get('/api/health')).json()) as { status: string; sourceError?: string };
        return h.sourceError === undefined ? undefined : h;
      })) as { status: string; sourceError: string };
      assert.equal(health.status, 'ok');
      assert.match(health.sourceError, /^tcpdump on no-such-if0 failed: .*no-such-if0/);
      assert.match(served.stderr(), /\nsource stopped: tcpdump on no-such-if0 failed: /);
    } finally {
      assert.equal((await served.stop()).code, 0);
    }
  });

  it('serve on an HTTP port that is taken: one line naming the address, exit 1, and the store is free again', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    const store = join(dir, 'taken.duckdb');
    try {
      const r = cli(['serve', '--model', model, '--pcap', synscan, '--store', store, '--http', `127.0.0.1:${port}`]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `flowsentry: cannot listen on http://127.0.0.1:${port}: the port is in use (EADDRINUSE); stop the program that holds it or choose another port in --http\n`);
      // the address from the config file or the environment: the line names that, not --http
      const inUse = (place: string): string => `flowsentry: cannot listen on http://127.0.0.1:${port}: the port is in use (EADDRINUSE); stop the program that holds it or choose another port in ${place}\n`;
      const config = join(dir, 'taken.json');
      writeFileSync(config, JSON.stringify({ model, http: `127.0.0.1:${port}`, store }));
      const fromFile = cli(['serve', '--config', config, '--pcap', synscan]);
      assert.equal(fromFile.code, 1);
      assert.equal(fromFile.stderr, inUse("the config file's http"));
      const fromEnv = spawnSync(process.execPath, [CLI, 'serve', '--model', model, '--pcap', synscan, '--store', store], { encoding: 'utf8', env: { ...process.env, FLOWSENTRY_HTTP: `127.0.0.1:${port}` } });
      assert.equal(fromEnv.status, 1);
      assert.equal(fromEnv.stderr, inUse('FLOWSENTRY_HTTP'));
    } finally {
      taken.close();
    }
    // the store was closed, not left locked: detect opens it at once
    const again = cli(['detect', '--model', model, '--pcap', synscan, '--store', store, '--sink', `file:${join(dir, 'again.jsonl')}`, '--json']);
    assert.equal(again.code, 0, again.stderr);
  });

  it('serve on an address that is not this machine\'s, or a port past 65535: one line', () => {
    const store = join(dir, 'address.duckdb');
    const foreign = cli(['serve', '--model', model, '--pcap', synscan, '--store', store, '--http', '192.0.2.1:8470']);
    assert.equal(foreign.code, 1);
    assert.equal(foreign.stderr, 'flowsentry: cannot listen on http://192.0.2.1:8470: 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL); give one of its addresses in --http, or 0.0.0.0 for all\n');
    const range = cli(['serve', '--model', model, '--pcap', synscan, '--store', store, '--http', '127.0.0.1:99999']);
    assert.equal(range.code, 2);
    assert.equal(range.stderr, 'flowsentry: invalid --http: the port must be at most 65535\n');
  });

  it('detect --netflow with a port past 65535: one line, not another port', () => {
    // a NetFlow-feature model: the capture's flows as extract gives them, two-packet flows labelled attack
    const flows = join(dir, 'flows.csv');
    assert.equal(cli(['extract', synscan, '--features', 'netflow', '--out', flows]).code, 0);
    const [header, ...rows] = readFileSync(flows, 'utf8').trim().split('\n');
    const packets = header.split(',').indexOf('packets');
    writeFileSync(flows, [`${header},label`, ...rows.map((row) => `${row},${row.split(',')[packets] === '2' ? 'attack' : 'normal'}`)].join('\n'));
    const netflowModel = join(dir, 'nf.fsm');
    const t = cli(['train', flows, '--label', 'label', '--models', 'dt', '--cv', '2', '--out', netflowModel, '--json']);
    assert.equal(t.code, 0, t.stderr);
    const r = cli(['detect', '--model', netflowModel, '--netflow', 'udp://127.0.0.1:99999']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'flowsentry: invalid --netflow: the port must be at most 65535\n');
    // from the environment: blamed on the variable, a user error
    const fromEnv = spawnSync(process.execPath, [CLI, 'detect', '--model', netflowModel], { encoding: 'utf8', env: { ...process.env, FLOWSENTRY_NETFLOW: 'udp://127.0.0.1:99999' } });
    assert.equal(fromEnv.status, 1);
    assert.equal(fromEnv.stderr, 'flowsentry: invalid FLOWSENTRY_NETFLOW: the port must be at most 65535\n');
  });
});

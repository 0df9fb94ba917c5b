// `--netflow udp://HOST:0` asks the system for a free port: the log line named the port bound, while /health's
// `source` and the final summary said `udp://127.0.0.1:0`. Every place now names the bound port. Truth: the port the
// "collecting NetFlow/IPFIX on udp port N" line reports, and a datagram sent to it arriving (the socket is there).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cli, exitWithin } from '../helpers/cli.js';
import { startServe, waitFor } from '../e2e/service-harness.js';
import { boundListen } from '../../src/detect/sources.js';

const CAPTURE = 'samples/captures/synscan.pcapng';
const portLine = (stderr: string): number | undefined => {
  const m = /collecting NetFlow\/IPFIX on udp port (\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
};

describe('a NetFlow source on port 0 names the bound port', () => {
  let dir: string;
  let model: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-bound-port-'));
    const flows = join(dir, 'flows.csv');
    assert.equal(cli(['extract', CAPTURE, '--features', 'netflow', '--out', flows]).code, 0);
    model = join(dir, 'nf.fsm');
    const trained = cli(['train', flows, '--task', 'anomaly', '--models', 'iforest', '--out', model]);
    assert.equal(trained.code, 0, trained.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('boundListen puts the port in the address, IPv6 too, and leaves it before the socket is bound', () => {
    assert.equal(boundListen('udp://127.0.0.1:0', 40123), 'udp://127.0.0.1:40123');
    assert.equal(boundListen('udp://[::1]:0', 40123), 'udp://[::1]:40123');
    assert.equal(boundListen('udp://0.0.0.0:0', undefined), 'udp://0.0.0.0:0');
  });

  it('serve: /health says the bound port, and a datagram sent there is received', async () => {
    const served = await startServe(['--model', model, '--netflow', 'udp://127.0.0.1:0', '--store', join(dir, 'serve.duckdb')]);
    try {
      const port = await waitFor('the port line', async () => portLine(served.stderr()));
      assert.ok(port > 0);
      const health = (await (await fetch(`${served.base}/health`)).json()) as { source: string };
      assert.equal(health.source, `udp://127.0.0.1:${port}`);
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => socket.send(Buffer.from([0, 9, 0, 0]), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      socket.close();
      // a 4-byte datagram is too short for any export header: counted as skipped by the collector listening there
      await waitFor('the datagram counted', async () => {
        const metrics = await (await fetch(`${served.base}/metrics`)).text();
        return /^flowsentry_decoder_errors_total\{reason="[^"]+"\} [1-9]/m.test(metrics) ? true : undefined;
      });
    } finally {
      assert.equal((await served.stop()).code, 0);
    }
  });

  it('detect: the summary (text and --json) says the bound port', async () => {
    for (const json of [false, true]) {
      const child = spawn(process.execPath, [CLI, 'detect', '--model', model, '--netflow', 'udp://127.0.0.1:0', ...(json ? ['--json'] : [])], { env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const port = await waitFor('the port line', async () => portLine(stderr));
      child.kill('SIGINT');
      const exit = await exitWithin(child, 30_000);
      assert.equal(exit?.code, 0, stderr);
      if (json) assert.equal((JSON.parse(stdout) as { source: string }).source, `udp://127.0.0.1:${port}`);
      else assert.match(stderr + stdout, new RegExp(`^udp://127\\.0\\.0\\.1:${port}: 0 flows scored`, 'm'));
      assert.doesNotMatch(stderr + stdout, /udp:\/\/127\.0\.0\.1:0\b/);
    }
  });
});

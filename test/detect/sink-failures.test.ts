// The network sinks when their receiver is not there (session 7 audit): a webhook or syslog target that cannot be
// reached is counted and said once per run of failures, and again when delivery works, as the file and stdout sinks
// say theirs (it was counted only, so a dead webhook went unnoticed in the service's log); a syslog port out of range
// is refused when the sink is made (it threw at the first alert, in the middle of scoring: "internal error"). The
// response hook likewise: a blocking command that fails or times out was counted without a word.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { UsageError } from '../../src/errors.js';
import { createSink } from '../../src/detect/sinks/index.js';
import { WebhookSink } from '../../src/detect/sinks/webhook.js';
import { ResponseHook } from '../../src/detect/response-hook.js';
import { makeAlert } from './alert-fixtures.js';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('network sinks that cannot deliver', () => {
  it('a webhook whose receiver is down, then up: one line each way, with the origin only, and every alert counted', async () => {
    let up = false;
    let received = 0;
    const server = createServer((req, res) => {
      req.resume();
      received++;
      res.writeHead(up ? 204 : 503).end();
    });
    const port = await listen(server);
    const lines: string[] = [];
    const sink = new WebhookSink({ url: `http://127.0.0.1:${port}/hook?token=secret`, retries: 0, log: (line) => lines.push(line) });
    try {
      for (let i = 0; i < 3; i++) sink.write(makeAlert({ id: `a${i}` }));
      await sink.close();
      up = true;
      for (let i = 3; i < 5; i++) sink.write(makeAlert({ id: `a${i}` }));
      await sink.close();
    } finally {
      server.close();
    }
    assert.equal(received, 5);
    assert.deepEqual(sink.stats(), { written: 2, dropped: 0, failed: 3, queued: 0 });
    assert.deepEqual(lines, [
      `sink webhook http://127.0.0.1:${port}: cannot deliver: HTTP 503 Service Unavailable; failed alerts are counted (sink stats), detection goes on`,
      `sink webhook http://127.0.0.1:${port}: delivering again after 3 failed alerts`,
    ]);
  });

  it('a webhook receiver that accepts and never answers holds shutdown for at most its timeout, not one per queued alert', async () => {
    const sockets = new Set<Socket>();
    const silent = createNetServer((socket) => {
      sockets.add(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const lines: string[] = [];
    // each alert would take 4 attempts of 300 ms (3 retries): 40 alerts, 48 s
    const sink = new WebhookSink({ url: `http://127.0.0.1:${port}/`, timeoutMs: 300, backoffMs: 1, log: (line) => lines.push(line) });
    try {
      for (let i = 0; i < 40; i++) sink.write(makeAlert({ id: `a${i}` }));
      await sink.close();
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
    assert.deepEqual(sink.stats(), { written: 0, dropped: 0, failed: 40, queued: 0 });
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, new RegExp(`^sink webhook http://127\\.0\\.0\\.1:${port}: cannot deliver: .*; failed alerts are counted`));
    assert.match(lines[1]!, new RegExp(`^sink webhook http://127\\.0\\.0\\.1:${port}: \\d+ queued alerts not delivered 300 ms after shutdown began; counted as failed$`));
  });

  it('a webhook nobody listens on: the network error is the reason', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve)); // a port that was just free
    const lines: string[] = [];
    const sink = new WebhookSink({ url: `http://127.0.0.1:${port}/`, retries: 1, backoffMs: 1, log: (line) => lines.push(line) });
    sink.write(makeAlert());
    sink.write(makeAlert({ id: 'a2' }));
    await sink.close();
    assert.equal(sink.stats().failed, 2);
    assert.deepEqual(lines, [`sink webhook http://127.0.0.1:${port}: cannot deliver: ECONNREFUSED; failed alerts are counted (sink stats), detection goes on`]);
  });

  it('syslog to a host that does not resolve: one line, every alert counted', async () => {
    const lines: string[] = [];
    const sink = createSink('syslog:no-such-host.invalid:5514', (line) => lines.push(line));
    for (let i = 0; i < 3; i++) sink.write(makeAlert({ id: `a${i}` }), true);
    await sink.close();
    assert.equal(sink.stats().failed, 3);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^sink syslog no-such-host\.invalid:5514: cannot send: (ENOTFOUND|EAI_AGAIN); failed alerts are counted \(sink stats\), detection goes on$/);
  });

  it('a syslog port out of range is refused when the sink is made', () => {
    for (const spec of ['syslog:127.0.0.1:99999', 'syslog:127.0.0.1:0']) {
      assert.throws(() => createSink(spec), (err: Error) => err instanceof UsageError && err.message === `--sink ${spec}: syslog: the port must be 1-65535`);
    }
  });

  it('a response hook whose command fails, times out, then runs: one line for the run of failures, one when it runs again', async () => {
    const lines: string[] = [];
    const hook = (template: string, timeoutMs = 5000): ResponseHook => new ResponseHook({ template, minScore: 0, execute: true, timeoutMs, log: (line) => lines.push(line) });
    const missing = hook('/nonexistent/block {src}');
    for (let i = 0; i < 3; i++) missing.handle(makeAlert({ id: `a${i}` }));
    await missing.close();
    assert.equal(missing.stats.failed, 3);
    const refused = hook("sh -c 'echo no permission >&2; exit 4' {src}");
    refused.handle(makeAlert());
    await refused.close();
    const slow = hook('sleep 5', 50);
    slow.handle(makeAlert());
    await slow.close();
    assert.equal(slow.stats.timedOut, 1);
    assert.deepEqual(lines, [
      'on-alert: ["/nonexistent/block","10.0.0.1"] failed: ENOENT; failures are counted (hook stats), detection goes on',
      'on-alert: ["sh","-c","echo no permission >&2; exit 4","10.0.0.1"] failed: exit code 4 (no permission); failures are counted (hook stats), detection goes on',
      'on-alert: ["sleep","5"] failed: killed after 50 ms; failures are counted (hook stats), detection goes on',
    ]);
    lines.length = 0;
    const flaky = hook('sh -c {src}');
    flaky.handle(makeAlert({ src: 'exit 1' }));
    await flaky.close();
    flaky.handle(makeAlert({ src: 'true' }));
    await flaky.close();
    assert.deepEqual(lines, [
      'on-alert: ["sh","-c","exit 1"] failed: exit code 1; failures are counted (hook stats), detection goes on',
      'on-alert: sh runs again after 1 failed and 0 timed-out commands',
    ]);
  });
});

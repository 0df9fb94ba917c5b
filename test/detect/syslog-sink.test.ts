// The syslog sink resolves its host name once, not per alert (dgram looked it up for every datagram), again after a
// send fails, and not again for a while after a lookup fails; every alert is still delivered or counted as failed.
// Real UDP to 127.0.0.1; node:dns's lookup is wrapped to count calls (and to answer for the failure cases).

import { describe, it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { SyslogSink } from '../../src/detect/sinks/syslog.js';
import { makeAlert } from './alert-fixtures.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/** A UDP receiver on 127.0.0.1 and the messages it got. */
async function receiver(): Promise<{ port: number; messages: string[]; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  const messages: string[] = [];
  socket.on('message', (m) => messages.push(m.toString()));
  const port = await new Promise<number>((r) => socket.bind(0, '127.0.0.1', () => r(socket.address().port)));
  return { port, messages, close: () => socket.close() };
}

/** Replaces dns.lookup by `answer(call number)` and counts the calls made for `host`. */
function lookups(host: string, answer: (n: number) => { address: string } | { code: string }): { count: () => number } {
  let n = 0;
  const original = dns.lookup;
  mock.method(dns, 'lookup', (name: string, options: unknown, callback: LookupCallback) => {
    if (name !== host) return (original as (...a: unknown[]) => void)(name, options, callback);
    const a = answer(n++);
    setImmediate(() => ('code' in a ? callback(Object.assign(new Error(`getaddrinfo ${a.code} ${host}`), { code: a.code }), '', 0) : callback(null, a.address, 4)));
  });
  return { count: () => n };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('syslog sink name resolution', () => {
  afterEach(() => mock.restoreAll());

  it('50 alerts to a host name: one lookup, every alert delivered in order', async () => {
    const rx = await receiver();
    const calls = lookups('syslog.example', () => ({ address: '127.0.0.1' }));
    const sink = new SyslogSink('syslog.example', rx.port, () => undefined);
    for (let i = 0; i < 50; i++) sink.write(makeAlert({ id: `a${i}` }));
    await sink.close();
    await until(() => rx.messages.length === 50);
    rx.close();
    assert.equal(calls.count(), 1);
    assert.deepEqual(sink.stats(), { written: 50, dropped: 0, failed: 0, queued: 0 });
    assert.deepEqual(rx.messages.map((m) => (JSON.parse(m.slice(m.indexOf('{'))) as { id: string }).id), Array.from({ length: 50 }, (_, i) => `a${i}`));
  });

  it('a send that fails looks the name up again: the next alert goes to the new address', async () => {
    const rx = await receiver();
    // 255.255.255.255 without SO_BROADCAST: the send fails (EACCES)
    const calls = lookups('syslog.example', (n) => ({ address: n === 0 ? '255.255.255.255' : '127.0.0.1' }));
    const lines: string[] = [];
    const sink = new SyslogSink('syslog.example', rx.port, (line) => lines.push(line));
    sink.write(makeAlert({ id: 'lost' }));
    await until(() => sink.stats().failed === 1);
    sink.write(makeAlert({ id: 'delivered' }));
    await sink.close();
    await until(() => rx.messages.length === 1);
    rx.close();
    assert.equal(calls.count(), 2);
    assert.deepEqual(sink.stats(), { written: 1, dropped: 0, failed: 1, queued: 0 });
    assert.match(lines[0]!, /^sink syslog syslog\.example:\d+: cannot send: EACCES; failed alerts are counted/);
    assert.equal(lines[1], `sink syslog syslog.example:${rx.port}: sending again after 1 failed alerts`);
  });

  it('a lookup that fails is not repeated at once: later alerts fail without one, one line, all counted', async () => {
    const calls = lookups('down.example', () => ({ code: 'ENOTFOUND' }));
    const lines: string[] = [];
    const sink = new SyslogSink('down.example', 5514, (line) => lines.push(line));
    for (let i = 0; i < 10; i++) {
      sink.write(makeAlert({ id: `a${i}` }));
      await until(() => sink.stats().failed === i + 1);
    }
    await sink.close();
    assert.equal(calls.count(), 1);
    assert.deepEqual(sink.stats(), { written: 0, dropped: 0, failed: 10, queued: 0 });
    assert.deepEqual(lines, ['sink syslog down.example:5514: cannot send: ENOTFOUND; failed alerts are counted (sink stats), detection goes on']);
  });
});

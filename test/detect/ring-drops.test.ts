// The native recvmmsg receiver's ring drops (datagrams it could not queue because the ring was full) are counted
// live, not only in the summary at stop: the receiver keeps them in a control word of the ring, NativeRingSource reads
// it, and the NetFlow source thread reports them to the engine each second (flowsentry_dropped_total{where=
// "netflow-ring"} in serve's /metrics). A datagram larger than the whole ring is always dropped, which makes the
// drops exact here without racing the decoder.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { nativeReceiver } from '../../src/flows/collector-native.js';
import { NativeRingSource, RING_DROPPED } from '../../src/flows/collector-ring.js';
import { runNetflowSource } from '../../src/detect/sources.js';
import { waitFor } from '../e2e/service-harness.js';

const native = nativeReceiver();
const skip = 'reason' in native ? `recvmmsg receiver not available: ${native.reason}` : false;
const RING_BYTES = 1024;

async function send(port: number, sizes: readonly number[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  for (const size of sizes) await new Promise<void>((resolve) => socket.send(Buffer.alloc(size, 7), port, '127.0.0.1', () => resolve()));
  socket.close();
}

describe('native receiver ring drops, live', { skip }, () => {
  it('NativeRingSource counts them while running, the same number stop() returns', async () => {
    const api = 'receiver' in native ? native.receiver : undefined;
    const received: number[] = [];
    const source = await NativeRingSource.start(api!, { host: '127.0.0.1', port: 0, receiveBuffer: 1 << 20, ringBytes: RING_BYTES }, (d) => void received.push(d.length));
    try {
      // too large for the ring, and small enough to fit, alternately
      await send(source.port, [1400, 100, 1400, 100, 1400, 100, 1400]);
      await waitFor('the drops', () => (source.ringDropped === 4 && received.length === 3) || undefined, 5000, 10);
    } finally {
      assert.equal(source.stop().ringDropped, 4);
    }
    assert.deepEqual(received, [100, 100, 100]);
    assert.equal(source.ringDropped, 4);
  });

  it('a count past 2^32 keeps counting (the control word holds its low 32 bits)', async () => {
    const api = 'receiver' in native ? native.receiver : undefined;
    const source = await NativeRingSource.start(api!, { host: '127.0.0.1', port: 0, receiveBuffer: 1 << 20, ringBytes: RING_BYTES }, () => undefined);
    const ctrl = (source as unknown as { ctrl: Int32Array }).ctrl;
    try {
      Atomics.store(ctrl, RING_DROPPED, -2); // 2^32 - 2 drops, as the receiver stores them
      assert.equal(source.ringDropped, 2 ** 32 - 2);
      Atomics.store(ctrl, RING_DROPPED, 3); // five more: the word wrapped
      assert.equal(source.ringDropped, 2 ** 32 + 3);
    } finally {
      source.stop();
    }
  });

  it('the NetFlow source thread reports them while it runs (nothing decodes), and its reports add up to the summary', async () => {
    const abort = new AbortController();
    let port = 0;
    let reported = 0;
    let chunks = 0;
    const done = runNetflowSource('udp://127.0.0.1:0', () => chunks++, {
      signal: abort.signal,
      receiver: 'recvmmsg',
      ringBytes: RING_BYTES,
      onListening: (p) => (port = p),
      onRingDropped: (datagrams) => (reported += datagrams),
    });
    try {
      await waitFor('the collector', () => port || undefined);
      await send(port, Array.from({ length: 12 }, () => 1400));
      await waitFor('the report', () => reported === 12 || undefined, 5000, 20);
    } finally {
      abort.abort();
    }
    const stats = await done;
    assert.equal(stats.ringDropped, 12);
    assert.equal(reported, 12);
    assert.equal(chunks, 0);
  });
});

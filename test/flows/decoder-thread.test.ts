// meterCaptures' metering side when its decoder worker dies (issue 6): before the ring is used, while the meter is
// still being created, after publishing a slot without closing the ring, and by an uncaught error. Each must reject
// with the worker's error or exit code, never hang (the consumer used to block in SlotRing.take() forever).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { DecoderRing, meterFromWorker } from '../../src/flows/decoder-thread.js';
import { PACKED_BYTES } from '../../src/flows/decode/packet.js';
import { FlowMeter } from '../../src/flows/meter.js';
import { SlotRing } from '../../src/flows/pipeline.js';

/** A decoder stand-in: `body` runs in a worker with `ctrl` = the ring's control words (slot i's count at 2 + i). */
function start(body: string): { worker: Worker; ring: SlotRing } {
  const ring = SlotRing.create(DecoderRing.SLOTS, DecoderRing.PACKETS_PER_SLOT * PACKED_BYTES);
  const worker = new Worker(`const { workerData } = require('node:worker_threads'); const ctrl = new Int32Array(workerData.ring, 8, 2 + ${DecoderRing.SLOTS}); ${body}`, {
    eval: true,
    workerData: { ring: ring.buffer },
  });
  return { worker, ring };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('decoder worker exits at start-up: a clear error', { timeout: 20_000 }, async () => {
  const { worker, ring } = start('process.exit(3);');
  await assert.rejects(meterFromWorker(worker, ring, () => new FlowMeter(() => undefined)), /decoder thread exited with code 3/);
});

test('decoder worker throws while the meter is still being made: its error', { timeout: 20_000 }, async () => {
  const { worker, ring } = start("throw new Error('warm-up failed');");
  const createMeter = async (): Promise<FlowMeter> => {
    await delay(300);
    return new FlowMeter(() => undefined);
  };
  await assert.rejects(meterFromWorker(worker, ring, createMeter), /warm-up failed/);
});

test('decoder worker publishes a slot, then ends without closing the ring: an error, not a hang', { timeout: 20_000 }, async () => {
  const { worker, ring } = start('Atomics.store(ctrl, 2, 10); Atomics.notify(ctrl, 2);');
  await assert.rejects(meterFromWorker(worker, ring, () => new FlowMeter(() => undefined)), /decoder thread exited with code 0/);
});

test('decoder worker killed mid-run (terminate from outside): an error, not a hang', { timeout: 20_000 }, async () => {
  const { worker, ring } = start('setInterval(() => undefined, 1000);');
  // once it runs: terminated before it is online, a worker exits with code 0 (seen under load with a fixed 200 ms)
  worker.once('online', () => setTimeout(() => void worker.terminate(), 50));
  await assert.rejects(meterFromWorker(worker, ring, () => new FlowMeter(() => undefined)), /decoder thread exited with code 1/);
});

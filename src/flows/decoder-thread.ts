// Metering in two threads: a worker (decode-worker.ts) reads and decodes capture files into a SlotRing of packed packet
// summaries, the calling thread meters them. This module and the worker import only the reader, the decoder and the
// ring (no CSV writer, streams or feature code), so the worker starts as early and as fast as it can.

import { Worker } from 'node:worker_threads';
import type { CaptureSummary } from '../io/capture.js';
import type { FlowMeter } from './meter.js';
import { PACKED_BYTES, Packed } from './decode/packet.js';
import { RingAborted, SlotRing, workerResult } from './pipeline.js';

/** Ring size (a const enum: literals in the code). */
export const enum DecoderRing {
  SLOTS = 8,
  PACKETS_PER_SLOT = 4096,
}

/**
 * Meters capture files in two threads: a worker reads and decodes the packets into a SlotRing of compact packet
 * summaries (decode/packet.ts packPacket), this thread meters them — for consumers on this thread (callbacks or
 * FlowBatches), on a machine with a core to spare. The meter is made by `createMeter` (which may import the meter
 * module) once the worker is started, so the worker's start-up overlaps the meter's (the first FlowMeter of a process
 * runs the warm-up capture). The meter sees the same packets in the same order as with readCapture + addPacket; it is
 * returned with the reader's per-capture summaries.
 */
export async function meterCaptures(paths: readonly string[], createMeter: () => FlowMeter | Promise<FlowMeter>): Promise<{ meter: FlowMeter; captures: CaptureSummary[] }> {
  const ring = SlotRing.create(DecoderRing.SLOTS, DecoderRing.PACKETS_PER_SLOT * PACKED_BYTES);
  const worker = new Worker(new URL('./decode-worker.js', import.meta.url), {
    workerData: { ring: ring.buffer, packets: DecoderRing.PACKETS_PER_SLOT, captures: paths },
  });
  return meterFromWorker(worker, ring, createMeter);
}

/**
 * The metering side of meterCaptures, for a started decoder `worker` filling `ring`. It waits for slots without
 * blocking this thread (SlotRing.ready), and the worker's exit before it closed the ring aborts the ring: a worker
 * that dies at any moment (start-up, warm-up, mid-file, out of memory) becomes its error here, never a hang.
 */
export async function meterFromWorker(
  worker: Worker,
  ring: SlotRing,
  createMeter: () => FlowMeter | Promise<FlowMeter>,
): Promise<{ meter: FlowMeter; captures: CaptureSummary[] }> {
  const decoded = workerResult<{ type: 'decoded'; captures: CaptureSummary[] }>(worker, 'decoded', 'decoder');
  worker.once('exit', () => {
    if (!ring.closed) ring.abort();
  });
  try {
    const meter = await createMeter();
    const views = packetViews(ring, DecoderRing.PACKETS_PER_SLOT);
    try {
      for (;;) {
        let n = ring.poll();
        while (n < 0) {
          await ring.ready();
          n = ring.poll();
        }
        if (n === 0) break;
        const { words, times } = views[ring.current]!;
        meter.addPackedBlock(words, times, n);
        ring.release();
      }
    } catch (err) {
      if (err instanceof RingAborted) await decoded;
      ring.abort();
      throw err;
    }
    return { meter, captures: (await decoded).captures };
  } finally {
    await worker.terminate();
  }
}

/** The packet-summary views of each slot of a packet ring: PACKED_WORDS words and one timestamp per packet. */
export function packetViews(ring: SlotRing, packets: number): { words: Uint32Array; times: Float64Array }[] {
  return Array.from({ length: ring.slots }, (_, i) => ({
    times: new Float64Array(ring.buffer, ring.offset(i), packets),
    words: new Uint32Array(ring.buffer, ring.offset(i) + packets * 8, packets * Packed.PACKED_WORDS),
  }));
}

// Worker thread of meterCaptures (decoder-thread.ts): reads and decodes capture files into a SlotRing of packed
// packet summaries (decode/packet.ts packPacket) that the calling thread meters. Imports only the capture reader,
// the decoder and the ring, so it starts quickly.

import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { readCapture, type CaptureSummary } from '../io/capture.js';
import { PcapReader, type RawPacket } from '../io/pcap.js';
import { decodePacket } from './decode/decode.js';
import { DecodedPacket, packPacket, Packed } from './decode/packet.js';
import { packetViews } from './decoder-thread.js';
import { SlotRing, type WorkerReply } from './pipeline.js';
import { pushWarmUpCapture } from './warmup.js';

const port = parentPort!;
const job = workerData as { ring: SharedArrayBuffer; packets: number; captures: string[] };

async function decode(): Promise<void> {
  const ring = SlotRing.attach(job.ring);
  const views = packetViews(ring, job.packets);
  const p = new DecodedPacket();
  let { words, times } = views[0]!;
  let n = 0;
  const onPacket = (raw: RawPacket): void => {
    packPacket(p, decodePacket(raw.linkType, raw.data, raw.offset, raw.capLen, p), raw.origLen, words, n * Packed.PACKED_WORDS);
    times[n] = raw.tsUs;
    if (++n === job.packets) {
      ({ words, times } = views[ring.put(n)]!);
      n = 0;
    }
  };
  try {
    // The warm-up capture first (warmup.ts; 142 packets, fewer than a slot holds, so none is published), through the
    // same reader, decoder and packing call sites: this thread's V8 then compiles them with every path seen, as the
    // meter's warm-up does on the other thread (without it the decoder deoptimized 8 times in the first real slots).
    pushWarmUpCapture(new PcapReader(onPacket));
    n = 0;
    const captures: CaptureSummary[] = [];
    for (const path of job.captures) captures.push(await readCapture(path, onPacket));
    if (n > 0) ring.put(n);
    port.postMessage({ type: 'decoded', captures } satisfies WorkerReply);
    ring.close();
  } catch (err) {
    ring.abort();
    throw err;
  }
}

try {
  await decode();
} catch (err) {
  port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err), userError: err instanceof UserError } satisfies WorkerReply);
}

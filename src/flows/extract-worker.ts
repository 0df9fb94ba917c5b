// Worker thread of `extractFlows`, in one of two roles:
//   'partition': meters one hash partition of the flows of the given files and sends its rows to the main thread as
//     transferred byte chunks, one at a time per acknowledgement (back-pressure);
//   'writer': the second stage of a two-thread pipeline — takes the CIC flow batches that the main thread's meter
//     fills in a SharedArrayBuffer ring (SlotRing in extract.ts) and writes their CSV rows to a file descriptor;
//   'decoder': the first stage of the other pipeline (meterCaptures) — reads and decodes capture files into a ring of
//     packed packet summaries that the main thread meters.

import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { readCapture, type CaptureSummary } from '../io/capture.js';
import type { RawPacket } from '../io/pcap.js';
import { decodePacket } from './decode/decode.js';
import { DecodedPacket, packPacket, Packed } from './decode/packet.js';
import { ByteWriter, extractInto, packetViews, ringBatches, SlotRing, writeCicBatch, type ExtractOptions, type WorkerReply } from './extract.js';

const port = parentPort!;

type Job =
  | { role: 'partition'; captures: string[]; options: ExtractOptions }
  | { role: 'writer'; ring: SharedArrayBuffer; rows: number; width: number; fd: number }
  | { role: 'decoder'; ring: SharedArrayBuffer; packets: number; captures: string[] };

function fail(err: unknown): void {
  port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err), userError: err instanceof UserError } satisfies WorkerReply);
}

async function partition(captures: string[], options: ExtractOptions): Promise<void> {
  const acks: (() => void)[] = [];
  port.on('message', (msg: unknown) => {
    if (msg === 'ack') acks.shift()?.();
  });
  const toMain = new Writable({
    highWaterMark: 4 << 20,
    write(chunk: Buffer, _encoding, done) {
      acks.push(() => done());
      port.postMessage(chunk, [chunk.buffer as ArrayBuffer]);
    },
  });
  const result = await extractInto(captures, toMain, options);
  await new Promise<void>((resolve) => toMain.end(resolve));
  port.postMessage({ type: 'done', result } satisfies WorkerReply);
}

function writer(job: Extract<Job, { role: 'writer' }>): void {
  const ring = SlotRing.attach(job.ring);
  const batches = ringBatches(ring, job.rows, job.width);
  const out = new ByteWriter(job.fd);
  try {
    for (let rows = ring.take(); rows > 0; rows = ring.take()) {
      const batch = batches[ring.current]!;
      batch.length = rows;
      writeCicBatch(out, batch);
      out.push();
      ring.release();
    }
    out.push(true);
  } catch (err) {
    ring.abort();
    throw err;
  }
  port.postMessage({ type: 'written' } satisfies WorkerReply);
}

async function decoder(job: Extract<Job, { role: 'decoder' }>): Promise<void> {
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

const job = workerData as Job;
try {
  if (job.role === 'partition') await partition(job.captures, job.options);
  else if (job.role === 'writer') writer(job);
  else await decoder(job);
} catch (err) {
  fail(err);
}

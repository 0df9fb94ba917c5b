// Worker thread of `extractFlows`, in one of two roles:
//   'partition': meters one hash partition of the flows of the given files and sends its rows to the main thread as
//     transferred byte chunks, one at a time per acknowledgement (back-pressure);
//   'writer': the second stage of a two-thread pipeline — takes the CIC flow batches that the main thread's meter
//     fills in a SharedArrayBuffer ring (SlotRing, pipeline.ts) and writes their CSV rows to a file descriptor,
//     keeping the count of rows written in `rowsWritten` for the main thread's error line should this thread die.
// (The decoding thread of meterCaptures is decode-worker.ts.)

import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { ByteWriter } from './byte-writer.js';
import { extractInto, ringBatches, type ExtractOptions } from './extract.js';
import { writeCicBatch } from './flow-rows.js';
import { SlotRing, type WorkerReply } from './pipeline.js';

const port = parentPort!;

type Job =
  | { role: 'partition'; captures: string[]; options: ExtractOptions }
  | { role: 'writer'; ring: SharedArrayBuffer; rows: number; width: number; fd: number; file: string; rowsWritten: SharedArrayBuffer };

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
  const out = new ByteWriter(job.fd, undefined, job.file);
  const rowsWritten = new Float64Array(job.rowsWritten);
  try {
    for (let rows = ring.take(); rows > 0; rows = ring.take()) {
      const batch = batches[ring.current]!;
      batch.length = rows;
      writeCicBatch(out, batch);
      out.push();
      rowsWritten[0] = out.rowsWritten;
      ring.release();
    }
    out.push(true);
    rowsWritten[0] = out.rowsWritten;
  } catch (err) {
    ring.abort();
    throw err;
  }
  port.postMessage({ type: 'written' } satisfies WorkerReply);
}

const job = workerData as Job;
try {
  if (job.role === 'partition') await partition(job.captures, job.options);
  else writer(job);
} catch (err) {
  fail(err);
}

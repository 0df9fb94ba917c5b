// Worker thread of `extractFlows` with several workers: meters one hash partition of the flows of the given files
// and sends its rows to the main thread as transferred byte chunks, one at a time per acknowledgement (back-pressure).

import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { extractInto, type ExtractOptions, type WorkerReply } from './extract.js';

const port = parentPort!;
const { captures, options } = workerData as { captures: string[]; options: ExtractOptions };
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

try {
  const result = await extractInto(captures, toMain, options);
  await new Promise<void>((resolve) => toMain.end(resolve));
  port.postMessage({ type: 'done', result } satisfies WorkerReply);
} catch (err) {
  port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err), userError: err instanceof UserError } satisfies WorkerReply);
}

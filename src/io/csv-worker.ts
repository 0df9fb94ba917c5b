// Worker side of the parallel CSV reader: parses one byte range of a file straight into its rows of the shared
// (SharedArrayBuffer) columns and reports row counts, lines and its category dictionaries.

import { parentPort } from 'node:worker_threads';
import { UserError, type InputLocation } from '../errors.js';
import { CATEGORICAL, ColumnarBuilder, NUMERIC, TEXT, TIMESTAMP, type CsvColumnKind } from './columnar-builder.js';
import { readCsvInto, type CsvReadOptions } from './csv-reader.js';

export interface CsvWorkerTask {
  readonly id: number;
  readonly file: string;
  readonly kinds: CsvColumnKind[];
  readonly options: Omit<CsvReadOptions, 'onProgress'>;
  /** Per column: the SharedArrayBuffer of the whole column (numeric Float32, categorical Int32, timestamp Float64), or null. */
  readonly buffers: (SharedArrayBuffer | null)[];
  /**
   * Per text column: the SharedArrayBuffer of its bytes, or null (its offsets, Int32 with one more slot than rows, are
   * in `buffers`). This task writes its text from byte `textOffset` on, at most its range's length, and its offsets
   * counted from there.
   */
  readonly textBuffers: (SharedArrayBuffer | null)[];
  readonly textOffset: number;
  /** First row of this task in the shared columns, and rows reserved for it (its line count). */
  readonly rowOffset: number;
  readonly capacity: number;
}

export type CsvWorkerMessage =
  | { type: 'progress'; id: number; done: number }
  | { type: 'done'; id: number; rows: number; lines: number; skipped: [string, number][]; dictionaries: (string[] | null)[] }
  /** A UserError as its problem and location, so the parent can place it (the line of a range); any other error as its message. */
  | { type: 'error'; id: number; user: true; problem: string; location: InputLocation | undefined }
  | { type: 'error'; id: number; user: false; message: string };

if (parentPort) {
  const port = parentPort;
  port.on('message', async (task: CsvWorkerTask) => {
    try {
      const { rowOffset, capacity } = task;
      const numeric = task.kinds.map((k, c) => (k === NUMERIC ? new Float32Array(task.buffers[c] as SharedArrayBuffer, rowOffset * 4, capacity) : undefined));
      const codes = task.kinds.map((k, c) => (k === CATEGORICAL ? new Int32Array(task.buffers[c] as SharedArrayBuffer, rowOffset * 4, capacity) : undefined));
      const seconds = task.kinds.map((k, c) => (k === TIMESTAMP ? new Float64Array(task.buffers[c] as SharedArrayBuffer, rowOffset * 8, capacity) : undefined));
      const rangeBytes = (task.options.range?.end ?? 0) - (task.options.range?.start ?? 0);
      const texts = task.kinds.map((k, c) =>
        k === TEXT
          ? { offsets: new Int32Array(task.buffers[c] as SharedArrayBuffer, rowOffset * 4, capacity + 1), bytes: new Uint8Array(task.textBuffers[c] as SharedArrayBuffer, task.textOffset, rangeBytes) }
          : undefined,
      );
      const builder = new ColumnarBuilder(task.kinds, { capacity, numeric, codes, seconds, texts, fixed: true });
      let reported = 0;
      const result = await readCsvInto(task.file, builder, {
        ...task.options,
        onProgress: (done) => {
          if (done - reported >= 1 << 22) {
            port.postMessage({ type: 'progress', id: task.id, done } satisfies CsvWorkerMessage);
            reported = done;
          }
        },
      });
      const dictionaries = builder.dictionaries.map((d) => (d ? d.toStrings() : null));
      port.postMessage({ type: 'done', id: task.id, rows: result.rows, lines: result.lines, skipped: [...result.skipped], dictionaries } satisfies CsvWorkerMessage);
    } catch (err) {
      const message: CsvWorkerMessage =
        err instanceof UserError
          ? { type: 'error', id: task.id, user: true, problem: err.problem, location: err.location }
          : { type: 'error', id: task.id, user: false, message: err instanceof Error ? err.message : String(err) };
      port.postMessage(message);
    }
  });
}

// Parallel CSV reading on worker threads. Files, or byte ranges of a large file split at line feeds, are parsed at
// once; each task writes its rows straight into SharedArrayBuffer columns at an offset reserved by counting the
// task's lines first, so nothing is copied or merged: afterwards the rows are moved down over the few unused slots
// (header, blank or skipped lines) and later tasks' category codes are remapped in place onto one dictionary. A text
// column's bytes go to a shared buffer the size of the input, each task's from its range's offset in it (a task's text
// is never longer than its range), and are moved down the same way, their offsets shifted.
// O(bytes) work split over the cores; memory is the data plus the line-count slack (text: pages never written are
// never resident).
// Splitting at a line feed is only safe without quoted fields spanning lines: callers use it for unquoted files.

import { Worker } from 'node:worker_threads';
import { open, stat } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { CATEGORICAL, NUMERIC, TEXT, TIMESTAMP, type ColumnOutput, type CsvColumnKind } from './columnar-builder.js';
import { countLines, type CsvReadOptions } from './csv-reader.js';
import type { CsvWorkerMessage, CsvWorkerTask } from './csv-worker.js';

export interface ParallelFile {
  readonly file: string;
  readonly options: Omit<CsvReadOptions, 'onProgress' | 'range' | 'header'>;
}

export interface ParallelResult {
  readonly outputs: ColumnOutput[];
  readonly rows: number;
  /** Data rows per input file. */
  readonly fileRows: readonly number[];
  readonly skipped: ReadonlyMap<string, number>;
}

interface PlannedTask extends Omit<CsvWorkerTask, 'buffers' | 'textBuffers' | 'textOffset' | 'rowOffset' | 'capacity'> {
  readonly fileIndex: number;
  readonly start: number;
  readonly end: number;
}

/** Reads the files on `threads` workers into one set of columns; files above `minRangeBytes` x 2 are split. */
export async function readCsvParallel(
  files: readonly ParallelFile[],
  kinds: CsvColumnKind[],
  threads: number,
  onProgress?: (done: number, total: number) => void,
  minRangeBytes = MIN_RANGE_BYTES,
): Promise<ParallelResult> {
  const planned = await planTasks(files, kinds, threads, minRangeBytes);
  const capacities = await Promise.all(planned.map((t) => countLines(t.file, t.start, t.end)));
  const offsets = capacities.map((_, i) => capacities.slice(0, i).reduce((a, b) => a + b, 0));
  const capacity = capacities.reduce((a, b) => a + b, 0);
  const total = planned.reduce((s, t) => s + t.end - t.start, 0);
  const textOffsets = planned.map((_, i) => planned.slice(0, i).reduce((s, t) => s + t.end - t.start, 0));
  const buffers = kinds.map((k) =>
    k === NUMERIC || k === CATEGORICAL ? new SharedArrayBuffer(capacity * 4) : k === TIMESTAMP ? new SharedArrayBuffer(capacity * 8) : k === TEXT ? new SharedArrayBuffer((capacity + 1) * 4) : null,
  );
  const textBuffers = kinds.map((k) => (k === TEXT ? new SharedArrayBuffer(total) : null));
  const progress = new Float64Array(planned.length);
  const report = (): void => onProgress?.(progress.reduce((a, b) => a + b, 0), total);
  const results = new Array<Exclude<CsvWorkerMessage, { type: 'progress' }>>(planned.length);
  const workers = Array.from({ length: Math.min(threads, planned.length) }, () => new Worker(new URL('./csv-worker.js', import.meta.url)));
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let settled = 0;
      const feed = (w: Worker): void => {
        if (next >= planned.length) return;
        const i = next++;
        const { fileIndex: _f, start: _s, end: _e, ...task } = planned[i];
        w.postMessage({ ...task, buffers, textBuffers, textOffset: textOffsets[i], rowOffset: offsets[i], capacity: capacities[i] } satisfies CsvWorkerTask);
      };
      for (const w of workers) {
        w.on('message', (msg: CsvWorkerMessage) => {
          if (msg.type === 'progress') {
            progress[msg.id] = msg.done;
            report();
            return;
          }
          results[msg.id] = msg;
          progress[msg.id] = planned[msg.id].end - planned[msg.id].start;
          report();
          if (++settled === planned.length) resolve();
          else feed(w);
        });
        w.on('error', reject);
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  throwFirstError(planned, results);
  const done = results as Extract<CsvWorkerMessage, { type: 'done' }>[];

  // Close the gaps: task i's rows move from offsets[i] down to the running row count.
  const numeric = kinds.map((k, c) => (k === NUMERIC ? new Float32Array(buffers[c] as SharedArrayBuffer) : undefined));
  const codes = kinds.map((k, c) => (k === CATEGORICAL ? new Int32Array(buffers[c] as SharedArrayBuffer) : undefined));
  const seconds = kinds.map((k, c) => (k === TIMESTAMP ? new Float64Array(buffers[c] as SharedArrayBuffer) : undefined));
  const textEnds = kinds.map((k, c) => (k === TEXT ? new Int32Array(buffers[c] as SharedArrayBuffer) : undefined));
  const textBytes = kinds.map((k, c) => (k === TEXT ? new Uint8Array(textBuffers[c] as SharedArrayBuffer) : undefined));
  const textUsed = kinds.map(() => 0);
  const dictionaries: string[][] = kinds.map(() => []);
  const indexes = kinds.map(() => new Map<string, number>());
  let rows = 0;
  done.forEach((r, i) => {
    for (let c = 0; c < kinds.length; c++) {
      const target = numeric[c] ?? codes[c] ?? seconds[c];
      if (target && rows !== offsets[i]) target.copyWithin(rows, offsets[i], offsets[i] + r.rows);
      const ends = textEnds[c];
      if (ends) {
        // Row k's end is at k + 1, counted from the task's text offset: moved down and shifted onto the text so far.
        const bytes = textBytes[c] as Uint8Array;
        const length = r.rows > 0 ? ends[offsets[i] + r.rows] : 0;
        bytes.copyWithin(textUsed[c], textOffsets[i], textOffsets[i] + length);
        for (let k = 0; k < r.rows; k++) ends[rows + 1 + k] = ends[offsets[i] + 1 + k] + textUsed[c];
        textUsed[c] += length;
        continue;
      }
      const col = codes[c];
      if (!col) continue;
      const remap = Int32Array.from(r.dictionaries[c] as string[], (name) => {
        let code = indexes[c].get(name);
        if (code === undefined) {
          code = dictionaries[c].length;
          indexes[c].set(name, code);
          dictionaries[c].push(name);
        }
        return code;
      });
      if (remap.some((v, k) => v !== k)) for (let k = rows; k < rows + r.rows; k++) if (col[k] >= 0) col[k] = remap[col[k]];
    }
    rows += r.rows;
  });
  const outputs: ColumnOutput[] = kinds.map((k, c) => {
    if (k === NUMERIC) return { kind: NUMERIC, values: (numeric[c] as Float32Array).subarray(0, rows) };
    if (k === CATEGORICAL) return { kind: CATEGORICAL, codes: (codes[c] as Int32Array).subarray(0, rows), dictionary: dictionaries[c] };
    if (k === TIMESTAMP) return { kind: TIMESTAMP, seconds: (seconds[c] as Float64Array).subarray(0, rows) };
    if (k === TEXT) {
      const text = { kind: 'text', name: '', offsets: (textEnds[c] as Int32Array).subarray(0, rows + 1), bytes: (textBytes[c] as Uint8Array).subarray(0, textUsed[c]) } as const;
      return { kind: TEXT, text };
    }
    return undefined;
  });
  const skipped = new Map<string, number>();
  const fileRows = new Array<number>(files.length).fill(0);
  done.forEach((r, i) => {
    fileRows[planned[i].fileIndex] += r.rows;
    for (const [reason, count] of r.skipped) skipped.set(reason, (skipped.get(reason) ?? 0) + count);
  });
  return { outputs, rows, fileRows, skipped };
}

/** The first error in file order, its line made absolute (each range counts lines from its own start). */
function throwFirstError(planned: readonly PlannedTask[], results: readonly Exclude<CsvWorkerMessage, { type: 'progress' }>[]): void {
  for (let i = 0; i < planned.length; i++) {
    const r = results[i];
    if (r.type !== 'error') continue;
    if (!r.user) throw new Error(r.message);
    const location = r.location;
    let linesBefore = 0;
    for (let j = 0; j < i; j++) {
      const prev = results[j];
      if (planned[j].fileIndex === planned[i].fileIndex && prev.type === 'done') linesBefore += prev.lines;
    }
    throw new UserError(r.problem, location?.line !== undefined ? { ...location, line: location.line + linesBefore } : location);
  }
}

const MIN_RANGE_BYTES = 4 << 20;

/** One task per file; a file larger than its share is split at line feeds into ranges of at least 4 MiB. */
async function planTasks(files: readonly ParallelFile[], kinds: CsvColumnKind[], threads: number, minRangeBytes: number): Promise<PlannedTask[]> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f.file)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  const share = Math.max(minRangeBytes, Math.ceil(total / threads));
  const tasks: PlannedTask[] = [];
  for (const [fileIndex, f] of files.entries()) {
    const size = sizes[fileIndex];
    const pieces = Math.max(1, Math.min(threads, Math.floor(size / share)));
    const bounds = pieces > 1 ? await lineBoundaries(f.file, size, pieces) : [0, size];
    const header = f.options.hasHeader && bounds.length > 2 ? await headerLine(f.file) : undefined;
    for (let k = 0; k + 1 < bounds.length; k++) {
      const range = { start: bounds[k], end: bounds[k + 1] };
      tasks.push({ id: tasks.length, fileIndex, start: range.start, end: range.end, file: f.file, kinds, options: { ...f.options, range, ...(header ? { header } : {}) } });
    }
  }
  return tasks;
}

/** Byte offsets splitting the file into about `pieces` ranges, each starting right after a line feed. */
async function lineBoundaries(file: string, size: number, pieces: number): Promise<number[]> {
  const handle = await open(file, 'r');
  try {
    const bounds = [0];
    const probe = new Uint8Array(1 << 16);
    for (let k = 1; k < pieces; k++) {
      const target = Math.floor((size * k) / pieces);
      const { bytesRead } = await handle.read(probe, 0, probe.length, target);
      const lf = probe.subarray(0, bytesRead).indexOf(10);
      if (lf >= 0 && target + lf + 1 < size && target + lf + 1 > bounds[bounds.length - 1]) bounds.push(target + lf + 1);
    }
    bounds.push(size);
    return bounds;
  } finally {
    await handle.close();
  }
}

/** The first line of the file without its line end and BOM (to recognise copies of the header). */
async function headerLine(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    let buf = new Uint8Array(1 << 16);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      const lf = buf.subarray(0, bytesRead).indexOf(10);
      if (lf >= 0 || bytesRead < buf.length) {
        let end = lf >= 0 ? lf : bytesRead;
        if (end > 0 && buf[end - 1] === 13) end--;
        const start = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
        return buf.slice(start, end);
      }
      buf = new Uint8Array(buf.length * 4);
    }
  } finally {
    await handle.close();
  }
}

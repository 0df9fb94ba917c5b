// Column storage for the CSV reader: one typed array per field by its kind (Float32 numbers, Int32 dictionary
// codes, Float64 seconds, text bytes), filled row by row: exact-size arrays for a known row count, chunks growing
// to a fixed size otherwise, so memory grows linearly with no doubling; `finish` hands out the column outputs.

import { UserError } from '../errors.js';
import { TextColumnBuilder } from '../frame/text-column.js';
import type { TextColumn } from '../frame/frame.js';
import { ByteDictionary } from './csv-dictionary.js';

export const SKIP = 0;
export const NUMERIC = 1;
export const CATEGORICAL = 2;
export const TIMESTAMP = 3;
export const TEXT = 4;
/**
 * How each field of a record is stored: SKIP, NUMERIC (Float32), CATEGORICAL (dictionary codes), TIMESTAMP
 * (seconds since the epoch in Float64, read by ./csv-timestamp.ts) or TEXT (the cells' bytes, a TextColumn).
 */
export type CsvColumnKind = typeof SKIP | typeof NUMERIC | typeof CATEGORICAL | typeof TIMESTAMP | typeof TEXT;

/** Rows per column chunk: 64 Ki rows, i.e. 256 KiB per numeric column. */
const CHUNK_ROWS = 1 << 16;
/** Chunks start small and grow 4x up to CHUNK_ROWS, so the rollover code runs (and is optimised for) early. */
const FIRST_CHUNK_ROWS = 16;

export interface NumericOutput {
  readonly kind: typeof NUMERIC;
  readonly values: Float32Array;
}
export interface CategoricalOutput {
  readonly kind: typeof CATEGORICAL;
  /** -1 marks an empty cell. */
  readonly codes: Int32Array;
  readonly dictionary: string[];
}
export interface TimestampOutput {
  readonly kind: typeof TIMESTAMP;
  /** Seconds since 1970-01-01 UTC; NaN for an empty cell. */
  readonly seconds: Float64Array;
}
export interface TextOutput {
  readonly kind: typeof TEXT;
  readonly text: TextColumn;
}
export type ColumnOutput = NumericOutput | CategoricalOutput | TimestampOutput | TextOutput | undefined;

/** Column arrays given to a builder up front (e.g. views of SharedArrayBuffers written by several workers). */
export interface PresetColumns {
  /** Rows the arrays hold. */
  readonly capacity: number;
  /** Per column: the array for a numeric column, undefined otherwise. */
  readonly numeric: readonly (Float32Array | undefined)[];
  /** Per column: the array for a categorical column, undefined otherwise. */
  readonly codes: readonly (Int32Array | undefined)[];
  /** Per column: the array for a timestamp column, undefined otherwise. */
  readonly seconds: readonly (Float64Array | undefined)[];
  /** Per column: the arrays for a text column (offsets: capacity + 1), undefined otherwise. */
  readonly texts?: readonly ({ readonly offsets: Int32Array; readonly bytes: Uint8Array } | undefined)[];
  /** The rows must fit (no growth): the arrays are parts of larger shared columns. */
  readonly fixed?: boolean;
}

/**
 * Column storage. With a known capacity (an upper bound on the rows, e.g. the file's line count) values go straight
 * into exact-size arrays and `finish` returns them without copying, so memory is the data itself. Otherwise (gzip
 * input) columns grow in chunks of 16 rows growing 4x up to 64 Ki rows, and `finish` copies each column into one
 * array, dropping its chunks before the next column. Several files append to one builder.
 */
export class ColumnarBuilder {
  readonly kinds: Uint8Array;
  /** Committed rows. */
  rows = 0;
  /** Row slot within the current chunk. */
  slot = 0;
  /** Rows of the current chunk: a row slot is free while slot < chunkRows. */
  chunkRows = 0;
  private readonly fixed: boolean;
  /** Current chunk per column (an empty array for columns of another kind). */
  numericChunk: Float32Array[];
  codeChunk: Int32Array[];
  secondsChunk: Float64Array[];
  readonly dictionaries: (ByteDictionary | undefined)[];
  /** Per text column its values (rows in step with `rows`: appended as a record is committed). */
  readonly texts: (TextColumnBuilder | undefined)[];
  private readonly fullNumeric: Float32Array[][];
  private readonly fullCodes: Int32Array[][];
  private readonly fullSeconds: Float64Array[][];

  /**
   * `preset`: the arrays to fill, or a capacity in rows; `distinctHints`: per column, how many distinct values to
   * expect and their mean length in bytes (identifier columns: about one per row), so their dictionaries do not
   * grow step by step; `textBytes`: room for each text column's bytes (an upper bound such as the files' size).
   */
  constructor(kinds: readonly CsvColumnKind[], preset?: PresetColumns | number, distinctHints?: readonly { entries: number; bytesPerEntry: number }[], textBytes = 1 << 16) {
    this.kinds = Uint8Array.from(kinds);
    const n = kinds.length;
    const noFloats = new Float32Array(0);
    const noInts = new Int32Array(0);
    const noDoubles = new Float64Array(0);
    this.numericChunk = Array.from({ length: n }, () => noFloats);
    this.codeChunk = Array.from({ length: n }, () => noInts);
    this.secondsChunk = Array.from({ length: n }, () => noDoubles);
    this.dictionaries = kinds.map((k, c) => (k === CATEGORICAL ? new ByteDictionary(distinctHints?.[c]?.entries, distinctHints?.[c]?.bytesPerEntry) : undefined));
    const textRows = typeof preset === 'number' ? preset : FIRST_CHUNK_ROWS;
    this.texts = kinds.map((k, c) => {
      if (k !== TEXT) return undefined;
      const shared = typeof preset === 'object' ? preset.texts?.[c] : undefined;
      return shared ? new TextColumnBuilder(0, 0, shared) : new TextColumnBuilder(textRows, textBytes);
    });
    this.fullNumeric = kinds.map(() => []);
    this.fullCodes = kinds.map(() => []);
    this.fullSeconds = kinds.map(() => []);
    this.fixed = typeof preset === 'object' && preset.fixed === true;
    if (preset === undefined) return;
    const capacity = typeof preset === 'number' ? Math.max(1, preset) : preset.capacity;
    // Numeric columns are views of one block (see numericBlock); codes and seconds, which callers may keep without
    // the features (labels, time order), have arrays of their own.
    const block = typeof preset === 'number' ? numericBlock(kinds, capacity) : undefined;
    let offset = 0;
    for (let c = 0; c < n; c++) {
      if (kinds[c] === NUMERIC) {
        this.numericChunk[c] = typeof preset === 'object' ? (preset.numeric[c] as Float32Array) : block ? new Float32Array(block, offset, capacity) : new Float32Array(capacity);
        offset += 4 * capacity;
      } else if (kinds[c] === CATEGORICAL) this.codeChunk[c] = typeof preset === 'object' ? (preset.codes[c] as Int32Array) : new Int32Array(capacity);
      else if (kinds[c] === TIMESTAMP) this.secondsChunk[c] = typeof preset === 'object' ? (preset.seconds[c] as Float64Array) : new Float64Array(capacity);
    }
    this.chunkRows = capacity;
  }

  /** Makes sure the current chunk has a free row slot. */
  ensureSlot(): void {
    if (this.slot >= this.chunkRows) this.nextChunk();
  }

  /** Starts the next chunk of every column (the current one is full); rare, so kept out of the parser's hot loop. */
  nextChunk(): void {
    if (this.fixed) throw new UserError('the file has more records than lines counted before reading; did it change while being read?');
    const size = this.chunkRows === 0 ? FIRST_CHUNK_ROWS : Math.min(this.chunkRows * 4, CHUNK_ROWS);
    for (let c = 0; c < this.kinds.length; c++) {
      if (this.kinds[c] === NUMERIC) {
        if (this.chunkRows > 0) this.fullNumeric[c].push(this.numericChunk[c]);
        this.numericChunk[c] = new Float32Array(size);
      } else if (this.kinds[c] === CATEGORICAL) {
        if (this.chunkRows > 0) this.fullCodes[c].push(this.codeChunk[c]);
        this.codeChunk[c] = new Int32Array(size);
      } else if (this.kinds[c] === TIMESTAMP) {
        if (this.chunkRows > 0) this.fullSeconds[c].push(this.secondsChunk[c]);
        this.secondsChunk[c] = new Float64Array(size);
      }
    }
    this.chunkRows = size;
    this.slot = 0;
  }

  commit(): void {
    this.slot++;
    this.rows++;
  }

  /**
   * The final columns (undefined for skipped ones). Data that fits one array is returned as a view of it (no copy;
   * the view is shorter than its buffer when the capacity was not reached); chunked data is concatenated.
   */
  finish(): ColumnOutput[] {
    const out: ColumnOutput[] = [];
    for (let c = 0; c < this.kinds.length; c++) {
      if (this.kinds[c] === NUMERIC) {
        const chunks = [...this.fullNumeric[c], this.numericChunk[c].subarray(0, this.slot)];
        this.fullNumeric[c] = [];
        this.numericChunk[c] = new Float32Array(0);
        out.push({ kind: NUMERIC, values: chunks.length === 1 ? chunks[0] : concat(new Float32Array(this.rows), chunks) });
      } else if (this.kinds[c] === CATEGORICAL) {
        const chunks = [...this.fullCodes[c], this.codeChunk[c].subarray(0, this.slot)];
        this.fullCodes[c] = [];
        this.codeChunk[c] = new Int32Array(0);
        const dictionary = (this.dictionaries[c] as ByteDictionary).toStrings();
        out.push({ kind: CATEGORICAL, codes: chunks.length === 1 ? chunks[0] : concat(new Int32Array(this.rows), chunks), dictionary });
      } else if (this.kinds[c] === TEXT) {
        out.push({ kind: TEXT, text: (this.texts[c] as TextColumnBuilder).finish('') });
      } else if (this.kinds[c] === TIMESTAMP) {
        const chunks = [...this.fullSeconds[c], this.secondsChunk[c].subarray(0, this.slot)];
        this.fullSeconds[c] = [];
        this.secondsChunk[c] = new Float64Array(0);
        out.push({ kind: TIMESTAMP, seconds: chunks.length === 1 ? chunks[0] : concat(new Float64Array(this.rows), chunks) });
      } else out.push(undefined);
    }
    return out;
  }
}

/**
 * One zero-filled buffer for the numeric columns of a known capacity (they are views of it), or undefined above
 * MAX_COLUMN_BLOCK. A buffer this large comes from mmap, whose pages become resident only when a row is written;
 * columns allocated one by one (~100 KB each for 26k rows) came from the malloc heap, which zero-fills most of them
 * at once, so the whole data was resident at the start of the load, under everything the load allocates after it.
 */
function numericBlock(kinds: readonly CsvColumnKind[], capacity: number): ArrayBuffer | undefined {
  let columns = 0;
  for (const kind of kinds) if (kind === NUMERIC) columns++;
  const bytes = 4 * columns * capacity;
  return bytes > 0 && bytes <= MAX_COLUMN_BLOCK ? new ArrayBuffer(bytes) : undefined;
}

/** Above this, numeric columns are allocated one by one (each an mmap of its own). */
const MAX_COLUMN_BLOCK = 1 << 30;

function concat<T extends Float32Array | Int32Array | Float64Array>(into: T, chunks: readonly T[]): T {
  let at = 0;
  for (const chunk of chunks) {
    into.set(chunk, at);
    at += chunk.length;
  }
  return into;
}

// Streaming, byte-level CSV reader (RFC 4180: quoted fields with "" escapes and embedded newlines; LF, CRLF or CR
// line ends; UTF-8 BOM). Numbers are parsed straight from bytes (Clinger's fast path: an integer mantissa below
// 2^53 times or over an exact power of ten <= 1e22 is correctly rounded; longer mantissas are computed in double
// and kept when their float32 rounding is unambiguous; the rest go through Number()). Text
// cells are dictionary-encoded from bytes, and values go into typed-array column chunks of fixed size, so memory
// grows linearly with no doubling. O(bytes) time; memory O(rows x columns) for the output plus one read buffer.
//
// Two entry points: `peekCsv` decodes the first records as strings (format detection, type sniffing, headers);
// `readCsvInto` streams a whole file into a ColumnarBuilder shared by several files.

import { UserError } from '../errors.js';
import { TextColumnBuilder } from '../frame/text-column.js';
import type { TextColumn } from '../frame/frame.js';
import { ByteDictionary, warmUpDictionary } from './csv-dictionary.js';
import { openByteSource, pumpSource } from './csv-source.js';
import { readTimestampInto } from './csv-timestamp.js';
import { NUMERIC_MISSING, numericCellValue } from './numeric-text.js';

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

const LF = 10;
const CR = 13;
const QUOTE = 34;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;

const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

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

/**
 * Line feeds in bytes [start, end) of a file, plus one when the last line has none: an upper bound on records.
 * `scratch`: a read buffer to use (loading several files reuses one).
 */
export async function countLines(file: string, start = 0, end?: number, scratch?: Uint8Array): Promise<number> {
  warmUpParser();
  const source = await openByteSource(file, end === undefined ? undefined : { start, end });
  const buf = scratch ?? new Uint8Array(Math.min(1 << 20, source.totalBytes + 1));
  let lines = 0;
  let last = LF;
  try {
    for (;;) {
      const n = source.readSync ? source.readSync(buf, 0) : await source.read(buf, 0);
      if (n === 0) break;
      lines += lineFeedsIn(buf, n);
      last = buf[n - 1];
    }
  } finally {
    await source.close();
  }
  return last === LF ? lines : lines + 1;
}

/**
 * Line feeds among bytes[0, n). Long lines (flow records of ~80 columns, ~600 bytes) are stepped over with one indexOf
 * per line: native, and no heap number while V8 still interprets this function (CIC-IDS2017: ~5x less CPU in a fresh
 * process, and up to ~0.9 MB less young garbage). Short lines (KDD's ~145 bytes) are counted four bytes at a time (SWAR,
 * "Determine if a word has a zero byte" in Sean Anderson's Bit Twiddling Hacks): in each byte of w = word ^ 0x0A0A0A0A,
 * ~(((w & 0x7F7F7F7F) + 0x7F7F7F7F) | w | 0x7F7F7F7F) sets the top bit exactly when the byte is zero (no carry crosses
 * a byte); counts add up per byte lane, emptied every 255 words. The first 8 lines decide.
 */
function lineFeedsIn(bytes: Uint8Array, n: number): number {
  // indexOf searches the whole buffer and the result is bounded by n (a subarray per call was young garbage).
  let lines = 0;
  let at = -1;
  for (; lines < 8; lines++) {
    at = bytes.indexOf(LF, at + 1);
    if (at < 0 || at >= n) return lines;
  }
  if (at >= 8 * LONG_LINE_BYTES) {
    for (at = bytes.indexOf(LF, at + 1); at >= 0 && at < n; at = bytes.indexOf(LF, at + 1)) lines++;
    return lines;
  }
  let i = at + 1;
  for (; i < n && (bytes.byteOffset + i) % 4 !== 0; i++) if (bytes[i] === LF) lines++;
  if (i >= n) return lines; // no aligned word left (an Int32Array view may not start off a 4-byte boundary)
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + i, (n - i) >> 2);
  let lanes = 0;
  let wordsInLanes = 0;
  for (let w = 0; w < words.length; w++) {
    const x = words[w] ^ 0x0a0a0a0a;
    const zero = ~((((x & 0x7f7f7f7f) + 0x7f7f7f7f) | 0) | x | 0x7f7f7f7f);
    lanes = (lanes + ((zero >>> 7) & 0x01010101)) | 0;
    if (++wordsInLanes === 255) {
      lines += laneSum(lanes);
      lanes = 0;
      wordsInLanes = 0;
    }
  }
  lines += laneSum(lanes);
  for (i += words.length << 2; i < n; i++) if (bytes[i] === LF) lines++;
  return lines;
}

/** Mean line length from which the line count steps from line feed to line feed instead of testing every word. */
const LONG_LINE_BYTES = 256;

/** The four byte lanes of a word, added. */
function laneSum(lanes: number): number {
  return (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24);
}

export interface CsvReadOptions {
  /** Names of the fields, for error messages (length = number of fields). */
  readonly columnNames: readonly string[];
  /** The first record is a header (skipped). */
  readonly hasHeader: boolean;
  /** Field delimiter, one byte; ',' by default. */
  readonly delimiter?: string;
  /** Extra texts that mean "missing" in numeric columns (e.g. UNSW-NB15's '-'). */
  readonly missing?: readonly string[];
  /** Skip bad rows (counted per reason in `skipped`) instead of failing on the first one. */
  readonly skipBadRows?: boolean;
  /** Called after each read with bytes of the file consumed and its size. */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Initial read buffer size (grows to fit the longest record); 1 MiB by default. */
  readonly bufferBytes?: number;
  /** Read only bytes [start, end) of a plain file (parallel reading); start must begin a record. */
  readonly range?: { readonly start: number; readonly end: number };
  /** The file's header line, so that copies of it inside a range are recognised (with range, no header). */
  readonly header?: Uint8Array;
}

export interface CsvReadResult {
  /** Data rows added to the builder from this file. */
  readonly rows: number;
  /** Lines read (header, blank and skipped lines included). */
  readonly lines: number;
  /** Rows skipped, by reason (only with skipBadRows). */
  readonly skipped: ReadonlyMap<string, number>;
}

export const SKIP_RAGGED = 'ragged row (wrong number of fields)';
export const SKIP_NOT_NUMBER = 'text in a numeric column';
export const SKIP_REPEATED_HEADER = 'repeated header row';
export const SKIP_NOT_TIMESTAMP = 'text in a timestamp column';

const INITIAL_BUFFER = 1 << 20;

/**
 * Streams one CSV (or gzip-compressed CSV) file into the builder. `readBuffer`: the read buffer to use (loading
 * several files reuses one; every read buffer that is dropped stays resident until V8 happens to collect it).
 */
export async function readCsvInto(file: string, builder: ColumnarBuilder, options: CsvReadOptions, readBuffer?: Uint8Array): Promise<CsvReadResult> {
  if (options.columnNames.length !== builder.kinds.length) throw new Error('columnNames and kinds differ in length');
  const source = await openByteSource(file, options.range);
  warmUpParser();
  const parser = new RecordParser(file, builder, options);
  const size = options.bufferBytes ?? (source.gzip ? INITIAL_BUFFER : Math.min(INITIAL_BUFFER, source.totalBytes + 1024));
  let first = !(options.range && options.range.start > 0);
  await pumpSource(
    source,
    readBuffer ?? Math.max(4, size),
    (buf, filled, eof) => {
      let start = 0;
      if (first && filled >= 3) {
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
        first = false;
      } else if (first && eof) first = false;
      if (first) return 0; // fewer than 3 bytes so far: wait for the rest of a possible BOM
      return parser.parse(buf, start, filled, eof);
    },
    options.onProgress,
  );
  if (parser.headerPending && !options.range) throw new UserError('the file is empty', { file });
  return { rows: parser.rows, lines: parser.lines, skipped: parser.skipped };
}

/**
 * Runs the record parser and the line count once per process over a small CSV that takes all the parser's paths
 * (short and long numbers, a lone 0, exponents, infinities, missing and quoted cells, timestamps, blank lines, CRLF, a
 * copy of the header, a cell cut by the end of the buffer, new and repeated dictionary entries with hash collisions,
 * text cells), into a throwaway builder. V8 compiles code
 * only for the paths it has seen taken; a path first taken after that (the first Infinity of a later file, a buffer
 * end) throws the compiled parser away and compiles it again, ~8 ms of CPU each time (6 compilations for the 16
 * CIC-IDS2017 files, 3 for KDDTrain+, --trace-deopt).
 */
export function warmUpParser(): void {
  if (warmedUp) return;
  warmedUp = true;
  warmUpDictionary();
  // 17 digits beyond 2^53 with a fractional float32 ('1.2345678901234567', with and without exponent) take the
  // rounding check of both number paths; with integral values there, V8 compiled its compare for small integers.
  const numbers = ['1', '0', '-2.5', '0.000001', '1e3', '-4.5E-2', 'inf', '-Infinity', '', 'NaN', '12345678901234567890', '0.1234567890123456789', '1.2345678901234567', '1.2345678901234567e5', '"7"'];
  const times = ['2017-07-06 12:39:06.818901', '7/7/2017 3:30:01 PM', '1421927414', '', '6/7/2017 8:59', '"2017-07-07T09:00:00Z"'];
  const ordinaryNumbers = ['1', '0', '-2.5', '0.000001', '255', '0.123456789012345678', '1.2345678901234567', '3.75'];
  // V8 inlines into the optimised `parse` only the calls its feedback shows frequent (per call of `parse`), so the
  // paths that are rare or per row rather than per cell are taken rarely here: 400 rows of ordinary numbers, then
  // each rare cell once (quoted, exponent, infinity, missing, long mantissa, every time form, new and repeated
  // categories, two of them in one slot of a new dictionary). They stay calls (V8 compiles the hot ones on their
  // own), and the optimised parser is a smaller graph: TurboFan's zone memory, kept by its thread's malloc arena.
  // The same eight lines over and over (the text fields are skipped there): no string per line.
  const ordinaryLines = ordinaryNumbers.map((n) => `${n},c,s,t`);
  const ordinary = ['n,c,s,t'];
  for (let i = 0; i < 400; i++) ordinary.push(ordinaryLines[i % ordinaryLines.length]);
  const rare = ['n,c,s,t'];
  for (let i = 0; i < numbers.length; i++) rare.push(`${numbers[i]},${i % 3 === 0 ? `"k""${i}"` : i % 3 === 1 ? 'k91' : 'k200'},s${i},${times[i % times.length]}`);
  for (const lines of [ordinary, rare]) lines.splice(5, 0, '', 'n,c,s,t');
  const bytes = new TextEncoder().encode(`${ordinary.join('\r\n')}\n`);
  const rareBytes = new TextEncoder().encode(`${rare.join('\r\n')}\n`);
  const kinds = [NUMERIC, CATEGORICAL, TEXT, TIMESTAMP] as const;
  const numbersOnly = [NUMERIC, SKIP, SKIP, SKIP] as const;
  const options = { columnNames: ['n', 'c', 's', 't'], hasHeader: true };
  let parser = new RecordParser('(warm-up)', new ColumnarBuilder(numbersOnly, ordinary.length), options);
  warmUpParsers.push(parser);
  let pos = 0;
  for (const cut of [bytes.length >> 2, bytes.length >> 1]) pos = parser.parse(bytes, pos, cut, false);
  parser.parse(bytes, pos, bytes.length, true);
  // V8 records type feedback only once a function has run a little, so the first records (the header, the blank
  // line, the header copy) left none: the rare text repeats them. Its builder has no capacity, so that its chunk
  // rollovers give feedback for that call too (gzip input); its cuts fall inside cells. Room for its few text bytes
  // only: the builder lives as long as the process.
  parser = new RecordParser('(warm-up)', new ColumnarBuilder(kinds, undefined, undefined, 256), options);
  warmUpParsers.push(parser);
  pos = 0;
  for (const cut of [rareBytes.length >> 2, rareBytes.length >> 1]) pos = parser.parse(rareBytes, pos, cut, false);
  parser.parse(rareBytes, pos, rareBytes.length, true);
  // Short calls until V8 has decided to optimise `parse` and started compiling it (a call's entry starts a compile
  // that was decided inside an earlier call): the load's own planning and line counts then run while TurboFan
  // compiles on its thread, and the data is parsed by the optimised code from (nearly) its first row, instead of a
  // few thousand rows interpreted (young garbage: a heap number per nine digits of a long decimal and per fraction;
  // 1.5-3 MB on the 16 CIC-IDS2017 files when each digit past the ninth made two) and a second, on-stack-replacement
  // compilation of `parse`.
  const cheap = new TextEncoder().encode('1,k1,s,t\r\n0,k2,s,t\r\n');
  const tierUp = new RecordParser('(warm-up)', new ColumnarBuilder(numbersOnly, 2 * TIER_UP_CALLS), { ...options, hasHeader: false });
  warmUpParsers.push(tierUp);
  for (let i = 0; i < TIER_UP_CALLS; i++) tierUp.parse(cheap, 0, cheap.length, false);
  // The line count too: its code after the word loop had never run when V8 compiled the loop, so every call
  // deoptimised at the loop's end and started over in the interpreter (a heap number per word until compiled again).
  // 2 KiB (more than 255 words after the first 8 lines) take every path; the whole text made a heap number per word.
  lineFeedsIn(bytes.subarray(1, 2048), 2047);
  lineFeedsIn(bytes, 2048);
  const longLines = new Uint8Array(16 * LONG_LINE_BYTES).fill(48);
  for (let i = LONG_LINE_BYTES + 7; i < longLines.length; i += LONG_LINE_BYTES + 7) longLines[i] = LF;
  lineFeedsIn(longLines, longLines.length);
}
let warmedUp = false;
/**
 * The warm-up's parsers (with their builders and dictionaries) live as long as the process: optimised code refers
 * weakly to objects seen in its feedback, and a full GC that collected them during a load deoptimised `parse` and
 * `categoryCode` (then two on-stack replacements and two more compiles of `parse`).
 */
const warmUpParsers: RecordParser[] = [];
/** Enough short calls for V8 to decide to optimise `parse` (a few hundred; each call parses two short records). */
const TIER_UP_CALLS = 400;

let numberEnd = 0;

/**
 * Parses a decimal number starting at buf[i]; stores the first byte after it in `numberEnd`. Returns NaN when the
 * text is not a plain decimal (no digits, 'inf', 'nan', ...), leaving the cell to the slow path.
 */
function scanNumber(buf: Uint8Array, i: number, end: number): number {
  let negative = false;
  let c = buf[i];
  if (c === MINUS) {
    negative = true;
    i++;
  } else if (c === PLUS) i++;
  let mantissa = 0;
  let exponent = 0;
  let digits = 0;
  while (i < end) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    digits++;
    i++;
  }
  if (i < end && buf[i] === DOT) {
    i++;
    while (i < end) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      exponent--;
      digits++;
      i++;
    }
  }
  if (digits === 0) {
    numberEnd = i;
    return NaN;
  }
  if (i < end && (buf[i] | 0x20) === 101) {
    let j = i + 1;
    let expNegative = false;
    c = buf[j];
    if (c === MINUS) {
      expNegative = true;
      j++;
    } else if (c === PLUS) j++;
    let e = 0;
    const expStart = j;
    while (j < end) {
      const d = buf[j] - 48;
      if (d < 0 || d > 9) break;
      if (e < 100000) e = e * 10 + d;
      j++;
    }
    if (j === expStart) {
      numberEnd = j;
      return NaN;
    }
    exponent += expNegative ? -e : e;
    i = j;
  }
  numberEnd = i;
  if (mantissa <= Number.MAX_SAFE_INTEGER && exponent <= 22 && exponent >= -22) {
    // Exact operands, one rounding: correctly rounded, as Number() would be.
    const value = exponent >= 0 ? mantissa * POW10[exponent] : mantissa / POW10[-exponent];
    return negative ? -value : value;
  }
  if (digits > 19 || exponent > 300 || exponent < -300) return NaN;
  // Long mantissa or large exponent: a few double roundings (relative error < 2^-49). The value is stored as
  // float32, so it is exact unless it lies that close to a float32 rounding boundary; then Number() decides.
  const value = exponent >= 0 ? mantissa * 10 ** exponent : mantissa / 10 ** -exponent;
  if (Math.fround(value * (1 - 2 ** -49)) !== Math.fround(value * (1 + 2 ** -49))) return NaN;
  return negative ? -value : value;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

class RecordParser {
  rows = 0;
  readonly skipped = new Map<string, number>();
  headerPending: boolean;
  /** The next record is the header, to skip: read on every record (not behind &&), so V8 always has feedback for it. */
  private skipHeader: boolean;
  /** Line number (1-based) of the next record. */
  private line = 1;

  get lines(): number {
    return this.line - 1;
  }
  private readonly delimiter: number;
  private readonly numericMissing: ReadonlySet<string>;
  private readonly nFields: number;
  private readonly cellStart: Int32Array;
  private readonly cellEnd: Int32Array;
  private readonly cellEscaped: Uint8Array;
  /** The categorical and text fields, stored once their record is complete. */
  private readonly textFields: Int32Array;
  private scratch = new Uint8Array(256);
  /** The header line (empty until known), to recognise copies of it inside the data. */
  private headerBytes: Uint8Array;
  /** First byte of the header line, -1 until it is known. */
  private headerFirstByte = -1;

  constructor(
    private readonly file: string,
    private readonly builder: ColumnarBuilder,
    private readonly options: CsvReadOptions,
  ) {
    this.headerPending = options.range === undefined || options.range.start === 0;
    this.skipHeader = this.headerPending && options.hasHeader;
    this.headerBytes = options.header ?? new Uint8Array(0);
    this.headerFirstByte = this.headerBytes.length > 0 ? this.headerBytes[0] : -1;
    const delimiter = options.delimiter ?? ',';
    if (Buffer.byteLength(delimiter) !== 1) throw new UserError(`the delimiter must be one byte, got '${delimiter}'`);
    this.delimiter = delimiter.charCodeAt(0);
    this.numericMissing = options.missing?.length ? new Set([...NUMERIC_MISSING, ...options.missing]) : NUMERIC_MISSING;
    this.nFields = builder.kinds.length;
    this.cellStart = new Int32Array(this.nFields);
    this.cellEnd = new Int32Array(this.nFields);
    this.cellEscaped = new Uint8Array(this.nFields);
    const kinds = builder.kinds;
    let texts = 0;
    for (let f = 0; f < kinds.length; f++) if (kinds[f] === CATEGORICAL || kinds[f] === TEXT) texts++;
    this.textFields = new Int32Array(texts);
    for (let f = 0, k = 0; f < kinds.length; f++) if (kinds[f] === CATEGORICAL || kinds[f] === TEXT) this.textFields[k++] = f;
  }

  /**
   * Parses the complete records in buf[start, end); returns where the first incomplete one begins. Kept small (rare
   * paths live in methods) so that V8 optimises it quickly: most cells are short numbers, parsed inline.
   */
  parse(buf: Uint8Array, start: number, end: number, eof: boolean): number {
    this.eof = eof;
    const D = this.delimiter;
    const kinds = this.builder.kinds;
    const nFields = this.nFields;
    const builder = this.builder;
    let pos = start;
    while (pos < end) {
      const recordStart = pos;
      let c = buf[pos];
      if (c === LF || c === CR || (c === this.headerFirstByte && !this.headerPending)) {
        const after = this.blankOrHeaderCopy(buf, pos, end, eof);
        if (after < 0) return recordStart;
        if (after > 0) {
          pos = after;
          continue;
        }
      }
      const skipping = this.skipHeader;
      if (builder.slot >= builder.chunkRows) builder.nextChunk();
      const slot = builder.slot;
      let field = 0;
      this.embeddedLines = 0;
      this.badReason = '';
      for (;;) {
        const kind = skipping || field >= nFields ? SKIP : kinds[field];
        if (pos < end && buf[pos] === QUOTE) {
          pos = this.quotedField(buf, pos, end, field, kind, slot);
          if (pos < 0) return recordStart;
        } else if (kind === NUMERIC && pos + 1 < end && buf[pos] === ZERO && buf[pos + 1] === D) {
          // The most common cell of flow datasets: a lone 0 before a delimiter (KDDTrain+: -6% instructions).
          builder.numericChunk[field][slot] = 0;
          pos++;
        } else if (kind === NUMERIC) {
          // Inline fast path for the common cell: [-]digits[.digits]. Digits gather in a small integer, folded into
          // the mantissa once it holds nine significant ones: before V8 optimises this function (and while it compiles
          // it, on a busy machine for thousands of rows) a long mantissa then makes a heap number per nine digits, not
          // two per digit (CIC rows made ~4.6 KB of garbage each: scavenges that grew the young generation). The
          // mantissa is exact below 2^53 either way; a group longer than POW10 (leading zeros) leaves NaN to the
          // general path. The warm-up's long mantissas have already shown V8 that it can outgrow a small integer.
          let p = pos;
          const negative = p < end && buf[p] === MINUS;
          if (negative) p++;
          const intStart = p;
          let dotAt = -1;
          let mantissa = 0;
          let group = 0;
          let groupStart = p;
          while (p < end) {
            const d = buf[p] - 48;
            if (d < 0 || d > 9) {
              if (d !== DOT - 48 || dotAt >= 0) break;
              dotAt = p++;
              groupStart++; // the dot is no digit of the group
              continue;
            }
            group = (group * 10 + d) | 0; // below 10^9: no overflow check
            p++;
            if (group >= 100_000_000) {
              mantissa = mantissa * POW10[p - groupStart] + group;
              group = 0;
              groupStart = p;
            }
          }
          mantissa = mantissa === 0 ? group : mantissa * POW10[p - groupStart] + group;
          const digits = (dotAt < 0 ? p : dotAt) - intStart;
          const fracDigits = dotAt < 0 ? 0 : p - dotAt - 1;
          let value = NaN;
          if (digits + fracDigits > 0 && fracDigits <= 22 && (p < end ? (c = buf[p]) === D || c === LF || c === CR : eof)) {
            value = fracDigits === 0 ? mantissa : mantissa / POW10[fracDigits];
            // Beyond 2^53 the mantissa carries a few roundings (< 2^-49 relative for up to 19 digits): keep the value
            // when its float32 rounding is unambiguous anyway, else let the general path decide.
            if (mantissa > Number.MAX_SAFE_INTEGER && (digits + fracDigits > 19 || Math.fround(value * (1 - 2 ** -49)) !== Math.fround(value * (1 + 2 ** -49)))) value = NaN;
          }
          if (value === value) {
            builder.numericChunk[field][slot] = negative ? -value : value;
            pos = p;
          } else {
            if (p >= end && !eof) return recordStart;
            pos = this.generalNumber(buf, pos, end, field, slot);
            if (pos < 0) return recordStart;
          }
        } else {
          const cellStart = pos;
          while (pos < end && (c = buf[pos]) !== D && c !== LF && c !== CR) pos++;
          if (kind === CATEGORICAL || kind === TEXT) {
            this.cellStart[field] = cellStart;
            this.cellEnd[field] = pos;
            this.cellEscaped[field] = 0;
          } else if (kind === TIMESTAMP && (pos < end || eof)) this.timestampCell(buf, cellStart, pos, field, slot);
        }
        // After a field: a delimiter, a line end, or the end of the data.
        if (pos >= end) {
          if (!eof) return recordStart;
          break;
        }
        c = buf[pos];
        if (c === D) {
          pos++;
          field++;
          continue;
        }
        if (c === CR) {
          if (pos + 1 >= end && !eof) return recordStart;
          pos += buf[pos + 1] === LF ? 2 : 1;
        } else pos++;
        break;
      }
      // A complete record of field + 1 fields ends before pos.
      const recordLine = this.line;
      this.line += 1 + this.embeddedLines;
      if (skipping || field + 1 !== nFields || this.badReason !== '') {
        this.unusualRecord(buf, recordStart, pos, recordLine, field + 1, skipping);
        continue;
      }
      const textFields = this.textFields;
      for (let k = 0; k < textFields.length; k++) {
        const f = textFields[k];
        if (kinds[f] === CATEGORICAL) builder.codeChunk[f][slot] = this.categoryCode(buf, f);
        else this.textCell(buf, f);
      }
      builder.commit();
      this.rows++;
      this.headerPending = false;
      this.skipHeader = false;
    }
    return pos;
  }

  /** Lines in quoted fields of the current record, and why it is bad ('' when it is not). */
  private embeddedLines = 0;
  private badReason = '';

  /**
   * At a record start: a blank line or a copy of the header (CSE-CIC-IDS2018 has them) is skipped (header copies
   * counted); returns the position after it, 0 for an ordinary record, -1 when the buffer ends too soon to tell.
   */
  private blankOrHeaderCopy(buf: Uint8Array, pos: number, end: number, eof: boolean): number {
    const c = buf[pos];
    if (c === LF || c === CR) {
      if (c === CR && pos + 1 === end && !eof) return -1;
      this.line++;
      return pos + (c === CR && buf[pos + 1] === LF ? 2 : 1);
    }
    const header = this.headerBytes;
    if (pos + header.length > end) return eof ? 0 : -1;
    for (let i = 0; i < header.length; i++) if (buf[pos + i] !== header[i]) return 0;
    let at = pos + header.length;
    if (at < end && buf[at] !== LF && buf[at] !== CR) return 0;
    if (at >= end && !eof) return -1;
    if (at < end && buf[at] === CR) {
      if (at + 1 >= end && !eof) return -1;
      at += buf[at + 1] === LF ? 2 : 1;
    } else if (at < end) at++;
    this.line++;
    this.skipped.set(SKIP_REPEATED_HEADER, (this.skipped.get(SKIP_REPEATED_HEADER) ?? 0) + 1);
    return at;
  }

  /** A quoted field (to the closing quote, across delimiters and newlines); returns the position after it or -1. */
  private quotedField(buf: Uint8Array, pos: number, end: number, field: number, kind: number, slot: number): number {
    const D = this.delimiter;
    pos++;
    const cellStart = pos;
    let escaped = 0;
    for (;;) {
      if (pos >= end) {
        if (!this.eof) return -1;
        throw new UserError('a quoted field is never closed', { file: this.file, line: this.line, column: this.columnName(field) });
      }
      const c = buf[pos];
      if (c === QUOTE) {
        if (pos + 1 >= end && !this.eof) return -1;
        if (buf[pos + 1] === QUOTE) {
          escaped = 1;
          pos += 2;
          continue;
        }
        break;
      }
      if (c === LF) this.embeddedLines++;
      pos++;
    }
    const cellEnd = pos;
    pos++;
    if (kind === NUMERIC) {
      const value = this.slowNumber(buf, cellStart, cellEnd, field);
      if (value === undefined) this.badReason ||= SKIP_NOT_NUMBER;
      else this.builder.numericChunk[field][slot] = value;
    } else if (kind === CATEGORICAL || kind === TEXT) {
      this.cellStart[field] = cellStart;
      this.cellEnd[field] = cellEnd;
      this.cellEscaped[field] = escaped;
    } else if (kind === TIMESTAMP) this.timestampCell(buf, cellStart, cellEnd, field, slot);
    // Bytes between the closing quote and the delimiter are ignored, as most readers do.
    while (pos < end && buf[pos] !== D && buf[pos] !== LF && buf[pos] !== CR) pos++;
    return pos;
  }

  /** The header (remembered), a ragged row or a row with a bad cell (error, or skipped and counted). */
  private unusualRecord(buf: Uint8Array, recordStart: number, pos: number, recordLine: number, fields: number, header: boolean): void {
    if (header) {
      this.headerPending = false;
      this.skipHeader = false;
      let contentEnd = pos;
      while (contentEnd > recordStart && (buf[contentEnd - 1] === LF || buf[contentEnd - 1] === CR)) contentEnd--;
      this.headerBytes = buf.slice(recordStart, contentEnd);
      this.headerFirstByte = this.headerBytes.length > 0 ? this.headerBytes[0] : -1;
      return;
    }
    this.headerPending = false;
    this.skipHeader = false;
    let reason = this.badReason;
    if (fields !== this.nFields) {
      if (!this.options.skipBadRows) {
        throw new UserError(`this row has ${fields} fields, expected ${this.nFields} (ragged row)`, { file: this.file, line: recordLine });
      }
      reason = SKIP_RAGGED;
    }
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }

  private categoryCode(buf: Uint8Array, field: number): number {
    const start = this.cellStart[field];
    const end = this.cellEnd[field];
    if (start === end) return -1;
    const dictionary = this.builder.dictionaries[field] as ByteDictionary;
    if (this.cellEscaped[field] === 0) return dictionary.code(buf, start, end);
    const n = this.unescape(buf, start, end);
    return dictionary.code(this.scratch, 0, n);
  }

  /** Appends a text cell's bytes to its column (an empty cell: an empty value, i.e. missing). */
  private textCell(buf: Uint8Array, field: number): void {
    const text = this.builder.texts[field] as TextColumnBuilder;
    const start = this.cellStart[field];
    const end = this.cellEnd[field];
    if (this.cellEscaped[field] === 0) text.append(buf, start, end);
    else text.append(this.scratch, 0, this.unescape(buf, start, end));
  }

  /** Collapses "" to " in a scratch buffer; returns the length. */
  private unescape(buf: Uint8Array, start: number, end: number): number {
    if (this.scratch.length < end - start) this.scratch = new Uint8Array(end - start);
    let n = 0;
    for (let i = start; i < end; i++) {
      this.scratch[n++] = buf[i];
      if (buf[i] === QUOTE) i++;
    }
    return n;
  }

  private eof = false;

  /**
   * A numeric cell that is not a short plain decimal: exponents, long mantissas, missing tokens, infinities, text.
   * Stores the value; returns the position after the cell, or -1 when the buffer ends inside it.
   */
  private generalNumber(buf: Uint8Array, pos: number, end: number, field: number, slot: number): number {
    const D = this.delimiter;
    const cellStart = pos;
    let c: number;
    let value: number | undefined = NaN;
    if (pos < end && (c = buf[pos]) !== D && c !== LF && c !== CR) {
      value = scanNumber(buf, pos, end);
      pos = numberEnd;
      if (value !== value || (pos < end && (c = buf[pos]) !== D && c !== LF && c !== CR)) {
        while (pos < end && (c = buf[pos]) !== D && c !== LF && c !== CR) pos++;
        if (pos >= end && !this.eof) return -1;
        value = this.slowNumber(buf, cellStart, pos, field);
      }
    }
    if (value === undefined) this.badReason ||= SKIP_NOT_NUMBER;
    else this.builder.numericChunk[field][slot] = value;
    return pos;
  }

  /**
   * Stores the seconds of a timestamp cell; an empty cell or a missing token is NaN. Anything else that does not read
   * as a timestamp is an error naming the cell (or, with skipBadRows, makes the row bad).
   */
  private timestampCell(buf: Uint8Array, start: number, end: number, field: number, slot: number): void {
    if (!readTimestampInto(buf, start, end, this.builder.secondsChunk[field], slot)) {
      const text = latin1.decode(buf.subarray(start, end)).trim();
      if (text !== '' && !this.numericMissing.has(text)) {
        if (!this.options.skipBadRows) {
          const shown = utf8.decode(buf.subarray(start, Math.min(end, start + 40)));
          throw new UserError(`'${shown}' is not a timestamp (d/m/yyyy h:mm[:ss] [AM|PM], yyyy-mm-dd hh:mm[:ss[.ffffff]] or seconds since 1970)`, {
            file: this.file,
            line: this.line,
            column: this.columnName(field),
          });
        }
        this.badReason ||= SKIP_NOT_TIMESTAMP;
      }
    }
  }

  /** Missing tokens, infinities and decimal numbers (beyond float64: ±Infinity); undefined (or a UserError) for text. */
  private slowNumber(buf: Uint8Array, start: number, end: number, field: number): number | undefined {
    const value = numericCellValue(latin1.decode(buf.subarray(start, end)).trim(), this.numericMissing);
    if (value !== undefined || this.options.skipBadRows) return value;
    const shown = utf8.decode(buf.subarray(start, Math.min(end, start + 40)));
    throw new UserError(`'${shown}' is not a number (text in a numeric column)`, { file: this.file, line: this.line, column: this.columnName(field) });
  }

  private columnName(field: number): string | number {
    return this.options.columnNames[field] ?? field + 1;
  }
}

export interface CsvPeek {
  readonly file: string;
  readonly gzip: boolean;
  /** First records as text (the header, if any, is records[0]); the last one is dropped if cut by the sample. */
  readonly records: string[][];
  /** The sample contains NUL bytes: not a text file. */
  readonly binary: boolean;
  /** The sample reached the end of the file. */
  readonly complete: boolean;
  /** Leading text of the sample, for formats that are not CSV (XML). */
  readonly head: string;
  /** The sample contains a double quote (quoted fields may span lines: no splitting at line ends). */
  readonly quoted: boolean;
  /** Size of the file on disk. */
  readonly fileBytes: number;
  /** Bytes of the whole file's data: its size, or for gzip the size its trailer records (ByteSource.expandedBytes). */
  readonly expandedBytes: number;
  /** Mean bytes per line of the sample's complete lines (0 without one): with expandedBytes, a row-count estimate. */
  readonly bytesPerLine: number;
}

/**
 * Decodes up to `maxRecords` records from the first `maxBytes` of the file (for detection and headers). `scratch`: a
 * buffer to read into when it is large enough (a load peeks at every file through its one read buffer).
 */
export async function peekCsv(file: string, maxRecords = 200, maxBytes = 1 << 20, delimiter = ',', scratch?: Uint8Array): Promise<CsvPeek> {
  const source = await openByteSource(file);
  const { totalBytes: fileBytes, expandedBytes } = source;
  // Sized for the records asked for (a few KiB for a header and a row), growing 4x while they do not fit.
  const size = Math.min(1 << 16, 4096 * (maxRecords + 1));
  let buf = scratch && scratch.length >= size ? scratch.subarray(0, size) : new Uint8Array(size);
  let filled = 0;
  let complete = false;
  try {
    while (filled < maxBytes) {
      if (filled === buf.length) {
        const bigger = new Uint8Array(Math.min(maxBytes, buf.length * 4));
        bigger.set(buf);
        buf = bigger;
      }
      const n = source.readSync ? source.readSync(buf, filled) : await source.read(buf, filled);
      if (n === 0) {
        complete = true;
        break;
      }
      filled += n;
      if (lineFeeds(buf, filled) > maxRecords) break;
    }
  } finally {
    await source.close();
  }
  let bytes = buf.subarray(0, filled);
  const lines = lineFeeds(buf, filled);
  const bytesPerLine = complete ? filled / Math.max(1, lines + (filled > 0 && bytes[filled - 1] !== LF ? 1 : 0)) : lines > 0 ? (bytes.lastIndexOf(LF) + 1) / lines : 0;
  const binary = bytes.includes(0);
  const quoted = bytes.includes(QUOTE);
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  // Only the lines the sample needs (blank ones not counted) are decoded: the records' strings are slices of this
  // text and keep it alive.
  let lf = -1;
  for (let kept = 0; kept <= maxRecords; ) {
    const next = bytes.indexOf(LF, lf + 1);
    if (next < 0) {
      lf = -1;
      break;
    }
    if (next - lf > 2 || (next - lf === 2 && bytes[lf + 1] !== CR)) kept++;
    lf = next;
  }
  const cut = lf >= 0 && lf + 1 < bytes.length;
  const text = utf8.decode(cut ? bytes.subarray(0, lf + 1) : bytes);
  const records = binary ? [] : splitRecords(text, delimiter, complete && !cut, maxRecords + 1);
  return { file, gzip: source.gzip, records: records.slice(0, maxRecords), binary, complete: complete && !cut && records.length <= maxRecords, head: text.slice(0, 4096), quoted, fileBytes, expandedBytes, bytesPerLine };
}

function lineFeeds(buf: Uint8Array, n: number): number {
  let lines = 0;
  for (let i = buf.indexOf(LF); i >= 0 && i < n; i = buf.indexOf(LF, i + 1)) lines++;
  return lines;
}

const LINE_END = /\r\n|\n|\r/;

/** Small string CSV splitter for samples and error lines (same quoting rules as the byte parser). */
export function splitRecords(text: string, delimiter: string, complete: boolean, maxRecords: number): string[][] {
  if (!text.includes('"')) return splitPlainRecords(text, delimiter, complete, maxRecords);
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n && records.length < maxRecords) {
    let cell: string;
    if (text[i] === '"') {
      // Quoted cell: up to the closing quote, "" standing for ".
      let j = i + 1;
      cell = '';
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return records;
        cell += text.slice(j, q);
        if (text[q + 1] === '"') {
          cell += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      while (i < n && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') i++;
    } else {
      let j = i;
      while (j < n && text[j] !== delimiter && text[j] !== '\n' && text[j] !== '\r') j++;
      cell = text.slice(i, j);
      i = j;
    }
    record.push(cell);
    if (i >= n) {
      if (complete) records.push(record);
      break;
    }
    const ch = text[i];
    i++;
    if (ch === delimiter) continue;
    if (ch === '\r' && text[i] === '\n') i++;
    if (!(record.length === 1 && record[0] === '')) records.push(record);
    record = [];
  }
  return records;
}

/**
 * splitRecords for text without quotes, through the engine's own split (no per-character loop for V8 to compile):
 * blank lines skipped, the text after the last line end kept only when it completes the file.
 */
function splitPlainRecords(text: string, delimiter: string, complete: boolean, maxRecords: number): string[][] {
  const lines = text.split(LINE_END);
  const records: string[][] = [];
  for (let k = 0; k < lines.length && records.length < maxRecords; k++) {
    if (lines[k] === '' || (k === lines.length - 1 && !complete)) continue;
    records.push(lines[k].split(delimiter));
  }
  return records;
}

// Streaming, byte-level CSV reader (RFC 4180: quoted fields with "" escapes and embedded newlines; LF, CRLF or CR
// line ends; UTF-8 BOM). Numbers are parsed straight from bytes (Clinger's fast path: an integer mantissa below
// 2^53 times or over an exact power of ten <= 1e22 is correctly rounded; longer mantissas are computed in double
// and kept when their float32 rounding is unambiguous; the rest go through Number()). Text
// cells are dictionary-encoded from bytes, and values go into typed-array column chunks of fixed size, so memory
// grows linearly with no doubling. O(bytes) time; memory O(rows x columns) for the output plus one read buffer.
//
// `readCsvInto` streams a whole file into a ColumnarBuilder (./columnar-builder.ts) shared by several files. The
// first records as strings (format detection, type sniffing, headers): `peekCsv` in ./csv-peek.ts.

import { UserError } from '../errors.js';
import type { TextColumnBuilder } from '../frame/text-column.js';
import type * as columnar from './columnar-builder.js';
import { ColumnarBuilder } from './columnar-builder.js';
import { type ByteDictionary, warmUpDictionary } from './csv-dictionary.js';
import { openByteSource, pumpSource } from './csv-source.js';
import { readTimestampInto } from './csv-timestamp.js';
import { LONG_LINE_BYTES, lineFeedsIn } from './line-feeds.js';
import { NUMERIC_MISSING, numericCellValue } from './numeric-text.js';

// The field kinds of ./columnar-builder.ts as constants of this module, each typed by the exported kind so that a copy
// that drifts from it does not compile: V8 folds a module's own unexported constants into the optimised `parse`, but
// reads an imported (or exported) binding from its module cell, with a hole check, at every use (KDDTrain+: ~6% more
// instructions per load).
const SKIP: typeof columnar.SKIP = 0;
const NUMERIC: typeof columnar.NUMERIC = 1;
const CATEGORICAL: typeof columnar.CATEGORICAL = 2;
const TIMESTAMP: typeof columnar.TIMESTAMP = 3;
const TEXT: typeof columnar.TEXT = 4;

const LF = 10;
const CR = 13;
const QUOTE = 34;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;

const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

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

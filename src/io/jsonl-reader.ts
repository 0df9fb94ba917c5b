// Streaming, byte-level reader of JSON lines (one RFC 8259 object per line: the JSON Lines / NDJSON convention) into
// the loader's column builder (./columnar-builder.ts), so that a file of JSON lines loads into the same Frame as the
// CSV of the same rows. Each value goes into its column as the CSV cell holding its text would: a number's text, a
// string's value (a string in a numeric column is read as CSV text is: '', 'NaN', 'Infinity', '1e3'...), `true` and
// `false` by name; `null` and a key absent from a line are missing values. NaN, Infinity and -Infinity (Python's json
// writes them) are numbers. Keys may come in any order; each line's order predicts the next one's, so a key is found
// by one comparison of its bytes. Numbers are parsed from bytes (Clinger's fast path: up to 15 digits times or over
// an exact power of ten <= 1e22 is correctly rounded; longer ones through Number()). A line that is not JSON, not an
// object, names a key twice or a key no column has, or nests an object or array (beyond the one nested object a
// layout names, extract's `features`), is one error line naming file, line and column, or with skipBadRows a row
// skipped and counted. Blank lines are no rows (as in CSV). O(bytes) time; one read buffer.

import { UserError } from '../errors.js';
import type { TextColumnBuilder } from '../frame/text-column.js';
import type * as columnar from './columnar-builder.js';
import type { ColumnarBuilder } from './columnar-builder.js';
import type { ByteDictionary } from './csv-dictionary.js';
import type { CsvReadResult } from './csv-reader.js';
import { openByteSource, pumpSource } from './csv-source.js';
import { readTimestampInto } from './csv-timestamp.js';
import { NUMERIC_MISSING, numericCellValue } from './numeric-text.js';

const SKIP: typeof columnar.SKIP = 0;
const NUMERIC: typeof columnar.NUMERIC = 1;
const CATEGORICAL: typeof columnar.CATEGORICAL = 2;
const TIMESTAMP: typeof columnar.TIMESTAMP = 3;
const TEXT: typeof columnar.TEXT = 4;

/** How the keys of a file's lines map to the columns of its plan (built from the peeked lines, src/datasets/jsonl-peek.ts). */
export interface JsonLinesLayout {
  /** Names of the columns, in column order: the "header" of the file. */
  readonly columns: readonly string[];
  /** Top-level keys and the column each fills (-1: a key that is read and left out, such as extract's `startMs`). */
  readonly keys: ReadonlyMap<string, number>;
  /** The one top-level key whose value is an object of further keys, with their columns (extract's `features`). */
  readonly nested?: { readonly key: string; readonly keys: ReadonlyMap<string, number> };
  /** A column made of top-level values joined by '-' (the CIC Flow ID: addresses, ports and protocol). */
  readonly joined?: { readonly column: number; readonly parts: readonly string[] };
  /** What the lines are, for messages: 'JSON lines', or the flow lines of a command. */
  readonly shape: string;
}

export interface JsonLinesReadOptions {
  readonly layout: JsonLinesLayout;
  /** Names of the columns for error lines (the plan's names). */
  readonly columnNames: readonly string[];
  /** Extra texts that mean "missing" in numeric columns (as for CSV). */
  readonly missing?: readonly string[];
  readonly skipBadRows?: boolean;
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export const SKIP_NOT_JSON = 'line that is not a JSON object';
export const SKIP_NESTED = 'JSON line with a nested object or array';
export const SKIP_UNKNOWN_KEY = 'JSON line with a key no column has';
export const SKIP_DUPLICATE_KEY = 'JSON line naming a key twice';
const SKIP_NOT_NUMBER = 'text in a numeric column';
const SKIP_NOT_TIMESTAMP = 'text in a timestamp column';

/** Streams one JSON-lines (or gzip-compressed JSON-lines) file into the builder. */
export async function readJsonLinesInto(file: string, builder: ColumnarBuilder, options: JsonLinesReadOptions, readBuffer?: Uint8Array): Promise<CsvReadResult> {
  if (options.layout.columns.length !== builder.kinds.length) throw new Error('layout columns and kinds differ in length');
  const source = await openByteSource(file);
  const parser = new JsonLinesParser(file, builder, options);
  let first = true;
  await pumpSource(
    source,
    readBuffer ?? Math.min(1 << 20, source.totalBytes + 1024),
    (buf, filled, eof) => {
      let start = 0;
      if (first && filled < 3 && !eof) return 0; // wait for the rest of a possible BOM
      if (first && filled >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
      first = false;
      return parser.parse(buf, start, filled, eof);
    },
    options.onProgress,
  );
  return { rows: parser.rows, lines: parser.line, skipped: parser.skipped };
}

const LF = 10;
const CR = 13;
const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const COLON = 58;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const OPEN = 123;
const CLOSE = 125;

/** How a text or categorical column's cell of the current line is held until the line is known to be good. */
const CELL_MISSING = 0;
const CELL_BYTES = 1;
/** A string with escapes: decoded when stored. */
const CELL_ESCAPED = 2;

const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
/** The chunk given for a number that no numeric column takes. */
const NO_VALUES = new Float32Array(0);
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** A bad line: why (the skip reason), what to say and where. */
class BadLine {
  constructor(
    readonly reason: string,
    readonly problem: string,
    readonly column: number | string,
    /** The JSON ends early (the line ends inside a string or before a value): a last line so was cut short. */
    readonly endsEarly = false,
  ) {}
}

/** The keys of one object level: their bytes, the column (-1: none) and capture slot (-1: none) of each. */
class KeyTable {
  readonly names: string[];
  readonly keyBytes: Uint8Array[];
  readonly columns: Int32Array;
  readonly captures: Int32Array;
  readonly lookup: Map<string, number>;
  /** The key found at each position of the last line: the guess for this line's key at that position. */
  readonly order: Int32Array;
  /** The line (stamp) each key was last seen on: a second one on the same line is a duplicate key. */
  readonly seen: Int32Array;
  /** The key whose value is the nested object, -1 without one. */
  nestedKey = -1;

  constructor(keys: ReadonlyMap<string, number>, captures: readonly string[], nested?: string) {
    this.names = [...keys.keys()];
    if (nested !== undefined) this.names.push(nested);
    this.keyBytes = this.names.map((n) => encoder.encode(n));
    this.columns = Int32Array.from(this.names, (n) => keys.get(n) ?? -1);
    this.captures = Int32Array.from(this.names, (n) => captures.indexOf(n));
    this.lookup = new Map(this.names.map((n, i) => [n, i]));
    this.order = Int32Array.from(this.names, (_, i) => i);
    this.seen = new Int32Array(this.names.length);
    if (nested !== undefined) this.nestedKey = this.names.length - 1;
  }
}

class JsonLinesParser {
  rows = 0;
  /** Lines read so far; the current line's number while it is parsed. */
  line = 0;
  readonly skipped = new Map<string, number>();
  private readonly kinds: Uint8Array;
  private readonly top: KeyTable;
  private readonly nested: KeyTable | undefined;
  private readonly numericMissing: ReadonlySet<string>;
  /** Per column: the line it was last filled on, and its held cell (text and categorical columns). */
  private readonly columnSeen: Int32Array;
  private readonly cellStart: Int32Array;
  private readonly cellEnd: Int32Array;
  private readonly cellMode: Uint8Array;
  /** Columns some key fills (not skipped), and the text and categorical ones among them. */
  private readonly keyedColumns: Int32Array;
  private readonly heldColumns: Int32Array;
  private readonly joinedColumn: number;
  private readonly captureStart: Int32Array;
  private readonly captureEnd: Int32Array;
  private readonly captureMode: Uint8Array;
  /** The top-level key of each capture slot. */
  private readonly captureKeys: Int32Array;
  private stamp = 0;
  private filled = 0;
  private lineStart = 0;
  private scratch = new Uint8Array(256);

  constructor(
    private readonly file: string,
    private readonly builder: ColumnarBuilder,
    private readonly options: JsonLinesReadOptions,
  ) {
    const { layout } = options;
    this.kinds = builder.kinds;
    const parts = layout.joined?.parts ?? [];
    this.top = new KeyTable(layout.keys, parts, layout.nested?.key);
    this.nested = layout.nested ? new KeyTable(layout.nested.keys, []) : undefined;
    this.numericMissing = options.missing?.length ? new Set([...NUMERIC_MISSING, ...options.missing]) : NUMERIC_MISSING;
    const n = this.kinds.length;
    this.columnSeen = new Int32Array(n);
    this.cellStart = new Int32Array(n);
    this.cellEnd = new Int32Array(n);
    this.cellMode = new Uint8Array(n);
    const keyed = [...layout.keys.values(), ...(layout.nested?.keys.values() ?? [])].filter((c) => c >= 0 && this.kinds[c] !== SKIP);
    this.keyedColumns = Int32Array.from(keyed);
    this.heldColumns = Int32Array.from(keyed.filter((c) => this.kinds[c] === CATEGORICAL || this.kinds[c] === TEXT));
    this.joinedColumn = layout.joined && this.kinds[layout.joined.column] !== SKIP ? layout.joined.column : -1;
    this.captureStart = new Int32Array(parts.length);
    this.captureEnd = new Int32Array(parts.length);
    this.captureMode = new Uint8Array(parts.length);
    this.captureKeys = Int32Array.from(parts, (_, p) => this.top.captures.indexOf(p));
  }

  /** Parses the complete lines of buf[start, end) (at eof, the last one too); returns where the first incomplete one begins. */
  parse(buf: Uint8Array, start: number, end: number, eof: boolean): number {
    let pos = start;
    while (pos < end) {
      let lineEnd = buf.indexOf(LF, pos);
      if (lineEnd < 0 || lineEnd >= end) {
        if (!eof) return pos;
        lineEnd = end;
      }
      this.line++;
      try {
        this.parseLine(buf, pos, lineEnd);
      } catch (err) {
        if (!(err instanceof BadLine)) throw err;
        const cut = lineEnd === end && eof && err.endsEarly ? ' (the last line is cut short: was the file still being written?)' : '';
        if (!this.options.skipBadRows) throw new UserError(`${err.problem}${cut}`, { file: this.file, line: this.line, column: err.column });
        this.skipped.set(err.reason, (this.skipped.get(err.reason) ?? 0) + 1);
      }
      pos = lineEnd + 1;
    }
    return Math.min(pos, end);
  }

  private parseLine(buf: Uint8Array, start: number, end: number): void {
    let i = skipSpace(buf, start, end);
    if (i === end) return;
    this.lineStart = start;
    if (buf[i] !== OPEN) this.syntax(buf, i, end, 'a JSON line holds one object ({...})');
    const builder = this.builder;
    if (builder.slot >= builder.chunkRows) builder.nextChunk();
    const slot = builder.slot;
    this.stamp++;
    this.filled = 0;
    i = this.object(buf, i, end, this.top, slot);
    i = skipSpace(buf, i, end);
    if (i < end) this.syntax(buf, i, end, 'text after the object (one object per line)');
    if (this.filled !== this.keyedColumns.length) this.fillMissing(slot);
    if (this.joinedColumn >= 0) this.joinedCell(buf, slot);
    const held = this.heldColumns;
    for (let k = 0; k < held.length; k++) this.storeHeld(buf, held[k], slot);
    builder.commit();
    this.rows++;
  }

  /** An object at buf[i] ('{'): its keys and values; returns the position after its '}'. */
  private object(buf: Uint8Array, i: number, end: number, table: KeyTable, slot: number): number {
    i = skipSpace(buf, i + 1, end);
    if (i < end && buf[i] === CLOSE) return i + 1;
    const stamp = this.stamp;
    for (let position = 0; ; position++) {
      if (i >= end || buf[i] !== QUOTE) this.syntax(buf, i, end, 'expected a key in double quotes');
      const keyAt = i;
      const keyStart = i + 1;
      let key = this.guessedKey(table, buf, keyStart, end, position);
      let keyEnd: number;
      if (key >= 0) keyEnd = keyStart + table.keyBytes[key].length;
      else {
        keyEnd = this.stringEnd(buf, keyStart, end);
        key = this.lookUpKey(table, buf, keyStart, keyEnd, position);
      }
      if (key < 0) {
        const name = this.keyText(buf, keyStart, keyEnd);
        throw new BadLine(SKIP_UNKNOWN_KEY, `key '${name}' is not among the keys of the file's first lines (${this.options.layout.shape}): give every line the same keys`, this.charColumn(buf, i));
      }
      if (table.seen[key] === stamp) throw new BadLine(SKIP_DUPLICATE_KEY, `key '${table.names[key]}' appears twice on the line`, this.charColumn(buf, i));
      table.seen[key] = stamp;
      i = skipSpace(buf, keyEnd + 1, end);
      if (i >= end || buf[i] !== COLON) this.syntax(buf, i, end, "expected ':' after a key");
      i = skipSpace(buf, i + 1, end);
      const first = i < end ? buf[i] : -1;
      if (key === table.nestedKey && this.nested && first === OPEN) i = this.object(buf, i, end, this.nested, slot);
      else if (first === OPEN || first === OPEN_BRACKET) {
        throw new BadLine(SKIP_NESTED, `key '${table.names[key]}' holds ${first === OPEN ? 'an object' : 'an array'}: values are numbers, strings, true, false or null (only the flow lines of extract and collect nest their 'features')`, this.charColumn(buf, keyAt));
      } else i = this.value(buf, i, end, table.columns[key], table.captures[key], slot);
      i = skipSpace(buf, i, end);
      const c = i < end ? buf[i] : -1;
      if (c === COMMA) {
        i = skipSpace(buf, i + 1, end);
        continue;
      }
      if (c === CLOSE) return i + 1;
      this.syntax(buf, i, end, "expected ',' or '}'");
    }
  }

  /**
   * The key found at `position` on the last line, if the key at buf[start] (after its opening quote) is its bytes and
   * a closing quote (a key with a quote, backslash or control character is escaped in JSON: never equal); else -1.
   */
  private guessedKey(table: KeyTable, buf: Uint8Array, start: number, end: number, position: number): number {
    if (position >= table.order.length) return -1;
    const guess = table.order[position];
    const bytes = table.keyBytes[guess];
    const n = bytes.length;
    if (start + n >= end || buf[start + n] !== QUOTE) return -1;
    for (let k = 0; k < n; k++) if (bytes[k] !== buf[start + k]) return -1;
    return guess;
  }

  /** The key in buf[start, end) by its text; it becomes the guess for its position. */
  private lookUpKey(table: KeyTable, buf: Uint8Array, start: number, end: number, position: number): number {
    const found = table.lookup.get(this.keyText(buf, start, end)) ?? -1;
    if (found >= 0 && position < table.order.length) table.order[position] = found;
    return found;
  }

  private keyText(buf: Uint8Array, start: number, end: number): string {
    return buf.subarray(start, end).includes(BACKSLASH) ? (JSON.parse(utf8.decode(buf.subarray(start - 1, end + 1))) as string) : utf8.decode(buf.subarray(start, end));
  }

  /** Whether the last string scanned by stringEnd held an escape. */
  private escaped = false;

  /** The closing quote of a string whose text starts at `start`; escapes and control characters checked. */
  private stringEnd(buf: Uint8Array, start: number, end: number): number {
    let i = start;
    this.escaped = false;
    while (i < end) {
      const c = buf[i];
      if (c === QUOTE) return i;
      if (c === BACKSLASH) {
        this.escaped = true;
        i = this.escape(buf, i, end);
        continue;
      }
      if (c < SPACE) this.syntax(buf, i, end, 'a control character in a string');
      i++;
    }
    return this.syntax(buf, start - 1, end, 'a string is never closed (the line ends inside it)', true);
  }

  /** An escape at buf[i] ('\'); returns the position after it. */
  private escape(buf: Uint8Array, i: number, end: number): number {
    const c = i + 1 < end ? buf[i + 1] : -1;
    if (c === 117) {
      for (let k = i + 2; k < i + 6; k++) if (k >= end || !isHexDigit(buf[k])) this.syntax(buf, i, end, 'a bad \\u escape in a string');
      return i + 6;
    }
    // " \ / b f n r t
    if (c === QUOTE || c === BACKSLASH || c === 47 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116) return i + 2;
    return this.syntax(buf, i, end, 'a bad escape in a string');
  }

  /** A value at buf[i] for `column` (-1: none); returns the position after it. */
  private value(buf: Uint8Array, i: number, end: number, column: number, capture: number, slot: number): number {
    const kind = column < 0 ? SKIP : this.kinds[column];
    const c = i < end ? buf[i] : -1;
    let valueStart = i;
    let valueEnd: number;
    let mode = CELL_BYTES;
    let next: number;
    if (c === QUOTE) {
      valueStart = i + 1;
      valueEnd = this.stringEnd(buf, valueStart, end);
      next = valueEnd + 1;
      if (this.escaped) mode = CELL_ESCAPED;
      if (kind === NUMERIC) this.numericText(buf, valueStart, valueEnd, mode, column, slot);
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      valueEnd = this.number(buf, i, end, kind === NUMERIC ? this.builder.numericChunk[column] : NO_VALUES, slot);
      next = valueEnd;
    } else {
      const word = literalLength(buf, i, end);
      if (word === 0) this.syntax(buf, i, end, 'not a JSON value');
      valueEnd = i + word;
      next = valueEnd;
      if (buf[i] === 110) mode = CELL_MISSING; // null
      if (kind === NUMERIC) {
        if (mode === CELL_MISSING) this.builder.numericChunk[column][slot] = NaN;
        else this.numericText(buf, i, valueEnd, mode, column, slot);
      }
    }
    if (capture >= 0) {
      this.captureStart[capture] = valueStart;
      this.captureEnd[capture] = valueEnd;
      this.captureMode[capture] = mode;
    }
    if (kind === SKIP) return next;
    this.columnSeen[column] = this.stamp;
    this.filled++;
    if (kind === CATEGORICAL || kind === TEXT) {
      this.cellStart[column] = valueStart;
      this.cellEnd[column] = valueEnd;
      this.cellMode[column] = mode;
    } else if (kind === TIMESTAMP) this.timestampCell(buf, valueStart, valueEnd, mode, column, slot);
    return next;
  }

  /**
   * A JSON number at buf[i] (a minus or a digit; '-Infinity' too), its grammar checked, stored into out[slot] when
   * `out` is a numeric column's chunk; returns the position after it. One pass: digits gather into the mantissa while
   * they are checked (up to 15 of them with a power of ten within 1e22 the operands are exact and the one rounding is
   * correct; up to 19, kept when the float32 rounding is unambiguous, as the CSV reader does; else Number()).
   */
  private number(buf: Uint8Array, i: number, end: number, out: Float32Array, slot: number): number {
    const start = i;
    const negative = buf[i] === MINUS;
    if (negative) {
      i++;
      if (i < end && buf[i] === 73 && literalLength(buf, i, end) === 8) {
        if (out.length > 0) out[slot] = -Infinity;
        return i + 8;
      }
    }
    let mantissa = 0;
    let digits = 0;
    let c = i < end ? buf[i] : -1;
    if (c === ZERO) {
      i++;
      digits = 1;
    } else if (c > ZERO && c <= NINE) {
      while (i < end && (c = buf[i]) >= ZERO && c <= NINE) {
        mantissa = mantissa * 10 + (c - ZERO);
        digits++;
        i++;
      }
    } else this.syntax(buf, start, end, 'not a JSON number');
    let exponent = 0;
    if (i < end && buf[i] === DOT) {
      const first = ++i;
      while (i < end && (c = buf[i]) >= ZERO && c <= NINE) {
        mantissa = mantissa * 10 + (c - ZERO);
        i++;
      }
      if (i === first) this.syntax(buf, start, end, 'not a JSON number (no digit after the point)');
      digits += i - first;
      exponent = first - i;
    }
    if (i < end && (buf[i] | 0x20) === 101) {
      i++;
      let expNegative = false;
      if (i < end && (buf[i] === 43 || buf[i] === MINUS)) expNegative = buf[i++] === MINUS;
      const first = i;
      let e = 0;
      while (i < end && (c = buf[i]) >= ZERO && c <= NINE) {
        if (e < 100000) e = e * 10 + (c - ZERO);
        i++;
      }
      if (i === first) this.syntax(buf, start, end, 'not a JSON number (no digit in the exponent)');
      exponent += expNegative ? -e : e;
    }
    if (out.length === 0) return i;
    let value = NaN;
    if (digits <= 19 && exponent <= 22 && exponent >= -22) {
      value = exponent >= 0 ? mantissa * POW10[exponent] : mantissa / POW10[-exponent];
      if (digits > 15 && Math.fround(value * (1 - 2 ** -49)) !== Math.fround(value * (1 + 2 ** -49))) value = NaN;
    }
    if (value !== value) value = Math.abs(Number(latin1.decode(buf.subarray(start, i))));
    out[slot] = negative ? -value : value;
    return i;
  }

  /** A string or literal in a numeric column, read as the CSV cell with that text would be. */
  private numericText(buf: Uint8Array, start: number, end: number, mode: number, column: number, slot: number): void {
    let value = mode === CELL_BYTES ? plainDecimal(buf, start, end) : NaN;
    if (value !== value) {
      const text = (mode === CELL_ESCAPED ? this.decoded(buf, start, end) : latin1.decode(buf.subarray(start, end))).trim();
      const cell = numericCellValue(text, this.numericMissing);
      if (cell === undefined) {
        const shown = mode === CELL_ESCAPED ? text.slice(0, 40) : utf8.decode(buf.subarray(start, Math.min(end, start + 40)));
        throw new BadLine(SKIP_NOT_NUMBER, `'${shown}' is not a number (text in a numeric column)`, this.columnName(column));
      }
      value = cell;
    }
    this.builder.numericChunk[column][slot] = value;
  }

  /** A timestamp cell, by the CSV reader's rule: an empty or missing one is NaN, other text that is no time a bad row. */
  private timestampCell(buf: Uint8Array, start: number, end: number, mode: number, column: number, slot: number): void {
    const seconds = this.builder.secondsChunk[column];
    if (mode === CELL_MISSING) {
      seconds[slot] = NaN;
      return;
    }
    let bytes = buf;
    if (mode === CELL_ESCAPED) {
      bytes = encoder.encode(this.decoded(buf, start, end));
      start = 0;
      end = bytes.length;
    }
    if (readTimestampInto(bytes, start, end, seconds, slot)) return;
    const text = latin1.decode(bytes.subarray(start, end)).trim();
    if (text === '' || this.numericMissing.has(text)) return;
    const shown = utf8.decode(bytes.subarray(start, Math.min(end, start + 40)));
    throw new BadLine(
      SKIP_NOT_TIMESTAMP,
      `'${shown}' is not a timestamp (d/m/yyyy h:mm[:ss] [AM|PM], yyyy-mm-dd hh:mm[:ss[.ffffff]] or seconds since 1970)`,
      this.columnName(column),
    );
  }

  /** Columns no key of the line filled: missing values. */
  private fillMissing(slot: number): void {
    const keyed = this.keyedColumns;
    for (let k = 0; k < keyed.length; k++) {
      const column = keyed[k];
      if (this.columnSeen[column] === this.stamp) continue;
      this.columnSeen[column] = this.stamp;
      const kind = this.kinds[column];
      if (kind === NUMERIC) this.builder.numericChunk[column][slot] = NaN;
      else if (kind === TIMESTAMP) this.builder.secondsChunk[column][slot] = NaN;
      else this.cellMode[column] = CELL_MISSING;
    }
  }

  /** Stores a held text or categorical cell of a good line. */
  private storeHeld(buf: Uint8Array, column: number, slot: number): void {
    const mode = this.cellMode[column];
    let bytes = buf;
    let start = this.cellStart[column];
    let end = this.cellEnd[column];
    if (mode === CELL_MISSING) end = start;
    else if (mode === CELL_ESCAPED) {
      bytes = encoder.encode(this.decoded(buf, start, end));
      start = 0;
      end = bytes.length;
    }
    this.storeBytes(bytes, start, end, column, slot);
  }

  private storeBytes(bytes: Uint8Array, start: number, end: number, column: number, slot: number): void {
    if (this.kinds[column] === CATEGORICAL) {
      this.builder.codeChunk[column][slot] = start === end ? -1 : (this.builder.dictionaries[column] as ByteDictionary).code(bytes, start, end);
    } else (this.builder.texts[column] as TextColumnBuilder).append(bytes, start, end);
  }

  /** The joined column (CIC Flow ID) of a good line: its parts' texts joined by '-', missing when a part is. */
  private joinedCell(buf: Uint8Array, slot: number): void {
    const column = this.joinedColumn;
    let n = 0;
    let missing = false;
    for (let p = 0; p < this.captureStart.length; p++) {
      if (this.top.seen[this.captureKeys[p]] !== this.stamp || this.captureMode[p] === CELL_MISSING) missing = true;
      let part = buf;
      let start = this.captureStart[p];
      let end = this.captureEnd[p];
      if (this.captureMode[p] === CELL_ESCAPED) {
        part = encoder.encode(this.decoded(buf, start, end));
        start = 0;
        end = part.length;
      }
      if (this.scratch.length < n + end - start + 1) {
        const bigger = new Uint8Array(2 * (n + end - start + 1));
        bigger.set(this.scratch.subarray(0, n));
        this.scratch = bigger;
      }
      if (p > 0) this.scratch[n++] = MINUS;
      for (let k = start; k < end; k++) this.scratch[n++] = part[k];
    }
    if (missing) n = 0;
    const kind = this.kinds[column];
    if (kind === CATEGORICAL || kind === TEXT) this.storeBytes(this.scratch, 0, n, column, slot);
    else if (kind === NUMERIC) this.numericText(this.scratch, 0, n, n === 0 ? CELL_MISSING : CELL_BYTES, column, slot);
    else this.timestampCell(this.scratch, 0, n, n === 0 ? CELL_MISSING : CELL_BYTES, column, slot);
  }

  /** The value of a string with escapes (its text between the quotes). */
  private decoded(buf: Uint8Array, start: number, end: number): string {
    return JSON.parse(utf8.decode(buf.subarray(start - 1, end + 1))) as string;
  }

  private columnName(column: number): string | number {
    return this.options.columnNames[column] ?? column + 1;
  }

  /** The 1-based column (in characters) of byte `at` of the current line. */
  private charColumn(buf: Uint8Array, at: number): number {
    let chars = 0;
    for (let k = this.lineStart; k < at; k++) if ((buf[k] & 0xc0) !== 0x80) chars++;
    return chars + 1;
  }

  private syntax(buf: Uint8Array, at: number, end: number, what: string, endsEarly = at >= end): never {
    const shown = at < end ? `at '${utf8.decode(buf.subarray(at, Math.min(end, at + 12)))}${end > at + 12 ? '...' : ''}'` : 'where the line ends';
    throw new BadLine(SKIP_NOT_JSON, `not JSON: ${what}, ${shown}`, this.charColumn(buf, at), endsEarly);
  }
}

function skipSpace(buf: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = buf[i];
    if (c !== SPACE && c !== TAB && c !== CR) break;
    i++;
  }
  return i;
}

function isHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

const LITERALS = ['true', 'false', 'null', 'NaN', 'Infinity'].map((w) => encoder.encode(w));

/** The length of the literal (true, false, null, NaN, Infinity) at buf[i], 0 if there is none. */
function literalLength(buf: Uint8Array, i: number, end: number): number {
  for (const word of LITERALS) {
    if (buf[i] !== word[0] || i + word.length > end) continue;
    let k = 1;
    while (k < word.length && buf[i + k] === word[k]) k++;
    if (k === word.length) return k;
  }
  return 0;
}

/** A string cell that is a plain decimal ([-]digits[.digits], at most 15 digits): its value; NaN for any other text. */
function plainDecimal(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = i < end && buf[i] === MINUS;
  if (negative) i++;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < end; i++) {
    const c = buf[i];
    if (c === DOT && fraction < 0) {
      fraction = 0;
      continue;
    }
    if (c < ZERO || c > NINE) return NaN;
    mantissa = mantissa * 10 + (c - ZERO);
    digits++;
    if (fraction >= 0) fraction++;
  }
  if (digits === 0 || digits > 15) return NaN;
  const value = fraction > 0 ? mantissa / POW10[fraction] : mantissa;
  return negative ? -value : value;
}

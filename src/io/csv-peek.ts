// The first records of a file decoded as strings, for format detection, type sniffing and headers, and the small
// string CSV splitter they (and error lines) go through.

import { openByteSource } from './csv-source.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;

const utf8 = new TextDecoder();

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

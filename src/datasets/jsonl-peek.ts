// Files of JSON lines as data: recognised by their first byte ('{'), peeked as the CSV of the same rows would be
// (records of text cells under a header: format detection, column types and plans work unchanged), and the layout
// that maps their keys to those columns (src/io/jsonl-reader.ts reads the rows). Two kinds of lines:
// - flat objects (`collect`'s FlowRecords, any JSON-lines table): the columns are the keys of the first lines, in the
//   order first seen;
// - the flow lines of `extract` and `collect --features netflow` (a FlowRecord with a nested `features` object): the
//   columns are those of the CSV the same command writes (src/flows/flow-rows.ts: the CIC identifiers or the NetFlow
//   context, then the features), the FlowRecord's other fields are left out, and any other top-level key (a label a
//   user added) is a column after the features.
// The predictions `predict --out` writes (JSON lines or CSV) are refused with what to give instead.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors.js';
import { NETFLOW_FEATURES } from '../flows/features/netflow.js';
import { peekCsv, type CsvPeek } from '../io/csv-peek.js';
import { openByteSource } from '../io/csv-source.js';
import { parseJsonLine, JsonLineError, type JsonCell, type JsonObject } from '../io/jsonl-text.js';
import type { JsonLinesLayout } from '../io/jsonl-reader.js';
import { FLOW_CSV_HEADER } from '../io/netflow/batch.js';
import { CIC_FEATURES, CIC_IDENTIFIERS } from './cic-names.js';

/** A peeked file: CSV, or JSON lines with the layout of their keys and the line of their first object. */
export type DataPeek = CsvPeek & { readonly jsonLines?: JsonLinesLayout; readonly firstObjectLine?: number };

/** The fields of a FlowRecord line (collect's CSV header names them all but frameBytes), and extract's `start` text. */
const FLOW_RECORD_KEYS = new Set([...FLOW_CSV_HEADER.trim().split(','), 'frameBytes', 'start']);
const NETFLOW_CONTEXT = ['src_addr', 'dst_addr', 'start', 'vlan', 'end_reason'];
/** The CIC Flow ID as extract writes it: source address, destination address, ports and protocol joined by '-'. */
const FLOW_ID_PARTS = ['srcAddr', 'dstAddr', 'srcPort', 'dstPort', 'protocol'];

/**
 * Peeks at a data file: `peekCsv`'s records for CSV, or for JSON lines (its first non-blank character is '{') the
 * records of the same rows as CSV, with the layout of their keys. `scratch`: as for peekCsv.
 */
export async function peekDataFile(file: string, maxRecords = 200, scratch?: Uint8Array): Promise<DataPeek> {
  const head = await headLines(file, maxRecords);
  if (!head.text.replace(/^\uFEFF/, '').trimStart().startsWith('{') || head.text.includes('\u0000')) {
    const peek = await peekCsv(file, maxRecords, undefined, undefined, scratch);
    if (peek.records.length > 0 && isPredictionsHeader(peek.records[0])) throw predictionsError(file, 'CSV');
    return peek;
  }
  return peekJsonLines(file, head, maxRecords);
}

function predictionsError(file: string, written: 'lines' | 'CSV'): UserError {
  return new UserError(`holds predictions (the ${written} \`flowsentry predict --out\` writes), not flow rows: give the flows themselves (the CSV or JSON lines of \`extract\` or \`collect\`)`, { file });
}

/**
 * The header of predict's CSV (src/workflow/predict.ts csvHeader): row, true_label when the input was labelled, label,
 * score, attack_score, then feature_k, value_k, contribution_k for k = 1, 2, ...
 */
function isPredictionsHeader(header: readonly string[]): boolean {
  const leading = header[1] === 'true_label' ? ['row', 'true_label', 'label', 'score', 'attack_score'] : ['row', 'label', 'score', 'attack_score'];
  const explained = header.length - leading.length;
  if (explained < 3 || explained % 3 !== 0) return false;
  if (leading.some((name, i) => header[i].replace(/^\uFEFF/, '') !== name)) return false;
  for (let k = 1; k <= explained / 3; k++) {
    const at = leading.length + 3 * (k - 1);
    if (header[at] !== `feature_${k}` || header[at + 1] !== `value_${k}` || header[at + 2] !== `contribution_${k}`) return false;
  }
  return true;
}

/** The first `maxRecords` rows of JSON lines (header: the columns). */
async function peekJsonLines(file: string, head: HeadLines, maxRecords: number): Promise<DataPeek> {
  const { lines, complete } = head;
  const csv: CsvPeek = {
    file,
    gzip: head.gzip,
    records: [],
    binary: false,
    complete,
    head: head.text.slice(0, 4096),
    quoted: false,
    fileBytes: head.fileBytes,
    expandedBytes: head.expandedBytes,
    bytesPerLine: head.bytesPerLine,
  };
  const objects: { line: number; object: JsonObject }[] = [];
  let firstError: UserError | undefined;
  lines.forEach((text, i) => {
    try {
      const object = parseJsonLine(i === 0 ? text.replace(/^\uFEFF/, '') : text);
      if (object) objects.push({ line: i + 1, object });
    } catch (err) {
      if (!(err instanceof JsonLineError)) throw err;
      firstError ??= new UserError(`not JSON: ${err.message}`, { file: csv.file, line: i + 1, column: err.column });
    }
  });
  if (objects.length === 0) {
    if (firstError) throw firstError;
    return { ...csv, records: [] };
  }
  const layout = layoutOf(csv.file, objects);
  const records = [[...layout.columns], ...objects.map(({ object }) => cellsOf(object, layout))];
  return { ...csv, records: records.slice(0, maxRecords), jsonLines: layout, firstObjectLine: objects[0].line };
}

/**
 * Why peeked JSON lines are no data file when they give fewer than two columns (no format takes them: a single
 * column is neither features with a label nor, undeclared, a table), in JSON-lines terms; undefined otherwise.
 */
export function tooFewKeys(peek: DataPeek): UserError | undefined {
  const columns = peek.jsonLines?.columns;
  if (!columns || columns.length >= 2) return undefined;
  const where = peek.complete ? 'every object' : `the first ${peek.records.length - 1} objects`;
  const location = { file: peek.file, line: peek.firstObjectLine };
  if (columns.length === 0) return new UserError(`JSON lines with no keys ({}) in ${where}: no columns; a data file has two or more (features and a label, or several features)`, location);
  return new UserError(
    `JSON lines with one key, '${columns[0]}', in ${where}: one column; a data file has two or more (features and a label, or several features); to read this one column anyway, give --format csv`,
    location,
  );
}

interface HeadLines {
  readonly text: string;
  readonly lines: string[];
  /** The lines are all the file's. */
  readonly complete: boolean;
  readonly gzip: boolean;
  readonly fileBytes: number;
  readonly expandedBytes: number;
  /** Mean bytes per line of the complete lines read (0 without one). */
  readonly bytesPerLine: number;
}

/**
 * The first bytes of a file (plain or gzip), up to maxRecords + 1 lines and at most 4 MiB: read in 4 KiB first, for a
 * CSV file only to see that it is not JSON.
 */
async function headLines(file: string, maxRecords: number): Promise<HeadLines> {
  const source = await openByteSource(file);
  let buf = new Uint8Array(4096);
  let filled = 0;
  let complete = false;
  let lineFeeds = 0;
  try {
    while (lineFeeds <= maxRecords && filled < 4 << 20) {
      const start = latin1.decode(buf.subarray(0, Math.min(filled, 256))).replace(/^\u00EF\u00BB\u00BF/, '').trimStart();
      if (start !== '' && !start.startsWith('{')) break;
      if (filled === buf.length) {
        const bigger = new Uint8Array(buf.length * 4);
        bigger.set(buf);
        buf = bigger;
      }
      const n = source.readSync ? source.readSync(buf, filled) : await source.read(buf, filled);
      if (n === 0) {
        complete = true;
        break;
      }
      for (let i = buf.indexOf(10, filled); i >= 0 && i < filled + n; i = buf.indexOf(10, i + 1)) lineFeeds++;
      filled += n;
    }
  } finally {
    await source.close();
  }
  const text = new TextDecoder().decode(buf.subarray(0, filled));
  const lines = text.split('\n');
  // the text after the last line feed is a whole line only at the end of the file
  if (!complete || lines[lines.length - 1] === '') lines.pop();
  const kept = lines.slice(0, maxRecords + 1);
  const lastLineFeed = buf.subarray(0, filled).lastIndexOf(10);
  const bytesPerLine = complete ? filled / Math.max(1, lines.length) : lineFeeds > 0 ? (lastLineFeed + 1) / lineFeeds : 0;
  return { text, lines: kept, complete: complete && kept.length === lines.length, gzip: source.gzip, fileBytes: source.totalBytes, expandedBytes: source.expandedBytes, bytesPerLine };
}

const latin1 = new TextDecoder('latin1');

/** The layout of the peeked lines: flow lines (the first has a `features` object) or flat objects. */
function layoutOf(file: string, objects: readonly { line: number; object: JsonObject }[]): JsonLinesLayout {
  const first = objects[0];
  const keys = [...first.object.entries.keys()];
  if (keys.includes('row') && keys.includes('score') && keys.includes('attack_score')) {
    throw predictionsError(file, 'lines');
  }
  const features = first.object.entries.get('features');
  if (features && features.kind === 'object') return flowLayout(file, objects, first.line, [...features.entries.keys()]);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const { line, object } of objects) {
    for (const [key, cell] of object.entries) {
      if (isNested(cell)) throw nestedError(file, line, object, key);
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  return { columns, keys: new Map(columns.map((c, i) => [c, i])), shape: 'JSON lines' };
}

function isNested(cell: JsonCell | undefined): boolean {
  return cell?.kind === 'object' || cell?.kind === 'array';
}

function nestedError(file: string, line: number, object: JsonObject, key: string): UserError {
  return new UserError(
    `key '${key}' holds ${object.entries.get(key)?.kind === 'array' ? 'an array' : 'an object'}: values are numbers, strings, true, false or null (only the flow lines of extract and collect nest their 'features')`,
    { file, line, column: object.keyColumns.get(key) },
  );
}

/** The layout of extract's (or collect --features netflow's) flow lines: the columns of the CSV it writes. */
function flowLayout(file: string, objects: readonly { line: number; object: JsonObject }[], firstLine: number, featureNames: readonly string[]): JsonLinesLayout {
  const same = (names: readonly string[]): boolean => names.length === featureNames.length && names.every((n) => featureNames.includes(n));
  const cic = same(CIC_FEATURES);
  if (!cic && !same(NETFLOW_FEATURES)) {
    throw new UserError(`the 'features' object names neither the CIC nor the NetFlow features of \`flowsentry extract\` (${featureNames.length} names, the first '${featureNames[0] ?? ''}')`, { file, line: firstLine });
  }
  const context = cic ? CIC_IDENTIFIERS : NETFLOW_CONTEXT;
  const featureList = cic ? CIC_FEATURES : NETFLOW_FEATURES;
  const columns = [...context, ...featureList];
  const keys = new Map<string, number>();
  for (const key of FLOW_RECORD_KEYS) keys.set(key, -1);
  const sources = cic ? { srcAddr: 'Src IP', srcPort: 'Src Port', dstAddr: 'Dst IP', start: 'Timestamp' } : { srcAddr: 'src_addr', dstAddr: 'dst_addr', start: 'start', vlan: 'vlan', endReason: 'end_reason' };
  for (const [key, column] of Object.entries(sources)) keys.set(key, columns.indexOf(column));
  for (const { line, object } of objects) {
    for (const [key, cell] of object.entries) {
      if (key === 'features') {
        if (cell?.kind === 'object') for (const [name, value] of cell.entries) if (isNested(value)) throw nestedError(file, line, cell, name);
        continue;
      }
      if (isNested(cell) || keys.has(key)) {
        if (isNested(cell)) throw nestedError(file, line, object, key);
        continue;
      }
      keys.set(key, columns.push(key) - 1);
    }
  }
  return {
    columns,
    keys,
    nested: { key: 'features', keys: new Map(featureList.map((name, i) => [name, context.length + i])) },
    ...(cic ? { joined: { column: 0, parts: FLOW_ID_PARTS } } : {}),
    shape: cic ? 'the CIC flow lines of extract' : 'the NetFlow flow lines of extract or collect',
  };
}

/** A value's text as its CSV cell holds it: '' for null or an absent key. */
function cellText(cell: JsonCell | undefined): string {
  return cell === null || cell === undefined || cell.kind === 'object' || cell.kind === 'array' ? '' : cell.text;
}

/** A line's cells in the layout's columns. */
function cellsOf(object: JsonObject, layout: JsonLinesLayout): string[] {
  const cells = new Array<string>(layout.columns.length).fill('');
  for (const [key, column] of layout.keys) if (column >= 0) cells[column] = cellText(object.entries.get(key));
  const nested = layout.nested ? object.entries.get(layout.nested.key) : undefined;
  if (layout.nested && nested?.kind === 'object') for (const [key, column] of layout.nested.keys) cells[column] = cellText(nested.entries.get(key));
  if (layout.joined) {
    const parts = layout.joined.parts.map((p) => object.entries.get(p));
    cells[layout.joined.column] = parts.some((p) => p === null || p === undefined) ? '' : parts.map(cellText).join('-');
  }
  return cells;
}

/**
 * Where data row `row` (0-based, of this file) of a JSON-lines file is, with its cells in the layout's columns, for
 * an error found after loading (a row without a label); undefined when the file has fewer rows.
 */
export async function lineOfJsonRow(file: string, row: number, layout: JsonLinesLayout, gzip: boolean): Promise<{ line: number; cells: string[] } | undefined> {
  const raw = createReadStream(file);
  const input: Readable = gzip ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let rows = 0;
  try {
    for await (const text of lines) {
      lineNumber++;
      const object = parseJsonLine(lineNumber === 1 ? text.replace(/^\uFEFF/, '') : text);
      if (object && rows++ === row) return { line: lineNumber, cells: cellsOf(object, layout) };
    }
  } finally {
    lines.close();
    raw.destroy();
  }
  return undefined;
}

/**
 * A later file of JSON lines in the columns of the first file (`columns`, its header): its keys may come in another
 * order, and keys its first lines lack are missing values. Undefined when it has a column the first file lacks (the
 * loader's column check then names it).
 */
export function inColumnsOf(peek: DataPeek, columns: readonly string[]): DataPeek | undefined {
  const layout = peek.jsonLines;
  if (!layout) return undefined;
  const position = layout.columns.map((name) => columns.indexOf(name));
  if (position.includes(-1)) return undefined;
  const moved = (map: ReadonlyMap<string, number>): Map<string, number> => new Map([...map].map(([key, c]) => [key, c < 0 ? c : (position[c] as number)]));
  const aligned: JsonLinesLayout = {
    ...layout,
    columns: [...columns],
    keys: moved(layout.keys),
    ...(layout.nested ? { nested: { key: layout.nested.key, keys: moved(layout.nested.keys) } } : {}),
    ...(layout.joined ? { joined: { ...layout.joined, column: position[layout.joined.column] as number } } : {}),
  };
  const rows = peek.records.slice(1).map((cells) => {
    const out = new Array<string>(columns.length).fill('');
    cells.forEach((cell, c) => (out[position[c] as number] = cell));
    return out;
  });
  return { ...peek, records: [[...columns], ...rows], jsonLines: aligned };
}

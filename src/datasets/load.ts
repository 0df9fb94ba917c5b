// loadDataset: one or more files of one format → one Frame. Each file is peeked (format detection, header, column
// types), planned by its format, checked against the first file's columns, then streamed into shared column
// builders. Text values are cleaned on the (small) dictionaries afterwards, never per row.

import { UserError } from '../errors.js';
import type { CategoricalColumn, Column, DroppedColumn, Frame, IdentifierColumn } from '../frame/frame.js';
import { MAX_TEXT_BYTES, subsetTextColumn } from '../frame/text-column.js';
import { CATEGORICAL, ColumnarBuilder, NUMERIC, SKIP, TEXT, TIMESTAMP, type ColumnOutput, type CsvColumnKind } from '../io/columnar-builder.js';
import type { CsvPeek } from '../io/csv-peek.js';
import { countLines, readCsvInto, warmUpParser, type CsvReadResult } from '../io/csv-reader.js';
import { readXmlRecordsInto } from '../io/iscx-xml.js';
import { readJsonLinesInto, type JsonLinesLayout } from '../io/jsonl-reader.js';
import { readCsvParallel } from '../io/csv-parallel.js';
import { withLoadMallocPolicy } from '../io/malloc-policy.js';
import { EPOCH_MS_START, isTimestampName, parseTimestamp } from '../frame/splits.js';
import { defaultThreads } from '../util/worker-pool.js';
import { assertNotFlowToolOutput, checkReadable, detectFormat, formatFor } from './detect.js';
import { genericCsv } from './generic-csv.js';
import { inColumnsOf, lineOfJsonRow, peekDataFile, type DataPeek } from './jsonl-peek.js';
import { lineOfRow } from './row-line.js';
import { isMissingLabel, sampleRows, type ColumnPlan, type DatasetFormat, type FilePlan } from './schema.js';

export interface LoadOptions {
  /** Format name (see FORMATS); detected from the first file when absent. */
  readonly format?: string;
  /**
   * Label column: a generic CSV's (without it, its one column named `label` or `class`); for known formats it
   * overrides the usual label.
   */
  readonly label?: string;
  /** Without `label`: the label column when the files have one of this name (predict and a model's label column). */
  readonly labelIfPresent?: string;
  /** Keep identifier columns (flow ids, addresses, source ports, timestamps, row ids) as features. */
  readonly keepIdentifiers?: boolean;
  /**
   * Which identifier columns to read into `frame.identifiers` (without keepIdentifiers): 'all' (the default), only
   * the 'timestamps' (what a time-ordered split needs), or 'none'. Columns not read are skipped byte by byte (no
   * dictionary is built) and listed in `source.dropped` as identifiers all the same.
   */
  readonly identifiers?: 'all' | 'timestamps' | 'none';
  /** Skip bad rows (counted by reason in frame.source.skipped) instead of stopping at the first. */
  readonly skipBadRows?: boolean;
  /** Keep rows whose label is empty (label code -1) instead of an error or a skip: predict scores every row. */
  readonly keepUnlabelledRows?: boolean;
  /** Bytes read so far over all files, and their total size on disk. */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export const SKIP_EMPTY_LABEL = 'empty label';

/** Loads the files as one dataset, with malloc's mmap threshold lowered while it runs (src/io/malloc-policy.ts). */
export async function loadDataset(files: readonly string[], options: LoadOptions = {}): Promise<Frame> {
  return withLoadMallocPolicy(() => loadFiles(files, options));
}

async function loadFiles(files: readonly string[], options: LoadOptions): Promise<Frame> {
  if (files.length === 0) throw new UserError('no input files given');
  const { format, plans, peeks, textShapes, timeColumns, readBuffer: peekBuffer } = await planFiles(files, options);
  const plan = plans[0];

  const totalBytes = peeks.reduce((sum, p) => sum + p.fileBytes, 0);
  // Bytes the files hold once decompressed: an upper bound on any column's text (for gzip, the trailers' estimate).
  const dataBytes = peeks.reduce((sum, p) => sum + Math.max(p.fileBytes, p.expandedBytes), 0);
  const kinds = plan.columns.map((c, i): CsvColumnKind => {
    if (c.role === 'payload' || c.role === 'duplicate' || !readsIdentifier(c, options)) return SKIP;
    if (timeColumns[i]) return TIMESTAMP;
    if (c.kind === 'numeric') return NUMERIC;
    return isTextIdentifier(c, textShapes[i], format, options, dataBytes) ? TEXT : CATEGORICAL;
  });
  const threads = defaultThreads();
  if (!format.xml && threads > 1 && totalBytes >= PARALLEL_MIN_BYTES && peeks.every((p) => !p.gzip && !p.quoted && !p.jsonLines)) {
    const parallel = await readCsvParallel(
      files.map((file, i) => ({ file, options: csvOptions(format, plans[i], options) })),
      kinds,
      threads,
      options.onProgress,
    );
    parallel.fileRows.forEach((rows, i) => {
      if (rows === 0 && parallel.skipped.size === 0) throw new UserError('no data rows (the file has only a header)', { file: files[i] });
    });
    return assembleFrame(format, plan, parallel.outputs, parallel.rows, rowOrigin(files, parallel.fileRows, peeks), new Map(parallel.skipped), options);
  }
  // One read buffer for every file, the one the peeks read into (each dropped buffer would stay resident until V8
  // happens to collect it: 17 peek buffers of 8-64 KiB, 0.18 MB, were still there at the end of a 16-file load).
  const readBuffer = peekBuffer.subarray(0, Math.min(READ_BUFFER_BYTES, Math.max(...peeks.map((p) => p.expandedBytes)) + 1024));
  // Columns are allocated once, for an upper bound on the rows: the line count of plain files, an estimate from the
  // sample's line length for gzip (rows beyond it go to chunks; the untouched rest of the arrays is never resident).
  let capacity: number | undefined;
  if (!format.xml) {
    capacity = 0;
    for (const peek of peeks) capacity += peek.gzip ? gzipRowEstimate(peek) : await countLines(peek.file, 0, undefined, readBuffer);
  }
  const distinctHints = textShapes.map((t) => (t && capacity !== undefined ? { entries: Math.min(capacity, 1 << 16), bytesPerEntry: t.bytesPerEntry } : { entries: 0, bytesPerEntry: 0 }));
  const builder = new ColumnarBuilder(kinds, capacity, distinctHints, dataBytes);
  let doneBytes = 0;
  const skipped = new Map<string, number>();
  const fileRows: number[] = [];
  for (const [i, file] of files.entries()) {
    const onProgress = options.onProgress ? (read: number) => options.onProgress?.(doneBytes + read, totalBytes) : undefined;
    let result: CsvReadResult;
    if (format.xml) {
      const fields = new Map<string, number>();
      plans[i].columns.forEach((c, j) => fields.set(c.fileName, j));
      result = await readXmlRecordsInto(file, builder, { fields, skipBadRows: options.skipBadRows, onProgress });
    } else if (peeks[i].jsonLines) {
      const layout = peeks[i].jsonLines as JsonLinesLayout;
      result = await readJsonLinesInto(file, builder, { layout, columnNames: plans[i].columns.map((c) => c.name), missing: format.missing, skipBadRows: options.skipBadRows, onProgress }, readBuffer);
    } else {
      result = await readCsvInto(file, builder, { ...csvOptions(format, plans[i], options), onProgress }, readBuffer);
    }
    if (result.rows === 0 && result.skipped.size === 0) throw new UserError(peeks[i].jsonLines ? 'no data rows (only blank lines)' : 'no data rows (the file has only a header)', { file });
    fileRows.push(result.rows);
    for (const [reason, count] of result.skipped) skipped.set(reason, (skipped.get(reason) ?? 0) + count);
    doneBytes += peeks[i].fileBytes;
  }
  const outputs = builder.finish();
  return assembleFrame(format, plan, outputs, builder.rows, rowOrigin(files, fileRows, peeks), skipped, options);
}

function rowOrigin(files: readonly string[], fileRows: readonly number[], peeks: readonly PeekSummary[]): RowOrigin {
  return { files, fileRows, gzip: peeks.map((p) => p.gzip), jsonLines: peeks.map((p) => p.jsonLines) };
}

/**
 * True for a text identifier read as a TextColumn (its bytes, no dictionary): one that goes to `frame.identifiers`
 * (with keepIdentifiers it is a categorical feature) and whose sample is mostly distinct (flow ids: about one
 * dictionary entry, i.e. one string, per row), of a CSV whose text fits Int32 offsets.
 */
function isTextIdentifier(column: ColumnPlan, shape: { bytesPerEntry: number } | undefined, format: DatasetFormat, options: LoadOptions, dataBytes: number): boolean {
  return column.role === 'identifier' && !options.keepIdentifiers && shape !== undefined && !format.xml && dataBytes <= MAX_TEXT_BYTES;
}

/** False for an identifier column the caller does not want read. */
function readsIdentifier(column: ColumnPlan, options: LoadOptions): boolean {
  if (column.role !== 'identifier' || options.keepIdentifiers) return true;
  const wanted = options.identifiers ?? 'all';
  return wanted === 'all' || (wanted === 'timestamps' && (isStartTimeName(column.name) || column.name === EPOCH_MS_START));
}

/**
 * True for a timestamp identifier (start or end time) of a CSV format that goes to `frame.identifiers`: it is read as
 * seconds since the epoch into a Float64 column (exact time order, 8 bytes a row instead of a dictionary string per
 * distinct time).
 */
function isTimeIdentifier(column: ColumnPlan, format: DatasetFormat, options: LoadOptions): boolean {
  return column.role === 'identifier' && !options.keepIdentifiers && !format.xml && (isStartTimeName(column.name) || END_TIME_NAME.test(column.name.trim()));
}

/** Names of the time a flow ended (UNSW-NB15's ltime), read as seconds like the start time. */
const END_TIME_NAME = /^(ltime|end ?time|stop ?time|last ?seen|flow ?end.*)$/i;

/** A flow's start time: the usual timestamp names, or `start`, an identifier only in extract's NetFlow CSV (generic-csv.ts). */
function isStartTimeName(name: string): boolean {
  return isTimestampName(name) || name.trim() === 'start';
}

/** Records of the first file read for format detection, and by default for typing its columns (header included). */
const DETECTION_RECORDS = 40;
const SAMPLE_RECORDS = 200;

/** Below this much data, starting worker threads (each JIT-compiling its own parser) costs more than it saves. */
const PARALLEL_MIN_BYTES = 64 << 20;
/** One read buffer for every file of a load (it grows to fit a longer record); 256 KiB read no faster. */
const READ_BUFFER_BYTES = 64 << 10;

/** Rows of a gzip file from its trailer's size and the sample's bytes per line, with a 25% margin; 0 if unknown. */
function gzipRowEstimate(peek: PeekSummary): number {
  // A trailer size below the compressed size has wrapped (over 4 GiB) or comes from the last of several members.
  if (peek.bytesPerLine <= 0 || peek.expandedBytes < peek.fileBytes) return 0;
  return Math.ceil((1.25 * peek.expandedBytes) / peek.bytesPerLine) + 16;
}

/** What loading needs of a peeked file once it is planned (its sample is dropped: it would survive the whole load). */
type PeekSummary = Omit<DataPeek, 'records' | 'head'>;

/**
 * Peeks at every file (the first one's sample types the columns; the others only need their header and a row),
 * detects the format, plans each file and checks they agree. `textShapes`: per column of the plan, for text columns
 * whose sample is mostly distinct (flow ids, timestamps: about one dictionary entry per row), the sample's mean
 * entry length; undefined otherwise. `timeColumns`: per column, whether it is read as a time identifier: a timestamp
 * identifier whose sample is mostly in forms the loader reads (one in another form stays text, as written; a stray
 * bad cell in a time column is a bad row, named by file, line and column).
 */
async function planFiles(
  files: readonly string[],
  options: LoadOptions,
): Promise<{ format: DatasetFormat; plans: FilePlan[]; peeks: PeekSummary[]; textShapes: ({ bytesPerEntry: number } | undefined)[]; timeColumns: boolean[]; readBuffer: Uint8Array }> {
  // First of all: V8 compiles the record parser on its own thread while the files are checked, peeked, planned and
  // counted, and the longer that runs before the first row, the more often `parse` is optimised by then (fewer rows
  // interpreted, with their young garbage, and no second, on-stack-replacement compile). Before the detection peek
  // rather than after it (as before 2026-11-21, session 6): 40 alternating loads of the 16 CIC files, every column,
  // median peak 12.95 -> 12.29 MB, largest 14.97 -> 13.55, CPU 0.093 -> 0.084 s. An XML dataset pays it too (a few ms).
  warmUpParser();
  files.forEach(assertNotFlowToolOutput);
  // Every peek reads into the load's one read buffer.
  const readBuffer = new Uint8Array(READ_BUFFER_BYTES);
  const peek = (file: string, records: number): Promise<DataPeek> => peekDataFile(file, records, readBuffer);
  // The first file is peeked for detection, then again for the sample its format's plan needs if that is larger.
  const detectionPeek = await peek(files[0], DETECTION_RECORDS);
  checkReadable(detectionPeek);
  const format = formatFor(options.format, detectionPeek);
  if (options.label === undefined && options.labelIfPresent !== undefined) {
    const wanted = options.labelIfPresent.trim();
    const present = format.plan(detectionPeek, {}).columns.some((c) => c.name === wanted || c.fileName.trim() === wanted);
    options = { ...options, label: present ? wanted : undefined };
  }
  const sampleRecords = format.sampleRecords ?? SAMPLE_RECORDS;
  const peeks = [sampleRecords > DETECTION_RECORDS && !detectionPeek.complete ? await peek(files[0], sampleRecords) : detectionPeek];
  checkReadable(peeks[0]);
  const firstPlan = withLabelOverride(distinctNames(format.plan(peeks[0], options), peeks[0].file), options.label, peeks[0].file);
  // Later files need their header and a row; with the first one's header, the header alone (fewer sample strings).
  for (const file of files.slice(1)) {
    const header = firstPlan.hasHeader ? await peek(file, 1) : undefined;
    const later = header && sameRecord(header.records[0], peeks[0].records[0]) ? header : await peek(file, 2);
    // JSON lines name their values: a later file's keys may come in another order or lack some of the first file's
    peeks.push((firstPlan.hasHeader && inColumnsOf(later, peeks[0].records[0] ?? [])) || later);
  }
  peeks.forEach(checkReadable);
  for (const p of peeks) checkJsonLinesFit(p, format, firstPlan);
  // A later file with the first one's header is of its format and has its plan (names come from the header; column
  // kinds are the first file's): one plan of ~90 column objects instead of one per file, and no detection.
  const hasFirstHeader = (peek: CsvPeek): boolean => firstPlan.hasHeader && sameRecord(peek.records[0], peeks[0].records[0]);
  checkOneFormat(format, options.format, peeks.filter((peek, i) => i === 0 || !hasFirstHeader(peek)));
  const plans = peeks.map((peek, i) => (i === 0 || hasFirstHeader(peek) ? firstPlan : withLabelOverride(distinctNames(format.plan(peek, options), peek.file), options.label, peek.file)));
  plans.forEach((p, i) => checkSameColumns(plans[0], p, files[0], files[i]));
  const rows = sampleRows(peeks[0]);
  const textShapes = plans[0].columns.map((c, i) => {
    if (c.kind !== 'categorical' || rows.length < 8) return undefined;
    const values = new Set(rows.map((r) => r[i] ?? ''));
    if (values.size * 2 < rows.length) return undefined;
    let bytes = 0;
    for (const v of values) bytes += Buffer.byteLength(v);
    return { bytesPerEntry: Math.ceil(bytes / values.size) };
  });
  const timeColumns = plans[0].columns.map((c, i) => isTimeIdentifier(c, format, options) && mostlyTimestamps(rows.map((r) => r[i] ?? '')));
  return { format, plans, peeks: peeks.map(({ records: _r, head: _h, ...summary }) => summary), textShapes, timeColumns, readBuffer };
}

/**
 * JSON lines name their values, so they are read by the columns of a format whose files have a header (its names are
 * the keys), never as XML or by a headerless format's positions.
 */
function checkJsonLinesFit(peek: DataPeek, format: DatasetFormat, plan: FilePlan): void {
  if (!peek.jsonLines || (!format.xml && plan.hasHeader)) return;
  throw new UserError(`holds JSON lines, which cannot be read as ${format.title}${format.xml ? '' : ' (files without a header)'}: convert them to that format, or read them with --format csv`, { file: peek.file });
}

/**
 * Every file is of the first one's format: a named format must fit each (formatFor); a detected one must be each
 * later file's own, or of its family (CIC-IDS2017 with CSE-CIC-IDS2018). `train KDDTrain+.txt
 * kddcup.data_10_percent.gz` was the reader's "line 1: ... 42 fields, expected 43" on the second file. A file only the
 * generic CSV fits is left to the column check, which names the columns that differ.
 */
function checkOneFormat(format: DatasetFormat, named: string | undefined, peeks: readonly CsvPeek[]): void {
  for (const peek of peeks.slice(1)) {
    if (named !== undefined) {
      formatFor(named, peek);
      continue;
    }
    const own = detectFormat(peek).format;
    const sameFamily = own.family !== undefined && own.family === format.family;
    if (own.name === format.name || sameFamily || own.name === genericCsv.name || format.name === genericCsv.name) continue;
    throw new UserError(`${peek.file} is ${own.title} data, ${peeks[0].file} is ${format.title} data: give files of one format`);
  }
}

function csvOptions(format: DatasetFormat, plan: FilePlan, options: LoadOptions): { columnNames: string[]; hasHeader: boolean; missing?: readonly string[]; skipBadRows?: boolean } {
  return { columnNames: plan.columns.map((c) => c.name), hasHeader: plan.hasHeader, missing: format.missing, skipBadRows: options.skipBadRows };
}

/**
 * A header naming one column twice is an error naming both positions (pandas would rename the second 'a.1'; a model
 * would silently keep one of them). Repeats a format knows to be copies (CIC-IDS2017's Fwd Header Length) are planned
 * as 'duplicate' and pass.
 */
function distinctNames(plan: FilePlan, file: string): FilePlan {
  const first = new Map<string, number>();
  plan.columns.forEach((c, i) => {
    if (c.role === 'duplicate') return;
    const earlier = first.get(c.name);
    if (earlier === undefined) {
      first.set(c.name, i);
      return;
    }
    const spelled = plan.columns[earlier].fileName.trim() === c.fileName.trim() ? '' : ` (written '${plan.columns[earlier].fileName.trim()}' and '${c.fileName.trim()}')`;
    throw new UserError(`column '${c.name}' appears twice in the header, as columns ${earlier + 1} and ${i + 1}${spelled}; rename one`, { file });
  });
  return plan;
}

/**
 * With --label on a known format, the named column becomes the label, read as any CSV's label column is, and the
 * format's own label columns become label-side metadata (never features).
 */
function withLabelOverride(plan: FilePlan, label: string | undefined, file: string): FilePlan {
  if (label === undefined) return plan;
  const wanted = label.trim();
  const index = plan.columns.findIndex((c) => c.name === wanted || c.fileName.trim() === wanted);
  if (index < 0) throw new UserError(`label column '${wanted}' not found; columns are: ${plan.columns.map((c) => c.name).join(', ')}`, { file });
  if (plan.columns[index].role === 'label') return plan;
  const columns = plan.columns.map((c, i): ColumnPlan => {
    if (i === index) return { ...c, role: 'label', kind: 'categorical' };
    return c.role === 'label' || c.role === 'category' ? { ...c, role: 'meta' } : c;
  });
  return { ...plan, columns, labelOverride: true };
}

/** True when at least 90% of the non-empty cells are timestamps the loader reads (and there is one). */
function mostlyTimestamps(cells: readonly string[]): boolean {
  let filled = 0;
  let readable = 0;
  for (const cell of cells) {
    if (cell.trim() === '') continue;
    filled++;
    if (!Number.isNaN(parseTimestamp(cell))) readable++;
  }
  return readable > 0 && readable >= 0.9 * filled;
}

/** The same fields, in the same order. */
function sameRecord(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

function checkSameColumns(first: FilePlan, other: FilePlan, firstFile: string, file: string): void {
  if (other === first) return;
  const a = first.columns.map((c) => c.name);
  const b = other.columns.map((c) => c.name);
  if (a.length === b.length && a.every((n, i) => n === b[i])) return;
  const missing = a.filter((n) => !b.includes(n));
  const extra = b.filter((n) => !a.includes(n));
  const parts = [];
  if (missing.length) parts.push(`missing ${missing.map((n) => `'${n}'`).join(', ')}`);
  if (extra.length) parts.push(`extra ${extra.map((n) => `'${n}'`).join(', ')}`);
  if (!parts.length) parts.push('the same columns in another order');
  throw new UserError(`columns differ from ${firstFile}: ${parts.join('; ')}`, { file });
}

/** The files read, the data rows each gave (in frame order) and whether each is gzip: where a frame row comes from. */
interface RowOrigin {
  readonly files: readonly string[];
  readonly fileRows: readonly number[];
  readonly gzip: readonly boolean[];
  /** Per file, the layout of its JSON lines (undefined for CSV). */
  readonly jsonLines: readonly (JsonLinesLayout | undefined)[];
}

async function assembleFrame(
  format: DatasetFormat,
  plan: FilePlan,
  outputs: ColumnOutput[],
  nRows: number,
  origin: RowOrigin,
  skipped: Map<string, number>,
  options: LoadOptions,
): Promise<Frame> {
  const { files } = origin;
  const features: Column[] = [];
  const identifiers: IdentifierColumn[] = [];
  const meta: Column[] = [];
  const dropped: DroppedColumn[] = [];
  const kept: string[] = [];
  let label: CategoricalColumn | undefined;
  let category: CategoricalColumn | undefined;
  const missingSpellings = new Set<string>();
  // the file's fields of the label and category columns (the category is the label of UNSW-NB15)
  let labelField = -1;
  let categoryField = -1;
  plan.columns.forEach((c, i) => {
    const out = outputs[i];
    if (c.role === 'payload' || c.role === 'duplicate') {
      dropped.push({ name: c.name, reason: c.role });
      return;
    }
    if (out === undefined) {
      if (c.role === 'identifier') dropped.push({ name: c.name, reason: 'identifier' });
      return;
    }
    if (out.kind === TIMESTAMP || out.kind === TEXT) {
      identifiers.push(out.kind === TIMESTAMP ? { kind: 'time', name: c.name, seconds: out.seconds } : { ...out.text, name: c.name });
      dropped.push({ name: c.name, reason: 'identifier' });
      return;
    }
    let column: Column;
    if (out.kind === NUMERIC) column = { kind: 'numeric', name: c.name, values: out.values };
    else {
      column = cleanDictionary({ kind: 'categorical', name: c.name, codes: out.codes, dictionary: out.dictionary }, cleaner(c, plan, format));
    }
    switch (c.role) {
      case 'feature':
        features.push(column);
        break;
      case 'identifier':
        if (options.keepIdentifiers) {
          features.push(column);
          kept.push(c.name);
        } else {
          identifiers.push(column);
          dropped.push({ name: c.name, reason: 'identifier' });
        }
        break;
      case 'label':
        label = withoutMissingLabels(asCategorical(column), missingSpellings);
        labelField = i;
        dropped.push({ name: c.name, reason: 'label' });
        break;
      case 'category':
        category = withoutMissingLabels(asCategorical(column), missingSpellings);
        categoryField = i;
        dropped.push({ name: c.name, reason: 'label' });
        break;
      case 'meta':
        meta.push(column);
        dropped.push({ name: c.name, reason: 'label' });
        break;
    }
  });
  // Formats whose only label is a category column (UNSW-NB15's attack_cat) use it as the attack name too.
  label ??= category;
  let frame: Frame = {
    nRows,
    features,
    identifiers,
    ...(label ? { label } : {}),
    ...(category ? { category } : {}),
    ...(meta.length ? { meta } : {}),
    source: {
      format: format.name,
      ...(plan.variant ? { variant: plan.variant } : {}),
      ...(plan.labelOverride && label ? { labelColumn: label.name } : {}),
      files: [...files],
      dropped,
      ...(kept.length ? { keptIdentifiers: kept } : {}),
      skipped: [],
    },
  };
  // An empty label's code is -1, the only negative one: the engine's own search finds none without a loop over the
  // rows for V8 to compile (on-stack) at the end of the load, where the memory peaks.
  if (label && !options.keepUnlabelledRows && label.codes.indexOf(-1) >= 0) {
    if (!options.skipBadRows) {
      const field = labelField >= 0 ? labelField : categoryField;
      throw await emptyLabelError(label, missingSpellings, origin, { format, plan, field });
    }
    frame = dropEmptyLabels(frame, label, skipped);
  }
  return { ...frame, source: { ...frame.source, skipped: [...skipped].map(([reason, count]) => ({ reason, count })) } };
}

/** The clean-up of a text column's values by its role: labels, categories and text features as the format says. */
function cleaner(column: ColumnPlan, plan: FilePlan, format: DatasetFormat): ((s: string) => string) | undefined {
  if (column.role === 'label') return plan.labelOverride ? genericCsv.normaliseLabel : format.normaliseLabel;
  if (column.role === 'category') return format.normaliseCategory ?? ((s: string) => s.trim());
  return column.role === 'feature' ? format.featureText : undefined;
}

function asCategorical(column: Column): CategoricalColumn {
  if (column.kind === 'categorical') return column;
  // A numeric label column (e.g. 0/1): its values become class names.
  const names = new Map<number, number>();
  const dictionary: string[] = [];
  const codes = new Int32Array(column.values.length);
  for (let i = 0; i < codes.length; i++) {
    const v = column.values[i];
    if (v !== v) {
      codes[i] = -1;
      continue;
    }
    let code = names.get(v);
    if (code === undefined) {
      code = dictionary.length;
      names.set(v, code);
      dictionary.push(String(v));
    }
    codes[i] = code;
  }
  return { kind: 'categorical', name: column.name, codes, dictionary };
}

/** Applies a text clean-up to a dictionary, merging entries that become equal (codes rewritten in place). */
export function cleanDictionary(column: CategoricalColumn, clean: ((s: string) => string) | undefined): CategoricalColumn {
  if (!clean) return column;
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  const remap = new Int32Array(column.dictionary.length);
  let changed = false;
  column.dictionary.forEach((raw, i) => {
    const name = clean(raw);
    let code = index.get(name);
    if (code === undefined) {
      code = dictionary.length;
      index.set(name, code);
      dictionary.push(name);
    }
    remap[i] = code;
    if (code !== i || name !== raw) changed = true;
  });
  if (!changed) return column;
  const codes = column.codes;
  for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) codes[i] = remap[codes[i]];
  return { ...column, dictionary };
}

/**
 * Label-side text that means "no label" (isMissingLabel: empty once cleaned, or 'NaN', 'N/A', 'null', ... in any case)
 * becomes an empty cell (code -1): one rule for every format, whose unlabelled rows then take the one empty-label
 * path. They were classes, and attacks in the binary view. The spellings found are added to `spellings`.
 */
function withoutMissingLabels(column: CategoricalColumn, spellings: Set<string>): CategoricalColumn {
  const missing = column.dictionary.map(isMissingLabel);
  if (!missing.includes(true)) return column;
  const dictionary: string[] = [];
  const remap = Int32Array.from(column.dictionary, (name, i) => {
    if (!missing[i]) return dictionary.push(name) - 1;
    if (name.trim() !== '') spellings.add(name.trim());
    return -1;
  });
  const codes = column.codes;
  for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) codes[i] = remap[codes[i]];
  return { ...column, dictionary };
}

/**
 * The error line for rows without a label: their count, and the file, line and column of the first (found by reading
 * its file again, row-line.ts; checked to be that row: a row the count cannot place is named by its file alone).
 */
async function emptyLabelError(label: CategoricalColumn, spellings: ReadonlySet<string>, origin: RowOrigin, where: { format: DatasetFormat; plan: FilePlan; field: number }): Promise<UserError> {
  let empty = 0;
  for (let i = 0; i < label.codes.length; i++) if (label.codes[i] < 0) empty++;
  const first = label.codes.indexOf(-1);
  let file = 0;
  let before = 0;
  while (file < origin.fileRows.length - 1 && first >= before + origin.fileRows[file]) before += origin.fileRows[file++];
  const several = origin.files.length > 1 ? ` of the ${origin.files.length} files` : '';
  const rows = `${empty} ${empty === 1 ? `row${several} has` : `rows${several} have`}`;
  const spelled = spellings.size ? ` (${[...spellings].map((s) => `'${s}'`).join(', ')}: missing, as pandas reads them)` : '';
  const advice = '; use --skip-bad-rows to skip them';
  const column = where.plan.columns[where.field];
  if (column && !where.format.xml) {
    const layout = origin.jsonLines[file];
    const row = first - before;
    const found = layout ? await lineOfJsonRow(origin.files[file], row, layout, origin.gzip[file]) : await lineOfRow(origin.files[file], row, where.plan.hasHeader, origin.gzip[file]);
    const cell = found?.cells[where.field];
    const clean = cleaner(column, where.plan, where.format) ?? ((s: string) => s);
    if (found && cell !== undefined && (cell === '' || isMissingLabel(clean(cell)))) {
      const firstHere = empty > 1 ? ', the first here' : '';
      return new UserError(`${rows} an empty '${label.name}' label${spelled}${firstHere}${advice}`, { file: origin.files[file], line: found.line, column: column.fileName.trim() });
    }
  }
  return new UserError(`${rows} an empty '${label.name}' label${spelled}${advice}`, { file: origin.files.length === 1 ? origin.files[0] : `${origin.files.length} files` });
}

/** Rows without a label (--skip-bad-rows) are skipped and counted. */
function dropEmptyLabels(frame: Frame, label: CategoricalColumn, skipped: Map<string, number>): Frame {
  let empty = 0;
  for (let i = 0; i < label.codes.length; i++) if (label.codes[i] < 0) empty++;
  skipped.set(SKIP_EMPTY_LABEL, (skipped.get(SKIP_EMPTY_LABEL) ?? 0) + empty);
  const keep = new Int32Array(frame.nRows - empty);
  let k = 0;
  for (let i = 0; i < label.codes.length; i++) if (label.codes[i] >= 0) keep[k++] = i;
  const take = (c: Column): Column =>
    c.kind === 'numeric' ? { ...c, values: c.values.filter((_, i) => label.codes[i] >= 0) } : { ...c, codes: Int32Array.from(keep, (i) => c.codes[i]) };
  const takeCat = (c: CategoricalColumn): CategoricalColumn => take(c) as CategoricalColumn;
  const newLabel = takeCat(label);
  return {
    ...frame,
    nRows: keep.length,
    features: frame.features.map(take),
    identifiers: frame.identifiers.map((c) => (c.kind === 'time' ? { ...c, seconds: Float64Array.from(keep, (i) => c.seconds[i]) } : c.kind === 'text' ? subsetTextColumn(c, keep) : take(c))),
    label: newLabel,
    ...(frame.category ? { category: frame.category === label ? newLabel : takeCat(frame.category) } : {}),
    ...(frame.meta ? { meta: frame.meta.map(take) } : {}),
  };
}

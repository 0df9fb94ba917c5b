// `flowsentry predict`: one output row per input row — predicted label, score, P(attack) / normalised anomaly score,
// and the top contributing features with their values — written block by block (CSV or JSON lines), so predictions
// are never all held in memory.

import { openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { labelColumnFor, loadModelFile, readModelInput, taskLabels } from './data.js';
import { checkInputColumns, fittedFromDocument, predictBlock, type PredictedRow } from './fitted.js';
import { checkNotAnInput, checkWritableFile, dataOutputFormat } from './paths.js';
import { countLines, countStdout, OutputError, syncFileStream, writtenBefore } from '../util/output.js';

export const PREDICT_BLOCK_ROWS = 1024;
const TOP = 3;

export type PredictFormat = 'csv' | 'jsonl';

export interface PredictOptions {
  format?: string;
  label?: string;
  /** Explain each prediction (top features); default true. */
  explain?: boolean;
}

export interface PredictionRecord extends PredictedRow {
  row: number;
  /** The row's label in the model's label view, when the input is labelled. */
  trueLabel?: string;
}

export interface PredictSummary {
  model: string;
  files: string[];
  out: string | null;
  rows: number;
  /** Predicted label → count. */
  counts: Record<string, number>;
  seconds: number;
}

const csvCell = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : String(v)) : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function csvHeader(labelled: boolean): string {
  const cols = ['row', ...(labelled ? ['true_label'] : []), 'label', 'score', 'attack_score'];
  for (let k = 1; k <= TOP; k++) cols.push(`feature_${k}`, `value_${k}`, `contribution_${k}`);
  return `${cols.join(',')}\n`;
}

export function csvLine(p: PredictionRecord, labelled: boolean): string {
  const cells: (string | number | null | undefined)[] = [p.row, ...(labelled ? [p.trueLabel] : []), p.label, p.score, p.attack];
  for (let k = 0; k < TOP; k++) cells.push(p.top[k]?.feature, p.top[k]?.value, p.top[k]?.contribution);
  return `${cells.map(csvCell).join(',')}\n`;
}

/** Infinity, -Infinity and NaN as the strings CSV and `--json` show (JSON.stringify writes null for them). */
const jsonNumber = <T>(v: T): T | string => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

/** A prediction as JSON shows it: a line of --out .jsonl, or an item of `predict --json`'s predictions. */
export function jsonRecord(p: PredictionRecord): Record<string, unknown> {
  return {
    row: p.row,
    ...(p.trueLabel !== undefined ? { true_label: p.trueLabel } : {}),
    label: p.label,
    score: jsonNumber(p.score),
    attack_score: jsonNumber(p.attack),
    top_features: p.top.map((t) => ({ feature: t.feature, value: jsonNumber(t.value), contribution: jsonNumber(t.contribution) })),
  };
}

export function jsonLine(p: PredictionRecord): string {
  return `${JSON.stringify(jsonRecord(p))}\n`;
}

/**
 * Writes `bytes`; resolves once the stream has taken them (or has room again), rejects with the stream's error.
 * `taken` gets the bytes that reached the output (all, or those before a failure: writtenBefore).
 */
function write(stream: Writable, bytes: Buffer, taken: (part: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const room = stream.write(bytes, (err) => {
      taken(err ? bytes.subarray(0, writtenBefore(err)) : bytes);
      if (err) reject(err);
      else if (room) resolve();
    });
    if (!room) stream.once('drain', () => resolve());
  });
}

/**
 * Predicts every row. With `out` (a path, or a writable stream plus its format) rows are streamed there; otherwise
 * they are passed to `collect` (used for --json on stdout).
 */
export async function predict(
  modelPath: string,
  files: string[],
  o: PredictOptions,
  out: { path: string } | { stream: Writable; format: PredictFormat } | { collect: (p: PredictionRecord) => void },
): Promise<PredictSummary> {
  const started = performance.now();
  const format = 'path' in out ? dataOutputFormat(out.path) : 'stream' in out ? out.format : undefined;
  if ('path' in out) checkWritableFile(out.path, '--out');
  if ('path' in out) checkNotAnInput(out.path, '--out', [modelPath, ...files]);
  const doc = await loadModelFile(modelPath);
  const fitted = fittedFromDocument(doc, modelPath);
  // a row without a label is scored like any other (true_label empty): labels are only echoed here, from --label or,
  // when the input has it, the label column the model was trained with (as evaluate reads it)
  const recordedLabel = labelColumnFor(doc, undefined);
  const frame = await readModelInput(doc, files, { format: o.format, label: o.label, ...(recordedLabel !== undefined ? { labelIfPresent: recordedLabel } : {}), keepUnlabelledRows: true });
  // fail on missing columns before writing anything
  checkInputColumns(fitted, frame, doc.meta.format);
  const truth = frame.label ? taskLabels(frame, doc.meta.task, true) : undefined;
  const labelled = truth !== undefined;
  let stream: Writable | undefined;
  if ('path' in out) {
    try {
      stream = syncFileStream(openSync(out.path, 'w'), true);
    } catch (err) {
      throw new OutputError(out.path, err, 'nothing was written');
    }
  } else if ('stream' in out) stream = out.stream;
  const counts: Record<string, number> = {};
  // Predictions the output has taken, for the error line when it fails (stdout: src/util/output.ts).
  let written = 0;
  const tally = (): { count: number; unit: string } => ({ count: written, unit: 'predictions' });
  if ('stream' in out && out.stream === process.stdout) countStdout(tally);
  const failed = (err: unknown): never => {
    throw err instanceof OutputError ? err : new OutputError('path' in out ? out.path : 'stdout', err, tally());
  };
  try {
    const countRows = (part: Buffer): void => void (written += countLines(part));
    if (stream && format === 'csv') await write(stream, Buffer.from(csvHeader(labelled)), () => undefined).catch(failed);
    for (let start = 0; start < frame.nRows; start += PREDICT_BLOCK_ROWS) {
      const end = Math.min(frame.nRows, start + PREDICT_BLOCK_ROWS);
      const rows = await predictBlock(fitted, frame, start, end, o.explain !== false, TOP);
      let text = '';
      rows.forEach((r, k) => {
        const i = start + k;
        const rec: PredictionRecord = { ...r, row: i, ...(truth ? { trueLabel: truth.codes[i] < 0 ? '' : truth.classes[truth.codes[i]] } : {}) };
        counts[r.label] = (counts[r.label] ?? 0) + 1;
        if ('collect' in out) out.collect(rec);
        else text += format === 'csv' ? csvLine(rec, labelled) : jsonLine(rec);
      });
      if (stream && text) await write(stream, Buffer.from(text), countRows).catch(failed);
    }
    if ('path' in out && stream) await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve()))).catch(failed);
  } finally {
    if ('path' in out && stream && !stream.writableFinished) stream.destroy();
  }
  return { model: modelPath, files: [...files], out: 'path' in out ? out.path : null, rows: frame.nRows, counts, seconds: (performance.now() - started) / 1000 };
}

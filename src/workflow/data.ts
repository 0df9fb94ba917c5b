// Data plumbing of the workflow: reading input files (refusing model files given as data), the labels of a task,
// row subsets of a frame, matching test columns against training columns, and file fingerprints for the model file.

import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { Column, Frame } from '../frame/frame.js';
import { subsetTextColumn } from '../frame/text-column.js';
import type { Labels } from '../frame/labels.js';
import { loadDataset, type LoadOptions } from '../datasets/load.js';
import { BINARY_CLASSES, labelColumnProblem, labelView, type LabelViewName } from '../datasets/label-views.js';
import { NORMAL_CATEGORY } from '../datasets/schema.js';
import { normalClassIndex } from '../eval/scoring.js';
import { canonicalFeatureName } from '../datasets/cic-names.js';
import { detectFileFormat } from '../datasets/detect.js';
import { assertNotModelFile, loadModel, type ModelDocument, type Task, type TrainingFile } from '../store/model-file.js';

export async function readData(files: readonly string[], options: LoadOptions = {}): Promise<Frame> {
  for (const f of files) assertNotModelFile(f);
  return loadDataset(files, options);
}

/**
 * How a model's data is read by every command after `train`: with its identifier columns as features when it was
 * trained with --keep-identifiers (model files before the field: never).
 */
export function modelLoadOptions(doc: ModelDocument): { keepIdentifiers: boolean } {
  return { keepIdentifiers: doc.meta.keepIdentifiers === true };
}

/**
 * How `predict` and `evaluate` read a model's data: only the columns it needs. Its identifier columns are features
 * when it was trained with --keep-identifiers; otherwise they are skipped unread (no flow id, address or time is
 * parsed: less time and memory, and a damaged identifier cell the model never sees is no error).
 */
export function modelInputOptions(doc: ModelDocument): { keepIdentifiers: boolean; identifiers: 'none' } {
  return { ...modelLoadOptions(doc), identifiers: 'none' };
}

/**
 * Reads a model's input data with modelInputOptions. Data of another format than the model's may hold one of the
 * model's features as an identifier column (its format names it so): then it is read again with every identifier
 * column, where the model finds it, as before identifiers were skipped.
 */
export async function readModelInput(doc: ModelDocument, files: readonly string[], options: LoadOptions): Promise<Frame> {
  const frame = await readData(files, { ...options, ...modelInputOptions(doc) });
  const skipped = new Set(frame.source.dropped.filter((d) => d.reason === 'identifier').map((d) => canonicalFeatureName(d.name)));
  const needed = doc.schema.features.some((f) => skipped.has(canonicalFeatureName(f.name)));
  return needed ? readData(files, { ...options, ...modelLoadOptions(doc), identifiers: 'all' }) : frame;
}

/**
 * Reads test files in the training data's format (headerless formats need it). When that fails and the format was
 * not chosen with --format, a test file of another known format gets the real reason, instead of the first cell that
 * did not parse ("line 1, column 'duration': 'id' is not a number" for UNSW-NB15 tested on an NSL-KDD model).
 */
export async function readTestData(files: readonly string[], trainFormat: string, options: LoadOptions): Promise<Frame> {
  try {
    return await readData(files, { ...options, format: options.format ?? trainFormat });
  } catch (err) {
    if (!(err instanceof UserError) || options.format) throw err;
    for (const file of files) {
      let own: string;
      try {
        own = (await detectFileFormat(file)).format.name;
      } catch {
        continue;
      }
      if (own !== trainFormat && own !== 'csv') {
        throw new UserError(`--test: this is ${own} data, but the training data is ${trainFormat}: test on data with the training columns`, { file });
      }
    }
    throw err;
  }
}

/**
 * The label column to read a model's labelled data with: the one given, else the --label column a known-format model
 * was trained on, else for a generic-CSV model the column it was trained on (recorded among its dropped columns), so
 * `evaluate` and `retrain` need no second --label.
 */
export function labelColumnFor(doc: ModelDocument, given: string | undefined): string | undefined {
  if (given !== undefined || doc.meta.labelColumn !== undefined) return given ?? doc.meta.labelColumn;
  if (doc.meta.format !== 'csv') return undefined;
  const labels = doc.meta.dropped.filter((d) => d.reason === 'label');
  return labels.length === 1 ? labels[0].name : undefined;
}

/** --target-fpr's default: detectors flag 1% of held-out normal training rows. */
export const DEFAULT_TARGET_FPR = 0.01;

/** The false-positive rate a model's detector threshold was set for (model files before it was recorded: the default). */
export function storedTargetFpr(doc: ModelDocument): number {
  return doc.meta.targetFpr ?? DEFAULT_TARGET_FPR;
}

/** The label view each task trains on. */
export function viewOf(task: Task): LabelViewName {
  return task === 'multiclass' ? 'attack' : task === 'category' ? 'category' : 'binary';
}

/**
 * --task anomaly on data without a label column: every row is normal traffic, the baseline the detectors learn (flows
 * of one's own network from `extract` or `collect`). Undefined when the data have labels (a label column named with
 * --label that a file lacks stops its load).
 */
export function baselineLabels(frame: Frame, task: Task): Labels | undefined {
  return task === 'anomaly' && frame.label === undefined ? { codes: new Int32Array(frame.nRows), classes: BINARY_CLASSES } : undefined;
}

/** The labels of a task's view; `keepEmpty` (predict): a row without a label has code -1 instead of being an error. */
export function taskLabels(frame: Frame, task: Task, keepEmpty = false): Labels {
  const problem = labelColumnProblem(frame);
  if (problem) throw new UserError(problem, { file: frame.source.files.length === 1 ? frame.source.files[0] : `${frame.source.files.length} files` });
  return labelView(frame, viewOf(task), keepEmpty);
}

/**
 * A model file as every command reads it. Files written before every label view spelled the normal class 'normal'
 * name it as their dataset did ('BENIGN', 'Normal', 'benign', '0'); that class is read as 'normal', so predictions,
 * confusion matrices, alerts and info use the same name as the labels of the data.
 */
export async function loadModelFile(path: string): Promise<ModelDocument> {
  return withCurrentNormalName(await loadModel(path));
}

export function withCurrentNormalName(doc: ModelDocument): ModelDocument {
  const { classes, mapping } = doc.labels;
  const old = normalClassIndex(classes);
  if (old < 0 || classes.includes(NORMAL_CATEGORY)) return doc;
  const rename = (c: string): string => (c === classes[old] ? NORMAL_CATEGORY : c);
  const renamedMapping = Object.fromEntries(Object.entries(mapping).map(([raw, c]) => [raw, rename(c)]));
  const evaluation = doc.meta.evaluation;
  const confusion = evaluation?.confusion ? { ...evaluation.confusion, labels: evaluation.confusion.labels.map(rename) } : null;
  const meta = evaluation ? { ...doc.meta, evaluation: { ...evaluation, confusion } } : doc.meta;
  return { ...doc, meta, labels: { ...doc.labels, classes: classes.map(rename), mapping: renamedMapping } };
}

/**
 * Re-expresses test labels in the training classes. Rows whose label never occurred in training (new attack names
 * in a multi-class task) cannot be scored and are left out; their count is returned.
 */
export function alignToTraining(labels: Labels, classes: readonly string[]): { labels: Labels; rows: Int32Array; unseen: Map<string, number> } {
  const index = new Map(classes.map((c, i) => [c, i]));
  // models trained before the attack view spelled the normal class 'normal' know it as e.g. 'BENIGN' or 'Normal'
  const oldNormal = normalClassIndex(classes);
  if (!index.has(NORMAL_CATEGORY) && oldNormal >= 0) index.set(NORMAL_CATEGORY, oldNormal);
  const map = labels.classes.map((c) => index.get(c) ?? -1);
  const rows: number[] = [];
  const unseen = new Map<string, number>();
  for (let i = 0; i < labels.codes.length; i++) {
    const code = map[labels.codes[i]];
    if (code >= 0) rows.push(i);
    else {
      const name = labels.classes[labels.codes[i]];
      unseen.set(name, (unseen.get(name) ?? 0) + 1);
    }
  }
  const kept = Int32Array.from(rows);
  return { labels: { codes: Int32Array.from(kept, (i) => map[labels.codes[i]]), classes }, rows: kept, unseen };
}

function subsetColumn(col: Column, rows: ArrayLike<number>): Column {
  if (col.kind === 'numeric') {
    const values = new Float32Array(rows.length);
    for (let r = 0; r < rows.length; r++) values[r] = col.values[rows[r]];
    return { kind: 'numeric', name: col.name, values };
  }
  const codes = new Int32Array(rows.length);
  for (let r = 0; r < rows.length; r++) codes[r] = col.codes[rows[r]];
  return { kind: 'categorical', name: col.name, codes, dictionary: col.dictionary };
}

/** The frame restricted to `rows`, in that order. */
export function subsetFrame(frame: Frame, rows: ArrayLike<number>): Frame {
  const sub = (cols: readonly Column[] | undefined): Column[] | undefined => cols?.map((c) => subsetColumn(c, rows));
  return {
    nRows: rows.length,
    features: sub(frame.features) as Column[],
    identifiers: frame.identifiers.map((c) => (c.kind === 'time' ? { ...c, seconds: Float64Array.from(rows, (r) => c.seconds[r]) } : c.kind === 'text' ? subsetTextColumn(c, rows) : subsetColumn(c, rows))),
    ...(frame.meta ? { meta: sub(frame.meta) } : {}),
    ...(frame.label ? { label: subsetColumn(frame.label, rows) as Frame['label'] } : {}),
    ...(frame.category ? { category: subsetColumn(frame.category, rows) as Frame['category'] } : {}),
    source: frame.source,
  };
}

/** Names precisely which feature columns the test data lacks or adds, compared with the training data. */
export function checkSameColumns(train: Frame, test: Frame): void {
  const key = (c: Column): string => canonicalFeatureName(c.name);
  const testKeys = new Set(test.features.map(key));
  const trainKeys = new Set(train.features.map(key));
  const missing = train.features.filter((c) => !testKeys.has(key(c))).map((c) => c.name);
  const extra = test.features.filter((c) => !trainKeys.has(key(c))).map((c) => c.name);
  if (missing.length === 0 && extra.length === 0) return;
  const parts: string[] = [];
  if (missing.length) parts.push(`lacks ${missing.length} training column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  if (extra.length) parts.push(`has ${extra.length} column${extra.length > 1 ? 's' : ''} the training data does not: ${extra.join(', ')}`);
  throw new UserError(`--test data ${parts.join('; and ')}`, { file: test.source.files.join(', ') });
}

/** sha256 and size of a file, streamed. */
export async function fingerprint(path: string): Promise<TrainingFile> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return { path, sha256: hash.digest('hex'), bytes: statSync(path).size };
}

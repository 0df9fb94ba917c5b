// `retrain`: refits a saved model with the analysts' feedback from the detection store plus its original training
// data, and reports metrics before and after. Feedback rows are the model inputs of the alerted flows (kept by the
// store): a false positive becomes a normal row, a confirmed alert an attack row; each is repeated `feedbackWeight`
// times so a handful of verdicts can move the decision boundary. The old model file is never overwritten.
// Anomaly detectors are refitted on the original rows only, and keep the verdicts as a feedback memory instead
// (src/models/feedback-memory.ts): flows about as close to a false positive as normal rows are to each other score
// below the threshold, flows as close to a confirmed alert at or above it. Copies of false positives among their
// fitting rows barely moved a detector fitted on tens of thousands of normal rows, and on a small baseline they
// distorted it: false positives are the highest-scoring normal flows by selection, not a sample of normal traffic
// (CIC-IDS2017, 1,200 normal rows: LOF's detection rate fell from 0.46 to 0.0002; docs/benchmarks.md). The hybrid
// learns the copies in its classifier and keeps a memory too: its novelty detectors still flagged cleared flows.
//
// Evaluation: on the model's original --test files when it had them; otherwise on the model's own hold-out of the
// original data, drawn as `train` drew it (the latest 20% of rows by time, or the seeded stratified 20%), so neither
// model has trained on those rows; plus the share of feedback verdicts each model agrees with.

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { Column, Frame } from '../frame/frame.js';
import type { Labels } from '../frame/labels.js';
import { findTimestampColumn, frameTimes, stratifiedSplit, timeOrderedSplit } from '../frame/splits.js';
import { canonicalFeatureName } from '../datasets/cic-names.js';
import { getModelSpec } from '../models/index.js';
import { DetectorBase } from '../models/detector-base.js';
import { HybridModel } from '../models/hybrid.js';
import { quantileSorted } from '../util/quantile.js';
import { FeedbackMemory, normalNeighbourRadius, type FeedbackMemorySummary } from '../models/feedback-memory.js';
import { AlertStore } from '../store/alert-store.js';
import { saveModel, type ModelDocument } from '../store/model-file.js';
import { alignToTraining, baselineLabels, fingerprint, labelColumnFor, loadModelFile, modelLoadOptions, readData, readModelInput, storedTargetFpr, subsetFrame, taskLabels } from './data.js';
import { fitCandidate, HOLDOUT_FRACTION } from './train.js';
import { fittedFromDocument, outputsOf, type Fitted } from './fitted.js';
import { testMetrics } from './metrics.js';
import { checkNotAnInput, checkWritableFile, sameFile } from './paths.js';
import { buildReference } from './reference.js';
import { columnMedians } from '../explain/index.js';
import type { TestMetrics } from './run-result.js';

export interface RetrainOptions {
  model: string;
  store: string;
  out: string;
  /** Replaces the training files recorded in the model (when they moved or changed). */
  data?: string[];
  label?: string;
  feedbackWeight?: number;
  log?: (line: string) => void;
}

export interface RetrainResult {
  model: string;
  out: string;
  feedback: { falsePositives: number; confirmed: number; withoutInput: number; weight: number; feedbackMemory: FeedbackMemorySummary | null };
  evaluation: 'test-files' | 'holdout-stratified' | 'holdout-time';
  before: { test: TestMetrics; feedbackAgreement: number };
  after: { test: TestMetrics; feedbackAgreement: number };
}

interface FeedbackRows {
  frame: Frame;
  labels: Int32Array;
  /** The id of the alert each row was judged on. */
  alertIds: string[];
  falsePositives: number;
  confirmed: number;
  withoutInput: number;
}

/**
 * A store is a DuckDB database file ('DUCK' at byte 8). DuckDB opens another existing file (a CSV, a model) as an
 * empty database, which read as "no feedback" instead of the wrong file given.
 */
function assertDuckDbFile(path: string): void {
  const head = Buffer.alloc(12);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    readSync(fd, head, 0, head.length, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'EISDIR' ? 'is a directory, expected a store file' : `cannot read: ${code}`, { file: path });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (head.toString('latin1', 8, 12) !== 'DUCK') {
    throw new UserError('is not a detection store (a DuckDB file written by `flowsentry serve` or `detect --store`)', { file: path });
  }
}

async function feedbackRows(storePath: string, doc: ModelDocument, classes: readonly string[], normal: number, positive: number): Promise<FeedbackRows> {
  if (!existsSync(storePath)) throw new UserError('no such store', { file: storePath });
  assertDuckDbFile(storePath);
  const store = await AlertStore.open(storePath);
  let items;
  try {
    items = await store.feedback();
  } finally {
    await store.close();
  }
  const usable = items.filter((i) => i.input !== null);
  // stored inputs are numbers; a categorical feature (nsl-kdd's service) is its category's name
  const columns: Column[] = doc.schema.features.map((f) =>
    f.kind === 'categorical'
      ? { kind: 'categorical', name: f.name, codes: new Int32Array(usable.length).fill(-1), dictionary: f.categories ?? [] }
      : { kind: 'numeric', name: f.name, values: new Float32Array(usable.length) },
  );
  const labels = new Int32Array(usable.length);
  let falsePositives = 0;
  usable.forEach((item, r) => {
    const input = item.input as Record<string, number | string>;
    const byCanonical = new Map(Object.entries(input).map(([k, v]) => [canonicalFeatureName(k), v]));
    for (const c of columns) {
      const value = byCanonical.get(canonicalFeatureName(c.name));
      if (c.kind === 'numeric') c.values[r] = typeof value === 'number' ? value : Number.NaN;
      else c.codes[r] = typeof value === 'string' ? c.dictionary.indexOf(value) : -1;
    }
    if (item.verdict === 'false_positive') {
      falsePositives++;
      labels[r] = normal;
    } else {
      const named = classes.indexOf(item.alert.label);
      labels[r] = named >= 0 && named !== normal ? named : positive;
    }
  });
  if (usable.length === 0) throw new UserError(`the store holds no feedback with flow inputs to learn from (${items.length} feedback entries)`, { file: storePath });
  if (normal < 0 && falsePositives > 0) throw new UserError('false-positive feedback needs a normal class, and this model has none');
  const frame: Frame = { nRows: usable.length, features: columns, identifiers: [], source: { format: 'feedback', files: [storePath], dropped: [], skipped: [] } };
  const alertIds = usable.map((item) => item.alert.id);
  return { frame, labels, alertIds, falsePositives, confirmed: usable.length - falsePositives, withoutInput: items.length - usable.length };
}

/**
 * The training rows followed by the feedback rows (each repeated `weight` times), restricted to the model's input
 * features so that both parts carry every column.
 */
function appendRows(train: Frame, yTrain: Labels, extra: FeedbackRows, weight: number): { frame: Frame; y: Labels } {
  const n = train.nRows + extra.frame.nRows * weight;
  const extraByName = new Map(extra.frame.features.map((c) => [canonicalFeatureName(c.name), c]));
  const inputs = train.features.filter((col) => extraByName.has(canonicalFeatureName(col.name)));
  const features: Column[] = inputs.map((col) => {
    const source = extraByName.get(canonicalFeatureName(col.name)) as Column;
    if (col.kind !== 'numeric') {
      const codes = new Int32Array(n).fill(-1);
      codes.set(col.codes);
      // the feedback's categories, renumbered to the training column's dictionary
      const extraCodes = source.kind === 'categorical' ? Int32Array.from(source.codes, (c) => (c < 0 ? -1 : col.dictionary.indexOf(source.dictionary[c]))) : new Int32Array(extra.frame.nRows).fill(-1);
      for (let k = 0; k < weight; k++) codes.set(extraCodes, train.nRows + k * extra.frame.nRows);
      return { ...col, codes };
    }
    const values = new Float32Array(n).fill(Number.NaN);
    values.set(col.values);
    if (source.kind === 'numeric') for (let k = 0; k < weight; k++) values.set(source.values, train.nRows + k * extra.frame.nRows);
    return { kind: 'numeric', name: col.name, values };
  });
  const codes = new Int32Array(n);
  codes.set(yTrain.codes);
  for (let k = 0; k < weight; k++) codes.set(extra.labels, train.nRows + k * extra.frame.nRows);
  return { frame: { ...train, nRows: n, features, identifiers: [], label: undefined, category: undefined }, y: { codes, classes: yTrain.classes } };
}

/** Rows evenly spread over `rows`, at most `limit` of them. */
function spread(rows: Int32Array, limit: number): Int32Array {
  return rows.length > limit ? Int32Array.from({ length: limit }, (_, k) => rows[Math.floor((k * rows.length) / limit)]) : rows;
}

/** The largest double below `v`'s neighbourhood: a level that does not alert at threshold `v`. */
function justBelow(v: number): number {
  return v - Math.max(Math.abs(v) * Number.EPSILON, Number.MIN_VALUE);
}

/**
 * The feedback memory of a refitted detector or hybrid: the feedback rows in its input space, the radius from its
 * normal training rows (`normalRows` of `train`), as floor its alert threshold, and as cap the median level of those
 * rows (below the threshold).
 */
async function feedbackMemoryOf(f: Fitted, fb: FeedbackRows, normal: number, train: Frame, normalRows: Int32Array, seed: number): Promise<FeedbackMemory> {
  const X = f.pipeline.transform(fb.frame);
  const benign = Uint8Array.from(fb.labels, (c) => (c === normal ? 1 : 0));
  const normalX = f.pipeline.transform(train, spread(normalRows, 20000));
  const radius = normalNeighbourRadius(normalX, seed);
  let median: number;
  let threshold: number;
  if (f.model instanceof HybridModel) {
    // the hybrid alerts at r >= 1 (its combined score over its threshold)
    median = quantileSorted((await f.model.decision(normalX)).r.sort(), 0.5);
    threshold = 1;
  } else {
    const detector = f.model as DetectorBase;
    median = detector.medianTrainingScore();
    threshold = f.threshold ?? detector.threshold;
  }
  return new FeedbackMemory(X.data, benign, X.cols, radius, median < threshold ? median : justBelow(threshold), threshold, fb.alertIds);
}

async function agreement(f: Fitted, fb: FeedbackRows): Promise<number> {
  const out = await outputsOf(f, f.pipeline.transform(fb.frame));
  let agree = 0;
  for (let i = 0; i < fb.labels.length; i++) if (out.pred[i] === fb.labels[i]) agree++;
  return agree / fb.labels.length;
}

export async function retrain(o: RetrainOptions): Promise<RetrainResult> {
  // `./m.fsm` for `m.fsm` overwrote the model retrain promises to keep
  if (sameFile(o.out, o.model)) throw new UserError('retrain keeps the old model: give --out a new path', { file: o.out });
  checkWritableFile(o.out, '--out');
  checkNotAnInput(o.out, '--out', [o.store, ...(o.data ?? [])]);
  const weight = o.feedbackWeight ?? 5;
  const doc = await loadModelFile(o.model);
  const old = fittedFromDocument(doc, o.model);
  const { classes, normal, positive } = old.info;
  const fb = await feedbackRows(o.store, doc, classes, normal, positive);

  const files = o.data ?? doc.meta.files.map((f) => f.path);
  if (!o.data) {
    for (const recorded of doc.meta.files) {
      if (!existsSync(recorded.path)) throw new UserError('training file of the model is missing; pass the data again with --data', { file: recorded.path });
      const now = await fingerprint(recorded.path);
      if (now.sha256 !== recorded.sha256) throw new UserError('training file changed since the model was trained (sha256 differs); pass --data to retrain on it anyway', { file: recorded.path });
    }
  }
  const format = doc.meta.format === 'csv' ? undefined : doc.meta.format;
  o.log?.(`loading the original training data: ${files.join(', ')}`);
  // A time-ordered hold-out is drawn again from the timestamps: identifiers, or features of a --keep-identifiers model.
  const timeHoldout = doc.meta.testSource === 'holdout-time';
  const label = labelColumnFor(doc, o.label);
  const all = await readData(files, { format, label, identifiers: timeHoldout ? 'timestamps' : 'none', ...modelLoadOptions(doc) });
  const yAll = alignToTraining(baselineLabels(all, doc.meta.task) ?? taskLabels(all, doc.meta.task), classes);
  const data = subsetFrame(all, yAll.rows);

  let train: Frame;
  let yTrain: Labels;
  let test: Frame;
  let yTest: Int32Array;
  let evaluation: RetrainResult['evaluation'];
  if (doc.meta.testFiles.length > 0 && doc.meta.testFiles.every((f) => existsSync(f.path))) {
    evaluation = 'test-files';
    train = data;
    yTrain = yAll.labels;
    const testAll = await readModelInput(doc, doc.meta.testFiles.map((f) => f.path), { format, label });
    const aligned = alignToTraining(taskLabels(testAll, doc.meta.task), classes);
    test = subsetFrame(testAll, aligned.rows);
    yTest = aligned.labels.codes;
  } else {
    // --data files without timestamps cannot give the time-ordered hold-out: the stratified one then
    const byTime = timeHoldout && findTimestampColumn(data) !== undefined;
    evaluation = byTime ? 'holdout-time' : 'holdout-stratified';
    const split = byTime ? timeOrderedSplit(frameTimes(data), 1 - HOLDOUT_FRACTION) : stratifiedSplit(yAll.labels.codes, HOLDOUT_FRACTION, doc.meta.seed);
    // in file order, as `train` takes them: the seeded calibration hold-out of a detector picks rows by position
    const trainRows = Int32Array.from(split.train).sort();
    const testRows = Int32Array.from(split.test).sort();
    train = subsetFrame(data, trainRows);
    yTrain = { codes: Int32Array.from(trainRows, (i) => yAll.labels.codes[i]), classes };
    test = subsetFrame(data, testRows);
    yTest = Int32Array.from(testRows, (i) => yAll.labels.codes[i]);
  }

  const before = { test: testMetrics(yTest, await outputsOf(old, old.pipeline.transform(test)), old.info), feedbackAgreement: await agreement(old, fb) };
  const spec = getModelSpec(doc.meta.modelName);
  // a detector learns the verdicts through its memory, never as fitting or calibration rows
  const fitWeight = spec.kind === 'detector' ? 0 : weight;
  const combined = appendRows(train, yTrain, fb, fitWeight);
  o.log?.(
    fitWeight > 0
      ? `refitting ${doc.meta.modelName} on ${train.nRows} original rows + ${fb.frame.nRows} feedback rows × ${fitWeight}`
      : `refitting ${doc.meta.modelName} on its ${train.nRows} original rows; the ${fb.frame.nRows} feedback rows go to its feedback memory`,
  );
  // the threshold rule the model was trained with (--target-fpr)
  const targetFpr = storedTargetFpr(doc);
  const { fitted, fitRows } = await fitCandidate(spec, { ...doc.meta.params }, combined.frame, combined.y, old.info, targetFpr, doc.meta.seed);
  let memory: FeedbackMemory | null = null;
  if (fitted.model instanceof DetectorBase || fitted.model instanceof HybridModel) {
    const originalNormal = fitRows.filter((r) => r < train.nRows && combined.y.codes[r] === normal);
    memory = await feedbackMemoryOf(fitted, fb, normal, train, originalNormal, doc.meta.seed);
    fitted.model.useFeedbackMemory(memory);
    const m = memory.summary();
    o.log?.(`feedback memory: ${m.falsePositives} false positives, ${m.confirmed} confirmed alerts, radius ${m.radius.toPrecision(4)}`);
  }
  const after = { test: testMetrics(yTest, await outputsOf(fitted, fitted.pipeline.transform(test)), fitted.info), feedbackAgreement: await agreement(fitted, fb) };

  const refFrame = subsetFrame(combined.frame, spread(fitRows, 20000));
  const refOut = await outputsOf(fitted, fitted.pipeline.transform(refFrame));
  const feedbackMemory = memory?.summary() ?? null;
  // `info` shows the memory's summary; a file without it (classifiers, older retrains) reads as before
  const retrainedFrom = { model: o.model, store: o.store, feedbackRows: fb.frame.nRows, feedbackWeight: fitWeight, ...(feedbackMemory ? { feedbackMemory } : {}) };
  const next: ModelDocument = {
    ...doc,
    meta: {
      ...doc.meta,
      createdAt: new Date().toISOString(),
      files: o.data ? await Promise.all(o.data.map((f) => fingerprint(f))) : doc.meta.files,
      trainRows: combined.frame.nRows,
      // recorded even when the old file predates it: the new threshold is set for this rate
      targetFpr,
      test: Object.fromEntries(Object.entries(after.test).filter(([, v]) => v !== null)) as Record<string, number>,
      retrainedFrom,
    },
    pipeline: fitted.pipeline.getState(),
    model: { name: fitted.model.name, state: fitted.model.getState() },
    threshold: fitted.threshold,
    reference: buildReference(refFrame, refOut.attackScore ?? new Float64Array(refFrame.nRows)),
    explain: { reference: columnMedians(fitted.pipeline.transform(refFrame)) },
  };
  saveModel(o.out, next);
  return {
    model: o.model,
    out: o.out,
    feedback: { falsePositives: fb.falsePositives, confirmed: fb.confirmed, withoutInput: fb.withoutInput, weight: fitWeight, feedbackMemory },
    evaluation,
    before,
    after,
  };
}


// `flowsentry train`: load, hold out a test set, cross-validate (and optionally tune) every candidate on the training
// rows only, refit each candidate's best parameters on all training rows, evaluate on the test set, save the best
// (by mean CV score) as one model file and write the report.
// Honesty rules: preprocessing, detector thresholds and hyper-parameters are fitted on training rows only (per fold in
// CV); the test set — the --test files, or a seeded stratified (time-ordered when the data has timestamps) 20% hold-out
// — is touched once, after the choice. Detectors (`--task anomaly`) fit on normal training rows only, and their
// threshold meets a target false-positive rate on normal training rows held out from their fit.
// Cost: (candidates × folds + candidates) model fits.

import { UserError, UsageError } from '../errors.js';
import type { Frame } from '../frame/frame.js';
import type { Labels } from '../frame/labels.js';
import { takeRows, type Matrix } from '../frame/matrix.js';
import { findTimestampColumn, frameTimes, stratifiedSplit, timeOrderedSplit } from '../frame/splits.js';
import type { Classifier, Detector, Params } from '../models/estimator.js';
import { getModelSpec, listModels, type ModelSpec } from '../models/index.js';
import { Pipeline, type PipelineOptions } from '../prep/pipeline.js';
import { canonicalFeatureName } from '../datasets/cic-names.js';
import { evaluateCandidates, type CandidateResult as CvCandidate, type CvResult } from '../eval/cross-validate.js';
import { calibrationRows, MIN_CALIBRATION_ROWS } from '../eval/fold-task.js';
import { search, type SearchSpace } from '../eval/search.js';
import { CV_METRICS, describeClasses, normalClassIndex, type CvMetric } from '../eval/scoring.js';
import { conformalThreshold } from '../models/calibration.js';
import { columnMedians, globalImportances } from '../explain/index.js';
import { flowsentryVersion, saveModel, type ModelDocument, type Task, type TrainingFile } from '../store/model-file.js';
import { Rng } from '../util/rng.js';
import { alignToTraining, baselineLabels, checkSameColumns, fingerprint, readData, readTestData, subsetFrame, taskLabels, viewOf } from './data.js';
import { featureGroups, outputsOf, type Fitted } from './fitted.js';
import { testCurves, testMetrics, type ClassInfo } from './metrics.js';
import { checkNotAnInput, checkWritableDir, checkWritableFile, sameFile } from './paths.js';
import { buildReference } from './reference.js';
import { TEST_SOURCE_TEXT, type CandidateResult, type DatasetSummary, type RunResult } from './run-result.js';

export const TASKS: readonly Task[] = ['binary', 'multiclass', 'category', 'anomaly'];
export const METRICS: readonly CvMetric[] = CV_METRICS;
/** Tried by default, when registered: quick, strong, different families (kNN is O(n²) in CV: ask for it). */
export const DEFAULT_CLASSIFIERS: readonly string[] = ['rf', 'gbdt', 'dt', 'logreg'];
export const DEFAULT_DETECTORS: readonly string[] = ['iforest', 'lof', 'kmeans', 'ecod', 'autoencoder'];
/** Log-scaled, standardised numeric columns and one-hot categories: what distance and linear models need. */
export const PIPELINE_OPTIONS: PipelineOptions = { log1p: true, scaler: 'standard' };
export const HOLDOUT_FRACTION = 0.2;
/** Share of the normal training rows a detector's threshold is calibrated on. */
const CALIBRATION_FRACTION = 0.2;
/** Models with per-epoch / per-iteration curves, and the share of training rows held out to validate them. */
const ITERATIVE = new Set(['logreg', 'svm', 'mlp', 'gbdt']);
const VALIDATION_FRACTION = 0.1;

export interface TrainOptions {
  files: string[];
  test?: string[];
  format?: string;
  label?: string;
  task: Task;
  /** Registry names, or 'all'; default: the task's default set. */
  models?: string[] | 'all';
  /** Parameters set by the user, by model name (`--param rf.n_estimators=200`); tuning searches only the others. */
  params?: Readonly<Record<string, Params>>;
  cv: number;
  tune?: 'grid' | 'random';
  budget?: number;
  metric: CvMetric;
  out?: string;
  report?: string;
  png?: string;
  seed: number;
  /** Hold-out without --test: 'auto' (time-ordered when timestamps exist and every class lands on both sides). */
  split?: 'auto' | 'stratified' | 'time';
  /** Detector thresholds: false-positive rate on held-out normal training rows. */
  targetFpr: number;
  /** Identifier columns (row and flow ids, addresses, source ports, timestamps) become features (a leakage trap). */
  keepIdentifiers?: boolean;
  /** Skip malformed rows and rows without a label (counted by reason in the result) instead of stopping at the first. */
  skipBadRows?: boolean;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number) => void;
  /** Progress lines for humans (stderr). */
  log?: (line: string) => void;
  /** Warnings, for stderr even when the result goes to stdout as JSON. */
  warn?: (line: string) => void;
}

/** Checks names and combinations before any work; unknown models list the valid ones. */
export function resolveModels(task: Task, models: string[] | 'all' | undefined): ModelSpec[] {
  const kind = task === 'anomaly' ? 'detector' : 'classifier';
  const allowed = listModels().filter((s) => s.kind === kind || (task === 'binary' && s.kind === 'detector'));
  if (models === 'all') return [...listModels(kind)];
  if (models === undefined || models.length === 0) {
    const wanted = kind === 'detector' ? DEFAULT_DETECTORS : DEFAULT_CLASSIFIERS;
    const chosen = wanted.filter((n) => listModels().some((s) => s.name === n)).map((n) => getModelSpec(n));
    if (chosen.length === 0) throw new UserError(`no ${kind} is registered in this build`);
    return chosen;
  }
  const valid = listModels().map((s) => s.name);
  const twice = models.find((name, i) => models.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError(`--models names ${twice} twice`);
  return models.map((name) => {
    if (!valid.includes(name)) throw new UsageError(`unknown model '${name}'; valid models: ${valid.join(', ')}`);
    const spec = getModelSpec(name);
    if (!allowed.includes(spec)) {
      throw new UsageError(
        task === 'anomaly'
          ? `--task anomaly trains anomaly detectors; '${name}' is a classifier. Detectors: ${listModels('detector').map((s) => s.name).join(', ')}`
          : `'${name}' is an anomaly detector; it fits --task binary or anomaly, not ${task}`,
      );
    }
    return spec;
  });
}

/** The user's parameters of each model, checked against the model's rules before any work. */
function userParams(specs: readonly ModelSpec[], given: Readonly<Record<string, Params>> = {}): Map<string, Params> {
  const out = new Map<string, Params>();
  for (const [model, params] of Object.entries(given)) {
    const spec = specs.find((s) => s.name === model);
    if (!spec) throw new UsageError(`--param sets ${model}, which is not among the models to train (${specs.map((s) => s.name).join(', ')})`);
    spec.create(params); // one line naming the parameter, its value and what it accepts
    out.set(model, params);
  }
  return out;
}

/** A model's search space without the parameters the user set. */
function spaceWithout(space: SearchSpace, fixed: Params | undefined): SearchSpace {
  return fixed ? Object.fromEntries(Object.entries(space).filter(([key]) => !(key in fixed))) : space;
}

function checkOptions(o: TrainOptions): void {
  if (!TASKS.includes(o.task)) throw new UsageError(`unknown task '${o.task}'; tasks: ${TASKS.join(', ')}`);
  if (!METRICS.includes(o.metric)) throw new UsageError(`unknown metric '${o.metric}'; metrics: ${METRICS.join(', ')}`);
  if (!(Number.isInteger(o.cv) && o.cv >= 2)) throw new UsageError(`--cv expects an integer >= 2, got ${o.cv}`);
  if (!(o.targetFpr > 0 && o.targetFpr < 0.5)) throw new UsageError(`--target-fpr expects a number in (0, 0.5), got ${o.targetFpr}`);
  const inputs = [...o.files, ...(o.test ?? [])];
  if (o.out) checkWritableFile(o.out, '--out');
  if (o.out) checkNotAnInput(o.out, '--out', inputs);
  if (o.report) checkWritableFile(o.report, '--report');
  if (o.report) checkNotAnInput(o.report, '--report', inputs);
  if (o.out && o.report && sameFile(o.out, o.report)) throw new UsageError(`--out and --report name the same file (${o.report}): the report would replace the model`);
  if (o.png) checkWritableDir(o.png, '--png');
}

function classInfo(classes: readonly string[]): ClassInfo {
  const t = describeClasses(classes);
  return { classes, normal: t.normal, positive: classes.length === 2 ? t.positive : -1 };
}

function counts(labels: Labels, rows?: ArrayLike<number>): number[] {
  const out = new Array<number>(labels.classes.length).fill(0);
  const n = rows ? rows.length : labels.codes.length;
  for (let r = 0; r < n; r++) out[labels.codes[rows ? rows[r] : r]]++;
  return out;
}

/**
 * A classifier learns from two classes or more, in all the training rows and in every cross-validation fold's. A
 * class of one training row is missing from the fold that validates that row, so two classes must have two rows each.
 * One line before any fitting instead of every candidate failing with the same reason.
 */
function checkClassesToLearn(y: Labels): void {
  const perClass = counts(y);
  const present = y.classes.filter((_, k) => perClass[k] > 0);
  const oneClass = ' (detectors learn from normal rows alone: --task anomaly)';
  if (present.length < 2) throw new UserError(`the training rows hold a single class ('${present.join("', '")}'); a classifier needs at least two${oneClass}`);
  const repeated = y.classes.filter((_, k) => perClass[k] > 1);
  if (repeated.length < 2) {
    const single = y.classes.filter((_, k) => perClass[k] === 1);
    throw new UserError(
      `only '${repeated.join("', '")}' has more than one training row ('${single.join("', '")}': 1 row${single.length > 1 ? ' each' : ''}); a cross-validation fold ` +
        `fits without the rows it validates, so it would hold a single class: give more rows of another class${oneClass}`,
    );
  }
}

function seededParams(spec: ModelSpec, params: Params, seed: number): Params {
  return 'random_state' in spec.create().params && !('random_state' in params) ? { ...params, random_state: seed } : params;
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/**
 * The false-positive rate a candidate's threshold targets and the share of normal training rows that calibrate it, or
 * undefined for a classifier. Detectors hold out CALIBRATION_FRACTION of the normal rows for `targetFpr`; a model that
 * calibrates itself (the hybrid) names its own `target_fpr` and `holdout`.
 */
function fprTarget(spec: ModelSpec, params: Params, targetFpr: number): { rate: number; fraction: number } | undefined {
  const own = spec.create(params).params;
  if (typeof own.target_fpr === 'number' && typeof own.holdout === 'number') return { rate: own.target_fpr, fraction: own.holdout };
  return spec.kind === 'detector' ? { rate: targetFpr, fraction: CALIBRATION_FRACTION } : undefined;
}

const percent = (rate: number): string => `${+(rate * 100).toPrecision(3)}%`;

/**
 * Why a candidate's threshold cannot keep the false-positive rate it targets, or undefined: n held-out normal rows
 * promise at best 1 / (n + 1) (conformalThreshold then sits above all of them).
 */
function fprPromiseWarning(spec: ModelSpec, params: Params, y: Labels, info: ClassInfo, targetFpr: number): string | undefined {
  const target = fprTarget(spec, params, targetFpr);
  if (!target) return undefined;
  const held = Math.floor((counts(y)[info.normal] ?? 0) * target.fraction);
  if (held + 1 >= 1 / target.rate - 1e-9) return undefined;
  const needed = Math.ceil(1 / target.rate - 1e-9) - 1;
  return `${spec.name}: ${held} held-out normal rows cannot promise a ${percent(target.rate)} false-positive rate (that takes ${needed}, i.e. about ${Math.ceil(needed / target.fraction)} normal training rows); its threshold sits above every held-out score, so it alerts only on rows beyond all of them (at most about ${+(100 / (held + 1)).toPrecision(2)}% of normal rows, and fewer attacks)`;
}

/**
 * A warning when the test rows' false-positive rate is far above the rate the threshold targets (more than twice it,
 * and more than four binomial standard deviations above it): normal rows like the training ones alert at most at
 * the target, so the test rows' normal traffic differs from the training rows', and new traffic like it will alert
 * at the measured rate, not the target.
 */
function fprShiftWarning(spec: ModelSpec, params: Params, targetFpr: number, fpr: number | null, normalTestRows: number, testSource: DatasetSummary['testSource']): string | undefined {
  const target = fprTarget(spec, params, targetFpr);
  if (!target || fpr === null || normalTestRows === 0) return undefined;
  const expected = normalTestRows * target.rate;
  const alerted = Math.round(fpr * normalTestRows);
  if (fpr <= 2 * target.rate || alerted <= expected + 4 * Math.sqrt(expected * (1 - target.rate)) + 1) return undefined;
  return `${spec.name}: ${percent(fpr)} of the ${normalTestRows} normal test rows alert, against the ${percent(target.rate)} its threshold targets: the normal traffic of ${TEST_SOURCE_TEXT[testSource]} differs from the training rows', so expect that rate on traffic like it (train on a baseline that covers it)`;
}

/**
 * The normal training rows a detector needs: MIN_CALIBRATION_ROWS held out to set its threshold in the final fit and,
 * given `folds`, in every CV fold, whose training part holds all but ⌈n / k⌉ of the n normal rows (stratified folds
 * deal each class evenly, src/frame/splits.ts).
 */
function normalRowsNeeded(folds?: number): number {
  const enough = (n: number): boolean => calibrationRows(n, CALIBRATION_FRACTION) >= MIN_CALIBRATION_ROWS;
  let n = MIN_CALIBRATION_ROWS;
  while (!enough(n) || (folds !== undefined && !enough(n - Math.ceil(n / folds)))) n++;
  return n;
}

/** Why `normal` normal training rows cannot train a detector (with `folds`: cross-validated too). */
function tooFewNormalRows(normal: number, folds?: number): string {
  const where = folds === undefined ? '' : `, in the final fit and in each of the ${folds} CV folds`;
  return `too few normal rows: the training rows hold ${normal}, a detector needs ${normalRowsNeeded(folds)} (${MIN_CALIBRATION_ROWS} held out to set its threshold${where})`;
}

/** Fits a candidate on the training rows: pipeline, model and (detectors) the threshold from held-out normal rows. */
export async function fitCandidate(
  spec: ModelSpec,
  params: Params,
  frame: Frame,
  y: Labels,
  info: ClassInfo,
  targetFpr: number,
  seed: number,
  signal?: AbortSignal,
): Promise<{ fitted: Fitted; fitRows: Int32Array; fitSeconds: number }> {
  const t0 = performance.now();
  const model = spec.create(seededParams(spec, { ...spec.curveParams, ...params }, seed));
  let fitRows: Int32Array;
  let threshold: number | null = null;
  let pipeline: Pipeline;
  let Xfit: Matrix;
  if (model.kind === 'detector') {
    const normal: number[] = [];
    for (let i = 0; i < y.codes.length; i++) if (y.codes[i] === info.normal) normal.push(i);
    const calibrationCount = calibrationRows(normal.length, CALIBRATION_FRACTION);
    if (calibrationCount < MIN_CALIBRATION_ROWS) throw new UserError(`${spec.name}: ${tooFewNormalRows(normal.length)}`);
    new Rng(seed).shuffle(normal);
    const calibration = Int32Array.from(normal.slice(0, calibrationCount));
    fitRows = Int32Array.from(normal.slice(calibrationCount)).sort();
    pipeline = Pipeline.fit(frame, PIPELINE_OPTIONS, fitRows);
    Xfit = pipeline.transform(frame, fitRows);
    const det = model as Detector;
    const Xcalibration = pipeline.transform(frame, calibration);
    // the held-out normal rows also give iterative detectors (autoencoder) their validation curve
    await det.fit(Xfit, { signal, validation: { X: Xcalibration } });
    threshold = conformalThreshold(await det.scoreSamples(Xcalibration), targetFpr);
    det.threshold = threshold;
  } else if (ITERATIVE.has(spec.name)) {
    // Iterative models learn on 90% of the training rows and record validation loss and accuracy per epoch or
    // iteration on the other 10% (a seeded stratified split of the training data — never the test set), as
    // scikit-learn's early_stopping does; those are the curves the report shows.
    const split = stratifiedSplit(y.codes, VALIDATION_FRACTION, seed);
    fitRows = Int32Array.from(split.train).sort();
    const validationRows = Int32Array.from(split.test).sort();
    pipeline = Pipeline.fit(frame, PIPELINE_OPTIONS, fitRows);
    Xfit = pipeline.transform(frame, fitRows);
    const subset = (rows: Int32Array): Labels => ({ codes: Int32Array.from(rows, (r) => y.codes[r]), classes: y.classes });
    await (model as Classifier).fit(Xfit, subset(fitRows), { signal, validation: { X: pipeline.transform(frame, validationRows), y: subset(validationRows) } });
  } else {
    fitRows = Int32Array.from({ length: frame.nRows }, (_, i) => i);
    pipeline = Pipeline.fit(frame, PIPELINE_OPTIONS);
    Xfit = pipeline.transform(frame);
    await (model as Classifier).fit(Xfit, y, { signal });
  }
  const { groups, featureNames } = featureGroups(pipeline);
  return {
    fitted: { pipeline, model, info, threshold, reference: columnMedians(Xfit), groups, featureNames },
    fitRows,
    fitSeconds: seconds(t0),
  };
}

/** Evenly spaced sample of at most `max` indices of [0, n). */
function sampleRows(n: number, max: number): Int32Array {
  const step = Math.max(1, n / max);
  return Int32Array.from({ length: Math.min(n, max) }, (_, k) => Math.floor(k * step));
}

/** True when each class with at least two rows has rows in both parts of the split. */
function everyClassOnBothSides(codes: Int32Array, k: number, split: { train: Int32Array; test: Int32Array }): boolean {
  const inTrain = new Uint8Array(k);
  const inTest = new Uint8Array(k);
  for (const i of split.train) inTrain[codes[i]] = 1;
  for (const i of split.test) inTest[codes[i]] = 1;
  const total = new Float64Array(k);
  for (const c of codes) total[c]++;
  for (let c = 0; c < k; c++) if (total[c] >= 2 && !(inTrain[c] && inTest[c])) return false;
  return true;
}

/** The training labels; data without a label column are the baseline of --task anomaly, and need a label otherwise. */
function trainingLabels(frame: Frame, o: TrainOptions): Labels {
  const baseline = baselineLabels(frame, o.task);
  const files = frame.source.files.join(', ');
  if (baseline) o.log?.(`${files}: no label column: every row is taken as normal traffic, the baseline the detectors learn`);
  else if (frame.label === undefined) throw new UserError(`${files}: the dataset has no label column: name it with --label, or learn every row as normal traffic with --task anomaly`);
  return baseline ?? taskLabels(frame, o.task);
}

interface Prepared {
  train: Frame;
  test: Frame;
  yTrain: Labels;
  yTest: Labels;
  summary: DatasetSummary;
}

async function prepareData(o: TrainOptions): Promise<Prepared> {
  // Identifier columns are features only with --keep-identifiers; otherwise only a time-ordered hold-out reads one,
  // the timestamp. Kept, a timestamp is a feature column, found there by its name for the time-ordered hold-out.
  o.log?.(`loading ${o.files.join(', ')}`);
  const identifiers = (o.test && o.test.length > 0) || o.split === 'stratified' ? 'none' : 'timestamps';
  const full = await readData(o.files, { format: o.format, label: o.label, identifiers, keepIdentifiers: o.keepIdentifiers, skipBadRows: o.skipBadRows });
  const kept = full.source.keptIdentifiers ?? [];
  const keepIdentifiers = kept.length > 0;
  if (o.keepIdentifiers) {
    o.warn?.(
      keepIdentifiers
        ? `--keep-identifiers: ${kept.join(', ')} ${kept.length === 1 ? 'is a feature' : 'are features'}; the model can learn this data's row ids, addresses, ports and times, so its scores will not carry over to other networks or flows (leakage)`
        : '--keep-identifiers: the data has no identifier columns; the model is trained as without it',
    );
  }
  const yFull = trainingLabels(full, o);
  if (o.task === 'anomaly' && !yFull.codes.includes(normalClassIndex(yFull.classes))) {
    // found here, not as "a fold has no normal training rows" after the search started
    throw new UserError('every row is an attack: --task anomaly fits detectors on normal rows, and the training data has none', { file: o.files.length === 1 ? o.files[0] : `${o.files.length} files` });
  }
  let train: Frame;
  let test: Frame;
  let yTrain: Labels;
  let yTest: Labels;
  let testSource: DatasetSummary['testSource'];
  const skipped = [...full.source.skipped];
  if (o.test && o.test.length > 0) {
    o.log?.(`loading test data ${o.test.join(', ')}`);
    const testFrame = await readTestData(o.test, full.source.format, { format: o.format, label: o.label, identifiers: 'none', keepIdentifiers, skipBadRows: o.skipBadRows });
    for (const s of testFrame.source.skipped) skipped.push({ reason: `test data: ${s.reason}`, count: s.count });
    checkSameColumns(full, testFrame);
    // unlabelled --test files after unlabelled training files: more baseline traffic, which measures false positives
    const testBaseline = full.label === undefined ? baselineLabels(testFrame, o.task) : undefined;
    if (testBaseline) o.log?.(`${o.test.join(', ')}: no label column: every test row is taken as normal traffic too`);
    const aligned = alignToTraining(testBaseline ?? taskLabels(testFrame, o.task), yFull.classes);
    for (const [name, count] of aligned.unseen) skipped.push({ reason: `test label '${name}' not seen in training (not scored)`, count });
    train = full;
    yTrain = yFull;
    test = aligned.rows.length === testFrame.nRows ? testFrame : subsetFrame(testFrame, aligned.rows);
    yTest = aligned.labels;
    testSource = 'files';
  } else {
    const stamped = o.split !== 'stratified' && findTimestampColumn(full) !== undefined;
    if (o.split === 'time' && !stamped) {
      throw new UserError('--split time: the data has no timestamp column (looked for Timestamp, stime, Start Time, first seen, ts, startMs); use --split stratified or --test FILES', {
        file: o.files.join(', '),
      });
    }
    const timeSplit = stamped ? timeOrderedSplit(frameTimes(full), 1 - HOLDOUT_FRACTION) : undefined;
    // a time-ordered hold-out is the honest one for a capture, but on files sampled per class (CIC-IDS2017 subsets)
    // it leaves whole classes out of training; then, unless asked for, fall back to a stratified split
    const timed = timeSplit !== undefined && (o.split === 'time' || everyClassOnBothSides(yFull.codes, yFull.classes.length, timeSplit));
    if (timeSplit && !timed) o.log?.('time-ordered hold-out would leave classes out of training or test: using a stratified hold-out');
    const split = timed && timeSplit ? timeSplit : stratifiedSplit(yFull.codes, HOLDOUT_FRACTION, o.seed);
    const trainRows = Int32Array.from(split.train).sort();
    const testRows = Int32Array.from(split.test).sort();
    train = subsetFrame(full, trainRows);
    test = subsetFrame(full, testRows);
    yTrain = { codes: Int32Array.from(trainRows, (i) => yFull.codes[i]), classes: yFull.classes };
    yTest = { codes: Int32Array.from(testRows, (i) => yFull.codes[i]), classes: yFull.classes };
    testSource = timed ? 'holdout-time' : 'holdout-stratified';
  }
  if (test.nRows === 0) throw new UserError('the test set is empty after aligning its labels with the training labels');
  const summary: DatasetSummary = {
    format: full.source.format,
    trainFiles: [...o.files],
    testFiles: o.test ? [...o.test] : [],
    trainRows: train.nRows,
    testRows: test.nRows,
    testSource,
    labelView: viewOf(o.task),
    classes: [...yTrain.classes],
    trainCounts: counts(yTrain),
    testCounts: counts(yTest),
    features: full.features.length,
    featureNames: [],
    dropped: [...full.source.dropped],
    ...(keepIdentifiers ? { keptIdentifiers: [...kept] } : {}),
    skipped,
  };
  return { train, test, yTrain, yTest, summary };
}

function emptyCandidate(spec: ModelSpec, params: Params): CandidateResult {
  return {
    name: spec.name,
    title: spec.title,
    params,
    cv: {},
    test: null,
    fitSeconds: 0,
    predictSeconds: 0,
    roc: null,
    pr: null,
    thresholdCurve: null,
    confusion: null,
    history: null,
    importances: null,
    trials: [],
    error: null,
  };
}

export interface TrainOutcome {
  result: RunResult;
  /** The saved model document (also written to --out when given). */
  document: ModelDocument | null;
  best: Fitted | null;
}

export async function train(o: TrainOptions): Promise<TrainOutcome> {
  const started = performance.now();
  checkOptions(o);
  const specs = resolveModels(o.task, o.models);
  const fixedParams = userParams(specs, o.params);
  const data = await prepareData(o);
  const { train: trainFrame, test: testFrame, yTrain, yTest, summary } = data;
  const info = classInfo(yTrain.classes);
  if (specs.some((s) => s.kind !== 'detector')) checkClassesToLearn(yTrain);
  if ((o.task === 'anomaly' || specs.some((s) => s.kind === 'detector')) && info.normal < 0) {
    throw new UserError(`anomaly detectors train on normal rows, but no class is named normal or benign (classes: ${yTrain.classes.join(', ')})`);
  }

  // detectors the normal training rows cannot calibrate are refused before the search, the others still train
  const normalTrainingRows = counts(yTrain)[info.normal] ?? 0;
  const refused = specs.filter((s) => s.kind === 'detector' && normalTrainingRows < normalRowsNeeded(o.cv)).map((s) => s.name);
  const refusal = (name: string): string => `${name}: ${tooFewNormalRows(normalTrainingRows, o.cv)}`;
  if (refused.length === specs.length) throw new UserError(refusal(refused.join(', ')));
  for (const name of refused) o.warn?.(`${refusal(name)}; not trained`);
  const trainable = specs.filter((s) => !refused.includes(s.name));

  const attackFree = o.task === 'anomaly' && counts(yTrain).every((n, k) => n === 0 || k === info.normal);
  if (attackFree && o.tune) throw new UserError('--tune: the training rows hold no attacks, so no score can compare parameter settings; set parameters with --param');
  if (attackFree) o.warn?.(`the training rows hold no attacks: ${o.metric} cannot rank the detectors, so the first of ${specs.map((s) => s.name).join(', ')} that trains is saved; the held-out rows measure each one's false-positive rate`);

  // 1. cross-validation (and search) on the training rows only
  const cvData = { frame: trainFrame, pipeline: PIPELINE_OPTIONS, y: yTrain };
  const cvOptions = {
    folds: o.cv,
    seed: o.seed,
    threads: o.threads,
    // every fold task in a worker: the main thread stays free to receive Ctrl-C (a search on the main thread starves
    // the event loop, so the signal would only arrive after the search); same throughput on 2 cores
    parallel: 'workers' as const,
    // detectors are ranked at the threshold they are saved with (target FPR on held-out normal rows)
    detectorThreshold: { targetFpr: o.targetFpr, calibrationFraction: CALIBRATION_FRACTION },
    signal: o.signal,
    onProgress: (done: number, total: number) => o.onProgress?.(o.tune ? 'tuning' : 'cross-validating', done, total),
    onWarning: o.warn,
  };
  const names = trainable.map((s) => s.name);
  o.log?.(`${o.tune ? `tuning (${o.tune}${o.budget ? `, budget ${o.budget}` : ''})` : 'cross-validating'} ${names.join(', ')} with ${o.cv}-fold CV on ${trainFrame.nRows} training rows`);
  let cv: CvResult & { ranking?: number[] };
  if (o.tune) {
    cv = await search(cvData, names, {
      ...cvOptions,
      strategy: o.tune,
      budget: o.budget,
      metric: o.metric,
      baseParams: Object.fromEntries(trainable.map((s) => [s.name, seededParams(s, fixedParams.get(s.name) ?? {}, o.seed)])),
      spaces: Object.fromEntries(trainable.map((s) => [s.name, spaceWithout(s.searchSpace, fixedParams.get(s.name))])),
    });
  } else {
    cv = await evaluateCandidates(cvData, trainable.map((s) => ({ model: s.name, params: seededParams(s, fixedParams.get(s.name) ?? {}, o.seed) })), cvOptions);
  }
  const interrupted = cv.partial || o.signal?.aborted === true;
  if (interrupted) o.log?.(`interrupted: keeping the ${cv.tasksDone} of ${cv.tasksTotal} CV tasks finished so far`);

  // 2. per model: the best parameters found, refitted on all training rows and evaluated once on the test set
  const meanOf = (c: CvCandidate): number => (c.error === undefined && c.foldsDone > 0 ? (attackFree ? 0 : c.cv[o.metric]?.mean ?? Number.NaN) : Number.NaN);
  const candidates: CandidateResult[] = [];
  const fittedByName = new Map<string, { fitted: Fitted; fitRows: Int32Array }>();
  for (const spec of specs) {
    const own = cv.candidates.filter((c) => c.model === spec.name);
    // after Ctrl-C, candidates scored on every fold rank before those scored on some
    const ranked = [...own].sort(
      (a, b) => Number(b.foldsDone === o.cv) - Number(a.foldsDone === o.cv) || (Number.isNaN(meanOf(b)) ? -1 : Number.isNaN(meanOf(a)) ? 1 : meanOf(b) - meanOf(a)),
    );
    const bestCv = ranked[0];
    const result = emptyCandidate(spec, bestCv?.params ?? {});
    result.trials = o.tune ? own.filter((c) => !Number.isNaN(meanOf(c))).map((c) => ({ params: c.params, score: meanOf(c) })) : [];
    if (refused.includes(spec.name)) {
      result.error = refusal(spec.name);
      candidates.push(result);
      continue;
    }
    if (!bestCv || bestCv.foldsDone === 0 || Number.isNaN(meanOf(bestCv))) {
      result.error = bestCv?.error ?? (interrupted ? 'not cross-validated before the interruption' : 'cross-validation failed');
      candidates.push(result);
      continue;
    }
    result.cv = Object.fromEntries(Object.entries(bestCv.cv).map(([k, v]) => [k, { mean: v.mean, std: v.std, folds: [...v.folds] }]));
    try {
      o.log?.(`fitting ${spec.name} on all ${trainFrame.nRows} training rows`);
      const unpromised = fprPromiseWarning(spec, bestCv.params, yTrain, info, o.targetFpr);
      if (unpromised) o.warn?.(unpromised);
      const fit = await fitCandidate(spec, bestCv.params, trainFrame, yTrain, info, o.targetFpr, o.seed);
      result.fitSeconds = fit.fitSeconds;
      const t1 = performance.now();
      const Xtest = fit.fitted.pipeline.transform(testFrame);
      const outputs = await outputsOf(fit.fitted, Xtest);
      result.predictSeconds = seconds(t1);
      result.test = testMetrics(yTest.codes, outputs, info);
      const shifted = fprShiftWarning(spec, bestCv.params, o.targetFpr, result.test.fpr, summary.testCounts[info.normal] ?? 0, summary.testSource);
      if (shifted) o.warn?.(shifted);
      const curves = testCurves(yTest.codes, outputs, info, fit.fitted.threshold ?? (info.positive >= 0 && fit.fitted.model.kind === 'classifier' ? 0.5 : null));
      Object.assign(result, curves);
      result.history = fit.fitted.model.history ?? null;
      const sample = takeRows(Xtest, sampleRows(Xtest.rows, 200));
      const importances = await globalImportances(sample, { model: fit.fitted.model, reference: fit.fitted.reference, groups: fit.fitted.groups });
      result.importances = fit.fitted.featureNames
        .map((feature, f) => ({ feature, importance: importances[f] }))
        .sort((a, b) => b.importance - a.importance)
        .slice(0, 30);
      fittedByName.set(spec.name, fit);
      if (summary.featureNames.length === 0) summary.featureNames = [...fit.fitted.pipeline.columns];
      if (summary.dropped.length === trainFrame.source.dropped.length) {
        for (const d of fit.fitted.pipeline.dropped) summary.dropped.push({ name: d.name, reason: d.reason });
      }
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      result.error = err.message;
    }
    candidates.push(result);
  }

  // 3. leaderboard by CV score; the best is saved. Without attack rows no score can rank detectors: they keep the
  // order of --models, and the first that trained is saved (announced before the search).
  const score = (c: CandidateResult): number => (c.error ? Number.NaN : attackFree ? 0 : c.cv[o.metric]?.mean ?? Number.NaN);
  candidates.sort((a, b) => {
    const sa = score(a);
    const sb = score(b);
    if (Number.isNaN(sa) !== Number.isNaN(sb)) return Number.isNaN(sa) ? 1 : -1;
    return Number.isNaN(sa) ? 0 : sb - sa;
  });
  const winner = candidates.find((c) => !Number.isNaN(score(c)) && fittedByName.has(c.name));
  if (!winner) {
    // a model's own errors often start with its name already ('dt: the training labels hold a single class')
    const reasons = candidates.map((c) => (c.error?.startsWith(`${c.name}: `) ? c.error : `${c.name}: ${c.error ?? 'no result'}`)).join('; ');
    throw new UserError(`no candidate could be trained (${reasons})`);
  }
  const best = fittedByName.get(winner.name) as { fitted: Fitted; fitRows: Int32Array };
  const createdAt = new Date().toISOString();
  const result: RunResult = {
    task: o.task,
    metric: o.metric,
    cvFolds: o.cv,
    seed: o.seed,
    best: winner.name,
    model: o.out ?? null,
    report: o.report ?? null,
    classes: [...yTrain.classes],
    positiveClass: info.positive >= 0 ? yTrain.classes[info.positive] : null,
    dataset: summary,
    candidates,
    interrupted,
    createdAt,
    flowsentryVersion: flowsentryVersion(),
    seconds: 0,
  };
  const document = await buildDocument(o, result, winner, best.fitted, trainFrame, yTrain, best.fitRows);
  if (o.out) {
    saveModel(o.out, document);
    o.log?.(`saved ${winner.name} to ${o.out}`);
  }
  result.seconds = seconds(started);
  if (o.report) {
    // loaded on demand: the chart library takes a second to load, which every other command would pay
    await (await import('../report/index.js')).writeReport(result, o.report, o.png ? { png: o.png } : {});
    o.log?.(`report: ${o.report}`);
  }
  return { result, document, best: best.fitted };
}

/** Raw label → class of the training rows (e.g. 'neptune' → 'attack'). */
function labelMapping(frame: Frame, y: Labels): Record<string, string> {
  const mapping: Record<string, string> = {};
  const label = frame.label;
  if (!label) return mapping;
  for (let i = 0; i < label.codes.length; i++) {
    const raw = label.codes[i] >= 0 ? label.dictionary[label.codes[i]] : '';
    if (!(raw in mapping)) mapping[raw] = y.classes[y.codes[i]];
  }
  return mapping;
}

async function buildDocument(o: TrainOptions, result: RunResult, winner: CandidateResult, fitted: Fitted, trainFrame: Frame, y: Labels, fitRows: Int32Array): Promise<ModelDocument> {
  const files: TrainingFile[] = [];
  for (const f of o.files) files.push(await fingerprint(f));
  const testFiles: TrainingFile[] = [];
  for (const f of o.test ?? []) testFiles.push(await fingerprint(f));
  const refRows = fitRows.length > 20000 ? Int32Array.from(sampleRows(fitRows.length, 20000), (k) => fitRows[k]) : fitRows;
  const refFrame = subsetFrame(trainFrame, refRows);
  const outputs = await outputsOf(fitted, fitted.pipeline.transform(refFrame));
  const scores = outputs.attackScore ?? Float64Array.from({ length: refFrame.nRows }, (_, i) => (outputs.proba ? Math.max(...outputs.proba.subarray(i * fitted.info.classes.length, (i + 1) * fitted.info.classes.length)) : 0));
  const ds = result.dataset;
  return {
    meta: {
      flowsentryVersion: result.flowsentryVersion,
      createdAt: result.createdAt,
      task: o.task,
      format: ds.format,
      files,
      testFiles,
      trainRows: ds.trainRows,
      testRows: ds.testRows,
      testSource: ds.testSource,
      labelView: ds.labelView,
      modelName: winner.name,
      params: { ...fitted.model.params },
      metric: o.metric,
      cv: winner.cv,
      test: winner.test ? (Object.fromEntries(Object.entries(winner.test).filter(([, v]) => v !== null)) as Record<string, number>) : null,
      seed: o.seed,
      targetFpr: o.targetFpr,
      ...(trainFrame.source.labelColumn !== undefined ? { labelColumn: trainFrame.source.labelColumn } : {}),
      keepIdentifiers: ds.keptIdentifiers !== undefined,
      ...(ds.keptIdentifiers ? { keptIdentifiers: [...ds.keptIdentifiers] } : {}),
      dropped: ds.dropped.map((d) => ({ ...d })),
      evaluation: {
        roc: winner.roc ? { fpr: winner.roc.x, tpr: winner.roc.y } : null,
        confusion: winner.confusion ? { labels: [...result.classes], matrix: winner.confusion } : null,
      },
    },
    schema: {
      features: trainFrame.features
        .filter((c) => fitted.pipeline.inputColumns.includes(c.name))
        .map((c) => {
          // canonical (CICFlowMeter) name; the pipeline accepts every CIC spelling of it on input
          const name = canonicalFeatureName(c.name);
          return { name, kind: c.kind, aliases: name === c.name.trim() ? [] : [c.name], ...(c.kind === 'categorical' ? { categories: [...c.dictionary] } : {}) };
        }),
    },
    labels: { classes: [...fitted.info.classes], positive: fitted.info.positive >= 0 ? fitted.info.positive : null, mapping: labelMapping(trainFrame, y) },
    pipeline: fitted.pipeline.getState(),
    model: { name: fitted.model.name, state: fitted.model.getState() },
    threshold: fitted.threshold,
    explain: { reference: fitted.reference },
    reference: buildReference(refFrame, scores),
  };
}

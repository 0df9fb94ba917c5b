// The layout of each model kind's state in a model file, as this build writes it (each model's getState): the fields
// its fromState and its predictions read, with their types. A file from a build whose layout of that kind differs
// (or one edited by hand) fails here with the field named, before any model code reads it; a model that never read a
// field (old layouts) would otherwise throw a TypeError or predict from undefined. test/store/state-layouts.test.ts
// checks every kind's freshly saved state against its layout, so the two cannot drift apart unnoticed. The
// preprocessing pipeline's state (src/prep/pipeline.ts) is checked the same way (PIPELINE, the same test file).

import type { StateValue } from '../models/estimator.js';

/** A field's check: undefined when `v` fits, else what is wrong with the field at `path`. */
type Rule = (v: StateValue | undefined, path: string) => string | undefined;
type Layout = Readonly<Record<string, Rule>>;

const isObject = (v: StateValue): v is { [k: string]: StateValue } => v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);

function is(what: string, fits: (v: StateValue) => boolean): Rule {
  return (v, path) => (v === undefined ? `'${path}' is missing (expected ${what})` : fits(v) ? undefined : `'${path}' is not ${what}`);
}

const number = is('a number', (v) => typeof v === 'number');
const count = is('a count', (v) => Number.isInteger(v) && (v as number) >= 0);
const countOrNull = is('a count or null', (v) => v === null || (Number.isInteger(v) && (v as number) >= 0));
const anyObject = is('an object', isObject);
const strings = is('a list of names', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'));
const counts = is('a list of counts', (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0));
const numbers = is('an array of numbers', (v) => ArrayBuffer.isView(v));
const numberArrays = is('a list of arrays of numbers', (v) => Array.isArray(v) && v.every((x) => ArrayBuffer.isView(x)));
const flag = is('true or false', (v) => typeof v === 'boolean');
const label = is('a name', (v) => typeof v === 'string');
const text = is('a text', (v) => typeof v === 'string');

function oneOf(...values: string[]): Rule {
  return is(values.map((x) => `'${x}'`).join(' or '), (v) => typeof v === 'string' && values.includes(v));
}

function optional(rule: Rule): Rule {
  return (v, path) => (v === undefined ? undefined : rule(v, path));
}

function problemIn(v: { [k: string]: StateValue }, layout: Layout, path: string): string | undefined {
  for (const [field, rule] of Object.entries(layout)) {
    const problem = rule(v[field], `${path}${field}`);
    if (problem) return problem;
  }
  return undefined;
}

function object(layout: Layout): Rule {
  return (v, path) => anyObject(v, path) ?? problemIn(v as { [k: string]: StateValue }, layout, `${path}.`);
}

function listOf(what: string, item: Rule): Rule {
  return (v, path) => {
    const notList = is(what, Array.isArray)(v, path);
    if (notList) return notList;
    const items = v as StateValue[];
    for (let i = 0; i < items.length; i++) {
      const problem = item(items[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };
}

/** A nested model: { name, state } with the state in that kind's layout (the hybrid's classifier and detectors). */
const namedModel: Rule = (v, path) => {
  const shape = object({ name: is('a model name', (x) => typeof x === 'string' && Object.hasOwn(LAYOUTS, x)), state: anyObject })(v, path);
  if (shape) return shape;
  const { name, state } = v as { name: string; state: { [k: string]: StateValue } };
  return problemIn(state, LAYOUTS[name]!, `${path}.state.`);
};

const FOREST = object({ nOutputs: count, treeStart: numbers, feature: numbers, threshold: numbers, left: numbers, right: numbers, value: numbers, cover: numbers });
const LINEAR: Layout = { params: anyObject, classes: strings, nFeatures: countOrNull, coef: numbers, intercept: numbers };
const TREES: Layout = { params: anyObject, classes: strings, nFeatures: count, forest: FOREST, importances: numbers };
const NETWORK: Layout = { sizes: counts, weights: numberArrays, biases: numberArrays };
/** The analysts' verdicts a retrained detector or hybrid keeps (src/models/feedback-memory.ts); absent before a retrain. */
const FEEDBACK_MEMORY = optional(object({ rows: numbers, benign: numbers, cols: count, radius: number, cap: number, floor: number, alertIds: optional(strings) }));
/** Every detector's threshold, the training scores its normalised scores come from and its feedback memory. */
const DETECTOR: Layout = { threshold: number, scoreReference: numbers, feedbackMemory: FEEDBACK_MEMORY };
/** The hybrid's own nearest-normal detector. */
const NEAREST = object({ rows: count, data: numbers, lo: numbers, span: numbers });

const LAYOUTS: Readonly<Record<string, Layout>> = {
  logreg: LINEAR,
  svm: { ...LINEAR, sigmoids: numbers },
  mlp: { params: anyObject, classes: strings, nFeatures: countOrNull, ...NETWORK },
  knn: { params: anyObject, rows: count, cols: count, data: numbers, codes: numbers, classes: strings },
  dt: TREES,
  // the forest's out-of-bag curve, read when the model is rebuilt
  rf: { ...TREES, history: optional(object({ series: anyObject })) },
  gbdt: { ...TREES, baseline: numbers, nIterations: count },
  autoencoder: { params: anyObject, nFeatures: countOrNull, ...NETWORK, ...DETECTOR },
  lof: { params: anyObject, rows: count, cols: count, data: numbers, k: count, kDistance: numbers, lrd: numbers, trainScores: numbers, ...DETECTOR },
  kmeans: { params: anyObject, nFeatures: countOrNull, centers: numbers, spread: numbers, ...DETECTOR },
  dbscan: { params: anyObject, cores: numbers, rows: count, cols: count, coreSampleIndices: numbers, labels: numbers, ...DETECTOR },
  ecod: { params: anyObject, nFeatures: countOrNull, rows: count, offsets: numbers, values: numbers, cumulative: numbers, skewSign: numbers, scale: numbers, ...DETECTOR },
  iforest: { params: anyObject, nFeatures: count, forest: FOREST, normalizer: number, ...DETECTOR },
  hst: {
    params: anyObject,
    nFeatures: count,
    offset: numbers,
    scale: numbers,
    splitFeature: numbers,
    splitValue: numbers,
    reference: numbers,
    latest: numbers,
    inWindow: count,
    windowsDone: count,
    ...DETECTOR,
  },
  hybrid: {
    params: anyObject,
    classes: strings,
    nFeatures: count,
    normalIndex: count,
    threshold: number,
    calibration: numberArrays,
    classifier: namedModel,
    detectors: listOf('a list of detectors', (v, path) => (v !== undefined && isObject(v) && v.name === 'nearest' ? NEAREST(v, path) : namedModel(v, path))),
    feedbackMemory: FEEDBACK_MEMORY,
  },
};

/** The pipeline state version the PIPELINE layout describes (src/prep/pipeline.ts writes it). */
export const PIPELINE_VERSION = 1;

const NUMERIC_STEP: Layout = { name: label, canonical: label, fill: number, posInf: number, negInf: number, log: flag, center: number, scale: number };
const CATEGORICAL_STEP: Layout = { name: label, canonical: label, categories: strings, centers: numbers, scales: numbers };

/** A step of either kind; a categorical step has one centre and one scale per category. */
const step: Rule = (v, path) => {
  const kind = object({ kind: oneOf('numeric', 'categorical') })(v, path);
  if (kind) return kind;
  const s = v as { [k: string]: StateValue };
  if (s.kind === 'numeric') return problemIn(s, NUMERIC_STEP, `${path}.`);
  const problem = problemIn(s, CATEGORICAL_STEP, `${path}.`);
  if (problem) return problem;
  const categories = (s.categories as string[]).length;
  for (const field of ['centers', 'scales']) {
    const n = (s[field] as Float64Array).length;
    if (n !== categories) return `'${path}.${field}' holds ${n} values for ${categories} categories`;
  }
  return undefined;
};

/** The pipeline state: every field, since rebuilding it keeps them all (info shows options and drops). */
const PIPELINE: Layout = {
  format: is("'flowsentry-pipeline'", (v) => v === 'flowsentry-pipeline'),
  version: count,
  options: object({
    impute: oneOf('median', 'mean', 'zero'),
    infinity: oneOf('missing', 'clip'),
    scaler: oneOf('standard', 'minmax', 'robust', 'none'),
    scaleOneHot: flag,
    log1p: is('true, false or a list of names', (v) => typeof v === 'boolean' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))),
    maxCategories: count,
    dropConstant: flag,
    dropDuplicateColumns: flag,
  }),
  steps: (v, path) => listOf('a list of steps', step)(v, path) ?? ((v as StateValue[]).length === 0 ? `'${path}' is empty` : undefined),
  dropped: listOf('a list of dropped columns', object({ name: label, reason: oneOf('constant', 'duplicate'), detail: text })),
  imputed: listOf('a list of imputed columns', object({ name: label, nan: count, posInf: count, negInf: count })),
};

/**
 * What is wrong with a pipeline state for this build, e.g. "'steps[3].fill' is missing (expected a number)", or
 * with its steps' output width when `modelColumns` (the width the rest of the file was made for) is given;
 * undefined when it fits, or when its version is newer than this build reads (rebuilding it says to upgrade).
 */
export function pipelineStateProblem(state: { [k: string]: StateValue }, modelColumns?: number): string | undefined {
  if (typeof state.version === 'number' && state.version > PIPELINE_VERSION) return undefined;
  const problem = problemIn(state, PIPELINE, '');
  if (problem || modelColumns === undefined) return problem;
  const steps = state.steps as { kind: string; categories?: string[] }[];
  const width = steps.reduce((n, s) => n + (s.kind === 'numeric' ? 1 : s.categories!.length), 0);
  return width === modelColumns ? undefined : `'steps' make ${width} model columns where the rest of the file has ${modelColumns}`;
}

/** Model kinds with a declared layout. */
export const LAYOUT_KINDS: readonly string[] = Object.keys(LAYOUTS);

/**
 * What is wrong with a `kind` model's state for this build, e.g. "'detectors' is missing (expected a list of
 * detectors)"; undefined when it fits (or the kind is unknown: rebuilding it names the valid kinds).
 */
export function stateProblem(kind: string, state: { [k: string]: StateValue }): string | undefined {
  return Object.hasOwn(LAYOUTS, kind) ? problemIn(state, LAYOUTS[kind]!, '') : undefined;
}

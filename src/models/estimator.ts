// The estimator contract (after scikit-learn): hyper-parameters in the constructor, `fit` learns state and resolves
// to the model, classifiers predict classes and probabilities, detectors score samples with higher = more anomalous.
// Every estimator exports its learned state as plain data (typed arrays allowed) and is rebuilt from it by its
// registry entry, so the model file never holds code.

import type { Matrix } from '../frame/matrix.js';
import type { Labels } from '../frame/labels.js';
import { ParameterError, UserError } from '../errors.js';
import { MAX_SEED } from '../util/rng.js';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

/** Plain data that the model file can hold: JSON values plus typed arrays (stored as binary). */
export type StateValue = null | boolean | number | string | TypedArray | StateValue[] | { [key: string]: StateValue };
export type ModelState = { [key: string]: StateValue };

export type ParamValue = number | string | boolean | null;
export type Params = Record<string, ParamValue>;

export interface FitOptions {
  /** Per-row weights (length = rows). */
  sampleWeight?: Float64Array;
  /** Held-out data for early stopping and validation curves; when absent, models that need one carve it from X. */
  validation?: { X: Matrix; y?: Labels };
  /** Called as work advances, e.g. per tree or per epoch. */
  onProgress?: (done: number, total: number) => void;
  /** Cancels training (Ctrl-C during a search). */
  signal?: AbortSignal;
}

/** Per-epoch or per-iteration curves: e.g. train_loss, val_loss, train_accuracy, val_accuracy, oob_score. */
export interface TrainingHistory {
  readonly unit: 'epoch' | 'iteration' | 'trees';
  readonly series: Record<string, number[]>;
}

interface EstimatorBase {
  /** Registry name, e.g. 'rf'. */
  readonly name: string;
  /** Hyper-parameters after defaults were applied. */
  readonly params: Readonly<Params>;
  /** Number of input features seen at fit time (undefined before fit). */
  readonly nFeatures: number | undefined;
  /** Training curves, for iterative models. */
  readonly history?: TrainingHistory;
  /** Global importances, one per feature, summing to 1, for models that have them. */
  featureImportances?(): Float64Array;
  /**
   * Per-row, per-feature contributions to the output (rows × features), for models with an exact method
   * (TreeSHAP / path contributions for trees). Classifiers explain `classIndex` (default: the predicted class);
   * detectors explain the anomaly score. Models without one are explained model-agnostically by src/explain/.
   */
  explain?(X: Matrix, classIndex?: number): Promise<Matrix>;
  /** Learned state plus params, as plain data. */
  getState(): ModelState;
}

export interface Classifier extends EstimatorBase {
  readonly kind: 'classifier';
  /** Class names in code order (set by fit). */
  readonly classes: readonly string[];
  fit(X: Matrix, y: Labels, options?: FitOptions): Promise<this>;
  /** rows × classes probabilities, columns in `classes` order. */
  predictProba(X: Matrix): Promise<Matrix>;
  predict(X: Matrix): Promise<Labels>;
}

export interface Detector extends EstimatorBase {
  readonly kind: 'detector';
  /** Fits on unlabelled rows, or on normal rows only (semi-supervised). */
  fit(X: Matrix, options?: FitOptions): Promise<this>;
  /** Anomaly score per row: higher = more anomalous. */
  scoreSamples(X: Matrix): Promise<Float64Array>;
  /** Scores at or above this are anomalies. Fitted from contamination, or set from a target FPR. */
  threshold: number;
  /** 0 normal, 1 anomaly. */
  predict(X: Matrix): Promise<Uint8Array>;
  /** Maps raw scores to [0, 1] (monotone), for ensembles and dashboards. */
  normalizeScores(scores: Float64Array): Float64Array;
}

export type Estimator = Classifier | Detector;

/** A hyper-parameter's accepted values: numeric range or a list of choices. */
export type ParamRule =
  | { type: 'int' | 'float'; min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean; nullable?: boolean }
  | { type: 'choice'; values: readonly ParamValue[] }
  | { type: 'bool' }
  | { type: 'int-or-choice'; min: number; values: readonly string[] }
  | { type: 'float-or-choice'; min: number; max: number; exclusiveMin?: boolean; values: readonly string[] };

/** Every model's `random_state`: the seeded generator reads 32 bits, so a larger seed would run as another one. */
export const SEED_RULE: ParamRule = { type: 'int', min: 0, max: MAX_SEED };

function describeRule(rule: ParamRule): string {
  switch (rule.type) {
    case 'bool':
      return 'true or false';
    case 'choice':
      return rule.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'int-or-choice':
      return `an integer >= ${rule.min}, or ${rule.values.map((v) => JSON.stringify(v)).join(' | ')}`;
    case 'float-or-choice':
      return `a number in ${rule.exclusiveMin ? '(' : '['}${rule.min}, ${rule.max}], or ${rule.values.map((v) => JSON.stringify(v)).join(' | ')}`;
    default: {
      const lo = rule.min === undefined ? '-inf' : String(rule.min);
      const hi = rule.max === undefined ? 'inf' : String(rule.max);
      const kind = rule.type === 'int' ? 'an integer' : 'a number';
      const range = `${rule.exclusiveMin || rule.min === undefined ? '(' : '['}${lo}, ${hi}${rule.exclusiveMax || rule.max === undefined ? ')' : ']'}`;
      return `${kind} in ${range}${rule.nullable ? ', or null' : ''}`;
    }
  }
}

function inRange(v: number, rule: { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean }): boolean {
  if (!Number.isFinite(v)) return false;
  if (rule.min !== undefined && (rule.exclusiveMin ? v <= rule.min : v < rule.min)) return false;
  if (rule.max !== undefined && (rule.exclusiveMax ? v >= rule.max : v > rule.max)) return false;
  return true;
}

function accepts(rule: ParamRule, v: ParamValue): boolean {
  switch (rule.type) {
    case 'bool':
      return typeof v === 'boolean';
    case 'choice':
      return rule.values.includes(v);
    case 'int-or-choice':
      return (typeof v === 'string' && rule.values.includes(v)) || (typeof v === 'number' && Number.isInteger(v) && v >= rule.min);
    case 'float-or-choice':
      return (typeof v === 'string' && rule.values.includes(v)) || (typeof v === 'number' && inRange(v, rule));
    default:
      if (v === null) return rule.nullable === true;
      if (typeof v !== 'number') return false;
      if (rule.type === 'int' && !Number.isInteger(v)) return false;
      return inRange(v, rule);
  }
}

/**
 * Merges user params over defaults and validates each against its rule.
 * Unknown names and out-of-range values throw a ParameterError naming the parameter and the accepted range.
 */
export function resolveParams<P extends Params>(model: string, defaults: P, rules: { [K in keyof P]: ParamRule }, given: Partial<P> = {}): P {
  const out = { ...defaults } as P;
  for (const [key, value] of Object.entries(given)) {
    if (!(key in defaults)) {
      throw new UserError(`${model} has no parameter '${key}'; its parameters: ${Object.keys(defaults).join(', ')}`);
    }
    if (value === undefined) continue;
    (out as Params)[key] = value as ParamValue;
  }
  for (const key of Object.keys(rules) as (keyof P & string)[]) {
    const rule = rules[key];
    if (!accepts(rule, out[key])) throw new ParameterError(model, key, out[key], describeRule(rule));
  }
  return out;
}

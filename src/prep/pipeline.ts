// Preprocessing pipeline: per input column, impute NaN/±Infinity, optional log1p, drop constant and duplicated
// columns, one-hot encode categories, then scale (standard, min-max or robust). Fitted on training rows only and
// saved with the model. Input columns are matched by canonical CIC name (src/datasets/cic-names.ts), so a model
// trained on one CIC layout scores another. Transform is O(rows × outputs), written in row blocks straight into a
// row-major Float32Array, with no object per row, because it also runs on live flows.

import { UserError } from '../errors.js';
import type { CategoricalColumn, Column, Frame, TextColumn } from '../frame/frame.js';
import { textAsCategorical } from '../frame/text-column.js';
import { createMatrix, type Matrix } from '../frame/matrix.js';
import type { ModelState } from '../models/estimator.js';
import { canonicalFeatureName } from '../datasets/cic-names.js';
import { applyImputer, fitImputer, type ImputeStrategy, type InfinityPolicy } from './imputer.js';
import { applyLog1p, isNonNegative } from './log1p.js';
import { fitOneHot, oneHotSlots } from './one-hot.js';
import { fitStandardScaler } from './standard-scaler.js';
import { fitMinMaxScaler } from './minmax-scaler.js';
import { fitRobustScaler } from './robust-scaler.js';
import { IDENTITY, type ScalerName, type Scaling } from './scaling.js';

export interface PipelineOptions {
  /** How NaN (and ±Infinity under infinity='missing') is filled. Default 'median'. */
  impute?: ImputeStrategy;
  /** Default 'clip': +Infinity → the column's finite training maximum, −Infinity → its minimum. */
  infinity?: InfinityPolicy;
  /** Default 'standard'. */
  scaler?: ScalerName;
  /** Scale one-hot columns too (as a StandardScaler over the whole one-hot matrix would). Default false. */
  scaleOneHot?: boolean;
  /** log1p on every column that is non-negative in training (true), or on the named columns. Default false. */
  log1p?: boolean | readonly string[];
  /** At most this many one-hot columns per categorical column: the most frequent categories. Default 128. */
  maxCategories?: number;
  /** Default true. */
  dropConstant?: boolean;
  /** Drop a column whose training values equal an earlier column's. Default true. */
  dropDuplicateColumns?: boolean;
}

type ResolvedOptions = Required<Omit<PipelineOptions, 'log1p'>> & { log1p: boolean | string[] };

export interface DroppedByPipeline {
  readonly name: string;
  readonly reason: 'constant' | 'duplicate';
  /** E.g. 'always 0' or 'same values as Fwd Header Length'. */
  readonly detail: string;
}

export interface ImputedCounts {
  readonly name: string;
  readonly nan: number;
  readonly posInf: number;
  readonly negInf: number;
}

interface NumericStep {
  kind: 'numeric';
  name: string;
  canonical: string;
  fill: number;
  posInf: number;
  negInf: number;
  log: boolean;
  center: number;
  scale: number;
}

interface CategoricalStep {
  kind: 'categorical';
  name: string;
  canonical: string;
  categories: string[];
  centers: Float64Array;
  scales: Float64Array;
}

type Step = NumericStep | CategoricalStep;

const FORMAT = 'flowsentry-pipeline';
const VERSION = 1;
const BLOCK_ROWS = 1024;

function resolveOptions(o: PipelineOptions): ResolvedOptions {
  return {
    impute: o.impute ?? 'median',
    infinity: o.infinity ?? 'clip',
    scaler: o.scaler ?? 'standard',
    scaleOneHot: o.scaleOneHot ?? false,
    log1p: typeof o.log1p === 'object' ? o.log1p.map(canonicalFeatureName) : (o.log1p ?? false),
    maxCategories: o.maxCategories ?? 128,
    dropConstant: o.dropConstant ?? true,
    dropDuplicateColumns: o.dropDuplicateColumns ?? true,
  };
}

function fitScaler(name: ScalerName, values: Float64Array): Scaling {
  switch (name) {
    case 'standard':
      return fitStandardScaler(values);
    case 'minmax':
      return fitMinMaxScaler(values);
    case 'robust':
      return fitRobustScaler(values);
    default:
      return IDENTITY;
  }
}

/** The column's values as numbers; a text column whose every entry is a number is accepted too. */
function numericValues(col: Column): Float32Array {
  if (col.kind === 'numeric') return col.values;
  const parsed = col.dictionary.map((d) => (d.trim() === '' ? Number.NaN : Number(d)));
  const bad = parsed.findIndex((v, i) => Number.isNaN(v) && col.dictionary[i].trim() !== '');
  if (bad >= 0) throw new UserError(`holds text ('${col.dictionary[bad]}') but the model was trained on numbers`, { column: col.name });
  return Float32Array.from(col.codes, (c) => (c < 0 ? Number.NaN : parsed[c]));
}

/** Per-row slot of a categorical input for the fitted categories (−1: all zeros). */
function categoricalSlots(col: Column, categories: readonly string[]): { codes: Int32Array; slots: Int32Array } {
  if (col.kind === 'categorical') return { codes: col.codes, slots: oneHotSlots(categories, col.dictionary) };
  // the model saw text, this file has numbers: compare by numeric value
  const slotOf = new Map<number, number>();
  categories.forEach((c, i) => {
    const v = Number(c);
    if (c.trim() !== '' && !Number.isNaN(v)) slotOf.set(v, i);
  });
  const codes = new Int32Array(col.values.length);
  for (let i = 0; i < codes.length; i++) codes[i] = slotOf.get(col.values[i]) ?? -1;
  return { codes, slots: Int32Array.from(categories, (_, i) => i) };
}

function range(values: Float64Array): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

function countMissing(codes: Int32Array, rows: ArrayLike<number> | undefined): number {
  let missing = 0;
  if (rows) for (let r = 0; r < rows.length; r++) missing += codes[rows[r]] < 0 ? 1 : 0;
  else for (let i = 0; i < codes.length; i++) missing += codes[i] < 0 ? 1 : 0;
  return missing;
}

function gather(values: Float32Array, rows: ArrayLike<number> | undefined): Float64Array {
  if (!rows) return Float64Array.from(values);
  const out = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) out[r] = values[rows[r]];
  return out;
}

/** A cheap fingerprint of a column: equal columns have equal fingerprints (candidates are then compared exactly). */
function signature(values: Float64Array): string {
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    weighted += values[i] * ((i & 63) + 1);
  }
  return `${sum}/${weighted}`;
}

function mostFrequent(col: CategoricalColumn, rows: ArrayLike<number> | undefined, categories: string[], max: number): string[] {
  if (categories.length <= max) return categories;
  const counts = new Float64Array(col.dictionary.length);
  const n = rows ? rows.length : col.codes.length;
  for (let r = 0; r < n; r++) {
    const c = col.codes[rows ? rows[r] : r];
    if (c >= 0) counts[c]++;
  }
  const byName = new Map<string, number>();
  col.dictionary.forEach((d, c) => byName.set(d, (byName.get(d) ?? 0) + counts[c]));
  return [...categories].sort((a, b) => (byName.get(b) ?? 0) - (byName.get(a) ?? 0) || (a < b ? -1 : 1)).slice(0, max).sort();
}

export class Pipeline {
  private constructor(
    private readonly options: ResolvedOptions,
    private readonly steps: readonly Step[],
    /** Output column names, in order. */
    readonly columns: readonly string[],
    /** Columns dropped at fit time and why (shown in the report). */
    readonly dropped: readonly DroppedByPipeline[],
    /** NaN/±Infinity counts per column in the training rows (only columns that had any). */
    readonly imputed: readonly ImputedCounts[],
  ) {}

  /** Fits on the frame's feature columns, restricted to `rows` (the training part) when given. */
  static fit(frame: Frame, options: PipelineOptions = {}, rows?: ArrayLike<number>): Pipeline {
    const o = resolveOptions(options);
    const nRows = rows ? rows.length : frame.nRows;
    if (nRows === 0) throw new UserError('cannot fit preprocessing on zero rows');
    const steps: Step[] = [];
    const dropped: DroppedByPipeline[] = [];
    const imputed: ImputedCounts[] = [];
    const seenCanonical = new Map<string, string>();
    const signatures = new Map<string, NumericStep[]>();
    const imputedValues = (step: NumericStep): Float64Array => {
      const col = frame.features.find((c) => c.name === step.name) as Column;
      const v = gather(numericValues(col), rows);
      applyImputer(v, step);
      return v;
    };
    for (const col of frame.features) {
      const canonical = canonicalFeatureName(col.name);
      const earlier = seenCanonical.get(canonical);
      if (earlier !== undefined) {
        dropped.push({ name: col.name, reason: 'duplicate', detail: `same feature as ${earlier} (by name)` });
        continue;
      }
      seenCanonical.set(canonical, col.name);
      if (col.kind === 'numeric') {
        const values = gather(col.values, rows);
        const fit = fitImputer(values, o.impute, o.infinity);
        if (fit.nanCount + fit.posInfCount + fit.negInfCount > 0) imputed.push({ name: col.name, nan: fit.nanCount, posInf: fit.posInfCount, negInf: fit.negInfCount });
        applyImputer(values, fit);
        const [min, max] = range(values);
        if (o.dropConstant && min === max) {
          dropped.push({ name: col.name, reason: 'constant', detail: `always ${min}` });
          continue;
        }
        const step: NumericStep = { kind: 'numeric', name: col.name, canonical, fill: fit.fill, posInf: fit.posInf, negInf: fit.negInf, log: false, center: 0, scale: 1 };
        if (o.dropDuplicateColumns) {
          const sig = signature(values);
          const twin = (signatures.get(sig) ?? []).find((s) => {
            const other = imputedValues(s);
            return other.every((v, i) => v === values[i]);
          });
          if (twin) {
            dropped.push({ name: col.name, reason: 'duplicate', detail: `same values as ${twin.name}` });
            continue;
          }
          signatures.set(sig, [...(signatures.get(sig) ?? []), step]);
        }
        step.log = o.log1p === true ? isNonNegative(values) : o.log1p !== false && o.log1p.includes(canonical);
        if (step.log) applyLog1p(values);
        const scaling = fitScaler(o.scaler, values);
        step.center = scaling.center;
        step.scale = scaling.scale;
        steps.push(step);
      } else {
        const all = fitOneHot(col.codes, col.dictionary, rows);
        const categories = mostFrequent(col, rows, all, o.maxCategories);
        const missing = countMissing(col.codes, rows);
        if (o.dropConstant && (categories.length === 0 || (categories.length === 1 && missing === 0))) {
          dropped.push({ name: col.name, reason: 'constant', detail: categories.length === 0 ? 'always missing' : `always '${categories[0]}'` });
          continue;
        }
        const centers = new Float64Array(categories.length);
        const scales = new Float64Array(categories.length).fill(1);
        if (o.scaleOneHot && o.scaler !== 'none') {
          const slots = oneHotSlots(categories, col.dictionary);
          const indicator = new Float64Array(nRows);
          for (let s = 0; s < categories.length; s++) {
            for (let r = 0; r < nRows; r++) {
              const c = col.codes[rows ? rows[r] : r];
              indicator[r] = c >= 0 && slots[c] === s ? 1 : 0;
            }
            const scaling = fitScaler(o.scaler, indicator);
            centers[s] = scaling.center;
            scales[s] = scaling.scale;
          }
        }
        steps.push({ kind: 'categorical', name: col.name, canonical, categories, centers, scales });
      }
    }
    if (steps.length === 0) {
      const part = rows ? ' (part of the training data: a cross-validation fold, or the normal rows detectors fit on)' : '';
      throw new UserError(`no usable feature columns: every column is constant or a duplicate in the ${nRows} rows the preprocessing was fitted on${part}`);
    }
    return new Pipeline(o, steps, outputNames(steps), dropped, imputed);
  }

  /** Input column names the pipeline needs (as named in the training data). */
  get inputColumns(): string[] {
    return this.steps.map((s) => s.name);
  }

  /**
   * Transforms the frame (restricted to `rows`, in that order, when given) into a row-major matrix.
   * `out`, when given, receives the values (length rows × columns), e.g. a SharedArrayBuffer-backed array.
   * Missing input columns are a UserError naming them all.
   */
  transform(frame: Frame, rows?: ArrayLike<number>, out?: Float32Array): Matrix {
    const byCanonical = new Map<string, Column | TextColumn>();
    for (const c of [...frame.identifiers, ...frame.features]) if (c.kind !== 'time') byCanonical.set(canonicalFeatureName(c.name), c);
    const missing = this.steps.filter((s) => !byCanonical.has(s.canonical)).map((s) => s.name);
    if (missing.length > 0) {
      throw new UserError(`input lacks ${missing.length} column${missing.length > 1 ? 's' : ''} the model was trained on: ${missing.join(', ')}`, {
        file: frame.source.files.length > 0 ? frame.source.files.join(', ') : undefined,
      });
    }
    const n = rows ? rows.length : frame.nRows;
    const width = this.columns.length;
    const data = out ?? new Float32Array(n * width);
    if (data.length !== n * width) throw new Error(`output buffer has ${data.length} values, expected ${n} × ${width}`);
    const numeric: { values: Float32Array; step: NumericStep; at: number }[] = [];
    // one-hot values of the "off" and "on" states after scaling; a fresh buffer already holds the zeros
    const categorical: { codes: Int32Array; slots: Int32Array; off: Float32Array; on: Float32Array; skipOff: boolean; at: number }[] = [];
    let at = 0;
    for (const step of this.steps) {
      const found = byCanonical.get(step.canonical) as Column | TextColumn;
      const col = found.kind === 'text' ? textAsCategorical(found) : found;
      if (step.kind === 'numeric') {
        numeric.push({ values: numericValues(col), step, at });
        at++;
      } else {
        const off = Float32Array.from(step.centers, (c, s) => (0 - c) / step.scales[s]);
        const on = Float32Array.from(step.centers, (c, s) => (1 - c) / step.scales[s]);
        categorical.push({ ...categoricalSlots(col, step.categories), off, on, skipOff: out === undefined && off.every((v) => v === 0), at });
        at += step.categories.length;
      }
    }
    for (let start = 0; start < n; start += BLOCK_ROWS) {
      const end = Math.min(n, start + BLOCK_ROWS);
      for (const { values, step, at: j } of numeric) {
        const { fill, posInf, negInf, log, center, scale } = step;
        if (!rows && !log) {
          for (let r = start, o = start * width + j; r < end; r++, o += width) {
            let v: number = values[r];
            if (v - v !== 0) v = v !== v ? fill : v > 0 ? posInf : negInf;
            data[o] = (v - center) / scale;
          }
          continue;
        }
        for (let r = start; r < end; r++) {
          let v: number = values[rows ? rows[r] : r];
          if (v !== v) v = fill;
          else if (v === Number.POSITIVE_INFINITY) v = posInf;
          else if (v === Number.NEGATIVE_INFINITY) v = negInf;
          if (log) v = Math.log1p(v > 0 ? v : 0);
          data[r * width + j] = (v - center) / scale;
        }
      }
      for (const { codes, slots, off, on, skipOff, at: j } of categorical) {
        const k = off.length;
        for (let r = start; r < end; r++) {
          const base = r * width + j;
          if (!skipOff) for (let s = 0; s < k; s++) data[base + s] = off[s];
          const code = codes[rows ? rows[r] : r];
          const slot = code >= 0 ? slots[code] : -1;
          if (slot >= 0) data[base + slot] = on[slot];
        }
      }
    }
    return createMatrix(n, width, this.columns, data);
  }

  getState(): ModelState {
    const o = this.options;
    return {
      format: FORMAT,
      version: VERSION,
      options: { ...o, log1p: typeof o.log1p === 'boolean' ? o.log1p : [...o.log1p] },
      steps: this.steps.map((s): ModelState =>
        s.kind === 'numeric'
          ? { ...s }
          : { kind: s.kind, name: s.name, canonical: s.canonical, categories: [...s.categories], centers: s.centers, scales: s.scales },
      ),
      dropped: this.dropped.map((d) => ({ ...d })),
      imputed: this.imputed.map((d) => ({ ...d })),
    };
  }

  static fromState(state: ModelState): Pipeline {
    if (state.format !== FORMAT) throw new UserError('the preprocessing section of the model file is not a pipeline');
    if (typeof state.version !== 'number' || state.version > VERSION) {
      throw new UserError(`the preprocessing pipeline has version ${String(state.version)}; this Flowsentry reads up to version ${VERSION}`);
    }
    const steps = (state.steps as unknown as Step[]).map((s) => (s.kind === 'numeric' ? { ...s } : { ...s, categories: [...s.categories] }));
    return new Pipeline(
      state.options as unknown as ResolvedOptions,
      steps,
      outputNames(steps),
      state.dropped as unknown as DroppedByPipeline[],
      state.imputed as unknown as ImputedCounts[],
    );
  }
}

function outputNames(steps: readonly Step[]): string[] {
  return steps.flatMap((s) => (s.kind === 'numeric' ? [s.canonical] : s.categories.map((c) => `${s.canonical}=${c}`)));
}

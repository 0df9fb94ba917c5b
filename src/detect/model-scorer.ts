// Scores FlowRecords with a saved model file: builds a columnar batch from the flows' feature vectors (the CIC set
// from the flow meter, or the NetFlow set any record has), runs the saved pipeline and model, thresholds, explains
// the alerting rows only, and feeds the drift monitor. The feature set is chosen from the model's schema; a model
// trained on features that flows do not carry (e.g. NSL-KDD's) is refused with the missing names. The NetFlow source's
// chunks (src/detect/flow-chunk.ts) are scored from their feature columns, usually on the collector thread
// (predictChunk), and then only verdicts, drift and explanations are done here (scoreChunk).

import type { Frame, NumericColumn } from '../frame/frame.js';
import { createMatrix } from '../frame/matrix.js';
import { UserError } from '../errors.js';
import { CIC_FEATURES, canonicalFeatureName } from '../datasets/cic-names.js';
import { cicFamily } from '../datasets/cic-common.js';
import { kddCategory } from '../datasets/kdd-common.js';
import { NETFLOW_FEATURES, netflowFeatures } from '../flows/features/netflow.js';
import type { FlowRecord } from '../flows/flow-record.js';
import type { ModelDocument } from '../store/model-file.js';
import { fittedFromDocument, outputsOf, type Fitted } from '../workflow/fitted.js';
import { loadModelFile } from '../workflow/data.js';
import { explainRows, type TopFeature } from '../explain/index.js';
import type { Matrix } from '../frame/matrix.js';
import type { FeatureContribution, FeedbackDecision } from './alert.js';
import { DetectorBase } from '../models/detector-base.js';
import { HybridModel } from '../models/hybrid.js';
import { DriftMonitor, type DriftStatus } from './drift.js';
import type { FlowScorer, ScoredBatch, Verdict } from './engine.js';
import type { FlowChunk } from './flow-chunk.js';

export type FlowFeatureSet = 'cic' | 'netflow';

const TOP_FEATURES = 5;

/** NetFlow feature by its canonical name: loading a training CSV canonicalises `protocol` / `dst_port` to CIC names. */
const NETFLOW_BY_CANONICAL = new Map(NETFLOW_FEATURES.map((n) => [canonicalFeatureName(n), n]));

/** A model column's name in a feature set (CIC names are canonical; NetFlow names are mapped back to ours). */
function featureKey(set: FlowFeatureSet, name: string): string {
  const canonical = canonicalFeatureName(name);
  return set === 'cic' ? canonical : (NETFLOW_BY_CANONICAL.get(canonical) ?? name);
}

/**
 * Picks the flow feature set that holds every feature the model was trained on. A model trained with
 * --keep-identifiers is refused first: flows carry no dataset's row ids, and its flow ids, addresses, ports and
 * timestamps are one-hot categories of the training capture, which live traffic does not reproduce.
 */
export function featureSetFor(doc: ModelDocument, file: string): FlowFeatureSet {
  if (doc.meta.keepIdentifiers === true) {
    const kept = doc.meta.keptIdentifiers ?? [];
    throw new UserError(
      `this model was trained with --keep-identifiers (${kept.length ? kept.join(', ') : 'its identifier columns'} ${kept.length === 1 ? 'is a feature' : 'are features'}), but live flows are scored without identifier columns; ` +
        'train it again without --keep-identifiers to use it with detect or serve',
      { file },
    );
  }
  for (const [set, names] of [['cic', CIC_FEATURES], ['netflow', NETFLOW_FEATURES]] as const) {
    const have = new Set(names);
    if (doc.schema.features.every((f) => have.has(featureKey(set, f.name)))) return set;
  }
  const missingFrom = (set: FlowFeatureSet, names: readonly string[]): string[] =>
    doc.schema.features.filter((f) => !names.includes(featureKey(set, f.name))).map((f) => canonicalFeatureName(f.name));
  const cicMissing = missingFrom('cic', CIC_FEATURES);
  const netflowMissing = missingFrom('netflow', NETFLOW_FEATURES);
  // name what keeps the model from the feature set it is closest to (e.g. extract's start and end_reason columns)
  const missing = netflowMissing.length < cicMissing.length ? netflowMissing : cicMissing;
  const closest = netflowMissing.length < cicMissing.length ? `; the others are NetFlow features: train on those columns only (${NETFLOW_FEATURES.join(', ')})` : '';
  throw new UserError(
    `this model was trained on features that live flows do not carry (${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', …' : ''}${closest}); ` +
      'live detection needs a model trained on CIC-IDS (CICFlowMeter) features or on the NetFlow feature columns that `collect --features netflow` (flow exports) and `extract --features netflow` (captures) write',
    { file },
  );
}

/** The features that pushed row i most towards its alert: largest contribution first (an alert's "why"). */
function towardsAlert(contrib: Matrix, i: number, names: readonly string[]): TopFeature[] {
  const row = contrib.data.subarray(i * contrib.cols, (i + 1) * contrib.cols);
  const order = Array.from({ length: contrib.cols }, (_, j) => j).sort((a, b) => row[b] - row[a] || a - b);
  return order.slice(0, TOP_FEATURES).map((j) => ({ feature: names[j], contribution: row[j] }));
}

/**
 * Replaces, in place, every typed array reachable from `value` (plain objects and arrays) by a copy backed by a
 * SharedArrayBuffer: structured cloning (workerData, postMessage) then shares them with the other thread.
 */
function shareTypedArrays(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    if (value instanceof DataView || value.buffer instanceof SharedArrayBuffer) return value;
    const view = value as unknown as Uint8Array;
    const Kind = view.constructor as new (buffer: SharedArrayBuffer) => Uint8Array;
    const shared = new Kind(new SharedArrayBuffer(view.byteLength));
    shared.set(view);
    return shared;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = shareTypedArrays(value[i]);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = shareTypedArrays(record[key]);
  }
  return value;
}

export class ModelScorer implements FlowScorer {
  readonly model: { name: string; version: string; file: string };
  readonly drift: DriftMonitor;
  private readonly columns: { name: string; index: number }[];
  private readonly normalRanges: Map<string, [number, number]>;
  private readonly scratch = new Float64Array(NETFLOW_FEATURES.length);
  /** Where notices about explaining go (the service's log); undefined: stderr. */
  private log: ((line: string) => void) | undefined;

  private constructor(readonly doc: ModelDocument, readonly fitted: Fitted, readonly featureSet: FlowFeatureSet, file: string) {
    this.model = { name: doc.meta.modelName, version: doc.meta.flowsentryVersion, file };
    const names = featureSet === 'cic' ? CIC_FEATURES : NETFLOW_FEATURES;
    const position = new Map(names.map((n, i) => [n, i]));
    this.columns = doc.schema.features.map((f) => ({ name: f.name, index: position.get(featureKey(featureSet, f.name)) as number }));
    const levels = [...doc.reference.levels];
    const lo = levels.indexOf(0.05);
    const hi = levels.indexOf(0.95);
    this.normalRanges = new Map();
    for (const f of doc.reference.features) {
      if (f.quantiles && lo >= 0 && hi >= 0) this.normalRanges.set(canonicalFeatureName(f.name), [f.quantiles[lo], f.quantiles[hi]]);
    }
    const columnOf = new Map(this.columns.map((c, i) => [canonicalFeatureName(c.name), i]));
    this.drift = new DriftMonitor(doc.reference, (name) => columnOf.get(canonicalFeatureName(name)) ?? -1);
  }

  /**
   * Loads a model file. With `shared`, the model's arrays are first moved into SharedArrayBuffers, so a thread given
   * `doc` (fromDocument) scores with the same memory instead of a second copy of the model.
   */
  static async load(file: string, options: { shared?: boolean; log?: (line: string) => void } = {}): Promise<ModelScorer> {
    const doc = await loadModelFile(file);
    if (options.shared) shareTypedArrays(doc);
    const scorer = ModelScorer.fromDocument(doc, file);
    scorer.log = options.log;
    return scorer;
  }

  /** A scorer for a model document already loaded (e.g. by another thread, which shares its arrays). */
  static fromDocument(doc: ModelDocument, file: string): ModelScorer {
    return new ModelScorer(doc, fittedFromDocument(doc, file), featureSetFor(doc, file), file);
  }

  private featuresOf(flow: FlowRecord): Float64Array {
    if (this.featureSet === 'netflow') return netflowFeatures(flow, this.scratch);
    if (!flow.features) throw new UserError('this model needs CICFlowMeter features, which only packet sources (pcap, interface, stdin) provide');
    return flow.features;
  }

  /** The flows as a Frame with the model's input columns (raw values, before the pipeline). */
  private frameOf(flows: readonly FlowRecord[]): Frame {
    const columns: NumericColumn[] = this.columns.map((c) => ({ kind: 'numeric', name: c.name, values: new Float32Array(flows.length) }));
    for (let i = 0; i < flows.length; i++) {
      const values = this.featuresOf(flows[i]);
      for (let c = 0; c < columns.length; c++) columns[c].values[i] = values[this.columns[c].index];
    }
    return { nRows: flows.length, features: columns, identifiers: [], source: { format: `flows-${this.featureSet}`, files: [], dropped: [], skipped: [] } };
  }

  private categoryOf(label: string): string {
    if (this.doc.meta.task === 'category' || this.doc.meta.task === 'anomaly' || label === 'attack') return label;
    const format = this.doc.meta.format;
    if (format.startsWith('cic') || format.startsWith('cse')) return cicFamily(label);
    if (format === 'nsl-kdd' || format === 'kdd99') return kddCategory(label);
    return label;
  }

  async scoreBatch(flows: readonly FlowRecord[]): Promise<ScoredBatch> {
    return this.scoreFrame(this.frameOf(flows));
  }

  /** The chunk's NetFlow feature columns as the model's input frame (views, no copy). */
  private chunkFrame(chunk: FlowChunk, rows?: readonly number[]): Frame {
    if (this.featureSet !== 'netflow') throw new UserError('this model needs CICFlowMeter features, which only packet sources (pcap, interface, stdin) provide');
    const features: NumericColumn[] = this.columns.map((c) => {
      const all = chunk.featureColumn(c.index);
      return { kind: 'numeric', name: c.name, values: rows ? Float32Array.from(rows, (r) => all[r]) : all };
    });
    return { nRows: rows ? rows.length : chunk.length, features, identifiers: [], source: { format: 'flows-netflow', files: [], dropped: [], skipped: [] } };
  }

  /** Writes the model's predicted class and score of every row into the chunk (the collector thread's part). */
  async predictChunk(chunk: FlowChunk): Promise<void> {
    const out = await outputsOf(this.fitted, this.fitted.pipeline.transform(this.chunkFrame(chunk)));
    chunk.pred.set(out.pred.subarray(0, chunk.length));
    if (out.attackScore) chunk.score.set(out.attackScore.subarray(0, chunk.length));
    chunk.hasScore = out.attackScore !== undefined;
    chunk.predicted = true;
  }

  /**
   * Scores a collector chunk from its feature columns, or takes the predictions already in it (`predicted`); then
   * only the rows that are explained are transformed here.
   */
  async scoreChunk(chunk: FlowChunk): Promise<ScoredBatch> {
    if (!chunk.predicted) return this.scoreFrame(this.chunkFrame(chunk));
    const frame = this.chunkFrame(chunk);
    const X = (rows: readonly number[]): Matrix => this.fitted.pipeline.transform(this.chunkFrame(chunk, rows));
    return this.scored(frame, chunk.pred, chunk.hasScore ? chunk.score : undefined, X);
  }

  /**
   * For each alerting row the model's feedback memory raised to an alert (its own score below the threshold, its
   * nearest feedback row within the radius a confirmed alert): that feedback. A detector's memory raises a score to
   * exactly its floor, so only alerting rows scored at the floor are looked up; the hybrid's score is a probability,
   * so its rows matched to a confirmed one are decided again without the memory.
   */
  private async feedbackDecisions(alerting: readonly number[], score: ArrayLike<number> | undefined, rowsOf: (rows: readonly number[]) => Matrix): Promise<Map<number, FeedbackDecision>> {
    const { model } = this.fitted;
    const decided = new Map<number, FeedbackDecision>();
    const memory = model instanceof DetectorBase || model instanceof HybridModel ? model.feedbackMemory : null;
    if (!memory || !score || memory.summary().confirmed === 0) return decided;
    const candidates = model instanceof HybridModel ? alerting : alerting.filter((i) => score[i] === memory.floor);
    if (candidates.length === 0) return decided;
    const matches = memory.matches(rowsOf(candidates));
    let confirmed = candidates.flatMap((row, k) => (matches[k] && !matches[k].benign ? [{ row, match: matches[k] }] : []));
    if (model instanceof HybridModel && confirmed.length > 0) {
      const own = (await model.ownDecision(rowsOf(confirmed.map((c) => c.row)))).r;
      confirmed = confirmed.filter((_, k) => own[k] < memory.floor);
    }
    for (const { row, match } of confirmed) {
      decided.set(row, { verdict: 'confirmed', alertId: match.alertId, feedbackRow: match.row, distance: match.distance, radius: memory.radius });
    }
    return decided;
  }

  private async scoreFrame(frame: Frame): Promise<ScoredBatch> {
    const X = this.fitted.pipeline.transform(frame);
    const out = await outputsOf(this.fitted, X);
    const sub = (rows: readonly number[]): Matrix => {
      const m = createMatrix(rows.length, X.cols, X.columns);
      rows.forEach((r, k) => m.data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), k * X.cols));
      return m;
    };
    return this.scored(frame, out.pred, out.attackScore ?? undefined, sub);
  }

  /** Verdicts, drift observation, explanations and inputs of scored rows; `rowsOf` gives the model input of rows. */
  private async scored(frame: Frame, pred: Int32Array, score: ArrayLike<number> | undefined, rowsOf: (rows: readonly number[]) => Matrix): Promise<ScoredBatch> {
    const n = frame.nRows;
    const { info } = this.fitted;
    const isDetector = this.fitted.model.kind === 'detector';
    const threshold = this.fitted.threshold ?? (isDetector ? (this.fitted.model as { threshold: number }).threshold : 0.5);
    const rowValues = new Float64Array(this.columns.length);
    const values = frame.features.map((c) => (c as NumericColumn).values);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < rowValues.length; c++) rowValues[c] = values[c][i];
      this.drift.observe(rowValues, score ? score[i] : 0);
    }
    // one verdict template per class: rows share label and category
    const labels = info.classes.map((label, p) => ({ label, category: this.categoryOf(label), isAlert: info.positive >= 0 ? p === info.positive : p !== info.normal }));
    const alerting: number[] = [];
    for (let i = 0; i < n; i++) if (labels[pred[i]].isAlert) alerting.push(i);
    const feedback = await this.feedbackDecisions(alerting, score, rowsOf);
    const verdicts = new Array<Verdict>(n);
    for (let i = 0; i < n; i++) {
      const c = labels[pred[i]];
      const verdict = { score: score ? score[i] : 1, threshold, isAlert: c.isAlert, label: c.label, category: c.category };
      const decided = feedback.size > 0 ? feedback.get(i) : undefined;
      verdicts[i] = decided ? { ...verdict, decidedByFeedback: decided } : verdict;
    }
    const explain = async (rows: readonly number[]): Promise<FeatureContribution[][]> => {
      const contrib = await explainRows(rowsOf(rows), {
        model: this.fitted.model,
        reference: this.fitted.reference,
        groups: this.fitted.groups,
        classIndex: isDetector ? undefined : Int32Array.from(rows, (r) => pred[r]),
        log: this.log,
      });
      return rows.map((r, k) =>
        towardsAlert(contrib, k, this.fitted.featureNames).map((t) => {
          const col = frame.features.find((c) => c.name === t.feature) as NumericColumn | undefined;
          return {
            feature: t.feature,
            value: col ? col.values[r] : Number.NaN,
            contribution: t.contribution,
            normalRange: this.normalRanges.get(canonicalFeatureName(t.feature)) ?? [Number.NaN, Number.NaN],
          };
        }),
      );
    };
    const input = (row: number): Record<string, number> => Object.fromEntries(frame.features.map((c) => [c.name, (c as NumericColumn).values[row]]));
    return { verdicts, explain, input };
  }

  driftStatus(): DriftStatus {
    return this.drift.status();
  }
}

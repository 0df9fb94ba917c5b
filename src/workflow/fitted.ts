// A fitted pipeline + model with everything needed to predict and explain: the unit `train` saves, and `evaluate`,
// `predict` and the live service load from a model file. Prediction runs in row blocks so that memory stays bounded
// on large inputs.

import { UserError } from '../errors.js';
import type { Column, Frame, TextColumn } from '../frame/frame.js';
import { textValue } from '../frame/text-column.js';
import { canonicalFeatureName } from '../datasets/cic-names.js';
import type { Matrix } from '../frame/matrix.js';
import { argmaxLabels } from '../frame/labels.js';
import type { Classifier, Detector, Estimator } from '../models/estimator.js';
import { getModelSpec } from '../models/index.js';
import { HybridModel } from '../models/hybrid.js';
import { Pipeline } from '../prep/pipeline.js';
import type { ModelDocument } from '../store/model-file.js';
import { shortestFloat32 } from '../util/float32.js';
import { explainRows, topContributions, type FeatureGroups, type TopFeature } from '../explain/index.js';
import type { ClassInfo, Outputs } from './metrics.js';

export interface Fitted {
  pipeline: Pipeline;
  model: Estimator;
  info: ClassInfo;
  /** Detector threshold on the anomaly score; null for classifiers (their own decision rule). */
  threshold: number | null;
  /** Occlusion reference (training medians of the model input columns) and the column → input feature map. */
  reference: Float32Array;
  groups: FeatureGroups;
  /** Input feature names (the groups), as the pipeline names them. */
  featureNames: string[];
}

/** Groups model input columns by the input feature they come from ('service=http' → 'service'). */
export function featureGroups(pipeline: Pipeline): { groups: FeatureGroups; featureNames: string[] } {
  const names: string[] = [];
  const index = new Map<string, number>();
  const columnFeature = new Int32Array(pipeline.columns.length);
  pipeline.columns.forEach((col, c) => {
    const eq = col.indexOf('=');
    const base = eq > 0 ? col.slice(0, eq) : col;
    let f = index.get(base);
    if (f === undefined) {
      f = names.length;
      names.push(base);
      index.set(base, f);
    }
    columnFeature[c] = f;
  });
  return { groups: { columnFeature, nFeatures: names.length }, featureNames: names };
}

/** Predictions of the model on already transformed rows. */
export async function outputsOf(f: Fitted, X: Matrix): Promise<Outputs> {
  const { info } = f;
  if (f.model.kind === 'detector') {
    const det = f.model as Detector;
    const scores = await det.scoreSamples(X);
    const threshold = f.threshold ?? det.threshold;
    const pred = Int32Array.from(scores, (s) => (s >= threshold ? info.positive : info.normal));
    return { pred, attackScore: scores };
  }
  let proba: Matrix;
  let pred: Int32Array;
  if (f.model instanceof HybridModel) {
    // the hybrid's decision rule is its own (an OR of thresholds), not the argmax of its probabilities
    const both = await f.model.predictWithProba(X);
    proba = both.proba;
    pred = both.labels.codes;
  } else {
    proba = await (f.model as Classifier).predictProba(X);
    pred = argmaxLabels(proba, []).codes;
  }
  const k = proba.cols;
  let attackScore: Float64Array | null = null;
  if (info.positive >= 0) attackScore = Float64Array.from({ length: X.rows }, (_, i) => proba.data[i * k + info.positive]);
  else if (info.normal >= 0) attackScore = Float64Array.from({ length: X.rows }, (_, i) => 1 - proba.data[i * k + info.normal]);
  return { pred, proba: proba.data, attackScore };
}

export interface PredictedRow {
  label: string;
  /** P(predicted class) for classifiers; the anomaly score for detectors. */
  score: number;
  /** P(attack) or the anomaly score normalised to [0, 1] (null when undefined). */
  attack: number | null;
  top: (TopFeature & { value: number | string })[];
}

/** Input columns by canonical name (the names explanations use), whatever the file's spelling. */
function columnsByName(frame: Frame): Map<string, Column | TextColumn> {
  const map = new Map<string, Column | TextColumn>();
  for (const c of [...frame.identifiers, ...frame.features]) if (c.kind !== 'time') map.set(canonicalFeatureName(c.name), c);
  return map;
}

/** Raw input value of a feature in a frame row, for explanation output. */
function rawValue(col: Column | TextColumn | undefined, row: number): number | string {
  if (!col) return '';
  if (col.kind === 'numeric') return shortestFloat32(col.values[row]);
  if (col.kind === 'text') return textValue(col, row);
  const code = col.codes[row];
  return code < 0 ? '' : col.dictionary[code];
}

/** Predicts and explains rows [start, end) of a frame. */
export async function predictBlock(f: Fitted, frame: Frame, start: number, end: number, explain: boolean, topK = 3): Promise<PredictedRow[]> {
  const rows = Int32Array.from({ length: end - start }, (_, i) => start + i);
  const X = f.pipeline.transform(frame, rows);
  const out = await outputsOf(f, X);
  const contrib = explain
    ? await explainRows(X, { model: f.model, reference: f.reference, groups: f.groups, classIndex: f.model.kind === 'classifier' ? out.pred : undefined })
    : undefined;
  const normalised = f.model.kind === 'detector' && out.attackScore ? (f.model as Detector).normalizeScores(out.attackScore) : null;
  const k = f.info.classes.length;
  const byName = contrib ? columnsByName(frame) : undefined;
  const result: PredictedRow[] = [];
  for (let i = 0; i < X.rows; i++) {
    const label = f.info.classes[out.pred[i]];
    const score = out.proba ? out.proba[i * k + out.pred[i]] : (out.attackScore as Float64Array)[i];
    const attack = normalised ? normalised[i] : out.attackScore ? out.attackScore[i] : null;
    const top = contrib ? topContributions(contrib, i, f.featureNames, topK).map((t) => ({ ...t, value: rawValue(byName?.get(t.feature), start + i) })) : [];
    // probabilities are float32: 0.94, not 0.9399999976158142 (float64 scores come back unchanged)
    result.push({ label, score: shortestFloat32(score), attack: attack === null ? null : shortestFloat32(attack), top });
  }
  return result;
}

/**
 * Fails before any work when the input lacks columns the model needs (all named); input of another known dataset
 * format than the model's says that first ("this is unsw-nb15 data, but the model was trained on nsl-kdd data").
 */
export function checkInputColumns(f: Fitted, frame: Frame, modelFormat: string): void {
  try {
    f.pipeline.transform(frame, Int32Array.of());
  } catch (err) {
    const format = frame.source.format;
    if (!(err instanceof UserError) || format === modelFormat || format === 'csv' || modelFormat === 'csv') throw err;
    // the file leads the line; where in it (line, column) stays with the problem
    const { file, ...within } = err.location ?? {};
    throw new UserError(`this is ${format} data, but the model was trained on ${modelFormat} data (${err.at(within).message})`, { file });
  }
}

/** Rebuilds the fitted pipeline and model from a loaded model document. */
export function fittedFromDocument(doc: ModelDocument, file: string): Fitted {
  let pipeline: Pipeline;
  let model: Estimator;
  try {
    pipeline = Pipeline.fromState(doc.pipeline);
    model = getModelSpec(doc.model.name).fromState(doc.model.state);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`cannot rebuild the model: ${err.message}`, { file });
    throw new UserError(`model file is damaged: ${(err as Error).message}`, { file });
  }
  const { groups, featureNames } = featureGroups(pipeline);
  const positive = doc.labels.positive ?? -1;
  const normal = doc.labels.classes.length === 2 && positive >= 0 ? 1 - positive : doc.labels.classes.findIndex((c) => /^(normal|benign|background|0)$/i.test(c.trim()));
  return {
    pipeline,
    model,
    info: { classes: doc.labels.classes, normal, positive },
    threshold: doc.threshold,
    reference: doc.explain.reference,
    groups,
    featureNames,
  };
}

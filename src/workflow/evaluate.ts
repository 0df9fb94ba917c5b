// `flowsentry evaluate`: a saved model on new labelled data — the same test metrics, curves and confusion matrix as
// `train`, as a one-candidate RunResult (so the report can show it), with the model's CV scores from its metadata.

import { UserError } from '../errors.js';
import { takeRows } from '../frame/matrix.js';
import { globalImportances } from '../explain/index.js';
import { getModelSpec } from '../models/index.js';
import { canonicalFeatureName } from '../datasets/cic-names.js';
import { alignToTraining, labelColumnFor, loadModelFile, modelLoadOptions, readModelInput, subsetFrame, taskLabels } from './data.js';
import { checkInputColumns, fittedFromDocument, outputsOf } from './fitted.js';
import { testCurves, testMetrics } from './metrics.js';
import { checkNotAnInput, checkWritableFile } from './paths.js';
import type { RunResult } from './run-result.js';

export interface EvaluateOptions {
  format?: string;
  label?: string;
  report?: string;
  png?: string;
  /** Skip malformed rows and rows without a label (counted by reason in the result) instead of stopping at the first. */
  skipBadRows?: boolean;
}

export async function evaluate(modelPath: string, files: string[], o: EvaluateOptions = {}): Promise<RunResult> {
  const started = performance.now();
  if (o.report) checkWritableFile(o.report, '--report');
  if (o.report) checkNotAnInput(o.report, '--report', [modelPath, ...files]);
  const doc = await loadModelFile(modelPath);
  const fitted = fittedFromDocument(doc, modelPath);
  const frame = await readModelInput(doc, files, { format: o.format, label: labelColumnFor(doc, o.label), skipBadRows: o.skipBadRows });
  checkInputColumns(fitted, frame, doc.meta.format);
  const aligned = alignToTraining(taskLabels(frame, doc.meta.task), doc.labels.classes);
  if (aligned.rows.length === 0) {
    throw new UserError(`none of the labels (${[...aligned.unseen.keys()].join(', ')}) were seen in training (${doc.labels.classes.join(', ')})`, { file: files.join(', ') });
  }
  const data = aligned.rows.length === frame.nRows ? frame : subsetFrame(frame, aligned.rows);
  const y = aligned.labels;
  const t0 = performance.now();
  const X = fitted.pipeline.transform(data);
  const outputs = await outputsOf(fitted, X);
  const predictSeconds = (performance.now() - t0) / 1000;
  const { info } = fitted;
  const modelInputs = new Set(doc.schema.features.map((f) => canonicalFeatureName(f.name)));
  const curves = testCurves(y.codes, outputs, info, fitted.threshold ?? (info.positive >= 0 ? 0.5 : null));
  const step = Math.max(1, X.rows / 200);
  const sample = takeRows(X, Int32Array.from({ length: Math.min(200, X.rows) }, (_, k) => Math.floor(k * step)));
  const importances = await globalImportances(sample, { model: fitted.model, reference: fitted.reference, groups: fitted.groups });
  const countsOf = (codes: Int32Array): number[] => {
    const c = new Array<number>(doc.labels.classes.length).fill(0);
    for (const v of codes) c[v]++;
    return c;
  };
  const result: RunResult = {
    task: doc.meta.task,
    metric: doc.meta.metric,
    cvFolds: Object.values(doc.meta.cv)[0]?.folds.length ?? 0,
    seed: doc.meta.seed,
    best: doc.model.name,
    model: modelPath,
    report: o.report ?? null,
    classes: [...doc.labels.classes],
    positiveClass: info.positive >= 0 ? doc.labels.classes[info.positive] : null,
    dataset: {
      format: frame.source.format,
      trainFiles: doc.meta.files.map((f) => f.path),
      testFiles: [...files],
      trainRows: doc.meta.trainRows,
      testRows: data.nRows,
      testSource: 'files',
      labelView: doc.meta.labelView,
      classes: [...doc.labels.classes],
      trainCounts: [],
      testCounts: countsOf(y.codes),
      features: doc.schema.features.length,
      unusedColumns: frame.features.map((c) => c.name).filter((name) => !modelInputs.has(canonicalFeatureName(name))),
      featureNames: [...fitted.pipeline.columns],
      dropped: [...frame.source.dropped],
      ...(doc.meta.keptIdentifiers && modelLoadOptions(doc).keepIdentifiers ? { keptIdentifiers: [...doc.meta.keptIdentifiers] } : {}),
      skipped: [...frame.source.skipped, ...[...aligned.unseen].map(([name, count]) => ({ reason: `label '${name}' not seen in training (not scored)`, count }))],
    },
    candidates: [
      {
        name: doc.model.name,
        title: getModelSpec(doc.model.name).title,
        params: doc.meta.params,
        cv: doc.meta.cv,
        test: testMetrics(y.codes, outputs, info),
        fitSeconds: 0,
        predictSeconds,
        ...curves,
        history: fitted.model.history ?? null,
        importances: fitted.featureNames.map((feature, f) => ({ feature, importance: importances[f] })).sort((a, b) => b.importance - a.importance).slice(0, 30),
        trials: [],
        error: null,
      },
    ],
    interrupted: false,
    purpose: 'evaluation',
    createdAt: new Date().toISOString(),
    flowsentryVersion: doc.meta.flowsentryVersion,
    seconds: (performance.now() - started) / 1000,
  };
  if (o.report) await (await import('../report/index.js')).writeReport(result, o.report, o.png ? { png: o.png } : {});
  return result;
}

// `flowsentry info`: what a model file holds — training files with checksums, rows, label view, features, pipeline,
// hyper-parameters, CV and test metrics, threshold, creation time and Flowsentry version — as plain data and text.

import { statSync } from 'node:fs';
import { FORMAT_VERSION, type ModelDocument } from '../store/model-file.js';
import { loadModelFile, storedTargetFpr } from './data.js';

export interface ModelInfo {
  file: string;
  bytes: number;
  formatVersion: number;
  flowsentryVersion: string;
  createdAt: string;
  model: string;
  params: ModelDocument['meta']['params'];
  task: string;
  labelView: string;
  classes: string[];
  positiveClass: string | null;
  threshold: number | null;
  /** The false-positive rate on held-out normal training rows a detector's threshold is set for (--target-fpr). */
  targetFpr: number;
  /** False for files written before --target-fpr was recorded: targetFpr is then the default, not the rate used. */
  targetFprRecorded: boolean;
  trainedOn: { path: string; sha256: string; bytes: number }[];
  testedOn: { path: string; sha256: string; bytes: number }[];
  trainRows: number;
  testRows: number;
  testSource: string;
  format: string;
  /** Columns of the training data that are not model inputs, with why (identifier, label, constant, duplicate...). */
  dropped: { name: string; reason: string }[];
  /** Trained with --keep-identifiers: these identifier columns are features (false and empty in older files). */
  keepIdentifiers: boolean;
  keptIdentifiers: string[];
  features: { name: string; kind: string; aliases: string[] }[];
  pipeline: { columns: number; options: unknown; dropped: unknown };
  metric: string;
  cv: Record<string, { mean: number; std: number }>;
  test: Record<string, number> | null;
  seed: number;
}

export async function modelInfo(path: string): Promise<ModelInfo> {
  const doc = await loadModelFile(path);
  const m = doc.meta;
  const steps = (doc.pipeline.steps as { kind: string; categories?: string[] }[] | undefined) ?? [];
  return {
    file: path,
    bytes: statSync(path).size,
    formatVersion: FORMAT_VERSION,
    flowsentryVersion: m.flowsentryVersion,
    createdAt: m.createdAt,
    model: doc.model.name,
    params: m.params,
    task: m.task,
    labelView: m.labelView,
    classes: doc.labels.classes,
    positiveClass: doc.labels.positive === null ? null : doc.labels.classes[doc.labels.positive],
    threshold: doc.threshold,
    targetFpr: storedTargetFpr(doc),
    targetFprRecorded: m.targetFpr !== undefined,
    trainedOn: m.files,
    testedOn: m.testFiles,
    trainRows: m.trainRows,
    testRows: m.testRows,
    testSource: m.testSource,
    format: m.format,
    dropped: m.dropped.map((d) => ({ name: d.name, reason: d.reason })),
    keepIdentifiers: m.keepIdentifiers === true,
    keptIdentifiers: m.keepIdentifiers === true ? [...(m.keptIdentifiers ?? [])] : [],
    features: doc.schema.features.map((f) => ({ name: f.name, kind: f.kind, aliases: f.aliases })),
    pipeline: {
      columns: steps.reduce((n, s) => n + (s.kind === 'categorical' ? (s.categories?.length ?? 0) : 1), 0),
      options: doc.pipeline.options,
      dropped: doc.pipeline.dropped,
    },
    metric: m.metric,
    cv: Object.fromEntries(Object.entries(m.cv).map(([k, v]) => [k, { mean: v.mean, std: v.std }])),
    test: m.test,
    seed: m.seed,
  };
}

const f4 = (v: number): string => v.toFixed(4);
/** 0.05 → "5%", 0.005 → "0.5%". */
const percent = (rate: number): string => `${Number((rate * 100).toPrecision(6))}%`;

const TEST_SOURCE: Record<string, string> = {
  'holdout-time': 'the latest 20% of the training files by time',
  'holdout-stratified': 'a seeded stratified 20% of the training files',
  files: 'the --test files',
};

/** "a, b (identifier); c (label)": dropped columns grouped by reason, in first-seen order. */
function droppedText(dropped: ModelInfo['dropped']): string {
  const byReason = new Map<string, string[]>();
  for (const d of dropped) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.name]);
  return [...byReason].map(([reason, names]) => `${names.join(', ')} (${reason})`).join('; ');
}

export function infoText(i: ModelInfo): string {
  const lines = [
    `${i.file}: Flowsentry model (format v${i.formatVersion}, ${i.bytes} bytes), made by Flowsentry ${i.flowsentryVersion} on ${i.createdAt}`,
    `model: ${i.model} ${JSON.stringify(i.params)}`,
    `task: ${i.task} (${i.labelView} labels: ${i.classes.join(', ')})${i.positiveClass ? `, attack class '${i.positiveClass}'` : ''}`,
    `threshold: ${i.threshold === null ? "the model's own decision rule" : `${i.threshold} (${i.targetFprRecorded ? `for a ${percent(i.targetFpr)} false-positive rate on held-out normal training rows` : `target false-positive rate not recorded in this older file; retrain uses the ${percent(i.targetFpr)} default`})`}`,
    `trained on (${i.format}, ${i.trainRows} rows):`,
    ...i.trainedOn.map((f) => `  ${f.path}  sha256 ${f.sha256}  ${f.bytes} bytes`),
    `tested on ${i.testRows} rows (${TEST_SOURCE[i.testSource] ?? i.testSource})${i.testedOn.length ? ':' : ''}`,
    ...i.testedOn.map((f) => `  ${f.path}  sha256 ${f.sha256}  ${f.bytes} bytes`),
    `features (${i.features.length} inputs → ${i.pipeline.columns} model columns): ${i.features.map((f) => (f.kind === 'categorical' ? `${f.name} (categorical)` : f.name)).join(', ')}`,
    `not inputs: ${i.dropped.length ? droppedText(i.dropped) : 'none'}`,
    ...(i.keepIdentifiers ? [`identifiers kept as features (--keep-identifiers; scores do not carry over to other networks, detect/serve refuse it): ${i.keptIdentifiers.join(', ')}`] : []),
    `pipeline: ${JSON.stringify(i.pipeline.options)}`,
    `cv (ranked by ${i.metric}): ${Object.entries(i.cv).map(([k, v]) => `${k} ${f4(v.mean)} ± ${f4(v.std)}`).join(', ')}`,
    `test: ${i.test ? Object.entries(i.test).map(([k, v]) => `${k} ${f4(v)}`).join(', ') : 'none'}`,
  ];
  return lines.join('\n');
}

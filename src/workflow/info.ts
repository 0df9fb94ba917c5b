// `flowsentry info`: what a model file holds — training files with checksums, rows, label view, features, pipeline,
// hyper-parameters, CV and test metrics, threshold, creation time and Flowsentry version — as plain data and text.

import { statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { FORMAT_VERSION, UnusableModelError, type ModelDocument } from '../store/model-file.js';
import { DEFAULT_TARGET_FPR, loadModelFile } from './data.js';
import { fittedFromDocument } from './fitted.js';
import { TEST_SOURCE_TEXT, type DatasetSummary } from './run-result.js';

type FileEntry = ModelDocument['meta']['files'][number];

/** What the file holds. A file this build cannot use (`usable` false) shows what it could read; the rest is absent. */
export interface ModelDetails {
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
  trainedOn: FileEntry[];
  testedOn: FileEntry[];
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
  /** Set by `retrain`: the model and detection store it was refitted from (absent otherwise). */
  retrainedFrom?: { model: string; store: string; feedbackRows: number; feedbackWeight: number; feedbackMemory?: { falsePositives: number; confirmed: number; radius: number; cap: number; floor: number } };
}

export type ModelInfo = { file: string; bytes: number; formatVersion: number } & (
  | ({ usable: true; problem: null } & ModelDetails)
  | ({ usable: false; /** Why this build cannot use the file, and what to do. */ problem: string } & Partial<ModelDetails>)
);

export async function modelInfo(path: string): Promise<ModelInfo> {
  let doc: ModelDocument;
  try {
    doc = await loadModelFile(path);
  } catch (err) {
    if (!(err instanceof UnusableModelError)) throw err;
    const readable = err.contents === null ? {} : detailsOf(err.contents, false);
    return { file: path, bytes: statSync(path).size, formatVersion: err.formatVersion, ...readable, usable: false, problem: err.reason };
  }
  const details = { file: path, bytes: statSync(path).size, formatVersion: FORMAT_VERSION, ...(detailsOf(doc, true) as ModelDetails) };
  const problem = rebuildProblem(doc, path);
  return problem === null ? { ...details, usable: true, problem: null } : { ...details, usable: false, problem };
}

/** Why the model cannot be rebuilt for predictions (a hybrid whose parts disagree, a newer pipeline), or null. */
function rebuildProblem(doc: ModelDocument, path: string): string | null {
  try {
    fittedFromDocument(doc, path);
    return null;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return err.problem;
  }
}

type Fields = { [k: string]: unknown };
const fieldsOf = (v: unknown): Fields | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) ? (v as Fields) : undefined);
const textOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const numberOf = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
/** The list when every item reads, else undefined. */
function listOf<T>(v: unknown, item: (x: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.map(item);
  return out.every((x) => x !== undefined) ? (out as T[]) : undefined;
}
const fileOf = (v: unknown): FileEntry | undefined => {
  const f = fieldsOf(v);
  const path = textOf(f?.path);
  const sha256 = textOf(f?.sha256);
  const bytes = numberOf(f?.bytes);
  return path !== undefined && sha256 !== undefined && bytes !== undefined ? { path, sha256, bytes } : undefined;
};

const retrainOf = (v: unknown): ModelDetails['retrainedFrom'] => {
  const f = fieldsOf(v);
  const model = textOf(f?.model);
  const store = textOf(f?.store);
  const feedbackRows = numberOf(f?.feedbackRows);
  const feedbackWeight = numberOf(f?.feedbackWeight);
  const m = fieldsOf(f?.feedbackMemory);
  const [falsePositives, confirmed, radius, cap, floor] = [m?.falsePositives, m?.confirmed, m?.radius, m?.cap, m?.floor].map(numberOf);
  // a retrained detector's feedback memory (retrain.ts); absent from classifiers and older files
  const feedbackMemory =
    falsePositives !== undefined && confirmed !== undefined && radius !== undefined && cap !== undefined && floor !== undefined
      ? { feedbackMemory: { falsePositives, confirmed, radius, cap, floor } }
      : {};
  return model !== undefined && store !== undefined && feedbackRows !== undefined && feedbackWeight !== undefined ? { model, store, feedbackRows, feedbackWeight, ...feedbackMemory } : undefined;
};

/**
 * What a decoded model file holds, each field read only when it has the expected type (the rest is left out), so one
 * list serves a checked document (`usable`: every field reads) and a file this build cannot use (another version's
 * layout). A usable file written before --target-fpr was recorded shows the default rate, not recorded.
 */
function detailsOf(state: unknown, usable: boolean): Partial<ModelDetails> {
  const doc = fieldsOf(state) ?? {};
  const meta = fieldsOf(doc.meta) ?? {};
  const labels = fieldsOf(doc.labels) ?? {};
  const model = fieldsOf(doc.model) ?? {};
  const pipeline = fieldsOf(doc.pipeline) ?? {};
  const classes = listOf(labels.classes, textOf);
  const positive = labels.positive === null ? null : numberOf(labels.positive);
  const keep = meta.keepIdentifiers === true;
  const steps = listOf(pipeline.steps, fieldsOf);
  const cv = fieldsOf(meta.cv);
  const test = meta.test === null ? null : fieldsOf(meta.test);
  const recordedFpr = numberOf(meta.targetFpr);
  const details: Partial<ModelDetails> = {
    flowsentryVersion: textOf(meta.flowsentryVersion),
    createdAt: textOf(meta.createdAt),
    model: textOf(model.name),
    params: fieldsOf(meta.params) as ModelDetails['params'] | undefined,
    task: textOf(meta.task),
    labelView: textOf(meta.labelView),
    classes,
    positiveClass: positive === null ? null : positive !== undefined && classes ? classes[positive] : undefined,
    threshold: doc.threshold === null ? null : numberOf(doc.threshold),
    targetFpr: recordedFpr ?? (usable ? DEFAULT_TARGET_FPR : undefined),
    targetFprRecorded: recordedFpr !== undefined ? true : usable ? false : undefined,
    trainedOn: listOf(meta.files, fileOf),
    testedOn: listOf(meta.testFiles, fileOf),
    trainRows: numberOf(meta.trainRows),
    testRows: numberOf(meta.testRows),
    testSource: textOf(meta.testSource),
    format: textOf(meta.format),
    dropped: listOf(meta.dropped, (d) => {
      const f = fieldsOf(d);
      const name = textOf(f?.name);
      const reason = textOf(f?.reason);
      return name !== undefined && reason !== undefined ? { name, reason } : undefined;
    }),
    keepIdentifiers: keep,
    keptIdentifiers: keep ? (listOf(meta.keptIdentifiers, textOf) ?? []) : [],
    features: listOf(fieldsOf(doc.schema)?.features, (x) => {
      const f = fieldsOf(x);
      const name = textOf(f?.name);
      const kind = textOf(f?.kind);
      return name !== undefined && kind !== undefined ? { name, kind, aliases: listOf(f?.aliases, textOf) ?? [] } : undefined;
    }),
    pipeline: steps
      ? { columns: steps.reduce((n, s) => n + (s.kind === 'categorical' ? (listOf(s.categories, textOf)?.length ?? 0) : 1), 0), options: pipeline.options, dropped: pipeline.dropped }
      : undefined,
    metric: textOf(meta.metric),
    cv: cv
      ? Object.fromEntries(Object.entries(cv).flatMap(([k, v]) => {
          const mean = numberOf(fieldsOf(v)?.mean);
          const std = numberOf(fieldsOf(v)?.std);
          return mean !== undefined && std !== undefined ? [[k, { mean, std }]] : [];
        }))
      : undefined,
    test: test === null ? null : test ? Object.fromEntries(Object.entries(test).filter((e): e is [string, number] => typeof e[1] === 'number')) : undefined,
    seed: numberOf(meta.seed),
    retrainedFrom: retrainOf(meta.retrainedFrom),
  };
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) as Partial<ModelDetails>;
}

const f4 = (v: number): string => v.toFixed(4);
/** 0.05 → "5%", 0.005 → "0.5%". */
const percent = (rate: number): string => `${Number((rate * 100).toPrecision(6))}%`;

/** "a, b (identifier); c (label)": dropped columns grouped by reason, in first-seen order. */
function droppedText(dropped: ModelDetails['dropped']): string {
  const byReason = new Map<string, string[]>();
  for (const d of dropped) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.name]);
  return [...byReason].map(([reason, names]) => `${names.join(', ')} (${reason})`).join('; ');
}

/**
 * The lines of what the file holds; a line whose fields could not be read (a file this build cannot use) is left out.
 * Why such a file cannot be used is the command's error line (src/cli/info.ts), not part of this text.
 */
export function infoText(i: ModelInfo): string {
  const line = (ready: boolean, text: () => string): string[] => (ready ? [text()] : []);
  const files = (list: FileEntry[]): string[] => list.map((f) => `  ${f.path}  sha256 ${f.sha256}  ${f.bytes} bytes`);
  const { model, params, task, labelView, classes, threshold, format, trainRows, trainedOn, testRows, features, pipeline, dropped, cv, metric, test } = i;
  const lines = [
    `${i.file}: Flowsentry model (format v${i.formatVersion}, ${i.bytes} bytes), made by Flowsentry ${i.flowsentryVersion ?? '(version unreadable)'} on ${i.createdAt ?? '(date unreadable)'}`,
    ...line(model !== undefined, () => `model: ${model}${params ? ` ${JSON.stringify(params)}` : ''}`),
    ...line(task !== undefined, () => `task: ${task}${labelView !== undefined && classes ? ` (${labelView} labels: ${classes.join(', ')})` : ''}${i.positiveClass ? `, attack class '${i.positiveClass}'` : ''}`),
    ...line(threshold !== undefined, () => `threshold: ${threshold === null ? "the model's own decision rule" : `${threshold} (${i.targetFprRecorded ? `for a ${percent(i.targetFpr!)} false-positive rate on held-out normal training rows` : `target false-positive rate not recorded in this older file; retrain uses the ${percent(i.targetFpr ?? DEFAULT_TARGET_FPR)} default`})`}`),
    ...line(format !== undefined && trainRows !== undefined, () => `trained on (${format}, ${trainRows} rows):`),
    ...files(trainedOn ?? []),
    ...line(testRows !== undefined, () => `tested on ${testRows} rows (${TEST_SOURCE_TEXT[i.testSource as DatasetSummary['testSource']] ?? i.testSource ?? 'source unreadable'})${i.testedOn?.length ? ':' : ''}`),
    ...files(i.testedOn ?? []),
    ...line(features !== undefined, () => `features (${features!.length} inputs${pipeline ? ` → ${pipeline.columns} model columns` : ''}): ${features!.map((f) => (f.kind === 'categorical' ? `${f.name} (categorical)` : f.name)).join(', ')}`),
    ...line(dropped !== undefined, () => `not inputs: ${dropped!.length ? droppedText(dropped!) : 'none'}`),
    ...(i.keepIdentifiers ? [`identifiers kept as features (--keep-identifiers; scores do not carry over to other networks, detect/serve refuse it): ${(i.keptIdentifiers ?? []).join(', ')}`] : []),
    ...line(pipeline !== undefined, () => `pipeline: ${JSON.stringify(pipeline!.options)}`),
    ...line(cv !== undefined, () => `cv (ranked by ${metric ?? '(metric unreadable)'}): ${Object.entries(cv!).map(([k, v]) => `${k} ${f4(v.mean)} ± ${f4(v.std)}`).join(', ')}`),
    ...line(test !== undefined, () => `test: ${test ? Object.entries(test).map(([k, v]) => `${k} ${f4(v)}`).join(', ') : 'none'}`),
    ...line(i.retrainedFrom !== undefined, () => {
      const r = i.retrainedFrom!;
      const m = r.feedbackMemory;
      const memory = m ? `feedback memory: ${m.falsePositives} false positives, ${m.confirmed} confirmed alerts, radius ${f4(m.radius)}` : '';
      // a detector is refitted on its original rows only (weight 0): its feedback is all in the memory
      const counted = m && r.feedbackWeight === 0 ? `, kept as its ${memory}` : ` (each counted ${r.feedbackWeight} times)${m ? `; ${memory}` : ''}`;
      return `retrained from ${r.model} with ${r.feedbackRows} feedback rows of the store ${r.store}${counted}`;
    }),
  ];
  return lines.join('\n');
}

// The Flowsentry model file (.fsm): one file holding everything needed to predict — preprocessing state, model state,
// feature schema, label mapping, thresholds, training metadata and the drift reference of the training data.
//
// Layout (little-endian), 64-byte header then the payload:
//   0  magic  89 46 53 4D 0D 0A 1A 0A   ("\x89FSM\r\n\x1a\n", after PNG: catches text-mode and 7-bit damage)
//   8  u32    format version (FORMAT_VERSION)
//  12  u32    flags (0)
//  16  u64    payload length in bytes
//  24  32 B   sha256 of the payload
//  56  8 B    reserved (0)
//  64  payload = src/store/state-codec.ts encoding of the ModelDocument (JSON header + binary arrays)
// Loading checks magic, length, checksum and version before decoding; decoding parses data and never executes code.
// Writes go to a temporary file in the same folder, are fsynced, then renamed over the target: a crash never leaves
// half a model. Cost: O(size) to write, hash and read.

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { UserError } from '../errors.js';
import { OutputError } from '../util/output.js';
import type { ModelState, Params, StateValue } from '../models/estimator.js';
import type { DroppedColumn } from '../frame/frame.js';
import { decodeState, encodeState } from './state-codec.js';
import { pipelineStateProblem, stateProblem } from './state-layouts.js';

export const MODEL_MAGIC = Buffer.from([0x89, 0x46, 0x53, 0x4d, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FORMAT_VERSION = 1;
const HEADER_BYTES = 64;

export type Task = 'binary' | 'multiclass' | 'category' | 'anomaly';

/** One input feature as the model expects it. `aliases` are other spellings accepted on input (e.g. CIC variants). */
export interface FeatureSpec {
  name: string;
  kind: 'numeric' | 'categorical';
  aliases: string[];
  /** Categories seen in training (categorical features). */
  categories?: string[];
}

export interface TrainingFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface MetricSummary {
  mean: number;
  std: number;
  folds: number[];
}

export interface ModelMeta {
  flowsentryVersion: string;
  createdAt: string;
  task: Task;
  /** Dataset format of the training files, e.g. 'nsl-kdd'. */
  format: string;
  files: TrainingFile[];
  testFiles: TrainingFile[];
  trainRows: number;
  testRows: number;
  /** How the test set was obtained: the --test files, or a seeded hold-out of the training files. */
  testSource: 'files' | 'holdout-stratified' | 'holdout-time';
  labelView: string;
  modelName: string;
  params: Params;
  /** The metric candidates were ranked by. */
  metric: string;
  cv: Record<string, MetricSummary>;
  test: Record<string, number> | null;
  seed: number;
  dropped: DroppedColumn[];
  /** Test-set ROC curve and confusion matrix of the saved model, for the live dashboard (absent in older files). */
  evaluation?: { roc: { fpr: number[]; tpr: number[] } | null; confusion: { labels: string[]; matrix: number[][] } | null };
  /** A label column named with --label on a known format (not its own label), so evaluate and retrain read it again. */
  labelColumn?: string;
  /** --target-fpr of the run: the false-positive rate a detector's threshold is set for (absent in older files: 0.01). */
  targetFpr?: number;
  /**
   * Trained with --keep-identifiers: the identifier columns `keptIdentifiers` (flow ids, addresses, source ports,
   * timestamps, row ids) are features, so evaluate, predict and retrain read data with them. Absent in older files:
   * false.
   */
  keepIdentifiers?: boolean;
  keptIdentifiers?: string[];
  /** Set by `retrain`: the model and store it was refitted from. */
  retrainedFrom?: { model: string; store: string; feedbackRows: number; feedbackWeight: number };
}

/** Per-feature distribution of the training rows and of the training scores, for drift detection in live use. */
export interface DriftReference {
  /** Probability levels of the stored quantiles, e.g. 0, 0.01, 0.05, … 1. */
  levels: Float64Array;
  features: {
    name: string;
    /** Quantiles of the finite values at `levels` (numeric features). */
    quantiles?: Float64Array;
    /** Histogram over quantile-based edges: counts.length = edges.length - 1. */
    edges?: Float64Array;
    counts?: Float64Array;
    /** Category frequencies (categorical features), aligned with FeatureSpec.categories. */
    frequencies?: Float64Array;
    /** Share of rows whose value was missing, NaN or infinite. */
    missing: number;
  }[];
  score: { quantiles: Float64Array; edges: Float64Array; counts: Float64Array };
}

export interface ModelDocument {
  meta: ModelMeta;
  schema: { features: FeatureSpec[] };
  labels: {
    /** Class names the model outputs, in code order. */
    classes: string[];
    /** Index of the attack / anomaly class for binary and anomaly tasks (precision, recall, fpr refer to it). */
    positive: number | null;
    /** Raw label → class as seen in training (e.g. 'neptune' → 'dos'). */
    mapping: Record<string, string>;
  };
  /** Preprocessing pipeline state (src/prep). */
  pipeline: ModelState;
  model: { name: string; state: ModelState };
  /** Decision threshold on the positive-class probability or the anomaly score; null = argmax / model's own. */
  threshold: number | null;
  /** Occlusion reference for explanations: training medians of the model input columns. */
  explain: { reference: Float32Array };
  reference: DriftReference;
}

const require = createRequire(import.meta.url);

/** The version of this Flowsentry build, stamped into every model file. */
export function flowsentryVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      return (require(rel) as { version: string }).version;
    } catch {
      // try the next layout (compiled dist/src/store vs. source src/store)
    }
  }
  return 'unknown';
}

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Serialises a model document to the .fsm byte layout. */
export function encodeModel(doc: ModelDocument): Buffer {
  const payload = encodeState(doc as unknown as ModelState);
  const header = Buffer.alloc(HEADER_BYTES);
  MODEL_MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  header.writeUInt32LE(0, 12);
  header.writeBigUInt64LE(BigInt(payload.length), 16);
  createHash('sha256').update(payload).digest().copy(header, 24);
  return Buffer.concat([header, payload]);
}

/**
 * Writes atomically: temporary file in the same folder, fsync, rename; on failure the temporary file is removed and
 * `path` is left as it was (a model file never looks valid half-written). A target that exists and is not a regular
 * file (a device, a pipe) is written into directly: renaming over it would replace the device with a file.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let special = false;
  try {
    special = !statSync(path).isFile();
  } catch {
    // a new file
  }
  if (special) return writeInto(path, bytes);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new OutputError(path, err, 'nothing was written, the file was left as it was');
  }
}

/** Writes `bytes` into an existing device or pipe; the error counts the bytes it took. */
function writeInto(path: string, bytes: Uint8Array): void {
  let written = 0;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  } catch (err) {
    throw new OutputError(path, err, { count: written, unit: `of ${bytes.length} bytes` });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function saveModel(path: string, doc: ModelDocument): void {
  writeFileAtomic(path, encodeModel(doc));
}

/** What a non-model file looks like, for the error message. */
function describeContent(head: Buffer): string {
  if (head.length === 0) return 'it is empty';
  const u32 = head.length >= 4 ? head.readUInt32LE(0) : -1;
  if (u32 === 0xa1b2c3d4 || u32 === 0xd4c3b2a1 || u32 === 0xa1b23c4d || u32 === 0x4d3cb2a1) return 'it looks like a pcap capture';
  if (u32 === 0x0a0d0d0a) return 'it looks like a pcapng capture';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'it looks like a gzip file';
  let printable = 0;
  for (const b of head) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0xc0) printable++;
  if (printable / head.length > 0.95) return head.includes(0x2c) ? 'it looks like CSV data' : 'it looks like a text file';
  return 'it does not start with the Flowsentry model header';
}

function headOf(path: string, bytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a file' : `cannot read: ${code}`, { file: path });
  }
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'EISDIR' ? 'is a directory, expected a file' : `cannot read: ${code}`, { file: path });
  } finally {
    closeSync(fd);
  }
}

/** True when the file starts with the model magic. Missing files are not model files. */
export function isModelFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false; // a FIFO would block the open; the data reader names it
    const head = headOf(path, MODEL_MAGIC.length);
    return head.length === MODEL_MAGIC.length && head.equals(MODEL_MAGIC);
  } catch {
    return false;
  }
}

/** For data inputs: a model file given where data was expected gets a clear error. */
export function assertNotModelFile(path: string): void {
  if (isModelFile(path)) {
    throw new UserError(
      'is a Flowsentry model file, but data was expected here (`flowsentry info` shows what a model holds; predict and evaluate take the model first: `flowsentry predict <model.fsm> <data...>`)',
      { file: path },
    );
  }
}

/**
 * A model file that is whole (its length and checksum fit) but that this build cannot use: a newer format version,
 * or a model or pipeline state whose layout differs. `contents` is the decoded document when it could be decoded
 * (so `info` can still show what the file is), else null; `formatVersion` is the file's.
 */
export class UnusableModelError extends UserError {
  readonly reason: string;
  constructor(reason: string, file: string, readonly formatVersion: number, readonly contents: ModelState | null) {
    super(reason, { file });
    this.name = 'UnusableModelError';
    this.reason = reason;
  }
}

/**
 * Checks header, length and checksum, then version, then decodes. Every failure is a one-line UserError naming the
 * file; a whole file this build cannot use is an UnusableModelError (the same one line for every command but `info`).
 */
export function decodeModel(buf: Buffer, file: string): ModelDocument {
  const fail = (message: string): never => {
    throw new UserError(message, { file });
  };
  if (buf.length < MODEL_MAGIC.length || !buf.subarray(0, MODEL_MAGIC.length).equals(MODEL_MAGIC)) {
    fail(`is not a Flowsentry model file (${describeContent(buf.subarray(0, 512))}); expected a .fsm file written by \`flowsentry train\``);
  }
  if (buf.length < HEADER_BYTES) fail(`model file is cut short: ${buf.length} bytes, shorter than its ${HEADER_BYTES}-byte header`);
  const version = buf.readUInt32LE(8);
  if (version < 1) fail(`model file has an invalid format version ${version}; the file is damaged`);
  const declared = buf.readBigUInt64LE(16);
  const actual = BigInt(buf.length - HEADER_BYTES);
  if (actual < declared) fail(`model file is cut short: ${actual} of ${declared} payload bytes present (incomplete copy or download?)`);
  if (actual > declared) fail(`model file has ${actual - declared} unexpected trailing bytes; the file is damaged`);
  const payload = buf.subarray(HEADER_BYTES);
  if (!createHash('sha256').update(payload).digest().equals(buf.subarray(24, 56))) {
    fail('model file checksum mismatch: the file was modified or damaged after it was written');
  }
  if (version > FORMAT_VERSION) {
    // the 64-byte header is the same in every version; the payload may still decode (info shows it when it does)
    let contents: ModelState | null = null;
    try {
      contents = decodeState(payload);
    } catch {
      // a payload encoding this build does not know
    }
    throw new UnusableModelError(
      `model file format v${version} was written by a newer Flowsentry; this version (${flowsentryVersion()}) reads format v${FORMAT_VERSION} — upgrade Flowsentry`,
      file,
      version,
      contents,
    );
  }
  let state: ModelState;
  try {
    state = decodeState(payload);
  } catch (err) {
    return fail(`model file is damaged: ${(err as Error).message}`);
  }
  return validateDocument(state, fail, (reason) => {
    throw new UnusableModelError(reason, file, version, state);
  });
}

export async function loadModel(path: string): Promise<ModelDocument> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'no such model file' : code === 'EISDIR' ? 'is a directory, expected a model file' : `cannot read: ${code}`, { file: path });
  }
  return decodeModel(buf, path);
}

/**
 * Structural check of the decoded document, so that a hand-edited but re-checksummed file fails clearly too, and of
 * the model's and the preprocessing pipeline's states against the layouts this build writes (./state-layouts.ts): a
 * file from a build with another layout gets one line saying to train again.
 */
function validateDocument(state: ModelState, fail: (m: string) => never, unusable: (m: string) => never): ModelDocument {
  const obj = (v: StateValue | undefined, what: string): { [k: string]: StateValue } => {
    if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) fail(`model file is damaged: ${what} is missing`);
    return v as { [k: string]: StateValue };
  };
  const meta = obj(state.meta, 'meta');
  const schema = obj(state.schema, 'schema');
  const labels = obj(state.labels, 'labels');
  const model = obj(state.model, 'model');
  const pipeline = obj(state.pipeline, 'pipeline');
  obj(state.reference, 'reference');
  const explain = obj(state.explain, 'explain');
  obj(model.state, 'model.state');
  if (typeof model.name !== 'string') fail('model file is damaged: model.name is missing');
  if (!Array.isArray(schema.features)) fail('model file is damaged: schema.features is missing');
  if (!Array.isArray(labels.classes)) fail('model file is damaged: labels.classes is missing');
  if (typeof meta.task !== 'string') fail('model file is damaged: meta.task is missing');
  if (meta.keepIdentifiers !== undefined && typeof meta.keepIdentifiers !== 'boolean') fail('model file is damaged: meta.keepIdentifiers is not true or false');
  if (meta.keptIdentifiers !== undefined && !(Array.isArray(meta.keptIdentifiers) && meta.keptIdentifiers.every((n) => typeof n === 'string'))) {
    fail('model file is damaged: meta.keptIdentifiers is not a list of column names');
  }
  const writer = typeof meta.flowsentryVersion === 'string' ? meta.flowsentryVersion : 'unknown';
  const problem = stateProblem(model.name as string, model.state as { [k: string]: StateValue });
  if (problem) {
    unusable(
      `the ${model.name as string} model's state does not fit this version: ${problem}; the file was written by Flowsentry ${writer} ` +
        `(this is ${flowsentryVersion()}), whose ${model.name as string} layout differs, or was edited — train the model again with this version`,
    );
  }
  // the explanation reference holds one median per model column
  const reference = explain.reference;
  const pipelineProblem = pipelineStateProblem(pipeline, ArrayBuffer.isView(reference) ? (reference as Float32Array).length : undefined);
  if (pipelineProblem) {
    unusable(
      `the preprocessing pipeline's state does not fit this version: ${pipelineProblem}; the file was written by Flowsentry ${writer} ` +
        `(this is ${flowsentryVersion()}), whose pipeline layout differs, or was edited — train the model again with this version`,
    );
  }
  return state as unknown as ModelDocument;
}

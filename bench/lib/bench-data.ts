// Prepared benchmark matrices shared by every model benchmark, so Flowsentry and the Python peers train on identical
// numbers:
//   nsl   KDDTrain+ → train, KDDTest+ → test; one-hot + standard scaling (one-hot columns too) fitted on train:
//         122 columns, the usual NSL-KDD setup. Multi-class labels: normal / DoS / Probe / R2L / U2R.
//   unsw  UNSW-NB15 part-a, seeded stratified 70/30 split (by attack_cat); identifiers dropped; one-hot + standard
//         scaling fitted on the 70%. Multi-class labels: attack_cat.
//   cic   the 16 CIC-IDS2017 files, seeded stratified 70/30 split (by Label); identifiers dropped; Inf clipped to
//         the finite training range, NaN → training median; standard scaling. Multi-class labels: Label.
// Binary labels everywhere: classes ['normal', 'attack'] (code 1 = attack).
// writeForPython() writes the matrices as raw little-endian float32 (row-major) and the labels as int32, plus
// shape.json; in Python: numpy.fromfile(dir + '/X_train.f32', dtype='<f4').reshape(rows, cols).

import { mkdir, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { endianness } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { kddCategory } from '../../src/datasets/kdd-common.js';
import type { Frame } from '../../src/frame/frame.js';
import type { Labels } from '../../src/frame/labels.js';
import type { Matrix } from '../../src/frame/matrix.js';
import { stratifiedSplit } from '../../src/frame/splits.js';
import { Pipeline, type PipelineOptions } from '../../src/prep/pipeline.js';

export type BenchName = 'nsl' | 'unsw' | 'cic';
export const BENCH_NAMES: readonly BenchName[] = ['nsl', 'unsw', 'cic'];

export interface BenchLabels {
  /** classes ['normal', 'attack']. */
  readonly binary: Labels;
  /** Attack category (nsl) or attack name (unsw, cic); the same class list for train and test. */
  readonly multi: Labels;
}

export interface BenchData {
  readonly name: BenchName;
  readonly description: string;
  readonly train: Matrix;
  readonly test: Matrix;
  readonly yTrain: BenchLabels;
  readonly yTest: BenchLabels;
  /** The fitted preprocessing (dropped columns, imputation counts). */
  readonly pipeline: Pipeline;
  /** Seconds spent loading and preparing. */
  readonly prepareSeconds: number;
}

export interface BenchDataOptions {
  /** Folder holding nsl-kdd/, unsw-nb15/, cic-ids2017/ (default ../shared/datasets or FLOWSENTRY_DATASETS). */
  datasets?: string;
  /** Seed of the 70/30 splits (default 0). */
  seed?: number;
}

const NORMAL = /^(normal|benign)$/i;

function datasetsDir(options: BenchDataOptions): string {
  return resolve(options.datasets ?? process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets');
}

/** Per-row label text of the frame, mapped through `view`. */
function labelTexts(frame: Frame, view: (s: string) => string): string[] {
  const label = frame.label;
  if (!label) throw new Error(`${frame.source.files[0]}: no label column`);
  const mapped = label.dictionary.map(view);
  return Array.from(label.codes, (c) => (c < 0 ? '' : mapped[c]));
}

function labelsFor(texts: readonly string[], rows: ArrayLike<number> | undefined, multiClasses: readonly string[]): BenchLabels {
  const n = rows ? rows.length : texts.length;
  const index = new Map(multiClasses.map((c, i) => [c, i]));
  const binary = new Int32Array(n);
  const multi = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const t = texts[rows ? rows[r] : r];
    binary[r] = NORMAL.test(t) ? 0 : 1;
    multi[r] = index.get(t) as number;
  }
  return { binary: { codes: binary, classes: ['normal', 'attack'] }, multi: { codes: multi, classes: multiClasses } };
}

const sortedUnique = (texts: readonly string[]): string[] => [...new Set(texts)].sort();

async function prepareNsl(dir: string): Promise<Omit<BenchData, 'prepareSeconds'>> {
  const train = await loadDataset([join(dir, 'nsl-kdd/KDDTrain+.txt')]);
  const test = await loadDataset([join(dir, 'nsl-kdd/KDDTest+.txt')]);
  const category = (s: string): string => kddCategory(s);
  const trainTexts = labelTexts(train, category);
  const testTexts = labelTexts(test, category);
  const classes = sortedUnique([...trainTexts, ...testTexts]);
  const options: PipelineOptions = { scaler: 'standard', scaleOneHot: true, dropConstant: false, dropDuplicateColumns: false };
  const pipeline = Pipeline.fit(train, options);
  return {
    name: 'nsl',
    description: 'NSL-KDD: KDDTrain+ (train) / KDDTest+ (test), one-hot + standard scaling fitted on train',
    train: pipeline.transform(train),
    test: pipeline.transform(test),
    yTrain: labelsFor(trainTexts, undefined, classes),
    yTest: labelsFor(testTexts, undefined, classes),
    pipeline,
  };
}

async function prepareSplit(name: 'unsw' | 'cic', files: string[], description: string, seed: number): Promise<Omit<BenchData, 'prepareSeconds'>> {
  const frame = await loadDataset(files);
  const texts = labelTexts(frame, (s) => s.trim());
  const classes = sortedUnique(texts);
  const codes = Int32Array.from(texts, (t) => classes.indexOf(t));
  const split = stratifiedSplit(codes, 0.3, seed);
  const pipeline = Pipeline.fit(frame, { scaler: 'standard', impute: 'median', infinity: 'clip' }, split.train);
  return {
    name,
    description,
    train: pipeline.transform(frame, split.train),
    test: pipeline.transform(frame, split.test),
    yTrain: labelsFor(texts, split.train, classes),
    yTest: labelsFor(texts, split.test, classes),
    pipeline,
  };
}

const cache = new Map<string, Promise<BenchData>>();

/** Loads and prepares one benchmark dataset (cached per process). */
export function loadBenchData(name: BenchName, options: BenchDataOptions = {}): Promise<BenchData> {
  const dir = datasetsDir(options);
  const seed = options.seed ?? 0;
  const key = `${name}|${dir}|${seed}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = (async () => {
      const start = performance.now();
      let data: Omit<BenchData, 'prepareSeconds'>;
      if (name === 'nsl') data = await prepareNsl(dir);
      else if (name === 'unsw') {
        data = await prepareSplit('unsw', [join(dir, 'unsw-nb15/UNSW_NB15_part-a.csv')], `UNSW-NB15 part-a, stratified 70/30 (seed ${seed}), one-hot + standard scaling fitted on train`, seed);
      } else {
        const cicDir = join(dir, 'cic-ids2017');
        const files = readdirSync(cicDir)
          .filter((f) => f.endsWith('.csv'))
          .sort()
          .map((f) => join(cicDir, f));
        data = await prepareSplit('cic', files, `CIC-IDS2017 (${files.length} files), stratified 70/30 (seed ${seed}), Inf clipped, NaN → median, standard scaling fitted on train`, seed);
      }
      return { ...data, prepareSeconds: (performance.now() - start) / 1000 };
    })();
    cache.set(key, pending);
  }
  return pending;
}

function bytesOf(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Writes dir/X_train.f32, X_test.f32 (row-major float32), y_train_binary.i32, y_train_multi.i32, y_test_binary.i32,
 * y_test_multi.i32 (int32), all little-endian, and dir/shape.json with the sizes, column names and class names.
 */
export async function writeForPython(data: BenchData, dir: string): Promise<string> {
  if (endianness() !== 'LE') throw new Error('writeForPython writes native byte order and needs a little-endian machine');
  await mkdir(dir, { recursive: true });
  const files: Record<string, Float32Array | Int32Array> = {
    'X_train.f32': data.train.data,
    'X_test.f32': data.test.data,
    'y_train_binary.i32': data.yTrain.binary.codes,
    'y_train_multi.i32': data.yTrain.multi.codes,
    'y_test_binary.i32': data.yTest.binary.codes,
    'y_test_multi.i32': data.yTest.multi.codes,
  };
  for (const [file, array] of Object.entries(files)) await writeFile(join(dir, file), bytesOf(array));
  const shape = {
    name: data.name,
    description: data.description,
    rows_train: data.train.rows,
    rows_test: data.test.rows,
    cols: data.train.cols,
    columns: data.train.columns ?? [],
    classes_binary: data.yTrain.binary.classes,
    classes_multi: data.yTrain.multi.classes,
    dtype: { X: '<f4', y: '<i4' },
  };
  await writeFile(join(dir, 'shape.json'), JSON.stringify(shape, null, 2) + '\n');
  return dir;
}

// Hyper-parameter search (after sklearn's GridSearchCV / RandomizedSearchCV): candidates from each model's search
// space (ModelSpec.searchSpace, or one given), cross-validated together by src/eval/cross-validate.ts in parallel,
// ranked by the mean CV score of one metric. Grid takes every combination in order; random draws distinct
// combinations uniformly; both stop at the budget (per model), with seeded draws. Cost: budget × folds model fits.

import { UserError } from '../errors.js';
import type { ParamValue, Params } from '../models/estimator.js';
import { getModelSpec } from '../models/registry.js';
import { Rng } from '../util/rng.js';
import { evaluateCandidates, type Candidate, type CandidateResult, type CvData, type CvOptions, type CvResult } from './cross-validate.js';
import type { CvMetric } from './scoring.js';

export type SearchSpace = Readonly<Record<string, readonly ParamValue[]>>;

export interface SearchOptions extends CvOptions {
  /** 'grid' (default) or 'random'. */
  strategy?: 'grid' | 'random';
  /** Most candidates per model (default: the whole grid for 'grid', 20 for 'random'). */
  budget?: number;
  /** Ranks candidates (default 'f1'). */
  metric?: CvMetric;
  /** Per model: replaces its registered search space. */
  spaces?: Readonly<Record<string, SearchSpace>>;
  /** Per model: fixed params applied under every candidate. */
  baseParams?: Readonly<Record<string, Params>>;
}

export interface SearchResult extends CvResult {
  readonly metric: CvMetric;
  readonly strategy: 'grid' | 'random';
  /** Candidates sorted best first (failed and not-run candidates last). */
  readonly ranking: number[];
  readonly best: CandidateResult | undefined;
  /** Per model: how many combinations its space holds. */
  readonly spaceSizes: Record<string, number>;
}

/** Number of combinations in a space. */
export function spaceSize(space: SearchSpace): number {
  return Object.values(space).reduce((n, values) => n * Math.max(1, values.length), 1);
}

/** The combination with this index (mixed radix, first key varying slowest, as sklearn's ParameterGrid). */
function combination(space: SearchSpace, index: number): Params {
  const keys = Object.keys(space).sort();
  const out: Params = {};
  for (let j = keys.length - 1; j >= 0; j--) {
    const values = space[keys[j]];
    if (values.length === 0) continue;
    out[keys[j]] = values[index % values.length];
    index = Math.floor(index / values.length);
  }
  return Object.fromEntries(keys.filter((k) => k in out).map((k) => [k, out[k]]));
}

/** Every combination in grid order, or `budget` of them spread by a seeded draw (kept in grid order). */
export function gridCandidates(space: SearchSpace, budget?: number, seed = 0): Params[] {
  const size = spaceSize(space);
  if (budget === undefined || budget >= size) return Array.from({ length: size }, (_, i) => combination(space, i));
  return drawIndices(size, budget, seed)
    .sort((a, b) => a - b)
    .map((i) => combination(space, i));
}

/** `budget` distinct combinations drawn uniformly (all of them, shuffled, when the space is smaller). */
export function randomCandidates(space: SearchSpace, budget: number, seed = 0): Params[] {
  return drawIndices(spaceSize(space), budget, seed).map((i) => combination(space, i));
}

function drawIndices(size: number, budget: number, seed: number): number[] {
  const rng = new Rng(seed);
  if (budget >= size) return rng.shuffle(Array.from({ length: size }, (_, i) => i));
  const chosen = new Set<number>();
  while (chosen.size < budget) chosen.add(rng.int(size));
  return [...chosen];
}

/** Searches hyper-parameters of each model and ranks all candidates by one CV metric. */
export async function search(data: CvData, models: readonly string[], options: SearchOptions = {}): Promise<SearchResult> {
  const strategy = options.strategy ?? 'grid';
  const metric = options.metric ?? 'f1';
  if (options.budget !== undefined && !(Number.isInteger(options.budget) && options.budget >= 1)) {
    throw new UserError(`the search budget must be a positive integer, got ${options.budget}`);
  }
  const candidates: Candidate[] = [];
  const spaceSizes: Record<string, number> = {};
  models.forEach((model, m) => {
    const spec = getModelSpec(model);
    const space = options.spaces?.[model] ?? spec.searchSpace;
    for (const key of Object.keys(space)) {
      if (!(key in spec.create().params)) throw new UserError(`${model} has no parameter '${key}'; its parameters: ${Object.keys(spec.create().params).join(', ')}`);
    }
    spaceSizes[model] = spaceSize(space);
    const seed = (options.seed ?? 0) + 7919 * (m + 1);
    const drawn = strategy === 'grid' ? gridCandidates(space, options.budget, seed) : randomCandidates(space, options.budget ?? 20, seed);
    for (const params of drawn) candidates.push({ model, params: { ...options.baseParams?.[model], ...params } });
  });
  const metrics = options.metrics ?? undefined;
  const result = await evaluateCandidates(data, candidates, { ...options, metrics: metrics && !metrics.includes(metric) ? [metric, ...metrics] : metrics });
  const score = (c: CandidateResult): number => (c.error === undefined && c.foldsDone > 0 ? c.cv[metric].mean : Number.NaN);
  const ranking = result.candidates
    .map((_, i) => i)
    .sort((a, b) => {
      const sa = score(result.candidates[a]);
      const sb = score(result.candidates[b]);
      if (Number.isNaN(sa) !== Number.isNaN(sb)) return Number.isNaN(sa) ? 1 : -1;
      return (Number.isNaN(sa) ? 0 : sb - sa) || a - b;
    });
  const bestIndex = ranking.find((i) => !Number.isNaN(score(result.candidates[i])));
  return { ...result, metric, strategy, ranking, best: bestIndex === undefined ? undefined : result.candidates[bestIndex], spaceSizes };
}

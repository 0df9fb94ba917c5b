// The model registry: the names the CLI and model file use (knn, dt, rf, gbdt, logreg, svm, mlp, iforest, lof,
// kmeans, dbscan, autoencoder, hbos, hst, hybrid) mapped to their specs. Each model file exports one `spec`.

import { UserError } from '../errors.js';
import type { Estimator, ModelState, ParamValue, Params } from './estimator.js';

export interface ModelSpec<E extends Estimator = Estimator> {
  readonly name: string;
  readonly kind: E['kind'];
  /** One line for `--help` and the report, naming the method. */
  readonly title: string;
  create(params?: Params): E;
  fromState(state: ModelState): E;
  /** Values tried by `train --tune grid|random`. */
  readonly searchSpace: Readonly<Record<string, readonly ParamValue[]>>;
  /** Small, quick params used by the conformance suite (e.g. few trees). */
  readonly testParams?: Params;
  /** Params `train` adds to the final fit, unless given, so that the model records its training curve for the report. */
  readonly curveParams?: Params;
}

const specs: ModelSpec[] = [];

export function registerModel(spec: ModelSpec): void {
  if (specs.some((s) => s.name === spec.name)) throw new Error(`model ${spec.name} registered twice`);
  specs.push(spec);
}

export function listModels(kind?: Estimator['kind']): readonly ModelSpec[] {
  return kind ? specs.filter((s) => s.kind === kind) : specs;
}

export function getModelSpec(name: string): ModelSpec {
  const spec = specs.find((s) => s.name === name);
  if (!spec) throw new UserError(`unknown model '${name}'; valid models: ${specs.map((s) => s.name).join(', ')}`);
  return spec;
}

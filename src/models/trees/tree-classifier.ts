// What the tree classifiers (dt, rf, gbdt) share: the fitted forest in flat arrays, impurity/gain importances,
// argmax prediction from predictProba, and the saved form of those.

import type { Matrix } from '../../frame/matrix.js';
import { argmaxLabels, type Labels } from '../../frame/labels.js';
import type { ModelState } from '../estimator.js';
import { forestFromState, forestState, type FlatForest } from './flat-tree.js';
import { notFitted } from './common.js';

export abstract class TreeClassifier {
  readonly kind = 'classifier' as const;
  abstract readonly name: string;
  classes: readonly string[] = [];
  nFeatures: number | undefined;
  protected forest: FlatForest | undefined;
  protected importances: Float64Array = new Float64Array(0);

  abstract predictProba(X: Matrix): Promise<Matrix>;

  async predict(X: Matrix): Promise<Labels> {
    return argmaxLabels(await this.predictProba(X), this.classes);
  }

  featureImportances(): Float64Array {
    this.fitted();
    return Float64Array.from(this.importances);
  }

  protected fitted(): FlatForest {
    if (!this.forest) throw notFitted(this.name);
    return this.forest;
  }

  protected treeState(): ModelState {
    return { classes: [...this.classes], nFeatures: this.nFeatures ?? 0, forest: forestState(this.fitted()), importances: this.importances };
  }

  protected restoreTreeState(state: ModelState): void {
    this.classes = state.classes as string[];
    this.nFeatures = state.nFeatures as number;
    this.forest = forestFromState(state.forest as ModelState);
    this.importances = state.importances as Float64Array;
  }
}

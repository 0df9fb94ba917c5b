// What logistic regression and the linear SVM share: a weight matrix (cols × outputs, input-major) plus one
// intercept per output, the decision function X·W + b, and the saved form of both.

import { checkInput, type Matrix } from '../frame/matrix.js';
import type { ModelState, TrainingHistory } from './estimator.js';
import { linearScores } from './nn/linear-algebra.js';

export abstract class LinearClassifier {
  readonly kind = 'classifier' as const;
  abstract readonly name: string;
  nFeatures: number | undefined;
  classes: readonly string[] = [];
  /** cols × outputs, input-major. */
  coef: Float64Array = new Float64Array(0);
  intercept: Float64Array = new Float64Array(0);
  /** Iterations (logreg) or epochs of the longest-running problem (svm). */
  nIter = 0;
  history: TrainingHistory | undefined;

  /** Columns of the decision function: 1 for a binary problem, else one per class. */
  protected abstract get outputs(): number;

  /** Raw decision values, rows × outputs. */
  decisionFunction(X: Matrix): Float64Array {
    checkInput(X, this.nFeatures, this.name);
    return linearScores(X, this.coef, this.intercept, this.outputs);
  }

  protected linearState(): ModelState {
    return {
      classes: [...this.classes],
      nFeatures: this.nFeatures ?? null,
      coef: this.coef,
      intercept: this.intercept,
      nIter: this.nIter,
      history: this.history ? { unit: this.history.unit, series: this.history.series } : null,
    };
  }

  protected restoreLinearState(state: ModelState): void {
    this.classes = state.classes as string[];
    this.nFeatures = state.nFeatures as number;
    this.coef = state.coef as Float64Array;
    this.intercept = state.intercept as Float64Array;
    this.nIter = state.nIter as number;
    this.history = (state.history as TrainingHistory | null) ?? undefined;
  }
}

// Cross-entropy loss with scikit-learn 1.2 semantics (sklearn.metrics.log_loss with labels=0..k-1): probabilities
// clipped to [eps, 1 − eps] with eps the machine epsilon of the input's float type, rows renormalised, mean of
// −log p(true class). O(n·k).

/**
 * `proba` is row-major rows × k (column j = class code j). Pass a Float32Array to get float32's epsilon, as sklearn
 * does for float32 input.
 */
export function logLoss(yTrue: ArrayLike<number>, proba: Float32Array | Float64Array | readonly number[], k: number, eps?: number): number {
  const n = yTrue.length;
  if (proba.length !== n * k) throw new Error(`probabilities have ${proba.length} values, expected ${n} rows × ${k} classes`);
  if (k < 2) throw new Error('log loss needs at least two classes');
  const e = eps ?? (proba instanceof Float32Array ? 2 ** -23 : 2 ** -52);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let j = 0; j < k; j++) rowSum += Math.min(Math.max(proba[i * k + j], e), 1 - e);
    const p = Math.min(Math.max(proba[i * k + yTrue[i]], e), 1 - e) / rowSum;
    total -= Math.log(p);
  }
  return n === 0 ? 0 : total / n;
}

// Adam (Kingma & Ba 2015), with the bias correction folded into the step size as scikit-learn's MLP does:
//   lr_t = lr · √(1 − β2ᵗ) / (1 − β1ᵗ),  θ −= lr_t · m / (√v + ε).  O(parameters) per step.

export class Adam {
  /** First and second moments per parameter array (the constructor's order). */
  readonly m: Float64Array[];
  readonly v: Float64Array[];
  /** Steps taken. */
  t = 0;

  /**
   * `storage` (2 × the parameters' total length, zeros), when given, holds the moments: m of every array, then v (so
   * another thread can read them from a SharedArrayBuffer).
   */
  constructor(
    shapes: readonly Float64Array[],
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
    storage?: Float64Array,
  ) {
    const total = shapes.reduce((sum, p) => sum + p.length, 0);
    const moments = storage ?? new Float64Array(2 * total);
    let at = 0;
    const carve = (n: number): Float64Array => moments.subarray(at, (at += n));
    this.m = shapes.map((p) => carve(p.length));
    this.v = shapes.map((p) => carve(p.length));
  }

  /** Applies one update of every parameter array from its gradient (same order as the constructor's shapes). */
  step(params: readonly Float64Array[], grads: readonly Float64Array[]): void {
    this.t++;
    const { beta1, beta2, epsilon } = this;
    const lr = (this.learningRate * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    for (let k = 0; k < params.length; k++) {
      const p = params[k];
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = beta1 * m[i] + (1 - beta1) * gi;
        const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= (lr * mi) / (Math.sqrt(vi) + epsilon);
      }
    }
  }
}

// Limited-memory BFGS (Liu & Nocedal 1989; two-loop recursion, Nocedal & Wright 2006, Alg. 7.4) with a backtracking
// Armijo line search, for smooth convex objectives (logistic regression). Stops like scipy's L-BFGS-B as used by
// scikit-learn: max |gradient| ≤ gtol, or relative decrease of f ≤ ftol, or maxIter iterations.
// Cost per iteration: one or a few objective evaluations plus O(memory · n).

export interface LbfgsOptions {
  maxIter: number;
  /** Stop when max_i |g_i| ≤ gtol. */
  gtol: number;
  /** Stop when (f_prev − f) / max(|f_prev|, |f|, 1) ≤ ftol (scipy's factr·eps = 1e7 · 2.2e-16). */
  ftol?: number;
  memory?: number;
  /** Called after each accepted step with the iteration number (1-based) and objective value. */
  onIteration?: (iteration: number, f: number) => void;
  signal?: AbortSignal;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

/** `objective(x, grad)` returns f(x) and writes ∇f(x) into grad. The last call is always at the returned x. */
export function minimizeLbfgs(objective: (x: Float64Array, grad: Float64Array) => number, x0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const n = x0.length;
  const m = options.memory ?? 10;
  const ftol = options.ftol ?? 1e7 * 2.220446049250313e-16;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = objective(x, g);
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  let stored = 0;
  let head = 0;
  if (maxAbs(g) <= options.gtol) return { x, f, iterations: 0, converged: true };
  for (let iter = 1; iter <= options.maxIter; iter++) {
    if (options.signal?.aborted) throw new Error('aborted');
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let s = 0; s < stored; s++) {
      const k = (head - 1 - s + m) % m;
      alpha[k] = rho[k] * dot(S[k], d);
      axpy(-alpha[k], Y[k], d);
    }
    if (stored > 0) {
      const k = (head - 1 + m) % m;
      scale(d, dot(S[k], Y[k]) / dot(Y[k], Y[k]));
    } else {
      scale(d, 1 / Math.max(1e-12, Math.sqrt(dot(g, g))));
    }
    for (let s = stored - 1; s >= 0; s--) {
      const k = (head - 1 - s + m) % m;
      const beta = rho[k] * dot(Y[k], d);
      axpy(alpha[k] - beta, S[k], d);
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      stored = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i] / Math.max(1e-12, Math.sqrt(dot(g, g)));
      slope = dot(g, d);
    }
    let step = 1;
    let fNew = f;
    let accepted = false;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      fNew = objective(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      objective(x, g);
      return { x, f, iterations: iter, converged: false };
    }
    const sk = S[head];
    const yk = Y[head];
    for (let i = 0; i < n; i++) {
      sk[i] = xNew[i] - x[i];
      yk[i] = gNew[i] - g[i];
    }
    const sy = dot(sk, yk);
    if (sy > 1e-10 * dot(yk, yk)) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(m, stored + 1);
    }
    const fPrev = f;
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    options.onIteration?.(iter, f);
    if (maxAbs(g) <= options.gtol) return { x, f, iterations: iter, converged: true };
    if ((fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1) <= ftol) return { x, f, iterations: iter, converged: true };
  }
  return { x, f, iterations: options.maxIter, converged: false };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
}

function scale(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= a;
}

function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]);
    if (v > m) m = v;
  }
  return m;
}

// Imputation of NaN and ±Infinity for one numeric column (after sklearn's SimpleImputer, with an explicit policy for
// infinities, which flow exporters write for rates over zero-length flows). Statistics come from the finite training
// values only. Median: numpy's median (mean of the two middle values for an even count), found by quickselect
// (Hoare's FIND) in O(n) expected time.

export type ImputeStrategy = 'median' | 'mean' | 'zero';
/** 'missing': ±Infinity is imputed like NaN; 'clip': +Infinity becomes the column's finite maximum, −Infinity its minimum. */
export type InfinityPolicy = 'missing' | 'clip';

export interface ImputerFit {
  /** Replaces NaN (and ±Infinity under 'missing'). */
  readonly fill: number;
  readonly posInf: number;
  readonly negInf: number;
  /** Counts seen in the training rows. */
  readonly nanCount: number;
  readonly posInfCount: number;
  readonly negInfCount: number;
}

export function fitImputer(values: Float64Array, strategy: ImputeStrategy, infinity: InfinityPolicy): ImputerFit {
  const finite = new Float64Array(values.length);
  let nanCount = 0;
  let posInfCount = 0;
  let finiteCount = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v === 0) {
      finite[finiteCount++] = v;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    } else if (v !== v) nanCount++;
    else if (v > 0) posInfCount++;
  }
  const negInfCount = values.length - finiteCount - nanCount - posInfCount;
  let fill = 0;
  if (finiteCount > 0 && strategy === 'mean') fill = sum / finiteCount;
  else if (finiteCount > 0 && strategy === 'median') {
    const observed = finite.subarray(0, finiteCount);
    const mid = finiteCount >> 1;
    const upper = select(observed, mid);
    fill = finiteCount % 2 === 1 ? upper : (maxBelow(observed, mid) + upper) / 2;
  }
  const clip = infinity === 'clip' && finiteCount > 0;
  return { fill, posInf: clip ? max : fill, negInf: clip ? min : fill, nanCount, posInfCount, negInfCount };
}

/** Replaces NaN and ±Infinity in place. */
export function applyImputer(values: Float64Array, fit: Pick<ImputerFit, 'fill' | 'posInf' | 'negInf'>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) values[i] = fit.fill;
    else if (v === Number.POSITIVE_INFINITY) values[i] = fit.posInf;
    else if (v === Number.NEGATIVE_INFINITY) values[i] = fit.negInf;
  }
}

/** The k-th smallest value (0-based); reorders `a` so that a[0..k) ≤ a[k] ≤ a(k..n). */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = median3(a[lo], a[(lo + hi) >> 1], a[hi]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

function median3(a: number, b: number, c: number): number {
  return a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
}

/** Largest of a[0..k) (after select(a, k)). */
function maxBelow(a: Float64Array, k: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < k; i++) if (a[i] > m) m = a[i];
  return m;
}

// Imputation of NaN and ±Infinity for one numeric column (after sklearn's SimpleImputer, with an explicit policy for
// infinities, which flow exporters write for rates over zero-length flows). Statistics come from the finite training
// values only. Median: numpy's median (mean of the two middle values for an even count). O(n log n) for the median.

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
  let nanCount = 0;
  let posInfCount = 0;
  let negInfCount = 0;
  let finiteCount = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) nanCount++;
    else if (v === Number.POSITIVE_INFINITY) posInfCount++;
    else if (v === Number.NEGATIVE_INFINITY) negInfCount++;
    else {
      finiteCount++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  let fill = 0;
  if (finiteCount > 0 && strategy === 'mean') fill = sum / finiteCount;
  else if (finiteCount > 0 && strategy === 'median') {
    const finite = new Float64Array(finiteCount);
    let j = 0;
    for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite[j++] = values[i];
    finite.sort();
    const mid = finiteCount >> 1;
    fill = finiteCount % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
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

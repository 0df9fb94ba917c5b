// Robust scaling (sklearn's RobustScaler, quantile_range=(25, 75)): (x − median) / (q75 − q25), quantiles by
// numpy's linear interpolation; a zero inter-quartile range keeps scale 1. O(n log n) (sort).

import type { Scaling } from './scaling.js';

/** numpy.percentile(sorted, 100·q) with the default 'linear' method. */
export function quantileOfSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function fitRobustScaler(values: Float64Array): Scaling {
  if (values.length === 0) return { center: 0, scale: 1 };
  const sorted = Float64Array.from(values).sort();
  const iqr = quantileOfSorted(sorted, 0.75) - quantileOfSorted(sorted, 0.25);
  return { center: quantileOfSorted(sorted, 0.5), scale: iqr === 0 ? 1 : iqr };
}

// Robust scaling (sklearn's RobustScaler, quantile_range=(25, 75)): (x − median) / (q75 − q25), quantiles by
// numpy's linear interpolation; a zero inter-quartile range keeps scale 1. O(n log n) (sort).

import type { Scaling } from './scaling.js';
import { quantileSorted } from '../util/quantile.js';

export function fitRobustScaler(values: Float64Array): Scaling {
  if (values.length === 0) return { center: 0, scale: 1 };
  const sorted = Float64Array.from(values).sort();
  const iqr = quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25);
  return { center: quantileSorted(sorted, 0.5), scale: iqr === 0 ? 1 : iqr };
}

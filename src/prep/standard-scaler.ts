// Standard scaling (sklearn's StandardScaler): (x − mean) / std with the population standard deviation (ddof 0),
// two-pass with a rounding correction; a constant column keeps scale 1 (sklearn's _is_constant_feature bound). O(n).

import type { Scaling } from './scaling.js';

export function fitStandardScaler(values: Float64Array): Scaling {
  const n = values.length;
  if (n === 0) return { center: 0, scale: 1 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let squares = 0;
  let correction = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    squares += d * d;
    correction += d;
  }
  const variance = (squares - (correction * correction) / n) / n;
  const eps = Number.EPSILON;
  const constant = variance <= n * eps * variance + (n * mean * eps) ** 2;
  return { center: mean, scale: constant ? 1 : Math.sqrt(variance) };
}

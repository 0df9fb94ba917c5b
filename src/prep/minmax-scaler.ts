// Min-max scaling to [0, 1] (sklearn's MinMaxScaler with feature_range=(0, 1)): (x − min) / (max − min); a column
// with max = min keeps scale 1. O(n).

import type { Scaling } from './scaling.js';

export function fitMinMaxScaler(values: Float64Array): Scaling {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  if (values.length === 0) return { center: 0, scale: 1 };
  const range = max - min;
  return { center: min, scale: range === 0 ? 1 : range };
}

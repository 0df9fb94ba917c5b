// log(1 + x) for non-negative heavy-tailed counts (bytes, packets, durations), which otherwise span many orders of
// magnitude and swamp distance-based models. Applied only to columns that are non-negative on the training rows;
// at transform time a negative value is clamped to 0 first. O(n).

/** True when every training value is ≥ 0 (the column qualifies for log1p). */
export function isNonNegative(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] < 0) return false;
  return true;
}

export function applyLog1p(values: Float64Array): void {
  for (let i = 0; i < values.length; i++) values[i] = Math.log1p(values[i] > 0 ? values[i] : 0);
}

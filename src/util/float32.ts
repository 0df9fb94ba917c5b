// Float32 values as text: the shortest decimal that reads back as the same float32.

/** The shortest decimal that reads back as the same float32 (39.2, not 39.200001); other values unchanged. */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || Number.isInteger(v)) return v;
  for (let p = 6; p < 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

// One-hot encoding of a categorical column (sklearn's OneHotEncoder with handle_unknown='ignore'): one output
// column per category seen in the training rows, sorted as sklearn sorts them; a category not seen in training
// (and a missing value) encodes as all zeros instead of failing. O(n) per column.

/** Sorted categories present in the given rows (all rows when `rows` is absent). */
export function fitOneHot(codes: Int32Array, dictionary: readonly string[], rows?: ArrayLike<number>): string[] {
  const seen = new Uint8Array(dictionary.length);
  const n = rows ? rows.length : codes.length;
  for (let r = 0; r < n; r++) {
    const c = codes[rows ? rows[r] : r];
    if (c >= 0) seen[c] = 1;
  }
  const categories: string[] = [];
  for (let c = 0; c < dictionary.length; c++) if (seen[c]) categories.push(dictionary[c]);
  return [...new Set(categories)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** For a column's dictionary, the output slot of each code (−1: unseen in training → all zeros). */
export function oneHotSlots(categories: readonly string[], dictionary: readonly string[]): Int32Array {
  const slotOf = new Map(categories.map((c, i) => [c, i]));
  return Int32Array.from(dictionary, (d) => slotOf.get(d) ?? -1);
}

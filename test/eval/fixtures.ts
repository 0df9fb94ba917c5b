// Loads the committed scikit-learn fixtures (test/fixtures/sklearn/*.json) from the compiled tests in dist/test.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../test/fixtures/sklearn/', import.meta.url));

/** Fixture JSON with the strings "NaN", "Infinity" and "-Infinity" decoded back to numbers. */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(root + name, 'utf8'), (_key, v: unknown) => {
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
    return v;
  }) as T;
}

/** Asserts |a − b| ≤ tol element-wise (NaN equals NaN), naming the first difference. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) throw new Error(`${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}

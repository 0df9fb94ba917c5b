// Parses hidden layer sizes given as a scalar parameter: 100, "100", "128,64" or "64 16 64". O(length).

import { ParameterError } from '../../errors.js';
import type { ParamValue } from '../estimator.js';

export function parseLayerSizes(model: string, param: string, value: ParamValue): number[] {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  const parts = text.split(/[\s,]+/).filter((p) => p.length > 0);
  const sizes = parts.map(Number);
  if (parts.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 65536)) {
    throw new ParameterError(model, param, value, 'one or more integers in [1, 65536] separated by commas, e.g. "100" or "128,64"');
  }
  return sizes;
}

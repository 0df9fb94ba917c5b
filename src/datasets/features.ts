// Feature lookup by name across dataset layouts: CIC columns match by canonical CICFlowMeter name (any alias), other
// formats by exact name, then by a case- and punctuation-insensitive key. Used by prep to line up a model's feature
// list with a frame loaded from another layout.

import { UserError } from '../errors.js';
import type { Column, Frame } from '../frame/frame.js';
import { canonicalFeatureName } from './cic-names.js';
import { nameKey } from './schema.js';

/** Names of the feature columns, in frame order. */
export function featureNames(frame: Frame): string[] {
  return frame.features.map((c) => c.name);
}

/** The feature column with this name (canonical CIC name, alias, or plain name), or undefined. */
export function findFeature(frame: Frame, name: string): Column | undefined {
  const exact = frame.features.find((c) => c.name === name);
  if (exact) return exact;
  const canonical = canonicalFeatureName(name);
  const byCanonical = frame.features.find((c) => canonicalFeatureName(c.name) === canonical);
  if (byCanonical) return byCanonical;
  const key = nameKey(name);
  return frame.features.find((c) => nameKey(c.name) === key);
}

/**
 * The feature columns for a list of names (e.g. the features a model was trained on), in that order. A missing
 * name is a user error listing all missing ones.
 */
export function featureColumns(frame: Frame, names: readonly string[]): Column[] {
  const found = names.map((n) => findFeature(frame, n));
  const missing = names.filter((_, i) => found[i] === undefined);
  if (missing.length > 0) {
    throw new UserError(`${frame.source.files.join(', ')}: missing feature columns ${missing.map((n) => `'${n}'`).join(', ')}`);
  }
  return found as Column[];
}

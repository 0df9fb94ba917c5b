// KDD Cup 1999 (UCI KDD Archive; DARPA 1998 data): headerless CSV, 42 columns: the 41 features of kddcup.names and
// the attack name with a trailing dot ('smurf.'), which is removed on loading.

import { kddCategory, kddPlan, looksLikeKdd } from './kdd-common.js';
import type { DatasetFormat } from './schema.js';

export const kdd99: DatasetFormat = {
  name: 'kdd99',
  title: "KDD Cup'99",
  detect: (peek) => (looksLikeKdd(peek, 42) ? (peek.records[0][41].endsWith('.') ? 1 : 0.8) : 0),
  plan: () => ({ hasHeader: false, columns: kddPlan(false) }),
  normaliseLabel: (label) => label.trim().replace(/\.$/, ''),
  isNormal: (label) => label === 'normal',
  categoryOf: kddCategory,
};

// NSL-KDD (Tavallaee et al., IEEE CISDA 2009): headerless CSV, 43 columns: the 41 KDD features, the attack name
// (or 'normal') and the difficulty level (0-21, how many of 21 learners got the record right; label-side metadata).

import { kddCategory, kddPlan, looksLikeKdd } from './kdd-common.js';
import type { DatasetFormat } from './schema.js';

export const nslKdd: DatasetFormat = {
  name: 'nsl-kdd',
  title: 'NSL-KDD',
  detect: (peek) => (looksLikeKdd(peek, 43) && /^\d+$/.test(peek.records[0][42]) ? 1 : 0),
  plan: () => ({ hasHeader: false, columns: kddPlan(true) }),
  normaliseLabel: (label) => label.trim().replace(/\.$/, ''),
  isNormal: (label) => label === 'normal',
  categoryOf: kddCategory,
};

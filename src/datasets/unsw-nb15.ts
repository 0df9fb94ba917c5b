// UNSW-NB15 (Moustafa & Slay, MilCIS 2015), the training/testing partition CSVs: a header with a UTF-8 BOM, 45
// columns: row `id`, 39 flow features (proto, service and state are text), `attack_cat` (Normal or one of nine attack
// categories) and `label` (0 normal, 1 attack). '-' means "none" (no service identified): in a text column it is the
// category 'none', in a numeric column a missing value. The raw-file names for addresses, ports and times (srcip,
// sport, dstip, dsport, stime, ltime) are identifiers when present.

import { looksNumeric, nameKey, sampleRows, type ColumnPlan, type DatasetFormat } from './schema.js';

const IDENTIFIERS = new Set(['id', 'srcip', 'sport', 'dstip', 'dsport', 'stime', 'ltime']);
const TEXT_FEATURES = new Set(['proto', 'service', 'state']);
/** Old spellings in the raw UNSW-NB15 files. */
const CATEGORY_SPELLING: Readonly<Record<string, string>> = { Backdoors: 'Backdoor', '': 'Normal' };

export const unswNb15: DatasetFormat = {
  name: 'unsw-nb15',
  title: 'UNSW-NB15',
  missing: ['-'],
  detect(peek) {
    const header = new Set((peek.records[0] ?? []).map(nameKey));
    return header.has('attackcat') && header.has('sttl') && header.has('label') ? 1 : 0;
  },
  plan(peek) {
    const header = peek.records[0] ?? [];
    const sample = sampleRows(peek);
    const columns: ColumnPlan[] = header.map((fileName, i) => {
      const name = fileName.trim();
      const key = name.toLowerCase();
      if (key === 'attack_cat') return { name, fileName, role: 'category', kind: 'categorical' };
      if (key === 'label') return { name, fileName, role: 'meta', kind: 'numeric' };
      const numeric = !TEXT_FEATURES.has(key) && looksNumeric(sample.map((r) => r[i] ?? ''));
      if (IDENTIFIERS.has(key)) return { name, fileName, role: 'identifier', kind: numeric ? 'numeric' : 'categorical' };
      return { name, fileName, role: 'feature', kind: numeric ? 'numeric' : 'categorical' };
    });
    return { hasHeader: true, columns };
  },
  normaliseLabel: (label) => CATEGORY_SPELLING[label.trim()] ?? label.trim(),
  normaliseCategory: (category) => CATEGORY_SPELLING[category.trim()] ?? category.trim(),
  featureText: (value) => (value === '-' ? 'none' : value),
  isNormal: (label) => label.toLowerCase() === 'normal',
  categoryOf: (label) => (label.toLowerCase() === 'normal' ? 'normal' : label),
};

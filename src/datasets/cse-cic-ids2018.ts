// CSE-CIC-IDS2018 (Sharafaldin et al.; AWS release): day CSVs written by CICFlowMeter-V3 with abbreviated names
// ('Dst Port', 'Tot Fwd Pkts', 'Flow Byts/s', 'Init Fwd Win Byts', ...), 80 columns (84 with Flow ID and addresses in
// the Tuesday-20-02 file), and copies of the header row repeated inside some files (skipped and counted by the reader).

import { CIC_FEATURES, CIC_IDENTIFIERS } from './cic-names.js';
import { CIC_FAMILY, CIC_SAMPLE_RECORDS, cicFamily, cicHeaderMatches, cicLabel, cicPlan, isCicBenign } from './cic-common.js';
import type { DatasetFormat } from './schema.js';

const KNOWN = new Set([...CIC_FEATURES, ...CIC_IDENTIFIERS]);

export const cseCicIds2018: DatasetFormat = {
  name: 'cse-cic-ids2018',
  title: 'CSE-CIC-IDS2018',
  multiFile: true,
  family: CIC_FAMILY,
  sampleRecords: CIC_SAMPLE_RECORDS,
  detect(peek) {
    const header = peek.records[0] ?? [];
    if (!header.some((h) => h.trim() === 'Tot Fwd Pkts')) return 0;
    return cicHeaderMatches(peek, KNOWN) >= 40 ? 1 : 0;
  },
  plan: (peek) => ({ hasHeader: true, columns: cicPlan(peek) }),
  normaliseLabel: cicLabel,
  isNormal: isCicBenign,
  categoryOf: cicFamily,
};

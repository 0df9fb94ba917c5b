// CIC-IDS2017 (Sharafaldin et al., ICISSP 2018) in its two CSV layouts:
//   - the original MachineLearningCVE files (78 features, names with leading spaces, ' Fwd Header Length' written
//     twice, ' Label') and the TrafficLabelling files (the same plus Flow ID, addresses, ports, Timestamp);
//   - the corrected re-extraction of Engelen et al. (IEEE SPW 2021): 91 columns with CICFlowMeter-V4 names, a row
//     `id`, `Label` and `Attempted Category`.
// Columns take their canonical CICFlowMeter names, so a model trained on one layout scores the other.

import { CIC_FEATURES, CIC_IDENTIFIERS } from './cic-names.js';
import { CIC_FAMILY, CIC_SAMPLE_RECORDS, cicFamily, cicHeaderMatches, cicLabel, cicPlan, isCicBenign } from './cic-common.js';
import type { DatasetFormat } from './schema.js';

const KNOWN = new Set([...CIC_FEATURES, ...CIC_IDENTIFIERS]);

function abbreviated(header: readonly string[]): boolean {
  return header.some((h) => h.trim() === 'Tot Fwd Pkts');
}

export const cicIds2017: DatasetFormat = {
  name: 'cic-ids2017',
  title: 'CIC-IDS2017',
  multiFile: true,
  family: CIC_FAMILY,
  // Features are numbers by the schema; only identifiers and columns it does not know are typed from the data.
  sampleRecords: CIC_SAMPLE_RECORDS,
  detect(peek) {
    const header = peek.records[0] ?? [];
    if (abbreviated(header) || !header.some((h) => h.trim() === 'Label')) return 0;
    return cicHeaderMatches(peek, KNOWN) >= 40 ? 1 : 0;
  },
  plan(peek) {
    const header = (peek.records[0] ?? []).map((h) => h.trim());
    const variant = header.includes('Total Fwd Packet') ? 'corrected' : header.includes('Flow ID') ? 'TrafficLabelling' : 'MachineLearningCVE';
    return { hasHeader: true, columns: cicPlan(peek), variant };
  },
  normaliseLabel: cicLabel,
  isNormal: isCicBenign,
  categoryOf: cicFamily,
};

// CICFlowMeter feature names and the one alias map for every CIC naming variant.
//
// Canonical names are those CICFlowMeter-V4 writes (FlowFeature enum of ahlashkari/CICFlowMeter), plus the columns
// the corrected extractor of Engelen et al. (IEEE SPW 2021) adds: Fwd/Bwd RST Flags, ICMP Code, ICMP Type and
// Total TCP Flow Time. This is also the layout of ../shared/datasets/cic-ids2017. Aliases cover
//   (a) the original CIC-IDS2017 MachineLearningCVE / TrafficLabelling CSVs (leading spaces, 'Total Fwd Packets',
//       'Init_Win_bytes_forward', 'CWE Flag Count', the duplicated ' Fwd Header Length' that pandas calls
//       'Fwd Header Length.1');
//   (b) CSE-CIC-IDS2018 abbreviations ('Tot Fwd Pkts', 'Flow Byts/s', 'Init Fwd Win Byts', ...);
//   (c) the snake_case names of the Python `cicflowmeter` package ('tot_fwd_pkts', 'flow_byts_s', ...), which
//       fall out of the key normalisation below for free.
// Lookup is O(1): names are keyed by lower case with everything but letters and digits removed.

/** Identifier columns CICFlowMeter writes; never features unless the user keeps them (leakage trap). */
export const CIC_IDENTIFIERS: readonly string[] = ['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Timestamp'];

/** The label column. */
export const CIC_LABEL = 'Label';

/**
 * Canonical feature names in CICFlowMeter output order, identifiers and label excluded. The original 2017 release
 * lacks Protocol, Fwd/Bwd RST Flags, ICMP Code, ICMP Type and Total TCP Flow Time; CSE-CIC-IDS2018 lacks the last five.
 */
export const CIC_FEATURES: readonly string[] = [
  'Dst Port',
  'Protocol',
  'Flow Duration',
  'Total Fwd Packet',
  'Total Bwd packets',
  'Total Length of Fwd Packet',
  'Total Length of Bwd Packet',
  'Fwd Packet Length Max',
  'Fwd Packet Length Min',
  'Fwd Packet Length Mean',
  'Fwd Packet Length Std',
  'Bwd Packet Length Max',
  'Bwd Packet Length Min',
  'Bwd Packet Length Mean',
  'Bwd Packet Length Std',
  'Flow Bytes/s',
  'Flow Packets/s',
  'Flow IAT Mean',
  'Flow IAT Std',
  'Flow IAT Max',
  'Flow IAT Min',
  'Fwd IAT Total',
  'Fwd IAT Mean',
  'Fwd IAT Std',
  'Fwd IAT Max',
  'Fwd IAT Min',
  'Bwd IAT Total',
  'Bwd IAT Mean',
  'Bwd IAT Std',
  'Bwd IAT Max',
  'Bwd IAT Min',
  'Fwd PSH Flags',
  'Bwd PSH Flags',
  'Fwd URG Flags',
  'Bwd URG Flags',
  'Fwd RST Flags',
  'Bwd RST Flags',
  'Fwd Header Length',
  'Bwd Header Length',
  'Fwd Packets/s',
  'Bwd Packets/s',
  'Packet Length Min',
  'Packet Length Max',
  'Packet Length Mean',
  'Packet Length Std',
  'Packet Length Variance',
  'FIN Flag Count',
  'SYN Flag Count',
  'RST Flag Count',
  'PSH Flag Count',
  'ACK Flag Count',
  'URG Flag Count',
  'CWR Flag Count',
  'ECE Flag Count',
  'Down/Up Ratio',
  'Average Packet Size',
  'Fwd Segment Size Avg',
  'Bwd Segment Size Avg',
  'Fwd Bytes/Bulk Avg',
  'Fwd Packet/Bulk Avg',
  'Fwd Bulk Rate Avg',
  'Bwd Bytes/Bulk Avg',
  'Bwd Packet/Bulk Avg',
  'Bwd Bulk Rate Avg',
  'Subflow Fwd Packets',
  'Subflow Fwd Bytes',
  'Subflow Bwd Packets',
  'Subflow Bwd Bytes',
  'FWD Init Win Bytes',
  'Bwd Init Win Bytes',
  'Fwd Act Data Pkts',
  'Fwd Seg Size Min',
  'Active Mean',
  'Active Std',
  'Active Max',
  'Active Min',
  'Idle Mean',
  'Idle Std',
  'Idle Max',
  'Idle Min',
  'ICMP Code',
  'ICMP Type',
  'Total TCP Flow Time',
];

/** Variant name → canonical name. Canonical names themselves are added below. */
const ALIASES: Readonly<Record<string, string>> = {
  // Original CIC-IDS2017 (MachineLearningCVE, TrafficLabelling); leading spaces are trimmed before lookup.
  'Source IP': 'Src IP',
  'Source Port': 'Src Port',
  'Destination IP': 'Dst IP',
  'Destination Port': 'Dst Port',
  'Total Fwd Packets': 'Total Fwd Packet',
  'Total Backward Packets': 'Total Bwd packets',
  'Total Length of Fwd Packets': 'Total Length of Fwd Packet',
  'Total Length of Bwd Packets': 'Total Length of Bwd Packet',
  'Min Packet Length': 'Packet Length Min',
  'Max Packet Length': 'Packet Length Max',
  'CWE Flag Count': 'CWR Flag Count',
  'Avg Fwd Segment Size': 'Fwd Segment Size Avg',
  'Avg Bwd Segment Size': 'Bwd Segment Size Avg',
  // The 2017 release wrote Fwd Header Length twice (same values); pandas renames the second one.
  'Fwd Header Length.1': 'Fwd Header Length',
  'Fwd Avg Bytes/Bulk': 'Fwd Bytes/Bulk Avg',
  'Fwd Avg Packets/Bulk': 'Fwd Packet/Bulk Avg',
  'Fwd Avg Bulk Rate': 'Fwd Bulk Rate Avg',
  'Bwd Avg Bytes/Bulk': 'Bwd Bytes/Bulk Avg',
  'Bwd Avg Packets/Bulk': 'Bwd Packet/Bulk Avg',
  'Bwd Avg Bulk Rate': 'Bwd Bulk Rate Avg',
  Init_Win_bytes_forward: 'FWD Init Win Bytes',
  Init_Win_bytes_backward: 'Bwd Init Win Bytes',
  act_data_pkt_fwd: 'Fwd Act Data Pkts',
  min_seg_size_forward: 'Fwd Seg Size Min',
  // CSE-CIC-IDS2018 abbreviations (and, through key normalisation, the Python cicflowmeter snake_case names).
  'Tot Fwd Pkts': 'Total Fwd Packet',
  'Tot Bwd Pkts': 'Total Bwd packets',
  'TotLen Fwd Pkts': 'Total Length of Fwd Packet',
  'TotLen Bwd Pkts': 'Total Length of Bwd Packet',
  'Fwd Pkt Len Max': 'Fwd Packet Length Max',
  'Fwd Pkt Len Min': 'Fwd Packet Length Min',
  'Fwd Pkt Len Mean': 'Fwd Packet Length Mean',
  'Fwd Pkt Len Std': 'Fwd Packet Length Std',
  'Bwd Pkt Len Max': 'Bwd Packet Length Max',
  'Bwd Pkt Len Min': 'Bwd Packet Length Min',
  'Bwd Pkt Len Mean': 'Bwd Packet Length Mean',
  'Bwd Pkt Len Std': 'Bwd Packet Length Std',
  'Flow Byts/s': 'Flow Bytes/s',
  'Flow Pkts/s': 'Flow Packets/s',
  'Fwd IAT Tot': 'Fwd IAT Total',
  'Bwd IAT Tot': 'Bwd IAT Total',
  'Fwd Header Len': 'Fwd Header Length',
  'Bwd Header Len': 'Bwd Header Length',
  'Fwd Pkts/s': 'Fwd Packets/s',
  'Bwd Pkts/s': 'Bwd Packets/s',
  'Pkt Len Min': 'Packet Length Min',
  'Pkt Len Max': 'Packet Length Max',
  'Pkt Len Mean': 'Packet Length Mean',
  'Pkt Len Std': 'Packet Length Std',
  'Pkt Len Var': 'Packet Length Variance',
  'FIN Flag Cnt': 'FIN Flag Count',
  'SYN Flag Cnt': 'SYN Flag Count',
  'RST Flag Cnt': 'RST Flag Count',
  'PSH Flag Cnt': 'PSH Flag Count',
  'ACK Flag Cnt': 'ACK Flag Count',
  'URG Flag Cnt': 'URG Flag Count',
  'CWR Flag Cnt': 'CWR Flag Count',
  'CWE Flag Cnt': 'CWR Flag Count',
  'ECE Flag Cnt': 'ECE Flag Count',
  'Pkt Size Avg': 'Average Packet Size',
  'Fwd Seg Size Avg': 'Fwd Segment Size Avg',
  'Bwd Seg Size Avg': 'Bwd Segment Size Avg',
  'Fwd Byts/b Avg': 'Fwd Bytes/Bulk Avg',
  'Fwd Pkts/b Avg': 'Fwd Packet/Bulk Avg',
  'Fwd Blk Rate Avg': 'Fwd Bulk Rate Avg',
  'Bwd Byts/b Avg': 'Bwd Bytes/Bulk Avg',
  'Bwd Pkts/b Avg': 'Bwd Packet/Bulk Avg',
  'Bwd Blk Rate Avg': 'Bwd Bulk Rate Avg',
  'Subflow Fwd Pkts': 'Subflow Fwd Packets',
  'Subflow Fwd Byts': 'Subflow Fwd Bytes',
  'Subflow Bwd Pkts': 'Subflow Bwd Packets',
  'Subflow Bwd Byts': 'Subflow Bwd Bytes',
  'Init Fwd Win Byts': 'FWD Init Win Bytes',
  'Init Bwd Win Byts': 'Bwd Init Win Bytes',
  // Python cicflowmeter names that are not plain snake_case of the above.
  flow_byts_s: 'Flow Bytes/s',
  flow_pkts_s: 'Flow Packets/s',
  fwd_pkts_s: 'Fwd Packets/s',
  bwd_pkts_s: 'Bwd Packets/s',
  cwr_flag_count: 'CWR Flag Count',
  ece_flag_cnt: 'ECE Flag Count',
  fwd_byts_b_avg: 'Fwd Bytes/Bulk Avg',
  fwd_pkts_b_avg: 'Fwd Packet/Bulk Avg',
  bwd_byts_b_avg: 'Bwd Bytes/Bulk Avg',
  bwd_pkts_b_avg: 'Bwd Packet/Bulk Avg',
};

/** Lower case, letters and digits only: ' Flow Byts/s', 'flow_byts_s' and 'FLOW BYTS/S' share one key. */
function aliasKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const CANONICAL_BY_KEY: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const name of [...CIC_IDENTIFIERS, ...CIC_FEATURES, CIC_LABEL]) map.set(aliasKey(name), name);
  for (const [alias, canonical] of Object.entries(ALIASES)) map.set(aliasKey(alias), canonical);
  return map;
})();

/**
 * The canonical CICFlowMeter name of a column in any CIC layout. Trims the name and resolves aliases
 * (case, spaces, '/', '_' and '.' do not matter); unknown names come back trimmed.
 * Note that 'Fwd Header Length.1' resolves to 'Fwd Header Length': loaders drop the repeat as a duplicate.
 */
export function canonicalFeatureName(name: string): string {
  let canonical = CANONICAL_BY_NAME.get(name);
  if (canonical === undefined) {
    const trimmed = name.trim();
    canonical = CANONICAL_BY_KEY.get(aliasKey(trimmed)) ?? trimmed;
    CANONICAL_BY_NAME.set(name, canonical);
  }
  return canonical;
}

/** Names already resolved: each of a dataset's files repeats the same header, and the plan looks at it often. */
const CANONICAL_BY_NAME = new Map<string, string>();

const CIC_FEATURE_SET: ReadonlySet<string> = new Set(CIC_FEATURES);

/** True when the name (in any layout) is one of CICFlowMeter's flow features. */
export function isCicFeature(name: string): boolean {
  return CIC_FEATURE_SET.has(canonicalFeatureName(name));
}

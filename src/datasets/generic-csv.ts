// Any CSV with a header row. Column types come from the first records (numeric when every non-missing value reads as a
// number); the label is the column named by --label, or else the one column named `label` or `class` (any case);
// columns named like flow identifiers (ids, addresses, source ports, timestamps) are identifiers. The flow tables
// Flowsentry writes are recognised by their leading columns, and the columns that place a flow rather than measure it
// are identifiers too: not features by default. In the CSV of `flowsentry extract --features netflow` (and `collect
// --features netflow`), read so that its model scores live NetFlow/IPFIX records, its start time is the time
// identifier, and its VLAN (part of the flow key) and how the flow ended (which exporters do not send) are identifiers.
// In `collect`'s FlowRecord CSV, its start and end times (epoch milliseconds), VLAN, source, end reason, exporter and
// observation domain are.

import { UserError } from '../errors.js';
import { FLOW_CSV_HEADER } from '../io/netflow/batch.js';
import { KDD_FEATURES, looksLikeKdd } from './kdd-common.js';
import { looksNumeric, nameKey, sampleRows, type ColumnPlan, type DatasetFormat } from './schema.js';

const IDENTIFIER_KEYS = new Set([
  'id', 'flowid', 'srcip', 'sourceip', 'srcaddr', 'saddr', 'ipsrc', 'dstip', 'destinationip', 'dstaddr', 'daddr', 'ipdst',
  'srcport', 'sourceport', 'sport', 'timestamp', 'time', 'stime', 'ltime', 'starttime', 'endtime', 'firstseen', 'lastseen', 'date',
]);
const NORMAL_NAMES = new Set(['normal', 'benign', '0', 'false', 'legitimate', 'background']);
/** The columns `extract --features netflow` writes before the features (extractColumns, src/flows/flow-rows.ts). */
const EXTRACT_NETFLOW_CONTEXT = ['src_addr', 'dst_addr', 'start', 'vlan', 'end_reason'];
/** Flowsentry's flow tables: the leading columns that recognise one, and its columns that are identifiers. */
const FLOW_TABLES: readonly { leading: readonly string[]; context: readonly string[] }[] = [
  { leading: EXTRACT_NETFLOW_CONTEXT, context: EXTRACT_NETFLOW_CONTEXT },
  // `collect`'s FlowRecord columns (src/io/netflow/batch.ts); addresses and the source port are identifiers by name
  {
    leading: FLOW_CSV_HEADER.trim().split(','),
    context: ['vlan', 'source', 'startMs', 'endMs', 'endReason', 'exporter', 'observationDomain'],
  },
];

/** Column names taken as the label when --label is not given. */
const LABEL_KEYS = new Set(['label', 'class']);

/** The one column whose name is a label name (`Label`, `class`...), or undefined when none or several are. */
function labelByName(header: readonly string[]): string | undefined {
  const named = header.map((h) => h.trim()).filter((h) => LABEL_KEYS.has(nameKey(h)));
  return named.length === 1 ? named[0] : undefined;
}

export const genericCsv: DatasetFormat = {
  name: 'csv',
  title: 'CSV with a header',
  detect: (peek) => ((peek.records[0]?.length ?? 0) >= 2 ? 0.1 : 0),
  plan(peek, options) {
    if (looksLikeKdd(peek, KDD_FEATURES.length)) {
      // Taken as a header, the first record's repeated values would be named duplicate columns.
      throw new UserError(
        `the rows look like KDD connection records of ${KDD_FEATURES.length} fields, the features without a label: NSL-KDD rows have 43 fields (label, difficulty), KDD Cup'99 rows 42 (label)`,
        { file: peek.file, line: 1 },
      );
    }
    const header = peek.records[0] ?? [];
    const sample = sampleRows(peek);
    const label = options.label?.trim() ?? labelByName(header);
    if (label !== undefined && !header.some((h) => h.trim() === label)) {
      throw new UserError(`label column '${label}' not found; columns are: ${header.map((h) => h.trim()).join(', ')}`, { file: peek.file });
    }
    const names = header.map((h) => h.trim());
    const flowTable = FLOW_TABLES.find((table) => table.leading.every((name, i) => names[i] === name));
    const columns: ColumnPlan[] = header.map((fileName, i) => {
      const name = fileName.trim() === '' ? `column${i + 1}` : fileName.trim();
      if (name === label) return { name, fileName, role: 'label', kind: 'categorical' };
      const kind = looksNumeric(sample.map((r) => r[i] ?? '')) ? 'numeric' : 'categorical';
      const identifier = IDENTIFIER_KEYS.has(nameKey(name)) || flowTable?.context.includes(name) === true;
      return { name, fileName, role: identifier ? 'identifier' : 'feature', kind };
    });
    return { hasHeader: true, columns };
  },
  normaliseLabel: (label) => label.trim(),
  isNormal: (label) => NORMAL_NAMES.has(label.toLowerCase()),
  categoryOf: (label) => (NORMAL_NAMES.has(label.toLowerCase()) ? 'normal' : label),
};

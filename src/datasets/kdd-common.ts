// What NSL-KDD and KDD Cup'99 share: the 41 connection features named in kddcup.names (three of them symbolic
// text: protocol_type, service, flag) and the standard map from attack names to the four DARPA 1998/1999 categories,
// including the attacks that appear only in the test sets (KDD'99 corrected, NSL-KDD KDDTest+).

import type { CsvPeek } from '../io/csv-peek.js';
import type { ColumnPlan } from './schema.js';

export const KDD_FEATURES: readonly string[] = [
  'duration', 'protocol_type', 'service', 'flag', 'src_bytes', 'dst_bytes', 'land', 'wrong_fragment', 'urgent', 'hot',
  'num_failed_logins', 'logged_in', 'num_compromised', 'root_shell', 'su_attempted', 'num_root', 'num_file_creations',
  'num_shells', 'num_access_files', 'num_outbound_cmds', 'is_host_login', 'is_guest_login', 'count', 'srv_count',
  'serror_rate', 'srv_serror_rate', 'rerror_rate', 'srv_rerror_rate', 'same_srv_rate', 'diff_srv_rate',
  'srv_diff_host_rate', 'dst_host_count', 'dst_host_srv_count', 'dst_host_same_srv_rate', 'dst_host_diff_srv_rate',
  'dst_host_same_src_port_rate', 'dst_host_srv_diff_host_rate', 'dst_host_serror_rate', 'dst_host_srv_serror_rate',
  'dst_host_rerror_rate', 'dst_host_srv_rerror_rate',
];

const TEXT_FEATURES = new Set(['protocol_type', 'service', 'flag']);

const CATEGORY_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  DoS: ['back', 'land', 'neptune', 'pod', 'smurf', 'teardrop', 'apache2', 'mailbomb', 'processtable', 'udpstorm'],
  Probe: ['ipsweep', 'nmap', 'portsweep', 'satan', 'mscan', 'saint'],
  R2L: ['ftp_write', 'guess_passwd', 'imap', 'multihop', 'phf', 'spy', 'warezclient', 'warezmaster', 'named', 'sendmail', 'snmpgetattack', 'snmpguess', 'xlock', 'xsnoop', 'worm'],
  U2R: ['buffer_overflow', 'loadmodule', 'perl', 'rootkit', 'httptunnel', 'ps', 'sqlattack', 'xterm'],
};

const CATEGORY_OF: ReadonlyMap<string, string> = new Map(Object.entries(CATEGORY_MEMBERS).flatMap(([cat, names]) => names.map((n) => [n, cat] as const)));

/** DoS / Probe / R2L / U2R for a KDD attack name, 'normal' for normal; unknown names stay themselves. */
export function kddCategory(label: string): string {
  if (label === 'normal') return 'normal';
  return CATEGORY_OF.get(label) ?? label;
}

/** Plans the 41 features plus the trailing label (and, for NSL-KDD, difficulty) columns. */
export function kddPlan(withDifficulty: boolean): ColumnPlan[] {
  const columns: ColumnPlan[] = KDD_FEATURES.map((name) => ({ name, fileName: name, role: 'feature', kind: TEXT_FEATURES.has(name) ? 'categorical' : 'numeric' }));
  columns.push({ name: 'label', fileName: 'label', role: 'label', kind: 'categorical' });
  if (withDifficulty) columns.push({ name: 'difficulty', fileName: 'difficulty', role: 'meta', kind: 'numeric' });
  return columns;
}

/** The first record looks like a headerless KDD connection record with n fields. */
export function looksLikeKdd(peek: CsvPeek, fields: number): boolean {
  const first = peek.records[0];
  if (!first || first.length !== fields) return false;
  return ['tcp', 'udp', 'icmp'].includes(first[1]) && /^[A-Za-z0-9_]+$/.test(first[2]) && /^\d+$/.test(first[0]);
}

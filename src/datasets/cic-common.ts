// What the CIC flow datasets (CIC-IDS2017 in both layouts, CSE-CIC-IDS2018) share: columns planned by canonical
// CICFlowMeter name (./cic-names.ts), identifiers set apart, and the attack families of their labels.

import { CIC_IDENTIFIERS, CIC_LABEL, canonicalFeatureName, isCicFeature } from './cic-names.js';
import { looksNumeric, sampleRows, type ColumnPlan } from './schema.js';
import type { CsvPeek } from '../io/csv-peek.js';

const IDENTIFIERS = new Set([...CIC_IDENTIFIERS, 'id']);
const NUMERIC_IDENTIFIERS = new Set(['Src Port', 'id']);

/**
 * Records (header included) a CIC plan types its columns from: features are numbers by the schema, so only the
 * identifiers and unknown extra columns are typed from the data, and their mostly distinct text sized from it.
 */
export const CIC_SAMPLE_RECORDS = 40;
/** The format family of the CICFlowMeter layouts (DatasetFormat.family). */
export const CIC_FAMILY = 'cicflowmeter';

/** CIC-IDS2017's MachineLearningCVE files write Fwd Header Length twice (pandas: 'Fwd Header Length.1'). */
const REPEATED_FEATURE = 'Fwd Header Length';

/** Plans a CIC header: canonical names, identifiers, the label, `Attempted Category` as metadata, the known repeat dropped. */
export function cicPlan(peek: CsvPeek): ColumnPlan[] {
  const header = peek.records[0] ?? [];
  const sample = sampleRows(peek);
  const seen = new Set<string>();
  return header.map((fileName, i): ColumnPlan => {
    const name = canonicalFeatureName(fileName);
    // the one repeat the CIC files are known to have (same values); any other repeat is the loader's error
    if (seen.has(name) && name === REPEATED_FEATURE) return { name: fileName.trim(), fileName, role: 'duplicate', kind: 'numeric' };
    seen.add(name);
    if (name === CIC_LABEL) return { name, fileName, role: 'label', kind: 'categorical' };
    if (name === 'Attempted Category') return { name, fileName, role: 'meta', kind: 'numeric' };
    // CICFlowMeter features are numbers (text in them is an error); other columns are typed from the data.
    const numeric = isCicFeature(name) || looksNumeric(sample.map((r) => r[i] ?? ''));
    if (IDENTIFIERS.has(name)) return { name, fileName, role: 'identifier', kind: NUMERIC_IDENTIFIERS.has(name) && numeric ? 'numeric' : 'categorical' };
    return { name, fileName, role: 'feature', kind: numeric ? 'numeric' : 'categorical' };
  });
}

/** How many header names are CICFlowMeter features or identifiers (after alias resolution). */
export function cicHeaderMatches(peek: CsvPeek, known: ReadonlySet<string>): number {
  return (peek.records[0] ?? []).filter((h) => known.has(canonicalFeatureName(h))).length;
}

/** Trims and repairs the en dash of 'Web Attack – Brute Force' that the original CSVs store as a stray cp1252 byte. */
export function cicLabel(label: string): string {
  return label.replace(/\s*[\ufffd\u2013\u0096]\s*/g, ' - ').trim();
}

export const isCicBenign = (label: string): boolean => label.toLowerCase() === 'benign';

/**
 * Attack family of a CIC-IDS2017 / CSE-CIC-IDS2018 label: DoS, DDoS, PortScan, Brute Force (FTP/SSH), Web Attack,
 * Bot, Infiltration, Heartbleed. Engelen et al.'s '... - Attempted' labels take the family of the attack attempted.
 */
export function cicFamily(label: string): string {
  const l = label.toLowerCase().replace(/\s*-\s*attempted$/, '');
  if (l === 'benign') return 'normal';
  if (l.startsWith('ddos')) return 'DDoS';
  if (l.startsWith('dos')) return 'DoS';
  if (l.startsWith('infilt')) return 'Infiltration';
  if (l.includes('portscan')) return 'PortScan';
  if (l.includes('patator') || l === 'ftp-bruteforce' || l === 'ssh-bruteforce') return 'Brute Force';
  if (l.startsWith('web attack') || l.startsWith('brute force -') || l === 'sql injection' || l.includes('xss')) return 'Web Attack';
  if (l.startsWith('bot')) return 'Bot';
  if (l.includes('heartbleed')) return 'Heartbleed';
  return label;
}

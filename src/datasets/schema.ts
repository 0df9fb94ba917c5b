// The dataset format contract: each known format (one file each) says how to recognise a file, what every column
// is for (feature, identifier, label, ...) and how its labels map to the binary and category views.

import type { CsvPeek } from '../io/csv-peek.js';
import { numericCellValue, NUMERIC_MISSING } from '../io/numeric-text.js';

/** What a column of the file is for. */
/** 'meta': label-side metadata, never a feature; 'duplicate': a repeated column of the file, not read. */
export type ColumnRole = 'feature' | 'identifier' | 'label' | 'category' | 'meta' | 'payload' | 'duplicate';

export interface ColumnPlan {
  /** Name in the frame (canonical for CIC layouts). */
  readonly name: string;
  /** Name as written in the file. */
  readonly fileName: string;
  readonly role: ColumnRole;
  readonly kind: 'numeric' | 'categorical';
}

export interface FilePlan {
  readonly hasHeader: boolean;
  readonly columns: readonly ColumnPlan[];
  readonly variant?: string;
  /** The label is a column named with --label, not the format's own (see FrameSource.labelColumn). */
  readonly labelOverride?: boolean;
}

export interface PlanOptions {
  /** Label column chosen by the user (generic CSV, or to override a format's label). */
  readonly label?: string;
}

export interface DatasetFormat {
  /** Short name used by --format and in frame.source.format. */
  readonly name: string;
  readonly title: string;
  /**
   * How sure we are that the peeked file is in this format: 0 (no) to 1 (certain). The generic CSV format answers
   * a small positive score for any CSV with a header, so known formats win.
   */
  detect(peek: CsvPeek): number;
  /** Column roles and types for a file of this format. */
  plan(peek: CsvPeek, options: PlanOptions): FilePlan;
  /** Texts that mean "missing" in numeric columns, beyond pandas' defaults. */
  readonly missing?: readonly string[];
  /** Cleans a label value as written (trim; KDD's trailing dot). */
  normaliseLabel(label: string): string;
  /** Cleans a category value (UNSW's attack_cat spellings; '-' means none). */
  normaliseCategory?(category: string): string;
  /** Cleans a value of a text feature (UNSW's '-' becomes the category 'none'). */
  featureText?(value: string): string;
  /** True for the normal (benign) class. */
  isNormal(label: string): boolean;
  /** Attack category of a (normalised) label, for the 'category' view of formats without a category column. */
  categoryOf(label: string): string;
  /** The dataset ships as several files of one table (CIC: one per class or day; ISCX: one per day). */
  readonly multiFile?: boolean;
  /**
   * Formats of one family name their columns alike (CICFlowMeter's): a file of one may be read with another's plan
   * (`train` on CIC-IDS2017, `--test` on CSE-CIC-IDS2018), which a format named for a file of another family is not.
   */
  readonly family?: string;
  /**
   * Records of the first file its plan needs, header included (200 by default: generic CSV types every column from
   * them). Formats whose columns are typed by their schema need fewer; a smaller sample is less garbage for V8.
   */
  readonly sampleRecords?: number;
  /** For non-CSV formats (ISCX XML): the file is read by this format's own streaming reader. */
  readonly xml?: boolean;
}

/** The category every format gives to normal traffic. */
export const NORMAL_CATEGORY = 'normal';

/** Lower-cased name with only letters and digits, for forgiving column-name matches. */
export function nameKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The peeked data records: all but the header, without copies of the header inside the data. */
export function sampleRows(peek: CsvPeek): string[][] {
  const header = peek.records[0] ?? [];
  return peek.records.slice(1).filter((r) => r.length !== header.length || r.some((v, i) => v !== header[i]));
}

/**
 * True when every non-missing sample value of a column reads as a number (used to type generic CSV columns), by the
 * readers' own rule (numericCellValue): a decimal of any magnitude (1e999 is +Inf) or an infinity; hexadecimal, octal
 * and binary literals are text.
 */
export function looksNumeric(values: readonly string[]): boolean {
  return values.every((raw) => numericCellValue(raw.trim()) !== undefined);
}

const MISSING_LABEL_TEXT = new Set([...NUMERIC_MISSING].map((v) => v.toLowerCase()));

/**
 * True for a label value (as its format cleans it) that means "no label": empty, or one of pandas' missing-value
 * texts in any case ('NaN', 'N/A', 'null', 'None', 'Null', ...). Such rows are unlabelled rows, never a class.
 */
export function isMissingLabel(label: string): boolean {
  const v = label.trim();
  return v === '' || MISSING_LABEL_TEXT.has(v.toLowerCase());
}

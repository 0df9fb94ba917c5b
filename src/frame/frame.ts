// Frame: a columnar table as loaded from a dataset. Numeric columns are Float32Array (NaN and ±Infinity kept
// as they appear in the file, for the imputer to handle); categorical columns are dictionary codes.
// Identifier columns (flow ids, IPs, source ports, timestamps, row ids) are kept apart from the features so that
// models never see them unless the user asks, but time-ordered splits and reports can still use them. A timestamp
// identifier is a TimeColumn: seconds since the epoch in Float64 (Float32 would round epoch seconds to 128 s). A
// text identifier whose values are mostly distinct (flow ids) is a TextColumn: its bytes, not a dictionary of strings.

export interface NumericColumn {
  readonly kind: 'numeric';
  readonly name: string;
  readonly values: Float32Array;
}

export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly name: string;
  /** Index into `dictionary`; -1 marks a missing value. */
  readonly codes: Int32Array;
  readonly dictionary: readonly string[];
}

export type Column = NumericColumn | CategoricalColumn;

/** A timestamp identifier: seconds since 1970-01-01 UTC (times without a zone read as UTC); NaN marks a missing one. */
export interface TimeColumn {
  readonly kind: 'time';
  readonly name: string;
  readonly seconds: Float64Array;
}

/**
 * A text identifier of mostly distinct values (CIC-IDS2017's Flow ID): every row's UTF-8 bytes one after another and
 * Int32 offsets into them, Apache Arrow's variable-size binary layout. No JS string per row and no dictionary: a
 * dictionary of ~one entry per row holds each value as a string (its header alone is ~20 bytes) plus a hash table.
 * Built by ./text-column.ts (TextColumnBuilder), which also reads values back and turns one into a CategoricalColumn.
 */
export interface TextColumn {
  readonly kind: 'text';
  readonly name: string;
  /** nRows + 1 offsets: row i is bytes[offsets[i], offsets[i + 1]); an empty value marks a missing cell. */
  readonly offsets: Int32Array;
  readonly bytes: Uint8Array;
}

export type IdentifierColumn = Column | TimeColumn | TextColumn;

/** Why a column of the file is not among the features. */
export interface DroppedColumn {
  readonly name: string;
  /** 'label': label-side metadata (NSL-KDD difficulty, UNSW `label`); 'payload': packet contents (ISCX). */
  readonly reason: 'identifier' | 'label' | 'constant' | 'duplicate' | 'user' | 'payload';
}

export interface FrameSource {
  /** Detected or chosen dataset format, e.g. 'nsl-kdd', 'cic-ids2017', 'csv'. */
  readonly format: string;
  /** Layout within the format where there are several, e.g. 'MachineLearningCVE' or 'corrected' for CIC-IDS2017. */
  readonly variant?: string;
  /**
   * The label column named with --label when a known format labels its rows with other columns: its labels follow the
   * generic CSV rules (normal, benign, 0, ... are normal; categories come from it), and the format's own label
   * columns are label-side metadata, used by no view.
   */
  readonly labelColumn?: string;
  readonly files: readonly string[];
  readonly dropped: readonly DroppedColumn[];
  /** Identifier columns read as features because the caller asked (`keepIdentifiers`), in file order. */
  readonly keptIdentifiers?: readonly string[];
  /** Rows skipped on request (`--skip-bad-rows`), with the reason and count. */
  readonly skipped: readonly { reason: string; count: number }[];
}

export interface Frame {
  readonly nRows: number;
  /** Feature columns, in file order (identifier and label columns removed). */
  readonly features: readonly Column[];
  /** Identifier columns (kept for time-ordered splits and reporting, never features unless asked). */
  readonly identifiers: readonly IdentifierColumn[];
  /** Attack name per row as written in the file (normalised: KDD's trailing dot removed). */
  readonly label?: CategoricalColumn;
  /** Attack category per row where the dataset carries one (UNSW `attack_cat`). */
  readonly category?: CategoricalColumn;
  /**
   * Label-side columns that must never be features: NSL-KDD `difficulty`, UNSW-NB15's 0/1 `label`,
   * CIC-IDS2017's `Attempted Category`.
   */
  readonly meta?: readonly Column[];
  readonly source: FrameSource;
}

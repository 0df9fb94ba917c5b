// What text is a number, the one rule for every reader of data (CSV, ISCX XML, type sniffing) and for numbers typed
// on the command line: a decimal of any magnitude, an infinity, or a missing token. A module of its own so the
// command line reads numbers without loading the CSV reader.

/** Texts that mean "missing" in a numeric column (pandas' read_csv default na_values, 'None' since pandas 2.0): NaN. */
export const NUMERIC_MISSING: ReadonlySet<string> = new Set(['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null']);
/** A Map, not an object literal: 'constructor' or '__proto__' would find Object.prototype's and read as missing. */
const INFINITIES: ReadonlyMap<string, number> = new Map([['inf', Infinity], ['+inf', Infinity], ['-inf', -Infinity], ['infinity', Infinity], ['+infinity', Infinity], ['-infinity', -Infinity]]);
/** A decimal number: [+-]digits[.digits][e[+-]digits], '.5' and '5.' too. */
const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * True for trimmed text that is a decimal number, of any magnitude ('1e999' is one, which Number() reads as
 * Infinity). Number() alone also reads '0x10', '0o17' and '0b11', which pandas reads as text, and so do we.
 */
export function isDecimalText(text: string): boolean {
  return DECIMAL_TEXT.test(text);
}

/**
 * The value of a trimmed numeric cell, by the rules every reader shares: a missing token is NaN, an infinity or a
 * decimal beyond float64 is ±Infinity, a decimal is its number; undefined for any other text.
 */
export function numericCellValue(text: string, missing: ReadonlySet<string> = NUMERIC_MISSING): number | undefined {
  if (missing.has(text)) return NaN;
  const infinity = INFINITIES.get(text.toLowerCase());
  if (infinity !== undefined) return infinity;
  return isDecimalText(text) ? Number(text) : undefined;
}

// Timestamp cells read from bytes into seconds since 1970-01-01 UTC, for Float64 time columns. Dates become day
// numbers by Howard Hinnant's days_from_civil ("chrono-Compatible Low-Level Date Algorithms"), so no Date object or
// string is made per cell. Accepted, after surrounding spaces:
//   seconds since the epoch            1421927414, 1421927414.25
//   ISO 8601 date and time (no zone)   2017-07-06 12:39:06.818901, 2017-07-06T12:39, 2017-07-06
//   CIC-IDS2017's day/month/year       6/7/2017 8:59, 3/7/2017 8:55:58, 7/7/2017 3:30:01 PM, 14/02/2018 08:31:01
// Times without a zone are read as UTC (a trailing Z is allowed); what the file means by them is kept as written.

const SPACE = 32;
const TAB = 9;
const DOT = 46;
const COLON = 58;
const MINUS = 45;
const SLASH = 47;

const POW10 = Float64Array.from({ length: 16 }, (_, i) => 10 ** i);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digits read by the last `digitsAt` call, and where they ended. */
let digitCount = 0;
let digitsEnd = 0;

/** The unsigned decimal integer of at most `max` digits at buf[i]; sets digitCount and digitsEnd. */
function digitsAt(buf: Uint8Array, i: number, end: number, max: number): number {
  let value = 0;
  let n = 0;
  while (i < end && n < max) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    i++;
    n++;
  }
  digitCount = n;
  digitsEnd = i;
  return value;
}

/**
 * Days from 1970-01-01 to the given proleptic Gregorian date (Hinnant's days_from_civil). Floors are exact integer
 * divisions of multiples (x - x mod n) / n: no fractional intermediate, so no heap number while V8 still interprets it.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const yearOfEra = ((y % 400) + 400) % 400;
  const era = (y - yearOfEra) / 400;
  const shiftedMonth = 153 * (month > 2 ? month - 3 : month + 9) + 2;
  const dayOfYear = (shiftedMonth - (shiftedMonth % 5)) / 5 + day - 1;
  const dayOfEra = yearOfEra * 365 + (yearOfEra - (yearOfEra % 4)) / 4 - (yearOfEra - (yearOfEra % 100)) / 100 + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0);
}

/**
 * Seconds since the epoch of the timestamp text in buf[start, end), or NaN when it is not one of the accepted forms
 * (an empty cell is NaN too: callers tell the two apart).
 */
export function readTimestamp(buf: Uint8Array, start: number, end: number): number {
  readTimestampInto(buf, start, end, result, 0);
  return result[0];
}
const result = new Float64Array(1);

/**
 * readTimestamp, stored into out[index]; returns whether it read one (false: NaN stored). The seconds are written, not
 * returned, down the whole chain: a double returned by a function V8 does not inline is a new heap number per cell
 * (0.4 MB of young garbage for 26k CIC rows), and the caller need not read the double back to test it.
 */
export function readTimestampInto(buf: Uint8Array, start: number, end: number, out: Float64Array, index: number): boolean {
  while (start < end && (buf[start] === SPACE || buf[start] === TAB)) start++;
  while (end > start && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
  if (plainIsoTimestamp(buf, start, end, out, index)) return true;
  if (start === end) {
    out[index] = NaN;
    return false;
  }
  const first = digitsAt(buf, start, end, 15);
  if (digitCount === 0) {
    if (buf[start] !== MINUS || !epochSeconds(buf, start + 1, end, out, index)) {
      out[index] = NaN;
      return false;
    }
    out[index] = -out[index];
    return true;
  }
  const after = digitsEnd;
  if (digitCount === 4 && after < end && buf[after] === MINUS) return isoTimestamp(buf, first, after + 1, end, out, index);
  if (digitCount <= 2 && after < end && buf[after] === SLASH) return dayMonthYearTimestamp(buf, first, after + 1, end, out, index);
  return epochSeconds(buf, start, end, out, index);
}

/**
 * The common form, yyyy-mm-dd hh:mm:ss (or T) with an optional fraction of up to 15 digits and nothing after, read
 * at fixed positions; false, with nothing stored, for anything else (the general path reads it, or stores NaN). The
 * same value as isoTimestamp and timeOfDay, from a function V8 compiles in one small piece instead of four.
 */
function plainIsoTimestamp(buf: Uint8Array, start: number, end: number, out: Float64Array, index: number): boolean {
  if (end - start < 19 || buf[start + 4] !== MINUS || buf[start + 7] !== MINUS || (buf[start + 10] !== SPACE && buf[start + 10] !== 84) /* T */) return false;
  if (buf[start + 13] !== COLON || buf[start + 16] !== COLON) return false;
  const century = twoDigits(buf, start);
  const yearOfCentury = twoDigits(buf, start + 2);
  const month = twoDigits(buf, start + 5);
  const day = twoDigits(buf, start + 8);
  const hour = twoDigits(buf, start + 11);
  const minute = twoDigits(buf, start + 14);
  const second = twoDigits(buf, start + 17);
  if ((century | yearOfCentury | month | day | hour | minute | second) < 0 || hour > 23 || minute > 59 || second > 60) return false;
  const year = century * 100 + yearOfCentury;
  if (!validDate(year, month, day)) return false;
  let frac = 0;
  let fracDigits = 0;
  if (end > start + 19) {
    if (buf[start + 19] !== DOT || end - start - 20 < 1 || end - start - 20 > 15) return false;
    for (let i = start + 20; i < end; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) return false;
      frac = frac * 10 + d;
    }
    fracDigits = end - start - 20;
  }
  out[index] = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second + frac / POW10[fracDigits];
  return true;
}

/** The two decimal digits at buf[at] as a number, or -1. */
function twoDigits(buf: Uint8Array, at: number): number {
  const tens = buf[at] - 48;
  const ones = buf[at + 1] - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

/** Stores NaN at out[index] (a cell that is not a timestamp) and returns false. */
function notTimestamp(out: Float64Array, index: number): boolean {
  out[index] = NaN;
  return false;
}

/**
 * [digits][.digits] seconds: one correctly rounded division up to 15 significant digits, else whole seconds (up to 15
 * digits) plus the fraction (up to 15 digits), as the date forms add theirs (Zeek's 'ts' has 16: 1331901000.000000).
 */
function epochSeconds(buf: Uint8Array, start: number, end: number, out: Float64Array, index: number): boolean {
  const whole = digitsAt(buf, start, end, 16);
  const wholeDigits = digitCount;
  let i = digitsEnd;
  let frac = 0;
  let fracDigits = 0;
  if (i < end && buf[i] === DOT) {
    frac = digitsAt(buf, i + 1, end, 16);
    fracDigits = digitCount;
    i = digitsEnd;
  }
  if (i !== end || wholeDigits + fracDigits === 0 || wholeDigits > 15 || fracDigits > 15) return notTimestamp(out, index);
  if (fracDigits === 0) out[index] = whole;
  else if (wholeDigits + fracDigits <= 15) out[index] = (whole * POW10[fracDigits] + frac) / POW10[fracDigits];
  else out[index] = whole + frac / POW10[fracDigits];
  return true;
}

/** YYYY-MM-DD[( |T)hh:mm[:ss[.fraction]]][Z], the year already read. */
function isoTimestamp(buf: Uint8Array, year: number, i: number, end: number, out: Float64Array, index: number): boolean {
  const month = digitsAt(buf, i, end, 2);
  if (digitCount !== 2 || digitsEnd >= end || buf[digitsEnd] !== MINUS) return notTimestamp(out, index);
  const day = digitsAt(buf, digitsEnd + 1, end, 2);
  if (digitCount !== 2 || !validDate(year, month, day)) return notTimestamp(out, index);
  i = digitsEnd;
  const days = daysFromCivil(year, month, day);
  if (i === end) {
    out[index] = days * 86400;
    return true;
  }
  if (buf[i] !== SPACE && buf[i] !== 84 /* T */) return notTimestamp(out, index);
  return timeOfDay(buf, days, i + 1, end, false, out, index);
}

/** D/M/YYYY h:mm[:ss[.fraction]][ ][AM|PM], the day already read. */
function dayMonthYearTimestamp(buf: Uint8Array, day: number, i: number, end: number, out: Float64Array, index: number): boolean {
  const month = digitsAt(buf, i, end, 2);
  if (digitCount === 0 || digitsEnd >= end || buf[digitsEnd] !== SLASH) return notTimestamp(out, index);
  const year = digitsAt(buf, digitsEnd + 1, end, 4);
  if (digitCount !== 4 || !validDate(year, month, day)) return notTimestamp(out, index);
  i = digitsEnd;
  if (i === end) {
    out[index] = daysFromCivil(year, month, day) * 86400;
    return true;
  }
  if (buf[i] !== SPACE) return notTimestamp(out, index);
  while (i < end && buf[i] === SPACE) i++;
  return timeOfDay(buf, daysFromCivil(year, month, day), i, end, true, out, index);
}

/**
 * h:mm[:ss[.fraction]] from buf[i] to the end, then a Z (ISO) or an AM/PM marker (day/month/year), on the given day,
 * as seconds since the epoch.
 */
function timeOfDay(buf: Uint8Array, days: number, i: number, end: number, twelveHour: boolean, out: Float64Array, index: number): boolean {
  let hour = digitsAt(buf, i, end, 2);
  if (digitCount === 0 || digitsEnd >= end || buf[digitsEnd] !== COLON) return notTimestamp(out, index);
  const minute = digitsAt(buf, digitsEnd + 1, end, 2);
  if (digitCount !== 2 || minute > 59) return notTimestamp(out, index);
  i = digitsEnd;
  let second = 0;
  let frac = 0;
  let fracDigits = 0;
  if (i < end && buf[i] === COLON) {
    second = digitsAt(buf, i + 1, end, 2);
    if (digitCount !== 2 || second > 60) return notTimestamp(out, index);
    i = digitsEnd;
    if (i < end && buf[i] === DOT) {
      frac = digitsAt(buf, i + 1, end, 15);
      fracDigits = digitsEnd - i - 1;
      if (fracDigits === 0) return notTimestamp(out, index);
      i = digitsEnd;
    }
  }
  if (twelveHour) {
    while (i < end && buf[i] === SPACE) i++;
    if (i + 2 === end && (buf[i + 1] | 0x20) === 109 /* m */) {
      const marker = buf[i] | 0x20;
      if ((marker !== 97 /* a */ && marker !== 112) /* p */ || hour < 1 || hour > 12) return notTimestamp(out, index);
      if (hour === 12) hour = 0;
      if (marker === 112) hour += 12;
      i = end;
    }
  } else if (i + 1 === end && buf[i] === 90 /* Z */) i = end;
  if (i !== end || hour > 23) return notTimestamp(out, index);
  out[index] = days * 86400 + hour * 3600 + minute * 60 + second + frac / POW10[fracDigits];
  return true;
}

// JSON lines of a FlowBatch written straight into a byte buffer, the same bytes as FlowBatch.toJsonLines() (which
// builds strings): fixed key fragments precomputed, IPv4 address text cached as bytes per address, and numbers
// written digit by digit as ECMAScript's Number::toString (ECMA-262 §6.1.6.1.20) spells them: integers directly,
// non-integers ≥ 1 by the exact shortest-decimal search in writeFraction; anything else (negative, below 1, above
// 2^53, NaN) through String(). O(bytes written) per record.

import { END_REASONS, ipv6Text, type FlowBatch } from './batch.js';

type View = DataView<ArrayBufferLike>;

/**
 * Fixed ASCII text as 8-byte words, copied eight bytes per store (the last word padded with zeros). A word of ASCII
 * bytes read as a little-endian double is never a NaN (its top byte is below 0x7f), so its bits survive the copy.
 */
interface Fragment {
  readonly words: Float64Array;
  readonly length: number;
}

function fragment(bytes: Uint8Array): Fragment {
  const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  const words = Float64Array.from({ length: padded.length / 8 }, (_, k) => view.getFloat64(8 * k, true));
  return { words, length: bytes.length };
}

const isAscii = (text: string): boolean => !/[^\p{ASCII}]/u.test(text);
const ascii = (text: string): Fragment => fragment(Uint8Array.from(text, (c) => c.charCodeAt(0)));

const SRC_ADDR = ascii('{"srcAddr":"');
const DST_ADDR = ascii('","dstAddr":"');
const SRC_PORT = ascii('","srcPort":');
const DST_PORT = ascii(',"dstPort":');
const PROTOCOL = ascii(',"protocol":');
const VLAN = ascii(',"vlan":');
const END_MS = ascii(',"endMs":');
const PACKETS = ascii(',"packets":');
const BYTES = ascii(',"bytes":');
const FWD_PACKETS = ascii(',"fwdPackets":');
const BWD_PACKETS = ascii(',"bwdPackets":');
const FWD_BYTES = ascii(',"fwdBytes":');
const BWD_BYTES = ascii(',"bwdBytes":');
const TCP_FLAGS = ascii(',"tcpFlags":');
// A zero between two keys is part of one fragment (unidirectional records: every v5 one).
const NO_BWD_PACKETS = ascii(',"bwdPackets":0,"fwdBytes":');
const NO_BWD_BYTES = ascii(',"bwdBytes":0,"tcpFlags":');

/**
 * Bytes a line can take besides its tail: fixed text, two IPv6 addresses (≤ 45 each), 13 numbers (≤ 25 each), and
 * up to 7 bytes a fragment's last word writes past its end (overwritten by what follows).
 */
const LINE_BOUND = 512;

/** The parts of a line that are the same for a whole batch: source, and per end reason the tail. */
let sourceKey = '';
let exporterKey = '';
let domainKey = -1;
let sourcePart = ascii('');
/** sourcePart after `,"vlan":0` (no VLAN: every v5 record). */
let noVlanSourcePart = ascii('');
let tailParts: Fragment[] = [];
/** False when the exporter text is not ASCII (never for an IP address): the batch is then written from its text. */
let asciiTail = true;

function batchParts(batch: FlowBatch): void {
  if (batch.source === sourceKey && batch.exporter === exporterKey && batch.observationDomain === domainKey) return;
  sourceKey = batch.source;
  exporterKey = batch.exporter;
  domainKey = batch.observationDomain;
  sourcePart = ascii(`,"source":"${batch.source}","startMs":`);
  noVlanSourcePart = ascii(`,"vlan":0,"source":"${batch.source}","startMs":`);
  const tail = `,"exporter":${JSON.stringify(batch.exporter)},"observationDomain":${batch.observationDomain}}\n`;
  asciiTail = isAscii(tail);
  tailParts = END_REASONS.map((reason) => ascii(asciiTail ? `,"endReason":"${reason}"${tail}` : ''));
}

/** Upper bound of the bytes writeJsonLines writes for `batch`. */
export function jsonLinesBound(batch: FlowBatch): number {
  batchParts(batch);
  return batch.length * (LINE_BOUND + (asciiTail ? tailParts[0].length : 8 * exporterKey.length)) + 8;
}

/**
 * Writes the batch's records as JSON lines into out[pos...] and returns the end offset. The caller leaves
 * jsonLinesBound(batch) bytes of room.
 */
export function writeJsonLines(batch: FlowBatch, out: Uint8Array, pos: number): number {
  batchParts(batch);
  const view = viewOf(out);
  // Latin-1 bytes of the text, as the collector wrote it before this writer.
  if (!asciiTail) return putText(view, pos, batch.toJsonLines());
  const { family, srcIPv4, dstIPv4, srcIPv6, dstIPv6, srcPort, dstPort, protocol, vlan, tcpFlags, endReason } = batch;
  const { startMs, endMs, fwdPackets, bwdPackets, fwdBytes, bwdBytes } = batch;
  const source = sourcePart;
  const noVlanSource = noVlanSourcePart;
  const tails = tailParts;
  for (let i = 0; i < batch.length; i++) {
    pos = put(view, pos, SRC_ADDR);
    pos = family[i] === 4 ? putIPv4(view, pos, srcIPv4[i]) : putText(view, pos, ipv6Text(srcIPv6, i * 16));
    pos = put(view, pos, DST_ADDR);
    pos = family[i] === 4 ? putIPv4(view, pos, dstIPv4[i]) : putText(view, pos, ipv6Text(dstIPv6, i * 16));
    pos = put(view, pos, SRC_PORT);
    pos = putShort(view, pos, srcPort[i]);
    pos = put(view, pos, DST_PORT);
    pos = putShort(view, pos, dstPort[i]);
    pos = put(view, pos, PROTOCOL);
    pos = putShort(view, pos, protocol[i]);
    if (vlan[i] === 0) pos = put(view, pos, noVlanSource);
    else {
      pos = put(view, pos, VLAN);
      pos = putShort(view, pos, vlan[i]);
      pos = put(view, pos, source);
    }
    pos = putNumber(view, pos, startMs[i]);
    pos = put(view, pos, END_MS);
    pos = putNumber(view, pos, endMs[i]);
    const fp = fwdPackets[i];
    const bp = bwdPackets[i];
    const fb = fwdBytes[i];
    const bb = bwdBytes[i];
    pos = put(view, pos, PACKETS);
    const packetsAt = pos;
    pos = putNumber(view, pos, fp + bp);
    const packetsEnd = pos;
    pos = put(view, pos, BYTES);
    const bytesAt = pos;
    pos = putNumber(view, pos, fb + bb);
    const bytesEnd = pos;
    // A unidirectional flow's forward counters are its totals: their text is copied, not written again.
    pos = put(view, pos, FWD_PACKETS);
    pos = bp === 0 ? copyText(view, packetsAt, packetsEnd, pos) : putNumber(view, pos, fp);
    if (bp === 0) pos = put(view, pos, NO_BWD_PACKETS);
    else {
      pos = put(view, pos, BWD_PACKETS);
      pos = putNumber(view, pos, bp);
      pos = put(view, pos, FWD_BYTES);
    }
    pos = bb === 0 ? copyText(view, bytesAt, bytesEnd, pos) : putNumber(view, pos, fb);
    if (bb === 0) pos = put(view, pos, NO_BWD_BYTES);
    else {
      pos = put(view, pos, BWD_BYTES);
      pos = putNumber(view, pos, bb);
      pos = put(view, pos, TCP_FLAGS);
    }
    pos = putShort(view, pos, tcpFlags[i]);
    pos = put(view, pos, tails[endReason[i]]);
  }
  return pos;
}

let lastOut: Uint8Array | undefined;
let lastView: View = new DataView(new ArrayBuffer(0));

function viewOf(out: Uint8Array): View {
  if (out !== lastOut) {
    lastOut = out;
    lastView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
  return lastView;
}

function put(view: View, pos: number, text: Fragment): number {
  const words = text.words;
  for (let k = 0; k < words.length; k++) view.setFloat64(pos + 8 * k, words[k], true);
  return pos + text.length;
}

/** Copies the text at [from, end) to pos, 8 bytes per store (what it writes past its end is overwritten next). */
function copyText(view: View, from: number, end: number, pos: number): number {
  for (let k = from; k < end; k += 8) view.setFloat64(pos + k - from, view.getFloat64(k, true), true);
  return pos + end - from;
}

/** ASCII text (numbers, addresses) byte by byte. */
function putText(view: View, pos: number, text: string): number {
  for (let k = 0; k < text.length; k++) view.setUint8(pos + k, text.charCodeAt(k));
  return pos + text.length;
}

/** Dotted IPv4 text, cached per address in a direct-mapped table (flows share addresses heavily). */
const IPV4_SLOTS = 1 << 16;
const ipv4Keys = new Float64Array(IPV4_SLOTS).fill(-1);
const ipv4Lengths = new Uint8Array(IPV4_SLOTS);
const ipv4View: View = new DataView(new ArrayBuffer(IPV4_SLOTS * 16));

function putIPv4(view: View, pos: number, v: number): number {
  const slot = (Math.imul(v, 0x9e3779b1) >>> 16) & (IPV4_SLOTS - 1);
  const at = slot * 16;
  if (ipv4Keys[slot] !== v) {
    ipv4Keys[slot] = v;
    let p = putSmall(ipv4View, at, v >>> 24);
    ipv4View.setUint8(p++, 46);
    p = putSmall(ipv4View, p, (v >>> 16) & 255);
    ipv4View.setUint8(p++, 46);
    p = putSmall(ipv4View, p, (v >>> 8) & 255);
    ipv4View.setUint8(p++, 46);
    p = putSmall(ipv4View, p, v & 255);
    ipv4Lengths[slot] = p - at;
  }
  // All 16 bytes as two 8-byte words (ASCII or zero bytes: never a NaN), whatever the length: the bytes past it are
  // overwritten by what follows.
  view.setFloat64(pos, ipv4View.getFloat64(at, true), true);
  view.setFloat64(pos + 8, ipv4View.getFloat64(at + 8, true), true);
  return pos + ipv4Lengths[slot];
}

/** "00".."99" as little-endian 16-bit words and "0000".."9999" as 32-bit words: two or four digits per store. */
const DIGIT_PAIRS = Uint16Array.from({ length: 100 }, (_, n) => (48 + ((n / 10) | 0)) | ((48 + (n % 10)) << 8));
const DIGIT_QUADS = Uint32Array.from({ length: 10_000 }, (_, n) => (DIGIT_PAIRS[(n / 100) | 0] | (DIGIT_PAIRS[n % 100] << 16)) >>> 0);

/** The n decimal digits (leading zeros) of an integer 0 ≤ v < min(10^n, 2^31), ending before view[end]. */
function putDigits(view: View, end: number, v: number, n: number): void {
  // An int32 from here on, so the divisions by 100 are integer multiplications, not float divisions in a chain.
  v |= 0;
  for (; n >= 4; n -= 4) {
    const q = (v / 10_000) | 0;
    end -= 4;
    view.setUint32(end, DIGIT_QUADS[v - q * 10_000], true);
    v = q;
  }
  if (n >= 2) {
    const q = (v / 100) | 0;
    end -= 2;
    view.setUint16(end, DIGIT_PAIRS[v - q * 100], true);
    v = q;
    n -= 2;
  }
  if (n === 1) view.setUint8(end - 1, 48 + v);
}

/** "0".."9999" left-aligned in little-endian 32-bit words, and their lengths. */
const SHORT_TEXTS = Uint32Array.from({ length: 10_000 }, (_, n) => {
  const width = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : 4;
  return DIGIT_QUADS[n] >>> (8 * (4 - width));
});
const SHORT_LENGTHS = Uint8Array.from({ length: 10_000 }, (_, n) => (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : 4));

/**
 * Decimal digits of an integer 0 ≤ v < 65,536 (ports, protocol, flags, VLAN) in one or two stores; writes up to 3
 * bytes past them, overwritten next. Less code than putSmall, so more of a line fits V8's inlining budget.
 */
function putShort(view: View, pos: number, v: number): number {
  if (v < 10_000) {
    view.setUint32(pos, SHORT_TEXTS[v], true);
    return pos + SHORT_LENGTHS[v];
  }
  const tens = (v / 10) | 0;
  view.setUint32(pos, DIGIT_QUADS[tens], true);
  view.setUint8(pos + 4, 48 + v - tens * 10);
  return pos + 5;
}

/** Decimal digits of an integer 0 ≤ v < 2^31. */
function putSmall(view: View, pos: number, v: number): number {
  const n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10_000 ? 4 : v < 100_000 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10;
  putDigits(view, pos + n, v, n);
  return pos + n;
}

/** Exactly `width` decimal digits (leading zeros) of an integer 0 ≤ v < 10^width ≤ 2^53. */
function putPadded(view: View, pos: number, v: number, width: number): number {
  if (width > 9) {
    const high = Math.floor(v / 1e9);
    pos = putPadded(view, pos, high, width - 9);
    v -= high * 1e9;
    width = 9;
  }
  putDigits(view, pos + width, v, width);
  return pos + width;
}

/**
 * The digits of the last large integer's v / 10^4 (rounded down), kept as two 8-byte words: the times of a datagram
 * (13-digit ms) mostly share them, so only their last four digits are written anew.
 */
let prefixKey = -1;
let prefixLength = 0;
const prefixView: View = new DataView(new ArrayBuffer(16));

/** Decimal digits of an integer 0 ≤ v < 2^53. */
function putInteger(view: View, pos: number, v: number): number {
  if (v < 0x80000000) return putSmall(view, pos, v);
  // 2^31 / 10^4 ≤ prefix < 2^53 / 10^4: 6 to 12 digits.
  const prefix = Math.floor(v / 10_000);
  if (prefix !== prefixKey) {
    prefixKey = prefix;
    if (prefix < 0x80000000) prefixLength = putSmall(prefixView, 0, prefix);
    else {
      const high = Math.floor(prefix / 1e9);
      prefixLength = putPadded(prefixView, putSmall(prefixView, 0, high), prefix - high * 1e9, 9);
    }
  }
  // 16 bytes (digits or zeros: never a NaN) whatever the length; up to 6 past the last digit are overwritten next.
  view.setFloat64(pos, prefixView.getFloat64(0, true), true);
  view.setFloat64(pos + 8, prefixView.getFloat64(8, true), true);
  pos += prefixLength;
  view.setUint32(pos, DIGIT_QUADS[v - prefix * 10_000], true);
  return pos + 4;
}

const TWO_53 = 2 ** 53;

/** `${x}`, byte for byte. */
export function putNumber(view: View, pos: number, x: number): number {
  if (x >= 0 && x < TWO_53) {
    const whole = Math.floor(x);
    if (whole === x) return putInteger(view, pos, x);
    if (x >= 1) {
      const end = putFraction(view, pos, x, whole);
      if (end >= 0) return end;
    }
  }
  return putText(view, pos, String(x));
}

const bits = new Float64Array(1);
const bitWords = new Uint32Array(bits.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
/** 2^(52 − e) for the exponents e = 0..52 of doubles in [1, 2^53). */
const SCALES = Float64Array.from({ length: 53 }, (_, e) => 2 ** (52 - e));

/**
 * Writes a non-integer 1 ≤ x < 2^53 the way Number::toString does: the fewest fraction digits q whose decimal
 * whole.g (g < 10^q) rounds to x, and among those the g closest to x (the even one on a tie). With ulp = 1 / P the
 * spacing of doubles at x (P a power of two ≥ 2), x = whole + j / P for an integer j < P; whole.g rounds to x when
 * |g − F| < h with F = j·10^q / P and h = 10^q / (2P) (also at |g − F| = h when x's significand, i.e. j, is even).
 * F ± h = (2j ± 1)·5^q·2^q / (2P) is exact in doubles while (2j + 1)·5^q < 2^53; past that returns -1 and the
 * caller falls back to String(x). A decimal with the integer part whole ± 1 cannot round to x: the integer in
 * between would then round to x, but every integer below 2^53 is its own double.
 */
function putFraction(view: View, pos: number, x: number, whole: number): number {
  bits[0] = x;
  const scale = SCALES[((bitWords[HIGH_WORD] >>> 20) & 0x7ff) - 1023];
  const j = (x - whole) * scale;
  // The digits depend on j and the scale only, not on the integer part: the times of a v5 datagram (export time
  // minus whole milliseconds) all share them.
  if (j !== lastJ || scale !== lastScale) {
    lastJ = j;
    lastScale = scale;
    lastDigits = fractionDigits(j, scale);
    if (lastDigits >= 0) {
      fractionView.setUint8(0, 46);
      fractionLength = putPadded(fractionView, 1, fractionValue, lastDigits);
    }
  }
  if (lastDigits < 0) return -1;
  pos = putInteger(view, pos, whole);
  // The point and digits as 8-byte words (ASCII: never a NaN); up to 7 bytes past them are overwritten next.
  for (let k = 0; k < fractionLength; k += 8) view.setFloat64(pos + k, fractionView.getFloat64(k, true), true);
  return pos + fractionLength;
}

let lastJ = -1;
let lastScale = -1;
let lastDigits = -1;
/** The last fraction's text: "." and its digits (at most 22). */
const fractionView: View = new DataView(new ArrayBuffer(24));
let fractionLength = 0;
/** The digits fractionDigits found. */
let fractionValue = 0;

/** q and (in fractionValue) g for putFraction, or -1. */
function fractionDigits(j: number, scale: number): number {
  // j has the parity of x's significand (scale ≥ 2 makes the integer part's share even).
  const jEven = Math.floor(j / 2) * 2 === j;
  const perScale = 1 / scale;
  let tens = 1;
  let fives = 1;
  for (let q = 1; q <= 22; q++) {
    tens *= 10;
    fives *= 5;
    if ((2 * j + 1) * fives >= TWO_53) return -1;
    const f = j * tens * perScale;
    const h = tens * 0.5 * perScale;
    let low = Math.ceil(f - h);
    let high = Math.floor(f + h);
    if (!jEven) {
      if (low === f - h) low++;
      if (high === f + h) high--;
    }
    if (low > high) continue;
    let g = low;
    if (low !== high) {
      const below = Math.floor(f);
      const rest = f - below;
      g = rest < 0.5 || (rest === 0.5 && Math.floor(below / 2) * 2 === below) ? below : below + 1;
      if (g < low) g = low;
      else if (g > high) g = high;
    }
    if (g <= 0 || g >= tens) return -1;
    fractionValue = g;
    return q;
  }
  return -1;
}

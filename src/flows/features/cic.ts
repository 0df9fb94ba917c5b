// CICFlowMeter flow features (Lashkari et al., ICISSP 2016/2017), as written by the corrected extractor of Engelen,
// Rimmer & Joosen, "Troubleshooting an Intrusion Detection Dataset: the CICIDS2017 Case Study" (IEEE SPW 2021) — the
// layout of ../shared/datasets/cic-ids2017 and the order of CIC_FEATURES (src/datasets/cic-names.ts).
// Streaming accumulators: O(1) time and a fixed 97-double slot per flow (Welford means/variances, no packet lists).
// Definitions follow the reference CSVs, quirks included, so models trained on them score these values as-is:
// lengths are TCP/UDP payload bytes (0 for other protocols); std/variance are sample (n-1); "Fwd Act Data Pkts" skips the first packet;
// "Bwd Init Win Bytes" is the window of the last backward packet; subflow counts divide by the packet count;
// bulk averages are integer divisions; an activity period enters "Active" only once a > 5 s gap closes it (the
// flow's last period never does). docs/flows.md lists every definition and where it departs from CICFlowMeter.

import { CIC_FEATURES } from '../../datasets/cic-names.js';
import { type DecodedPacket, Tcp } from '../decode/packet.js';

// Constants as a const enum: tsc writes them into the code as literals, where module-level consts would be
// context loads with TDZ checks on every use in the hot functions.
export const enum Slot {
  /** Gap (µs) that separates activity periods, CICFlowMeter's "activity timeout" (5 s). */
  ACTIVITY_TIMEOUT_US = 5_000_000,
  /** A bulk ends after this much silence (µs) in its direction. */
  BULK_GAP_US = 1_000_000,

  // Slot layout: offsets into the flow's Float64Array region.
  START = 0,
  LAST = 1,
  FWD_LAST = 2,
  BWD_LAST = 3,
  FWD_N = 4,
  BWD_N = 5,
  FWD_SUM = 6, // payload bytes
  FWD_MAX = 7,
  FWD_MIN = 8,
  FWD_MEAN = 9,
  FWD_M2 = 10,
  BWD_SUM = 11,
  BWD_MAX = 12,
  BWD_MIN = 13,
  BWD_MEAN = 14,
  BWD_M2 = 15,
  ALL_MIN = 16,
  ALL_MAX = 17,
  ALL_MEAN = 18,
  ALL_M2 = 19,
  IAT = 20, // n, mean, m2, max, min, sum
  FIAT = 26,
  BIAT = 32,
  F_PSH = 38,
  B_PSH = 39,
  F_URG = 40,
  B_URG = 41,
  F_RST = 42,
  B_RST = 43,
  F_HDR = 44,
  B_HDR = 45,
  FLAG_COUNTS = 46, // FIN SYN RST PSH ACK URG CWR ECE
  INIT_WIN_F = 54,
  LAST_WIN_B = 55,
  ACT_DATA_F = 56,
  MIN_SEG_F = 57,
  ACTIVE_START = 58,
  ACTIVE_END = 59,
  ACTIVE = 60, // n, mean, m2, max, min, sum
  IDLE = 66,
  FBULK = 72, // duration, packets, size, states, countHelper, startHelper, sizeHelper, lastTs
  BBULK = 80,
  ICMP_TYPE = 88,
  ICMP_CODE = 89,
  FWD_IP_BYTES = 90,
  BWD_IP_BYTES = 91,
  FRAME_BYTES = 92,
  TCP_FLAGS = 93,
  /** Bit 1: FIN seen forward, bit 2: FIN seen backward. */
  FIN_DIRS = 94,
  /** Time the flow closed (FIN exchange or RST), 0 while open. */
  CLOSED_AT = 95,
  /** First packet of the TCP connection, which may predate this flow when a timeout split the connection. */
  TCP_START = 96,
  SLOT_DOUBLES = 97,
}

// Summary-statistics block: [n, mean, m2, max, min, sum].
function statAdd(f: Float64Array, s: number, x: number): void {
  const n = f[s]! + 1;
  f[s] = n;
  const d = x - f[s + 1]!;
  const mean = f[s + 1]! + d / n;
  f[s + 1] = mean;
  f[s + 2]! += d * (x - mean);
  if (n === 1 || x > f[s + 3]!) f[s + 3] = x;
  if (n === 1 || x < f[s + 4]!) f[s + 4] = x;
  f[s + 5]! += x;
}

function sampleStd(n: number, m2: number): number {
  return n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
}

/**
 * CICFlowMeter measures lengths on TCP and UDP segments only: ICMP, other protocols and later IP fragments (no
 * transport header) count 0 payload and 0 header bytes, as every such row of the reference release shows.
 */
function cicPayloadLen(p: DecodedPacket): number {
  return (p.protocol === 6 || p.protocol === 17) && p.fragment !== 2 ? p.payloadLen : 0;
}

function cicHeaderLen(p: DecodedPacket): number {
  return (p.protocol === 6 || p.protocol === 17) && p.fragment !== 2 ? p.l4HeaderLen : 0;
}

/**
 * Starts a flow's accumulators with its first (forward) packet: what cicAdd would leave after that packet in a
 * zeroed slot. The slot must be fresh (zeros) or cleared by clearMultiPacketFields when its last flow ended: only the
 * fields a one-packet flow uses are written here, the accumulators of later packets are zero already. Most flows of a
 * DDoS capture have one packet, and copying a zero slot over all 97 doubles for each was ~2% of the instructions of
 * metering the real bench capture.
 */
export function cicStart(f: Float64Array, base: number, p: DecodedPacket): void {
  const tsUs = p.tsUs;
  const len = cicPayloadLen(p);
  const hdr = cicHeaderLen(p);
  const flags = p.tcpFlags;
  f[base + Slot.START] = tsUs;
  f[base + Slot.LAST] = tsUs;
  f[base + Slot.FWD_LAST] = tsUs;
  f[base + Slot.FWD_N] = 1;
  f[base + Slot.BWD_N] = 0;
  f[base + Slot.FWD_SUM] = len;
  f[base + Slot.FWD_MAX] = len;
  f[base + Slot.FWD_MIN] = len;
  f[base + Slot.FWD_MEAN] = len;
  f[base + Slot.ALL_MIN] = len;
  f[base + Slot.ALL_MAX] = len;
  f[base + Slot.ALL_MEAN] = len;
  f[base + Slot.F_HDR] = hdr;
  f[base + Slot.MIN_SEG_F] = hdr;
  f[base + Slot.INIT_WIN_F] = p.tcpWindow;
  f[base + Slot.ACTIVE_START] = tsUs;
  f[base + Slot.ACTIVE_END] = tsUs;
  f[base + Slot.ICMP_TYPE] = p.icmpType;
  f[base + Slot.ICMP_CODE] = p.icmpCode;
  f[base + Slot.FWD_IP_BYTES] = p.ipBytes;
  f[base + Slot.BWD_IP_BYTES] = 0;
  f[base + Slot.FRAME_BYTES] = p.frameLen;
  f[base + Slot.TCP_FLAGS] = flags;
  f[base + Slot.FIN_DIRS] = 0;
  f[base + Slot.CLOSED_AT] = 0;
  f[base + Slot.TCP_START] = tsUs;
  const fc = base + Slot.FLAG_COUNTS;
  f[fc] = flags & Tcp.TCP_FIN;
  f[fc + 1] = (flags >> 1) & 1;
  f[fc + 2] = (flags >> 2) & 1;
  f[fc + 3] = (flags >> 3) & 1;
  f[fc + 4] = (flags >> 4) & 1;
  f[fc + 5] = (flags >> 5) & 1;
  f[fc + 6] = (flags >> 7) & 1;
  f[fc + 7] = (flags >> 6) & 1;
  f[base + Slot.F_PSH] = (flags >> 3) & 1;
  f[base + Slot.F_URG] = (flags >> 5) & 1;
  f[base + Slot.F_RST] = (flags >> 2) & 1;
  // The first payload packet starts a candidate bulk (bulk() with empty helpers).
  const payload = len > 0;
  f[base + Slot.FBULK + 4] = payload ? 1 : 0;
  f[base + Slot.FBULK + 5] = payload ? tsUs : 0;
  f[base + Slot.FBULK + 6] = len;
  f[base + Slot.FBULK + 7] = payload ? tsUs : 0;
}

/**
 * Zeroes the accumulators that only a flow's second and later packets set (cicAdd), which cicStart expects at zero:
 * for an ended flow of more than one packet, before its slot is reused.
 */
export function clearMultiPacketFields(f: Float64Array, base: number): void {
  f[base + Slot.BWD_LAST] = 0;
  f[base + Slot.FWD_M2] = 0;
  for (let i = base + Slot.BWD_SUM; i <= base + Slot.BWD_M2; i++) f[i] = 0;
  // ALL_M2 and the IAT, FIAT and BIAT blocks, which follow it.
  for (let i = base + Slot.ALL_M2; i < base + Slot.F_PSH; i++) f[i] = 0;
  f[base + Slot.B_PSH] = 0;
  f[base + Slot.B_URG] = 0;
  f[base + Slot.B_RST] = 0;
  f[base + Slot.B_HDR] = 0;
  f[base + Slot.LAST_WIN_B] = 0;
  f[base + Slot.ACT_DATA_F] = 0;
  // The ACTIVE and IDLE blocks, and the forward bulk's totals (its helpers, at FBULK + 4..7, are cicStart's).
  for (let i = base + Slot.ACTIVE; i < base + Slot.FBULK + 4; i++) f[i] = 0;
  for (let i = base + Slot.BBULK; i < base + Slot.BBULK + 8; i++) f[i] = 0;
}

/** Adds one packet (its time and frame length are p.tsUs and p.frameLen); `fwd` is true for the initiator's direction. */
export function cicAdd(f: Float64Array, base: number, p: DecodedPacket, fwd: boolean): void {
  const tsUs = p.tsUs;
  const len = cicPayloadLen(p);
  const hdr = cicHeaderLen(p);
  const flags = p.tcpFlags;
  // Whole flow.
  statAdd(f, base + Slot.IAT, tsUs - f[base + Slot.LAST]!);
  f[base + Slot.LAST] = tsUs;
  const n = f[base + Slot.FWD_N]! + f[base + Slot.BWD_N]! + 1;
  const dAll = len - f[base + Slot.ALL_MEAN]!;
  const meanAll = f[base + Slot.ALL_MEAN]! + dAll / n;
  f[base + Slot.ALL_MEAN] = meanAll;
  f[base + Slot.ALL_M2]! += dAll * (len - meanAll);
  if (len > f[base + Slot.ALL_MAX]!) f[base + Slot.ALL_MAX] = len;
  if (len < f[base + Slot.ALL_MIN]!) f[base + Slot.ALL_MIN] = len;
  f[base + Slot.FRAME_BYTES]! += p.frameLen;
  if (flags !== 0) {
    f[base + Slot.TCP_FLAGS] = f[base + Slot.TCP_FLAGS]! | flags;
    const fc = base + Slot.FLAG_COUNTS;
    if (flags & Tcp.TCP_FIN) f[fc]!++;
    if (flags & Tcp.TCP_SYN) f[fc + 1]!++;
    if (flags & Tcp.TCP_RST) f[fc + 2]!++;
    if (flags & Tcp.TCP_PSH) f[fc + 3]!++;
    if (flags & Tcp.TCP_ACK) f[fc + 4]!++;
    if (flags & Tcp.TCP_URG) f[fc + 5]!++;
    if (flags & Tcp.TCP_CWR) f[fc + 6]!++;
    if (flags & Tcp.TCP_ECE) f[fc + 7]!++;
  }
  // Activity periods separated by gaps longer than the activity timeout.
  if (tsUs - f[base + Slot.ACTIVE_END]! > Slot.ACTIVITY_TIMEOUT_US) {
    const active = f[base + Slot.ACTIVE_END]! - f[base + Slot.ACTIVE_START]!;
    if (active > 0) statAdd(f, base + Slot.ACTIVE, active);
    statAdd(f, base + Slot.IDLE, tsUs - f[base + Slot.ACTIVE_END]!);
    f[base + Slot.ACTIVE_START] = tsUs;
  }
  f[base + Slot.ACTIVE_END] = tsUs;
  // Per direction.
  if (fwd) {
    const k = f[base + Slot.FWD_N]! + 1;
    f[base + Slot.FWD_N] = k;
    if (k > 1) statAdd(f, base + Slot.FIAT, tsUs - f[base + Slot.FWD_LAST]!);
    f[base + Slot.FWD_LAST] = tsUs;
    f[base + Slot.FWD_SUM]! += len;
    const d = len - f[base + Slot.FWD_MEAN]!;
    const mean = f[base + Slot.FWD_MEAN]! + d / k;
    f[base + Slot.FWD_MEAN] = mean;
    f[base + Slot.FWD_M2]! += d * (len - mean);
    if (k === 1 || len > f[base + Slot.FWD_MAX]!) f[base + Slot.FWD_MAX] = len;
    if (k === 1 || len < f[base + Slot.FWD_MIN]!) f[base + Slot.FWD_MIN] = len;
    f[base + Slot.F_HDR]! += hdr;
    f[base + Slot.FWD_IP_BYTES]! += p.ipBytes;
    if (len >= 1) f[base + Slot.ACT_DATA_F]!++;
    if (hdr < f[base + Slot.MIN_SEG_F]!) f[base + Slot.MIN_SEG_F] = hdr;
    if (flags & Tcp.TCP_PSH) f[base + Slot.F_PSH]!++;
    if (flags & Tcp.TCP_URG) f[base + Slot.F_URG]!++;
    if (flags & Tcp.TCP_RST) f[base + Slot.F_RST]!++;
    bulk(f, base + Slot.FBULK, base + Slot.BBULK, len, p);
  } else {
    const k = f[base + Slot.BWD_N]! + 1;
    f[base + Slot.BWD_N] = k;
    if (k > 1) statAdd(f, base + Slot.BIAT, tsUs - f[base + Slot.BWD_LAST]!);
    f[base + Slot.BWD_LAST] = tsUs;
    f[base + Slot.BWD_SUM]! += len;
    const d = len - f[base + Slot.BWD_MEAN]!;
    const mean = f[base + Slot.BWD_MEAN]! + d / k;
    f[base + Slot.BWD_MEAN] = mean;
    f[base + Slot.BWD_M2]! += d * (len - mean);
    if (k === 1 || len > f[base + Slot.BWD_MAX]!) f[base + Slot.BWD_MAX] = len;
    if (k === 1 || len < f[base + Slot.BWD_MIN]!) f[base + Slot.BWD_MIN] = len;
    f[base + Slot.B_HDR]! += hdr;
    f[base + Slot.BWD_IP_BYTES]! += p.ipBytes;
    f[base + Slot.LAST_WIN_B] = p.tcpWindow;
    if (flags & Tcp.TCP_PSH) f[base + Slot.B_PSH]!++;
    if (flags & Tcp.TCP_URG) f[base + Slot.B_URG]!++;
    if (flags & Tcp.TCP_RST) f[base + Slot.B_RST]!++;
    bulk(f, base + Slot.BBULK, base + Slot.FBULK, len, p);
  }
}

/**
 * CICFlowMeter's bulk detector for one direction: a bulk is ≥ 4 consecutive payload packets in this direction with
 * gaps ≤ 1 s and no payload packet of the other direction in between.
 */
function bulk(f: Float64Array, s: number, other: number, size: number, p: DecodedPacket): void {
  const tsUs = p.tsUs;
  // [0 duration, 1 packets, 2 size, 3 states, 4 countHelper, 5 startHelper, 6 sizeHelper, 7 lastTs]
  if (f[other + 7]! > f[s + 5]!) f[s + 5] = 0;
  if (size <= 0) return;
  if (f[s + 5] === 0 || tsUs - f[s + 7]! > Slot.BULK_GAP_US) {
    f[s + 5] = tsUs;
    f[s + 4] = 1;
    f[s + 6] = size;
    f[s + 7] = tsUs;
    return;
  }
  const count = f[s + 4]! + 1;
  f[s + 4] = count;
  f[s + 6]! += size;
  if (count === 4) {
    f[s + 3]!++;
    f[s + 1]! += count;
    f[s + 2]! += f[s + 6]!;
    f[s]! += tsUs - f[s + 5]!;
  } else if (count > 4) {
    f[s + 1]!++;
    f[s + 2]! += size;
    f[s]! += tsUs - f[s + 7]!;
  }
  f[s + 7] = tsUs;
}

function indexOfFeature(name: string): number {
  const i = CIC_FEATURES.indexOf(name);
  if (i < 0) throw new Error(`CIC_FEATURES has no '${name}'`);
  return i;
}

/** Output positions in CIC_FEATURES, as literals (a const enum); OUT_NAMES checks them against the list at load. */
const enum Out {
  dstPort = 0, protocol = 1, duration = 2, fwdN = 3, bwdN = 4, fwdLen = 5, bwdLen = 6, fwdMax = 7, fwdMin = 8,
  fwdMean = 9, fwdStd = 10, bwdMax = 11, bwdMin = 12, bwdMean = 13, bwdStd = 14, bytesPerS = 15, pktsPerS = 16,
  iat = 17, fiat = 21, biat = 26, fPsh = 31, bPsh = 32, fUrg = 33, bUrg = 34, fRst = 35, bRst = 36, fHdr = 37,
  bHdr = 38, fPktsPerS = 39, bPktsPerS = 40, lenMin = 41, lenMax = 42, lenMean = 43, lenStd = 44, lenVar = 45,
  fin = 46, syn = 47, rst = 48, psh = 49, ack = 50, urg = 51, cwr = 52, ece = 53, downUp = 54, avgSize = 55,
  fSeg = 56, bSeg = 57, fBulkBytes = 58, fBulkPkts = 59, fBulkRate = 60, bBulkBytes = 61, bBulkPkts = 62,
  bBulkRate = 63, sfFwdPkts = 64, sfFwdBytes = 65, sfBwdPkts = 66, sfBwdBytes = 67, fInitWin = 68, bInitWin = 69,
  fActData = 70, fSegMin = 71, active = 72, idle = 76, icmpCode = 80, icmpType = 81, tcpTime = 82,
}
const at = indexOfFeature;
const OUT_NAMES = [
  [Out.dstPort, 'Dst Port'], [Out.protocol, 'Protocol'], [Out.duration, 'Flow Duration'],
  [Out.fwdN, 'Total Fwd Packet'], [Out.bwdN, 'Total Bwd packets'], [Out.fwdLen, 'Total Length of Fwd Packet'],
  [Out.bwdLen, 'Total Length of Bwd Packet'], [Out.fwdMax, 'Fwd Packet Length Max'],
  [Out.fwdMin, 'Fwd Packet Length Min'], [Out.fwdMean, 'Fwd Packet Length Mean'],
  [Out.fwdStd, 'Fwd Packet Length Std'], [Out.bwdMax, 'Bwd Packet Length Max'],
  [Out.bwdMin, 'Bwd Packet Length Min'], [Out.bwdMean, 'Bwd Packet Length Mean'],
  [Out.bwdStd, 'Bwd Packet Length Std'], [Out.bytesPerS, 'Flow Bytes/s'], [Out.pktsPerS, 'Flow Packets/s'],
  [Out.iat, 'Flow IAT Mean'], [Out.fiat, 'Fwd IAT Total'], [Out.biat, 'Bwd IAT Total'],
  [Out.fPsh, 'Fwd PSH Flags'], [Out.bPsh, 'Bwd PSH Flags'], [Out.fUrg, 'Fwd URG Flags'],
  [Out.bUrg, 'Bwd URG Flags'], [Out.fRst, 'Fwd RST Flags'], [Out.bRst, 'Bwd RST Flags'],
  [Out.fHdr, 'Fwd Header Length'], [Out.bHdr, 'Bwd Header Length'], [Out.fPktsPerS, 'Fwd Packets/s'],
  [Out.bPktsPerS, 'Bwd Packets/s'], [Out.lenMin, 'Packet Length Min'], [Out.lenMax, 'Packet Length Max'],
  [Out.lenMean, 'Packet Length Mean'], [Out.lenStd, 'Packet Length Std'], [Out.lenVar, 'Packet Length Variance'],
  [Out.fin, 'FIN Flag Count'], [Out.syn, 'SYN Flag Count'], [Out.rst, 'RST Flag Count'],
  [Out.psh, 'PSH Flag Count'], [Out.ack, 'ACK Flag Count'], [Out.urg, 'URG Flag Count'],
  [Out.cwr, 'CWR Flag Count'], [Out.ece, 'ECE Flag Count'], [Out.downUp, 'Down/Up Ratio'],
  [Out.avgSize, 'Average Packet Size'], [Out.fSeg, 'Fwd Segment Size Avg'], [Out.bSeg, 'Bwd Segment Size Avg'],
  [Out.fBulkBytes, 'Fwd Bytes/Bulk Avg'], [Out.fBulkPkts, 'Fwd Packet/Bulk Avg'],
  [Out.fBulkRate, 'Fwd Bulk Rate Avg'], [Out.bBulkBytes, 'Bwd Bytes/Bulk Avg'],
  [Out.bBulkPkts, 'Bwd Packet/Bulk Avg'], [Out.bBulkRate, 'Bwd Bulk Rate Avg'],
  [Out.sfFwdPkts, 'Subflow Fwd Packets'], [Out.sfFwdBytes, 'Subflow Fwd Bytes'],
  [Out.sfBwdPkts, 'Subflow Bwd Packets'], [Out.sfBwdBytes, 'Subflow Bwd Bytes'],
  [Out.fInitWin, 'FWD Init Win Bytes'], [Out.bInitWin, 'Bwd Init Win Bytes'],
  [Out.fActData, 'Fwd Act Data Pkts'], [Out.fSegMin, 'Fwd Seg Size Min'], [Out.active, 'Active Mean'],
  [Out.idle, 'Idle Mean'], [Out.icmpCode, 'ICMP Code'], [Out.icmpType, 'ICMP Type'],
  [Out.tcpTime, 'Total TCP Flow Time']
] as const;
for (const [position, name] of OUT_NAMES) {
  if (at(name) !== position) throw new Error(`CIC_FEATURES: '${name}' is no longer at ${position}`);
}
// The block writers below fill runs of adjacent columns; check the canonical order still has them adjacent.
for (const [first, last, width] of [
  ['Flow IAT Mean', 'Flow IAT Min', 3],
  ['Fwd IAT Total', 'Fwd IAT Min', 4],
  ['Bwd IAT Total', 'Bwd IAT Min', 4],
  ['Active Mean', 'Active Min', 3],
  ['Idle Mean', 'Idle Min', 3],
] as const) {
  if (at(last) - at(first) !== width) throw new Error(`CIC_FEATURES: '${first}'..'${last}' are no longer adjacent`);
}

/** Writes [total, mean, std, max, min] of an IAT block (zeros when empty). */
function writeIat(out: Float64Array, o: number, f: Float64Array, s: number): void {
  const n = f[s]!;
  if (n === 0) {
    out[o] = out[o + 1] = out[o + 2] = out[o + 3] = out[o + 4] = 0;
    return;
  }
  out[o] = f[s + 5]!;
  out[o + 1] = f[s + 1]!;
  out[o + 2] = sampleStd(n, f[s + 2]!);
  out[o + 3] = f[s + 3]!;
  out[o + 4] = f[s + 4]!;
}

/** Writes [mean, std, max, min] of a summary block (zeros when empty). */
function writeMeanStdMaxMin(out: Float64Array, o: number, f: Float64Array, s: number): void {
  const n = f[s]!;
  out[o] = n > 0 ? f[s + 1]! : 0;
  out[o + 1] = sampleStd(n, f[s + 2]!);
  out[o + 2] = n > 0 ? f[s + 3]! : 0;
  out[o + 3] = n > 0 ? f[s + 4]! : 0;
}

function bulkOut(out: Float64Array, bytesAt: number, pktsAt: number, rateAt: number, f: Float64Array, s: number): void {
  const states = f[s + 3]!;
  out[bytesAt] = states > 0 ? Math.floor(f[s + 2]! / states) : 0;
  out[pktsAt] = states > 0 ? Math.floor(f[s + 1]! / states) : 0;
  out[rateAt] = f[s]! > 0 ? Math.floor(f[s + 2]! / (f[s]! / 1e6)) : 0;
}

/** The CIC feature vector of a finished flow, in CIC_FEATURES order, written at out[o, o + CIC_FEATURES.length). */
export function cicFeatures(f: Float64Array, base: number, dstPort: number, protocol: number, out: Float64Array = new Float64Array(CIC_FEATURES.length), o = 0): Float64Array {
  // One-packet flows (most of a DDoS capture) take a short path with the same values.
  if (f[base + Slot.FWD_N] === 1 && f[base + Slot.BWD_N] === 0) return onePacketFeatures(f, base, dstPort, protocol, out, o);
  return anyFlowFeatures(f, base, dstPort, protocol, out, o);
}

/**
 * The row onePacketFeatures builds before copying it out: the features a one-packet flow leaves at zero are never
 * written, so they stay zero, and the values it sets go to fixed positions of one array (no offset arithmetic and
 * overflow check per value, as writing at out[o + k] took).
 */
const ONE_PACKET_ROW = new Float64Array(CIC_FEATURES.length);

/**
 * cicFeatures of a flow of one (forward) packet: no duration, so no rates; no IATs, activity periods or bulks; no
 * spread. Everything else comes from the slot as in anyFlowFeatures, of which this is the n = 1 case.
 */
function onePacketFeatures(f: Float64Array, base: number, dstPort: number, protocol: number, out: Float64Array, o: number): Float64Array {
  const len = f[base + Slot.FWD_SUM]!;
  const row = ONE_PACKET_ROW;
  row[Out.dstPort] = dstPort;
  row[Out.protocol] = protocol;
  row[Out.fwdN] = 1;
  row[Out.fwdLen] = len;
  row[Out.fwdMax] = f[base + Slot.FWD_MAX]!;
  row[Out.fwdMin] = f[base + Slot.FWD_MIN]!;
  row[Out.fwdMean] = f[base + Slot.FWD_MEAN]!;
  row[Out.fPsh] = f[base + Slot.F_PSH]!;
  row[Out.fUrg] = f[base + Slot.F_URG]!;
  row[Out.fRst] = f[base + Slot.F_RST]!;
  row[Out.fHdr] = f[base + Slot.F_HDR]!;
  row[Out.lenMin] = f[base + Slot.ALL_MIN]!;
  row[Out.lenMax] = f[base + Slot.ALL_MAX]!;
  row[Out.lenMean] = len;
  const fc = base + Slot.FLAG_COUNTS;
  row[Out.fin] = f[fc]!;
  row[Out.syn] = f[fc + 1]!;
  row[Out.rst] = f[fc + 2]!;
  row[Out.psh] = f[fc + 3]!;
  row[Out.ack] = f[fc + 4]!;
  row[Out.urg] = f[fc + 5]!;
  row[Out.cwr] = f[fc + 6]!;
  row[Out.ece] = f[fc + 7]!;
  row[Out.avgSize] = len;
  row[Out.fSeg] = len;
  row[Out.sfFwdPkts] = 1;
  row[Out.sfFwdBytes] = Math.floor(len);
  row[Out.fInitWin] = f[base + Slot.INIT_WIN_F]!;
  row[Out.fSegMin] = f[base + Slot.MIN_SEG_F]!;
  row[Out.icmpCode] = f[base + Slot.ICMP_CODE]!;
  row[Out.icmpType] = f[base + Slot.ICMP_TYPE]!;
  // A one-packet TCP flow may continue a connection that a timeout split (cicStart's caller recalls its start).
  row[Out.tcpTime] = protocol === 6 ? f[base + Slot.LAST]! - f[base + Slot.TCP_START]! : 0;
  out.set(row, o);
  return out;
}

/** cicFeatures for any flow (exported for the test that checks the one-packet path against it). */
export function anyFlowFeatures(f: Float64Array, base: number, dstPort: number, protocol: number, out: Float64Array = new Float64Array(CIC_FEATURES.length), o = 0): Float64Array {
  const fwdN = f[base + Slot.FWD_N]!;
  const bwdN = f[base + Slot.BWD_N]!;
  const n = fwdN + bwdN;
  const fwdSum = f[base + Slot.FWD_SUM]!;
  const bwdSum = f[base + Slot.BWD_SUM]!;
  const duration = f[base + Slot.LAST]! - f[base + Slot.START]!;
  const seconds = duration / 1e6;
  out[o + Out.dstPort] = dstPort;
  out[o + Out.protocol] = protocol;
  out[o + Out.duration] = duration;
  out[o + Out.fwdN] = fwdN;
  out[o + Out.bwdN] = bwdN;
  out[o + Out.fwdLen] = fwdSum;
  out[o + Out.bwdLen] = bwdSum;
  out[o + Out.fwdMax] = fwdN > 0 ? f[base + Slot.FWD_MAX]! : 0;
  out[o + Out.fwdMin] = fwdN > 0 ? f[base + Slot.FWD_MIN]! : 0;
  out[o + Out.fwdMean] = fwdN > 0 ? f[base + Slot.FWD_MEAN]! : 0;
  out[o + Out.fwdStd] = sampleStd(fwdN, f[base + Slot.FWD_M2]!);
  out[o + Out.bwdMax] = bwdN > 0 ? f[base + Slot.BWD_MAX]! : 0;
  out[o + Out.bwdMin] = bwdN > 0 ? f[base + Slot.BWD_MIN]! : 0;
  out[o + Out.bwdMean] = bwdN > 0 ? f[base + Slot.BWD_MEAN]! : 0;
  out[o + Out.bwdStd] = sampleStd(bwdN, f[base + Slot.BWD_M2]!);
  // CICFlowMeter divides by a zero duration (Infinity/NaN in its CSVs); a one-instant flow gets 0 here.
  out[o + Out.bytesPerS] = seconds > 0 ? (fwdSum + bwdSum) / seconds : 0;
  out[o + Out.pktsPerS] = seconds > 0 ? n / seconds : 0;
  // Flow IAT: mean, std, max, min.
  const iatN = f[base + Slot.IAT]!;
  out[o + Out.iat] = iatN > 0 ? f[base + Slot.IAT + 1]! : 0;
  out[o + Out.iat + 1] = sampleStd(iatN, f[base + Slot.IAT + 2]!);
  out[o + Out.iat + 2] = iatN > 0 ? f[base + Slot.IAT + 3]! : 0;
  out[o + Out.iat + 3] = iatN > 0 ? f[base + Slot.IAT + 4]! : 0;
  writeIat(out, o + Out.fiat, f, base + Slot.FIAT);
  writeIat(out, o + Out.biat, f, base + Slot.BIAT);
  out[o + Out.fPsh] = f[base + Slot.F_PSH]!;
  out[o + Out.bPsh] = f[base + Slot.B_PSH]!;
  out[o + Out.fUrg] = f[base + Slot.F_URG]!;
  out[o + Out.bUrg] = f[base + Slot.B_URG]!;
  out[o + Out.fRst] = f[base + Slot.F_RST]!;
  out[o + Out.bRst] = f[base + Slot.B_RST]!;
  out[o + Out.fHdr] = f[base + Slot.F_HDR]!;
  out[o + Out.bHdr] = f[base + Slot.B_HDR]!;
  out[o + Out.fPktsPerS] = seconds > 0 ? fwdN / seconds : 0;
  out[o + Out.bPktsPerS] = seconds > 0 ? bwdN / seconds : 0;
  out[o + Out.lenMin] = f[base + Slot.ALL_MIN]!;
  out[o + Out.lenMax] = f[base + Slot.ALL_MAX]!;
  out[o + Out.lenMean] = n > 0 ? (fwdSum + bwdSum) / n : 0;
  const variance = n > 1 ? f[base + Slot.ALL_M2]! / (n - 1) : 0;
  out[o + Out.lenStd] = Math.sqrt(variance);
  out[o + Out.lenVar] = variance;
  out[o + Out.fin] = f[base + Slot.FLAG_COUNTS]!;
  out[o + Out.syn] = f[base + Slot.FLAG_COUNTS + 1]!;
  out[o + Out.rst] = f[base + Slot.FLAG_COUNTS + 2]!;
  out[o + Out.psh] = f[base + Slot.FLAG_COUNTS + 3]!;
  out[o + Out.ack] = f[base + Slot.FLAG_COUNTS + 4]!;
  out[o + Out.urg] = f[base + Slot.FLAG_COUNTS + 5]!;
  out[o + Out.cwr] = f[base + Slot.FLAG_COUNTS + 6]!;
  out[o + Out.ece] = f[base + Slot.FLAG_COUNTS + 7]!;
  out[o + Out.downUp] = fwdN > 0 ? bwdN / fwdN : 0;
  out[o + Out.avgSize] = n > 0 ? (fwdSum + bwdSum) / n : 0;
  out[o + Out.fSeg] = fwdN > 0 ? fwdSum / fwdN : 0;
  out[o + Out.bSeg] = bwdN > 0 ? bwdSum / bwdN : 0;
  bulkOut(out, o + Out.fBulkBytes, o + Out.fBulkPkts, o + Out.fBulkRate, f, base + Slot.FBULK);
  bulkOut(out, o + Out.bBulkBytes, o + Out.bBulkPkts, o + Out.bBulkRate, f, base + Slot.BBULK);
  // CICFlowMeter's subflow counter advances on every packet (an operator-precedence slip kept in the reference CSVs).
  out[o + Out.sfFwdPkts] = n > 0 ? Math.floor(fwdN / n) : 0;
  out[o + Out.sfFwdBytes] = n > 0 ? Math.floor(fwdSum / n) : 0;
  out[o + Out.sfBwdPkts] = n > 0 ? Math.floor(bwdN / n) : 0;
  out[o + Out.sfBwdBytes] = n > 0 ? Math.floor(bwdSum / n) : 0;
  out[o + Out.fInitWin] = f[base + Slot.INIT_WIN_F]!;
  out[o + Out.bInitWin] = f[base + Slot.LAST_WIN_B]!;
  out[o + Out.fActData] = f[base + Slot.ACT_DATA_F]!;
  out[o + Out.fSegMin] = f[base + Slot.MIN_SEG_F]!;
  writeMeanStdMaxMin(out, o + Out.active, f, base + Slot.ACTIVE);
  writeMeanStdMaxMin(out, o + Out.idle, f, base + Slot.IDLE);
  out[o + Out.icmpCode] = f[base + Slot.ICMP_CODE]!;
  out[o + Out.icmpType] = f[base + Slot.ICMP_TYPE]!;
  out[o + Out.tcpTime] = protocol === 6 ? f[base + Slot.LAST]! - f[base + Slot.TCP_START]! : 0;
  return out;
}

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
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, type DecodedPacket } from '../decode/packet.js';

/** Gap (µs) that separates activity periods, CICFlowMeter's "activity timeout" (5 s). */
export const ACTIVITY_TIMEOUT_US = 5_000_000;
/** A bulk ends after this much silence (µs) in its direction. */
const BULK_GAP_US = 1_000_000;

// Slot layout: offsets into the flow's Float64Array region.
export const START = 0;
export const LAST = 1;
const FWD_LAST = 2;
const BWD_LAST = 3;
export const FWD_N = 4;
export const BWD_N = 5;
export const FWD_SUM = 6; // payload bytes
const FWD_MAX = 7;
const FWD_MIN = 8;
const FWD_MEAN = 9;
const FWD_M2 = 10;
export const BWD_SUM = 11;
const BWD_MAX = 12;
const BWD_MIN = 13;
const BWD_MEAN = 14;
const BWD_M2 = 15;
const ALL_MIN = 16;
const ALL_MAX = 17;
const ALL_MEAN = 18;
const ALL_M2 = 19;
const IAT = 20; // n, mean, m2, max, min, sum
const FIAT = 26;
const BIAT = 32;
const F_PSH = 38;
const B_PSH = 39;
const F_URG = 40;
const B_URG = 41;
const F_RST = 42;
const B_RST = 43;
const F_HDR = 44;
const B_HDR = 45;
const FLAG_COUNTS = 46; // FIN SYN RST PSH ACK URG CWR ECE
const INIT_WIN_F = 54;
const LAST_WIN_B = 55;
const ACT_DATA_F = 56;
const MIN_SEG_F = 57;
const ACTIVE_START = 58;
const ACTIVE_END = 59;
const ACTIVE = 60; // n, mean, m2, max, min, sum
const IDLE = 66;
const FBULK = 72; // duration, packets, size, states, countHelper, startHelper, sizeHelper, lastTs
const BBULK = 80;
export const ICMP_TYPE = 88;
export const ICMP_CODE = 89;
export const FWD_IP_BYTES = 90;
export const BWD_IP_BYTES = 91;
export const FRAME_BYTES = 92;
export const TCP_FLAGS = 93;
/** Bit 1: FIN seen forward, bit 2: FIN seen backward. */
export const FIN_DIRS = 94;
/** Time the flow closed (FIN exchange or RST), 0 while open. */
export const CLOSED_AT = 95;
/** First packet of the TCP connection, which may predate this flow when a timeout split the connection. */
export const TCP_START = 96;
export const SLOT_DOUBLES = 97;

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

/** Starts a flow's accumulators with its first (forward) packet. */
export function cicStart(f: Float64Array, base: number, p: DecodedPacket): void {
  const tsUs = p.tsUs;
  f.fill(0, base, base + SLOT_DOUBLES);
  f[base + START] = tsUs;
  f[base + ACTIVE_START] = tsUs;
  f[base + ACTIVE_END] = tsUs;
  f[base + TCP_START] = tsUs;
  f[base + INIT_WIN_F] = p.tcpWindow;
  f[base + MIN_SEG_F] = cicHeaderLen(p);
  f[base + ICMP_TYPE] = p.icmpType;
  f[base + ICMP_CODE] = p.icmpCode;
  f[base + ALL_MIN] = cicPayloadLen(p);
  f[base + ALL_MAX] = cicPayloadLen(p);
  cicAdd(f, base, p, true, true);
}

/** Adds one packet (its time and frame length are p.tsUs and p.frameLen); `fwd` is true for the initiator's direction. */
export function cicAdd(f: Float64Array, base: number, p: DecodedPacket, fwd: boolean, first = false): void {
  const tsUs = p.tsUs;
  const len = cicPayloadLen(p);
  const hdr = cicHeaderLen(p);
  const flags = p.tcpFlags;
  // Whole flow.
  if (!first) statAdd(f, base + IAT, tsUs - f[base + LAST]!);
  f[base + LAST] = tsUs;
  const n = f[base + FWD_N]! + f[base + BWD_N]! + 1;
  const dAll = len - f[base + ALL_MEAN]!;
  const meanAll = f[base + ALL_MEAN]! + dAll / n;
  f[base + ALL_MEAN] = meanAll;
  f[base + ALL_M2]! += dAll * (len - meanAll);
  if (len > f[base + ALL_MAX]!) f[base + ALL_MAX] = len;
  if (len < f[base + ALL_MIN]!) f[base + ALL_MIN] = len;
  f[base + FRAME_BYTES]! += p.frameLen;
  if (flags !== 0) {
    f[base + TCP_FLAGS] = f[base + TCP_FLAGS]! | flags;
    const fc = base + FLAG_COUNTS;
    if (flags & TCP_FIN) f[fc]!++;
    if (flags & TCP_SYN) f[fc + 1]!++;
    if (flags & TCP_RST) f[fc + 2]!++;
    if (flags & TCP_PSH) f[fc + 3]!++;
    if (flags & TCP_ACK) f[fc + 4]!++;
    if (flags & TCP_URG) f[fc + 5]!++;
    if (flags & TCP_CWR) f[fc + 6]!++;
    if (flags & TCP_ECE) f[fc + 7]!++;
  }
  // Activity periods separated by gaps longer than the activity timeout.
  if (tsUs - f[base + ACTIVE_END]! > ACTIVITY_TIMEOUT_US) {
    const active = f[base + ACTIVE_END]! - f[base + ACTIVE_START]!;
    if (active > 0) statAdd(f, base + ACTIVE, active);
    statAdd(f, base + IDLE, tsUs - f[base + ACTIVE_END]!);
    f[base + ACTIVE_START] = tsUs;
  }
  f[base + ACTIVE_END] = tsUs;
  // Per direction.
  if (fwd) {
    const k = f[base + FWD_N]! + 1;
    f[base + FWD_N] = k;
    if (k > 1) statAdd(f, base + FIAT, tsUs - f[base + FWD_LAST]!);
    f[base + FWD_LAST] = tsUs;
    f[base + FWD_SUM]! += len;
    const d = len - f[base + FWD_MEAN]!;
    const mean = f[base + FWD_MEAN]! + d / k;
    f[base + FWD_MEAN] = mean;
    f[base + FWD_M2]! += d * (len - mean);
    if (k === 1 || len > f[base + FWD_MAX]!) f[base + FWD_MAX] = len;
    if (k === 1 || len < f[base + FWD_MIN]!) f[base + FWD_MIN] = len;
    f[base + F_HDR]! += hdr;
    f[base + FWD_IP_BYTES]! += p.ipBytes;
    if (!first && len >= 1) f[base + ACT_DATA_F]!++;
    if (hdr < f[base + MIN_SEG_F]!) f[base + MIN_SEG_F] = hdr;
    if (flags & TCP_PSH) f[base + F_PSH]!++;
    if (flags & TCP_URG) f[base + F_URG]!++;
    if (flags & TCP_RST) f[base + F_RST]!++;
    bulk(f, base + FBULK, base + BBULK, len, p);
  } else {
    const k = f[base + BWD_N]! + 1;
    f[base + BWD_N] = k;
    if (k > 1) statAdd(f, base + BIAT, tsUs - f[base + BWD_LAST]!);
    f[base + BWD_LAST] = tsUs;
    f[base + BWD_SUM]! += len;
    const d = len - f[base + BWD_MEAN]!;
    const mean = f[base + BWD_MEAN]! + d / k;
    f[base + BWD_MEAN] = mean;
    f[base + BWD_M2]! += d * (len - mean);
    if (k === 1 || len > f[base + BWD_MAX]!) f[base + BWD_MAX] = len;
    if (k === 1 || len < f[base + BWD_MIN]!) f[base + BWD_MIN] = len;
    f[base + B_HDR]! += hdr;
    f[base + BWD_IP_BYTES]! += p.ipBytes;
    f[base + LAST_WIN_B] = p.tcpWindow;
    if (flags & TCP_PSH) f[base + B_PSH]!++;
    if (flags & TCP_URG) f[base + B_URG]!++;
    if (flags & TCP_RST) f[base + B_RST]!++;
    bulk(f, base + BBULK, base + FBULK, len, p);
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
  if (f[s + 5] === 0 || tsUs - f[s + 7]! > BULK_GAP_US) {
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

// Output positions, resolved once against the canonical list.
const at = indexOfFeature;
const OUT = {
  dstPort: at('Dst Port'),
  protocol: at('Protocol'),
  duration: at('Flow Duration'),
  fwdN: at('Total Fwd Packet'),
  bwdN: at('Total Bwd packets'),
  fwdLen: at('Total Length of Fwd Packet'),
  bwdLen: at('Total Length of Bwd Packet'),
  fwdMax: at('Fwd Packet Length Max'),
  fwdMin: at('Fwd Packet Length Min'),
  fwdMean: at('Fwd Packet Length Mean'),
  fwdStd: at('Fwd Packet Length Std'),
  bwdMax: at('Bwd Packet Length Max'),
  bwdMin: at('Bwd Packet Length Min'),
  bwdMean: at('Bwd Packet Length Mean'),
  bwdStd: at('Bwd Packet Length Std'),
  bytesPerS: at('Flow Bytes/s'),
  pktsPerS: at('Flow Packets/s'),
  iat: at('Flow IAT Mean'),
  fiat: at('Fwd IAT Total'),
  biat: at('Bwd IAT Total'),
  fPsh: at('Fwd PSH Flags'),
  bPsh: at('Bwd PSH Flags'),
  fUrg: at('Fwd URG Flags'),
  bUrg: at('Bwd URG Flags'),
  fRst: at('Fwd RST Flags'),
  bRst: at('Bwd RST Flags'),
  fHdr: at('Fwd Header Length'),
  bHdr: at('Bwd Header Length'),
  fPktsPerS: at('Fwd Packets/s'),
  bPktsPerS: at('Bwd Packets/s'),
  lenMin: at('Packet Length Min'),
  lenMax: at('Packet Length Max'),
  lenMean: at('Packet Length Mean'),
  lenStd: at('Packet Length Std'),
  lenVar: at('Packet Length Variance'),
  fin: at('FIN Flag Count'),
  syn: at('SYN Flag Count'),
  rst: at('RST Flag Count'),
  psh: at('PSH Flag Count'),
  ack: at('ACK Flag Count'),
  urg: at('URG Flag Count'),
  cwr: at('CWR Flag Count'),
  ece: at('ECE Flag Count'),
  downUp: at('Down/Up Ratio'),
  avgSize: at('Average Packet Size'),
  fSeg: at('Fwd Segment Size Avg'),
  bSeg: at('Bwd Segment Size Avg'),
  fBulkBytes: at('Fwd Bytes/Bulk Avg'),
  fBulkPkts: at('Fwd Packet/Bulk Avg'),
  fBulkRate: at('Fwd Bulk Rate Avg'),
  bBulkBytes: at('Bwd Bytes/Bulk Avg'),
  bBulkPkts: at('Bwd Packet/Bulk Avg'),
  bBulkRate: at('Bwd Bulk Rate Avg'),
  sfFwdPkts: at('Subflow Fwd Packets'),
  sfFwdBytes: at('Subflow Fwd Bytes'),
  sfBwdPkts: at('Subflow Bwd Packets'),
  sfBwdBytes: at('Subflow Bwd Bytes'),
  fInitWin: at('FWD Init Win Bytes'),
  bInitWin: at('Bwd Init Win Bytes'),
  fActData: at('Fwd Act Data Pkts'),
  fSegMin: at('Fwd Seg Size Min'),
  active: at('Active Mean'),
  idle: at('Idle Mean'),
  icmpCode: at('ICMP Code'),
  icmpType: at('ICMP Type'),
  tcpTime: at('Total TCP Flow Time'),
};
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
  const fwdN = f[base + FWD_N]!;
  const bwdN = f[base + BWD_N]!;
  const n = fwdN + bwdN;
  const fwdSum = f[base + FWD_SUM]!;
  const bwdSum = f[base + BWD_SUM]!;
  const duration = f[base + LAST]! - f[base + START]!;
  const seconds = duration / 1e6;
  out[o + OUT.dstPort] = dstPort;
  out[o + OUT.protocol] = protocol;
  out[o + OUT.duration] = duration;
  out[o + OUT.fwdN] = fwdN;
  out[o + OUT.bwdN] = bwdN;
  out[o + OUT.fwdLen] = fwdSum;
  out[o + OUT.bwdLen] = bwdSum;
  out[o + OUT.fwdMax] = fwdN > 0 ? f[base + FWD_MAX]! : 0;
  out[o + OUT.fwdMin] = fwdN > 0 ? f[base + FWD_MIN]! : 0;
  out[o + OUT.fwdMean] = fwdN > 0 ? f[base + FWD_MEAN]! : 0;
  out[o + OUT.fwdStd] = sampleStd(fwdN, f[base + FWD_M2]!);
  out[o + OUT.bwdMax] = bwdN > 0 ? f[base + BWD_MAX]! : 0;
  out[o + OUT.bwdMin] = bwdN > 0 ? f[base + BWD_MIN]! : 0;
  out[o + OUT.bwdMean] = bwdN > 0 ? f[base + BWD_MEAN]! : 0;
  out[o + OUT.bwdStd] = sampleStd(bwdN, f[base + BWD_M2]!);
  // CICFlowMeter divides by a zero duration (Infinity/NaN in its CSVs); a one-instant flow gets 0 here.
  out[o + OUT.bytesPerS] = seconds > 0 ? (fwdSum + bwdSum) / seconds : 0;
  out[o + OUT.pktsPerS] = seconds > 0 ? n / seconds : 0;
  // Flow IAT: mean, std, max, min.
  const iatN = f[base + IAT]!;
  out[o + OUT.iat] = iatN > 0 ? f[base + IAT + 1]! : 0;
  out[o + OUT.iat + 1] = sampleStd(iatN, f[base + IAT + 2]!);
  out[o + OUT.iat + 2] = iatN > 0 ? f[base + IAT + 3]! : 0;
  out[o + OUT.iat + 3] = iatN > 0 ? f[base + IAT + 4]! : 0;
  writeIat(out, o + OUT.fiat, f, base + FIAT);
  writeIat(out, o + OUT.biat, f, base + BIAT);
  out[o + OUT.fPsh] = f[base + F_PSH]!;
  out[o + OUT.bPsh] = f[base + B_PSH]!;
  out[o + OUT.fUrg] = f[base + F_URG]!;
  out[o + OUT.bUrg] = f[base + B_URG]!;
  out[o + OUT.fRst] = f[base + F_RST]!;
  out[o + OUT.bRst] = f[base + B_RST]!;
  out[o + OUT.fHdr] = f[base + F_HDR]!;
  out[o + OUT.bHdr] = f[base + B_HDR]!;
  out[o + OUT.fPktsPerS] = seconds > 0 ? fwdN / seconds : 0;
  out[o + OUT.bPktsPerS] = seconds > 0 ? bwdN / seconds : 0;
  out[o + OUT.lenMin] = f[base + ALL_MIN]!;
  out[o + OUT.lenMax] = f[base + ALL_MAX]!;
  out[o + OUT.lenMean] = n > 0 ? (fwdSum + bwdSum) / n : 0;
  const variance = n > 1 ? f[base + ALL_M2]! / (n - 1) : 0;
  out[o + OUT.lenStd] = Math.sqrt(variance);
  out[o + OUT.lenVar] = variance;
  out[o + OUT.fin] = f[base + FLAG_COUNTS]!;
  out[o + OUT.syn] = f[base + FLAG_COUNTS + 1]!;
  out[o + OUT.rst] = f[base + FLAG_COUNTS + 2]!;
  out[o + OUT.psh] = f[base + FLAG_COUNTS + 3]!;
  out[o + OUT.ack] = f[base + FLAG_COUNTS + 4]!;
  out[o + OUT.urg] = f[base + FLAG_COUNTS + 5]!;
  out[o + OUT.cwr] = f[base + FLAG_COUNTS + 6]!;
  out[o + OUT.ece] = f[base + FLAG_COUNTS + 7]!;
  out[o + OUT.downUp] = fwdN > 0 ? bwdN / fwdN : 0;
  out[o + OUT.avgSize] = n > 0 ? (fwdSum + bwdSum) / n : 0;
  out[o + OUT.fSeg] = fwdN > 0 ? fwdSum / fwdN : 0;
  out[o + OUT.bSeg] = bwdN > 0 ? bwdSum / bwdN : 0;
  bulkOut(out, o + OUT.fBulkBytes, o + OUT.fBulkPkts, o + OUT.fBulkRate, f, base + FBULK);
  bulkOut(out, o + OUT.bBulkBytes, o + OUT.bBulkPkts, o + OUT.bBulkRate, f, base + BBULK);
  // CICFlowMeter's subflow counter advances on every packet (an operator-precedence slip kept in the reference CSVs).
  out[o + OUT.sfFwdPkts] = n > 0 ? Math.floor(fwdN / n) : 0;
  out[o + OUT.sfFwdBytes] = n > 0 ? Math.floor(fwdSum / n) : 0;
  out[o + OUT.sfBwdPkts] = n > 0 ? Math.floor(bwdN / n) : 0;
  out[o + OUT.sfBwdBytes] = n > 0 ? Math.floor(bwdSum / n) : 0;
  out[o + OUT.fInitWin] = f[base + INIT_WIN_F]!;
  out[o + OUT.bInitWin] = f[base + LAST_WIN_B]!;
  out[o + OUT.fActData] = f[base + ACT_DATA_F]!;
  out[o + OUT.fSegMin] = f[base + MIN_SEG_F]!;
  writeMeanStdMaxMin(out, o + OUT.active, f, base + ACTIVE);
  writeMeanStdMaxMin(out, o + OUT.idle, f, base + IDLE);
  out[o + OUT.icmpCode] = f[base + ICMP_CODE]!;
  out[o + OUT.icmpType] = f[base + ICMP_TYPE]!;
  out[o + OUT.tcpTime] = protocol === 6 ? f[base + LAST]! - f[base + TCP_START]! : 0;
  return out;
}

// Mutation fuzzing of the pcap and pcapng readers plus the decoder and flow meter behind them (in the spirit of
// AFL's deterministic + havoc stages, without coverage feedback). Seeds are the shared captures and the tunnelled
// packets of test/fixtures/captures, cut at record / block boundaries into small inputs; each input gets bit flips,
// byte overwrites, length-field corruption, truncation, insertion or duplication, and is fed to a reader in random
// chunk sizes. Any exception is a crash.
// Memory must stay bounded: the meter is shared across inputs with a capped flow table. Every packet also takes the
// two-thread path on one thread (decode → packPacket → addPacked into a meter with MeterBatch output, rows written
// as CSV to /dev/null): both meters must end with the same flows and counts, else the run counts a divergence.
// `npm run bench -- fuzz-packets [--inputs N] [--seconds S] [--seed K]` (default 1,000,000 inputs per format).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeSync, openSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { MeterBatch, FlowMeter } from '../src/flows/meter.js';
import { decodePacket } from '../src/flows/decode/decode.js';
import { DecodedPacket, packPacket, Packed } from '../src/flows/decode/packet.js';
import { ByteWriter } from '../src/flows/byte-writer.js';
import { writeCicBatch } from '../src/flows/flow-rows.js';
import { CIC_FEATURES } from '../src/datasets/cic-names.js';
import { PcapReader, readU32, type CaptureReader, type RawPacket } from '../src/io/pcap.js';
import { PcapngReader } from '../src/io/pcapng.js';
import { Rng } from '../src/util/rng.js';
import { peakRssMb } from './lib/measure.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/** A seed capture split into its file header and its records (pcap) or blocks after the header ones (pcapng). */
export interface Seed {
  format: CaptureFormat;
  header: Uint8Array;
  records: Uint8Array[];
}

export interface FuzzResult {
  format: CaptureFormat;
  inputs: number;
  crashes: number;
  firstCrash?: string;
  packets: number;
  skipped: number;
  flows: number;
  /** Times the packed-packet / MeterBatch meter disagreed with the direct one (flow count or stats). */
  divergences: number;
  seconds: number;
  peakRssMb: number;
}

/** Splits a capture into header and records; undefined when it is neither pcap nor pcapng. */
export function splitSeed(bytes: Uint8Array): Seed | undefined {
  const magic = readU32(bytes, 0, false);
  if (magic === 0x0a0d0d0a) {
    const little = readU32(bytes, 8, true) === 0x1a2b3c4d;
    const records: Uint8Array[] = [];
    let pos = 0;
    let headerEnd = 0;
    while (pos + 12 <= bytes.length) {
      const type = readU32(bytes, pos, little);
      const len = readU32(bytes, pos + 4, little);
      if (len < 12 || pos + len > bytes.length) break;
      if (type === 0x0a0d0d0a || type === 1) headerEnd = pos + len;
      else records.push(bytes.subarray(pos, pos + len));
      pos += len;
    }
    return { format: 'pcapng', header: bytes.subarray(0, headerEnd), records };
  }
  const little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!little && magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) return undefined;
  const records: Uint8Array[] = [];
  let pos = 24;
  while (pos + 16 <= bytes.length) {
    const len = 16 + readU32(bytes, pos + 8, little);
    if (pos + len > bytes.length) break;
    records.push(bytes.subarray(pos, pos + len));
    pos += len;
  }
  return { format: 'pcap', header: bytes.subarray(0, 24), records };
}

/** The project's own seed captures (tunnels, which the shared captures hardly hold). */
const FIXTURE_CAPTURES = fileURLToPath(new URL('../../test/fixtures/captures', import.meta.url));

/** Loads every capture under the shared pcaps folder and test/fixtures/captures as seeds. */
export function loadSeeds(datasets = resolve(process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets')): Seed[] {
  const seeds: Seed[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const seed = splitSeed(readFileSync(path));
        if (seed && seed.records.length > 0) seeds.push(seed);
      }
    }
  };
  walk(join(datasets, 'pcaps'));
  walk(FIXTURE_CAPTURES);
  return seeds;
}

/** One mutated input: the seed's header and a few consecutive records, then 1-4 mutations. */
function mutate(seed: Seed, rng: Rng): Uint8Array {
  const start = rng.int(seed.records.length);
  const count = 1 + rng.int(8);
  const parts = [seed.header, ...seed.records.slice(start, start + count)];
  let size = 0;
  for (const p of parts) size += p.length;
  let buf = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(Math.max(1, buf.length));
    switch (rng.int(7)) {
      case 0: // bit flips
        for (let k = 1 + rng.int(8); k > 0; k--) {
          const i = rng.int(buf.length);
          buf[i]! ^= 1 << rng.int(8);
        }
        break;
      case 1: // interesting byte values
        buf[at] = [0, 0xff, 0x7f, 0x80, 1][rng.int(5)]!;
        break;
      case 2: {
        // length-field corruption: overwrite an aligned 32-bit word (record caplen, block length, IP/UDP lengths...)
        const i = at & ~3;
        const v = [0, 0xffffffff, 0x7fffffff, 12, 16, 0x10000, rng.int(2 ** 32)][rng.int(7)]!;
        if (i + 4 <= buf.length) new DataView(buf.buffer, buf.byteOffset).setUint32(i, v, rng.int(2) === 0);
        break;
      }
      case 3: // truncation
        buf = buf.subarray(0, at);
        break;
      case 4: {
        // insertion of random bytes
        const n = 1 + rng.int(16);
        const out = new Uint8Array(buf.length + n);
        out.set(buf.subarray(0, at), 0);
        for (let k = 0; k < n; k++) out[at + k] = rng.int(256);
        out.set(buf.subarray(at), at + n);
        buf = out;
        break;
      }
      case 5: {
        // duplicate a region
        const len = rng.int(64);
        const from = rng.int(Math.max(1, buf.length));
        const piece = buf.slice(from, from + len);
        const out = new Uint8Array(buf.length + piece.length);
        out.set(buf.subarray(0, at), 0);
        out.set(piece, at);
        out.set(buf.subarray(at), at + piece.length);
        buf = out;
        break;
      }
      default: // 16-bit field set to 0 or max (IPv4 total length, ihl, TCP offset...)
        if (at + 2 <= buf.length) {
          buf[at] = rng.int(2) === 0 ? 0 : 0xff;
          buf[at + 1] = rng.int(2) === 0 ? 0 : 0xff;
        }
    }
  }
  return buf;
}

/** Fuzzes one format until `inputs` inputs or `seconds` elapse, whichever comes first. */
export function fuzzFormat(seeds: readonly Seed[], format: CaptureFormat, opts: { inputs: number; seconds: number; seed: number }): FuzzResult {
  const pool = seeds.filter((s) => s.format === format);
  if (pool.length === 0) throw new Error(`no ${format} seeds`);
  const rng = new Rng(opts.seed);
  let flows = 0;
  const meter = new FlowMeter(() => flows++, { maxFlows: 5000 });
  let batchFlows = 0;
  const csv = openSync('/dev/null', 'w');
  const writer = new ByteWriter(csv);
  const full = (b: MeterBatch): MeterBatch => {
    batchFlows += b.length;
    writeCicBatch(writer, b);
    writer.push();
    b.length = 0;
    return b;
  };
  const batchMeter = new FlowMeter(() => undefined, { maxFlows: 5000, batches: { first: new MeterBatch(64, CIC_FEATURES.length), full } });
  const decoded = new DecodedPacket();
  const words = new Uint32Array(Packed.PACKED_WORDS);
  const times = new Float64Array(1);
  const onPacket = (raw: RawPacket): void => {
    meter.addPacket(raw);
    packPacket(decoded, decodePacket(raw.linkType, raw.data, raw.offset, raw.capLen, decoded), raw.origLen, words, 0);
    times[0] = raw.tsUs;
    batchMeter.addPacked(words, times, 0);
  };
  let divergences = 0;
  const compare = (): void => {
    meter.flush();
    batchMeter.flush();
    if (batchFlows !== flows || !isDeepStrictEqual(batchMeter.stats, meter.stats)) divergences++;
  };
  let packets = 0;
  let skipped = 0;
  let crashes = 0;
  let firstCrash: string | undefined;
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  let inputs = 0;
  for (; inputs < opts.inputs; inputs++) {
    if ((inputs & 1023) === 0 && performance.now() > deadline) break;
    const input = mutate(pool[rng.int(pool.length)]!, rng);
    try {
      const reader: CaptureReader = format === 'pcap' ? new PcapReader(onPacket) : new PcapngReader(onPacket);
      // Random chunking exercises the readers' carry-over paths.
      for (let o = 0; o < input.length; ) {
        const n = rng.int(3) === 0 ? 1 + rng.int(64) : input.length;
        reader.push(input.subarray(o, o + n));
        o += n;
      }
      reader.end();
      packets += reader.packets;
      for (const [reason, v] of Object.entries(reader.skipped)) if (reason !== 'bytes-after-corruption') skipped += v;
    } catch (err) {
      crashes++;
      firstCrash ??= `${err instanceof Error ? err.stack : String(err)}\ninput (hex): ${Buffer.from(input).toString('hex').slice(0, 512)}`;
    }
    if ((inputs & 0xffff) === 0xffff) compare();
  }
  compare();
  writer.push(true);
  closeSync(csv);
  for (const v of Object.values(meter.stats.skipped)) skipped += v;
  const seconds = (performance.now() - started) / 1000;
  return { format, inputs, crashes, ...(firstCrash ? { firstCrash } : {}), packets, skipped, flows, divergences, seconds, peakRssMb: peakRssMb() };
}

export async function run(args: string[]): Promise<void> {
  const arg = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const inputs = arg('--inputs', 1_000_000);
  const seconds = arg('--seconds', 3600);
  const seed = arg('--seed', 1);
  const seeds = loadSeeds();
  if (seeds.length === 0) throw new Error('no seed captures found under ../shared/datasets/pcaps');
  for (const format of ['pcap', 'pcapng'] as const) {
    const r = fuzzFormat(seeds, format, { inputs, seconds, seed });
    console.log(
      `${format}: ${r.inputs} inputs, ${r.crashes} crashes, ${r.divergences} divergences, ${r.packets} packets decoded, ${r.skipped} skipped, ${r.flows} flows, ` +
        `${r.seconds.toFixed(1)} s (${Math.round(r.inputs / r.seconds)} inputs/s), peak RSS ${r.peakRssMb.toFixed(0)} MB`,
    );
    if (r.firstCrash) console.log(r.firstCrash);
  }
  await Promise.resolve();
}

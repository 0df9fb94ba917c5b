// Mutation fuzzer for the NetFlow v5 / v9 / IPFIX decoders, seeded from real softflowd datagrams
// (test/fixtures/netflow/*.bin). Mutations: bit flips, interesting bytes and 16-bit words (lengths, ids, 0, 255,
// 0xffff) at random offsets and at set/FlowSet headers, truncation, extension, splicing of two datagrams, chunk
// duplication. Template state is shared across iterations (with unmutated seeds mixed in so data sets keep meeting
// valid templates) and checked to stay within its bounds. A crash is any exception out of a decoder or its output
// (FlowRecords, JSON lines), or an inconsistent record.
//
//   npm run bench -- fuzz-netflow [iterations per decoder, default 1000000] [seed]

import { readFileSync } from 'node:fs';
import { decodeDatagram, DecodeStats, FlowBatch, TemplateStore } from '../src/io/netflow/decode.js';
import { Rng } from '../src/util/rng.js';

export type FuzzTarget = 'v5' | 'v9' | 'ipfix';

const SEED_FILES: Record<FuzzTarget, string[]> = {
  v5: ['softflowd-v5.bin'],
  v9: ['softflowd-v9.bin'],
  ipfix: ['softflowd-ipfix.bin', 'softflowd-ipfix-biflow.bin'],
};
const VERSION: Record<FuzzTarget, number> = { v5: 5, v9: 9, ipfix: 10 };

export function loadSeeds(target: FuzzTarget, dir = 'test/fixtures/netflow'): Buffer[] {
  const out: Buffer[] = [];
  for (const name of SEED_FILES[target]) {
    const file = readFileSync(`${dir}/${name}`);
    for (let off = 0; off + 4 <= file.length; ) {
      const n = file.readUInt32BE(off);
      out.push(Buffer.from(file.subarray(off + 4, off + 4 + n)));
      off += 4 + n;
    }
  }
  return out;
}

export interface FuzzResult {
  target: FuzzTarget;
  iterations: number;
  crashes: number;
  firstCrash: string | undefined;
  records: number;
  malformed: number;
  /** Largest template cache and pending FIFO seen: must stay within the store's bounds. */
  maxTemplates: number;
  maxPending: number;
  heapMb: number;
  seconds: number;
}

const INTERESTING_16 = [0, 1, 2, 3, 4, 5, 8, 9, 10, 16, 255, 256, 257, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff];

/** Offsets of set / FlowSet headers of a v9 or IPFIX datagram (as far as its framing goes). */
function setOffsets(buf: Buffer, version: number): number[] {
  const offsets: number[] = [];
  for (let off = version === 9 ? 20 : 16; off + 4 <= buf.length && offsets.length < 64; ) {
    offsets.push(off);
    const len = buf.readUInt16BE(off + 2);
    if (len < 4) break;
    off += len;
  }
  return offsets;
}

export function mutate(rng: Rng, seeds: readonly Buffer[], version: number): Buffer {
  let buf = Buffer.from(seeds[rng.int(seeds.length)]);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    if (buf.length === 0) buf = Buffer.from(seeds[rng.int(seeds.length)]);
    switch (rng.int(9)) {
      case 0:
        buf[rng.int(buf.length)] ^= 1 << rng.int(8);
        break;
      case 1:
        buf[rng.int(buf.length)] = INTERESTING_8[rng.int(INTERESTING_8.length)];
        break;
      case 2:
        if (buf.length >= 2) buf.writeUInt16BE(INTERESTING_16[rng.int(INTERESTING_16.length)], rng.int(buf.length - 1));
        break;
      case 3: {
        const sets = setOffsets(buf, version);
        if (sets.length > 0) {
          const at = sets[rng.int(sets.length)] + 2 * rng.int(4);
          if (at + 2 <= buf.length) buf.writeUInt16BE(rng.next() < 0.5 ? INTERESTING_16[rng.int(INTERESTING_16.length)] : rng.int(65536), at);
        }
        break;
      }
      case 4:
        buf = buf.subarray(0, rng.int(buf.length + 1));
        break;
      case 5: {
        const extra = Buffer.alloc(1 + rng.int(64));
        for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
        buf = Buffer.concat([buf, extra]);
        break;
      }
      case 6: {
        const other = seeds[rng.int(seeds.length)];
        buf = Buffer.concat([buf.subarray(0, rng.int(buf.length + 1)), other.subarray(rng.int(other.length + 1))]);
        break;
      }
      case 7: {
        const from = rng.int(buf.length);
        const chunk = buf.subarray(from, from + 1 + rng.int(64));
        const at = rng.int(buf.length + 1);
        buf = Buffer.concat([buf.subarray(0, at), chunk, buf.subarray(at)]);
        break;
      }
      default:
        for (let i = 0, n = 1 + rng.int(16); i < n; i++) buf[rng.int(buf.length)] = rng.int(256);
    }
  }
  // Mostly keep the version, so the intended decoder is the one exercised.
  if (buf.length >= 2 && rng.next() < 0.95) buf.writeUInt16BE(version, 0);
  return buf;
}

export interface FuzzOptions {
  iterations: number;
  seed?: number;
  /** Stop early after this many ms (short runs in tests). */
  timeLimitMs?: number;
  seedsDir?: string;
}

export function fuzzDecoder(target: FuzzTarget, options: FuzzOptions): FuzzResult {
  const seeds = loadSeeds(target, options.seedsDir);
  const version = VERSION[target];
  const rng = new Rng(options.seed ?? 1);
  const store = new TemplateStore({ maxTemplates: 512, maxPendingSets: 64, maxPendingBytes: 256 << 10, maxPendingAgeMs: 2000 });
  const stats = new DecodeStats();
  const exporters = ['192.0.2.1', '192.0.2.2', '2001:db8::1'];
  const batch = new FlowBatch();
  const start = performance.now();
  const deadline = options.timeLimitMs !== undefined ? start + options.timeLimitMs : Number.POSITIVE_INFINITY;
  let crashes = 0;
  let firstCrash: string | undefined;
  let maxTemplates = 0;
  let maxPending = 0;
  let maxHeap = 0;
  let records = 0;
  let i = 0;
  for (; i < options.iterations; i++) {
    if ((i & 1023) === 0) {
      if (performance.now() > deadline) break;
      maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
    }
    const datagram = rng.next() < 0.1 ? seeds[rng.int(seeds.length)] : mutate(rng, seeds, version);
    try {
      decodeDatagram(datagram, exporters[rng.int(exporters.length)], i, store, batch, stats);
      for (const f of batch.toRecords()) {
        if (f.packets !== f.fwdPackets + f.bwdPackets || !Number.isFinite(f.startMs) || !Number.isFinite(f.endMs)) {
          throw new Error(`inconsistent record ${JSON.stringify(f)}`);
        }
      }
      // Every 16th input: the JSON-lines output must parse.
      if ((i & 15) === 0) for (const line of batch.toJsonLines().split('\n')) if (line) JSON.parse(line);
      records += batch.length;
    } catch (err) {
      crashes++;
      firstCrash ??= `${err instanceof Error ? err.stack : String(err)}\n  input: ${datagram.toString('hex')}`;
    }
    maxTemplates = Math.max(maxTemplates, store.size);
    maxPending = Math.max(maxPending, store.pendingCount);
  }
  return {
    target,
    iterations: i,
    crashes,
    firstCrash,
    records,
    malformed: stats.malformedTotal,
    maxTemplates,
    maxPending,
    heapMb: maxHeap / 2 ** 20,
    seconds: (performance.now() - start) / 1000,
  };
}

export async function run(args: string[]): Promise<void> {
  const iterations = Number(args[0] ?? 1_000_000);
  const seed = Number(args[1] ?? 1);
  const { markdownTable, machineLine } = await import('./lib/measure.js');
  const rows: (string | number)[][] = [];
  let crashed = false;
  for (const target of ['v5', 'v9', 'ipfix'] as FuzzTarget[]) {
    const r = fuzzDecoder(target, { iterations, seed });
    console.error(`${target}: ${r.iterations} inputs, ${r.crashes} crashes, ${r.seconds.toFixed(1)} s`);
    if (r.firstCrash) console.error(r.firstCrash);
    crashed ||= r.crashes > 0;
    rows.push([target, r.iterations, r.crashes, r.records, r.malformed, r.maxTemplates, r.maxPending, r.heapMb.toFixed(0), Math.round(r.iterations / r.seconds)]);
  }
  console.log(`Fuzz (${machineLine()}, seed ${seed})\n`);
  console.log(
    markdownTable(['decoder', 'inputs', 'crashes', 'records decoded', 'malformed dropped', 'max templates (cap 512)', 'max pending (cap 64)', 'peak heap MB', 'inputs/s'], rows),
  );
  if (crashed) process.exitCode = 1;
}

// pcap / pcapng readers against files built byte by byte: timestamps (µs, ns, pcapng if_tsresol), byte orders,
// several interfaces with their own link types, simple packet blocks, unknown blocks, chunking, truncation,
// gzip, and the one-line error for a file that is not a capture.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { PcapReader, type RawPacket } from '../../src/io/pcap.js';
import { PcapngReader } from '../../src/io/pcapng.js';
import { readCapture } from '../../src/io/capture.js';
import { UserError } from '../../src/errors.js';
import { sharedFile } from '../helpers/datasets.js';
import { ethernet, ipv4, pcapFile, pcapngFile, udp, type Frame } from '../flows/packet-builder.js';

interface Seen {
  tsUs: number;
  capLen: number;
  origLen: number;
  linkType: number;
  first: number;
}

function collect(out: Seen[]): (p: RawPacket) => void {
  return (p) => out.push({ tsUs: p.tsUs, capLen: p.capLen, origLen: p.origLen, linkType: p.linkType, first: p.data[p.offset]! });
}

const frame = (t: number, payload: number): Frame => ({ t, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp(1000, 53, payload))) });
const frames = [frame(1_500_000_000.25, 10), frame(1_500_000_001.000001, 20), frame(1_500_000_002.5, 30)];

for (const bigEndian of [false, true]) {
  for (const nanos of [false, true]) {
    test(`pcap ${bigEndian ? 'big' : 'little'}-endian ${nanos ? 'ns' : 'µs'}: timestamps, lengths, link type`, () => {
      const seen: Seen[] = [];
      const r = new PcapReader(collect(seen));
      r.push(pcapFile(frames, { bigEndian, nanos, linkType: 1 }));
      r.end();
      assert.equal(r.packets, 3);
      assert.deepEqual(r.skipped, {});
      assert.deepEqual(seen.map((s) => s.tsUs), [1_500_000_000_250_000, 1_500_000_001_000_001, 1_500_000_002_500_000]);
      assert.deepEqual(seen.map((s) => s.capLen), frames.map((f) => f.bytes.length));
      assert.ok(seen.every((s) => s.linkType === 1 && s.first === 1));
    });
  }
}

test('pcap: byte-at-a-time chunks give the same packets as one chunk', () => {
  const file = pcapFile(frames);
  const whole: Seen[] = [];
  const r1 = new PcapReader(collect(whole));
  r1.push(file);
  r1.end();
  const bytewise: Seen[] = [];
  const r2 = new PcapReader(collect(bytewise));
  for (let i = 0; i < file.length; i++) r2.push(file.subarray(i, i + 1));
  r2.end();
  assert.deepEqual(bytewise, whole);
});

test('pcap: a truncated last record and a corrupt length are counted, not thrown', () => {
  const file = pcapFile(frames);
  const seen: Seen[] = [];
  const r = new PcapReader(collect(seen));
  r.push(file.subarray(0, file.length - 5));
  r.end();
  assert.equal(seen.length, 2);
  assert.equal(r.skipped['truncated-record'], 1);

  const bad = Buffer.from(file);
  bad.writeUInt32LE(0x7fffffff, 24 + 8); // first record's caplen
  const r2 = new PcapReader(() => assert.fail('no packet expected'));
  r2.push(bad);
  r2.end();
  assert.equal(r2.skipped['corrupt-record-length'], 1);
});

for (const bigEndian of [false, true]) {
  test(`pcapng ${bigEndian ? 'big' : 'little'}-endian: two interfaces with own link types and if_tsresol, unknown block skipped`, () => {
    const raw = { t: 1_600_000_000.123456, bytes: ipv4({ src: '1.2.3.4', dst: '5.6.7.8', protocol: 17 }, udp(1, 2, 3)), iface: 1 };
    const eth = { ...frame(1_600_000_000.5, 4), iface: 0 };
    const file = pcapngFile([eth, raw], [{ linkType: 1, tsresol: 9 }, { linkType: 101, tsresol: 0x80 | 20 }], { bigEndian });
    const seen: Seen[] = [];
    const r = new PcapngReader(collect(seen));
    r.push(file);
    r.end();
    assert.equal(r.packets, 2);
    assert.equal(r.skipped['unknown-block'], 1);
    assert.equal(seen[0]!.linkType, 1);
    assert.equal(seen[0]!.tsUs, 1_600_000_000_500_000);
    assert.equal(seen[1]!.linkType, 101);
    assert.equal(seen[1]!.first, 0x45);
    // 2^-20 s units: 1.6e9 s = 1.6e9 * 2^20 units; the builder floors to whole units (< 1 µs error).
    assert.ok(Math.abs(seen[1]!.tsUs - 1_600_000_000_123_456) < 2, String(seen[1]!.tsUs));
  });
}

test('pcapng: any chunking (1, 7, 13 bytes, whole) gives the same packets and skip counts', () => {
  const file = Buffer.concat([
    pcapngFile([{ ...frame(5, 40), iface: 1 }, frame(6, 1400), frame(7, 10)], [{ linkType: 1 }, { linkType: 1, tsresol: 9 }]),
    pcapngFile([frame(8, 700)], [{ linkType: 1 }], { bigEndian: true }),
  ]);
  const run = (size: number): { seen: Seen[]; skipped: Record<string, number> } => {
    const seen: Seen[] = [];
    const r = new PcapngReader(collect(seen));
    for (let i = 0; i < file.length; i += size) r.push(file.subarray(i, i + size));
    r.end();
    return { seen, skipped: r.skipped };
  };
  const whole = run(file.length);
  assert.equal(whole.seen.length, 4);
  assert.deepEqual(whole.skipped, { 'unknown-block': 2 });
  for (const size of [1, 7, 13]) assert.deepEqual(run(size), whole, `chunks of ${size}`);
});

test('pcapng: an unknown block larger than the chunks is skipped across them, whatever the chunking', () => {
  // a 20 KB block of an unknown type between two sections: it spans many chunks, so its tail is skipped chunk by chunk
  // (also right after a pending block was completed), and the packets on both sides must come through unchanged
  const body = 20_000;
  const unknown = Buffer.alloc(12 + body, 0xab);
  unknown.writeUInt32LE(0x00000bad, 0);
  unknown.writeUInt32LE(12 + body, 4);
  unknown.writeUInt32LE(12 + body, 8 + body);
  const file = Buffer.concat([pcapngFile([frame(1, 60), frame(2, 900)], [{ linkType: 1 }]), unknown, pcapngFile([frame(3, 300)], [{ linkType: 1 }])]);
  const run = (size: number): { seen: Seen[]; skipped: Record<string, number> } => {
    const seen: Seen[] = [];
    const r = new PcapngReader(collect(seen));
    for (let i = 0; i < file.length; i += size) r.push(file.subarray(i, i + size));
    r.end();
    return { seen, skipped: r.skipped };
  };
  const whole = run(file.length);
  assert.equal(whole.seen.length, 3);
  assert.deepEqual(whole.skipped, { 'unknown-block': 3 }, 'the big block and the one unknown block each built section carries');
  for (const size of [1, 5, 11, 997, 4096]) assert.deepEqual(run(size), whole, `chunks of ${size}`);
});

test('pcapng: simple packet blocks and snap-length truncation', () => {
  const f = frame(1, 100);
  const file = pcapngFile([{ ...f, capLen: 60 }], [{ linkType: 1 }], { simple: true });
  const seen: Seen[] = [];
  const r = new PcapngReader(collect(seen));
  for (let i = 0; i < file.length; i += 7) r.push(file.subarray(i, i + 7));
  r.end();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.origLen, f.bytes.length);
  assert.equal(seen[0]!.capLen, 60);
});

test('readCapture: gzip, Readable streams, and a non-capture file as one UserError naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-cap-'));
  const gz = join(dir, 'a.pcap.gz');
  writeFileSync(gz, gzipSync(pcapFile(frames)));
  let n = 0;
  const s = await readCapture(gz, () => n++);
  assert.equal(n, 3);
  assert.equal(s.gzip, true);
  assert.equal(s.format, 'pcap');

  const fromStream = await readCapture(Readable.from([pcapngFile([frames[0]!], [{ linkType: 1 }])]), () => n++);
  assert.equal(fromStream.format, 'pcapng');
  assert.equal(fromStream.packets, 1);

  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'hello, this is not a capture\n');
  await assert.rejects(readCapture(text, () => undefined), (err: unknown) => err instanceof UserError && err.message.includes(text) && !err.message.includes('\n'));
  await assert.rejects(readCapture(join(dir, 'missing.pcap'), () => undefined), (err: unknown) => err instanceof UserError && err.message.includes('missing.pcap'));
});

test('readCapture: a named pipe (e.g. tcpdump -w into a FIFO) streams without blocking on synchronous reads', { skip: spawnSync('mkfifo', ['--version']).status !== 0 && 'no mkfifo' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-fifo-'));
  const source = join(dir, 'capture.pcap');
  writeFileSync(source, pcapFile(frames));
  const fifo = join(dir, 'pipe');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const writer = spawn('sh', ['-c', `cat "${source}" > "${fifo}"`], { stdio: 'ignore' });
  let n = 0;
  const summary = await readCapture(fifo, () => n++);
  writer.kill();
  assert.equal(n, 3);
  assert.equal(summary.format, 'pcap');
});

test('pcapng: the standard blocks without packets (name resolution, interface statistics, decryption secrets, journal export) are not counted as skipped; custom and unknown ones are', async () => {
  const pcapngBlock = (type: number, body: number): Buffer => {
    const b = Buffer.alloc(12 + body, 0);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(12 + body, 4);
    b.writeUInt32LE(12 + body, 8 + body);
    return b;
  };
  // dumpcap and Wireshark end every capture with an interface statistics block (type 5) and write name resolution (4)
  // and decryption secrets (10) blocks; a systemd journal export block (9) is standard too
  const file = Buffer.concat([
    pcapngFile([frame(1, 60)], [{ linkType: 1 }]),
    pcapngBlock(4, 4), pcapngBlock(5, 28), pcapngBlock(10, 16), pcapngBlock(9, 8), pcapngBlock(0x40000bad, 8), pcapngBlock(0x1234, 4),
  ]);
  const seen: Seen[] = [];
  const r = new PcapngReader(collect(seen));
  r.push(file);
  r.end();
  assert.equal(seen.length, 1);
  assert.deepEqual(r.skipped, { 'unknown-block': 3 }, "the builder's custom block, the other custom block (0x40000bad) and type 0x1234");
  // a real capture saved by Wireshark: 35 packets (capinfos -c), then an interface statistics block (tshark -x -V shows it)
  const real = sharedFile('pcaps/practical-packet-analysis/http_dvwa_sqlinjection.pcapng');
  if (real === undefined) return;
  const summary = await readCapture(real, () => undefined);
  assert.deepEqual([summary.packets, summary.skipped], [35, {}]);
});

test('pcapng: if_tsoffset is a signed number of seconds added to every timestamp of its interface, either byte order', () => {
  // draft-ietf-opsawg-pcapng §4.2: if_tsoffset (code 14) is a 64-bit signed integer
  for (const bigEndian of [false, true]) {
    for (const offsetSeconds of [3600n, -3600n, -1_000_000_000n]) {
      const file = pcapngFile([frame(1_700_000_000.5, 10)], [{ linkType: 1 }], { bigEndian });
      // the builder's interface block starts after the 28-byte section header; insert the option before its end
      const idbLen = bigEndian ? file.readUInt32BE(28 + 4) : file.readUInt32LE(28 + 4);
      const option = Buffer.alloc(12);
      if (bigEndian) {
        option.writeUInt16BE(14, 0);
        option.writeUInt16BE(8, 2);
        option.writeBigInt64BE(offsetSeconds, 4);
      } else {
        option.writeUInt16LE(14, 0);
        option.writeUInt16LE(8, 2);
        option.writeBigInt64LE(offsetSeconds, 4);
      }
      const idb = Buffer.concat([file.subarray(28, 28 + idbLen - 4), option, Buffer.alloc(4)]);
      const write = (v: number, at: number): number => (bigEndian ? idb.writeUInt32BE(v, at) : idb.writeUInt32LE(v, at));
      write(idb.length, 4);
      write(idb.length, idb.length - 4);
      const seen: Seen[] = [];
      const r = new PcapngReader(collect(seen));
      r.push(Buffer.concat([file.subarray(0, 28), idb, file.subarray(28 + idbLen)]));
      r.end();
      assert.deepEqual(r.skipped, { 'unknown-block': 1 });
      assert.equal(seen[0]!.tsUs, 1_700_000_000_500_000 + Number(offsetSeconds) * 1e6, `${bigEndian ? 'big' : 'little'}-endian, ${offsetSeconds} s`);
    }
  }
});

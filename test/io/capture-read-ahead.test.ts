// A regular capture file is read ahead on the libuv thread pool; when that pool has no thread free (here: every one
// busy with a slow pbkdf2), readCapture reads the next megabytes itself and reuses an overtaken read's buffer only once
// that read has completed. The packets delivered must be exactly those of an undisturbed read, in order, and no read
// may still be running when readCapture returns (the caller closes the descriptor then).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, pbkdf2 } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../../src/io/capture.js';
import { ethernet, ipv4, pcapFile, udp, type Frame } from '../flows/packet-builder.js';

/** About 7 MB: 5,000 UDP frames of 1,000-1,499 bytes, each with its own ports, length and time. */
function bigCapture(): Buffer {
  const frames: Frame[] = [];
  for (let i = 0; i < 5000; i++) {
    const l4 = udp(1024 + (i % 50_000), 53, 958 + ((i * 131) % 500));
    frames.push({ t: 1_600_000_000 + i * 0.001, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: `10.0.${(i >> 8) & 255}.${i & 255}`, protocol: 17 }, l4)) });
  }
  return pcapFile(frames);
}

/** Digest of every delivered packet: time, lengths and bytes, in delivery order. */
async function digest(path: string): Promise<{ packets: number; sha: string }> {
  const hash = createHash('sha256');
  const summary = await readCapture(path, (p) => {
    hash.update(`${p.tsUs} ${p.capLen} ${p.origLen}|`);
    hash.update(p.data.subarray(p.offset, p.offset + p.capLen));
  });
  return { packets: summary.packets, sha: hash.digest('hex') };
}

/** Occupies `threads` pool threads (pbkdf2 runs on the libuv pool) for `iterations` rounds each. */
function busyPool(threads: number, iterations: number): Promise<unknown> {
  return Promise.all(
    Array.from({ length: threads }, () => new Promise((resolve, reject) => pbkdf2('x', 'salt', iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))))),
  );
}

test('readCapture with the thread pool busy delivers the same packets, in order, as with it free', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-read-ahead-'));
  const path = join(dir, 'big.pcap');
  writeFileSync(path, bigCapture());
  const free = await digest(path);
  assert.equal(free.packets, 5000);
  // Every pool thread (4 unless UV_THREADPOOL_SIZE says otherwise) busy while the 7 MB are read.
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const busy = busyPool(threads, 200_000);
  const blocked = await digest(path);
  await busy;
  assert.deepEqual(blocked, free);
});

// CollectorPipeline's two ways of receiving — the native recvmmsg receiver (native/udp_receiver.c, when built) and
// Node's dgram — fed the same committed softflowd datagrams: the same records, exporter addresses (IPv4 and IPv6),
// bind errors and ring accounting. The recvmmsg cases are skipped, with the reason, where the receiver is not built.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorPipeline, type ReceiverKind } from '../../src/flows/collector-pipeline.js';
import { nativeReceiver } from '../../src/flows/collector-native.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { readDatagrams } from './build.js';

const truth = JSON.parse(readFileSync('test/fixtures/netflow/softflowd-truth.json', 'utf8')) as Record<string, { records: number; packets: number; bytes: number }>;
const native = nativeReceiver();
const receivers: { kind: ReceiverKind; skip: string | false }[] = [
  { kind: 'recvmmsg', skip: 'reason' in native ? `native receiver: ${native.reason}` : false },
  { kind: 'dgram', skip: false },
];

async function sendAll(port: number, datagrams: Buffer[], host = '127.0.0.1'): Promise<void> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  for (const d of datagrams) await new Promise<void>((resolve) => socket.send(d, port, host, () => resolve()));
  socket.close();
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function ipv6Loopback(): boolean {
  const s = spawnSync(process.execPath, ['-e', "require('dgram').createSocket('udp6').bind(0,'::1',function(){this.close()})"]);
  return s.status === 0;
}

for (const { kind, skip } of receivers) {
  test(`CollectorPipeline (${kind}): every record of a softflowd v9 export, in order, through a ring that wraps`, { skip }, async () => {
    const want = truth['softflowd-v9'];
    const dir = mkdtempSync(join(tmpdir(), 'flowsentry-receiver-'));
    const file = join(dir, 'flows.jsonl');
    const fd = openSync(file, 'w');
    let consumed = 0;
    const pipeline = await CollectorPipeline.start({ host: '127.0.0.1', port: 0, receiver: kind, ringBytes: 16 << 10, outFd: fd, onRecords: (_, d) => (consumed = d) });
    assert.equal(pipeline.receiver, kind);
    const datagrams = readDatagrams('test/fixtures/netflow/softflowd-v9.bin');
    for (let i = 0; i < datagrams.length; i += 8) {
      const group = datagrams.slice(i, i + 8);
      await sendAll(pipeline.address.port, group);
      await until(() => consumed >= i + group.length);
    }
    const stats = await pipeline.stop();
    closeSync(fd);
    assert.equal(stats.receiver, kind);
    assert.equal(stats.ringDropped, 0);
    assert.equal(stats.datagrams, datagrams.length);
    assert.equal(stats.bytes, datagrams.reduce((n, d) => n + d.length, 0));
    assert.deepEqual(stats.exporters, ['127.0.0.1']);
    assert.equal(stats.records, want.records);
    const flows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FlowRecord);
    assert.equal(flows.length, want.records);
    assert.equal(flows.reduce((a, f) => a + f.packets, 0), want.packets);
    assert.equal(flows.reduce((a, f) => a + f.bytes, 0), want.bytes);
    assert.ok(stats.receiveBuffer.granted > 0);
    rmSync(dir, { recursive: true, force: true });
  });

  test(`CollectorPipeline (${kind}): an IPv6 exporter is named as dgram names it`, { skip: skip || (ipv6Loopback() ? false : 'no IPv6 loopback') }, async () => {
    const want = truth['softflowd-ipfix'];
    let consumed = 0;
    const pipeline = await CollectorPipeline.start({ host: '::1', port: 0, receiver: kind, onRecords: (_, d) => (consumed = d) });
    assert.equal(pipeline.address.address, '::1');
    const datagrams = readDatagrams('test/fixtures/netflow/softflowd-ipfix.bin');
    await sendAll(pipeline.address.port, datagrams, '::1');
    await until(() => consumed >= datagrams.length);
    const stats = await pipeline.stop();
    assert.deepEqual(stats.exporters, ['::1']);
    assert.equal(stats.records, want.records);
  });

  test(`CollectorPipeline (${kind}): a port in use is one error line naming the address and what to do`, { skip }, async () => {
    const taken = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve) => taken.bind(0, '127.0.0.1', () => resolve(taken.address().port)));
    await assert.rejects(
      CollectorPipeline.start({ host: '127.0.0.1', port, receiver: kind, listenOption: '--listen' }),
      (err: Error) => err.message === `cannot listen on udp://127.0.0.1:${port}: the port is in use (EADDRINUSE); stop the program that holds it or choose another port in --listen`,
    );
    taken.close();
  });

  test(`CollectorPipeline (${kind}): a decoder a full ring behind drops whole datagrams and counts each once`, { skip }, async () => {
    // The decoder writes to a FIFO nobody reads yet, so it blocks once the FIFO is full and the 16 KiB ring fills.
    const dir = mkdtempSync(join(tmpdir(), 'flowsentry-receiver-'));
    const fifo = join(dir, 'flows.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const fd = openSync(fifo, 'r+');
    const pipeline = await CollectorPipeline.start({ host: '127.0.0.1', port: 0, receiver: kind, ringBytes: 16 << 10, outFd: fd });
    const datagrams = readDatagrams('test/fixtures/netflow/softflowd-v5.bin');
    const sent = datagrams.length * 4;
    for (let round = 0; round < 4; round++) await sendAll(pipeline.address.port, datagrams);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const reader = createReadStream('', { fd: openSync(fifo, 'r'), highWaterMark: 1 << 20 });
    reader.resume();
    const stats = await pipeline.stop();
    closeSync(fd);
    reader.destroy();
    assert.ok((stats.ringDropped ?? 0) > 0, 'expected ring drops');
    assert.equal(stats.datagrams + (stats.ringDropped ?? 0) + (stats.kernelDrops ?? 0), sent);
    rmSync(dir, { recursive: true, force: true });
  });
}

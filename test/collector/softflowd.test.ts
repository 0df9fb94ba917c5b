// Real exporter, real socket: softflowd reads the shared captures and exports NetFlow v5, v9, IPFIX and biflow IPFIX
// to a FlowCollector on 127.0.0.1. The collector's record count and packet and byte totals must equal what softflowd
// reports it exported. Skips when softflowd or the shared captures are absent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FlowCollector } from '../../src/flows/collector.js';
import { sharedFile } from '../helpers/datasets.js';
import { hasSoftflowd, runSoftflowd } from './softflowd.js';

const pcaps = sharedFile('pcaps');
const skip = !hasSoftflowd() ? 'softflowd is not installed' : pcaps === undefined ? 'shared captures are absent' : false;

const VARIANTS: [string, string[]][] = [
  ['NetFlow v5', ['-v', '5']],
  ['NetFlow v9', ['-v', '9', '-6']],
  ['IPFIX', ['-v', '10', '-6', '-A', 'milli']],
  ['IPFIX biflow', ['-v', '10', '-6', '-b']],
];

function captures(): string[] {
  const root = pcaps as string;
  const out: string[] = [];
  for (const dir of readdirSync(root)) {
    for (const f of readdirSync(join(root, dir))) if (/\.pcap(ng)?$/.test(f)) out.push(join(root, dir, f));
  }
  return out.sort();
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!condition() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

for (const [name, args] of VARIANTS) {
  test(`softflowd ${name} export of every shared capture: collector totals equal softflowd's report`, { skip }, async () => {
    const collector = await FlowCollector.listen({ host: '127.0.0.1', port: 0 });
    let records = 0;
    let packets = 0;
    let bytes = 0;
    collector.on('flows', (batch) => {
      for (const f of batch) {
        records++;
        packets += f.packets;
        bytes += f.bytes;
      }
    });
    const want = { records: 0, packets: 0, bytes: 0 };
    try {
      for (const file of captures()) {
        const r = await runSoftflowd(file, collector.address?.port as number, args);
        assert.ok(r.records >= 0, `softflowd printed no report for ${file}`);
        want.records += r.records;
        want.packets += r.packets;
        want.bytes += r.bytes;
        await waitFor(() => records >= want.records, 3000);
        assert.deepEqual({ records, packets, bytes }, want, file);
      }
    } finally {
      const stats = await collector.close();
      assert.equal(stats.malformed, 0);
      assert.equal(stats.kernelDrops ?? 0, 0);
      assert.equal(stats.pendingDropped, 0);
    }
    assert.ok(want.records > 10_000, `expected a substantial export, got ${want.records} records`);
  });
}

// The CSV `flowsentry collect --out flows.csv` writes (the FlowRecord fields) is recognised by its header: its
// addresses and source port (by name, as in any CSV) and its start and end times, VLAN, source, end reason, exporter
// and observation domain are identifiers, so a model trained on it never learns when, where or by whom a flow was
// exported. The same names under another header are a plain CSV. Truth: the header collect writes (literal, as
// docs/collector.md and collect's CLI test show it) and hand-made rows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { findTimestampColumn } from '../../src/frame/splits.js';
import { FLOW_CSV_HEADER } from '../../src/io/netflow/batch.js';
import { train } from '../../src/workflow/train.js';

const HEADER =
  'srcAddr,dstAddr,srcPort,dstPort,protocol,vlan,source,startMs,endMs,packets,bytes,fwdPackets,bwdPackets,fwdBytes,bwdBytes,tcpFlags,endReason,exporter,observationDomain';
const ROWS = [
  '10.0.0.1,10.0.0.2,40000,80,6,0,netflow-v9,1793671131647,1793671131708,3,180,2,1,120,60,27,fin,192.0.2.1,0',
  '10.0.0.3,10.0.0.2,40001,443,6,7,ipfix,1793671132000,1793671142500,12,9000,7,5,5000,4000,24,idle,192.0.2.1,3',
  '2001:db8::1,2001:db8::2,53000,53,17,0,netflow-v5,1793671133000,1793671133000,1,70,1,0,70,0,0,exported,192.0.2.9,256',
];
const IDENTIFIERS = ['srcAddr', 'dstAddr', 'srcPort', 'vlan', 'source', 'startMs', 'endMs', 'endReason', 'exporter', 'observationDomain'];
const FEATURES = ['dstPort', 'protocol', 'packets', 'bytes', 'fwdPackets', 'bwdPackets', 'fwdBytes', 'bwdBytes', 'tcpFlags'];

test("collect's FlowRecord CSV: times, VLAN, source, end reason, exporter and domain are identifiers, not features", async () => {
  assert.equal(FLOW_CSV_HEADER, `${HEADER}\n`, 'the header collect writes');
  const dir = mkdtempSync(join(tmpdir(), 'fs-collect-csv-'));
  try {
    const file = join(dir, 'baseline.csv');
    writeFileSync(file, `${[HEADER, ...ROWS].join('\n')}\n`);
    // unlabelled, as collect writes it (train --task anomaly learns it as normal traffic)
    const frame = await loadDataset([file]);
    assert.deepEqual(frame.features.map((c) => c.name), FEATURES);
    assert.deepEqual(frame.identifiers.map((c) => c.name), IDENTIFIERS);

    // with a label column added after collect's columns: still recognised
    const labelled = join(dir, 'labelled.csv');
    writeFileSync(labelled, `${HEADER},label\n${ROWS.map((r, i) => `${r},${i === 1 ? 'attack' : 'normal'}`).join('\n')}\n`);
    const withLabel = await loadDataset([labelled], { label: 'label' });
    assert.deepEqual(withLabel.features.map((c) => c.name), FEATURES);
    assert.deepEqual(withLabel.identifiers.map((c) => c.name), IDENTIFIERS);

    // the same names without collect's leading columns are a plain CSV: only identifier names are identifiers
    const other = join(dir, 'other.csv');
    writeFileSync(other, 'startMs,endMs,vlan,exporter,packets,label\n1,2,0,5,3,normal\n4,6,0,5,1,attack\n');
    const plain = await loadDataset([other], { label: 'label' });
    assert.deepEqual(plain.features.map((c) => c.name), ['startMs', 'endMs', 'vlan', 'exporter', 'packets']);
    assert.deepEqual(plain.identifiers, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("collect's FlowRecord CSV holds out its latest flows by startMs (epoch ms), not a stratified sample", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-collect-csv-'));
  try {
    // 50 flows a second apart, every fifth an attack, written newest first: the latest 10 (ids 40-49) hold 2 attacks
    const rows = Array.from({ length: 50 }, (_, i) => {
      const start = 1793671131000 + i * 1000;
      const attack = i % 5 === 0;
      return `10.0.0.${i},10.0.1.1,${40000 + i},${attack ? 23 : 80},6,0,ipfix,${start},${start + 40},${attack ? 1 : 6},${attack ? 60 : 4000},${attack ? 1 : 4},${attack ? 0 : 2},${attack ? 60 : 3000},${attack ? 0 : 1000},${attack ? 2 : 27},idle,192.0.2.1,0,${attack ? 'attack' : 'normal'}`;
    }).reverse();
    const file = join(dir, 'labelled.csv');
    writeFileSync(file, `${HEADER},label\n${rows.join('\n')}\n`);
    const times = await loadDataset([file], { label: 'label', identifiers: 'timestamps' });
    assert.deepEqual(times.identifiers.map((c) => c.name), ['startMs'], 'the one identifier a time-ordered split reads');
    assert.equal(findTimestampColumn(times)?.name, 'startMs');
    const run = await train({ files: [file], label: 'label', task: 'binary', models: ['dt'], cv: 2, metric: 'f1', seed: 0, targetFpr: 0.01 });
    assert.equal(run.result.dataset.testSource, 'holdout-time');
    assert.deepEqual(run.result.dataset.testCounts, [8, 2]);
    assert.deepEqual(run.result.dataset.trainCounts, [32, 8]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

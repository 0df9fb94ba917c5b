// The CSV `flowsentry extract --features netflow` writes, with a label column added, trains a model live NetFlow
// scoring can use: its flow-context columns (addresses, start time, VLAN, end reason) and the source port are not
// features, and the start time is the time identifier (epoch seconds, for time-ordered splits). The same column
// names in another order are a plain CSV, whose `start` feature is not taken for a timestamp. Truth: the header
// written by extract (src/flows/extract.ts) and hand-computed epoch seconds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { findTimestampColumn } from '../../src/frame/splits.js';

const HEADER = 'src_addr,dst_addr,start,vlan,end_reason,protocol,src_port,dst_port,duration_s,packets,label';
const ROWS = [
  '10.0.0.1,10.0.0.2,2021-06-05 03:58:45.551136,0,fin,6,40000,80,0.5,10,normal',
  '10.0.0.3,10.0.0.2,2021-06-05 03:58:46.000000,0,rst,6,40001,443,0.1,3,attack',
  '10.0.0.4,10.0.0.2,2021-06-05 03:58:47.250000,7,idle,17,53000,53,0,1,attack',
];

test('extract --features netflow CSV: context columns are not features, start is the time identifier', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-extract-netflow-'));
  const file = join(dir, 'flows.csv');
  writeFileSync(file, `${[HEADER, ...ROWS].join('\n')}\n`);
  const frame = await loadDataset([file], { label: 'label' });
  assert.deepEqual(frame.features.map((c) => c.name), ['protocol', 'dst_port', 'duration_s', 'packets']);
  assert.deepEqual(frame.identifiers.map((c) => c.name).sort(), ['dst_addr', 'end_reason', 'src_addr', 'src_port', 'start', 'vlan']);
  const start = findTimestampColumn(frame);
  assert.ok(start && start.kind === 'time' && start.name === 'start');
  // 2021-06-05 03:58:45 UTC = 1622865525 s
  assert.deepEqual(Array.from(start.seconds), [1622865525.551136, 1622865526, 1622865527.25]);
  // train reads only the timestamp identifier: that is `start` here
  const asTrain = await loadDataset([file], { label: 'label', identifiers: 'timestamps' });
  assert.deepEqual(asTrain.identifiers.map((c) => c.name), ['start']);
  assert.equal(findTimestampColumn(asTrain)?.name, 'start');

  const reordered = join(dir, 'other.csv');
  writeFileSync(reordered, 'start,end_reason,vlan,x,label\n1,a,0,2,normal\n2,b,0,3,attack\n');
  const plain = await loadDataset([reordered], { label: 'label' });
  assert.deepEqual(plain.features.map((c) => c.name), ['start', 'end_reason', 'vlan', 'x']);
  assert.equal(findTimestampColumn(plain), undefined, 'a feature named start does not make the hold-out time-ordered');
});

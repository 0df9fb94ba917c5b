// A capture or the predictions of `predict --out` given to train/evaluate/predict as data: one line naming the file
// and what to give, instead of "unknown format: this is a binary file" or a parse error. The JSON lines of
// `extract`/`collect` are data (test/datasets/jsonl-frames.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { readData } from '../../src/workflow/data.js';
import { ethernet, ipv4, pcapFile, udp } from '../flows/packet-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-non-data-'));

async function rejection(file: string): Promise<string> {
  try {
    await readData([file]);
  } catch (err) {
    assert.ok(err instanceof UserError, String(err));
    return err.message;
  }
  assert.fail(`${file} was read as data`);
}

test('a pcap given as data names the extract step', async () => {
  const capture = join(dir, 'dns.pcap');
  writeFileSync(capture, pcapFile([{ t: 1, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp(53, 53, 4))) }]));
  assert.equal(
    await rejection(capture),
    `${capture}: is a packet capture, not flow rows: turn it into rows with \`flowsentry extract <capture> --out flows.csv\` (or score it live with \`flowsentry detect --pcap\`)`,
  );
});

test('predictions given as data (also after a byte-order mark) name the flows to give', async () => {
  for (const [name, text] of [
    ['preds.jsonl', '{"row":0,"label":"attack","score":0.9,"attack_score":0.99,"top_features":[]}\n'],
    ['bom.jsonl', '\uFEFF  {"row":0,"label":"normal","score":0.1,"attack_score":0.2,"top_features":[]}\n'],
  ]) {
    const file = join(dir, name);
    writeFileSync(file, text);
    assert.equal(await rejection(file), `${file}: holds predictions (the lines \`flowsentry predict --out\` writes), not flow rows: give the flows themselves (the CSV or JSON lines of \`extract\` or \`collect\`)`);
  }
  const flows = join(dir, 'flows.jsonl');
  writeFileSync(flows, '\uFEFF{"dst":"10.0.0.2","bytes":60,"label":"normal"}\n{"dst":"10.0.0.3","bytes":70,"label":"attack"}\n');
  assert.equal((await readData([flows], { label: 'label' })).nRows, 2);
});

test('a CSV is still read', async () => {
  const file = join(dir, 'ok.csv');
  writeFileSync(file, 'a,label\n1,normal\n2,attack\n');
  const frame = await readData([file], { label: 'label' });
  assert.equal(frame.nRows, 2);
});

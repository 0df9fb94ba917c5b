// A capture or the JSON lines of `extract`/`collect` given to train/evaluate/predict as data: one line naming the file
// and the step that is missing, instead of "unknown format: this is a binary file" or a parse error on '{"srcAddr"'.

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

test('JSON lines given as data (also after a byte-order mark) name the CSV output of extract and collect', async () => {
  for (const [name, text] of [
    ['flows.jsonl', '{"srcAddr":"10.0.0.1","dstAddr":"10.0.0.2"}\n'],
    ['bom.jsonl', '\uFEFF  {"srcAddr":"10.0.0.1"}\n'],
  ]) {
    const file = join(dir, name);
    writeFileSync(file, text);
    assert.equal(await rejection(file), `${file}: holds JSON lines; data files are CSV: write flows as CSV (\`flowsentry extract <capture> --out flows.csv\`, \`flowsentry collect --out flows.csv\`)`);
  }
});

test('a CSV is still read', async () => {
  const file = join(dir, 'ok.csv');
  writeFileSync(file, 'a,label\n1,normal\n2,attack\n');
  const frame = await readData([file], { label: 'label' });
  assert.equal(frame.nRows, 2);
});

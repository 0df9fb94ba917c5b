// `--out` of a data file says its format by its extension, the same way for every command that writes rows: .csv is
// CSV, .jsonl / .ndjson / .json JSON lines, no extension (a device such as /dev/stdout) CSV; any other extension is
// the one usage line, exit 2, before any work and without creating the file (extract wrote CSV to `x.txt`).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ethernet, ipv4, pcapFile, udp } from '../flows/packet-builder.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-out-extension-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const capture = join(dir, 'c.pcap');
writeFileSync(capture, pcapFile(Array.from({ length: 5 }, (_, i) => ({ t: 100 + i, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp(1024 + i, 53, 20))) }))));

const usageLine = (path: string, command: string): string =>
  `flowsentry: --out ${path}: the extension says the format; use .csv or .jsonl${command === 'extract' ? ', or say it with --format csv|jsonl' : ''}\n`;

describe('--out with an extension of no known format', () => {
  it('extract and predict refuse it with the same line (extract also names its --format), exit 2, and write nothing', () => {
    const model = join(dir, 'm.fsm');
    const train = cli(['train', resolve('samples/nsl-kdd/KDDTrain+_sample.txt'), '--models', 'dt', '--cv', '2', '--out', model]);
    assert.equal(train.code, 0, train.stderr);
    for (const args of [['extract', capture], ['predict', model, resolve('samples/nsl-kdd/KDDTest+_sample.txt')]]) {
      for (const name of ['flows.txt', 'flows.csv.bak', 'flows.parquet']) {
        const out = join(dir, name);
        const r = cli([...args, '--out', out]);
        assert.equal(r.code, 2, `${args[0]} ${name}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr, usageLine(out, args[0]!));
        assert.equal(existsSync(out), false);
      }
    }
  });

  it('extract: .ndjson is JSON lines (it was CSV), --format overrides an unknown extension', () => {
    const nd = join(dir, 'flows.ndjson');
    assert.equal(cli(['extract', capture, '--out', nd]).code, 0);
    const lines = readFileSync(nd, 'utf8').trim().split('\n');
    assert.equal(lines.length, 5);
    assert.equal(typeof JSON.parse(lines[0]!), 'object');
    const txt = join(dir, 'flows.txt');
    const r = cli(['extract', capture, '--out', txt, '--format', 'csv']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(txt, 'utf8').trim().split('\n').length, 6);
  });
});

// A format named with --format that the file does not fit, while another known format does, is refused in one line
// naming both: `--format cic-ids2017` on UNSW-NB15 rows read its 0/1 `label` as CIC attack names (every row an
// attack, classes '0' and '1') without a word. A file that only the generic CSV fits, `--format csv` on a known
// format, and a format of the file's family (CIC-IDS2017 and CSE-CIC-IDS2018) are read as asked; a file of the named
// format loads as before. Bundled fixtures and the NSL-KDD sample; rows of the shared UNSW-NB15 file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';
import { inspectFiles } from '../../src/datasets/inspect.js';

const NSL = resolve('samples/nsl-kdd/KDDTest+_sample.txt');
const CIC = resolve('test/fixtures/datasets/cic2017-machinelearningcve.csv');
const CSE = resolve('test/fixtures/datasets/cse-cic-ids2018.csv');
const GENERIC = resolve('test/fixtures/datasets/generic-flows.csv');
const UNSW = resolve('../shared/datasets/unsw-nb15/UNSW_NB15_part-a.csv');

describe('--format that does not fit the file', () => {
  it('another known format: one line naming both, from the loader and from inspect', async () => {
    const line = `${NSL}: this is nsl-kdd data, not CIC-IDS2017: it cannot be read as cic-ids2017 (detected, it reads as nsl-kdd)`;
    await assert.rejects(loadDataset([NSL], { format: 'cic-ids2017' }), { message: line });
    await assert.rejects(inspectFiles([NSL], { format: 'cic-ids2017' }), { message: line });
    await assert.rejects(loadDataset([CIC], { format: 'nsl-kdd' }), { message: `${CIC}: this is cic-ids2017 data, not NSL-KDD: it cannot be read as nsl-kdd (detected, it reads as cic-ids2017)` });
  });

  it('--format csv on a known format, a file of the named format, and one only the generic CSV fits: read as asked', async () => {
    assert.equal((await loadDataset([CSE], { format: 'csv', label: 'Label' })).source.format, 'csv');
    assert.equal((await loadDataset([NSL], { format: 'nsl-kdd' })).nRows, 1538);
    // one family (CICFlowMeter names): a CSE-CIC-IDS2018 file with the CIC-IDS2017 plan, as `train --test` reads it
    assert.equal((await loadDataset([CSE], { format: 'cic-ids2017' })).source.format, 'cic-ids2017');
    // the generic file forced to a known format keeps that format's own parse error, which locates the cell
    await assert.rejects(loadDataset([GENERIC], { format: 'nsl-kdd' }), /generic-flows\.csv, line 1, column/);
  });

  it('UNSW-NB15 rows read as CIC-IDS2017 are refused (every row was an attack)', { skip: existsSync(UNSW) ? false : 'shared datasets missing' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-forced-format-'));
    const file = join(dir, 'unsw.csv');
    writeFileSync(file, `${readFileSync(UNSW, 'utf8').split('\n').slice(0, 101).join('\n')}\n`);
    await assert.rejects(inspectFiles([file], { format: 'cic-ids2017' }), { message: `${file}: this is unsw-nb15 data, not CIC-IDS2017: it cannot be read as cic-ids2017 (detected, it reads as unsw-nb15)` });
    assert.equal((await loadDataset([file])).source.format, 'unsw-nb15');
  });
});

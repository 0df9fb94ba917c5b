// Bad JSON lines are one error line naming the file, the line and the column (the character where the JSON goes
// wrong, or the key of a bad value), or with --skip-bad-rows rows skipped and counted by reason: never dropped
// without a word. Truth: hand-made files, each wrong in one known place (columns counted by hand).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/datasets/load.js';

const GOOD = '{"a": 1, "b": "x", "label": "normal"}';
/** 250 good lines first, so that the fault lies beyond the peeked lines and the streaming reader meets it. */
const LEAD = Array.from({ length: 250 }, () => GOOD);

describe('bad JSON lines', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-jsonl-bad-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  // [name, bad line, line and column of the message, its problem, the skip reason]
  const cases: [string, string, string, RegExp, string][] = [
    ['not JSON', '{"a": 1, "b": x, "label": "normal"}', 'line 251, column 15', /not JSON: not a JSON value, at 'x, "label"/, 'line that is not a JSON object'],
    ['not an object', '[1, 2]', 'line 251, column 1', /not JSON: a JSON line holds one object/, 'line that is not a JSON object'],
    ['a number with a leading zero', '{"a": 01, "b": "x", "label": "normal"}', 'line 251, column 8', /expected ',' or '}'/, 'line that is not a JSON object'],
    ['text after the object', `${GOOD} {}`, 'line 251, column 39', /text after the object/, 'line that is not a JSON object'],
    ['a key twice', '{"a": 1, "b": "x", "a": 2, "label": "normal"}', 'line 251, column 20', /key 'a' appears twice on the line/, 'JSON line naming a key twice'],
    ['an unknown key', '{"a": 1, "b": "x", "c": 2, "label": "normal"}', 'line 251, column 20', /key 'c' is not among the keys of the file's first lines/, 'JSON line with a key no column has'],
    ['a nested object', '{"a": 1, "b": {"c": 1}, "label": "normal"}', 'line 251, column 10', /key 'b' holds an object: values are numbers, strings, true, false or null/, 'JSON line with a nested object or array'],
    ['text in a numeric column', '{"a": "many", "b": "x", "label": "normal"}', "line 251, column 'a'", /'many' is not a number \(text in a numeric column\)/, 'text in a numeric column'],
    ['an array', '{"a": 1, "b": [1, {}], "label": "normal"}', 'line 251, column 10', /key 'b' holds an array/, 'JSON line with a nested object or array'],
    ['a bad escape', '{"a": 1, "b": "x\\q", "label": "normal"}', 'line 251, column 17', /a bad escape in a string/, 'line that is not a JSON object'],
    ['a multi-byte character before the fault', '{"a": 1, "b": "é€", "label": "normal", }', 'line 251, column 40', /expected a key in double quotes/, 'line that is not a JSON object'],
  ];

  for (const [name, bad, where, problem, reason] of cases) {
    it(`${name}: one error line, or skipped and counted`, async () => {
      const file = write(`${name.replace(/\W+/g, '-')}.jsonl`, `${[...LEAD, bad, GOOD].join('\n')}\n`);
      await assert.rejects(loadDataset([file]), (err: Error) => {
        assert.ok(err.message.startsWith(`${file}, ${where}: `), err.message);
        assert.match(err.message, problem);
        assert.equal(err.message.split('\n').length, 1);
        return true;
      });
      const frame = await loadDataset([file], { skipBadRows: true });
      assert.equal(frame.nRows, 251);
      assert.deepEqual(frame.source.skipped, [{ reason, count: 1 }]);
    });
  }

  it('a last line cut short says so; with --skip-bad-rows it is counted', async () => {
    const file = write('cut.jsonl', `${[...LEAD, '{"a": 1, "b": "x", "lab'].join('\n')}`);
    await assert.rejects(loadDataset([file]), (err: Error) => {
      assert.match(err.message, /, line 251, column 20: not JSON: a string is never closed .*\(the last line is cut short: was the file still being written\?\)$/);
      return true;
    });
    const frame = await loadDataset([file], { skipBadRows: true });
    assert.equal(frame.nRows, 250);
    assert.deepEqual(frame.source.skipped, [{ reason: 'line that is not a JSON object', count: 1 }]);
    // cut after a value, and a whole last line that is wrong (not cut) without a line feed
    const afterValue = write('cut-value.jsonl', `${[...LEAD, '{"a": 1, "b": "x"'].join('\n')}`);
    await assert.rejects(loadDataset([afterValue]), /line 251, column 18: not JSON: expected ',' or '}', where the line ends \(the last line is cut short/);
    const wrong = write('wrong-last.jsonl', `${[...LEAD, '{"a": 1, "b": x}'].join('\n')}`);
    await assert.rejects(loadDataset([wrong]), (err: Error) => /line 251, column 15: not JSON: not a JSON value/.test(err.message) && !err.message.includes('cut short'));
  });

  it('a bad line among the first (peeked) lines gets the same line and column', async () => {
    const file = write('early.jsonl', `${GOOD}\n{"a": 1,, "b": "x", "label": "normal"}\n${GOOD}\n`);
    await assert.rejects(loadDataset([file]), /early\.jsonl, line 2, column 9: not JSON: expected a key in double quotes/);
    const frame = await loadDataset([file], { skipBadRows: true });
    assert.equal(frame.nRows, 2);
  });

  it('nesting among the first lines names the key; a first line that is not JSON names its column', async () => {
    const nested = write('nested.jsonl', '{"a": 1, "b": [1, 2], "label": "normal"}\n');
    await assert.rejects(loadDataset([nested]), /nested\.jsonl, line 1, column 10: key 'b' holds an array: values are numbers, strings, true, false or null/);
    const broken = write('broken.jsonl', '{"a": 1 "b": 2}\n');
    await assert.rejects(loadDataset([broken]), /broken\.jsonl, line 1, column 9: not JSON: .*expected ',' or '}'/);
  });

  it('the predictions of predict --out and a JSON array are refused with what to give', async () => {
    const predictions = write('preds.jsonl', '{"row":0,"label":"attack","score":0.79,"attack_score":0.99,"top_features":[{"feature":"Dst Port","value":113,"contribution":0.2}]}\n');
    await assert.rejects(loadDataset([predictions]), /preds\.jsonl: holds predictions \(the lines `flowsentry predict --out` writes\), not flow rows/);
    const array = write('array.json', '[{"a": 1}, {"a": 2}]\n');
    await assert.rejects(loadDataset([array]), /array\.json: holds a JSON array, not rows/);
  });

  it('JSON lines are not read by the positions of a headerless format, nor as XML', async () => {
    const file = write('named.jsonl', `${GOOD}\n`);
    await assert.rejects(loadDataset([file], { format: 'nsl-kdd' }), /named\.jsonl: holds JSON lines, which cannot be read as NSL-KDD \(files without a header\): convert them to that format, or read them with --format csv$/);
    await assert.rejects(loadDataset([file], { format: 'iscx2012' }), /named\.jsonl: holds JSON lines, which cannot be read as ISCX-IDS2012 labelled flows \(XML\): convert/);
  });

  it('an empty value: a string in a numeric column that is empty, null or an absent key are missing, never an error', async () => {
    const file = write('missing.jsonl', '{"a": 1, "b": "x"}\n{"a": "", "b": null}\n{"b": "y"}\n{"a": null}\n');
    const frame = await loadDataset([file]);
    const a = frame.features.find((c) => c.name === 'a');
    const b = frame.features.find((c) => c.name === 'b');
    assert.ok(a?.kind === 'numeric' && b?.kind === 'categorical');
    assert.deepEqual(Array.from(a.values), [1, NaN, NaN, NaN]);
    assert.deepEqual(Array.from(b.codes), [0, -1, 1, -1]);
  });

  it('one key (or none) in the objects: what is missing, in JSON-lines terms, at the first object\'s line', async () => {
    const narrow = "one column; a data file has two or more (features and a label, or several features); to read this one column anyway, give --format csv";
    const one = write('one-key.jsonl', '{"a": 1}\n{"a": 2}\n{"a": 3}\n');
    await assert.rejects(loadDataset([one]), (err: Error) => err.message === `${one}, line 1: JSON lines with one key, 'a', in every object: ${narrow}`);
    // after two blank lines, with a BOM and CRLF line ends: the key without them, the line of the first object
    const framed = write('one-key-framed.jsonl', '\uFEFF\r\n\r\n{"bytes": 1}\r\n{"bytes": 2}\r\n');
    await assert.rejects(loadDataset([framed]), (err: Error) => err.message === `${framed}, line 3: JSON lines with one key, 'bytes', in every object: ${narrow}`);
    // more lines than format detection peeks at: it says how many it saw
    const long = write('one-key-long.jsonl', `${Array.from({ length: 300 }, (_, i) => `{"label": "l${i}"}`).join('\n')}\n`);
    await assert.rejects(loadDataset([long]), /one-key-long\.jsonl, line 1: JSON lines with one key, 'label', in the first \d+ objects: one column;/);
    const none = write('no-keys.jsonl', '{}\n{ }\n');
    await assert.rejects(loadDataset([none]), (err: Error) => err.message === `${none}, line 1: JSON lines with no keys ({}) in every object: no columns; a data file has two or more (features and a label, or several features)`);
    // the way out the message gives
    const frame = await loadDataset([one], { format: 'csv' });
    assert.equal(frame.nRows, 3);
    assert.deepEqual(frame.features.map((c) => c.name), ['a']);
  });

  it('an empty first line, a BOM and CRLF line ends: the rows of plain lines, and errors at their line and column', async () => {
    const plain = await loadDataset([write('plain.jsonl', '{"a": 1, "b": "x", "label": "normal"}\n{"a": 2.5, "b": "y", "label": "attack"}\n')]);
    const variants: [string, string][] = [
      ['an empty first line', '\n{"a": 1, "b": "x", "label": "normal"}\n{"a": 2.5, "b": "y", "label": "attack"}\n'],
      ['a BOM', '\uFEFF{"a": 1, "b": "x", "label": "normal"}\n{"a": 2.5, "b": "y", "label": "attack"}\n'],
      // last before the CR: a string, then a number (the first line orders the columns)
      ['CRLF', '{"a": 1, "b": "x", "label": "normal"}\r\n{"label": "attack", "b": "y", "a": 2.5}\r\n'],
      ['all three', '\uFEFF\r\n{"a": 1, "b": "x", "label": "normal"}\r\n\r\n{"a": 2.5, "b": "y", "label": "attack"}\r\n'],
    ];
    for (const [name, text] of variants) {
      const frame = await loadDataset([write(`${name.replace(/\W+/g, '-')}.jsonl`, text)]);
      assert.deepEqual({ ...frame, source: undefined }, { ...plain, source: undefined }, name);
    }
    const bad = '{"a": 1, "b": x, "label": "normal"}';
    const errors: [string, string, string][] = [
      ['empty first line, peeked', `\n${GOOD}\n${bad}\n`, 'line 3, column 15'],
      ['empty first line, streamed', `\n${[...LEAD, bad].join('\n')}\n`, 'line 252, column 15'],
      ['BOM, first line', `\uFEFF${bad}\n${GOOD}\n`, 'line 1, column 15'],
      ['BOM, first line, before many', `\uFEFF${[bad, ...LEAD].join('\n')}\n`, 'line 1, column 15'],
      ['CRLF, peeked', `${GOOD}\r\n${bad}\r\n`, 'line 2, column 15'],
      ['CRLF, streamed', `${[...LEAD, bad].join('\r\n')}\r\n`, 'line 251, column 15'],
    ];
    for (const [name, text, where] of errors) {
      const file = write(`bad-${name.replace(/\W+/g, '-')}.jsonl`, text);
      await assert.rejects(loadDataset([file]), (err: Error) => err.message.startsWith(`${file}, ${where}: not JSON: not a JSON value`), name);
    }
    const cut = write('crlf-cut.jsonl', `${GOOD}\r\n{"a": 2, "b": "y`);
    await assert.rejects(loadDataset([cut]), /crlf-cut\.jsonl, line 2, column 15: not JSON: a string is never closed .*the last line is cut short/);
  });
});

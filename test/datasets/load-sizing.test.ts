// How loadDataset sizes its columns without reading a file twice: plain files by their line count, gzip files by the
// trailer's size over the sample's bytes per line. Whatever the estimate (too low, too high, unknown), the frame
// holds exactly the file's rows, the same as the plain file gives.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadDataset } from '../../src/datasets/load.js';
import { peekCsv } from '../../src/io/csv-peek.js';
import type { CategoricalColumn, Frame, NumericColumn } from '../../src/frame/frame.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-sizing-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A generic CSV whose first `longRows` rows carry a long note, so the sample's lines are longer than the rest. */
function flows(rows: number, longRows: number): { text: string; bytes: number[]; notes: string[]; labels: string[] } {
  const bytes: number[] = [];
  const notes: string[] = [];
  const labels: string[] = [];
  const lines = ['bytes,note,verdict'];
  for (let i = 0; i < rows; i++) {
    bytes.push(i * 3 + 0.5);
    notes.push(i < longRows ? `n${i % 7}${'x'.repeat(400)}` : `n${i % 7}`);
    labels.push(i % 5 === 0 ? 'attack' : 'normal');
    lines.push(`${bytes[i]},${notes[i]},${labels[i]}`);
  }
  return { text: `${lines.join('\n')}\n`, bytes, notes, labels };
}

function expectRows(frame: Frame, want: ReturnType<typeof flows>): void {
  assert.equal(frame.nRows, want.bytes.length);
  const bytes = frame.features.find((c) => c.name === 'bytes') as NumericColumn;
  assert.equal(bytes.values.length, want.bytes.length);
  assert.deepEqual(Array.from(bytes.values), want.bytes.map((v) => Math.fround(v)));
  const note = frame.features.find((c) => c.name === 'note') as CategoricalColumn;
  assert.deepEqual(Array.from(note.codes, (k) => note.dictionary[k]), want.notes);
  const label = frame.label as CategoricalColumn;
  assert.deepEqual(Array.from(label.codes, (k) => label.dictionary[k]), want.labels);
}

describe('column sizing', () => {
  it('peek reports the data size (gzip: from the trailer) and the bytes per line of its sample', async () => {
    const want = flows(3000, 0);
    const plain = await peekCsv(write('p.csv', want.text));
    const gz = await peekCsv(write('p.csv.gz', gzipSync(want.text)));
    const lengths = want.text.trimEnd().split('\n').map((l) => l.length + 1);
    for (const p of [plain, gz]) {
      assert.equal(p.expandedBytes, want.text.length);
      assert.ok(p.bytesPerLine >= Math.min(...lengths) && p.bytesPerLine <= Math.max(...lengths), `${p.bytesPerLine}`);
    }
    assert.equal(gz.fileBytes < gz.expandedBytes, true);
  });

  it('gzip: an estimate too high, too low (long sample lines) or unknown (several members) loads every row', async () => {
    const rows = 30_000;
    for (const longRows of [0, 300]) {
      const want = flows(rows, longRows);
      const plain = await loadDataset([write(`f${longRows}.csv`, want.text)], { label: 'verdict' });
      expectRows(plain, want);
      const gz = await loadDataset([write(`f${longRows}.csv.gz`, gzipSync(want.text))], { label: 'verdict' });
      expectRows(gz, want);
      // Two members: the trailer only knows the last one, smaller than the whole file.
      const cut = want.text.indexOf('\n', want.text.length >> 1) + 1;
      const members = Buffer.concat([gzipSync(want.text.slice(0, cut)), gzipSync(want.text.slice(cut))]);
      expectRows(await loadDataset([write(`m${longRows}.csv.gz`, members)], { label: 'verdict' }), want);
    }
  });

  it('several files, plain and gzip mixed, share one read buffer and one set of columns', async () => {
    const a = flows(5000, 100);
    const b = flows(7000, 0);
    const fa = write('a.csv', a.text);
    const fb = write('b.csv.gz', gzipSync(b.text));
    const frame = await loadDataset([fa, fb, fa], { label: 'verdict' });
    const both = { bytes: [...a.bytes, ...b.bytes, ...a.bytes], notes: [...a.notes, ...b.notes, ...a.notes], labels: [...a.labels, ...b.labels, ...a.labels], text: '' };
    expectRows(frame, both);
  });
});

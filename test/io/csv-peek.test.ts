import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peekCsv } from '../../src/io/csv-peek.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-csv-peek-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('csv peek', () => {
  it('peeks at the records asked for, blank lines not counted', async () => {
    const path = write('blank.csv', `\n\r\n\na,b\n\n1,x\n2,y\n3,z\n${'4,w\n'.repeat(5000)}`);
    const two = await peekCsv(path, 2);
    assert.deepEqual(two.records, [['a', 'b'], ['1', 'x']]);
    assert.equal(two.complete, false);
    const all = await peekCsv(path, 10_000);
    assert.equal(all.records.length, 5004);
    assert.equal(all.complete, true);
  });

  it('peeks at the first records as text', async () => {
    const path = write('peek.csv', '\ufeffa,b\n1,"x,y"\n2,z\n');
    const peek = await peekCsv(path);
    assert.deepEqual(peek.records, [['a', 'b'], ['1', 'x,y'], ['2', 'z']]);
    assert.equal(peek.complete, true);
    assert.equal(peek.binary, false);
  });
});

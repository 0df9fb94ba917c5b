// The alert store of `serve` on a disk that stops taking writes (a file size limit in a child process): a flush that
// cannot write is counted and logged once, its alerts stay pending, and the process goes on (it was an unhandled
// rejection from the flush timer, which ends a Node process).

import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'fs-output-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = `
const { AlertStore } = await import(${JSON.stringify(new URL('../../src/store/alert-store.js', import.meta.url).href)});
const { makeAlert } = await import(${JSON.stringify(new URL('../detect/alert-fixtures.js', import.meta.url).href)});
const lines = [];
const store = await AlertStore.open(process.argv[1], 60_000, (line) => lines.push(line));
let n = 0;
for (let round = 0; round < 4; round++) {
  for (let i = 0; i < 3000; i++, n++) store.putAlert(makeAlert({ id: 'a' + n, label: 'x'.repeat(200) }), true, { f: n });
  await store.flush();
}
console.log(JSON.stringify({ failures: store.writeFailures, lines }));
`;

it('a store whose writes fail: flushes counted, one log line, the process goes on', () => {
  const path = join(dir, 'alerts.duckdb');
  const r = spawnSync('/bin/sh', ['-c', 'ulimit -f 2000 && exec "$@"', 'sh', process.execPath, '--input-type=module', '-e', CHILD, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { failures, lines } = JSON.parse(r.stdout) as { failures: number; lines: string[] };
  assert.ok(failures >= 1, `${failures} failed flushes`);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, new RegExp(`^store ${path}: cannot write: .*File too large; alerts kept in memory and retried at each flush$`));
});

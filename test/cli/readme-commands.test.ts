// README's Commands table against each command's own --help: every option a command takes is in its row (serve's row
// says "source as for detect" and takes detect's), and every option a row shows is one the command takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLI = 'dist/src/cli/main.js';
const COMMANDS = ['inspect', 'demo', 'train', 'evaluate', 'predict', 'info', 'extract', 'collect', 'detect', 'serve', 'retrain'];
/** Said once under the table for every command. */
const EVERY_COMMAND = new Set(['--help', '--json', '--debug']);

const helpOptions = (command: string): Set<string> => {
  const r = spawnSync(process.execPath, [CLI, command, '--help'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const options = r.stdout.split('Options:')[1] ?? '';
  return new Set([...options.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!));
};

const readmeRows = (): Map<string, string> => {
  const readme = readFileSync('README.md', 'utf8');
  const table = readme.split('## Commands')[1]!.split('\n\n')[1]!;
  const rows = new Map<string, string>();
  for (const line of table.split('\n')) {
    const m = /^\| `flowsentry (\w+)([^`]*)`/.exec(line);
    if (m) rows.set(m[1]!, m[2]!);
  }
  return rows;
};

test("README's Commands table shows each command's options, as its --help lists them", () => {
  const rows = readmeRows();
  assert.deepEqual([...rows.keys()].sort(), [...COMMANDS].sort());
  const shown = (command: string): Set<string> => {
    const usage = rows.get(command)!;
    const options = new Set([...usage.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
    if (usage.includes('source as for detect')) for (const o of shown('detect')) options.add(o);
    return options;
  };
  for (const command of COMMANDS) {
    const taken = helpOptions(command);
    const inRow = shown(command);
    const missing = [...taken].filter((o) => !EVERY_COMMAND.has(o) && !inRow.has(o));
    const unknown = [...inRow].filter((o) => !taken.has(o));
    assert.deepEqual(missing, [], `${command}: --help options missing from README's row`);
    assert.deepEqual(unknown, [], `${command}: README's row shows options the command does not take`);
  }
});

test('inspect --help names the JSON lines files README says it reads', () => {
  const r = spawnSync(process.execPath, [CLI, 'inspect', '--help'], { encoding: 'utf8', timeout: 60_000 });
  assert.match(r.stdout.replace(/\s+/g, ' '), /\.jsonl\/\.ndjson/);
});

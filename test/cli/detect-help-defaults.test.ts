// detect/serve --help states the defaults the configuration schema applies (the options have no commander default,
// so that a config file's value is not overridden): they were in docs/detect.md only. And detect.md names every
// key of the config file (it pointed to src/serve/config.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { configSchema } from '../../src/serve/config.js';

test('detect and serve --help give the schema defaults of the engine options', () => {
  const defaults = configSchema.parse({ model: 'm.fsm', onAlert: { command: 'true' } });
  const expected: [string, number][] = [
    ['--early-packets', defaults.earlyPackets],
    ['--aggregation-window', defaults.aggregationWindowS],
    ['--on-alert-min-score', defaults.onAlert!.minScore],
    ['--on-alert-per-minute', defaults.onAlert!.perMinute],
    ['--on-alert-timeout-ms', defaults.onAlert!.timeoutMs],
    ['--max-flows', defaults.maxFlows],
  ];
  for (const command of ['detect', 'serve']) {
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', command, '--help'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const [option, value] of expected) {
      const described = new RegExp(`${option} <\\w+> (.*?) --[a-z]`).exec(help)?.[1] ?? '';
      assert.match(described, new RegExp(`\\(default ${value}[;)]`), `${command} ${option}: ${described}`);
    }
  }
});

test("docs/detect.md's Configuration names every key of the config file", () => {
  const doc = readFileSync('docs/detect.md', 'utf8');
  const bullet = doc.slice(doc.indexOf('- Configuration:'), doc.indexOf('\n- ', doc.indexOf('- Configuration:') + 1));
  const missing = Object.keys(configSchema.shape).filter((key) => !bullet.includes(`\`${key}\``));
  assert.deepEqual(missing, []);
});

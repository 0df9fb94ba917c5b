// `collect` announces the address it bound in the form --listen takes: an IPv6 host in brackets (it printed
// "udp://::1:4739", which no URL parser reads back).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function collectBriefly(listen: string): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'collect', '--listen', listen, '--duration', '1', '--json'], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stderr: r.stderr };
}

test('collect on IPv6 loopback says udp://[::1]:PORT, and on IPv4 udp://127.0.0.1:PORT', () => {
  const v6 = collectBriefly('udp://[::1]:0');
  assert.equal(v6.code, 0, v6.stderr);
  const m = /^flowsentry: listening on (udp:\/\/\[::1\]:(\d+))$/m.exec(v6.stderr);
  assert.ok(m, v6.stderr);
  const url = new URL(m[1]);
  assert.equal(url.hostname, '[::1]');
  assert.ok(Number(m[2]) > 0);

  const v4 = collectBriefly('udp://127.0.0.1:0');
  assert.equal(v4.code, 0, v4.stderr);
  assert.match(v4.stderr, /^flowsentry: listening on udp:\/\/127\.0\.0\.1:[1-9]\d*$/m);
});

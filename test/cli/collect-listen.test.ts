// `collect` announces the address it bound in the form --listen takes: an IPv6 host in brackets (it printed
// "udp://::1:4739", which no URL parser reads back). An address it cannot listen on is one line naming it and what to
// do (it was Node's "bind EADDRINUSE 127.0.0.1:2055").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { nativeReceiver } from '../../src/flows/collector-native.js';

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

/** A UDP port held by this process on `host` for the duration of `use`. */
async function withTakenPort<T>(host: string, use: (port: number) => T): Promise<T> {
  const taken = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const port = await new Promise<number>((resolve) => taken.bind(0, host, () => resolve(taken.address().port)));
  try {
    return use(port);
  } finally {
    taken.close();
  }
}

test('collect on a port in use, or an address of another machine: one line naming the address and what to do, exit 1', async () => {
  for (const receiver of ['dgram', ...('reason' in nativeReceiver() ? [] : ['recvmmsg'])]) {
    await withTakenPort('127.0.0.1', (port) => {
      const r = spawnSync(process.execPath, [CLI, 'collect', '--listen', `udp://127.0.0.1:${port}`, '--receiver', receiver, '--duration', '1'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `flowsentry: cannot listen on udp://127.0.0.1:${port}: the port is in use (EADDRINUSE); stop the program that holds it or choose another port in --listen\n`);
    });
  }
  await withTakenPort('::1', (port) => {
    const r = spawnSync(process.execPath, [CLI, 'collect', '--listen', `udp://[::1]:${port}`, '--duration', '1'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.stderr, `flowsentry: cannot listen on udp://[::1]:${port}: the port is in use (EADDRINUSE); stop the program that holds it or choose another port in --listen\n`);
  });
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this machine
  const foreign = spawnSync(process.execPath, [CLI, 'collect', '--listen', 'udp://192.0.2.1:2055', '--duration', '1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(foreign.status, 1);
  assert.equal(foreign.stderr, 'flowsentry: cannot listen on udp://192.0.2.1:2055: 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL); give one of its addresses in --listen, or 0.0.0.0 for all\n');
});

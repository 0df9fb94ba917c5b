import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/serve/config.js';
import { createSink } from '../../src/detect/sinks/index.js';
import { UsageError, UserError } from '../../src/errors.js';

describe('service configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-config-'));
  const file = join(dir, 'flowsentry.json');

  it('layers defaults < file < environment < command line', () => {
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', http: '0.0.0.0:9000', earlyPackets: 4, sinks: ['stdout'] }));
    const c = loadConfig({ http: '127.0.0.1:9100' }, file, { FLOWSENTRY_MODEL: 'b.fsm', FLOWSENTRY_STORE: '/tmp/x.duckdb' });
    assert.equal(c.model, 'b.fsm');
    assert.equal(c.http, '127.0.0.1:9100');
    assert.equal(c.store, '/tmp/x.duckdb');
    assert.equal(c.earlyPackets, 4);
    assert.equal(c.aggregationWindowS, 60);
  });

  it('records where each given setting came from, as a message names it (a default has no place)', () => {
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', http: '0.0.0.0:9000', netflow: 'udp://0.0.0.0:2055', earlyPackets: 4 }));
    const c = loadConfig({ earlyPackets: 2, aggregationWindowS: 5 }, file, { FLOWSENTRY_NETFLOW: 'udp://127.0.0.1:2055' });
    assert.deepEqual(c.placeOf, {
      model: "the config file's model",
      http: "the config file's http",
      netflow: 'FLOWSENTRY_NETFLOW',
      earlyPackets: '--early-packets',
      aggregationWindowS: '--aggregation-window',
    });
    assert.deepEqual(loadConfig({ model: 'm' }, undefined, { FLOWSENTRY_HTTP: '127.0.0.1:1' }).placeOf, { model: '--model', http: 'FLOWSENTRY_HTTP' });
  });

  it('two traffic sources: named where each was given; a usage error when both were typed on the command line', () => {
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', netflow: 'udp://127.0.0.1:2055' }));
    const both = (): unknown => loadConfig({ model: 'm', pcap: 'a.pcap', stdin: true }, undefined, {});
    assert.throws(both, (e: unknown) => e instanceof UsageError && e.message === 'choose one traffic source (pcap, interface, netflow or stdin), not --pcap and --stdin');
    assert.throws(
      () => loadConfig({ pcap: 'a.pcap' }, file, {}),
      (e: unknown) => e instanceof UserError && !(e instanceof UsageError) && e.message === `${file}: choose one traffic source (pcap, interface, netflow or stdin), not --pcap and the config file's netflow`,
    );
    assert.throws(
      () => loadConfig({ model: 'm', interface: 'eth0' }, undefined, { FLOWSENTRY_NETFLOW: 'udp://127.0.0.1:2055' }),
      (e: unknown) => e instanceof UserError && !(e instanceof UsageError) && /not --interface and FLOWSENTRY_NETFLOW$/.test(e.message),
    );
  });

  it("hook options amend the config file's onAlert (they were ignored without --on-alert), each blamed on its option", () => {
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', onAlert: { command: 'echo {src}', perMinute: 5 } }));
    assert.deepEqual(loadConfig({ onAlert: { execute: true } }, file, {}).onAlert, { command: 'echo {src}', minScore: 0, perMinute: 5, timeoutMs: 5000, execute: true });
    assert.deepEqual(loadConfig({ onAlert: { command: 'logger {src}' } }, file, {}).onAlert, { command: 'logger {src}', minScore: 0, perMinute: 5, timeoutMs: 5000, execute: false });
    assert.throws(() => loadConfig({ onAlert: { perMinute: 0 } }, file, {}), (e: Error) => e instanceof UsageError && e.message === 'invalid --on-alert-per-minute: must be > 0, got 0');
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', onAlert: { command: 'echo {src}', timeoutMs: 0 } }));
    assert.throws(() => loadConfig({ onAlert: { execute: true } }, file, {}), (e: Error) => e instanceof UserError && /flowsentry\.json: invalid configuration: onAlert\.timeoutMs: /.test(e.message));
    // no command anywhere: the option that would give it
    assert.throws(() => loadConfig({ model: 'm', onAlert: { execute: true } }, undefined, {}), (e: Error) => e instanceof UsageError && e.message === '--on-alert-execute needs --on-alert <command>, the command to run per alert');
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', onAlert: { execute: true } }));
    assert.throws(() => loadConfig({}, file, {}), (e: Error) => e instanceof UserError && !(e instanceof UsageError) && e.message === `${file}: invalid configuration: onAlert.command: missing`);
  });

  it('names the file and the key of an invalid value', () => {
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', earlyPackets: -1 }));
    assert.throws(() => loadConfig({}, file, {}), (e: Error) => e instanceof UserError && e.message.includes('flowsentry.json') && e.message.includes('earlyPackets'));
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', bogus: 1 }));
    assert.throws(() => loadConfig({}, file, {}), (e: Error) => e.message === `${file}: invalid configuration: unknown key 'bogus'`);
    // the schema's problems in the options' words, not zod's ("Invalid input: expected int, received number")
    for (const [settings, problem] of [
      [{ earlyPackets: 1.5 }, 'earlyPackets: expected an integer, got 1.5'],
      [{ earlyPackets: '8' }, 'earlyPackets: expected a number'],
      [{ receiver: 'fast' }, 'receiver: expected auto, recvmmsg or dgram'],
      [{ stdin: 'yes' }, 'stdin: expected true or false'],
      [{ sinks: 'stdout' }, 'sinks: expected a list'],
      [{ onAlert: { command: 'x', timeoutMs: 0 } }, 'onAlert.timeoutMs: must be > 0, got 0'],
      [{ onAlert: { command: 'x', bogus: 1, other: 2 } }, "onAlert: unknown keys 'bogus' and 'other'"],
      [{ storeRetentionHours: 0 }, 'storeRetentionHours: must be > 0, got 0'],
    ] as const) {
      writeFileSync(file, JSON.stringify({ model: 'a.fsm', ...settings }));
      assert.throws(() => loadConfig({}, file, {}), (e: Error) => e.message === `${file}: invalid configuration: ${problem}`, problem);
    }
    writeFileSync(file, '{ not json');
    assert.throws(() => loadConfig({}, file, {}), /flowsentry\.json, line 1, column 3: config is not JSON: /);
    writeFileSync(file, '[]');
    assert.throws(() => loadConfig({}, file, {}), /flowsentry\.json: config is not a JSON object$/);
    assert.throws(() => loadConfig({}, join(dir, 'missing.json'), {}), /cannot read config file/);
    assert.throws(() => loadConfig({ model: 'm', pcap: 'a.pcap', netflow: 'udp://0.0.0.0:2055' }, undefined, {}), /one traffic source/);
  });

  it("the store's retention comes from the config file: hours, positive; absent keeps everything", () => {
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', storeRetentionHours: 0.5 }));
    assert.equal(loadConfig({}, file, {}).storeRetentionHours, 0.5);
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', storeRetentionHours: 0 }));
    assert.throws(() => loadConfig({}, file, {}), (e: Error) => e instanceof UserError && e.message.includes('storeRetentionHours'));
    assert.equal(loadConfig({ model: 'a.fsm' }, undefined, {}).storeRetentionHours, undefined);
  });

  it('blames an invalid value on the command-line option or environment variable that gave it, not on the config file', () => {
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', token: 'a-long-enough-token-from-the-file' }));
    // typed on the command line: a usage error (exit 2), as the option parsers' refusals are; elsewhere a user error
    const message = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof UsageError || e instanceof UserError);
        assert.equal(e instanceof UsageError, e.message.startsWith('invalid --'), e.message);
        return e.message;
      }
      assert.fail('no error');
    };
    assert.equal(message(() => loadConfig({ token: 'tok123' }, file, {})), 'invalid --token: must be at least 16 characters');
    assert.equal(message(() => loadConfig({}, file, { FLOWSENTRY_TOKEN: 'tok123' })), 'invalid FLOWSENTRY_TOKEN: must be at least 16 characters');
    assert.equal(message(() => loadConfig({ model: 'm', aggregationWindowS: -1 }, undefined, {})), 'invalid --aggregation-window: must be > 0, got -1');
    assert.equal(message(() => loadConfig({ model: 'm', onAlert: { command: 'x', perMinute: 0 } }, undefined, {})), 'invalid --on-alert-per-minute: must be > 0, got 0');
    assert.equal(message(() => loadConfig({ model: 'm', earlyPackets: 20000 }, undefined, {})), 'invalid --early-packets: must be <= 10000, got 20000');
    assert.equal(message(() => loadConfig({ model: 'm', onAlert: { command: 'x', timeoutMs: 2 ** 31 } }, undefined, {})), 'invalid --on-alert-timeout-ms: must be <= 2147483647, got 2147483648');
    writeFileSync(file, JSON.stringify({ model: 'a.fsm', token: 'short' }));
    assert.match(message(() => loadConfig({}, file, {})), /flowsentry\.json: invalid configuration: token: must be at least 16 characters$/);
  });

  it('parses sink specifications and rejects unknown ones', async () => {
    assert.equal(createSink('stdout').name, 'stdout');
    assert.equal(createSink('webhook:http://127.0.0.1:1/x').name, 'webhook');
    const syslog = createSink('syslog:127.0.0.1:5514');
    assert.equal(syslog.name, 'syslog');
    await syslog.close();
    assert.throws(() => createSink('webhook:ftp://x'), UsageError);
    assert.throws(() => createSink('kafka:x'), UsageError);
    assert.throws(() => createSink('file:'), UsageError);
  });
});

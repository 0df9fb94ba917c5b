// `detect` and `serve` options whose values the config schema refuses: typed on the command line, each is a usage
// error (exit 2) before the model is read, as the option parsers' refusals are; they were user errors (exit 1). The
// same value from the environment stays a user error naming the variable. --receiver says what collect's does. The
// problem is said in the options' words ("must not be empty"), not the schema library's ("Too small: expected string
// to have >=1 characters"), and a hook option without a command names the option that gives it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI, cli } from '../helpers/cli.js';

const MODEL = 'no-such-model.fsm';
const CAPTURE = 'no-such-capture.pcap';

function assertUsage(args: readonly string[], expected: string): void {
  const r = cli(args);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `flowsentry: ${expected}\n`);
}

describe('detect and serve options the config schema refuses', () => {
  it('are usage errors naming the option', () => {
    assertUsage(['serve', '--model', MODEL, '--pcap', CAPTURE, '--token', 'short'], 'invalid --token: must be at least 16 characters');
    assertUsage(['serve', '--model', MODEL, '--pcap', CAPTURE, '--http', 'localhost'], 'invalid --http: expected HOST:PORT');
    assertUsage(['serve', '--model', MODEL, '--pcap', CAPTURE, '--http', '127.0.0.1:99999'], 'invalid --http: the port must be at most 65535');
    assertUsage(['detect', '--model', MODEL, '--netflow', 'tcp://127.0.0.1:2055'], 'invalid --netflow: expected udp://HOST:PORT');
    assertUsage(['detect', '--model', '', '--pcap', CAPTURE], 'invalid --model: must not be empty');
    // an empty command was dropped without a word (no hook at all)
    assertUsage(['detect', '--model', MODEL, '--pcap', CAPTURE, '--on-alert', ''], 'invalid --on-alert: must not be empty');
    // a hook option with no command anywhere was ignored without a word
    assertUsage(['detect', '--model', MODEL, '--pcap', CAPTURE, '--on-alert-execute'], '--on-alert-execute needs --on-alert <command>, the command to run per alert');
    assertUsage(['serve', '--model', MODEL, '--pcap', CAPTURE, '--on-alert-min-score', '0.9', '--on-alert-execute'], '--on-alert-min-score and --on-alert-execute need --on-alert <command>, the command to run per alert');
  });

  it('--receiver is refused as collect refuses it', () => {
    const expected = "--receiver expects auto, recvmmsg or dgram, got 'bogus'";
    assertUsage(['detect', '--model', MODEL, '--netflow', 'udp://127.0.0.1:0', '--receiver', 'bogus'], expected);
    assertUsage(['serve', '--model', MODEL, '--receiver', 'bogus'], expected);
    assertUsage(['collect', '--listen', 'udp://127.0.0.1:0', '--receiver', 'bogus'], expected);
  });

  it('the same value from the environment is a user error naming the variable', () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--model', MODEL, '--pcap', CAPTURE], { encoding: 'utf8', env: { ...process.env, FLOWSENTRY_HTTP: 'localhost' } });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, 'flowsentry: invalid FLOWSENTRY_HTTP: expected HOST:PORT\n');
  });
});

// Every numeric option of every command as a person types it: numbers are read by the data readers' rule (decimal,
// 1e3 is 1000; '0x10', '0o17', '0b11' and a blank are not numbers, as Number() read them: `--seed ''` was seed 0 and
// `--cv 0x10` 16 folds), and a value that is not one the option accepts is one usage line naming the option, the value
// as typed and what is accepted, exit 2, nothing on stdout, before any work.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../helpers/cli.js';

const DATA = 'samples/nsl-kdd/KDDTrain+_sample.txt';
const MISSING = 'no-such-capture.pcap';

/** The command line up to the option, per command (required options given; the inputs need not exist). */
const COMMANDS: Record<string, string[]> = {
  train: ['train', DATA],
  extract: ['extract', MISSING],
  collect: ['collect', '--listen', 'udp://127.0.0.1:0'],
  detect: ['detect', '--model', 'no-such-model.fsm'],
  serve: ['serve', '--model', 'no-such-model.fsm'],
  retrain: ['retrain', '--model', 'a.fsm', '--store', 'b.duckdb', '--out', 'c.fsm'],
};

function assertUsage(command: string, option: string, value: string, expected: string): void {
  const r = cli([...COMMANDS[command], option, value]);
  assert.equal(r.code, 2, `${command} ${option} '${value}': ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `flowsentry: ${expected}\n`);
}

describe('numeric options', () => {
  it('hexadecimal, octal and binary literals are refused, with their decimal value', () => {
    assertUsage('train', '--cv', '0x10', "--cv expects an integer >= 2, got '0x10' (write it in decimal: 16)");
    assertUsage('collect', '--duration', '0o17', "--duration expects an integer in [1, 2147483], got '0o17' (write it in decimal: 15)");
    assertUsage('extract', '--max-flows', '0b11', "--max-flows expects an integer >= 1, got '0b11' (write it in decimal: 3)");
    assertUsage('train', '--target-fpr', '0x0', "--target-fpr expects a number in (0, 0.5), got '0x0' (write it in decimal: 0)");
  });

  it('a blank is not a number (it was 0)', () => {
    assertUsage('train', '--seed', '', "--seed expects an integer in [0, 4294967295], got ''");
    assertUsage('collect', '--count', ' ', "--count expects an integer >= 1, got ' '");
    assertUsage('extract', '--idle-timeout', '', "--idle-timeout expects a number > 0, got ''");
  });

  it('a fraction where an integer is needed, and infinities, are refused', () => {
    assertUsage('train', '--cv', '2.5', "--cv expects an integer >= 2, got '2.5'");
    assertUsage('extract', '--workers', '1.5', "--workers expects an integer >= 1, got '1.5'");
    assertUsage('retrain', '--feedback-weight', '2.5', "--feedback-weight expects an integer >= 1, got '2.5'");
    assertUsage('detect', '--on-alert-timeout-ms', '0.5', "--on-alert-timeout-ms expects an integer in [1, 2147483647], got '0.5'");
    assertUsage('train', '--budget', '1e999', "--budget expects an integer >= 1, got '1e999'");
    assertUsage('detect', '--on-alert-min-score', 'inf', "--on-alert-min-score expects a number, got 'inf'");
    assertUsage('detect', '--on-alert-min-score', 'NaN', "--on-alert-min-score expects a number, got 'NaN'");
  });

  it('a negative value (or zero) where it is not allowed is refused', () => {
    assertUsage('train', '--seed', '-1', "--seed expects an integer in [0, 4294967295], got '-1'");
    assertUsage('train', '--target-fpr', '-0.01', "--target-fpr expects a number in (0, 0.5), got '-0.01'");
    assertUsage('train', '--target-fpr', '0.5', "--target-fpr expects a number in (0, 0.5), got '0.5'");
    assertUsage('extract', '--active-timeout', '-3', "--active-timeout expects a number > 0, got '-3'");
    assertUsage('collect', '--receive-buffer', '-1', "--receive-buffer expects an integer in [1, 2147483647], got '-1'");
    assertUsage('detect', '--early-packets', '-1', "--early-packets expects an integer in [0, 10000], got '-1'");
    assertUsage('serve', '--aggregation-window', '0', "--aggregation-window expects a number in (0, 86400], got '0'");
    assertUsage('serve', '--on-alert-per-minute', '0', "--on-alert-per-minute expects an integer >= 1, got '0'");
    assertUsage('detect', '--max-flows', '0', "--max-flows expects an integer >= 1, got '0'");
  });

  it('a receive buffer a socket option cannot hold is refused (2^31 crashed the dgram receiver; 2^32 wrapped to the default)', () => {
    assertUsage('collect', '--receive-buffer', '2147483648', "--receive-buffer expects an integer in [1, 2147483647], got '2147483648'");
  });

  it('a delay a Node timer cannot hold is refused (it fired at once: collect --duration 2147484 stopped at start)', () => {
    assertUsage('collect', '--duration', '2147484', "--duration expects an integer in [1, 2147483], got '2147484'");
    assertUsage('detect', '--on-alert-timeout-ms', '2147483648', "--on-alert-timeout-ms expects an integer in [1, 2147483647], got '2147483648'");
  });

  it('a seed the generator would read as another (it takes 32 bits: 1e20 ran as some other seed) is refused', () => {
    for (const seed of ['1e20', '4294967296', '9007199254740993']) assertUsage('train', '--seed', seed, `--seed expects an integer in [0, 4294967295], got '${seed}'`);
  });

  it('an integer past 2^53 - 1, which a number cannot hold exactly, is refused (the config schema refused it as exit 1)', () => {
    const hint = '(at most 9007199254740991, the largest integer held exactly)';
    assertUsage('detect', '--max-flows', '9007199254740993', `--max-flows expects an integer >= 1, got '9007199254740993' ${hint}`);
    assertUsage('serve', '--on-alert-per-minute', '1e20', `--on-alert-per-minute expects an integer >= 1, got '1e20' ${hint}`);
    assertUsage('collect', '--count', '1e300', `--count expects an integer >= 1, got '1e300' ${hint}`);
  });

  it("past the config schema's bounds, --early-packets and --aggregation-window are usage errors (they were exit 1, later)", () => {
    assertUsage('detect', '--early-packets', '10001', "--early-packets expects an integer in [0, 10000], got '10001'");
    assertUsage('serve', '--early-packets', '1e5', "--early-packets expects an integer in [0, 10000], got '1e5'");
    assertUsage('detect', '--aggregation-window', '86400.5', "--aggregation-window expects a number in (0, 86400], got '86400.5'");
    assertUsage('serve', '--aggregation-window', '1e6', "--aggregation-window expects a number in (0, 86400], got '1e6'");
  });

  it('decimal values are taken, exponents too: the command goes on to its inputs', () => {
    const extract = cli([...COMMANDS.extract, '--max-flows', '1e3', '--idle-timeout', ' 30 ', '--active-timeout', '.5', '--workers', '+2']);
    assert.equal(extract.code, 1, extract.stderr);
    assert.match(extract.stderr, new RegExp(`^flowsentry: ${MISSING}: `));
    const detect = cli([...COMMANDS.detect, '--pcap', MISSING, '--early-packets', '0', '--aggregation-window', '2.5', '--on-alert', 'echo {src}', '--on-alert-min-score', '-1e-3']);
    assert.equal(detect.code, 1, detect.stderr);
    assert.match(detect.stderr, new RegExp(`^flowsentry: ${MISSING}: `));
    // the bounds themselves are taken
    const bounds = cli([...COMMANDS.serve, '--pcap', MISSING, '--early-packets', '1e4', '--aggregation-window', '86400']);
    assert.equal(bounds.code, 1, bounds.stderr);
    assert.match(bounds.stderr, new RegExp(`^flowsentry: ${MISSING}: `));
    const seed = cli([...COMMANDS.train, '--seed', '4294967295', '--models', 'bogus']);
    assert.equal(seed.code, 2, seed.stderr);
    assert.match(seed.stderr, /^flowsentry: [^\n]*bogus/);
  });
});

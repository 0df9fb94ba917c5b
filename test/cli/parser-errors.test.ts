// The option parser's refusals follow the README's rule for usage errors: one line on stderr, `flowsentry: …`, exit 2,
// nothing on stdout. They were commander's two lines (`error: unknown option '--bogus'` and a help hint).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../helpers/cli.js';
import { parserErrorLine } from '../../src/cli/command.js';

function assertUsageLine(args: readonly string[], line: string): void {
  const r = cli(args);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '', args.join(' '));
  assert.equal(r.stderr, `flowsentry: ${line}\n`, args.join(' '));
}

describe('option parser errors', () => {
  it('unknown option, in a command and before any', () => {
    assertUsageLine(['train', 'd.csv', '--bogus'], "unknown option '--bogus'; see flowsentry train --help");
    assertUsageLine(['serve', '--bogus'], "unknown option '--bogus'; see flowsentry serve --help");
    assertUsageLine(['--bogus'], "unknown option '--bogus'; see flowsentry --help");
    // --json asks for nothing on stdout on an error: still the one line
    assertUsageLine(['predict', 'm.fsm', 'd.csv', '--json', '--bogus'], "unknown option '--bogus'; see flowsentry predict --help");
  });

  it("commander's suggestion stays on the line", () => {
    assertUsageLine(['train', 'd.csv', '--jsn'], "unknown option '--jsn' (did you mean --json?); see flowsentry train --help");
    assertUsageLine(['trian'], "unknown command 'trian' (did you mean train?); see flowsentry --help");
  });

  it('missing option argument, missing argument, too many arguments', () => {
    assertUsageLine(['train', 'd.csv', '--cv'], "option '--cv <k>' argument missing; see flowsentry train --help");
    assertUsageLine(['predict'], "missing required argument 'model'; see flowsentry predict --help");
    assertUsageLine(['info', 'a.fsm', 'b.fsm'], "too many arguments for 'info': expected 1 argument but got 2; see flowsentry info --help");
    assertUsageLine(['bogus'], "unknown command 'bogus'; see flowsentry --help");
  });

  it('missing required option: the parser\'s, and detect/serve --model (which a config file or FLOWSENTRY_MODEL can give)', () => {
    assertUsageLine(['retrain', '--model', 'm.fsm', '--out', 'm2.fsm'], "required option '--store <file>' not specified; see flowsentry retrain --help");
    assertUsageLine(['collect'], "required option '--listen <url>' not specified; see flowsentry collect --help");
    const model = "required option '--model <file>' not specified (nor FLOWSENTRY_MODEL, nor a --config file's model)";
    assertUsageLine(['detect', '--pcap', 'c.pcap'], model);
    assertUsageLine(['serve', '--pcap', 'c.pcap'], model);
  });

  it('parserErrorLine joins what commander writes into one line', () => {
    assert.equal(parserErrorLine("error: unknown option '--x'\n(Did you mean one of --a, --b?)\n", 'flowsentry t'), "flowsentry: unknown option '--x' (did you mean one of --a, --b?); see flowsentry t --help\n");
  });
});

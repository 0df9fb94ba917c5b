// `detect --pcap` and `serve --pcap` on a capture cut short (the shared synscan.pcapng cut inside a block), as
// `extract` does: detect scores and flushes every flow of the packets before the cut (tshark reads the same packets),
// then prints one line naming the file and the byte offset of the cut block (found by walking the block lengths
// here) and exits 1; serve logs the same line once, shows it in /api/health and /metrics, and keeps running.
// The live sources end the same way: a stdin writer that dies mid-block, and tcpdump (a stand-in script on PATH
// that writes the capture) exiting with an error, or failing before it writes anything.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cli } from '../helpers/cli.js';
import { SYNSCAN, TRAINING_CSVS, sharedFiles, startServe, trainPortscanModel, waitFor } from '../e2e/service-harness.js';

const captures = sharedFiles(SYNSCAN);
const skip = !captures || !sharedFiles(...TRAINING_CSVS) ? 'shared datasets missing' : false;

/** Start of the pcapng block (little-endian lengths) that runs past `cut`. */
function cutBlockStart(bytes: Buffer, cut: number): number {
  let at = 0;
  while (at + bytes.readUInt32LE(at + 4) <= cut) at += bytes.readUInt32LE(at + 4);
  return at;
}

/** Packets tshark reads from a capture cut short (it reports the cut and stops), or undefined without tshark. */
function tsharkPackets(path: string): number | undefined {
  const r = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  if (r.error) return undefined;
  return r.stdout.trim().split('\n').filter(Boolean).length;
}

describe('a damaged capture given to detect --pcap and serve --pcap', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-detect-damage-'));
  const model = join(dir, 'cic-rf.fsm');
  const cut = join(dir, 'synscan-cut.pcapng');
  let offset = 0;

  before(() => {
    const whole = readFileSync(captures![0]!);
    assert.equal(whole.readUInt32LE(8), 0x1a2b3c4d, 'a little-endian section');
    const at = Math.floor(whole.length * 0.6);
    offset = cutBlockStart(whole, at);
    assert.ok(offset < at, 'the cut is inside a block');
    writeFileSync(cut, whole.subarray(0, at));
    trainPortscanModel(model);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('detect: the flows before the cut are scored and flushed, then one line naming the file and the offset, exit 1', () => {
    const alerts = join(dir, 'alerts.jsonl');
    const r = cli(['detect', '--model', model, '--pcap', cut, '--sink', `file:${alerts}`, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const s = JSON.parse(r.stdout) as {
      damage: string;
      engine: { flowsScored: number; earlyScored: number; alertsRaised: number };
      sinks: Record<string, { written: number; failed: number }>;
      input: { capture: { packets: number }; meter: { flows: number } };
    };
    const packets = s.input.capture.packets;
    const expected = `${cut}: the capture is cut short or damaged at byte ${offset}: it ends in the middle of a block; the flows of the ${packets} packets read were scored`;
    assert.deepEqual(r.stderr.split('\n').filter(Boolean), [`flowsentry: ${expected}`]);
    assert.equal(s.damage, expected);
    const read = tsharkPackets(cut);
    if (read !== undefined) assert.equal(packets, read, 'tshark reads as many packets before the cut');
    assert.ok(packets > 1000, `${packets} packets before the cut`);
    // every flow metered before the cut got its final verdict, and every alert reached the file
    assert.equal(s.engine.flowsScored - s.engine.earlyScored, s.input.meter.flows);
    assert.ok(s.engine.alertsRaised > 0, 'the port scan before the cut raises alerts');
    const lines = readFileSync(alerts, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, s.sinks.file!.written);

    // extract of the same file: the same flows and the same line, with its own verb
    const e = cli(['extract', cut, '--out', join(dir, 'cut.csv'), '--json']);
    assert.equal(e.code, 1);
    assert.equal((JSON.parse(e.stdout) as { flows: number }).flows, s.input.meter.flows);
    assert.deepEqual(e.stderr.split('\n').filter(Boolean), [`flowsentry: ${expected.replace(/scored$/, 'written')}`]);
  });

  it('detect on the whole capture: exit 0, no damage line and no damage field', () => {
    const r = cli(['detect', '--model', model, '--pcap', captures![0]!, '--sink', `file:${join(dir, 'whole.jsonl')}`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal((JSON.parse(r.stdout) as { damage?: string }).damage, undefined);
  });

  it('detect --stdin: a writer that dies mid-block gives the same line for <stdin>, after every flow is flushed', () => {
    const r = cli(['detect', '--model', model, '--stdin', '--json'], readFileSync(cut));
    assert.equal(r.code, 1, r.stderr);
    const s = JSON.parse(r.stdout) as { damage: string; engine: { flowsScored: number; earlyScored: number }; input: { capture: { packets: number }; meter: { flows: number } } };
    const packets = s.input.capture.packets;
    const expected = `<stdin>: the capture is cut short or damaged at byte ${offset}: it ends in the middle of a block; the flows of the ${packets} packets read were scored`;
    assert.deepEqual(r.stderr.split('\n').filter(Boolean), [`flowsentry: ${expected}`]);
    assert.equal(s.damage, expected);
    const fromFile = JSON.parse(cli(['detect', '--model', model, '--pcap', cut, '--json']).stdout) as typeof s;
    assert.equal(packets, fromFile.input.capture.packets);
    assert.equal(s.engine.flowsScored - s.engine.earlyScored, fromFile.input.meter.flows);
  });

  describe('detect --interface, with tcpdump replaced by a script that writes a capture', () => {
    const bin = join(dir, 'bin');
    /** Runs detect on interface eth9 with a tcpdump that writes `capture`, says `said` on stderr and exits `code`. */
    const detectLive = (capture: string | undefined, said: string, code: number): { code: number; stdout: string; stderr: string } => {
      mkdirSync(bin, { recursive: true });
      const script = join(bin, 'tcpdump');
      writeFileSync(script, `#!/bin/sh\n${capture ? `cat '${capture}'\n` : ''}printf '%s\\n' '${said}' >&2\nexit ${code}\n`);
      chmodSync(script, 0o755);
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, FLOWSENTRY_THREADS: '2' };
      const r = spawnSync(process.execPath, [CLI, 'detect', '--model', model, '--interface', 'eth9', '--json'], { encoding: 'utf8', env });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };

    it('tcpdump ends normally: exit 0, every flow scored, no damage', () => {
      const r = detectLive(captures![0]!, '12 packets captured', 0);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const s = JSON.parse(r.stdout) as { damage?: string; source: string; input: { capture: { source: string; packets: number } } };
      assert.equal(s.damage, undefined);
      assert.equal(s.input.capture.source, 'tcpdump on eth9');
      assert.equal(s.input.capture.packets, tsharkPackets(captures![0]!) ?? s.input.capture.packets);
    });

    it('tcpdump exits with an error mid-capture: its complaint in one line, after the flows read were scored, exit 1', () => {
      const r = detectLive(captures![0]!, 'tcpdump: pcap_loop: The interface disappeared', 1);
      assert.equal(r.code, 1, r.stderr);
      const s = JSON.parse(r.stdout) as { damage: string; input: { capture: { packets: number } } };
      const expected = `tcpdump on eth9: tcpdump exited with code 1 (tcpdump: pcap_loop: The interface disappeared); the flows of the ${s.input.capture.packets} packets read were scored`;
      assert.equal(s.damage, expected);
      assert.deepEqual(r.stderr.split('\n').filter(Boolean), [`flowsentry: ${expected}`]);
    });

    it('tcpdump cannot start capturing: one line with what it said, exit 1', () => {
      const r = detectLive(undefined, 'tcpdump: eth9: No such device exists', 1);
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(r.stderr.split('\n').filter(Boolean), ['flowsentry: tcpdump on eth9 failed: tcpdump: eth9: No such device exists']);
    });
  });

  it('serve: logs the line once, reports it in /api/health and /metrics, and keeps running', async () => {
    const s = await startServe(['--model', model, '--pcap', cut, '--store', join(dir, 'serve.duckdb')]);
    try {
      const health = await waitFor('the damage in /api/health', async () => {
        const h = (await (await s.get('/api/health')).json()) as { sourceDamage?: string };
        return h.sourceDamage;
      });
      assert.match(health, new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the capture is cut short or damaged at byte ${offset}: `));
      assert.ok(health.endsWith(' packets read were scored'), health);
      const metrics = await (await s.get('/metrics', null)).text();
      assert.match(metrics, new RegExp(`^flowsentry_capture_damaged\\{file="${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\} 1$`, 'm'));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(s.child.exitCode, null, 'still running');
      assert.equal((await s.get('/api/health')).status, 200);
      assert.equal(s.stderr().split('\n').filter((l) => l === `flowsentry: ${health}`).length, 1, s.stderr());
    } finally {
      const { code } = await s.stop();
      assert.equal(code, 0, s.stderr());
    }
  });
});

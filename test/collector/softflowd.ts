// Runs softflowd (Debian) as a real exporter: it reads a capture and exports NetFlow v5 / v9 / IPFIX over UDP, then
// prints a report whose totals are the truth the collector must reproduce.

import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SoftflowdReport {
  /** Records exported (softflowd: "Flows exported: F (R records)"). */
  records: number;
  /** Sums of the per-protocol statistics table. */
  packets: number;
  bytes: number;
}

export function hasSoftflowd(): boolean {
  return spawnSync('softflowd', ['-h'], { stdio: 'ignore' }).error === undefined;
}

export function parseSoftflowdReport(text: string): SoftflowdReport {
  const m = /Flows exported: \d+ \((\d+) records\)/.exec(text);
  let packets = 0;
  let bytes = 0;
  for (const line of text.split('\n')) {
    const p = /^\s*\S+ \(\d+\):\s+(\d+)\s+(\d+)\s/.exec(line);
    if (p) {
      bytes += Number(p[1]);
      packets += Number(p[2]);
    }
  }
  return { records: m ? Number(m[1]) : -1, packets, bytes };
}

/**
 * softflowd -r FILE exporting to 127.0.0.1:port. `-c none` stops it waiting on its control socket after the file
 * ends; the pid file is a private temp path because softflowd deletes it on exit.
 */
export function runSoftflowd(file: string, port: number, args: readonly string[]): Promise<SoftflowdReport> {
  const pidFile = join(tmpdir(), `flowsentry-softflowd-${process.pid}-${port}.pid`);
  return new Promise((resolve, reject) => {
    const child = spawn('softflowd', ['-r', file, '-n', `127.0.0.1:${port}`, '-d', '-c', 'none', '-p', pidFile, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(parseSoftflowdReport(text)));
  });
}

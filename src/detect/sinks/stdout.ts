// Writes each alert as one JSON line on stdout. A failed write is counted; in `serve` the service goes on (and the
// first failure of a run is logged), in `detect` stdout's guard ends the command (src/util/output.ts).

import type { Alert } from '../alert.js';
import { countStdout, describeWriteError, stdoutFailureEndsRun } from '../../util/output.js';
import type { AlertSink, SinkStats } from './sink.js';

export class StdoutSink implements AlertSink {
  readonly name = 'stdout';
  private written = 0;
  private failed = 0;
  private failing = false;

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    if (out === process.stdout) countStdout(() => ({ count: this.written, unit: 'alerts' }));
  }

  write(alert: Alert): void {
    this.out.write(`${JSON.stringify(alert)}\n`, (err?: Error | null) => {
      if (!err) {
        this.written++;
        this.failing = false;
        return;
      }
      this.failed++;
      if (!this.failing && !(this.out === process.stdout && stdoutFailureEndsRun())) this.log(`sink stdout: cannot write: ${describeWriteError(err)}; failed alerts are counted (sink stats)`);
      this.failing = true;
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }

  stats(): SinkStats {
    return { written: this.written, dropped: 0, failed: this.failed, queued: 0 };
  }
}

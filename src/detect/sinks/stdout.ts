// Writes each alert as one JSON line on stdout.

import type { Alert } from '../alert.js';
import type { AlertSink, SinkStats } from './sink.js';

export class StdoutSink implements AlertSink {
  readonly name = 'stdout';
  private written = 0;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  write(alert: Alert): void {
    this.out.write(`${JSON.stringify(alert)}\n`);
    this.written++;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }

  stats(): SinkStats {
    return { written: this.written, dropped: 0, failed: 0, queued: 0 };
  }
}

// Appends alerts as JSON lines to a file, rotating it when it passes a size: alerts.jsonl → alerts.jsonl.1 → … up
// to `keep` old files. Writes are synchronous appends: alerts are few after aggregation, and an accepted alert is
// on disk before `write` returns.

import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import type { Alert } from '../alert.js';
import type { AlertSink, SinkStats } from './sink.js';

export interface FileSinkOptions {
  readonly path: string;
  /** Rotate when the file would pass this many bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Rotated files kept (default 5). */
  readonly keep?: number;
}

export class FileSink implements AlertSink {
  readonly name = 'file';
  private fd: number;
  private size: number;
  private written = 0;
  private failed = 0;
  private readonly maxBytes: number;
  private readonly keep: number;

  constructor(private readonly options: FileSinkOptions) {
    this.maxBytes = options.maxBytes ?? 64 * 2 ** 20;
    this.keep = options.keep ?? 5;
    this.size = existsSync(options.path) ? statSync(options.path).size : 0;
    this.fd = openSync(options.path, 'a');
  }

  write(alert: Alert): void {
    const line = Buffer.from(`${JSON.stringify(alert)}\n`);
    try {
      if (this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
      writeSync(this.fd, line);
      this.size += line.length;
      this.written++;
    } catch {
      this.failed++;
    }
  }

  private rotate(): void {
    closeSync(this.fd);
    const { path } = this.options;
    for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    if (this.keep > 0) renameSync(path, `${path}.1`);
    this.size = 0;
    this.fd = openSync(path, this.keep > 0 ? 'a' : 'w');
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }

  stats(): SinkStats {
    return { written: this.written, dropped: 0, failed: this.failed, queued: 0 };
  }
}

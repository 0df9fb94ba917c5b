// Appends alerts as JSON lines to a file, rotating it when it passes a size: alerts.jsonl → alerts.jsonl.1 → … up
// to `keep` old files. Writes are synchronous appends: alerts are few after aggregation, and an accepted alert is
// on disk before `write` returns. A write that fails (a full disk, an I/O error) is counted and logged once per run of
// failures; detection goes on. Only a regular file rotates: a device or pipe (/dev/null, a FIFO) is never renamed.

import { closeSync, existsSync, fstatSync, openSync, renameSync, statSync } from 'node:fs';
import type { Alert } from '../alert.js';
import { describeWriteError, OutputError, writeAllSync } from '../../util/output.js';
import type { AlertSink, SinkStats } from './sink.js';

export interface FileSinkOptions {
  readonly path: string;
  /** Rotate when the file would pass this many bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Rotated files kept (default 5). */
  readonly keep?: number;
  /** Where the failure line goes (default: stderr). */
  readonly log?: (line: string) => void;
}

export class FileSink implements AlertSink {
  readonly name = 'file';
  /** The open file, or undefined after a rotation that could not reopen it (the next write tries again). */
  private fd: number | undefined;
  private size: number;
  private readonly regular: boolean;
  private written = 0;
  private failed = 0;
  private failing = false;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly log: (line: string) => void;

  constructor(private readonly options: FileSinkOptions) {
    this.maxBytes = options.maxBytes ?? 64 * 2 ** 20;
    this.keep = options.keep ?? 5;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.size = existsSync(options.path) ? statSync(options.path).size : 0;
    try {
      this.fd = openSync(options.path, 'a');
    } catch (err) {
      throw new OutputError(options.path, err, 'no alert was written');
    }
    this.regular = fstatSync(this.fd).isFile();
  }

  write(alert: Alert): void {
    const line = Buffer.from(`${JSON.stringify(alert)}\n`);
    try {
      if (this.regular && this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
      this.fd ??= openSync(this.options.path, 'a');
      writeAllSync(this.fd, line);
      this.size += line.length;
      this.written++;
      if (this.failing) this.log(`sink file:${this.options.path}: writing again after ${this.failed} failed alerts`);
      this.failing = false;
    } catch (err) {
      this.failed++;
      if (!this.failing) this.log(`sink file:${this.options.path}: cannot write: ${describeWriteError(err)}; failed alerts are counted (sink stats), detection goes on`);
      this.failing = true;
    }
  }

  private rotate(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const { path } = this.options;
    for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    if (this.keep > 0) renameSync(path, `${path}.1`);
    this.size = 0;
    this.fd = openSync(path, this.keep > 0 ? 'a' : 'w');
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  stats(): SinkStats {
    return { written: this.written, dropped: 0, failed: this.failed, queued: 0 };
  }
}

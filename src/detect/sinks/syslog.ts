// Sends each alert as an RFC 5424 syslog message over UDP (facility local0, severity warning), JSON as the message.
// A send that fails (an unknown host, no route) is counted and logged once per run of failures.

import { createSocket, type Socket } from 'node:dgram';
import { hostname } from 'node:os';
import type { Alert } from '../alert.js';
import type { AlertSink, SinkStats } from './sink.js';

const PRIORITY = 16 * 8 + 4; // local0.warning

export class SyslogSink implements AlertSink {
  readonly name = 'syslog';
  private readonly socket: Socket;
  private written = 0;
  private failed = 0;
  private pending = 0;
  private failing = false;

  constructor(
    private readonly host: string,
    private readonly port = 514,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('error', (err) => this.fail(err));
  }

  private fail(err: Error): void {
    this.failed++;
    const code = (err as NodeJS.ErrnoException).code;
    if (!this.failing) this.log(`sink syslog ${this.host}:${this.port}: cannot send: ${code ?? err.message}; failed alerts are counted (sink stats), detection goes on`);
    this.failing = true;
  }

  write(alert: Alert): void {
    const msg = `<${PRIORITY}>1 ${new Date(alert.timeMs).toISOString()} ${hostname()} flowsentry ${process.pid} alert - ${JSON.stringify(alert)}`;
    this.pending++;
    this.socket.send(msg, this.port, this.host, (err) => {
      this.pending--;
      if (err) return this.fail(err);
      this.written++;
      if (this.failing) this.log(`sink syslog ${this.host}:${this.port}: sending again after ${this.failed} failed alerts`);
      this.failing = false;
    });
  }

  async close(): Promise<void> {
    while (this.pending > 0) await new Promise((r) => setTimeout(r, 5));
    this.socket.close();
  }

  stats(): SinkStats {
    return { written: this.written, dropped: 0, failed: this.failed, queued: this.pending };
  }
}

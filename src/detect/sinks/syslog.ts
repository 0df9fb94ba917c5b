// Sends each alert as an RFC 5424 syslog message over UDP (facility local0, severity warning), JSON as the message.
// The host name is resolved once and kept for RESOLVED_FOR_MS, and again after a send fails (dgram resolved it for
// every datagram: a DNS lookup per alert on libuv's threads, which file reads and writes share). A lookup that
// fails is not repeated for RETRY_LOOKUP_AFTER_MS; alerts meanwhile fail at once. A send that fails (an unknown host,
// no route) is counted and logged once per run of failures.

import { createSocket, type Socket } from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { Alert } from '../alert.js';
import type { AlertSink, SinkStats } from './sink.js';

const PRIORITY = 16 * 8 + 4; // local0.warning
/** How long a resolved address is used before the name is looked up again. */
const RESOLVED_FOR_MS = 60_000;
/** How long after a failed lookup alerts fail without another lookup. */
const RETRY_LOOKUP_AFTER_MS = 5_000;

export class SyslogSink implements AlertSink {
  readonly name = 'syslog';
  private readonly socket: Socket;
  private readonly family: 4 | 6;
  private written = 0;
  private failed = 0;
  private pending = 0;
  private failing = false;
  /** The address sends go to and when it was resolved (a literal address never expires). */
  private resolved: { address: string; atMs: number } | undefined;
  private lookup: Promise<string> | undefined;
  /** When the last lookup failed, and how. */
  private lookupFailure: { atMs: number; error: Error } | undefined;

  constructor(
    private readonly host: string,
    private readonly port = 514,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.family = host.includes(':') ? 6 : 4;
    this.socket = createSocket(this.family === 6 ? 'udp6' : 'udp4');
    this.socket.on('error', (err) => this.fail(err));
    if (isIP(host) !== 0) this.resolved = { address: host, atMs: Number.POSITIVE_INFINITY };
  }

  private fail(err: Error): void {
    this.failed++;
    const code = (err as NodeJS.ErrnoException).code;
    if (!this.failing) this.log(`sink syslog ${this.host}:${this.port}: cannot send: ${code ?? err.message}; failed alerts are counted (sink stats), detection goes on`);
    this.failing = true;
  }

  /** The address to send to: the kept one while fresh, else one lookup shared by every alert that waits for it. */
  private address(): string | Promise<string> {
    const now = performance.now();
    if (this.resolved && now - this.resolved.atMs < RESOLVED_FOR_MS) return this.resolved.address;
    if (this.lookupFailure && now - this.lookupFailure.atMs < RETRY_LOOKUP_AFTER_MS) return Promise.reject(this.lookupFailure.error);
    this.lookup ??= new Promise<string>((resolve, reject) => {
      dns.lookup(this.host, { family: this.family }, (err, address) => {
        this.lookup = undefined;
        if (err) {
          this.lookupFailure = { atMs: performance.now(), error: err };
          reject(err);
        } else {
          this.resolved = { address, atMs: performance.now() };
          this.lookupFailure = undefined;
          resolve(address);
        }
      });
    });
    return this.lookup;
  }

  write(alert: Alert): void {
    const msg = `<${PRIORITY}>1 ${new Date(alert.timeMs).toISOString()} ${hostname()} flowsentry ${process.pid} alert - ${JSON.stringify(alert)}`;
    this.pending++;
    const send = (address: string): void =>
      this.socket.send(msg, this.port, address, (err) => {
        this.pending--;
        if (err) {
          // the address may have moved: the next alert looks the name up again (a literal address is kept)
          if (isIP(this.host) === 0) this.resolved = undefined;
          return this.fail(err);
        }
        this.written++;
        if (this.failing) this.log(`sink syslog ${this.host}:${this.port}: sending again after ${this.failed} failed alerts`);
        this.failing = false;
      });
    const address = this.address();
    if (typeof address === 'string') return send(address);
    address.then(send, (err: Error) => {
      this.pending--;
      this.fail(err);
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

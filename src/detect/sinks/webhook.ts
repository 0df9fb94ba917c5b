// POSTs each alert as JSON to a URL. A bounded queue keeps detection from ever waiting on the receiver: when it is
// full the alert is dropped and counted. Failed posts are retried with exponential backoff and jitter, then counted
// as failed and logged once per run of failures (the URL's origin only: its path or query may hold a token).
// Shutdown is bounded: once closing, retries do not back off, and whatever is still queued `timeoutMs` after close()
// is given up (counted as failed, logged), so a receiver that accepts and never answers cannot hold SIGTERM for a
// timeout per attempt per queued alert. Each post has its own AbortController (its timeout, or the give-up): on Node 20
// `AbortSignal.any` over a long-lived signal leaves one WeakRef on it per call that no collection frees
// (nodejs/node#55351), ~30 MB of heap an hour at the soak's 166 posts a second.

import type { Alert } from '../alert.js';
import type { AlertSink, SinkStats } from './sink.js';

export interface WebhookOptions {
  readonly url: string;
  readonly maxQueue?: number;
  readonly retries?: number;
  /** First backoff in ms; doubles each retry. */
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Where the first failure of a run of failures, and the recovery, are said (default: stderr). */
  readonly log?: (line: string) => void;
}

export class WebhookSink implements AlertSink {
  readonly name = 'webhook';
  private readonly queue: Alert[] = [];
  private written = 0;
  private dropped = 0;
  private failed = 0;
  private running: Promise<void> | undefined;
  private closing = false;
  private readonly maxQueue: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly origin: string;
  private failing = false;
  /** Why the last attempt failed: the HTTP status or the network error's code. */
  private lastFailure = '';
  /** Set `timeoutMs` after close(): the post in flight is aborted and the rest of the queue is given up. */
  private givenUp = false;
  /** Aborts the post in flight. */
  private inFlight: AbortController | undefined;

  constructor(private readonly options: WebhookOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.origin = new URL(options.url).origin;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  write(alert: Alert): void {
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(alert);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.givenUp) {
        const left = this.queue.length;
        this.failed += left;
        this.queue.length = 0;
        this.log(`sink webhook ${this.origin}: ${left} queued alerts not delivered ${this.timeoutMs} ms after shutdown began; counted as failed`);
        return;
      }
      const alert = this.queue[0];
      if (await this.post(alert)) {
        this.written++;
        if (this.failing) this.log(`sink webhook ${this.origin}: delivering again after ${this.failed} failed alerts`);
        this.failing = false;
      } else {
        this.failed++;
        if (!this.failing) this.log(`sink webhook ${this.origin}: cannot deliver: ${this.lastFailure}; failed alerts are counted (sink stats), detection goes on`);
        this.failing = true;
      }
      this.queue.shift();
    }
  }

  private async post(alert: Alert): Promise<boolean> {
    const body = JSON.stringify(alert);
    for (let attempt = 0; attempt <= this.retries && !this.givenUp; attempt++) {
      const abort = new AbortController();
      const timeout = setTimeout(() => abort.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError')), this.timeoutMs);
      this.inFlight = abort;
      try {
        const res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.options.headers },
          body,
          signal: abort.signal,
        });
        // the answer's body is not needed: read to its end, so the connection is free for the next post
        await res.arrayBuffer();
        if (res.ok) return true;
        this.lastFailure = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
        if (res.status >= 400 && res.status < 500 && res.status !== 429) return false;
      } catch (err) {
        // network error or timeout: retry below
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        this.lastFailure = cause?.code ?? cause?.message ?? (err as Error).message;
      } finally {
        clearTimeout(timeout);
        this.inFlight = undefined;
      }
      if (attempt < this.retries && !this.closing) {
        const delay = this.backoffMs * 2 ** attempt * (0.5 + Math.random() / 2);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    return false;
  }

  /** Flushes the queue, retrying without backoff, for at most `timeoutMs` in all. */
  async close(): Promise<void> {
    this.closing = true;
    const deadline = setTimeout(() => {
      this.givenUp = true;
      this.inFlight?.abort(new DOMException(`shutdown: given up ${this.timeoutMs} ms after it began`, 'AbortError'));
    }, this.timeoutMs);
    try {
      await this.running;
    } finally {
      clearTimeout(deadline);
    }
  }

  stats(): SinkStats {
    return { written: this.written, dropped: this.dropped, failed: this.failed, queued: this.queue.length };
  }
}

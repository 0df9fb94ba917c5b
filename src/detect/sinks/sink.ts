// A sink receives alerts from the engine. `write` must never block detection: slow sinks queue (bounded) and count
// what they drop. `close` flushes everything accepted so far (SIGTERM drains through it).

import type { Alert } from '../alert.js';

export interface SinkStats {
  readonly written: number;
  readonly dropped: number;
  readonly failed: number;
  readonly queued: number;
}

export interface AlertSink {
  readonly name: string;
  /** `isNew` is false when the alert is an aggregate that grew (its id is unchanged). */
  write(alert: Alert, isNew: boolean): void;
  close(): Promise<void>;
  stats(): SinkStats;
}

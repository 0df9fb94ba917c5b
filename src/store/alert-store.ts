// The embedded store of the detection service (DuckDB, see docs/decisions.md): alerts (upserted as aggregates grow),
// per-minute traffic aggregates and analyst feedback. Writes are buffered and flushed in batches every
// `flushMs`; `close()` flushes everything accepted, so SIGTERM loses nothing, and waits for the reads in flight (a
// read after it is refused: DuckDB crashed or hung on a connection closed under a query). A restart reopens the file.
// Reads do not flush: alert reads (queryAlerts, getAlert, topTalkers) lay the alerts not yet written over the stored
// rows, and traffic reads add the pending counts; retraining's feedback() still flushes first.
// While flushes fail (a full disk), what waits for the next one is bounded: at most `maxPendingRows` alert rows and
// as many traffic cells; beyond that the oldest are dropped and counted (`rowsDropped`: alerts lost, each once, and
// traffic cells).
// With a retention, alerts last seen longer ago than it (except those with feedback, which retraining reads) and
// traffic minutes as old are deleted once a minute. DuckDB 1.5 never reuses the space of rows deleted from a table
// with an index (alerts has its primary key, which the upsert of growing aggregates probes), so once a table's
// deleted rows outnumber its live ones it is compacted: copied into a new table with the same key, which replaces it
// in one transaction, and checkpointed so the old one's blocks are freed. The file then stays within about twice the
// live rows' size (docs/decisions.md, store file under retention, session 11). The deleted rows are DuckDB's own
// count (the table's rows, deleted ones included, less its live rows), so those a previous run left are reclaimed too.
// An alert id raised again (a copy of its record that the engine no longer remembered: after a restart, or past its
// memory) adds to the stored row instead of replacing it. The id names the flow record that opened the row's first
// aggregate, so the new aggregate's first flow is that record again: the row keeps its first record (body, time_ms)
// and the flows of its earlier aggregates (`earlier_count`: the row's count less that one flow), to which the new
// aggregate's count is added as it grows; its times and score are the latest and highest of all. `latest_time_ms` is
// when the row's latest aggregate was raised: only that aggregate's newer states update the row.

import { DOUBLE, DuckDBInstance, LIST, listValue, VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { Alert } from '../detect/alert.js';
import { UserError } from '../errors.js';
import { describeWriteError } from '../util/output.js';

export type FeedbackVerdict = 'false_positive' | 'confirmed';

export interface AlertQuery {
  readonly sinceMs?: number;
  readonly untilMs?: number;
  readonly src?: string;
  readonly dst?: string;
  readonly label?: string;
  readonly category?: string;
  readonly stage?: string;
  readonly minScore?: number;
  readonly limit?: number;
  readonly offset?: number;
}

export interface StoredAlert extends Alert {
  readonly feedback: FeedbackVerdict | null;
}

export interface TrafficPoint {
  readonly minuteMs: number;
  readonly flows: number;
  readonly alerts: number;
  readonly byCategory: Record<string, number>;
}

/** Each table's columns and key: created at open, and again by a compaction. */
const TABLE_COLUMNS = {
  alerts: `(
     id VARCHAR PRIMARY KEY, time_ms DOUBLE, last_seen_ms DOUBLE, src VARCHAR, dst VARCHAR, sport INTEGER,
     dport INTEGER, proto INTEGER, label VARCHAR, category VARCHAR, score DOUBLE, stage VARCHAR, count INTEGER,
     flow_end_ms DOUBLE, body VARCHAR, input VARCHAR, earlier_count INTEGER, latest_time_ms DOUBLE)`,
  traffic: '(minute_ms DOUBLE, category VARCHAR, flows DOUBLE, alerts DOUBLE, PRIMARY KEY (minute_ms, category))',
  feedback: '(alert_id VARCHAR PRIMARY KEY, verdict VARCHAR, note VARCHAR, time_ms DOUBLE)',
} as const;

/** The tables a retention deletes from, and so compacts. */
type ExpiringTable = 'alerts' | 'traffic';

const MINUTE = 60_000;
/**
 * Default bound on the rows a store holds for retry while its flushes fail, per table (alerts; traffic cells): a
 * pending alert with the 83 CIC inputs of its flow takes ~5.5 KB of heap (~1 KB without), so ≤ ~110 MB.
 */
export const DEFAULT_MAX_PENDING_ROWS = 20_000;
/** Alerts per INSERT or UPDATE statement of a flush. */
const ROWS_PER_STATEMENT = 500;

const ALERT_COLUMNS = 'a.body, a.count, a.last_seen_ms, a.score, a.stage, a.flow_end_ms';

/**
 * The counters of a row set by a newer state `v` of its latest aggregate: that state's own when the row has only
 * that aggregate (`alone`), else the latest and highest of the row's and the state's (afterWrite does the same).
 */
function newerCounters(v: string, alone: string): string {
  const latest = (column: string): string => `${column} = CASE WHEN ${alone} THEN ${v}.${column} ELSE greatest(alerts.${column}, ${v}.${column}) END`;
  const stage = `stage = CASE WHEN ${alone} OR ${v}.stage = 'final' THEN ${v}.stage ELSE alerts.stage END`;
  return [latest('last_seen_ms'), latest('score'), latest('flow_end_ms'), stage].join(', ');
}

/** Text as the store keeps it: NUL, which a C string would end at, written as U+FFFD. */
function storedText(s: string): string {
  return s.replaceAll('\0', '\uFFFD');
}

/** A SQL string literal of stored text: quotes doubled. */
function sqlText(s: string): string {
  return `'${storedText(s).replaceAll("'", "''")}'`;
}

/** Code-unit order, which is DuckDB's byte order for the ASCII of ids and addresses. */
function compareText(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A DOUBLE literal, NaN and infinities included. */
function sqlNumber(x: number): string {
  return Number.isFinite(x) ? `${x}::DOUBLE` : `'${x}'::DOUBLE`;
}

/** The stored alert: its first full record with the counters of the grown aggregate laid over it. */
function alertOf(row: Record<string, unknown>): Alert {
  const body = JSON.parse(String(row.body)) as Alert;
  return { ...body, count: Number(row.count), lastSeenMs: Number(row.last_seen_ms), score: Number(row.score), stage: row.stage as Alert['stage'], flowEndMs: Number(row.flow_end_ms) };
}

/**
 * An unwritten alert `a` as its write leaves its stored row `row` (afterFlush reads it with its first record, `body`,
 * where the result needs it). A new alert whose insert is not written yet is a new aggregate of the row: the row's
 * count less its first flow plus the alert's, the latest and highest counters of both, the row's first record. A
 * state of the row's latest aggregate (whose insert is written, maybe by a flush in progress) sets the counters as
 * the UPDATE does (newerCounters). A grown alert of another aggregate (its insert was dropped) changes nothing.
 */
function afterWrite(row: Record<string, unknown>, a: Alert, isNew: boolean): Alert {
  const stored = (): Alert => alertOf(row);
  const ownRow = Number(row.latest_time_ms) === a.timeMs;
  if (!ownRow && !isNew) return stored();
  const alone = ownRow && Number(row.latest_time_ms) === Number(row.time_ms);
  if (alone) return { ...a, count: Number(row.earlier_count) + a.count };
  const first = stored();
  return {
    ...first,
    count: (ownRow ? Number(row.earlier_count) : first.count - 1) + a.count,
    lastSeenMs: Math.max(first.lastSeenMs, a.lastSeenMs),
    score: Math.max(first.score, a.score),
    stage: a.stage === 'final' ? 'final' : first.stage,
    flowEndMs: Math.max(first.flowEndMs, a.flowEndMs),
  };
}

/** A compaction that replaced its table but whose checkpoint, which frees the old table's blocks, failed. */
class CheckpointAfterCompactionError extends Error {
  constructor(readonly table: ExpiringTable, readonly reason: unknown) {
    super(`cannot checkpoint after compacting ${table}`);
  }
}

/** DuckDB's order of DOUBLEs: NaN above every number and equal to itself. */
function compareDoubles(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number(Number.isNaN(x)) - Number(Number.isNaN(y));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The order of an alerts page: last seen first, then by id. */
function pageOrder(a: Alert, b: Alert): number {
  return compareDoubles(b.lastSeenMs, a.lastSeenMs) || compareText(a.id, b.id);
}

/** Whether an alert's row would match the query's filters (selectAlerts' WHERE clause, on the values it would store). */
function matchesQuery(a: Alert, q: AlertQuery): boolean {
  return (
    (q.sinceMs === undefined || compareDoubles(a.lastSeenMs, q.sinceMs) >= 0) &&
    (q.untilMs === undefined || compareDoubles(a.timeMs, q.untilMs) <= 0) &&
    (q.src === undefined || storedText(a.flow.srcAddr) === q.src) &&
    (q.dst === undefined || storedText(a.flow.dstAddr) === q.dst) &&
    (q.label === undefined || storedText(a.label) === q.label) &&
    (q.category === undefined || storedText(a.category) === q.category) &&
    (q.stage === undefined || storedText(a.stage) === q.stage) &&
    (q.minScore === undefined || compareDoubles(a.score, q.minScore) >= 0)
  );
}

/** An alert as a read of its row returns it (alertOf: the JSON body with the counters laid over it). */
function asStored(a: Alert): Alert {
  return { ...(JSON.parse(JSON.stringify(a)) as Alert), count: a.count, lastSeenMs: a.lastSeenMs, score: a.score, stage: a.stage, flowEndMs: a.flowEndMs };
}

/** A read after close() began (an API request during shutdown): the API answers it 503. */
export class StoreClosedError extends Error {
  readonly statusCode = 503;
  constructor(path: string) {
    super(`store ${path} is closed`);
    this.name = 'StoreClosedError';
  }
}

export class AlertStore {
  private pendingAlerts = new Map<string, Alert>();
  /** The alerts of the flush in progress that it has not written yet (writeRows removes each once written). */
  private writingAlerts = new Map<string, Alert>();
  /** Which of writingAlerts are new (their rows are inserted, not updated). */
  private writingNew = new Set<string>();
  /** Model-input values of new alerts, kept so feedback can retrain the model. */
  private pendingInputs = new Map<string, Record<string, number>>();
  /** Ids whose full record (body) must be written; the others are grown aggregates: only their counters change. */
  private pendingNew = new Set<string>();
  /** minute → category ('' for all flows) → [flows, alerts] */
  private pendingTraffic = new Map<number, Map<string, [number, number]>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Reads in flight; close() waits for them. */
  private readonly reads = new Set<Promise<unknown>>();
  /** Flushes that failed (a full disk, an I/O error); their rows stay pending and are written by a later flush. */
  writeFailures = 0;
  /**
   * What the bound dropped, oldest first, while flushes failed: alerts lost (dropped before their first write, so not
   * in the store), each counted once however often its growing aggregate is dropped again, plus pending traffic
   * cells (each the counts of one minute and category that arrived since that cell was last written or dropped). A
   * dropped update of an alert already stored is not counted: the row is there, and the aggregate's next growth
   * writes its latest state (counters are totals, not increments).
   */
  rowsDropped = 0;
  private failing = false;
  /** Whether the current run of failures has logged its first drop. */
  private droppingLogged = false;
  /** Alerts and traffic minutes deleted for being older than the retention. */
  expired = { alerts: 0, trafficCells: 0 };
  private lastExpiryMs = -Infinity;
  private expiryFailing = false;
  /** Tables rebuilt without their deleted rows (see compactIfMostlyDeleted). */
  compactions = 0;
  private compactionFailing = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    private readonly path: string,
    private readonly log: (line: string) => void,
    private readonly maxPendingRows: number,
    private readonly retentionMs: number | undefined,
  ) {}

  /**
   * Opens (or creates) the store at `path`; ':memory:' for tests. A flush that cannot write is counted
   * (writeFailures), logged once per run of failures through `log`, and retried by the next flush: the store never
   * stops a running service and keeps what it could not write, up to `maxPendingRows` alert rows and as many traffic
   * cells; past that the oldest are dropped, counted (rowsDropped) and logged once per run of failures.
   * `retentionMs`: see expireOld (undefined keeps everything).
   */
  static async open(
    path: string,
    flushMs = 250,
    log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    maxPendingRows = DEFAULT_MAX_PENDING_ROWS,
    retentionMs?: number,
  ): Promise<AlertStore> {
    if (!(Number.isInteger(maxPendingRows) && maxPendingRows >= 1)) throw new RangeError(`maxPendingRows must be a positive integer, got ${maxPendingRows}`);
    if (retentionMs !== undefined && !(retentionMs > 0)) throw new RangeError(`retentionMs must be positive, got ${retentionMs}`);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path);
    } catch (err) {
      throw new UserError(`cannot open store: ${err instanceof Error ? err.message : String(err)}`, { file: path });
    }
    const db = await instance.connect();
    // bound DuckDB's buffer pool: the store must not be what grows under a flood
    await db.run(`SET memory_limit = '256MB'`);
    for (const [table, columns] of Object.entries(TABLE_COLUMNS)) await db.run(`CREATE TABLE IF NOT EXISTS ${table} ${columns}`);
    // a file written before session 13: the columns go last, as in TABLE_COLUMNS (a compaction copies by position)
    await db.run('ALTER TABLE alerts ADD COLUMN IF NOT EXISTS earlier_count INTEGER');
    await db.run('ALTER TABLE alerts ADD COLUMN IF NOT EXISTS latest_time_ms DOUBLE');
    await db.run('UPDATE alerts SET earlier_count = 0, latest_time_ms = time_ms WHERE latest_time_ms IS NULL');
    const store = new AlertStore(instance, db, path, log, maxPendingRows, retentionMs);
    store.timer = setInterval(() => {
      void store.flush();
      if (retentionMs !== undefined && Date.now() - store.lastExpiryMs >= MINUTE) void store.expireOld(Date.now());
    }, flushMs);
    store.timer.unref();
    return store;
  }

  /** Accepts an alert (new or a grown aggregate with the same id) and, for new ones, the flow's model input. */
  putAlert(alert: Alert, isNew: boolean, input?: Record<string, number>): void {
    this.pendingAlerts.set(alert.id, alert);
    if (isNew) this.pendingNew.add(alert.id);
    if (input) this.pendingInputs.set(alert.id, input);
    if (isNew) this.bump(alert.timeMs, alert.category, 0, 1);
  }

  /** Counts scored flows for the per-minute traffic series. */
  countFlows(timeMs: number, flows: number): void {
    this.bump(timeMs, '', flows, 0);
  }

  private bump(timeMs: number, category: string, flows: number, alerts: number): void {
    const minute = Math.floor(timeMs / MINUTE) * MINUTE;
    this.addTraffic(minute, category, flows, alerts);
    if (category !== '' && alerts > 0) this.addTraffic(minute, '', 0, alerts);
  }

  /** Adds to the pending traffic cell of one minute and category. */
  private addTraffic(minute: number, category: string, flows: number, alerts: number): void {
    let row = this.pendingTraffic.get(minute);
    if (!row) this.pendingTraffic.set(minute, (row = new Map()));
    const cell = row.get(category) ?? [0, 0];
    cell[0] += flows;
    cell[1] += alerts;
    row.set(category, cell);
  }

  /** Writes everything pending. Calls are serialised. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    const alerts = this.pendingAlerts;
    const traffic = this.pendingTraffic;
    const inputs = this.pendingInputs;
    const fresh = this.pendingNew;
    this.pendingAlerts = new Map();
    this.pendingTraffic = new Map();
    this.pendingInputs = new Map();
    this.pendingNew = new Set();
    this.writingAlerts = alerts;
    this.writingNew = fresh;
    try {
      await this.writeRows(alerts, traffic, inputs, fresh);
      if (this.failing) {
        const dropped = this.rowsDropped > 0 ? `; ${this.rowsDropped} pending rows dropped so far` : '';
        this.log(`store ${this.path}: writing again after ${this.writeFailures} failed flushes${dropped}`);
      }
      this.failing = false;
      this.droppingLogged = false;
    } catch (err) {
      this.writeFailures++;
      if (!this.failing) this.log(`store ${this.path}: cannot write: ${describeWriteError(err)}; alerts kept in memory and retried at each flush`);
      this.failing = true;
      this.requeue(alerts, traffic, inputs, fresh);
      this.dropOldest();
    } finally {
      this.writingAlerts = new Map();
      this.writingNew = new Set();
    }
  }

  /**
   * Puts back what a failed flush took and did not write (writeRows removes each alert and traffic cell once its
   * statement succeeded, so a flush failing halfway requeues only the rest, and a requeued row that is later dropped
   * was never written), before anything newer that arrived meanwhile (pendingAlerts' order is then oldest first) and
   * under it (the newer version of an alert wins).
   */
  private requeue(alerts: Map<string, Alert>, traffic: Map<number, Map<string, [number, number]>>, inputs: Map<string, Record<string, number>>, fresh: Set<string>): void {
    const oldestFirst = new Map<string, Alert>();
    for (const [id, a] of alerts) oldestFirst.set(id, this.pendingAlerts.get(id) ?? a);
    for (const [id, a] of this.pendingAlerts) if (!oldestFirst.has(id)) oldestFirst.set(id, a);
    this.pendingAlerts = oldestFirst;
    for (const id of fresh) if (alerts.has(id)) this.pendingNew.add(id);
    for (const [id, input] of inputs) if (alerts.has(id) && !this.pendingInputs.has(id)) this.pendingInputs.set(id, input);
    for (const [minute, byCategory] of traffic) {
      for (const [category, [flows, alertCount]] of byCategory) this.addTraffic(minute, category, flows, alertCount);
    }
  }

  /**
   * Bounds what failed flushes leave pending: the alerts first accepted longest ago, and the traffic of the earliest
   * minutes, go beyond maxPendingRows each. An alert dropped before its first write (pendingNew) is not in the store
   * and is counted; later growth of its aggregate comes as a grown row, which updates no row and, dropped, is not
   * counted again (so rowsDropped counts distinct alerts without a set of every dropped id).
   */
  private dropOldest(): void {
    let excess = this.pendingAlerts.size - this.maxPendingRows;
    let dropping = excess > 0;
    for (const id of this.pendingAlerts.keys()) {
      if (excess-- <= 0) break;
      this.pendingAlerts.delete(id);
      if (this.pendingNew.delete(id)) this.rowsDropped++;
      this.pendingInputs.delete(id);
    }
    let cells = 0;
    for (const byCategory of this.pendingTraffic.values()) cells += byCategory.size;
    if (cells > this.maxPendingRows) {
      dropping = true;
      const minutes = [...this.pendingTraffic.keys()].sort((a, b) => a - b);
      for (let k = 0; cells > this.maxPendingRows; k++) {
        const n = this.pendingTraffic.get(minutes[k])!.size;
        this.pendingTraffic.delete(minutes[k]);
        cells -= n;
        this.rowsDropped += n;
      }
    }
    if (dropping && !this.droppingLogged) {
      this.droppingLogged = true;
      this.log(`store ${this.path}: more than ${this.maxPendingRows} alert rows or traffic cells wait for a write; the oldest are dropped (counted in the summary as storeRowsDropped)`);
    }
  }

  /** Writes the rows, removing from `alerts` and `traffic` what each statement wrote once it succeeded. */
  private async writeRows(alerts: Map<string, Alert>, traffic: Map<number, Map<string, [number, number]>>, inputs: Map<string, Record<string, number>>, fresh: Set<string>): Promise<void> {
    const created = [...alerts.values()].filter((a) => fresh.has(a.id));
    const grown = [...alerts.values()].filter((a) => !fresh.has(a.id));
    const written = (rows: readonly Alert[]): void => {
      for (const a of rows) alerts.delete(a.id);
    };
    // SQL literals rather than 16 bound parameters per row: a flood from many sources opens thousands of aggregates
    // at once, and binding them blocked this thread for ~100 ms per flush. Statements of at most ROWS_PER_STATEMENT
    // rows, each awaited, so the event loop (scoring) runs between them.
    for (let at = 0; at < created.length; at += ROWS_PER_STATEMENT) {
      const batch = created.slice(at, at + ROWS_PER_STATEMENT);
      const rows = batch.map((a) => {
        const input = inputs.get(a.id);
        const f = a.flow;
        return `(${[
          sqlText(a.id), sqlNumber(a.timeMs), sqlNumber(a.lastSeenMs), sqlText(f.srcAddr), sqlText(f.dstAddr), f.srcPort | 0, f.dstPort | 0, f.protocol | 0,
          sqlText(a.label), sqlText(a.category), sqlNumber(a.score), sqlText(a.stage), a.count, sqlNumber(a.flowEndMs), sqlText(JSON.stringify(a)),
          input ? sqlText(JSON.stringify(input)) : 'NULL', 0, sqlNumber(a.timeMs),
        ].join(',')})`;
      });
      // an id already stored (raised again: see the head of this file) keeps its row and adds the new aggregate to it;
      // a row already of this aggregate (the same raise time) takes it as a newer state, so a repeated insert is harmless
      const own = 'alerts.latest_time_ms = excluded.time_ms';
      const earlier = `CASE WHEN ${own} THEN alerts.earlier_count ELSE alerts.count - 1 END`;
      await this.db.run(
        `INSERT INTO alerts VALUES ${rows.join(',')} ON CONFLICT (id) DO UPDATE SET earlier_count = ${earlier}, count = ${earlier} + excluded.count,
         latest_time_ms = excluded.time_ms, ${newerCounters('excluded', `${own} AND alerts.latest_time_ms = alerts.time_ms`)}, input = coalesce(alerts.input, excluded.input)`,
      );
      written(batch);
    }
    // A grown aggregate changes only its counters: no body rewrite (reads overlay these columns on the body). A
    // flood grows thousands per flush, so the values are SQL literals (ids are our hex hashes, the rest numbers and
    // the stage), which DuckDB parses off this thread, instead of six bound parameters per row. Its count is its
    // aggregate's total, after those of the row's earlier aggregates.
    for (let at = 0; at < grown.length; at += ROWS_PER_STATEMENT) {
      const batch = grown.slice(at, at + ROWS_PER_STATEMENT);
      const rows = batch.map((a) => `(${sqlText(a.id)},${sqlNumber(a.timeMs)},${a.count},${sqlNumber(a.lastSeenMs)},${sqlNumber(a.score)},${sqlText(a.stage)},${sqlNumber(a.flowEndMs)})`);
      await this.db.run(
        `UPDATE alerts SET count = alerts.earlier_count + v.count, ${newerCounters('v', 'alerts.latest_time_ms = alerts.time_ms')}
         FROM (VALUES ${rows.join(',')}) AS v(id, time_ms, count, last_seen_ms, score, stage, flow_end_ms)
         WHERE alerts.id = v.id AND alerts.latest_time_ms = v.time_ms`,
      );
      written(batch);
    }
    for (const [minute, byCategory] of traffic) {
      for (const [category, [flows, alertCount]] of byCategory) {
        await this.db.run(
          `INSERT INTO traffic VALUES ($1, $2, $3, $4) ON CONFLICT (minute_ms, category) DO UPDATE SET flows = traffic.flows + excluded.flows, alerts = traffic.alerts + excluded.alerts`,
          [minute, category, flows, alertCount],
        );
        byCategory.delete(category);
      }
      traffic.delete(minute);
    }
  }

  /**
   * Deletes alerts last seen before `nowMs - retention` that have no feedback (retraining reads those), and traffic
   * minutes that ended before it; serialised with the flushes. A failure is logged once per run of failures and
   * tried again a minute later. Without a retention it does nothing.
   */
  expireOld(nowMs: number): Promise<void> {
    if (this.retentionMs === undefined || this.closed) return Promise.resolve();
    this.lastExpiryMs = nowMs;
    const cutoff = nowMs - this.retentionMs;
    this.flushing = this.flushing.then(async () => {
      try {
        const alerts = await this.db.run('DELETE FROM alerts WHERE last_seen_ms < $1 AND id NOT IN (SELECT alert_id FROM feedback)', [cutoff], [DOUBLE]);
        const traffic = await this.db.run('DELETE FROM traffic WHERE minute_ms + $1 <= $2', [MINUTE, cutoff], [DOUBLE, DOUBLE]);
        this.expired.alerts += alerts.rowsChanged;
        this.expired.trafficCells += traffic.rowsChanged;
        this.expiryFailing = false;
      } catch (err) {
        if (!this.expiryFailing) this.log(`store ${this.path}: cannot delete rows past the retention: ${describeWriteError(err)}; tried again in a minute`);
        this.expiryFailing = true;
        return;
      }
      try {
        await this.compactIfMostlyDeleted('alerts');
        await this.compactIfMostlyDeleted('traffic');
        this.compactionFailing = false;
      } catch (err) {
        if (!this.compactionFailing) {
          this.log(
            err instanceof CheckpointAfterCompactionError
              ? `store ${this.path}: compacted the ${err.table} table but cannot checkpoint: ${describeWriteError(err.reason)}; the old table's space is freed by a later checkpoint (when the write-ahead log passes 16 MB, or at close)`
              : `store ${this.path}: cannot compact the rows past the retention away: ${describeWriteError(err)}; the file grows until a later try succeeds`,
          );
        }
        this.compactionFailing = true;
      }
    });
    return this.flushing;
  }

  /**
   * Rebuilds `table` without its deleted rows once they outnumber the live ones, so the file stays within about
   * twice the live data: a copy with the same key replaces it in one transaction, then a checkpoint frees the old
   * blocks. It runs in the flush chain, so new rows wait in memory (as for any flush) and none is lost; it runs on
   * its own connection, so a read in flight sees the old table or the new one, never neither. A failure (a full disk)
   * leaves the old table as it was: closing the connection rolls the transaction back.
   */
  private async compactIfMostlyDeleted(table: ExpiringTable): Promise<void> {
    const { live, deleted } = await this.rowCounts(table);
    if (deleted <= live) return;
    const connection = await this.instance.connect();
    try {
      await connection.run('BEGIN TRANSACTION');
      await connection.run(`CREATE TABLE ${table}_compacted ${TABLE_COLUMNS[table]}`);
      await connection.run(`INSERT INTO ${table}_compacted SELECT * FROM ${table}`);
      await connection.run(`DROP TABLE ${table}`);
      await connection.run(`ALTER TABLE ${table}_compacted RENAME TO ${table}`);
      await connection.run('COMMIT');
      this.compactions++;
      try {
        // waits for reads in flight (a plain CHECKPOINT fails while one runs)
        await connection.run('FORCE CHECKPOINT');
      } catch (err) {
        throw new CheckpointAfterCompactionError(table, err);
      }
    } finally {
      connection.closeSync();
    }
  }

  /**
   * The live rows of `table`, and its deleted rows that still take space in the file: every row its row groups hold
   * (estimated_size in duckdb_tables(), deleted ones included, as a restart finds them) less the live ones.
   */
  private async rowCounts(table: ExpiringTable): Promise<{ live: number; deleted: number }> {
    const r = await this.db.runAndReadAll(
      `SELECT (SELECT count(*) FROM ${table})::DOUBLE AS live, estimated_size::DOUBLE AS held FROM duckdb_tables()
       WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = '${table}'`,
    );
    const { live, held } = r.getRowObjectsJson()[0];
    return { live: Number(live), deleted: Number(held) - Number(live) };
  }

  /** Runs a read unless the store is closing, and keeps it where close() waits for it. */
  private read<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreClosedError(this.path));
    const reading = work();
    const done = (): void => void this.reads.delete(reading);
    this.reads.add(reading);
    reading.then(done, done);
    return reading;
  }

  queryAlerts(q: AlertQuery = {}): Promise<{ total: number; alerts: StoredAlert[] }> {
    return this.read(() => this.selectAlerts(q));
  }

  private async selectAlerts(q: AlertQuery): Promise<{ total: number; alerts: StoredAlert[] }> {
    const where: string[] = [];
    const values: DuckDBValue[] = [];
    // typed: a whole number is otherwise bound as BIGINT, which fails past 2^63 (an API filter since=1e20)
    const types: DuckDBType[] = [];
    const add = (sql: string, v: string | number): void => {
      values.push(v);
      types.push(typeof v === 'number' ? DOUBLE : VARCHAR);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (q.sinceMs !== undefined) add('a.last_seen_ms >= ?', q.sinceMs);
    if (q.untilMs !== undefined) add('a.time_ms <= ?', q.untilMs);
    if (q.src !== undefined) add('a.src = ?', q.src);
    if (q.dst !== undefined) add('a.dst = ?', q.dst);
    if (q.label !== undefined) add('a.label = ?', q.label);
    if (q.category !== undefined) add('a.category = ?', q.category);
    if (q.stage !== undefined) add('a.stage = ?', q.stage);
    if (q.minScore !== undefined) add('a.score >= ?', q.minScore);
    const limit = Math.max(0, Math.floor(q.limit ?? 100));
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    // The alerts not yet written, as of now (before any await): each replaces its row, as its write will leave it (afterFlush).
    const unwritten = this.unwrittenAlerts();
    if (unwritten.size > 0) {
      values.push(listValue([...unwritten.keys()]));
      types.push(LIST(VARCHAR));
      where.push(`a.id NOT IN (SELECT unnest($${values.length}))`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const matching = await this.afterFlush(unwritten, (a) => matchesQuery(a, q));
    matching.sort(pageOrder);
    // The page [offset, offset + limit) of the merged order holds stored rows of rank ≥ offset − (unwritten matches)
    // only, and below offset + limit: that window of the stored rows, merged with the unwritten matches.
    const from = Math.max(0, offset - matching.length);
    const total = await this.db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM alerts a ${clause}`, values, types);
    const window = await this.db.runAndReadAll(
      `SELECT ${ALERT_COLUMNS}, f.verdict FROM alerts a LEFT JOIN feedback f ON f.alert_id = a.id ${clause} ORDER BY a.last_seen_ms DESC, a.id LIMIT ${offset + limit - from} OFFSET ${from}`,
      values,
      types,
    );
    const stored = window.getRowObjectsJson().map((r) => ({ ...alertOf(r), feedback: (r.verdict as FeedbackVerdict | null) ?? null }));
    const totalCount = Number(total.getRowObjectsJson()[0].n) + matching.length;
    if (matching.length === 0) return { total: totalCount, alerts: stored };
    // the merged position of the window's first row: its rank plus the unwritten matches ordered before it (with no
    // row in the window, the stored rows are all before `from` and every unwritten match counts from 0 or is past the page)
    let k = 0;
    if (from > 0) {
      if (stored.length === 0) return { total: totalCount, alerts: [] };
      while (k < matching.length && pageOrder(matching[k], stored[0]) < 0) k++;
    }
    const page: { stored?: StoredAlert; unwritten?: Alert }[] = [];
    let d = 0;
    for (let position = from + k; position < offset + limit && (d < stored.length || k < matching.length); position++) {
      const next = d >= stored.length || (k < matching.length && pageOrder(matching[k], stored[d]) < 0) ? { unwritten: matching[k++] } : { stored: stored[d++] };
      if (position >= offset) page.push(next);
    }
    const verdicts = await this.verdictsOf(page.flatMap((p) => (p.unwritten ? [p.unwritten.id] : [])));
    return { total: totalCount, alerts: page.map((p) => p.stored ?? { ...asStored(p.unwritten!), feedback: verdicts.get(p.unwritten!.id) ?? null }) };
  }

  /** The alerts accepted but not yet written (those of the flush in progress, then the pending ones, newer first). */
  private unwrittenAlerts(): Map<string, { alert: Alert; isNew: boolean }> {
    const out = new Map<string, { alert: Alert; isNew: boolean }>();
    for (const [id, alert] of this.writingAlerts) out.set(id, { alert, isNew: this.writingNew.has(id) });
    for (const [id, alert] of this.pendingAlerts) out.set(id, { alert, isNew: this.pendingNew.has(id) || (out.get(id)?.isNew ?? false) });
    return out;
  }

  /**
   * The unwritten alerts that pass `keep` as their flush would leave them in the store: a new one whose id is not
   * stored as it is; one whose id is stored as its write leaves the row (afterWrite); not a grown one whose row is not
   * stored (e.g. dropped while flushes failed), whose update writes nothing.
   */
  private async afterFlush(unwritten: Map<string, { alert: Alert; isNew: boolean }>, keep: (a: Alert) => boolean): Promise<Alert[]> {
    if (unwritten.size === 0) return [];
    const ids = [...unwritten.keys()];
    // the first record only where the result needs it: a row with earlier aggregates, or not the alert's aggregate's
    const r = await this.db.runAndReadAll(
      `SELECT a.id, a.count, a.earlier_count, a.time_ms, a.latest_time_ms, a.last_seen_ms, a.score, a.stage, a.flow_end_ms,
       CASE WHEN a.latest_time_ms <> a.time_ms OR a.latest_time_ms IS DISTINCT FROM u.time_ms THEN a.body END AS body
       FROM alerts a JOIN (SELECT unnest($1) AS id, unnest($2) AS time_ms) u ON u.id = a.id`,
      [listValue(ids), listValue(ids.map((id) => unwritten.get(id)!.alert.timeMs))],
      [LIST(VARCHAR), LIST(DOUBLE)],
    );
    const stored = new Map(r.getRowObjectsJson().map((row) => [String(row.id), row]));
    const kept: Alert[] = [];
    for (const [id, { alert, isNew }] of unwritten) {
      const row = stored.get(id);
      const after = row ? afterWrite(row, alert, isNew) : isNew ? alert : undefined;
      if (after && keep(after)) kept.push(after);
    }
    return kept;
  }

  /** Analyst verdicts of the given alerts. */
  private async verdictsOf(ids: readonly string[]): Promise<Map<string, FeedbackVerdict>> {
    if (ids.length === 0) return new Map();
    const r = await this.db.runAndReadAll('SELECT alert_id, verdict FROM feedback WHERE alert_id IN (SELECT unnest($1))', [listValue(ids)], [LIST(VARCHAR)]);
    return new Map(r.getRowObjectsJson().map((row) => [String(row.alert_id), row.verdict as FeedbackVerdict]));
  }

  getAlert(id: string): Promise<StoredAlert | undefined> {
    return this.read(() => this.selectAlert(id));
  }

  private async selectAlert(id: string): Promise<StoredAlert | undefined> {
    const unwritten = this.unwrittenAlerts();
    if (unwritten.has(id)) {
      const [alert] = await this.afterFlush(new Map([[id, unwritten.get(id)!]]), () => true);
      return alert && { ...asStored(alert), feedback: (await this.verdictsOf([id])).get(id) ?? null };
    }
    const r = await this.db.runAndReadAll(`SELECT ${ALERT_COLUMNS}, f.verdict FROM alerts a LEFT JOIN feedback f ON f.alert_id = a.id WHERE a.id = $1`, [id]);
    const row = r.getRowObjectsJson()[0];
    return row ? { ...alertOf(row), feedback: (row.verdict as FeedbackVerdict | null) ?? null } : undefined;
  }

  /** Records analyst feedback; false when the alert does not exist. */
  addFeedback(alertId: string, verdict: FeedbackVerdict, note = ''): Promise<boolean> {
    return this.read(async () => {
      if (!(await this.selectAlert(alertId))) return false;
      await this.db.run('INSERT OR REPLACE INTO feedback VALUES ($1, $2, $3, $4)', [alertId, verdict, note, Date.now()]);
      return true;
    });
  }

  /** Alerts with analyst feedback, with the model input of their first flow (null when not kept). */
  feedback(): Promise<{ alert: Alert; verdict: FeedbackVerdict; input: Record<string, number> | null }[]> {
    return this.read(() => this.selectFeedback());
  }

  private async selectFeedback(): Promise<{ alert: Alert; verdict: FeedbackVerdict; input: Record<string, number> | null }[]> {
    await this.flush();
    const r = await this.db.runAndReadAll(`SELECT ${ALERT_COLUMNS}, a.input, f.verdict FROM feedback f JOIN alerts a ON a.id = f.alert_id ORDER BY f.time_ms`);
    return r.getRowObjectsJson().map((row) => ({
      alert: alertOf(row),
      verdict: row.verdict as FeedbackVerdict,
      input: row.input === null ? null : (JSON.parse(String(row.input)) as Record<string, number>),
    }));
  }

  /** Per-minute flows and alerts (by category) since a time. */
  traffic(sinceMs: number): Promise<TrafficPoint[]> {
    // Traffic cells add up, so the rows and what is pending must be read with no flush in between: after the flush in
    // progress, if any, and before the next (which waits for this read) — without writing what is pending.
    return this.read(() => {
      const reading = this.flushing.then(() => this.selectTraffic(sinceMs));
      this.flushing = reading.then(
        () => undefined,
        () => undefined,
      );
      return reading;
    });
  }

  private async selectTraffic(sinceMs: number): Promise<TrafficPoint[]> {
    const since = Math.floor(sinceMs / MINUTE) * MINUTE;
    const pending = [...this.pendingTraffic].filter(([minute]) => minute >= since).map(([minute, byCategory]) => [minute, [...byCategory]] as const);
    const r = await this.db.runAndReadAll('SELECT minute_ms, category, flows, alerts FROM traffic WHERE minute_ms >= $1 ORDER BY minute_ms', [since], [DOUBLE]);
    const points = new Map<number, TrafficPoint>();
    const cell = (minute: number, category: string, flows: number, alerts: number): void => {
      let p = points.get(minute);
      if (!p) points.set(minute, (p = { minuteMs: minute, flows: 0, alerts: 0, byCategory: {} }));
      if (category === '') Object.assign(p, { flows: p.flows + flows, alerts: p.alerts + alerts });
      else p.byCategory[category] = (p.byCategory[category] ?? 0) + alerts;
    };
    for (const row of r.getRowObjectsJson()) cell(Number(row.minute_ms), String(row.category), Number(row.flows), Number(row.alerts));
    for (const [minute, byCategory] of pending) for (const [category, [flows, alerts]] of byCategory) cell(minute, storedText(category), flows, alerts);
    return [...points.values()].sort((a, b) => a.minuteMs - b.minuteMs);
  }

  /** Sources with the most alerting flows. */
  topTalkers(sinceMs: number, limit = 10): Promise<{ src: string; alerts: number; flows: number }[]> {
    return this.read(() => this.selectTopTalkers(sinceMs, limit));
  }

  private async selectTopTalkers(sinceMs: number, limit: number): Promise<{ src: string; alerts: number; flows: number }[]> {
    const n = Math.max(1, Math.floor(limit));
    // as selectAlerts: the unwritten alerts replace their rows; a source in the top n without unwritten alerts is in
    // the stored rows' top n, so that and the stored totals of the unwritten alerts' sources are all that is needed
    const unwritten = this.unwrittenAlerts();
    const ids = listValue([...unwritten.keys()]);
    const recent = await this.afterFlush(unwritten, (a) => compareDoubles(a.lastSeenMs, sinceMs) >= 0);
    const bySrc = new Map<string, { src: string; alerts: number; flows: number }>();
    const add = (src: string, alerts: number, flows: number): void => {
      const t = bySrc.get(src) ?? { src, alerts: 0, flows: 0 };
      t.alerts += alerts;
      t.flows += flows;
      bySrc.set(src, t);
    };
    const totals = `SELECT src, count(*)::INTEGER AS alerts, sum(count)::INTEGER AS flows FROM alerts WHERE last_seen_ms >= $1 AND id NOT IN (SELECT unnest($2))`;
    const top = await this.db.runAndReadAll(`${totals} GROUP BY src ORDER BY flows DESC, src LIMIT ${n}`, [sinceMs, ids], [DOUBLE, LIST(VARCHAR)]);
    for (const row of top.getRowObjectsJson()) add(String(row.src), Number(row.alerts), Number(row.flows));
    if (recent.length > 0) {
      const sources = [...new Set(recent.map((a) => storedText(a.flow.srcAddr)))];
      const rest = await this.db.runAndReadAll(`${totals} AND src IN (SELECT unnest($3)) GROUP BY src`, [sinceMs, ids, listValue(sources.filter((src) => !bySrc.has(src)))], [DOUBLE, LIST(VARCHAR), LIST(VARCHAR)]);
      for (const row of rest.getRowObjectsJson()) add(String(row.src), Number(row.alerts), Number(row.flows));
      for (const a of recent) add(storedText(a.flow.srcAddr), 1, a.count);
    }
    return [...bySrc.values()].sort((a, b) => b.flows - a.flows || compareText(a.src, b.src)).slice(0, n);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.reads]);
    await this.flush();
    this.countUnwritten();
    try {
      await this.db.run('CHECKPOINT');
    } catch (err) {
      // what was committed is in DuckDB's log, which the next open replays
      this.log(`store ${this.path}: cannot checkpoint: ${describeWriteError(err)}; what was written is replayed from its log at the next open`);
    }
    this.db.closeSync();
    this.instance.closeSync();
  }

  /**
   * What the last flush at close could not write is lost with the process: counted as dropped (new alerts and
   * traffic cells, as the bound counts them) and said in one line, instead of going without a word.
   */
  private countUnwritten(): void {
    let lost = 0;
    for (const id of this.pendingAlerts.keys()) if (this.pendingNew.has(id)) lost++;
    const updates = this.pendingAlerts.size - lost;
    let cells = 0;
    for (const byCategory of this.pendingTraffic.values()) cells += byCategory.size;
    if (lost + updates + cells === 0) return;
    this.rowsDropped += lost + cells;
    this.log(`store ${this.path}: closed with ${lost} new alerts, ${updates} alert updates and ${cells} traffic cells it could not write (counted as dropped rows)`);
  }
}

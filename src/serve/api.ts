// The HTTP API and dashboard server (fastify). /health and /metrics are open for probes and scrapers; everything
// under /api/ needs the bearer token (the live event stream also accepts ?token= because EventSource cannot send
// headers). Input is validated with zod; malformed or oversized bodies get 4xx, never a crash.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Alert } from '../detect/alert.js';
import type { DriftStatus } from '../detect/drift.js';
import type { AlertStore, StoredAlert } from '../store/alert-store.js';
import type { EngineMetrics } from './metrics.js';
import { tokenMatches } from './auth.js';
import { dashboardPage } from './dashboard-page.js';
import { plainProblem, valueAt } from './schema-problems.js';

export interface ServiceContext {
  readonly store: AlertStore;
  readonly metrics: EngineMetrics;
  readonly token: string;
  /** Emits 'alert' (alert: Alert, isNew: boolean) for the live feed. */
  readonly events: EventEmitter;
  /** Model name, version, training metrics, ROC points and confusion matrix, as plain JSON. */
  model(): Record<string, unknown>;
  drift(): DriftStatus;
  health(): Record<string, unknown>;
  /** Where internal errors of requests and cut live streams are said (one line each); the service's log. */
  log?: (line: string) => void;
}

/**
 * Bytes a live-stream client may leave unread in the service's memory before its stream is ended (EventSource then
 * reconnects): far more than the alerts of one engine batch (a default batch's alerts, ~1 KB each, are 1-2 MB), so
 * only a client that stopped reading reaches it, and a dashboard left open on a frozen laptop cannot grow the service
 * without end.
 */
export const LIVE_STREAM_MAX_BUFFERED = 16 << 20;

const optionalNumber = z.coerce.number().finite().optional();
const alertQuery = z
  .object({
    since: optionalNumber,
    until: optionalNumber,
    src: z.string().max(64).optional(),
    dst: z.string().max(64).optional(),
    label: z.string().max(128).optional(),
    category: z.string().max(128).optional(),
    stage: z.enum(['early', 'final']).optional(),
    min_score: optionalNumber,
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();
const feedbackBody = z.object({ verdict: z.enum(['false_positive', 'confirmed']), note: z.string().max(2000).optional() }).strict();
const sinceQuery = z.object({ since: optionalNumber, limit: z.coerce.number().int().min(1).max(1000).default(10) }).strict();

const CSV_COLUMNS = ['id', 'timeMs', 'lastSeenMs', 'src', 'dst', 'srcPort', 'dstPort', 'protocol', 'label', 'category', 'score', 'threshold', 'stage', 'count', 'feedback'] as const;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function alertsCsv(alerts: readonly StoredAlert[]): string {
  const rows = alerts.map((a) =>
    [a.id, a.timeMs, a.lastSeenMs, a.flow.srcAddr, a.flow.dstAddr, a.flow.srcPort, a.flow.dstPort, a.flow.protocol, a.label, a.category, a.score, a.threshold, a.stage, a.count, a.feedback].map(csvCell).join(','),
  );
  return `${CSV_COLUMNS.join(',')}\n${rows.join('\n')}${rows.length ? '\n' : ''}`;
}

/** 400 with each problem of `input` in plain words, e.g. `limit: must be <= 10000` or `(root): unknown key 'bogus'`. */
function badRequest(reply: FastifyReply, error: z.ZodError, input: unknown): FastifyReply {
  return reply.code(400).send({ error: 'invalid request', issues: error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${plainProblem(i, valueAt(input, i.path))}`) });
}

const require = createRequire(import.meta.url);
let echartsSource: string | undefined;

export function buildServer(ctx: ServiceContext): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.url.startsWith('/api/')) return;
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const query = req.url.startsWith('/api/events') ? new URL(req.url, 'http://x').searchParams.get('token') ?? undefined : undefined;
    if (!tokenMatches(ctx.token, bearer ?? query)) return reply.code(401).send({ error: 'missing or invalid bearer token' });
  });

  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    // 4xx as the error says; 503 from a store closing under the request (shutdown); anything else is ours
    const status = err.statusCode && ((err.statusCode >= 400 && err.statusCode < 500) || err.statusCode === 503) ? err.statusCode : 500;
    // the path only: a query may hold the token (?token= of the live stream)
    if (status === 500) ctx.log?.(`api: ${req.method} ${req.url.split('?')[0]}: internal error: ${err.message}`);
    void reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });

  app.get('/health', async () => ({ status: 'ok', ...ctx.health() }));

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(dashboardPage()));
  app.get('/assets/echarts.min.js', async (_req, reply) => {
    echartsSource ??= readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
    return reply.type('application/javascript').header('cache-control', 'max-age=86400').send(echartsSource);
  });

  app.get('/api/alerts', async (req, reply) => {
    const q = alertQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, req.query);
    const { since, until, min_score, format, ...rest } = q.data;
    const result = await ctx.store.queryAlerts({ ...rest, sinceMs: since, untilMs: until, minScore: min_score });
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="alerts.csv"').send(alertsCsv(result.alerts));
    return { total: result.total, limit: rest.limit, offset: rest.offset, alerts: result.alerts };
  });

  app.get('/api/alerts/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const alert = await ctx.store.getAlert(id);
    return alert ?? reply.code(404).send({ error: `no alert ${id}` });
  });

  app.post('/api/alerts/:id/feedback', async (req, reply) => {
    const { id } = req.params as { id: string };
    const body = feedbackBody.safeParse(req.body);
    if (!body.success) return badRequest(reply, body.error, req.body);
    if (!(await ctx.store.addFeedback(id, body.data.verdict, body.data.note))) return reply.code(404).send({ error: `no alert ${id}` });
    return { id, verdict: body.data.verdict };
  });

  app.get('/api/traffic', async (req, reply) => {
    const q = sinceQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, req.query);
    return { points: await ctx.store.traffic(q.data.since ?? Date.now() - 3_600_000) };
  });

  app.get('/api/top-talkers', async (req, reply) => {
    const q = sinceQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error, req.query);
    return { talkers: await ctx.store.topTalkers(q.data.since ?? Date.now() - 3_600_000, q.data.limit) };
  });

  app.get('/api/model', async () => ctx.model());
  app.get('/api/drift', async () => ctx.drift());
  app.get('/api/health', async () => ({ status: 'ok', ...ctx.health() }));

  // Live streams never end by themselves: closing the server ends them first, or `close()` would wait forever.
  const liveStreams = new Set<FastifyReply>();
  app.addHook('preClose', async () => {
    for (const reply of liveStreams) reply.raw.end();
  });

  // no HEAD twin: a HEAD of a stream that never ends left the client (a health check, say) waiting for ever
  app.get('/api/events', { exposeHeadRoute: false }, (req, reply) => {
    liveStreams.add(reply);
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    reply.raw.write(': connected\n\n');
    const ended = (): void => {
      liveStreams.delete(reply);
      clearInterval(keepAlive);
      ctx.events.off('alert', onAlert);
    };
    const onAlert = (alert: Alert, isNew: boolean): void => {
      reply.raw.write(`event: alert\ndata: ${JSON.stringify({ alert, isNew })}\n\n`);
      const behind = reply.raw.writableLength;
      if (behind <= LIVE_STREAM_MAX_BUFFERED) return;
      ended();
      ctx.log?.(`api: a live event stream client fell ${behind} bytes behind (over ${LIVE_STREAM_MAX_BUFFERED}); its stream was ended`);
      reply.raw.destroy(); // frees what it did not read; ending would first wait for the client to read it
    };
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    ctx.events.on('alert', onAlert);
    req.raw.on('close', ended);
  });

  return app;
}

/** How long requests still in flight at shutdown may take before their connections are cut. */
const SHUTDOWN_GRACE_MS = 2_000;

/**
 * Stops the server: live streams end, idle keep-alive connections close, requests in flight get
 * `SHUTDOWN_GRACE_MS` to finish. A connection still open after that is cut: a client that stopped sending
 * mid-request (an upload refused with 413, say) would otherwise hold the service up until its request timeout.
 */
export async function closeServer(app: FastifyInstance): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertAggregator } from '../../src/detect/aggregate.js';
import { FileSink } from '../../src/detect/sinks/file.js';
import { createSink, statsBySink } from '../../src/detect/sinks/index.js';
import { WebhookSink } from '../../src/detect/sinks/webhook.js';
import { ResponseHook, splitTemplate } from '../../src/detect/response-hook.js';
import { UsageError } from '../../src/errors.js';
import { makeAlert } from './alert-fixtures.js';

describe('alert aggregation', () => {
  it('a flood from one source grows one alert; another source or an idle gap starts a new one', () => {
    const agg = new AlertAggregator(10_000);
    const t = 1_000_000;
    assert.equal(agg.add(makeAlert({ id: 'a', timeMs: t, lastSeenMs: t })).isNew, true);
    let last;
    for (let i = 1; i <= 1000; i++) last = agg.add(makeAlert({ id: `f${i}`, timeMs: t + i, lastSeenMs: t + i }));
    assert.equal(last?.isNew, false);
    assert.equal(last?.alert.id, 'a', 'the aggregate keeps its first id');
    assert.equal(last?.alert.count, 1001);
    assert.equal(agg.add(makeAlert({ id: 'b', src: '10.9.9.9', timeMs: t + 5 })).isNew, true);
    assert.equal(agg.add(makeAlert({ id: 'c', timeMs: t + 1000 + 10_001, lastSeenMs: t + 1000 + 10_001 })).isNew, true);
  });

  it('growing by a batch total is the same as adding the alerts one by one', () => {
    const t = 1_000_000;
    const one = new AlertAggregator(10_000);
    const batch = new AlertAggregator(10_000);
    for (const agg of [one, batch]) agg.add(makeAlert({ id: 'a', timeMs: t, lastSeenMs: t, stage: 'early', score: 0.6, flowEndMs: t - 5 }));
    const more = [
      { score: 0.7, flowEndMs: t + 3, stage: 'early' as const },
      { score: 0.95, flowEndMs: t - 100, stage: 'final' as const },
      { score: 0.8, flowEndMs: t + 9, stage: 'early' as const },
    ];
    let last;
    for (const m of more) last = one.add(makeAlert({ id: 'x', timeMs: t + 50, lastSeenMs: t + 50, ...m })).alert;
    const slot = batch.find('10.0.0.1', 'attack', t + 50);
    assert.ok(slot);
    const grown = batch.growSlot(slot, t + 50, 3, t + 9, 0.95, true);
    assert.deepEqual(grown, last);
    assert.equal(grown.count, 4);
    assert.equal(grown.stage, 'final');
    assert.equal(batch.find('10.0.0.1', 'attack', t + 50)?.alert, grown);
    assert.equal(batch.find('10.0.0.1', 'other', t + 50), undefined, 'another label is another aggregate');
    assert.equal(batch.grow('10.0.0.1', 'attack', t + 50 + 10_001, 1, t, 1, true), undefined, 'after an idle window nothing grows');
  });

  it('growing keeps the opening alert\'s other fields, such as the feedback verdict that decided it', () => {
    const agg = new AlertAggregator(10_000);
    const decidedByFeedback = { verdict: 'confirmed' as const, alertId: 'c0ffee', feedbackRow: 3, distance: 0.25, radius: 0.5 };
    const opened = agg.add(makeAlert({ id: 'a', timeMs: 1000, lastSeenMs: 1000, decidedByFeedback })).alert;
    const grown = agg.grow('10.0.0.1', 'attack', 1500, 2, 1400, 0.1, false);
    assert.deepEqual(grown?.decidedByFeedback, decidedByFeedback);
    assert.deepEqual(grown?.explanation, opened.explanation);
    assert.deepEqual(Object.keys(grown!).sort(), Object.keys(opened).sort(), 'every field of the opening alert (here all of Alert\'s, its optional one set)');
    assert.equal(grown?.count, 3);
  });

  it('bounds open aggregates by evicting the oldest half', () => {
    const agg = new AlertAggregator(60_000, 10);
    for (let i = 0; i < 25; i++) agg.add(makeAlert({ id: `a${i}`, src: `10.0.0.${i}`, timeMs: 1000 + i, lastSeenMs: 1000 + i }));
    assert.ok(agg.size <= 10, `size ${agg.size}`);
    assert.ok(agg.find('10.0.0.24', 'attack', 1100), 'the newest is kept');
    assert.equal(agg.find('10.0.0.0', 'attack', 1100), undefined, 'the oldest went');
  });
});

describe('file sink', () => {
  it('writes JSON lines and rotates by size', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fs-sink-')), 'alerts.jsonl');
    const sink = new FileSink({ path, maxBytes: 2000, keep: 2 });
    for (let i = 0; i < 20; i++) sink.write(makeAlert({ id: `a${i}` }));
    await sink.close();
    assert.ok(existsSync(`${path}.1`), 'rotated once at least');
    const lines = [path, `${path}.1`, `${path}.2`].filter(existsSync).flatMap((p) => readFileSync(p, 'utf8').trim().split('\n'));
    assert.ok(lines.every((l) => typeof JSON.parse(l).id === 'string'));
    assert.equal(sink.stats().written, 20);
  });

  it('two file sinks keep their own counters in the summary (file, file#2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-sinks-'));
    const sinks = [createSink(`file:${join(dir, 'a.jsonl')}`), createSink('stdout'), createSink(`file:${join(dir, 'b.jsonl')}`)];
    for (let i = 0; i < 3; i++) sinks[0]!.write(makeAlert({ id: `a${i}` }), true);
    sinks[2]!.write(makeAlert({ id: 'b0' }), true);
    await Promise.all(sinks.filter((s) => s.name === 'file').map((s) => s.close()));
    const stats = statsBySink(sinks);
    assert.deepEqual(Object.keys(stats), ['file', 'stdout', 'file#2']);
    assert.equal(stats.file!.written, 3);
    assert.equal(stats['file#2']!.written, 1);
    assert.equal(readFileSync(join(dir, 'b.jsonl'), 'utf8').trim().split('\n').length, 1);
  });
});

describe('webhook sink', () => {
  it('delivers to a live receiver, retrying a 503 once', async () => {
    const received: string[] = [];
    let failures = 1;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (failures-- > 0) {
          res.statusCode = 503;
          res.end();
          return;
        }
        received.push((JSON.parse(body) as { id: string }).id);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const sink = new WebhookSink({ url: `http://127.0.0.1:${port}/hook`, backoffMs: 10 });
    sink.write(makeAlert({ id: 'w1' }));
    sink.write(makeAlert({ id: 'w2' }));
    await sink.close();
    server.close();
    assert.deepEqual(received, ['w1', 'w2']);
    assert.equal(sink.stats().written, 2);
  });

  it('a receiver that is down never blocks writes; the full queue is counted', async () => {
    const sink = new WebhookSink({ url: 'http://127.0.0.1:9/down', maxQueue: 5, retries: 1, backoffMs: 5, timeoutMs: 200 });
    const start = performance.now();
    for (let i = 0; i < 100; i++) sink.write(makeAlert({ id: `d${i}` }));
    assert.ok(performance.now() - start < 50, 'write returns at once');
    await sink.close();
    const s = sink.stats();
    assert.equal(s.dropped, 100 - 5);
    assert.equal(s.failed, 5);
    assert.equal(s.written, 0);
  });
});

describe('response hook', () => {
  it('splits the template once and substitutes inside single arguments (no shell)', () => {
    assert.deepEqual(splitTemplate(`nft add element inet filter bl '{ {src} }'`), ['nft', 'add', 'element', 'inet', 'filter', 'bl', '{ {src} }']);
    assert.throws(() => splitTemplate('echo {nope}'), UsageError);
    assert.throws(() => splitTemplate(`echo 'open`), UsageError);
    const hook = new ResponseHook({ template: 'block {src} {label}', minScore: 0.5 });
    const hostile = makeAlert({ src: '1.2.3.4; rm -rf /', label: '$(reboot)' });
    assert.deepEqual(hook.argvFor(hostile), ['block', '1.2.3.4; rm -rf /', '$(reboot)'], 'hostile text stays one argument');
  });

  it('is dry-run by default, respects the score and rate limit, and executes with a timeout', async () => {
    const logged: string[] = [];
    const dry = new ResponseHook({ template: 'true {src}', minScore: 0.8, perMinute: 2, log: (l) => logged.push(l) });
    dry.handle(makeAlert({ score: 0.5 }));
    for (let i = 0; i < 5; i++) dry.handle(makeAlert({ score: 0.9 }));
    assert.deepEqual({ ...dry.stats }, { ran: 0, dryRun: 2, rateLimited: 3, belowScore: 1, failed: 0, timedOut: 0 });
    assert.equal(logged.length, 2);
    const live = new ResponseHook({ template: 'sleep 5', minScore: 0, execute: true, timeoutMs: 100 });
    live.handle(makeAlert());
    const ok = new ResponseHook({ template: 'true {src}', minScore: 0, execute: true });
    ok.handle(makeAlert());
    await Promise.all([live.close(), ok.close()]);
    assert.equal(live.stats.timedOut, 1);
    assert.equal(ok.stats.ran, 1);
  });
});

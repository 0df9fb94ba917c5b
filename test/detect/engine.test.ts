import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectionEngine, type FlowScorer, type ScoredBatch } from '../../src/detect/engine.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { FileSink } from '../../src/detect/sinks/file.js';
import { WebhookSink } from '../../src/detect/sinks/webhook.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { EngineMetrics } from '../../src/serve/metrics.js';

function flow(i: number, src = `10.0.${i % 7}.1`): FlowRecord {
  return {
    source: 'pcap', srcAddr: src, dstAddr: '192.168.1.1', srcPort: 1024 + i, dstPort: 80, protocol: 6, vlan: 0,
    startMs: 1000 + i, endMs: 2000 + i, packets: i % 50, bytes: 100 * i, fwdPackets: 1, bwdPackets: 1, fwdBytes: 50, bwdBytes: 50,
    tcpFlags: 0x12, endReason: 'fin',
  };
}

/** Flags flows with an even packet count; records the batch sizes it was given. */
class ParityScorer implements FlowScorer {
  readonly model = { name: 'parity', version: 'test', file: 'parity.fsm' };
  readonly batches: number[] = [];
  explained = 0;
  async scoreBatch(flows: readonly FlowRecord[]): Promise<ScoredBatch> {
    this.batches.push(flows.length);
    await new Promise((r) => setTimeout(r, 1));
    return {
      verdicts: flows.map((f) => ({ score: f.packets % 2 === 0 ? 0.9 : 0.1, threshold: 0.5, isAlert: f.packets % 2 === 0, label: 'attack', category: 'DoS' })),
      explain: async (rows) => {
        this.explained += rows.length;
        return rows.map((r) => [{ feature: 'packets', value: flows[r].packets, contribution: 1, normalRange: [0, 1] }]);
      },
      input: (row) => ({ packets: flows[row].packets }),
    };
  }
}

describe('detection engine', () => {
  it('scores in batches, aggregates per source, and on close delivers every accepted alert to every sink and the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-engine-'));
    const scorer = new ParityScorer();
    const store = await AlertStore.open(join(dir, 'alerts.duckdb'));
    const file = new FileSink({ path: join(dir, 'alerts.jsonl') });
    const down = new WebhookSink({ url: 'http://127.0.0.1:9/down', retries: 0, timeoutMs: 100, maxQueue: 3 });
    const engine = new DetectionEngine({ scorer, metrics: new EngineMetrics(false), sinks: [file, down], store, batchSize: 100, aggregationWindowMs: 60_000 });
    const start = performance.now();
    for (let i = 0; i < 1000; i++) assert.equal(engine.submit(flow(i)), true);
    const submitMs = performance.now() - start;
    await engine.close();
    const s = engine.stats();
    assert.equal(s.flowsScored, 1000);
    assert.ok(Math.max(...scorer.batches) <= 100 && scorer.batches.length >= 10, 'batched');
    assert.equal(s.alertsRaised, 7, 'one aggregate per alerting source');
    assert.equal(scorer.explained, 7, 'only new aggregates are explained');
    assert.equal(s.alertsRaised + s.alertsAggregated, 500, 'every alerting flow is counted');
    const lines = readFileSync(join(dir, 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; count: number; explanation: unknown[] });
    assert.equal(lines.length, s.alertUpdates, 'the file sink saw every published update');
    assert.ok(lines.length <= 7 * scorer.batches.length, 'updates of one aggregate within a batch are coalesced');
    const last = new Map(lines.map((l) => [l.id, l.count]));
    assert.equal([...last.values()].reduce((a, b) => a + b, 0), 500, 'the latest states count every alerting flow');
    assert.ok(lines.every((l) => l.explanation.length === 1), 'grown aggregates keep their explanation');
    const reopened = await AlertStore.open(join(dir, 'alerts.duckdb'));
    const stored = await reopened.queryAlerts({ limit: 100 });
    assert.equal(stored.total, 7);
    assert.equal(stored.alerts.reduce((sum, a) => sum + a.count, 0), 500, 'aggregate counts add up to every alerting flow');
    await reopened.close();
    assert.ok(submitMs < 500, `a webhook receiver that is down does not stall detection (${submitMs.toFixed(0)} ms)`);
    assert.equal(down.stats().dropped + down.stats().failed + down.stats().written, s.alertUpdates);
  });

  it("alert scores are a classifier's float32 probabilities as their shortest decimals, opened and grown", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-engine-score-'));
    const probabilities = [Math.fround(0.81), Math.fround(0.93)];
    let call = 0;
    const scorer: FlowScorer = {
      model: { name: 'float32', version: 'test', file: 'f.fsm' },
      async scoreBatch(flows) {
        const score = probabilities[Math.min(call++, 1)];
        return { verdicts: flows.map(() => ({ score, threshold: 0.5, isAlert: true, label: 'attack', category: 'DoS' })), explain: async (rows) => rows.map(() => []), input: () => ({}) };
      },
    };
    const path = join(dir, 'alerts.jsonl');
    const engine = new DetectionEngine({ scorer, metrics: new EngineMetrics(false), sinks: [new FileSink({ path })], batchSize: 1, aggregationWindowMs: 60_000 });
    engine.submit(flow(0, '10.9.9.9'));
    await new Promise((r) => setTimeout(r, 50));
    engine.submit(flow(1, '10.9.9.9'));
    await engine.close();
    const scores = readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { score: number }).score);
    assert.deepEqual(scores, [0.81, 0.93], 'not 0.8100000023841858 and 0.9300000071525574');
  });

  it('forgets aggregates idle past the window, so a flood from ever-new sources keeps only the recent ones open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-engine-expiry-'));
    let nowMs = 1_700_000_000_000;
    const store = await AlertStore.open(join(dir, 'alerts.duckdb'));
    const engine = new DetectionEngine({ scorer: new ParityScorer(), metrics: new EngineMetrics(false), store, batchSize: 100, aggregationWindowMs: 60_000, clock: () => nowMs });
    // ten minutes of a spoofed flood: 500 new sources a minute, every flow alerting (even packet counts)
    const sourceOf = (minute: number, k: number): string => `198.${18 + minute}.${k >> 8}.${k & 255}`;
    for (let minute = 0; minute < 10; minute++) {
      for (let k = 0; k < 500; k++) engine.submit(flow(2 * k, sourceOf(minute, k)));
      await engine.drain();
      // the sources of this minute, and at most those of the one before (not yet past the window at a scan)
      assert.ok(engine.stats().openAggregates >= 500 && engine.stats().openAggregates <= 1000, `minute ${minute}: ${engine.stats().openAggregates} open`);
      nowMs += 61_000;
    }
    // a source seen again after its window opens a new alert; one seen within it grows its aggregate
    engine.submit(flow(1000, sourceOf(9, 0)));
    engine.submit(flow(1002, sourceOf(8, 0)));
    await engine.drain();
    nowMs += 1_000;
    engine.submit(flow(1004, sourceOf(8, 0)));
    await engine.close();
    const s = engine.stats();
    assert.equal(s.openAggregates, 2, 'only the two sources of the last minute are open');
    assert.equal(s.flowsScored, 5003);
    assert.equal(s.alertsRaised, 5002, 'every source of every minute once, and the two seen again after their window');
    assert.equal(s.alertsAggregated, 1, 'the third flow grew the aggregate opened a second before');
    const stored = await AlertStore.open(join(dir, 'alerts.duckdb'));
    const all = await stored.queryAlerts({ limit: 0 });
    assert.equal(all.total, s.alertsRaised, 'the store holds every alert raised');
    await stored.close();
  });

  it('counts drops when the queue is full and refuses flows after close', async () => {
    const engine = new DetectionEngine({ scorer: new ParityScorer(), metrics: new EngineMetrics(false), maxQueue: 10, batchSize: 1000, maxBatchDelayMs: 50 });
    for (let i = 0; i < 15; i++) engine.submit(flow(i));
    assert.equal(engine.stats().dropped, 5);
    await engine.close();
    assert.equal(engine.submit(flow(1)), false);
    assert.equal(engine.stats().flowsScored, 10);
  });
});

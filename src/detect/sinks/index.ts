// Sink specifications as written on the command line or in the config file:
//   stdout | file:PATH[?maxBytes=N&keep=K] | webhook:URL | syslog:HOST[:PORT]

import { UsageError } from '../../errors.js';
import { FileSink } from './file.js';
import type { AlertSink, SinkStats } from './sink.js';
import { StdoutSink } from './stdout.js';
import { SyslogSink } from './syslog.js';
import { WebhookSink } from './webhook.js';

export type { AlertSink, SinkStats } from './sink.js';

/** `log`: where a sink says its first failure of a run of failures and its recovery (default: stderr). */
export function createSink(spec: string, log?: (line: string) => void): AlertSink {
  if (spec === 'stdout') return new StdoutSink();
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const target = colon < 0 ? '' : spec.slice(colon + 1);
  switch (kind) {
    case 'file': {
      const [path, query = ''] = target.split('?');
      if (!path) throw new UsageError(`--sink ${spec}: file: needs a path, e.g. file:alerts.jsonl`);
      const q = new URLSearchParams(query);
      const num = (name: string): number | undefined => {
        const v = q.get(name);
        if (v === null) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`--sink ${spec}: ${name} must be a non-negative integer`);
        return n;
      };
      return new FileSink({ path, maxBytes: num('maxBytes'), keep: num('keep'), log });
    }
    case 'webhook': {
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        throw new UsageError(`--sink ${spec}: webhook: needs an http(s) URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--sink ${spec}: webhook: needs an http(s) URL`);
      return new WebhookSink({ url: url.toString(), log });
    }
    case 'syslog': {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target);
      if (!m) throw new UsageError(`--sink ${spec}: syslog: needs HOST[:PORT]`);
      const port = m[2] ? Number(m[2]) : 514;
      // checked here: the socket refuses it only at the first alert, as an exception in the middle of scoring
      if (port < 1 || port > 65_535) throw new UsageError(`--sink ${spec}: syslog: the port must be 1-65535`);
      return new SyslogSink(m[1].replace(/^\[|\]$/g, ''), port, log);
    }
    default:
      throw new UsageError(`--sink ${spec}: unknown sink; use stdout, file:PATH, webhook:URL or syslog:HOST[:PORT]`);
  }
}

/**
 * Each sink's counters under its kind, in --sink order; a second sink of one kind is `file#2`, a third `file#3`
 * (keys by kind alone let two file sinks overwrite each other). Targets are left out: a webhook URL may hold a token.
 */
export function statsBySink(sinks: readonly AlertSink[]): Record<string, SinkStats> {
  const stats: Record<string, SinkStats> = {};
  const ofKind = new Map<string, number>();
  for (const sink of sinks) {
    const n = (ofKind.get(sink.name) ?? 0) + 1;
    ofKind.set(sink.name, n);
    stats[n === 1 ? sink.name : `${sink.name}#${n}`] = sink.stats();
  }
  return stats;
}

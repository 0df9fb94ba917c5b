// The response hook (`--on-alert 'nft add element inet filter blocklist { {src} }'`): runs a command for alerts above
// a score. Safety: the template is split into arguments once, at start-up; placeholders are substituted inside single
// arguments and the command runs through execFile — never a shell — so flow fields cannot inject commands.
// Rate-limited (token bucket), time-limited, and dry-run unless `execute` is set.

import { execFile } from 'node:child_process';
import { UsageError } from '../errors.js';
import type { Alert } from './alert.js';

const PLACEHOLDERS = ['src', 'dst', 'sport', 'dport', 'proto', 'vlan', 'label', 'category', 'score', 'id', 'stage'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

export interface ResponseHookOptions {
  readonly template: string;
  /** Only alerts with score ≥ this run the command. */
  readonly minScore: number;
  /** Commands per minute at most; more are counted as rate-limited. */
  readonly perMinute?: number;
  readonly timeoutMs?: number;
  /** Dry-run (default) logs the argv it would run. */
  readonly execute?: boolean;
  readonly log?: (line: string) => void;
}

export interface HookStats {
  ran: number;
  dryRun: number;
  rateLimited: number;
  belowScore: number;
  failed: number;
  timedOut: number;
}

/** Splits a template into argv, honouring single and double quotes; placeholders stay for later substitution. */
export function splitTemplate(template: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inArg = false;
  for (const ch of template) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inArg = true;
    } else if (/\s/.test(ch)) {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else {
      current += ch;
      inArg = true;
    }
  }
  if (quote) throw new UsageError(`--on-alert: unterminated ${quote} quote in '${template}'`);
  if (inArg) args.push(current);
  if (args.length === 0) throw new UsageError('--on-alert: empty command');
  for (const arg of args) {
    for (const m of arg.matchAll(/\{(\w+)\}/g)) {
      if (!PLACEHOLDERS.includes(m[1] as Placeholder)) {
        throw new UsageError(`--on-alert: unknown placeholder {${m[1]}}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
      }
    }
  }
  return args;
}

function fieldsOf(alert: Alert): Record<Placeholder, string> {
  return {
    src: alert.flow.srcAddr,
    dst: alert.flow.dstAddr,
    sport: String(alert.flow.srcPort),
    dport: String(alert.flow.dstPort),
    proto: String(alert.flow.protocol),
    vlan: String(alert.flow.vlan),
    label: alert.label,
    category: alert.category,
    score: String(alert.score),
    id: alert.id,
    stage: alert.stage,
  };
}

export class ResponseHook {
  readonly stats: HookStats = { ran: 0, dryRun: 0, rateLimited: 0, belowScore: 0, failed: 0, timedOut: 0 };
  private readonly argvTemplate: string[];
  private tokens: number;
  private lastRefill = Date.now();
  private readonly running = new Set<Promise<void>>();
  /** In a run of failed or timed-out commands: the first is logged, then the first success after them. */
  private failing = false;

  constructor(private readonly options: ResponseHookOptions) {
    this.argvTemplate = splitTemplate(options.template);
    this.tokens = options.perMinute ?? 60;
  }

  /** The argv the hook would run for this alert. */
  argvFor(alert: Alert): string[] {
    const fields = fieldsOf(alert);
    return this.argvTemplate.map((arg) => arg.replace(/\{(\w+)\}/g, (_, name: Placeholder) => fields[name]));
  }

  handle(alert: Alert): void {
    if (alert.score < this.options.minScore) {
      this.stats.belowScore++;
      return;
    }
    const perMinute = this.options.perMinute ?? 60;
    const now = Date.now();
    this.tokens = Math.min(perMinute, this.tokens + ((now - this.lastRefill) / 60_000) * perMinute);
    this.lastRefill = now;
    if (this.tokens < 1) {
      this.stats.rateLimited++;
      return;
    }
    this.tokens -= 1;
    const [cmd, ...args] = this.argvFor(alert);
    if (!this.options.execute) {
      this.stats.dryRun++;
      this.options.log?.(`on-alert (dry run): ${JSON.stringify([cmd, ...args])}`);
      return;
    }
    const run = new Promise<void>((resolve) => {
      const timeoutMs = this.options.timeoutMs ?? 5_000;
      execFile(cmd, args, { timeout: timeoutMs, shell: false }, (err, _stdout, stderr) => {
        if (!err) {
          this.stats.ran++;
          if (this.failing) this.options.log?.(`on-alert: ${cmd} runs again after ${this.stats.failed} failed and ${this.stats.timedOut} timed-out commands`);
          this.failing = false;
        } else {
          const { killed, code } = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
          if (killed) this.stats.timedOut++;
          else this.stats.failed++;
          // a blocking command that fails (no permission, a typo) must not go unnoticed: once per run of failures
          const said = String(stderr).trim().split('\n')[0];
          const why = killed ? `killed after ${timeoutMs} ms` : typeof code === 'number' ? `exit code ${code}${said ? ` (${said})` : ''}` : `${code ?? err.message}`;
          if (!this.failing) this.options.log?.(`on-alert: ${JSON.stringify([cmd, ...args])} failed: ${why}; failures are counted (hook stats), detection goes on`);
          this.failing = true;
        }
        resolve();
      });
    });
    this.running.add(run);
    void run.then(() => this.running.delete(run));
  }

  async close(): Promise<void> {
    await Promise.all(this.running);
  }
}

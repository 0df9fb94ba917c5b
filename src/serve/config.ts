// Configuration of `detect` and `serve`: defaults < config file (JSON) < environment (FLOWSENTRY_*) < command line.
// Validated with zod; an error names the file and the offending key.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError, UserError } from '../errors.js';
import { MAX_AGGREGATION_WINDOW_S, MAX_EARLY_PACKETS, MAX_PORT, NETFLOW_LISTEN } from '../detect/config-limits.js';
import { MAX_TIMER_MS } from '../util/timers.js';
import { listed, plainProblem, valueAt } from './schema-problems.js';

export const configSchema = z
  .object({
    model: z.string().min(1),
    /** HOST:PORT of the HTTP API and dashboard. */
    http: z
      .string()
      .regex(/^(\[[^\]]+\]|[^:]+):\d{1,5}$/, 'expected HOST:PORT')
      .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= MAX_PORT, `the port must be at most ${MAX_PORT}`)
      .default('127.0.0.1:8470'),
    /** API bearer token; generated and kept beside the store when absent. */
    token: z.string().min(16).optional(),
    /** DuckDB file of alerts, traffic and feedback. */
    store: z.string().min(1).default('flowsentry-data/alerts.duckdb'),
    pcap: z.string().optional(),
    interface: z.string().optional(),
    netflow: z
      .string()
      .regex(NETFLOW_LISTEN, 'expected udp://HOST:PORT')
      .refine((v) => Number(NETFLOW_LISTEN.exec(v)?.[2]) <= MAX_PORT, `the port must be at most ${MAX_PORT}`)
      .optional(),
    /** How NetFlow datagrams are received: the native recvmmsg receiver when built (auto), or one of the two. */
    receiver: z.enum(['auto', 'recvmmsg', 'dgram']).default('auto'),
    stdin: z.boolean().default(false),
    realtime: z.boolean().default(false),
    /** Score each flow after its first N packets as well as when it ends (0 disables early verdicts). */
    earlyPackets: z.number().int().min(0).max(MAX_EARLY_PACKETS).default(8),
    aggregationWindowS: z.number().positive().max(MAX_AGGREGATION_WINDOW_S).default(60),
    sinks: z.array(z.string()).default([]),
    onAlert: z
      .object({
        command: z.string().min(1),
        minScore: z.number().default(0),
        perMinute: z.number().int().positive().default(60),
        timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).default(5000),
        execute: z.boolean().default(false),
      })
      .strict()
      .optional(),
    batchSize: z.number().int().min(1).max(65_536).default(1024),
    maxQueue: z.number().int().min(1).default(200_000),
    maxFlows: z.number().int().min(1).default(100_000),
    /** Alert rows, and traffic cells, the store holds for retry while its writes fail (AlertStore's DEFAULT_MAX_PENDING_ROWS). */
    storeMaxPending: z.number().int().min(1).default(20_000),
    /** Hours the store keeps alerts (from their last growth; alerts with feedback are kept) and traffic; absent: all. */
    storeRetentionHours: z.number().positive().max(24 * 365 * 100).optional(),
  })
  .strict();

type Settings = z.infer<typeof configSchema>;

export type ServiceConfig = Settings & {
  /**
   * Where each setting the user gave came from, as a message names it: the option (`--http`), the environment
   * variable (`FLOWSENTRY_HTTP`) or the config file's key ("the config file's http"). A default has none.
   */
  readonly placeOf: Readonly<Partial<Record<keyof Settings, string>>>;
};

const ENV: Record<string, keyof Settings> = {
  FLOWSENTRY_MODEL: 'model',
  FLOWSENTRY_HTTP: 'http',
  FLOWSENTRY_TOKEN: 'token',
  FLOWSENTRY_STORE: 'store',
  FLOWSENTRY_NETFLOW: 'netflow',
  FLOWSENTRY_INTERFACE: 'interface',
};

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // V8 says "... in JSON at position N": the line and column of N
    const message = (err as Error).message;
    const at = /^(.*?)(?: in JSON)? at position (\d+)/.exec(message);
    if (!at) throw new UserError(`config is not JSON: ${message}`, { file: path });
    const before = text.slice(0, Number(at[2]));
    const line = before.split('\n').length;
    throw new UserError(`config is not JSON: ${at[1]}`, { file: path, line, column: before.length - before.lastIndexOf('\n') });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UserError('config is not a JSON object', { file: path });
  return parsed as Record<string, unknown>;
}

/** Command-line option of a configuration key, where it is not the key in kebab case. */
const OPTION_OF: Record<string, string> = { aggregationWindowS: '--aggregation-window', sinks: '--sink', onAlert: '--on-alert' };

function optionName(path: readonly PropertyKey[]): string {
  const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const [key, sub] = path.map(String);
  if (key === 'onAlert' && sub !== undefined && sub !== 'command') return `--on-alert-${kebab(sub)}`;
  return OPTION_OF[key] ?? `--${kebab(key)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Merges the layers and validates the result. `cli` holds only options the user actually gave. */
export function loadConfig(cli: Record<string, unknown>, configFile?: string, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const merged: Record<string, unknown> = configFile ? readConfigFile(configFile) : {};
  // which layer gave each key ('file', the variable's name or 'cli'), so that an invalid value is blamed on the
  // option, variable or file it came from, and the service names where a setting it cannot use was given (placeOf)
  const origin = new Map<string, string>(Object.keys(merged).map((key) => [key, 'file']));
  for (const [name, key] of Object.entries(ENV)) {
    if (env[name]) {
      merged[key] = env[name];
      origin.set(key, name);
    }
  }
  for (const [key, value] of Object.entries(cli)) {
    if (value === undefined) continue;
    const before = merged[key];
    if (isObject(value) && isObject(before)) {
      // part of an object setting (--on-alert-execute) amends the file's, each given field blamed on its own option
      merged[key] = { ...before, ...value };
      for (const field of Object.keys(value)) origin.set(`${key}.${field}`, 'cli');
    } else {
      merged[key] = value;
      origin.set(key, 'cli');
    }
  }
  // the one setting with no default, missing everywhere: as the option parser says of a required option
  if (merged.model === undefined && !configFile) throw new UsageError("required option '--model <file>' not specified (nor FLOWSENTRY_MODEL, nor a --config file's model)");
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    // a number given is echoed (never a text: it may be the token)
    const given = valueAt(merged, issue.path);
    const problem = typeof given === 'number' ? `${plainProblem(issue, given)}, got ${given}` : plainProblem(issue, given);
    const from = origin.get(issue.path.slice(0, 2).join('.')) ?? (issue.path.length > 0 ? origin.get(String(issue.path[0])) : undefined);
    // hook options without a command anywhere: the option that gives it
    if (from === 'cli' && given === undefined && issue.path.join('.') === 'onAlert.command') {
      const hookOptions = Object.keys(isObject(cli.onAlert) ? cli.onAlert : {}).map((field) => optionName(['onAlert', field]));
      throw new UsageError(`${listed(hookOptions, 'and')} ${hookOptions.length > 1 ? 'need' : 'needs'} --on-alert <command>, the command to run per alert`);
    }
    // a value typed on the command line is a usage error, as the option parsers' refusals are
    if (from === 'cli') throw new UsageError(`invalid ${optionName(issue.path)}: ${problem}`);
    if (from !== undefined && from !== 'file') throw new UserError(`invalid ${from}: ${problem}`);
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new UserError(`invalid configuration: ${where}${problem}`, configFile ? { file: configFile } : undefined);
  }
  const c = result.data;
  const place = (key: string, from: string): string => (from === 'cli' ? optionName([key]) : from === 'file' ? `the config file's ${key}` : from);
  const sources = (['pcap', 'interface', 'netflow', 'stdin'] as const).filter((key) => (key === 'stdin' ? c.stdin : c[key] !== undefined));
  if (sources.length > 1) {
    // named where each was given; all typed on the command line, it is a usage error like any other option clash
    const given = sources.map((key) => place(key, origin.get(key) ?? 'file'));
    const problem = `choose one traffic source (pcap, interface, netflow or stdin), not ${given.slice(0, -1).join(', ')} and ${given[given.length - 1]}`;
    if (sources.every((key) => origin.get(key) === 'cli')) throw new UsageError(problem);
    throw new UserError(problem, configFile && sources.some((key) => origin.get(key) === 'file') ? { file: configFile } : undefined);
  }
  const settings = [...origin].filter(([key]) => !key.includes('.'));
  return { ...c, placeOf: Object.fromEntries(settings.map(([key, from]) => [key, place(key, from)])) };
}

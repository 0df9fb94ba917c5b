// A zod schema issue in plain words ("must be > 0", "expected an integer", "unknown key 'x'") instead of zod's own
// ("Too small: expected number to be >0"): shared by the configuration (src/serve/config.ts) and the HTTP API's 400s.

import type { z } from 'zod';

const TYPE_TEXT: Record<string, string> = { string: 'a text', number: 'a number', int: 'an integer', boolean: 'true or false', array: 'a list', object: 'an object' };

/** 'a', 'a or b', 'a, b or c' (or another conjunction). */
export const listed = (values: readonly string[], conjunction = 'or'): string =>
  values.length > 1 ? `${values.slice(0, -1).join(', ')} ${conjunction} ${values[values.length - 1]}` : values.join('');

/** The value at an issue's path in the input that was validated (undefined where there is none). */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
}

/** The issue in plain words; our own refine and regex messages are kept. `given`: the value at the issue's path. */
export function plainProblem(issue: z.core.$ZodIssue, given: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return given === undefined ? 'missing' : `expected ${TYPE_TEXT[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      return `must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`;
    case 'invalid_value':
      return `${given === undefined ? 'missing; ' : ''}expected ${listed(issue.values.map(String))}`;
    case 'unrecognized_keys':
      return `unknown ${issue.keys.length > 1 ? 'keys' : 'key'} ${listed(issue.keys.map((k) => `'${k}'`), 'and')}`;
    default:
      return issue.message;
  }
}

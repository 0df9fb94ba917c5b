// User-facing errors. The CLI prints `message` as one line and exits 1 (UserError) or 2 (UsageError);
// stack traces appear only with --debug.

/** Where in an input a problem was found. Line and column are 1-based. */
export interface InputLocation {
  file?: string;
  line?: number;
  column?: number | string;
}

function formatLocation(loc: InputLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.column !== undefined) parts.push(typeof loc.column === 'number' ? `column ${loc.column}` : `column '${loc.column}'`);
  return parts.join(', ');
}

/** A problem with the user's data, files or parameters: exit code 1. */
export class UserError extends Error {
  readonly location: InputLocation | undefined;
  /** The message without its location: what is wrong, for a caller that words or places it anew. */
  readonly problem: string;
  constructor(problem: string, location?: InputLocation) {
    super(location && formatLocation(location) ? `${formatLocation(location)}: ${problem}` : problem);
    this.name = 'UserError';
    this.location = location;
    this.problem = problem;
  }

  /** The same problem at another location (e.g. a stream under the name the user knows it by). */
  at(location: InputLocation): UserError {
    return new UserError(this.problem, location);
  }
}

/** A malformed command line: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown by hyper-parameter validation: names the parameter and the accepted range. */
export class ParameterError extends UserError {
  constructor(model: string, param: string, value: unknown, accepted: string) {
    // JSON has no Infinity or NaN: it would show them as null
    const shown = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
    super(`${model}: parameter ${param}=${shown} is out of range; accepted: ${accepted}`);
    this.name = 'ParameterError';
  }
}

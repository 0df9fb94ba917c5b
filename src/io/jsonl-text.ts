// One JSON line (RFC 8259 grammar) as text cells: the slow, string-level reading of a line that the JSON-lines peek
// (format detection, column types) and error lines go through; the loader's byte-level reader (./jsonl-reader.ts)
// follows the same rules. Numbers keep the text they are written with (a CSV cell of the same flow holds that text),
// strings their value, `true`/`false` their name; `null` is a missing value. The tokens Python's json module writes
// for non-finite floats (NaN, Infinity, -Infinity) are numbers too. Objects and arrays inside the line are parsed (the
// caller decides what nesting it takes). A line whose JSON is broken, or that is not an object, or names a key twice,
// is a JsonLineError with the 1-based column (character) where it goes wrong.

/** A value of a JSON line: a scalar's text, null (missing), an object of further values, or an array (not kept). */
export type JsonCell = { readonly text: string; readonly kind: 'string' | 'number' | 'literal' } | null | JsonObject | { readonly kind: 'array' };
export interface JsonObject {
  readonly kind: 'object';
  readonly entries: Map<string, JsonCell>;
  /** Column (1-based) where each key starts, for error lines. */
  readonly keyColumns: Map<string, number>;
}

export class JsonLineError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|NaN|-?Infinity/y;
const WHITESPACE = /[ \t\r\n]*/y;
// eslint-disable-next-line no-control-regex -- control characters are what JSON strings may not hold
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;

/** Parses one line (without its line feed) into its top-level object; undefined for a blank line. */
export function parseJsonLine(text: string): JsonObject | undefined {
  const reader = new LineReader(text);
  reader.skipSpace();
  if (reader.at >= text.length) return undefined;
  if (text[reader.at] !== '{') throw new JsonLineError(`${what(text, reader.at)}: a JSON line holds one object ({...})`, reader.at + 1);
  const value = reader.object();
  reader.skipSpace();
  if (reader.at < text.length) throw new JsonLineError(`${what(text, reader.at)} after the object (one object per line)`, reader.at + 1);
  return value;
}

/** What the text at `at` is, for an error line. */
function what(text: string, at: number): string {
  if (at >= text.length) return 'the line ends early';
  const shown = text.slice(at, at + 12);
  return `unexpected '${shown}'${text.length > at + 12 ? '...' : ''}`;
}

class LineReader {
  at = 0;
  constructor(private readonly text: string) {}

  skipSpace(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.exec(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  private expect(char: string, context: string): void {
    this.skipSpace();
    if (this.text[this.at] !== char) throw new JsonLineError(`${what(this.text, this.at)}: expected '${char}' ${context} (not JSON)`, this.at + 1);
    this.at++;
  }

  object(): JsonObject {
    const entries = new Map<string, JsonCell>();
    const keyColumns = new Map<string, number>();
    this.at++; // {
    this.skipSpace();
    if (this.text[this.at] === '}') {
      this.at++;
      return { kind: 'object', entries, keyColumns };
    }
    for (;;) {
      this.skipSpace();
      const keyAt = this.at;
      if (this.text[this.at] !== '"') throw new JsonLineError(`${what(this.text, this.at)}: expected a key in double quotes (not JSON)`, this.at + 1);
      const key = this.string();
      if (entries.has(key)) throw new JsonLineError(`key '${key}' appears twice on the line`, keyAt + 1);
      this.expect(':', 'after a key');
      this.skipSpace();
      keyColumns.set(key, keyAt + 1);
      entries.set(key, this.value());
      this.skipSpace();
      const c = this.text[this.at];
      this.at++;
      if (c === ',') continue;
      if (c === '}') return { kind: 'object', entries, keyColumns };
      this.at--;
      throw new JsonLineError(`${what(this.text, this.at)}: expected ',' or '}' (not JSON)`, this.at + 1);
    }
  }

  private value(): JsonCell {
    const c = this.text[this.at];
    if (c === '"') return { text: this.string(), kind: 'string' };
    if (c === '{') return this.object();
    if (c === '[') {
      this.at++;
      this.skipSpace();
      if (this.text[this.at] === ']') {
        this.at++;
        return { kind: 'array' };
      }
      for (;;) {
        this.skipSpace();
        this.value();
        this.skipSpace();
        const next = this.text[this.at++];
        if (next === ']') return { kind: 'array' };
        if (next === ',') continue;
        this.at--;
        throw new JsonLineError(`${what(this.text, this.at)}: expected ',' or ']' (not JSON)`, this.at + 1);
      }
    }
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.at)) {
        this.at += literal.length;
        return literal === 'null' ? null : { text: literal, kind: 'literal' };
      }
    }
    NUMBER.lastIndex = this.at;
    const m = NUMBER.exec(this.text);
    if (!m) throw new JsonLineError(`${what(this.text, this.at)}: not a JSON value`, this.at + 1);
    this.at += m[0].length;
    return { text: m[0], kind: 'number' };
  }

  /** A string at `at` (its opening quote); returns its value. */
  private string(): string {
    const start = this.at;
    STRING_BODY.lastIndex = start + 1;
    STRING_BODY.exec(this.text);
    const end = STRING_BODY.lastIndex;
    if (this.text[end] !== '"') {
      if (end >= this.text.length) throw new JsonLineError('a string is never closed (the line ends inside it)', start + 1);
      throw new JsonLineError(this.text[end] === '\\' ? 'a bad escape in a string (not JSON)' : 'a control character in a string (not JSON)', end + 1);
    }
    this.at = end + 1;
    const body = this.text.slice(start + 1, end);
    return body.includes('\\') ? (JSON.parse(this.text.slice(start, end + 1)) as string) : body;
  }
}

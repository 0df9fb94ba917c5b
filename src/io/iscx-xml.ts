// Streaming reader for record-per-element XML, the layout of the ISCX-IDS2012 labelled flows
// (TestbedXXXFlows.xml: a root element, one child element per flow, one grandchild element per field, text values).
// Follows XML 1.0 closely enough for such files: comments, processing instructions, DOCTYPE and CDATA are handled,
// the five predefined entities and numeric character references are decoded, attributes are ignored.
// Bytes are scanned with indexOf; values go straight into a ColumnarBuilder. O(bytes) time, one read buffer.

import { UserError } from '../errors.js';
import { ByteDictionary } from './csv-dictionary.js';
import { CATEGORICAL, NUMERIC, type ColumnarBuilder } from './columnar-builder.js';
import { SKIP_NOT_NUMBER, type CsvReadResult } from './csv-reader.js';
import { numericCellValue } from './numeric-text.js';
import { openByteSource, pumpSource } from './csv-source.js';

const LT = 60;
const GT = 62;
const SLASH = 47;
const BANG = 33;
const QUESTION = 63;
const AMP = 38;
const LF = 10;

export interface XmlReadOptions {
  /** Column index of each field element name (names not listed are skipped). */
  readonly fields: ReadonlyMap<string, number>;
  readonly skipBadRows?: boolean;
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  readonly bufferBytes?: number;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** A character reference to a code point XML does not allow (its Char production). */
class BadCharacterReference extends Error {}

/** XML 1.0 §2.2 Char: tab, line feed, carriage return, and U+0020 to U+10FFFF but surrogates, U+FFFE and U+FFFF. */
function xmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/** Decodes XML entity and character references; a reference to a character XML does not allow throws BadCharacterReference. */
export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (all, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? all;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (!xmlChar(code)) throw new BadCharacterReference(all.length > 16 ? `${all.slice(0, 16)}...` : all);
    return String.fromCodePoint(code);
  });
}

/** Streams the records of one XML file into the builder. */
export async function readXmlRecordsInto(file: string, builder: ColumnarBuilder, options: XmlReadOptions): Promise<CsvReadResult> {
  const source = await openByteSource(file);
  const reader = new RecordXmlParser(file, builder, options);
  await pumpSource(source, Math.max(16, options.bufferBytes ?? 1 << 20), (buf, filled, eof) => reader.parse(buf, filled, eof), options.onProgress);
  if (!reader.sawRoot) throw new UserError('the file is empty (no XML root element)', { file });
  if (reader.depth !== 0) throw new UserError(`the XML ends inside an element (the file is cut short)`, { file, line: reader.line });
  return { rows: reader.rows, lines: reader.line - 1, skipped: reader.skipped };
}

class RecordXmlParser {
  rows = 0;
  depth = 0;
  line = 1;
  sawRoot = false;
  readonly skipped = new Map<string, number>();
  private readonly tags = new ByteDictionary();
  private columnOfTag: number[] = [];
  private recordBad = false;
  private scratch = new Uint8Array(256);

  constructor(
    private readonly file: string,
    private readonly builder: ColumnarBuilder,
    private readonly options: XmlReadOptions,
  ) {}

  /** Parses whole tokens (and whole field elements) of buf[0, end); returns the first unconsumed byte. */
  parse(buf: Uint8Array, end: number, eof: boolean): number {
    let pos = 0;
    while (pos < end) {
      const lt = buf.indexOf(LT, pos);
      if (lt < 0 || lt >= end) {
        this.countLines(buf, pos, end);
        return end;
      }
      this.countLines(buf, pos, lt);
      pos = lt;
      const next = buf[pos + 1];
      if (pos + 1 >= end) return this.incomplete(pos, eof);
      if (next === QUESTION || next === BANG) {
        const close = next === QUESTION ? '?>' : startsWith(buf, pos, '<!--') ? '-->' : '>';
        const stop = indexOfText(buf, close, pos + 2, end);
        if (stop < 0) return this.incomplete(pos, eof);
        this.countLines(buf, pos, stop);
        pos = stop + close.length;
        continue;
      }
      const gt = buf.indexOf(GT, pos);
      if (gt < 0 || gt >= end) return this.incomplete(pos, eof);
      if (next === SLASH) {
        this.closeElement();
        pos = gt + 1;
        continue;
      }
      const selfClosing = buf[gt - 1] === SLASH;
      if (this.depth === 2) {
        // A field: <name>text</name>, parsed whole so that a cut at the buffer end re-parses it.
        const nameEnd = tagNameEnd(buf, pos + 1, gt);
        let textEnd = gt + 1;
        let after = gt + 1;
        if (!selfClosing) {
          textEnd = this.fieldTextEnd(buf, gt + 1, end);
          if (textEnd < 0) return this.incomplete(pos, eof);
          const closeGt = buf.indexOf(GT, textEnd);
          if (closeGt < 0 || closeGt >= end) return this.incomplete(pos, eof);
          after = closeGt + 1;
        }
        this.countLines(buf, pos, after);
        this.field(buf, pos + 1, nameEnd, gt + 1, textEnd);
        pos = after;
        continue;
      }
      if (!selfClosing) this.openElement();
      pos = gt + 1;
    }
    return pos;
  }

  private incomplete(pos: number, eof: boolean): number {
    if (!eof) return pos;
    throw new UserError('the XML ends inside a tag (the file is cut short)', { file: this.file, line: this.line });
  }

  /** End of a field's text: the '<' of its closing tag, skipping CDATA sections; -1 if not in the buffer. */
  private fieldTextEnd(buf: Uint8Array, from: number, end: number): number {
    let pos = from;
    for (;;) {
      const lt = buf.indexOf(LT, pos);
      if (lt < 0 || lt + 1 >= end) return -1;
      if (buf[lt + 1] === SLASH) return lt;
      if (startsWith(buf, lt, '<![CDATA[')) {
        const stop = indexOfText(buf, ']]>', lt + 9, end);
        if (stop < 0) return -1;
        pos = stop + 3;
        continue;
      }
      throw new UserError('unexpected element inside a field (expected one text value per field)', { file: this.file, line: this.line });
    }
  }

  private openElement(): void {
    this.depth++;
    if (this.depth === 1) this.sawRoot = true;
    if (this.depth !== 2) return;
    // A new record: every field starts missing.
    const b = this.builder;
    b.ensureSlot();
    for (let c = 0; c < b.kinds.length; c++) {
      if (b.kinds[c] === NUMERIC) b.numericChunk[c][b.slot] = NaN;
      else if (b.kinds[c] === CATEGORICAL) b.codeChunk[c][b.slot] = -1;
    }
    this.recordBad = false;
  }

  private closeElement(): void {
    if (this.depth === 0) throw new UserError('a closing tag without an opening one', { file: this.file, line: this.line });
    if (this.depth === 2) {
      if (this.recordBad) this.skipped.set(SKIP_NOT_NUMBER, (this.skipped.get(SKIP_NOT_NUMBER) ?? 0) + 1);
      else {
        this.builder.commit();
        this.rows++;
      }
    }
    this.depth--;
  }

  private field(buf: Uint8Array, nameStart: number, nameEnd: number, textStart: number, textEnd: number): void {
    const tag = this.tags.code(buf, nameStart, nameEnd);
    if (tag === this.columnOfTag.length) this.columnOfTag.push(this.options.fields.get(utf8.decode(buf.subarray(nameStart, nameEnd))) ?? -1);
    const column = this.columnOfTag[tag];
    if (column < 0) return;
    const b = this.builder;
    const slot = b.slot;
    const raw = buf.subarray(textStart, textEnd);
    const special = raw.includes(AMP) || raw.includes(LT);
    if (b.kinds[column] === NUMERIC) {
      const text = (special ? this.decodeText(raw, buf, nameStart, nameEnd) : latin1.decode(raw)).trim();
      const value = numericCellValue(text);
      if (value === undefined) {
        if (!this.options.skipBadRows) {
          throw new UserError(`'${text.slice(0, 40)}' is not a number (text in a numeric field)`, { file: this.file, line: this.line, column: utf8.decode(buf.subarray(nameStart, nameEnd)) });
        }
        this.recordBad = true;
      }
      b.numericChunk[column][slot] = value ?? NaN;
    } else if (b.kinds[column] === CATEGORICAL) {
      const dictionary = b.dictionaries[column] as ByteDictionary;
      if (!special) {
        b.codeChunk[column][slot] = raw.length === 0 ? -1 : dictionary.code(buf, textStart, textEnd);
        return;
      }
      const decoded = new TextEncoder().encode(this.decodeText(raw, buf, nameStart, nameEnd));
      if (this.scratch.length < decoded.length) this.scratch = new Uint8Array(decoded.length);
      this.scratch.set(decoded);
      b.codeChunk[column][slot] = decoded.length === 0 ? -1 : dictionary.code(this.scratch, 0, decoded.length);
    }
  }

  /** A field's text with its CDATA sections and references decoded; a bad reference is an error naming the field. */
  private decodeText(raw: Uint8Array, buf: Uint8Array, nameStart: number, nameEnd: number): string {
    try {
      return decodeXmlText(cdata(utf8.decode(raw)));
    } catch (err) {
      if (!(err instanceof BadCharacterReference)) throw err;
      throw new UserError(`'${err.message}' refers to no character XML allows (a damaged file?)`, { file: this.file, line: this.line, column: utf8.decode(buf.subarray(nameStart, nameEnd)) });
    }
  }

  private countLines(buf: Uint8Array, from: number, to: number): void {
    for (let i = buf.indexOf(LF, from); i >= 0 && i < to; i = buf.indexOf(LF, i + 1)) this.line++;
  }
}

function cdata(text: string): string {
  return text.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, inner: string) => inner.replace(/&/g, '&amp;').replace(/</g, '&lt;'));
}

function tagNameEnd(buf: Uint8Array, from: number, gt: number): number {
  let i = from;
  while (i < gt) {
    const c = buf[i];
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === SLASH) break;
    i++;
  }
  return i;
}

function startsWith(buf: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (buf[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

function indexOfText(buf: Uint8Array, text: string, from: number, end: number): number {
  const first = text.charCodeAt(0);
  for (let i = buf.indexOf(first, from); i >= 0 && i + text.length <= end; i = buf.indexOf(first, i + 1)) {
    if (startsWith(buf, i, text)) return i;
  }
  return -1;
}

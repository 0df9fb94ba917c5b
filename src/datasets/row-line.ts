// The line of a data row of a CSV file, for an error found after loading (a row without a label): the file is read
// again as text and its records counted as the loader counts them (the header, empty lines and copies of the header
// skipped; a quoted cell may span lines). Only on the way to an error line, so plain and unhurried.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { splitRecords } from '../io/csv-peek.js';

export interface RowLine {
  /** 1-based line where the record starts. */
  readonly line: number;
  readonly cells: readonly string[];
}

/** Where data row `row` (0-based, of this file) starts, with its cells; undefined when the file has fewer rows. */
export async function lineOfRow(file: string, row: number, hasHeader: boolean, gzip: boolean): Promise<RowLine | undefined> {
  const raw = createReadStream(file);
  const input: Readable = gzip ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let header: string | undefined;
  let record: string | undefined;
  let recordLine = 0;
  let rows = 0;
  try {
    for await (const text of lines) {
      lineNumber++;
      const line = lineNumber === 1 ? text.replace(/^\uFEFF/, '') : text;
      if (record === undefined) {
        record = line;
        recordLine = lineNumber;
      } else record += `\n${line}`;
      // an odd number of quotes: a quoted cell goes on to the next line
      if ((record.match(/"/g)?.length ?? 0) % 2 === 1) continue;
      const complete = record;
      record = undefined;
      if (hasHeader && header === undefined) header = complete;
      else if (complete !== '' && complete !== header && rows++ === row) return { line: recordLine, cells: splitRecords(`${complete}\n`, ',', true, 1)[0] ?? [] };
    }
  } finally {
    lines.close();
    raw.destroy();
  }
  return undefined;
}

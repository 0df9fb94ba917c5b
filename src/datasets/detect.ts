// Format detection: every format scores the first records (or, for XML, the first bytes) of a file and the best
// score wins; the generic CSV format scores low so that known formats win. O(sample) per file.

import { UserError } from '../errors.js';
import { peekCsv, type CsvPeek } from '../io/csv-reader.js';
import { FORMATS } from './formats.js';
import type { DatasetFormat } from './schema.js';

export interface Detection {
  readonly format: DatasetFormat;
  readonly score: number;
}

/** Detects the format of a peeked file; throws a UserError naming the file when nothing fits. */
export function detectFormat(peek: CsvPeek): Detection {
  checkReadable(peek);
  let best: Detection | undefined;
  for (const format of FORMATS) {
    const score = format.detect(peek);
    if (score > 0 && (best === undefined || score > best.score)) best = { format, score };
  }
  if (!best) {
    throw new UserError('unknown format: not a recognised dataset and not a CSV with a header row; name it with --format', { file: peek.file });
  }
  return best;
}

/** Peeks at a file and detects its format. */
export async function detectFileFormat(file: string): Promise<Detection> {
  return detectFormat(await peekCsv(file));
}

/** Empty and binary files get their own messages. */
export function checkReadable(peek: CsvPeek): void {
  if (peek.binary) throw new UserError('unknown format: this is a binary file, not CSV or XML text', { file: peek.file });
  if (peek.records.length === 0 && peek.head.trim() === '') throw new UserError('the file is empty', { file: peek.file });
}

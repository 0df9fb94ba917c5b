// Format detection: every format scores the first records (or, for XML, the first bytes) of a file and the best
// score wins; the generic CSV format scores low so that known formats win. O(sample) per file.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { readerFor } from '../io/capture.js';
import type { CsvPeek } from '../io/csv-peek.js';
import { notRegularFile } from '../io/csv-source.js';
import { FORMATS, getFormat } from './formats.js';
import { genericCsv } from './generic-csv.js';
import { peekDataFile, tooFewKeys, type DataPeek } from './jsonl-peek.js';
import type { DatasetFormat } from './schema.js';

export interface Detection {
  readonly format: DatasetFormat;
  readonly score: number;
}

/** Detects the format of a peeked file; throws a UserError naming the file when nothing fits. */
export function detectFormat(peek: DataPeek): Detection {
  checkReadable(peek);
  let best: Detection | undefined;
  for (const format of FORMATS) {
    const score = format.detect(peek);
    if (score > 0 && (best === undefined || score > best.score)) best = { format, score };
  }
  if (!best) {
    throw tooFewKeys(peek) ?? new UserError('unknown format: not a recognised dataset and not a CSV with a header row; name it with --format', { file: peek.file });
  }
  return best;
}

/**
 * The format to read a peeked file with: the one named (--format, or a model's format), else the detected one. A
 * named known format the file does not fit while another known format does is refused (`--format cic-ids2017` on
 * UNSW-NB15 took its 0/1 `label` for attack names: every row an attack, without a word); `--format csv`, files no
 * known format fits, and a format of the file's family (DatasetFormat.family) are read as asked.
 */
export function formatFor(name: string | undefined, peek: CsvPeek): DatasetFormat {
  if (name === undefined) return detectFormat(peek).format;
  const format = getFormat(name);
  if (format.name === genericCsv.name || format.detect(peek) > 0) return format;
  let detected: DatasetFormat;
  try {
    detected = detectFormat(peek).format;
  } catch {
    return format;
  }
  if (detected.name === genericCsv.name || detected.name === format.name || (format.family !== undefined && format.family === detected.family)) return format;
  // the format may come from --format or from a model (retrain --data): the line names both, not the option
  throw new UserError(`this is ${detected.name} data, not ${format.title}: it cannot be read as ${format.name} (detected, it reads as ${detected.name})`, { file: peek.file });
}

/** Peeks at a file (CSV or JSON lines) and detects its format. */
export async function detectFileFormat(file: string): Promise<Detection> {
  return detectFormat(await peekDataFile(file));
}

/** Empty and binary files, and a first line longer than the sample, get their own messages. */
export function checkReadable(peek: CsvPeek): void {
  if (peek.binary) throw new UserError('unknown format: this is a binary file, not CSV or XML text', { file: peek.file });
  if (peek.records.length === 0 && peek.head.trim() === '') throw new UserError('the file is empty', { file: peek.file });
  // Without a record, a text file that goes on is one line longer than the sample (XML needs no line ends).
  if (peek.records.length === 0 && !peek.complete && !peek.head.trimStart().startsWith('<')) {
    throw new UserError('the first line runs past 1 MiB without a line end: a header or row this long is not read (is it a data file?)', { file: peek.file, line: 1 });
  }
}

/**
 * Files that are not rows get the step they miss, not a parse error on their first cell: a packet capture ("unknown
 * format: this is a binary file") and a JSON document that is one array. (The JSON lines of `extract` and `collect`
 * are data, ./jsonl-peek.ts; the predictions of `predict --out` are refused there.) Files that cannot be opened, and
 * pipes and devices (opening a FIFO waits for its writer), are left to the loader's own message. Used by every command
 * that reads data (train, evaluate, predict, retrain, inspect).
 */
export function assertNotFlowToolOutput(file: string): void {
  const head = new Uint8Array(64);
  let n: number;
  try {
    if (notRegularFile(statSync(file))) return;
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return;
  }
  if (n >= 4 && readerFor(head.subarray(0, 4), () => undefined) !== undefined) {
    throw new UserError('is a packet capture, not flow rows: turn it into rows with `flowsentry extract <capture> --out flows.csv` (or score it live with `flowsentry detect --pcap`)', { file });
  }
  const text = Buffer.from(head.subarray(0, n)).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (/^\[\s*[[{"\]]/.test(text)) {
    throw new UserError('holds a JSON array, not rows: data files are CSV or JSON lines (one object per line, as `flowsentry extract --out flows.jsonl` writes)', { file });
  }
}

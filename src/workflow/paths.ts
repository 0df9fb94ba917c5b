// Output paths are checked before any work starts, so an unwritable --out or --report fails in a second, not after
// an hour of training: the folder must exist and be writable (access(2) W_OK, which also reports a read-only file
// system; folders of the kernel's pseudo file systems, which refuse new files, are told by their statfs(2) type), and
// an existing target must be a writable file. What these checks cannot see (a full disk, a quota) is the final
// write's own error, one line from src/util/output.ts.

import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { UsageError, UserError } from '../errors.js';
import { errnoMeaning } from '../util/output.js';

/** statfs(2) magic numbers of proc, sysfs, cgroup2 and debugfs (linux/magic.h): no new files in their folders. */
const PSEUDO_FILE_SYSTEMS = new Set([0x9fa0, 0x62656572, 0x63677270, 0x64626720]);

function whyNot(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? errnoMeaning(code) : String((err as Error).message ?? err);
}

export function checkWritableFile(path: string, option: string): void {
  const full = resolve(path);
  const dir = dirname(full);
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    throw new UserError(`${option}: cannot write here: folder ${dir} does not exist`, { file: path });
  }
  if (!dirStat.isDirectory()) throw new UserError(`${option}: cannot write here: ${dir} is not a folder`, { file: path });
  try {
    const st = statSync(full);
    if (st.isDirectory()) throw new UserError(`${option}: is a folder, expected a file name`, { file: path });
    accessSync(full, constants.W_OK);
    return;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UserError(`${option}: cannot write: ${whyNot(err)}`, { file: path });
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new UserError(`${option}: cannot write in folder ${dir}: ${whyNot(err)}`, { file: path });
  }
  if (PSEUDO_FILE_SYSTEMS.has(statfsSync(dir).type)) throw new UserError(`${option}: cannot write in folder ${dir}: the folder does not accept new files`, { file: path });
}

/** A folder for --png: created if missing; must be writable. */
export function checkWritableDir(path: string, option: string): void {
  try {
    const st = statSync(path);
    if (!st.isDirectory()) throw new UserError(`${option}: exists and is not a folder`, { file: path });
  } catch (err) {
    if (err instanceof UserError) throw err;
    checkWritableFile(path, option);
    return;
  }
  checkWritableFile(join(path, 'probe'), option);
}

/** True when `a` and `b` name one file: the same path once resolved, or the same inode (a link). */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Refuses an output path that names one of the command's inputs (`predict m.fsm d.csv --out d.csv` replaced d.csv). */
export function checkNotAnInput(path: string, option: string, inputs: readonly string[]): void {
  const input = inputs.find((f) => f !== '-' && sameFile(path, f));
  if (input !== undefined) throw new UserError(`${option}: this is also an input (${input}); writing it would destroy it — choose another path`, { file: path });
}

/**
 * The format of rows written to `--out` (`predict`, `extract`), from its extension: .csv CSV; .jsonl, .ndjson and .json
 * JSON lines; none at all (a device: /dev/stdout) CSV, what both write on stdout. Any other extension is a usage
 * error: `extract --out flows.txt` wrote CSV there without a word.
 */
export function dataOutputFormat(path: string): 'csv' | 'jsonl' {
  const ext = extname(path).toLowerCase();
  if (ext === '' || ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new UsageError(`--out ${path}: the extension says the format; use .csv or .jsonl`);
}

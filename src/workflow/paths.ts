// Output paths are checked before any work starts, so an unwritable --out or --report fails in a second, not after
// an hour of training: the folder must exist and accept a new file (probed by creating and removing one), and an
// existing target must be a writable file.

import { accessSync, closeSync, constants, openSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** Plain words for the errno codes a write probe meets (the code alone, e.g. ENOENT on /proc, tells a user nothing). */
function whyNot(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left';
    case 'ENOENT':
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return 'the folder does not accept new files';
    default:
      return code ? `error ${code}` : String((err as Error).message ?? err);
  }
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
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UserError(`${option}: cannot write: ${whyNot(err)}`, { file: path });
  }
  const probe = join(dir, `.flowsentry-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (err) {
    throw new UserError(`${option}: cannot write in folder ${dir}: ${whyNot(err)}`, { file: path });
  }
  rmSync(probe, { force: true });
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

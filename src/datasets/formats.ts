// The registry of dataset formats, in detection order, and format detection from the first bytes of a file.

import { UserError } from '../errors.js';
import { cicIds2017 } from './cic-ids2017.js';
import { cseCicIds2018 } from './cse-cic-ids2018.js';
import { genericCsv } from './generic-csv.js';
import { iscx2012 } from './iscx2012.js';
import { kdd99 } from './kdd99.js';
import { nslKdd } from './nsl-kdd.js';
import type { DatasetFormat } from './schema.js';
import { unswNb15 } from './unsw-nb15.js';

export const FORMATS: readonly DatasetFormat[] = [nslKdd, kdd99, unswNb15, cicIds2017, cseCicIds2018, iscx2012, genericCsv];

/** The format named by --format; an unknown name is a user error listing the known ones. */
export function getFormat(name: string): DatasetFormat {
  const format = FORMATS.find((f) => f.name === name.trim().toLowerCase());
  if (!format) throw new UserError(`unknown format '${name}'; known formats: ${FORMATS.map((f) => f.name).join(', ')}`);
  return format;
}

// Locates the shared real datasets (../shared/datasets beside the clone). Tests that need them skip when absent.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const SHARED_DATASETS = resolve(process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets');

/** Absolute path of a shared dataset file, or undefined when the shared folder is not there. */
export function sharedFile(relative: string): string | undefined {
  const path = resolve(SHARED_DATASETS, relative);
  return existsSync(path) ? path : undefined;
}

// The optional C addons (native/*.c, built by native/build.mjs into native/build/Release/), loaded with
// process.dlopen rather than require: the first require of a process sets up the CommonJS loader (~0.8 ms).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The exports of addon `name` (native/build/Release/NAME.node), or why it cannot be loaded. */
export function loadNativeAddon<T>(name: string): { exports: T } | { reason: string } {
  // dist/src/util/ -> native/build/Release/
  const path = fileURLToPath(new URL(`../../../native/build/Release/${name}.node`, import.meta.url));
  const module = { exports: {} as T };
  try {
    process.dlopen(module, path);
    return { exports: module.exports };
  } catch (err) {
    return { reason: existsSync(path) ? (err as Error).message : 'not built (node native/build.mjs)' };
  }
}

// The loader's malloc policy (glibc, through the optional addon native/malloc_policy.c): blocks of 8 KiB and more are
// mapped on their own (mallopt M_MMAP_THRESHOLD), so the zone segments of V8's concurrent compiles (8-32 KiB) are
// unmapped when a compile ends instead of staying resident in its worker thread's arena. Without it a small load's
// peak RSS varied by 0.3-3.6 MB from run to run (docs/benchmarks.md, Loading, sessions 8-9; docs/decisions.md).
// Process-wide from the first load on; without the addon (not built, not glibc, FLOWSENTRY_NO_NATIVE=1) malloc keeps
// its defaults.

import { fileURLToPath } from 'node:url';

/** Blocks from this size up are mapped on their own: every V8 zone segment (8 KiB + 16 bytes of header and more). */
export const LOAD_MMAP_THRESHOLD = 8192;

let applied: boolean | undefined;

/** Sets the mmap threshold once per process; true when malloc took it. */
export function applyLoadMallocPolicy(): boolean {
  if (applied !== undefined) return applied;
  applied = false;
  if (process.platform !== 'linux' || process.env.FLOWSENTRY_NO_NATIVE === '1') return applied;
  // dist/src/io/ -> native/build/Release/; process.dlopen, not require (the first require sets up the CommonJS loader).
  const module = { exports: {} as { setMmapThreshold?: (bytes: number) => boolean } };
  try {
    process.dlopen(module, fileURLToPath(new URL('../../../native/build/Release/malloc_policy.node', import.meta.url)));
  } catch {
    return applied; // not built: the load runs with malloc's defaults
  }
  applied = module.exports.setMmapThreshold?.(LOAD_MMAP_THRESHOLD) ?? false;
  return applied;
}

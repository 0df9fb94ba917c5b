// The loader's malloc policy (glibc, through the optional addon native/malloc_policy.c): while a load runs, blocks of
// 8 KiB and more are mapped on their own (mallopt M_MMAP_THRESHOLD), so the zone segments of V8's concurrent compiles
// (8-32 KiB) are unmapped when a compile ends instead of staying resident in its worker thread's arena, which made a
// small load's peak RSS vary by 0.3-3.6 MB from run to run. After the last load the threshold goes back to glibc's
// initial 128 KiB (fixed: glibc has no call that restores its sliding threshold): mapping every 8 KiB block cost
// `train` 9% more CPU. See docs/decisions.md ("Loader: malloc's mmap threshold during a load") and docs/benchmarks.md
// (Loading, session 9). Without the addon (not built, not glibc, FLOWSENTRY_NO_NATIVE=1) malloc keeps its defaults.

import { loadNativeAddon } from '../util/native-addon.js';

/** During a load, blocks from this size up are mapped on their own: every V8 zone segment (8 KiB + a header). */
const LOAD_MMAP_THRESHOLD = 8192;
/** glibc's initial M_MMAP_THRESHOLD (DEFAULT_MMAP_THRESHOLD_MIN), set again when no load runs. */
const DEFAULT_MMAP_THRESHOLD = 128 * 1024;

interface MallocPolicyAddon {
  /** mallopt(M_MMAP_THRESHOLD, bytes); true when this C library took it. */
  setMmapThreshold(bytes: number): boolean;
}

let addon: MallocPolicyAddon | null | undefined;
let runningLoads = 0;

/** The addon, or null where it cannot act (loaded once). */
function mallocPolicyAddon(): MallocPolicyAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.platform !== 'linux' || process.env.FLOWSENTRY_NO_NATIVE === '1') return addon;
  const loaded = loadNativeAddon<Partial<MallocPolicyAddon>>('malloc_policy');
  if (!('exports' in loaded)) return addon; // not built: loads run with malloc's defaults
  const { setMmapThreshold } = loaded.exports;
  // The first call tells whether this C library takes the setting (glibc); the loads then set it again.
  if (setMmapThreshold && setMmapThreshold(DEFAULT_MMAP_THRESHOLD)) addon = { setMmapThreshold };
  return addon;
}

/** True when loads run with the lowered threshold here (the addon is built and malloc is glibc's). */
export function loadMallocPolicyApplies(): boolean {
  return mallocPolicyAddon() !== null;
}

/** Runs a load with the lowered mmap threshold; loads that overlap share it until the last one ends. */
export async function withLoadMallocPolicy<T>(load: () => Promise<T>): Promise<T> {
  const policy = mallocPolicyAddon();
  if (policy && runningLoads++ === 0) policy.setMmapThreshold(LOAD_MMAP_THRESHOLD);
  try {
    return await load();
  } finally {
    if (policy && --runningLoads === 0) policy.setMmapThreshold(DEFAULT_MMAP_THRESHOLD);
  }
}

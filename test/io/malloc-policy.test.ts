// The loader's malloc policy (src/io/malloc-policy.ts, native/malloc_policy.c), judged by the kernel's RSS: inside a
// load, 16 KB blocks freed between live ones go back to the system at once (each was mapped on its own: 20 of the
// 24 MB freed here); after it, glibc's default threshold again, whose frees leave the pages resident in the heap
// (-0.2 to -0.7 MB with glibc 2.36). Loads are unchanged by it (the loader's tests run with it applied).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadMallocPolicyApplies } from '../../src/io/malloc-policy.js';

const policyUrl = new URL('../../src/io/malloc-policy.js', import.meta.url).href;

interface Released {
  /** RSS given back by freeing 1500 of 3000 blocks of 16,000 bytes, inside a load and after it. */
  inside: number;
  after: number;
  freed: number;
  /** Overlapping loads: released inside the second one after the first had ended. */
  overlapped: number;
}

function releasedBytes(): Released {
  const script = `
    import { readFileSync } from 'node:fs';
    const { withLoadMallocPolicy } = await import(${JSON.stringify(policyUrl)});
    const rss = () => Number(/VmRSS:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    const pause = () => new Promise((r) => setTimeout(r, 20));
    const keep = [];
    async function release() {
      const kept = [], freed = [];
      for (let i = 0; i < 3000; i++) (i % 2 ? freed : kept).push(new Uint8Array(16000).fill(1));
      keep.push(kept);
      const before = rss();
      freed.length = 0;
      for (let i = 0; i < 3; i++) { globalThis.gc(); await pause(); }
      return before - rss();
    }
    const inside = await withLoadMallocPolicy(release);
    let endFirst;
    const first = withLoadMallocPolicy(() => new Promise((r) => { endFirst = r; }));
    const overlapped = await withLoadMallocPolicy(async () => { endFirst(); await first; return release(); });
    // Last: the heap's holes it leaves would serve the blocks of a later round.
    const after = await release();
    console.log(JSON.stringify({ inside, after, freed: 1500 * 16000, overlapped }));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Released;
}

const skip = loadMallocPolicyApplies() ? false : 'malloc policy not available here (addon not built, not glibc, or FLOWSENTRY_NO_NATIVE=1)';

describe('loader malloc policy', () => {
  it('gives freed 16 KB blocks back to the system during a load, and not after it', { skip }, () => {
    const { inside, after, freed, overlapped } = releasedBytes();
    assert.ok(inside >= 0.5 * freed, `inside a load: released ${inside} of ${freed} bytes`);
    assert.ok(after < 0.2 * freed, `after the load: released ${after} of ${freed} bytes`);
    assert.ok(overlapped >= 0.5 * freed, `a load overlapping one that ended: released ${overlapped} of ${freed} bytes`);
  });
});

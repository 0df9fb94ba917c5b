// The shared helper-thread plumbing of the models: request/reply helpers (util/helper-thread.ts) and lock-step helpers
// (util/lockstep.ts), against workers whose answers are known.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HelperThread } from '../../src/util/helper-thread.js';
import { LOCKSTEP_SLOTS, LockstepCaller, lockstepControl, startHelper } from '../../src/util/lockstep.js';

const echo = new URL('./helper-echo-worker.js', import.meta.url);

describe('HelperThread', () => {
  it('pairs each reply with its request, and an error reply rejects only its own request', async () => {
    const helper = new HelperThread<number | 'fail' | 'exit', number>(echo, null, 'test helper');
    try {
      const [a, b, failed, c] = await Promise.allSettled([helper.request(1), helper.request(20), helper.request('fail'), helper.request(300)]);
      assert.deepEqual([a, b, c].map((r) => (r.status === 'fulfilled' ? r.value : r.reason)), [2, 40, 600]);
      assert.equal(failed.status, 'rejected');
      assert.match(String((failed as PromiseRejectedResult).reason), /test helper failed: asked to fail/);
      assert.equal(await helper.request(4), 8);
    } finally {
      await helper.terminate();
    }
  });

  it('a helper that exits rejects the pending request and every later one, and reports the failure once', async () => {
    const failures: Error[] = [];
    const helper = new HelperThread<number | 'fail' | 'exit', number>(echo, null, 'test helper', (err) => failures.push(err));
    await assert.rejects(helper.request('exit'), /test helper exited with code 3/);
    await assert.rejects(helper.request(1), /test helper exited with code 3/);
    assert.equal(failures.length, 1);
  });
});

describe('lock-step helper', () => {
  it('answers each request in turn and quits', async () => {
    const control = lockstepControl(3);
    const worker = await startHelper(new URL('./lockstep-sum-worker.js', import.meta.url), control, 'sum helper');
    const caller = new LockstepCaller(control);
    try {
      for (let i = 0; i < 200; i++) {
        control[LOCKSTEP_SLOTS] = i;
        control[LOCKSTEP_SLOTS + 1] = 1000 * i;
        const seq = caller.request();
        assert.equal(caller.awaitAnswer(seq, 10_000), true);
        assert.equal(control[LOCKSTEP_SLOTS + 2], 1001 * i);
      }
      const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
      caller.quit();
      assert.equal(await exited, 0);
    } finally {
      await worker.terminate();
    }
  });

  it('startHelper rejects a helper that exits before it starts', async () => {
    await assert.rejects(startHelper(echo, 'exit at start', 'early helper'), /early helper exited before starting/);
  });
});

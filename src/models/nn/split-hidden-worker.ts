// Helper thread of split-hidden.ts: for each batch, computes its first-hidden-layer units' outputs, then (once the
// trainer has handed over the delta of the layer above, and maybe the next batch) their gradients and Adam step,
// publishing its parameters. Failures are flagged in the control block, which the trainer turns into an error.

import { parentPort, workerData } from 'node:worker_threads';
import { OffsetSparseRows } from './offset-sparse.js';
import { ANSWERED, awaitSlot, QUIT, REQUEST, signalSlot } from '../../util/lockstep.js';
import { BACKWARD, COUNT, FAILED, FORWARD_DONE, HANDED_OVER, RELOAD, STEPS, UnitSlice, type SplitShared } from './split-hidden.js';

const shared = workerData as (SplitShared & { b1: Float64Array }) | null;
if (shared && parentPort) {
  const { control, capacity, sizes, rows, mask, act, delta, params, dropout } = shared;
  const [cols, units, next] = sizes;
  const S = new OffsetSparseRows(shared.sparse);
  const initial = { W0: params.slice(0, cols * units), b0: params.slice(cols * units, (cols + 1) * units), W1: params.slice((cols + 1) * units), b1: shared.b1 };
  const slice = new UnitSlice(initial, shared.hidden, capacity, dropout, shared.adam, false, shared.moments);
  const idx = new Int32Array(capacity);
  const input = { sparse: S, idx, start: 0 };
  parentPort.postMessage('ready');
  let seen = 0;
  serve: while (true) {
    awaitSlot(control, REQUEST, seen + 1);
    if (Atomics.load(control, QUIT)) break;
    if (Atomics.load(control, RELOAD)) {
      // The trainer ran batches on one thread and split the layer again (SplitHidden.resume).
      slice.net.weights[0].set(params.subarray(0, cols * units));
      slice.net.biases[0].set(params.subarray(cols * units, (cols + 1) * units));
      slice.net.weights[1].set(params.subarray((cols + 1) * units));
      slice.adam.t = control[STEPS];
      Atomics.store(control, RELOAD, 0);
    }
    // A request, then each batch handed over with the delta of the one before, to the epoch's end.
    for (let more = true; more; ) {
      const seq = ++seen;
      try {
        const count = control[COUNT];
        idx.set(rows.subarray(0, count));
        const ownMask = slice.ws.mask[1];
        if (ownMask) ownMask.set(mask.subarray(0, count * units));
        slice.forward(input, count, dropout);
        act.set(slice.ws.act[1].subarray(0, count * units));
        signalSlot(control, FORWARD_DONE, seq);
        awaitSlot(control, BACKWARD, seq);
        if (Atomics.load(control, QUIT)) break serve;
        more = control[HANDED_OVER] === 1;
        slice.ws.delta[2].set(delta.subarray(0, count * next));
        slice.backward(input, count, shared.alpha[0]);
        const { weights, biases } = slice.net;
        params.set(weights[0]);
        params.set(biases[0], cols * units);
        params.set(weights[1], (cols + 1) * units);
      } catch {
        // The trainer waits on FORWARD_DONE or ANSWERED; QUIT ends either wait, FAILED turns it into an error.
        Atomics.store(control, FAILED, 1);
        Atomics.store(control, QUIT, 1);
        Atomics.notify(control, FORWARD_DONE);
        Atomics.notify(control, ANSWERED);
        break serve;
      }
      if (!more) signalSlot(control, ANSWERED, seq);
    }
  }
}

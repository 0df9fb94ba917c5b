// Lock-step hand-off between the calling thread and one helper worker over a shared Int32 control block, for
// hand-offs too frequent for messages (a wake-up through Atomics.wait / notify costs microseconds). The caller
// numbers its requests in REQUEST, the helper answers each with the same number in ANSWERED, and QUIT ends the
// helper. Slots from LOCKSTEP_SLOTS on are the user's (a request's arguments, more hand-off points).

import { Worker } from 'node:worker_threads';

export const REQUEST = 0;
export const ANSWERED = 1;
export const QUIT = 2;
export const LOCKSTEP_SLOTS = 3;

/** Atomics.load polls before sleeping in awaitSlot (a wake-up takes tens of microseconds). */
const SPIN = 20000;

/**
 * Starts a helper and waits for its first message, which it posts once set up; a helper that fails or exits first is
 * an error, and is terminated.
 */
export async function startHelper(moduleUrl: URL, workerData: unknown, name: string): Promise<Worker> {
  const worker = new Worker(moduleUrl, { workerData });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', () => reject(new Error(`${name} exited before starting`)));
    });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return worker;
}

/** A shared control block with the user's `extraSlots` after the lock-step ones. */
export function lockstepControl(extraSlots: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer((LOCKSTEP_SLOTS + extraSlots) * 4));
}

export function signalSlot(control: Int32Array, slot: number, value: number): void {
  Atomics.store(control, slot, value);
  Atomics.notify(control, slot);
}

/** The caller's side: request numbers, waits for answers, quit. */
export class LockstepCaller {
  private requests = 0;

  constructor(readonly control: Int32Array) {}

  /** Wakes the helper for a new request (its arguments already in the control block or shared arrays). */
  request(): number {
    signalSlot(this.control, REQUEST, ++this.requests);
    return this.requests;
  }

  /** Numbers a request the helper already holds (handed over with the one before): no wake-up. */
  handedOver(): number {
    return ++this.requests;
  }

  /** The number of the last request. */
  get last(): number {
    return this.requests;
  }

  /** Sleeps until the helper answered request `seq`; false when `patienceMs` passed first. */
  awaitAnswer(seq: number, patienceMs = Infinity): boolean {
    for (;;) {
      const answered = Atomics.load(this.control, ANSWERED);
      if (answered === seq) return true;
      if (Atomics.wait(this.control, ANSWERED, answered, patienceMs) === 'timed-out') return false;
    }
  }

  /** Ends the helper's loop (it sees QUIT at its next wake-up, which this gives it). */
  quit(): void {
    Atomics.store(this.control, QUIT, 1);
    Atomics.add(this.control, REQUEST, 1);
    Atomics.notify(this.control, REQUEST);
  }
}

/** The helper's loop: sleeps until a new request, runs `step(seq)`, answers it; returns once QUIT is set. */
export function serveLockstep(control: Int32Array, step: (seq: number) => void): void {
  let seen = 0;
  for (;;) {
    Atomics.wait(control, REQUEST, seen);
    if (Atomics.load(control, QUIT)) return;
    const seq = Atomics.load(control, REQUEST);
    if (seq === seen) continue;
    seen = seq;
    step(seq);
    signalSlot(control, ANSWERED, seq);
  }
}

/**
 * Waits until control[slot] === value or QUIT is set: polls, then sleeps in Atomics.wait with a 1 ms timeout (a
 * notify was seen to go missing now and then under Node 20, which would otherwise hang the caller). False when
 * `patienceMs` passed first (a worker that died without a word, e.g. out of memory, never answers).
 */
export function awaitSlot(control: Int32Array, slot: number, value: number, patienceMs = Infinity): boolean {
  for (let i = 0; i < SPIN && Atomics.load(control, slot) !== value; i++);
  const deadline = performance.now() + patienceMs;
  while (Atomics.load(control, slot) !== value && !Atomics.load(control, QUIT)) {
    if (performance.now() > deadline) return false;
    Atomics.wait(control, slot, Atomics.load(control, slot), 1);
  }
  return true;
}

// Plumbing of the two-thread pipelines (extract.ts: meter → CSV writer; decoder-thread.ts: decoder → meter): a
// single-producer single-consumer ring of slots in a SharedArrayBuffer (Atomics wait/notify), and the wait for a
// worker's final message. Kept apart from extract.ts so the decoder thread loads neither the CSV writer nor streams.

import type { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import type { CaptureSummary } from '../io/capture.js';
import type { PartialExtract } from './extract.js';

/** SlotRing control words. */
const enum Ring {
  R_CLOSED = 0,
  R_ABORTED = 1,
  R_COUNTS = 2,
}

export type WorkerReply =
  | { type: 'done'; result: PartialExtract }
  | { type: 'written' }
  | { type: 'decoded'; captures: CaptureSummary[] }
  | { type: 'error'; message: string; userError: boolean };

/** Atomics.waitAsync (ES2024; in Node since 16), which the ES2023 library types lack. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}

/** The other side of a SlotRing gave up; its own error message follows as a worker message. */
export class RingAborted extends Error {}

function ringHeaderBytes(slots: number): number {
  return 8 * Math.ceil(((2 + Ring.R_COUNTS + slots) * 4) / 8);
}

/**
 * Single-producer single-consumer ring of fixed-size slots in one SharedArrayBuffer, for a two-thread pipeline:
 * the producer fills one slot while the consumer works through the ones before it. Int32 control words, used
 * through Atomics: slot count and bytes per slot, CLOSED (no more slots), ABORTED (either side failed), and per slot
 * the item count of a full slot (0 = free). Waits are bounded (100 ms) and re-check the flags, so neither side hangs
 * on a partner that has given up.
 */
export class SlotRing {
  readonly slots: number;
  readonly slotBytes: number;
  private readonly ctrl: Int32Array;
  /** The slot being filled (producer) or read (consumer). */
  current = 0;

  private constructor(readonly buffer: SharedArrayBuffer) {
    const head = new Int32Array(buffer, 0, 2);
    this.slots = head[0]!;
    this.slotBytes = head[1]!;
    this.ctrl = new Int32Array(buffer, 8, Ring.R_COUNTS + this.slots);
  }

  /** `slotBytes` must be a multiple of 8. */
  static create(slots: number, slotBytes: number): SlotRing {
    const buffer = new SharedArrayBuffer(ringHeaderBytes(slots) + slots * slotBytes);
    new Int32Array(buffer, 0, 2).set([slots, slotBytes]);
    return new SlotRing(buffer);
  }

  static attach(buffer: SharedArrayBuffer): SlotRing {
    return new SlotRing(buffer);
  }

  /** Byte offset of slot i's payload in the buffer. */
  offset(i: number): number {
    return ringHeaderBytes(this.slots) + i * this.slotBytes;
  }

  /** Producer: publishes `count` (> 0) items in the current slot and moves on to the next once it is free. */
  put(count: number): number {
    const ctrl = this.ctrl;
    Atomics.store(ctrl, Ring.R_COUNTS + this.current, count);
    Atomics.notify(ctrl, Ring.R_COUNTS + this.current);
    this.current = (this.current + 1) % this.slots;
    for (let pending = Atomics.load(ctrl, Ring.R_COUNTS + this.current); pending !== 0; pending = Atomics.load(ctrl, Ring.R_COUNTS + this.current)) {
      if (Atomics.load(ctrl, Ring.R_ABORTED) !== 0) throw new RingAborted('the other thread of the pipeline failed');
      Atomics.wait(ctrl, Ring.R_COUNTS + this.current, pending, 100);
    }
    return this.current;
  }

  /**
   * Producer that must not block its thread (a thread blocked in Atomics.wait never sees its worker's 'exit' event):
   * publishes `count` (> 0) items in the current slot and moves on without waiting; the caller has made sure with
   * `room` that the next slot is free. Returns the new current slot.
   */
  publish(count: number): number {
    const ctrl = this.ctrl;
    Atomics.store(ctrl, Ring.R_COUNTS + this.current, count);
    Atomics.notify(ctrl, Ring.R_COUNTS + this.current);
    this.current = (this.current + 1) % this.slots;
    if (Atomics.load(ctrl, Ring.R_COUNTS + this.current) !== 0) throw new Error('SlotRing.publish: the next slot is still in use');
    return this.current;
  }

  /** Producer: true when the `ahead` slots after the current one are free. */
  hasRoom(ahead: number): boolean {
    for (let k = 1; k <= ahead; k++) if (Atomics.load(this.ctrl, Ring.R_COUNTS + ((this.current + k) % this.slots)) !== 0) return false;
    return true;
  }

  /**
   * Producer, without blocking the thread: resolves once the `ahead` slots after the current one are free; throws
   * RingAborted. The event loop runs meanwhile, so a worker's 'exit' event can abort the ring (see `ready`).
   */
  async room(ahead: number): Promise<void> {
    const ctrl = this.ctrl;
    if (Atomics.load(ctrl, Ring.R_ABORTED) !== 0) throw new RingAborted('the other thread of the pipeline failed');
    for (let k = 1; k <= ahead; k++) {
      const word = Ring.R_COUNTS + ((this.current + k) % this.slots);
      for (let pending = Atomics.load(ctrl, word); pending !== 0; pending = Atomics.load(ctrl, word)) {
        if (Atomics.load(ctrl, Ring.R_ABORTED) !== 0) throw new RingAborted('the other thread of the pipeline failed');
        const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(ctrl, word, pending, 100);
        if (wait.async) await wait.value;
      }
    }
  }

  /** Producer: no more slots. */
  close(): void {
    Atomics.store(this.ctrl, Ring.R_CLOSED, 1);
    for (let i = 0; i < this.slots; i++) Atomics.notify(this.ctrl, Ring.R_COUNTS + i);
  }

  /** Consumer: waits for the current slot; its item count, or 0 once the ring is closed and every slot is taken. */
  take(): number {
    const ctrl = this.ctrl;
    for (;;) {
      const count = Atomics.load(ctrl, Ring.R_COUNTS + this.current);
      if (count > 0) return count;
      if (Atomics.load(ctrl, Ring.R_ABORTED) !== 0) throw new RingAborted('the other thread of the pipeline failed');
      if (Atomics.load(ctrl, Ring.R_CLOSED) !== 0 && Atomics.load(ctrl, Ring.R_COUNTS + this.current) === 0) return 0;
      Atomics.wait(ctrl, Ring.R_COUNTS + this.current, 0, 100);
    }
  }

  /** True once the producer has closed the ring. */
  get closed(): boolean {
    return Atomics.load(this.ctrl, Ring.R_CLOSED) !== 0;
  }

  /**
   * Consumer, without blocking the thread: the current slot's item count, 0 once the ring is closed and every slot
   * is taken, or -1 when nothing is ready yet (then await `ready()`). Throws RingAborted.
   */
  poll(): number {
    const ctrl = this.ctrl;
    const count = Atomics.load(ctrl, Ring.R_COUNTS + this.current);
    if (count > 0) return count;
    if (Atomics.load(ctrl, Ring.R_ABORTED) !== 0) throw new RingAborted('the other thread of the pipeline failed');
    if (Atomics.load(ctrl, Ring.R_CLOSED) !== 0 && Atomics.load(ctrl, Ring.R_COUNTS + this.current) === 0) return 0;
    return -1;
  }

  /**
   * Consumer: resolves once the current slot may have changed (a put, close or abort), or after 100 ms. The thread's
   * event loop runs meanwhile, so a worker's 'exit' or 'error' event can abort the ring: a consumer waiting here
   * never hangs on a producer thread that died.
   */
  async ready(): Promise<void> {
    const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.ctrl, Ring.R_COUNTS + this.current, 0, 100);
    if (wait.async) await wait.value;
  }

  /** Consumer: frees the current slot and moves on. */
  release(): void {
    Atomics.store(this.ctrl, Ring.R_COUNTS + this.current, 0);
    Atomics.notify(this.ctrl, Ring.R_COUNTS + this.current);
    this.current = (this.current + 1) % this.slots;
  }

  /** Either side: gives up; the other side's next wait throws RingAborted. */
  abort(): void {
    Atomics.store(this.ctrl, Ring.R_ABORTED, 1);
    for (let i = 0; i < this.slots; i++) Atomics.notify(this.ctrl, Ring.R_COUNTS + i);
  }
}

/** Waits for a pipeline worker's final message (`type`), rejecting on its error message, error or early exit. */
export function workerResult<T extends WorkerReply>(worker: Worker, type: T['type'], name: string): Promise<T> {
  const result = new Promise<T>((resolve, reject) => {
    worker.on('message', (msg: WorkerReply) => {
      if (msg.type === type) resolve(msg as T);
      else if (msg.type === 'error') reject(msg.userError ? new UserError(msg.message) : new Error(msg.message));
    });
    worker.on('error', (err) => reject(new Error(`${name} thread failed: ${err.message}`)));
    worker.on('exit', (code) => reject(new Error(`${name} thread exited with code ${code} before it finished`)));
  });
  result.catch(() => undefined); // awaited later; the other side may fail first
  return result;
}

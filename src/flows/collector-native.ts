// The optional native receiver of the collector pipeline (native/udp_receiver.c, built by native/build.mjs): a thread
// that receives with recvmmsg(2) in batches and writes the pipeline's ring directly. Loaded once; when it is not
// built, cannot load or the OS is not Linux, `nativeReceiver()` says why and the pipeline receives through dgram.

import { loadNativeAddon } from '../util/native-addon.js';

export interface NativeReceiver {
  /** Binds a UDP socket (SO_RCVBUF as dgram's recvBufferSize). Throws like dgram: "bind EADDRINUSE 127.0.0.1:2055". */
  bind(address: string, port: number, ipv6: boolean, receiveBuffer: number): { fd: number; port: number; granted: number };
  /**
   * Starts the receiving thread, writing ring entries from `writeOffset` into views of the ring's shared memory;
   * `wake` is called (on this thread) when the decoder sleeps. Its ring drops so far are kept in ctrl[RING_DROPPED]
   * (collector-ring.ts) while it runs.
   */
  start(fd: number, ctrl: Int32Array, data: Uint8Array, writeOffset: number, wake: () => void): NativeReceiverHandle;
  /** Stops the thread, closes the socket and returns what it received. */
  stop(handle: NativeReceiverHandle): { writeOffset: number; datagrams: number; bytes: number; ringDropped: number };
  /** Closes a bound socket that was never started. */
  close(fd: number): void;
}

declare const handleBrand: unique symbol;
export type NativeReceiverHandle = { readonly [handleBrand]: true };

let loaded: { receiver: NativeReceiver } | { reason: string } | undefined;

/** The native receiver, or why there is none (not built, not Linux, failed to load). */
export function nativeReceiver(): { receiver: NativeReceiver } | { reason: string } {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { reason: `recvmmsg is Linux-only, this is ${process.platform}` });
  const addon = loadNativeAddon<NativeReceiver>('udp_receiver');
  loaded = 'exports' in addon ? { receiver: addon.exports } : addon;
  return loaded;
}

/**
 * The counters of one TUN (or packet socket) I/O loop: what was read,
 * written and dropped, and how the loop waited. Kept in a plain object of
 * one shape that the loop counts into directly (`drivers/tun/io.ts`).
 *
 * @module
 */

/**
 * Counters of one device's I/O loop.
 *
 * @example
 * ```ts
 * import type { IoStats } from "./io_stats.ts";
 * import assert from "node:assert/strict";
 * const s: Pick<IoStats, "rxPackets" | "rxBatches"> = { rxPackets: 640, rxBatches: 10 };
 * assert.equal(s.rxPackets / s.rxBatches, 64); // frames per wake-up
 * ```
 */
export interface IoStats {
  /** Frames read and handed to the stack. */
  rxPackets: number;
  /** Bytes read. */
  rxBytes: number;
  /** Batches that delivered at least one frame. */
  rxBatches: number;
  /** `poll()` waits (each a worker-thread round trip). */
  polls: number;
  /** Frames longer than the receive buffer (dropped). */
  rxTruncated: number;
  /** `read()` failures other than EAGAIN/EINTR. */
  rxErrors: number;
  /** Frames written. */
  txPackets: number;
  /** Bytes written. */
  txBytes: number;
  /** Frames the kernel refused (EAGAIN, EIO on a downed link, …) or sent after close. */
  txErrors: number;
  /** errno of the last failed `read()`/`write()`, 0 if none. */
  lastErrno: number;
  /** Exceptions thrown by `onBatch` (caught: the loop never dies of them). */
  callbackErrors: number;
  /** Super-segments received (virtio-net gso_type not NONE; offloads on). */
  rxGso: number;
  /** Partial checksums completed on receive (NEEDS_CSUM). */
  rxCsumCompleted: number;
  /** TCP (IPv4 and IPv6) partial checksums passed on partial (`PacketFlags.CHECKSUM_PARTIAL`). */
  rxCsumPartial: number;
  /**
   * Frames dropped for their virtio-net header: checksum offsets that do
   * not fit the frame or point into the IP header, a frame no longer than
   * its header, a GSO type the packet does not match (or UFO), or a UDP
   * super-datagram that cannot be cut.
   */
  rxBadVnet: number;
  /** UDP super-datagrams received (USO) and cut into datagrams here. */
  rxUso: number;
  /** Super-segments written for Linux to segment (TSO). */
  txGso: number;
  /** Frames dropped on transmit: too long for the link and not a TCP super-segment, or no headroom. */
  txNotSegmentable: number;
  /** Sleeps of the JS thread in `poll()` (`wait: "block"`). */
  blockWaits: number;
  /** Of those, the ones a frame ended: read and answered without a thread hop. */
  blockWakeups: number;
  /** Busy-polls of the JS thread after a frame (`spin`), before sleeping. */
  spins: number;
  /** Of those, the ones a frame ended. */
  spinWakeups: number;
  /** Calls of `onKeepWarm` during blocking sleeps (`keepWarm`). */
  keepWarms: number;
}

/** A fresh set of counters, all zero (every field from the start: one shape). */
export function newIoStats(): IoStats {
  return {
    rxPackets: 0,
    rxBytes: 0,
    rxBatches: 0,
    polls: 0,
    rxTruncated: 0,
    rxErrors: 0,
    txPackets: 0,
    txBytes: 0,
    txErrors: 0,
    lastErrno: 0,
    callbackErrors: 0,
    rxGso: 0,
    rxCsumCompleted: 0,
    rxCsumPartial: 0,
    rxBadVnet: 0,
    rxUso: 0,
    txGso: 0,
    txNotSegmentable: 0,
    blockWaits: 0,
    blockWakeups: 0,
    spins: 0,
    spinWakeups: 0,
    keepWarms: 0,
  };
}

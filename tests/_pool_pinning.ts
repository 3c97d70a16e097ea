/**
 * Following what a pool hands out, for the tests of what kept packets keep
 * alive (UDP queues, IP reassembly): a buffer carved from a shared slab or
 * arena keeps the whole backing store reachable, so a queue's charge must
 * be compared with the distinct stores its buffers hold, not their lengths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PacketPool } from "../stack/packet_pool.ts";
 * import { followAllocations, pinnedBytes } from "./_pool_pinning.ts";
 * const pool = new PacketPool();
 * const follow = followAllocations(pool);
 * const p = pool.allocKept(100);
 * follow.stop();
 * assert.deepEqual(follow.handedOut, [p]);
 * assert.ok(pinnedBytes([p]) >= p.buf.length);
 * p.release();
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "../stack/packet.ts";
import type { PacketPool } from "../stack/packet_pool.ts";

/** Bytes of the distinct backing stores `pkts` keep reachable. */
export function pinnedBytes(pkts: readonly PacketBuffer[]): number {
  let n = 0;
  for (const b of new Set(pkts.map((p) => p.buf.buffer))) n += b.byteLength;
  return n;
}

/**
 * Records every buffer `pool.alloc` and `pool.allocKept` hand out until
 * `stop()`, which puts the pool's own methods back.
 */
export function followAllocations(
  pool: PacketPool,
): { readonly handedOut: PacketBuffer[]; stop(): void } {
  const handedOut: PacketBuffer[] = [];
  const { alloc, allocKept } = pool;
  pool.alloc = (length: number, headroom?: number) => {
    const p = alloc.call(pool, length, headroom);
    handedOut.push(p);
    return p;
  };
  pool.allocKept = (length: number, headroom?: number) => {
    const p = allocKept.call(pool, length, headroom);
    handedOut.push(p);
    return p;
  };
  return {
    handedOut,
    stop() {
      pool.alloc = alloc;
      pool.allocKept = allocKept;
    },
  };
}

/**
 * Asserts that `kept` buffers are all charged (their lengths within
 * `charge`, what their holder counts) and keep alive no more than that:
 * the distinct stores behind them add up to at most their lengths.
 */
export function assertKeepsWhatItCharges(
  kept: readonly PacketBuffer[],
  charge: number,
  holder: string,
): void {
  const pinned = pinnedBytes(kept);
  const charged = kept.reduce((n, p) => n + p.buf.length, 0);
  assert.ok(charged <= charge, `${holder} charges ${charge}, its buffers are ${charged} bytes`);
  assert.ok(
    pinned <= charged,
    `the buffers keep ${pinned} bytes alive, ${holder} charges ${charge}`,
  );
}

/**
 * A packet pool for tests of code that shares and recycles buffers (TCP's
 * send queue): it fills every buffer it takes back with {@linkcode POISON}
 * (so a use after release reads 0xee) and fails on a buffer recycled twice
 * without an `alloc` or `allocKept` between.
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "../stack/packet.ts";
import { PacketPool } from "../stack/packet_pool.ts";

/** What a recycled buffer is filled with. */
export const POISON = 0xee;

/** A fresh pool that poisons what it takes back and fails on a double recycle. */
export function poisonedPool(): PacketPool {
  return poisonPool(new PacketPool());
}

/** Makes `pool` (a stack's, say) poison what it takes back and fail on a double recycle. */
export function poisonPool(pool: PacketPool): PacketPool {
  const free = new Set<PacketBuffer>();
  const recycle = pool.recycle.bind(pool);
  const alloc = pool.alloc.bind(pool);
  const allocKept = pool.allocKept.bind(pool);
  pool.recycle = (p: PacketBuffer) => {
    assert.ok(!free.has(p), "a buffer recycled twice");
    free.add(p);
    p.buf.fill(POISON);
    recycle(p);
  };
  pool.alloc = (length: number, headroom?: number) => {
    const p = alloc(length, headroom);
    free.delete(p);
    return p;
  };
  // The send queue takes medium chunks (MSS 2-16 KiB) from allocKept.
  pool.allocKept = (length: number, headroom?: number) => {
    const p = allocKept(length, headroom);
    free.delete(p);
    return p;
  };
  return pool;
}

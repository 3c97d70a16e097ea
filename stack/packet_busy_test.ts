/**
 * A busy packet pool moves its small buffers to a checksum arena (issue 9):
 * a receiving stack holds one buffer at a time, so slab growth alone never
 * reaches the 64 KiB an in-place checksum needs. Its own file: arenas are
 * limited per isolate, and a fresh module run starts with none in use.
 */
import assert from "node:assert/strict";
import { BUSY_POOL_ALLOCS, PacketPool, SMALL_BUFFER_SIZE } from "./packet_pool.ts";
import { CHECKSUM_BACKEND, checksumArena, sumBytesPlain, sumRange } from "./wire/checksum.ts";

/** Arenas exist where wasm SIMD does (`checksumArena` returns null otherwise). */
const ARENAS = CHECKSUM_BACKEND === "wasm-simd";

Deno.test("an idle PacketPool keeps its first 2 KiB slab", () => {
  const pool = new PacketPool();
  const first = pool.alloc(60);
  first.release();
  for (let i = 1; i < BUSY_POOL_ALLOCS - 1; i++) {
    const p = pool.alloc(1500);
    assert.equal(p, first); // one buffer, reused
    p.release();
  }
  assert.equal(first.buf.buffer.byteLength, SMALL_BUFFER_SIZE);
  assert.equal(pool.outstanding, 0);
});

Deno.test("a busy PacketPool moves to a 64 KiB arena and sums in place", () => {
  const pool = new PacketPool();
  const first = pool.alloc(60);
  first.release();
  let p = first;
  for (let i = 1; i <= BUSY_POOL_ALLOCS; i++) {
    p = pool.alloc(1500);
    p.release();
  }
  if (ARENAS) {
    assert.notEqual(p, first);
    assert.equal(p.buf.buffer.byteLength, 65536);
  } else assert.equal(p, first);
  // The move is once: the same buffer keeps coming back.
  const q = pool.alloc(1500);
  assert.equal(q, p);
  q.data.forEach((_, i) => q.data[i] = (i * 31 + 7) & 0xff);
  for (const [from, to] of [[0, 1500], [1, 1499], [3, 64], [20, 1500]] as const) {
    assert.equal(
      sumRange(q.buf, q.start + from, q.start + to, 9),
      sumBytesPlain(q.data.subarray(from, to), 9),
    );
  }
  q.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("a busy PacketPool drops small-slab buffers released after the move", () => {
  const pool = new PacketPool();
  const held = [pool.alloc(100), pool.alloc(100), pool.alloc(100)];
  for (let i = 3; i < BUSY_POOL_ALLOCS; i++) pool.alloc(1500).release();
  const slabs = new Set(held.map((h) => h.buf.buffer));
  for (const h of held) h.release();
  assert.equal(pool.outstanding, 0);
  const again = [pool.alloc(100), pool.alloc(100), pool.alloc(100), pool.alloc(100)];
  for (const a of again) {
    assert.equal(held.includes(a), !ARENAS);
    assert.equal(slabs.has(a.buf.buffer), !ARENAS);
  }
  // Each buffer distinct and whole: writes do not overlap.
  again.forEach((a, i) => a.data.fill(i + 1));
  again.forEach((a, i) => assert.ok(a.data.every((b) => b === i + 1)));
  for (const a of again) a.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("PacketPool.useArenaNow moves to the arena before the count, once", () => {
  const pool = new PacketPool();
  const first = pool.alloc(60);
  assert.equal(pool.useArenaNow(), ARENAS);
  const p = pool.alloc(1500);
  if (ARENAS) assert.equal(p.buf.buffer.byteLength, 65536);
  else assert.equal(p.buf.buffer.byteLength, SMALL_BUFFER_SIZE * 2);
  p.release();
  first.release();
  // The count's move finds it done: the same arena buffer keeps coming back.
  for (let i = 2; i <= BUSY_POOL_ALLOCS + 1; i++) {
    const q = pool.alloc(1500);
    assert.equal(q, p);
    q.release();
  }
  assert.equal(pool.useArenaNow(), ARENAS);
  assert.equal(pool.outstanding, 0);
});

// Last in this file: it keeps every arena of the isolate.
Deno.test("a busy PacketPool stays on its small slab while no arena is free", () => {
  const held: ArrayBuffer[] = [];
  for (let a = checksumArena(65536); a !== null && held.length < 64; a = checksumArena(65536)) {
    held.push(a);
  }
  assert.ok(held.length < 64); // arenas are bounded
  const pool = new PacketPool();
  const first = pool.alloc(60);
  first.release();
  for (let i = 1; i <= 3 * BUSY_POOL_ALLOCS; i++) {
    const p = pool.alloc(1500);
    assert.equal(p, first);
    p.data.fill(i & 0xff);
    assert.equal(sumRange(p.buf, p.start, p.end), sumBytesPlain(p.data));
    p.release();
  }
  assert.equal(first.buf.buffer.byteLength, SMALL_BUFFER_SIZE);
  assert.equal(held.length > 0, ARENAS);
});

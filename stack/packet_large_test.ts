/**
 * Large buffers with a store of their own (644d4e2): checksums over them
 * (the copy path into wasm memory, chunked past 64 KiB) equal the plain
 * sum and an arena's in-place sum at every offset and length; hold and
 * release in any order give a buffer back to its pool once; the free list
 * of large buffers stays bounded; past the pool's holds, hold() refuses.
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "./packet.ts";
import { LARGE_BUFFER_SIZE, PacketPool } from "./packet_pool.ts";
import { checksumArena, sumBytes, sumBytesPlain, sumRange } from "./wire/checksum.ts";
import { SeededRng } from "./rng.ts";

Deno.test("large buffers: sumRange and sumBytes equal the plain sum and an arena's, odd offsets and lengths past 64 KiB", () => {
  const rng = new SeededRng(11);
  const pool = new PacketPool();
  const pkt = pool.alloc(LARGE_BUFFER_SIZE - 100, 100);
  const buf = pkt.buf;
  rng.fill(buf);
  const arena = checksumArena(2 << 16);
  const inArena = arena === null ? null : new Uint8Array(arena, 0, LARGE_BUFFER_SIZE);
  inArena?.set(buf);
  const cases: [number, number][] = [
    [0, LARGE_BUFFER_SIZE],
    [1, LARGE_BUFFER_SIZE],
    [0, 65_536],
    [1, 65_537],
    [3, 65_539 + 100],
    [100 + 14 + 20, 100 + 14 + 20 + 8 + 65_507], // a UDP datagram of the largest size
  ];
  for (let i = 0; i < 300; i++) {
    const start = rng.range(0, LARGE_BUFFER_SIZE - 64);
    cases.push([start, rng.range(start + 64, LARGE_BUFFER_SIZE)]);
  }
  for (const [start, end] of cases) {
    const initial = (start * 7919) & 0xffff;
    const want = sumBytesPlain(buf.subarray(start, end), initial);
    assert.equal(sumRange(buf, start, end, initial), want, `[${start}, ${end})`);
    assert.equal(sumBytes(buf.subarray(start, end), initial), want, `[${start}, ${end})`);
    if (inArena !== null) assert.equal(sumRange(inArena, start, end, initial), want);
  }
  pkt.release();
  // Reused from the free list with other bytes: no stale sum anywhere.
  const again = pool.alloc(60_000);
  assert.equal(again, pkt);
  again.buf.fill(0xff, 0, 1000);
  assert.equal(sumRange(again.buf, 0, 60_000), sumBytesPlain(again.buf.subarray(0, 60_000)));
  again.release();
});

Deno.test("large buffers: hold and release in any order give the buffer back once", () => {
  const pool = new PacketPool();
  const orders: ((p: PacketBuffer) => void)[] = [
    (p) => { // the dispatcher releases first, then the holder
      p.release();
      p.release();
      p.releaseHeld();
      p.releaseHeld();
    },
    (p) => { // the holder gives it up inside dispatch, then the dispatcher's release
      p.releaseHeld();
      p.release();
      p.releaseHeld();
    },
  ];
  for (const order of orders) {
    const p = pool.alloc(50_000);
    assert.ok(p.hold());
    assert.ok(!p.hold(), "held once");
    order(p);
    assert.equal(pool.outstanding, 0);
    assert.equal(pool.held, 0);
    assert.ok(!p.hold(), "a released buffer cannot be held");
    // In the free list once: two allocations give two different buffers.
    const x = pool.alloc(50_000), y = pool.alloc(50_000);
    assert.notEqual(x, y);
    x.release();
    y.release();
  }
});

Deno.test("large buffers: the free list keeps at most maxFreeLarge; past maxFreeLarge / 2 holds, hold() refuses", () => {
  const pool = new PacketPool({ maxFreeLarge: 16 });
  const first = Array.from({ length: 100 }, () => pool.alloc(40_000));
  for (const p of first) p.release();
  const seen = new Set(first);
  const second = Array.from({ length: 100 }, () => pool.alloc(40_000));
  assert.equal(second.filter((p) => seen.has(p)).length, 16, "16 kept, 84 left to the GC");
  const held = second.filter((p) => p.hold());
  assert.equal(held.length, 8);
  assert.equal(pool.held, 8);
  for (const p of second) p.release();
  assert.equal(pool.outstanding, 8, "held ones stay out");
  for (const p of held) p.releaseHeld();
  assert.equal(pool.outstanding, 0);
  assert.equal(pool.held, 0);
});

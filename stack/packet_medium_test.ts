/**
 * Medium buffers (a jumbo frame, up to 16 KiB with headroom): carved from
 * checksum arenas like small ones, so a 9000-byte frame's checksum is summed
 * where it lies instead of copied into WebAssembly memory as a large
 * buffer's is; never held past receive, so none keeps its arena alive; their
 * free list is bounded; slabs grow from 64 KiB to 1 MiB without overlap.
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "./packet.ts";
import {
  LARGE_BUFFER_SIZE,
  MEDIUM_BUFFER_SIZE,
  PacketPool,
  SMALL_BUFFER_SIZE,
} from "./packet_pool.ts";
import { checksumArena, isChecksumArena, sumBytesPlain, sumRange } from "./wire/checksum.ts";
import { SeededRng } from "./rng.ts";

/** Whether this runtime has in-place arenas at all (wasm SIMD, and one to spare). */
const ARENAS = checksumArena(65536) !== null;

Deno.test("medium buffers: a jumbo frame's buffer is carved from a checksum arena, and sums over it equal the plain sum", () => {
  const pool = new PacketPool();
  const pkt = pool.alloc(9014);
  assert.equal(pkt.buf.length, MEDIUM_BUFFER_SIZE);
  if (ARENAS) assert.ok(isChecksumArena(pkt.buf.buffer), "summed in place");
  const rng = new SeededRng(5);
  rng.fill(pkt.buf);
  for (let i = 0; i < 300; i++) {
    const start = rng.range(0, MEDIUM_BUFFER_SIZE - 64);
    const end = rng.range(start + 64, MEDIUM_BUFFER_SIZE);
    const initial = rng.range(0, 0x10000);
    assert.equal(
      sumRange(pkt.buf, start, end, initial),
      sumBytesPlain(pkt.buf.subarray(start, end), initial),
      `[${start}, ${end})`,
    );
  }
  pkt.release();
});

Deno.test("medium buffers: never held (one would keep its whole arena alive); a large one still is", () => {
  const pool = new PacketPool();
  const medium = pool.alloc(9000);
  assert.equal(medium.hold(), false);
  assert.equal(pool.held, 0);
  medium.release();
  assert.ok(medium.released, "released at once, as any packet not held");
  const large = pool.alloc(40_000);
  assert.ok(large.hold());
  large.release(); // the owner's reference (the dispatcher's, after receive): the hold keeps it
  assert.equal(pool.outstanding, 1);
  large.releaseHeld();
  assert.equal(pool.outstanding, 0);
});

Deno.test("medium buffers: slabs grow from 64 KiB to 1 MiB, carved without overlap; the free list keeps at most maxFreeMedium", () => {
  const pool = new PacketPool({ maxFreeMedium: 8 });
  const ps: PacketBuffer[] = Array.from({ length: 188 }, () => pool.alloc(10_000)); // 4 + 8 + 16 + 32 + 64 + 64
  const slabs = [...new Set(ps.map((p) => p.buf.buffer))].map((b) => b.byteLength);
  assert.deepEqual(slabs, [65536, 131072, 262144, 524288, 1 << 20, 1 << 20]);
  ps.forEach((p, i) => p.buf.fill(i & 0xff));
  ps.forEach((p, i) => assert.ok(p.buf.every((b) => b === (i & 0xff)), `buffer ${i} overlapped`));
  for (const p of ps) p.release();
  assert.equal(pool.outstanding, 0);
  const again = Array.from({ length: 20 }, () => pool.alloc(10_000));
  assert.equal(again.filter((p) => ps.includes(p)).length, 8, "8 kept, the rest left to the GC");
  for (const p of again) p.release();
});

Deno.test("allocKept: a medium buffer in a store of its own, exactly its size, reused from its own free list; small and large ones are alloc's", () => {
  const pool = new PacketPool({ maxFreeMedium: 4 });
  const carved = pool.alloc(9000);
  const kept = Array.from({ length: 6 }, () => pool.allocKept(8948, 128));
  for (const p of kept) {
    assert.equal(p.buf.length, MEDIUM_BUFFER_SIZE);
    assert.equal(p.buf.byteOffset, 0);
    assert.equal(p.buf.buffer.byteLength, MEDIUM_BUFFER_SIZE, "nothing else in its store");
    assert.equal(p.start, 128);
    assert.equal(p.length, 8948);
  }
  assert.equal(new Set(kept.map((p) => p.buf.buffer)).size, 6);
  assert.ok(carved.buf.buffer.byteLength >= 65536, "alloc still carves from a slab");
  assert.equal(pool.outstanding, 7);
  carved.release();
  for (const p of kept) p.release();
  assert.equal(pool.outstanding, 0);
  // Each kind goes back to its own list (at most maxFreeMedium each).
  const again = Array.from({ length: 6 }, () => pool.allocKept(9000));
  assert.equal(again.filter((p) => kept.includes(p)).length, 4, "4 kept, the rest left to the GC");
  const carvedAgain = pool.alloc(9000);
  assert.equal(carvedAgain, carved);
  for (const p of [...again, carvedAgain]) p.release();
  // Other sizes: alloc's classes.
  const small = pool.allocKept(100);
  assert.equal(small.buf.length, SMALL_BUFFER_SIZE);
  const large = pool.allocKept(40_000);
  assert.equal(large.buf.buffer.byteLength, LARGE_BUFFER_SIZE);
  small.release();
  large.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("allocKept: arguments are checked before anything is handed out", () => {
  const pool = new PacketPool();
  for (const [length, headroom] of [[-1, 3000], [9000.5, 0], [9000, -1], [NaN, 0]]) {
    assert.throws(() => pool.allocKept(length!, headroom), RangeError);
  }
  assert.equal(pool.outstanding, 0);
});

import assert from "node:assert/strict";
import { PacketBuffer } from "./packet.ts";
import {
  DEFAULT_HEADROOM,
  LARGE_BUFFER_SIZE,
  MEDIUM_BUFFER_SIZE,
  PacketPool,
  SMALL_BUFFER_SIZE,
} from "./packet_pool.ts";
import { finishPartialChecksum, PacketFlags } from "./packet_flags.ts";
import { sumBytes } from "./wire/checksum.ts";

Deno.test("PacketPool.alloc() leaves the default headroom in front of the data", () => {
  const pool = new PacketPool();
  const p = pool.alloc(100);
  assert.equal(p.start, DEFAULT_HEADROOM);
  assert.equal(p.headroom, DEFAULT_HEADROOM);
  assert.equal(p.length, 100);
  assert.equal(p.end, DEFAULT_HEADROOM + 100);
  assert.equal(p.tailroom, SMALL_BUFFER_SIZE - DEFAULT_HEADROOM - 100);
  assert.equal(p.data.length, 100);
  assert.equal(p.data.byteOffset, p.buf.byteOffset + DEFAULT_HEADROOM);
  p.release();
});

Deno.test("PacketPool.alloc() honours an explicit headroom, including zero", () => {
  const pool = new PacketPool();
  const p = pool.alloc(10, 0);
  assert.equal(p.start, 0);
  assert.throws(() => p.prepend(1), RangeError);
  const q = pool.alloc(10, 300);
  assert.equal(q.headroom, 300);
  p.release();
  q.release();
});

Deno.test("PacketPool.alloc() rejects negative and fractional sizes", () => {
  const pool = new PacketPool();
  assert.throws(() => pool.alloc(-1), RangeError);
  assert.throws(() => pool.alloc(1.5), RangeError);
  assert.throws(() => pool.alloc(10, -4), RangeError);
  assert.throws(() => pool.alloc(NaN), RangeError);
  assert.equal(pool.outstanding, 0);
});

Deno.test("PacketBuffer.prepend() grows the front into headroom and refuses more", () => {
  const pool = new PacketPool();
  const p = pool.alloc(4, 16);
  p.data.set([1, 2, 3, 4]);
  const at = p.prepend(14);
  assert.equal(at, 2);
  assert.equal(p.start, 2);
  assert.equal(p.length, 18);
  assert.deepEqual([...p.data.subarray(14)], [1, 2, 3, 4]); // payload not moved
  assert.throws(() => p.prepend(3), /Cannot prepend 3 bytes: 2 of headroom/);
  assert.equal(p.prepend(2), 0);
  assert.throws(() => p.prepend(1), RangeError);
  p.release();
});

Deno.test("PacketBuffer.prepend() and append() reject negative and fractional counts", () => {
  const pool = new PacketPool();
  const p = pool.alloc(8);
  const { start, end } = p;
  for (const n of [-1, -200, 0.5, NaN]) {
    assert.throws(() => p.prepend(n), RangeError, `prepend(${n})`);
    assert.throws(() => p.append(n), RangeError, `append(${n})`);
    assert.throws(() => p.pull(n), RangeError, `pull(${n})`);
    assert.throws(() => p.truncate(n), RangeError, `truncate(${n})`);
  }
  assert.equal(p.start, start);
  assert.equal(p.end, end);
  p.release();
});

Deno.test("PacketBuffer.pull() strips from the front and stops at the end", () => {
  const pool = new PacketPool();
  const p = pool.copyOf(new Uint8Array([1, 2, 3, 4, 5]));
  p.pull(2);
  assert.deepEqual([...p.data], [3, 4, 5]);
  p.pull(0);
  assert.equal(p.length, 3);
  p.pull(100);
  assert.equal(p.length, 0);
  assert.equal(p.start, p.end);
  p.release();
});

Deno.test("PacketBuffer.append() grows the back into tailroom and refuses more", () => {
  const pool = new PacketPool();
  const p = pool.alloc(0, 0);
  const room = p.tailroom;
  assert.equal(room, SMALL_BUFFER_SIZE);
  assert.equal(p.append(10), 0);
  assert.equal(p.length, 10);
  assert.throws(() => p.append(room), /Cannot append \d+ bytes: \d+ of tailroom/);
  assert.equal(p.append(room - 10), 10);
  assert.equal(p.tailroom, 0);
  assert.throws(() => p.append(1), RangeError);
  p.release();
});

Deno.test("PacketBuffer.truncate() only ever shortens", () => {
  const pool = new PacketPool();
  const p = pool.copyOf(new Uint8Array([1, 2, 3, 4, 5, 6]));
  p.truncate(10);
  assert.equal(p.length, 6);
  p.truncate(4);
  assert.deepEqual([...p.data], [1, 2, 3, 4]);
  p.truncate(0);
  assert.equal(p.length, 0);
  assert.equal(p.end, p.start);
  p.release();
});

Deno.test("PacketBuffer.from() views from an absolute offset to the end of data", () => {
  const pool = new PacketPool();
  const p = pool.copyOf(new Uint8Array([9, 8, 7, 6]));
  assert.deepEqual([...p.from(p.start + 2)], [7, 6]);
  p.dv.setUint16(p.start, 0x1234); // big-endian through the DataView
  assert.deepEqual([...p.data.subarray(0, 2)], [0x12, 0x34]);
  p.release();
});

Deno.test("PacketBuffer.release() twice is a no-op", () => {
  const pool = new PacketPool();
  const p = pool.alloc(10);
  assert.equal(pool.outstanding, 1);
  assert.equal(p.released, false);
  p.release();
  p.release();
  assert.equal(p.released, true);
  assert.equal(pool.outstanding, 0);
  // Not pushed twice: two allocations get two different buffers.
  const a = pool.alloc(1);
  const b = pool.alloc(1);
  assert.notEqual(a, b);
  a.release();
  b.release();
});

Deno.test("PacketPool reuses released buffers and resets them", () => {
  const pool = new PacketPool();
  const p = pool.alloc(100);
  p.l2 = 1;
  p.l3 = 2;
  p.l4 = 3;
  p.ifindex = 4;
  p.timestamp = 5;
  p.linkType = 1;
  p.family = 4;
  p.proto = 6;
  p.srcAt = 7;
  p.dstAt = 8;
  p.etherType = 0x800;
  p.flags = PacketFlags.LINK_BROADCAST;
  p.ttl = 64;
  p.traceId = 9;
  p.errorKind = 3;
  p.errorInfo = 1492;
  p.prepend(20);
  p.release();
  const q = pool.alloc(30, 64);
  assert.equal(q, p);
  assert.equal(q.released, false);
  assert.equal(q.start, 64);
  assert.equal(q.length, 30);
  assert.deepEqual(
    [q.l2, q.l3, q.l4, q.ifindex, q.timestamp, q.linkType, q.family, q.proto, q.srcAt, q.dstAt],
    [-1, -1, -1, -1, 0, 0, 0, 0, -1, -1],
  );
  assert.deepEqual([q.etherType, q.flags, q.ttl, q.traceId], [
    0,
    0,
    0,
    0,
  ]);
  // Stale ICMP error metadata must not leak into the next packet.
  assert.deepEqual([q.errorKind, q.errorInfo], [0, 0]);
  q.release();
});

Deno.test("PacketPool has small, medium and large size classes, and exact sizes above", () => {
  const pool = new PacketPool();
  const small = pool.alloc(SMALL_BUFFER_SIZE - DEFAULT_HEADROOM);
  const medium = pool.alloc(SMALL_BUFFER_SIZE - DEFAULT_HEADROOM + 1);
  const large = pool.alloc(MEDIUM_BUFFER_SIZE - DEFAULT_HEADROOM + 1);
  const jumbo = pool.alloc(LARGE_BUFFER_SIZE);
  assert.equal(small.buf.length, SMALL_BUFFER_SIZE);
  assert.equal(medium.buf.length, MEDIUM_BUFFER_SIZE);
  assert.equal(large.buf.length, LARGE_BUFFER_SIZE);
  assert.equal(jumbo.buf.length, LARGE_BUFFER_SIZE + DEFAULT_HEADROOM);
  assert.equal(pool.outstanding, 4);
  small.release();
  medium.release();
  large.release();
  jumbo.release();
  assert.equal(pool.outstanding, 0);
  // Each class comes back to its own free list; oversized ones are not kept.
  assert.equal(pool.alloc(1), small);
  assert.equal(pool.alloc(9000), medium);
  assert.equal(pool.alloc(60_000), large);
  assert.notEqual(pool.alloc(LARGE_BUFFER_SIZE), jumbo);
});

Deno.test("PacketPool carves small buffers from shared slabs without overlap", () => {
  const pool = new PacketPool();
  const ps = Array.from({ length: 600 }, () => pool.alloc(SMALL_BUFFER_SIZE - DEFAULT_HEADROOM));
  ps.forEach((p, i) => p.data.fill(i & 0xff));
  ps.forEach((p, i) => assert.ok(p.data.every((b) => b === (i & 0xff))));
  const slabs = new Set(ps.map((p) => p.buf.buffer));
  assert.ok(slabs.size >= 2 && slabs.size < ps.length); // shared, and more than one
  for (const p of ps) p.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("PacketPool bounds its free lists", () => {
  const pool = new PacketPool({ maxFreeSmall: 2, maxFreeLarge: 1 });
  const ps = [pool.alloc(1), pool.alloc(1), pool.alloc(1)];
  for (const p of ps) p.release();
  const again = [pool.alloc(1), pool.alloc(1), pool.alloc(1)];
  assert.equal(again.filter((p) => ps.includes(p)).length, 2);
  for (const p of again) p.release();
  const ls = [pool.alloc(40_000), pool.alloc(40_000)];
  for (const p of ls) p.release();
  const l2 = [pool.alloc(40_000), pool.alloc(40_000)];
  assert.equal(l2.filter((p) => ls.includes(p)).length, 1);
  for (const p of l2) p.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("PacketPool counts outstanding buffers", () => {
  const pool = new PacketPool();
  const ps = Array.from({ length: 10 }, (_, i) => pool.alloc(i));
  assert.equal(pool.outstanding, 10);
  for (const p of ps.slice(0, 4)) p.release();
  assert.equal(pool.outstanding, 6);
  const c = pool.copyOf(new Uint8Array([1, 2, 3]));
  assert.equal(pool.outstanding, 7);
  assert.deepEqual([...c.data], [1, 2, 3]);
  c.release();
  for (const p of ps) p.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("PacketBuffer.wrap() views bytes without headroom or pool", () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const p = PacketBuffer.wrap(bytes);
  assert.equal(p.start, 0);
  assert.equal(p.length, 3);
  assert.equal(p.buf, bytes);
  p.release();
  p.release();
  assert.equal(p.released, true);
});

Deno.test("PacketBuffer mark and ct (hook state) start cleared and are cleared on reuse", () => {
  const pool = new PacketPool();
  const p = pool.alloc(10);
  assert.equal(p.mark, 0);
  assert.equal(p.ct, null);
  p.mark = 9;
  p.ct = { flow: 1 };
  p.release();
  const q = pool.alloc(10);
  assert.equal(q, p, "the pool hands the same buffer back");
  assert.equal(q.mark, 0);
  assert.equal(q.ct, null);
  q.release();
});

Deno.test("finishPartialChecksum() completes a UDP datagram's field (offset 6), a zero sum as 0xffff", () => {
  const dgram = new Uint8Array(12).fill(3);
  dgram[6] = 0x12, dgram[7] = 0x34; // the pseudo-header sum 0x1234
  const pkt = PacketBuffer.wrap(dgram);
  pkt.l4 = 0;
  pkt.proto = 17;
  pkt.flags = PacketFlags.CHECKSUM_PARTIAL;
  finishPartialChecksum(pkt);
  assert.equal(pkt.flags, 0);
  assert.equal(sumBytes(dgram, 0x1234), 0xffff);
  assert.equal(dgram[0], 3); // the ports untouched
});

Deno.test("PacketPool: holds are bounded per size class (half of each free list), so MTU-sized holds leave super-segments theirs", () => {
  const pool = new PacketPool({ maxFreeSmall: 8, maxFreeLarge: 4 });
  const small = Array.from({ length: 5 }, () => pool.alloc(1448));
  assert.deepEqual(small.map((p) => p.hold()), [true, true, true, true, false]);
  const large = Array.from({ length: 3 }, () => pool.alloc(40_000));
  assert.deepEqual(large.map((p) => p.hold()), [true, true, false]);
  assert.equal(pool.held, 6);
  for (const p of [...small, ...large]) {
    p.release();
    p.releaseHeld();
  }
  assert.equal(pool.held, 0);
  assert.equal(pool.outstanding, 0);
  assert.ok(small[0]!.hold() === false, "a released packet cannot be held");
});

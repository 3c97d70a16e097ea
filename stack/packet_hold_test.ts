/**
 * What a held large buffer keeps alive (`PacketBuffer.hold`): TCP's account
 * charges each held buffer its length, so the backing stores the held
 * buffers keep reachable must add up to no more than that. Large buffers
 * carved 31 to a 2 MiB arena broke it: one held buffer per arena kept
 * 36.7 MB alive against 4.2 MB charged (session 10's review).
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "./packet.ts";
import { LARGE_BUFFER_SIZE, PacketPool, SMALL_BUFFER_SIZE } from "./packet_pool.ts";

/** Bytes of the distinct backing stores `pkts` keep reachable. */
function pinnedBytes(pkts: readonly PacketBuffer[]): number {
  let n = 0;
  for (const b of new Set(pkts.map((p) => p.buf.buffer))) n += b.byteLength;
  return n;
}

Deno.test("PacketPool: a large buffer's store is its own, whether fresh or reused from the free list", () => {
  const pool = new PacketPool();
  const a = pool.alloc(40_000);
  const b = pool.alloc(40_000);
  assert.notEqual(a.buf.buffer, b.buf.buffer);
  for (const p of [a, b]) {
    assert.equal(p.buf.byteOffset, 0);
    assert.equal(p.buf.buffer.byteLength, LARGE_BUFFER_SIZE);
  }
  a.release();
  const again = pool.alloc(50_000);
  assert.equal(again, a); // reused, and still alone in its store
  assert.equal(again.buf.buffer.byteLength, LARGE_BUFFER_SIZE);
  again.release();
  b.release();
});

Deno.test("PacketPool: held large buffers scattered over many allocations pin exactly their own bytes", () => {
  const pool = new PacketPool();
  // 64 holds (the default pool's most), one in every 31 buffers: one per
  // 2 MiB arena when arenas were shared.
  const live = Array.from({ length: 31 * 64 }, () => pool.alloc(60_000));
  const held: PacketBuffer[] = [];
  for (let i = 0; i < live.length; i++) {
    if (i % 31 === 0) {
      assert.ok(live[i]!.hold());
      held.push(live[i]!);
    }
    live[i]!.release();
  }
  assert.equal(held.length, 64);
  assert.equal(pool.held, 64);
  const charged = held.reduce((s, p) => s + p.buf.length, 0);
  assert.equal(charged, 64 * LARGE_BUFFER_SIZE);
  assert.equal(pinnedBytes(held), charged);
  for (const p of held) p.releaseHeld();
  assert.equal(pool.held, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("PacketBuffer: a hold ended during receive() (the application read at once) keeps the buffer until the dispatcher's release", () => {
  // The receive queue holds a segment and the application, woken inside
  // receive(), reads it whole: the hold ends before the dispatcher lets go.
  // The buffer went back to the pool there, so an ACK sent in the same
  // receive() got it as a new packet, and the dispatcher's release then
  // freed that ACK while a link still carried it (the partitioned
  // simulation's switches saw its bytes overwritten).
  const pool = new PacketPool();
  const pkt = pool.alloc(1448);
  assert.ok(pkt.hold());
  pkt.releaseHeld(); // read inside receive()
  assert.equal(pool.outstanding, 1, "the dispatcher still has it");
  const ack = pool.alloc(52);
  assert.notEqual(ack, pkt);
  pkt.release(); // the dispatcher, after dispatch
  assert.equal(pool.outstanding, 1, "only the ACK is out");
  assert.ok(!ack.released);
  ack.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("PacketBuffer: a buffer shared by a send queue and held by a receiver goes back once, after both and its owner", () => {
  const pool = new PacketPool();
  for (const order of [["unshare", "releaseHeld"], ["releaseHeld", "unshare"]] as const) {
    const pkt = pool.alloc(1448);
    pkt.share(); // the sender's queue
    assert.ok(pkt.hold()); // the receiver (in memory it gets the same buffer)
    pkt.release(); // the receiver's dispatcher
    assert.ok(!pkt.reclaim(), "held: a retransmission must copy");
    pkt[order[0]]();
    assert.equal(pool.outstanding, 1);
    pkt[order[1]]();
    assert.equal(pool.outstanding, 0, order.join(" then "));
    assert.ok(pkt.released);
  }
});

Deno.test("PacketPool: held small buffers scattered one per slab keep alive at most what the pool's small holds can be charged", () => {
  // A hostile peer's segments held by TCP's receive queue, each among other
  // traffic the pool gets back: one held buffer per slab kept 1 MiB per
  // 2 KiB charged (4,096 holds could keep 4 GiB).
  const maxFreeSmall = 64; // 32 holds: 64 KiB, and a 1 MiB slab of slack
  const pool = new PacketPool({ maxFreeSmall });
  const budget = (maxFreeSmall / 2) * SMALL_BUFFER_SIZE + (1 << 20);
  const held: PacketBuffer[] = [];
  let refused = 0;
  for (let i = 0; i < 32; i++) {
    const burst = Array.from({ length: 600 }, () => pool.alloc(1448)); // a slab's worth and more
    const pkt = burst[599]!;
    if (pkt.hold()) held.push(pkt);
    else refused++;
    for (const p of burst) p.release();
  }
  assert.ok(refused > 0, "some holds were refused");
  assert.equal(pool.refusedHolds, refused);
  assert.ok(pool.heldSlabBytes <= budget, `${pool.heldSlabBytes} bytes of slabs held`);
  assert.ok(pinnedBytes(held) <= budget, `the held buffers keep ${pinnedBytes(held)} bytes alive`);
  assert.equal(pinnedBytes(held), pool.heldSlabBytes, "the pool's account is what they keep");
  for (const p of held) p.releaseHeld();
  assert.equal(pool.heldSlabBytes, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("PacketPool: held small buffers side by side in a slab are all held (a bulk transfer's segments)", () => {
  const pool = new PacketPool();
  const pkts = Array.from({ length: 2000 }, () => pool.alloc(1448));
  for (const p of pkts) assert.ok(p.hold());
  for (const p of pkts) p.release();
  assert.equal(pool.refusedHolds, 0);
  assert.ok(pool.heldSlabBytes <= pinnedBytes(pkts));
  for (const p of pkts) p.releaseHeld();
  assert.equal(pool.heldSlabBytes, 0);
});

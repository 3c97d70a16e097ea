import assert from "node:assert/strict";
import type { PacketBuffer } from "../../packet.ts";
import { PacketPool } from "../../packet_pool.ts";
import { CHUNK_HEADROOM, chunkBufferSize, chunkPayload, SendQueue } from "./send_queue.ts";
import { POISON, poisonedPool } from "../../../tests/_poisoned_pool.ts";

const MSS = 1400; // fills more than half a 2 KiB buffer: a segment per chunk

function bytes(n: number, from = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) * 7 + 3;
  return b;
}

function account() {
  return {
    total: 0,
    charge(delta: number) {
      this.total += delta;
    },
  };
}

function queue(pool: PacketPool, acct = account(), copies = { value: 0 }) {
  const q = new SendQueue(64 * 1024, pool, acct, copies);
  q.chunkSize = MSS;
  return { q, acct, copies };
}

/** The payload of a segment chunk (its data window) as the receiver sees it. */
function payload(pkt: PacketBuffer): Uint8Array {
  return pkt.buf.subarray(pkt.start, pkt.end);
}

/** What a driver handing the chunk to a receiving stack, which holds it, does. */
function deliverAndHold(pkt: PacketBuffer): void {
  assert.ok(pkt.hold());
  pkt.release(); // the dispatcher's release after receive(): still held
}

Deno.test("SendQueue: full chunks go out as themselves; a short tail is copied and keeps filling", () => {
  const pool = poisonedPool();
  const { q, acct } = queue(pool);
  const data = bytes(3500);
  assert.equal(q.write(data), 3500);
  assert.equal(q.chunks, 3);
  assert.equal(acct.total, q.allocated);
  assert.equal(q.allocated, 3 * chunkBufferSize(MSS));
  const seg = q.segmentChunk(1400, 1400)!;
  assert.ok(seg !== null);
  assert.equal(seg.start, CHUNK_HEADROOM);
  assert.deepEqual(payload(seg), data.subarray(1400, 2800));
  seg.release(); // sent
  assert.equal(q.segmentChunk(2800, 700), null, "the tail is not full: copied");
  assert.equal(q.segmentChunk(700, 1400), null, "not a chunk's bounds: copied");
  const out = new Uint8Array(1680);
  q.peek(1260, out, 0, 1680); // across three chunks
  assert.deepEqual(out, data.subarray(1260, 2940));
  assert.equal(q.write(bytes(980, 3500)), 980); // fills the tail, then a new chunk
  assert.equal(q.chunks, 4);
  const all = new Uint8Array(4480);
  q.peek(0, all, 0, 4480);
  assert.deepEqual(all.subarray(3500), bytes(980, 3500));
  q.discard(4480);
  assert.equal(q.chunks, 1, "the last chunk, never sent whole, stays for the next write");
  assert.equal(acct.total, chunkBufferSize(MSS));
  assert.ok(q.release()); // idle: given back
  assert.equal(q.chunks, 0);
  assert.equal(acct.total, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("SendQueue: a retransmission of a chunk the receiver holds is copied and counted", () => {
  const pool = poisonedPool();
  const { q, copies } = queue(pool);
  const data = bytes(2800);
  q.write(data);
  const seg = q.segmentChunk(0, 1400)!;
  deliverAndHold(seg); // the receiving stack keeps it, unread
  assert.equal(q.segmentChunk(0, 1400), null, "held elsewhere: not rewritten");
  assert.equal(copies.value, 1);
  const copy = new Uint8Array(1400);
  q.peek(0, copy, 0, 1400);
  assert.deepEqual(copy, data.subarray(0, 1400));
  seg.releaseHeld(); // read: the queue is the only one left
  const again = q.segmentChunk(0, 1400);
  assert.equal(again, seg, "back from everyone else: sent as itself again");
  again!.release();
  assert.equal(copies.value, 1);
  q.dispose();
  assert.equal(pool.outstanding, 0);
});

Deno.test("SendQueue: a chunk still in a driver's queue is not reclaimed", () => {
  const pool = poisonedPool();
  const { q, copies } = queue(pool);
  q.write(bytes(1400));
  const seg = q.segmentChunk(0, 1400)!; // in flight: the driver owns it
  assert.equal(q.segmentChunk(0, 1400), null);
  assert.equal(copies.value, 1);
  seg.release();
  q.discard(1400);
  assert.equal(pool.outstanding, 0);
});

Deno.test("SendQueue: an abort (dispose) while the receiver holds a chunk leaves its bytes to the receiver", () => {
  const pool = poisonedPool();
  const { q, acct } = queue(pool);
  const data = bytes(4200);
  q.write(data);
  const held = [q.segmentChunk(0, 1400)!, q.segmentChunk(1400, 1400)!];
  for (const p of held) deliverAndHold(p);
  q.dispose(); // RST or abort: the queue lets go of everything
  assert.equal(acct.total, 0, "the sender's account gives every chunk back once");
  assert.equal(pool.outstanding, 2, "the receiver's two stay");
  assert.deepEqual(payload(held[0]!), data.subarray(0, 1400), "not poisoned");
  assert.deepEqual(payload(held[1]!), data.subarray(1400, 2800));
  for (const p of held) p.releaseHeld();
  assert.equal(pool.outstanding, 0);
  assert.equal(held[0]!.buf[CHUNK_HEADROOM], POISON, "back in the pool");
});

Deno.test("SendQueue: acknowledged (closed) while the receiver holds a chunk: freed when it is read", () => {
  const pool = poisonedPool();
  const { q, acct } = queue(pool);
  const data = bytes(1400);
  q.write(data);
  const seg = q.segmentChunk(0, 1400)!;
  deliverAndHold(seg);
  q.discard(1400);
  q.dispose();
  assert.equal(acct.total, 0);
  assert.equal(pool.outstanding, 1);
  assert.deepEqual(payload(seg), data);
  seg.releaseHeld();
  assert.equal(pool.outstanding, 0);
});

Deno.test("SendQueue: SACK and partial ACKs split a held chunk by copying", () => {
  const pool = poisonedPool();
  const { q } = queue(pool);
  const data = bytes(4200);
  q.write(data);
  const segs = [q.segmentChunk(0, 1400)!, q.segmentChunk(1400, 1400)!, q.segmentChunk(2800, 1400)!];
  deliverAndHold(segs[1]!);
  segs[0]!.release(); // lost
  segs[2]!.release(); // delivered and read
  // A partial ACK into the first chunk: what is left of it goes by copy.
  q.discard(560);
  assert.equal(q.segmentChunk(0, 840), null);
  const rest = new Uint8Array(840);
  q.peek(0, rest, 0, 840);
  assert.deepEqual(rest, data.subarray(560, 1400));
  // A SACK hole inside the held chunk (a lowered MSS): copied from it.
  const hole = new Uint8Array(420);
  q.peek(840 + 280, hole, 0, 420);
  assert.deepEqual(hole, data.subarray(1680, 2100));
  assert.equal(q.segmentChunk(840, 1400), null, "held by the receiver");
  // The third chunk is back: sent as itself.
  const third = q.segmentChunk(2240, 1400);
  assert.equal(third, segs[2]);
  third!.release();
  q.discard(3640);
  assert.equal(pool.outstanding, 1, "the held chunk waits for its reader");
  assert.deepEqual(payload(segs[1]!), data.subarray(1400, 2800));
  segs[1]!.releaseHeld();
  assert.equal(pool.outstanding, 0);
});

Deno.test("SendQueue: a changed MSS copies the old chunks and sizes new ones anew", () => {
  const pool = poisonedPool();
  const { q } = queue(pool);
  q.write(bytes(2800));
  q.chunkSize = 1540; // a new MSS: chunks of 1400 are no segments of it
  assert.equal(q.segmentChunk(0, 1540), null);
  q.discard(2800);
  assert.equal(q.write(bytes(3080)), 3080);
  assert.ok(q.segmentChunk(0, 1540) !== null);
  q.dispose();
  // Small segments (a peer's MSS of 536) fill whole buffers instead.
  assert.equal(chunkPayload(536), 2048 - CHUNK_HEADROOM);
  assert.equal(pool.outstanding, 1, "the chunk sent is with its driver");
});

Deno.test("SendQueue: bounded by max in payload bytes and by about twice that in buffers", () => {
  const pool = poisonedPool();
  const q = new SendQueue(10_000, pool);
  q.chunkSize = 1448;
  let taken = 0;
  for (let i = 0; i < 20_000; i++) taken += q.write(bytes(1));
  assert.equal(taken, 10_000);
  assert.equal(q.free, 0);
  assert.ok(q.allocated <= 2 * 10_000 + 2048, `${q.allocated}`);
  assert.equal(q.sizeFor(q.length), q.allocated);
  assert.equal(q.roomWithin(q.allocated), 1448 - (10_000 % 1448));
  q.dispose();
  assert.equal(pool.outstanding, 0);
});

Deno.test("chunkBufferSize is the size the pool hands out for a chunk, for every class (2 KiB, 16 KiB, 64 KiB)", () => {
  const pool = new PacketPool();
  for (const mss of [536, 1448, 8948, 65_483]) {
    const pkt = pool.alloc(chunkPayload(mss), CHUNK_HEADROOM);
    assert.equal(chunkBufferSize(mss), pkt.buf.length, `mss ${mss}`);
    pkt.release();
  }
});

Deno.test("SendQueue: TSO chunks of a whole super-segment go out as themselves; restOfLargeChunk points at their ends; sealTail starts a new one", () => {
  const pool = poisonedPool();
  const acct = account();
  const q = new SendQueue(512 * 1024, pool, acct);
  const superSeg = 46 * MSS; // what output.ts's sendChunkSize gives (tsoMax 65536)
  q.chunkSize = superSeg;
  const data = bytes(2 * superSeg + 3000);
  assert.equal(q.write(data), data.length);
  assert.equal(q.chunks, 3);
  assert.equal(q.allocated, 3 * chunkBufferSize(superSeg));
  assert.equal(acct.total, q.allocated);
  // A super-segment cut short by the window: the next one stops at the chunk's end.
  assert.equal(q.restOfLargeChunk(0, MSS), superSeg);
  assert.equal(q.restOfLargeChunk(10 * MSS, MSS), superSeg - 10 * MSS);
  assert.equal(q.restOfLargeChunk(superSeg + 1, MSS), superSeg - 1);
  assert.equal(q.restOfLargeChunk(data.length, MSS), -1, "past the end");
  const seg = q.segmentChunk(superSeg, superSeg)!;
  assert.ok(seg !== null, "a whole super-segment chunk is handed out uncopied");
  assert.deepEqual(payload(seg), data.subarray(superSeg, 2 * superSeg));
  seg.release();
  assert.equal(q.segmentChunk(10 * MSS, superSeg), null, "across two chunks: copied");
  // Everything sent: the tail (3000 bytes) takes no more, the next write starts a chunk.
  q.sealTail();
  assert.equal(q.write(bytes(superSeg, data.length)), superSeg);
  assert.equal(q.chunks, 4);
  assert.equal(
    q.restOfLargeChunk(2 * superSeg, MSS),
    3000,
    "the sealed tail ends where it was sealed",
  );
  const next = q.segmentChunk(data.length, superSeg)!;
  assert.ok(next !== null, "the new chunk starts at the new data");
  assert.deepEqual(payload(next), bytes(superSeg, data.length));
  next.release();
  const all = new Uint8Array(data.length + superSeg);
  q.peek(0, all, 0, all.length);
  assert.deepEqual(all.subarray(0, data.length), data);
  q.discard(all.length);
  assert.equal(q.chunks, 0, "the last chunk was sent whole: given back with the rest");
  assert.equal(acct.total, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("SendQueue: restOfLargeChunk ignores chunks of one segment (and a small MSS's 2 KiB chunks)", () => {
  const pool = poisonedPool();
  const { q } = queue(pool);
  assert.equal(q.write(bytes(3 * MSS)), 3 * MSS);
  assert.equal(q.restOfLargeChunk(0, MSS), -1);
  const small = new SendQueue(16_384, pool);
  small.chunkSize = 536; // a chunk takes a whole 2 KiB buffer: 1,920 bytes, more than one MSS
  assert.equal(small.write(bytes(4000)), 4000);
  assert.equal(small.restOfLargeChunk(0, 536), -1);
  q.dispose();
  small.dispose();
  assert.equal(pool.outstanding, 0);
});

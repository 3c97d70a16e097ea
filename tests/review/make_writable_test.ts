/**
 * review15: `PacketBuffer.makeWritable` with TCP's send queue as the
 * sharer. The owner of a sent chunk (a driver, a hook, the receiving
 * stack) makes it writable; the queue then keeps a copy in its place: the
 * same bytes for a retransmission, the same charge, every buffer back to
 * its (poisoned) pool once acknowledged.
 */
import assert from "node:assert/strict";
import { PacketBuffer } from "../../stack/packet.ts";
import { CHUNK_HEADROOM, SendQueue } from "../../stack/protocols/tcp/send_queue.ts";
import { poisonedPool } from "../_poisoned_pool.ts";

const MSS = 1448;

function bytes(n: number, from: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i * 13) & 0xff);
}

function queueWithTwoChunks() {
  const pool = poisonedPool();
  let charged = 0;
  const q = new SendQueue(64 * 1024, pool, { charge: (n: number) => void (charged += n) } as never);
  q.chunkSize = MSS;
  const data = bytes(2 * MSS, 5);
  assert.equal(q.write(data), data.length);
  return { pool, q, data, charged: () => charged };
}

Deno.test("review15 makeWritable: a sent chunk's payload rewritten by its owner: the queue resends the bytes written, from a copy", () => {
  const { pool, q, data, charged } = queueWithTwoChunks();
  const before = charged();
  const seg = q.segmentChunk(MSS, MSS)!;
  assert.ok(seg !== null, "the second chunk goes out uncopied");
  seg.start -= 40; // headers in front
  assert.ok(seg.makeWritable(CHUNK_HEADROOM, seg.end), "payload shared: copied");
  seg.buf.fill(0x55, CHUNK_HEADROOM, seg.end); // the hook's rewrite
  assert.ok(!seg.shared, "the owner's alone now");
  seg.release(); // the driver is done: back to the pool, poisoned
  const again = q.segmentChunk(MSS, MSS);
  assert.ok(again !== null && again !== seg, "the queue's copy, reclaimed for the resend");
  assert.deepEqual(again.data, data.subarray(MSS));
  again.release();
  const peeked = new Uint8Array(2 * MSS);
  q.peek(0, peeked, 0, 2 * MSS);
  assert.deepEqual(peeked, data);
  assert.equal(charged(), before, "the copy is the same size: charge unchanged");
  q.discard(2 * MSS);
  q.release();
  assert.equal(pool.outstanding, 0, "every buffer back, none twice");
});

Deno.test("review15 makeWritable: headers in front of the queue's bytes need no copy; an unshared packet none either", () => {
  const { pool, q } = queueWithTwoChunks();
  const seg = q.segmentChunk(0, MSS)!;
  seg.start -= 40;
  assert.equal(seg.makeWritable(seg.start, CHUNK_HEADROOM), false, "headers only");
  assert.ok(seg.shared);
  seg.release();
  const own = pool.alloc(100);
  assert.equal(own.makeWritable(), false);
  own.release();
  q.discard(2 * MSS);
  q.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("review15 makeWritable: the owner writes after an ACK freed the queue's copy, and a held packet refuses", () => {
  const { pool, q } = queueWithTwoChunks();
  const seg = q.segmentChunk(0, MSS)!;
  assert.ok(seg.makeWritable());
  q.discard(2 * MSS); // acknowledged: the copy goes back at once
  assert.equal(pool.outstanding, 2, "the owner's segment and the queue's emptied last chunk");
  seg.buf.fill(1, seg.start, seg.end);
  seg.release();
  q.release();
  assert.equal(pool.outstanding, 0);
  const rx = pool.alloc(1500);
  assert.ok(rx.hold());
  assert.throws(() => rx.makeWritable(), /held/);
  rx.release();
  rx.releaseHeld();
  const lone = PacketBuffer.wrap(new Uint8Array(8));
  lone.share(); // no sharer to move
  assert.throws(() => lone.makeWritable(), /no sharer/);
});

Deno.test("review15 makeWritable: a connection aborted with a moved chunk in flight: the copy goes back at the abort, the owner's at its release, the account to zero", () => {
  const { pool, q, charged } = queueWithTwoChunks();
  const seg = q.segmentChunk(0, MSS)!;
  assert.ok(seg.makeWritable());
  const other = q.segmentChunk(MSS, MSS)!; // shared, not moved
  q.dispose(); // RST: the queue lets go of everything
  assert.equal(charged(), 0, "nothing charged after the abort");
  assert.equal(pool.outstanding, 2, "only the two segments in the driver's hands");
  seg.release();
  other.release();
  assert.equal(pool.outstanding, 0);
});

import assert from "node:assert/strict";
import { PacketPool } from "../../packet_pool.ts";
import { ReceiveQueue } from "./rcv_queue.ts";

/** A pooled packet whose data window is `n` bytes counting up from `first`. */
function segment(pool: PacketPool, n: number, first: number) {
  const pkt = pool.alloc(n);
  const d = pkt.data;
  for (let i = 0; i < n; i++) d[i] = (first + i) & 0xff;
  return pkt;
}

/**
 * What the dispatcher does with a received segment: `n` bytes counting up
 * from `first` in a pooled packet, appended to `q`, then released (the
 * queue keeps it if it holds it).
 */
function deliver(q: ReceiveQueue, pool: PacketPool, n: number, first: number): void {
  const pkt = segment(pool, n, first);
  q.append(pkt.data, pkt);
  pkt.release();
}

/** Reads everything readable in `chunk`-byte reads and checks the byte pattern from `first`. */
function drain(q: ReceiveQueue, chunk: number, first: number): number {
  const out = new Uint8Array(chunk);
  let got = 0;
  for (let n = q.read(out); n > 0; n = q.read(out)) {
    for (let i = 0; i < n; i++) assert.equal(out[i], (first + got + i) & 0xff, `byte ${got + i}`);
    got += n;
  }
  return got;
}

Deno.test("rcv_queue: a pooled super-segment is held, read without a ring copy, and goes back to its pool", () => {
  const pool = new PacketPool();
  const q = new ReceiveQueue(1 << 20);
  const a = segment(pool, 60_000, 0);
  assert.equal(q.append(a.data, a), 60_000);
  a.release(); // the dispatcher's release after receive(): the queue still holds it
  assert.equal(pool.outstanding, 1);
  assert.equal(q.held, 1);
  assert.equal(q.ring.allocated, 0, "the ring got no bytes (no store until its first write)");
  assert.equal(q.length, 60_000);
  assert.equal(q.free, (1 << 20) - 60_000);
  assert.equal(drain(q, 7_000, 0), 60_000); // reads cut the segment anywhere
  assert.equal(pool.outstanding, 0);
  assert.ok(q.empty);
});

Deno.test("rcv_queue: small, unpooled or foreign segments are copied; order holds across held packets and the ring", () => {
  const pool = new PacketPool();
  const q = new ReceiveQueue(1 << 20);
  let at = 0;
  deliver(q, pool, 40_000, at);
  at += 40_000;
  // Less than half its (64 KiB) buffer: copied into the ring.
  deliver(q, pool, 32_000, at);
  at += 32_000;
  deliver(q, pool, 50_000, at); // the ring holds bytes: copied behind them, in order
  at += 50_000;
  assert.equal(q.held, 1);
  assert.equal(pool.outstanding, 1);
  // A view that is not the packet's buffer is copied, whatever its size.
  const other = segment(pool, 40_000, at);
  const copy = other.data.slice();
  q.append(copy, other);
  other.release();
  at += 40_000;
  assert.equal(q.held, 1);
  assert.equal(drain(q, 65_536, 0), at);
  assert.equal(pool.outstanding, 0);
});

Deno.test("rcv_queue: out-of-order data written ahead keeps its offset past held packets", () => {
  const pool = new PacketPool();
  const q = new ReceiveQueue(1 << 20);
  deliver(q, pool, 40_000, 0);
  // Bytes 50,000..59,999 arrive before 40,000..49,999.
  const ahead = segment(pool, 10_000, 50_000);
  assert.ok(q.writeAt(10_000, ahead.data));
  ahead.release();
  const gap = segment(pool, 10_000, 40_000);
  assert.equal(q.write(gap.data), 10_000);
  gap.release();
  q.commit(10_000);
  assert.equal(q.length, 60_000);
  const one = new Uint8Array(1);
  q.peek(45_000, one, 0, 1);
  assert.equal(one[0], 45_000 & 0xff);
  q.peek(39_999, one, 0, 1);
  assert.equal(one[0], 39_999 & 0xff);
  assert.equal(drain(q, 32_768, 0), 60_000);
  assert.equal(pool.outstanding, 0);
});

Deno.test("rcv_queue: held buffers stay within max in real bytes; the rest is copied; clear() gives them back", () => {
  const pool = new PacketPool();
  const max = 190_000; // room for two 66 KiB buffers whole, not three
  const q = new ReceiveQueue(max);
  let at = 0;
  for (let i = 0; i < 3; i++) {
    const p = segment(pool, 60_000, at);
    assert.equal(q.append(p.data, p), 60_000);
    p.release();
    at += 60_000;
  }
  assert.equal(q.held, 2, "a third 66 KiB buffer would pass 190,000 real bytes");
  assert.ok(q.allocated <= 2 * max);
  assert.equal(q.free, max - 180_000);
  const p = segment(pool, 60_000, at);
  assert.equal(q.append(p.data, p), max - 180_000, "bounded by free");
  p.release();
  assert.equal(q.free, 0);
  assert.equal(q.writeAt(0, new Uint8Array(1)), false);
  // discard() and a partial read move through held packets too.
  q.discard(70_000);
  assert.equal(pool.outstanding, 1);
  assert.equal(q.length, max - 70_000);
  q.clear();
  assert.equal(pool.outstanding, 0);
  assert.equal(q.held, 0);
});

Deno.test("rcv_queue: lowerMax never goes below held and ring bytes", () => {
  const pool = new PacketPool();
  const q = new ReceiveQueue(1 << 20);
  deliver(q, pool, 60_000, 0);
  q.writeAt(1_000, new Uint8Array(500));
  q.lowerMax(10);
  assert.equal(q.max, 61_500);
  q.clear();
  assert.equal(pool.outstanding, 0);
});

Deno.test("rcv_queue: the pool's hold budget (half its large free list) bounds held packets across queues", () => {
  const pool = new PacketPool({ maxFreeLarge: 4 });
  const q1 = new ReceiveQueue(1 << 20);
  const q2 = new ReceiveQueue(1 << 20);
  deliver(q1, pool, 40_000, 0);
  deliver(q2, pool, 40_000, 0);
  deliver(q2, pool, 40_000, 40_000); // budget used up: copied
  assert.equal(pool.held, 2);
  assert.equal(q1.held + q2.held, 2);
  assert.equal(drain(q2, 65_536, 0), 80_000);
  assert.equal(pool.held, 1);
  q1.clear();
  assert.equal(pool.held, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("rcv_queue: copyHeld() moves held bytes in front of the ring's and gives the packets back", () => {
  const pool = new PacketPool();
  const q = new ReceiveQueue(1 << 20);
  deliver(q, pool, 40_000, 0);
  deliver(q, pool, 1_000, 40_000); // small: copied into the ring behind the held packet
  q.writeAt(500, new Uint8Array(100)); // ahead of a hole
  q.copyHeld();
  assert.equal(pool.outstanding, 0);
  assert.equal(q.held, 0);
  assert.equal(drain(q, 4_096, 0), 41_000);
});

Deno.test("rcv_queue: MTU-sized segments are held when they fill half their 2 KiB buffer, and read across many in one copy each", () => {
  const pool = new PacketPool();
  const q = new ReceiveQueue(1 << 20);
  let at = 0;
  for (let i = 0; i < 100; i++) {
    const p = segment(pool, 1448, at);
    assert.equal(p.buf.length, 2048);
    assert.equal(q.append(p.data, p), 1448);
    p.release();
    at += 1448;
  }
  assert.equal(q.held, 100);
  assert.equal(q.allocated, 100 * 2048, "the buffers counted whole");
  assert.equal(q.ring.allocated, 0, "nothing copied");
  // Under half its buffer: copied (and everything after it, behind it in the ring).
  deliver(q, pool, 1000, at);
  at += 1000;
  deliver(q, pool, 1448, at);
  at += 1448;
  assert.equal(q.held, 100);
  assert.equal(drain(q, 100_000, 0), at);
  assert.equal(pool.outstanding, 0);
  assert.equal(pool.held, 0);
});

Deno.test("rcv_queue: held buffers stay within max in real bytes; past it MTU-sized segments are copied", () => {
  const pool = new PacketPool();
  const q = new ReceiveQueue(64 * 1024);
  let at = 0;
  while (q.free >= 1448) {
    deliver(q, pool, 1448, at);
    at += 1448;
  }
  assert.equal(q.held, 32, "32 buffers of 2 KiB fill 64 KiB");
  assert.ok(q.ring.length > 0, "the rest was copied");
  assert.ok(q.allocated <= 2 * q.max);
  assert.equal(drain(q, 3_000, 0), at);
  assert.equal(pool.outstanding, 0);
});

Deno.test("rcv_queue: held packets read while more arrive (compacted in place) keep their order; after release() it holds again", () => {
  const pool = new PacketPool();
  const q = new ReceiveQueue(1 << 20);
  const out = new Uint8Array(1448 * 70 + 100); // reads that end inside a packet
  let sent = 0, got = 0;
  const check = (n: number) => {
    for (let i = 0; i < n; i++) assert.equal(out[i], (got + i) & 0xff, `byte ${got + i}`);
    got += n;
  };
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 150; i++) {
      deliver(q, pool, 1448, sent);
      sent += 1448;
    }
    assert.equal(q.ring.allocated, 0, "every segment held, none copied");
    check(q.read(out)); // past 64 read slots and half the held: compacted
    check(q.read(out));
    assert.equal(q.held, q.length === 0 ? 0 : Math.ceil(q.length / 1448));
  }
  assert.equal(drain(q, 10_000, got), sent - got);
  assert.equal(pool.outstanding, 0);
  q.release(); // idle: the held-packet arrays go with the store
  deliver(q, pool, 1448, 0);
  assert.equal(q.held, 1, "held again after release()");
  assert.equal(drain(q, 1000, 0), 1448);
  assert.equal(pool.outstanding, 0);
});

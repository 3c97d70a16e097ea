import assert from "node:assert/strict";
import { PacketPool } from "../../packet_pool.ts";
import { mayHold, TcpMemory } from "./memory.ts";
import { ReceiveQueue } from "./rcv_queue.ts";
import type { TcpEndpoint } from "./endpoint.ts";

const KIB = 1024;

/** What mayHold reads of an endpoint: its receive queue and the stack's account. */
function endpoint(q: ReceiveQueue, mem: TcpMemory, connections: number): TcpEndpoint {
  return { rcvBuf: q, core: { mem, connectionCount: connections } } as unknown as TcpEndpoint;
}

Deno.test("ReceiveQueue charges a held buffer whole, once, and gives it back when read, cleared, copied or disposed", () => {
  const pool = new PacketPool();
  const mem = new TcpMemory(
    { memoryLow: 1 << 30, memoryPressure: 1 << 30, memoryHigh: 1 << 30 },
    null,
  );
  const q = new ReceiveQueue(1 << 20, mem);
  const store = mem.allocated; // the ring's initial store
  const a = pool.alloc(40_000);
  q.append(a.data, a);
  a.release();
  assert.equal(q.held, 1);
  assert.equal(mem.allocated, store + a.buf.length, "the whole buffer, not the payload");
  assert.equal(q.read(new Uint8Array(10_000)), 10_000);
  assert.equal(mem.allocated, store + a.buf.length, "still held until read whole");
  q.read(new Uint8Array(30_000));
  assert.equal(mem.allocated, store);
  // clear()
  const b = pool.alloc(40_000);
  q.append(b.data, b);
  b.release();
  q.clear();
  assert.equal(mem.allocated, store);
  // copyHeld(): the copy is the ring's store, charged as it grows
  const c = pool.alloc(40_000);
  q.append(c.data, c);
  c.release();
  q.copyHeld();
  assert.equal(q.held, 0);
  assert.equal(mem.allocated, q.ring.allocated);
  // dispose(): held packets and the store
  const d = pool.alloc(40_000);
  q.discard(40_000);
  q.append(d.data, d);
  d.release();
  q.dispose();
  assert.equal(mem.allocated, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("mayHold: a hold is a growth of the connection's real bytes by the whole buffer, under mayGrow's rules", () => {
  const pool = new PacketPool();
  const limits = { memoryLow: 256 * KIB, memoryPressure: 384 * KIB, memoryHigh: 512 * KIB };
  const mem = new TcpMemory(limits, null);
  const q = new ReceiveQueue(1 << 20, mem);
  const pkt = pool.alloc(60_000);
  const size = pkt.buf.length;
  assert.ok(mayHold(endpoint(q, mem, 1), pkt), "below memoryLow");
  // Others hold so much that the buffer would pass memoryHigh: copy instead.
  mem.charge(512 * KIB - q.allocated - size + 1);
  assert.ok(!mayHold(endpoint(q, mem, 1), pkt), "past memoryHigh");
  mem.charge(-2);
  assert.ok(mem.underPressure);
  assert.ok(mayHold(endpoint(q, mem, 1), pkt), "under pressure, within one connection's share");
  // Under pressure with 8 connections the share is 64 KiB: a 64.5 KiB buffer is too much.
  assert.ok(!mayHold(endpoint(q, mem, 8), pkt), "past the fair share");
  pkt.release();
});

Deno.test("mayHold: a buffer this stack's own send queue keeps (a connection to ourselves) is copied, so the account counts it once", () => {
  const mem = new TcpMemory(
    { memoryLow: 1 << 30, memoryPressure: 1 << 30, memoryHigh: 1 << 30 },
    null,
  );
  const q = new ReceiveQueue(1 << 20, mem);
  const own = new PacketPool();
  const other = new PacketPool();
  const ep = {
    rcvBuf: q,
    core: { mem, connectionCount: 1, ctx: { pool: own } },
  } as unknown as TcpEndpoint;
  const mine = own.alloc(1448);
  mine.share(); // our send queue's chunk, delivered to ourselves
  assert.ok(!mayHold(ep, mine), "charged to this account by the send queue already");
  const theirs = other.alloc(1448);
  theirs.share(); // another stack's send queue (in memory): its own account
  assert.ok(mayHold(ep, theirs));
  assert.ok(mayHold(ep, own.alloc(1448)), "not shared: held as before");
});

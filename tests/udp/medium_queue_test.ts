/**
 * A UDP socket's queue and jumbo datagrams (MTU 9000): each queued copy is a
 * medium pooled buffer (16 KiB), and the room checked before the copy is
 * that buffer's size, the same the queue then charges. The check charged a
 * large buffer's 66,048 bytes while the queue charged 16,384, so a queue
 * with room for three refused the second (session 12).
 */
import assert from "node:assert/strict";
import type { ArpService, UdpService } from "../../mod.ts";
import { ip, mac, makeHost } from "../_harness.ts";
import { MEDIUM_BUFFER_SIZE, type PacketBuffer } from "../../stack/packet.ts";
import { udpFrame } from "./_udp.ts";

Deno.test("udp receive queue of 8000-byte datagrams: each charged a medium buffer, the room check agrees", async () => {
  const h = makeHost({ mtu: 9000 });
  h.stack.service<ArpService>("arp.resolve")!.addStatic(
    h.iface.index,
    ip("10.0.0.9"),
    mac("02:00:00:00:00:fe"),
  );
  const limit = 3 * MEDIUM_BUFFER_SIZE + 100;
  const conn = h.stack.listenDatagram({ transport: "udp", port: 9, receiveQueueBytes: limit });
  const frame = (i: number) =>
    udpFrame({
      srcMac: "02:00:00:00:00:fe",
      dstMac: "02:00:00:00:00:01",
      src: "10.0.0.9",
      dst: "10.0.0.1",
      srcPort: 4000,
      dstPort: 9,
      data: new Uint8Array(8000).fill(i),
    });
  for (let i = 0; i < 4; i++) h.inject(frame(i));
  const socket = h.stack.service<UdpService>("udp.sockets")!.list()[0]!;
  assert.equal(socket.queued, 3, "three 16 KiB buffers fit 3 x 16 KiB + 100");
  assert.equal(conn.dropped, 1);
  for (let i = 0; i < 3; i++) {
    const [data] = await conn.receive();
    assert.equal(data.length, 8000);
    assert.equal(data[0], i);
  }
  conn[Symbol.dispose]();
  h.finish();
});

Deno.test("udp receive queues of jumbo datagrams keep alive no more than they charge, among other jumbo frames", () => {
  const h = makeHost({ mtu: 9000 });
  const N = 24, FILLER = 63;
  const conns = Array.from(
    { length: N },
    (_, i) => h.stack.listenDatagram({ transport: "udp", port: 100 + i }),
  );
  const pool = h.stack.pool;
  // Every buffer the pool hands out (the queued copies among them).
  const allocated: PacketBuffer[] = [];
  const { alloc, allocKept } = pool;
  pool.alloc = (length: number, headroom?: number) => {
    const p = alloc.call(pool, length, headroom);
    allocated.push(p);
    return p;
  };
  pool.allocKept = (length: number, headroom?: number) => {
    const p = allocKept.call(pool, length, headroom);
    allocated.push(p);
    return p;
  };
  const fillers: PacketBuffer[] = [];
  try {
    for (let i = 0; i < N; i++) {
      // Jumbo frames received around each datagram: its copy lands beside them.
      for (let k = 0; k < FILLER; k++) fillers.push(alloc.call(pool, 9014));
      h.inject(udpFrame({
        srcMac: "02:00:00:00:00:fe",
        dstMac: "02:00:00:00:00:01",
        src: "10.0.0.9",
        dst: "10.0.0.1",
        srcPort: 4000,
        dstPort: 100 + i,
        data: new Uint8Array(8000).fill(i),
      }));
    }
  } finally {
    pool.alloc = alloc;
    pool.allocKept = allocKept;
  }
  for (const f of fillers) f.release();
  const queued = allocated.filter((p) => !p.released);
  assert.equal(queued.length, N, "one copy queued per socket");
  const sockets = h.stack.service<UdpService>("udp.sockets")!.list();
  const charged = sockets.reduce((s, i) => s + i.queuedMemory, 0);
  let pinned = 0;
  for (const b of new Set(queued.map((p) => p.buf.buffer))) pinned += b.byteLength;
  assert.equal(charged, N * MEDIUM_BUFFER_SIZE);
  assert.ok(
    pinned <= charged,
    `the copies keep ${pinned} bytes alive, the queues charge ${charged}`,
  );
  for (const c of conns) c[Symbol.dispose]();
  assert.equal(pool.outstanding, 0);
  h.finish();
});

/**
 * Issue 16, finding 2 (UDP part): receive queues count the pooled buffer
 * each datagram holds (2 KiB for an empty one), not its payload length, per
 * socket (`receiveQueueBytes`) and for the whole stack (`totalQueueBytes`),
 * with counters. Before: 1,000 unread sockets × 256 empty datagrams held
 * 256,000 buffers (500 MiB).
 *
 * @module
 */
import assert from "node:assert/strict";
import { ethernetFrame, ipv4Packet, makeHost, withEnv } from "../_harness.ts";
import { SMALL_BUFFER_SIZE } from "../../stack/packet_pool.ts";
import type { UdpService } from "../../mod.ts";
import { kernelOf } from "../../stack/stack.ts";

/** An empty UDP datagram 10.0.0.9:7 → 10.0.0.1:`port` (checksum 0: none, RFC 768). */
function emptyDatagram(port: number): Uint8Array {
  const udp = new Uint8Array(8);
  const dv = new DataView(udp.buffer);
  dv.setUint16(0, 7);
  dv.setUint16(2, port);
  dv.setUint16(4, 8);
  return ethernetFrame(
    { dst: "02:00:00:00:00:01", src: "02:00:00:00:00:09", etherType: 0x0800 },
    ipv4Packet({ src: "10.0.0.9", dst: "10.0.0.1", protocol: 17 }, udp),
  );
}

Deno.test("udp receive queue of one socket counts each empty datagram as its 2 KiB buffer", async () => {
  await withEnv(makeHost({ mac: "02:00:00:00:00:01" }), (h) => {
    const conn = h.stack.listenDatagram({ transport: "udp", port: 5000 });
    const frame = emptyDatagram(5000);
    for (let i = 0; i < 256; i++) kernelOf(h.stack).inject(h.iface.index, frame);
    const [row] = h.stack.service<UdpService>("udp.sockets")!.list();
    // The default 212,992 bytes (rmem_default) hold 104 buffers, not 256 datagrams.
    assert.equal(row!.queued, Math.floor(212_992 / SMALL_BUFFER_SIZE));
    assert.equal(row!.queuedMemory, row!.queued * SMALL_BUFFER_SIZE);
    assert.equal(h.counter("udp.rx.rcvbuf_full"), 256 - row!.queued);
    conn.close();
  });
});

Deno.test("udp 1,000 unread sockets × 256 empty datagrams stay within totalQueueBytes (16 MiB)", async () => {
  await withEnv(makeHost({ mac: "02:00:00:00:00:01" }), (h) => {
    const conns = [];
    for (let p = 0; p < 1000; p++) {
      conns.push(h.stack.listenDatagram({ transport: "udp", port: 10_000 + p }));
    }
    const start = h.stack.pool.outstanding;
    for (let p = 0; p < 1000; p++) {
      const frame = emptyDatagram(10_000 + p);
      for (let i = 0; i < 256; i++) kernelOf(h.stack).inject(h.iface.index, frame);
    }
    const held = (h.stack.pool.outstanding - start) * SMALL_BUFFER_SIZE;
    const cap = 16 * 1024 * 1024;
    assert.ok(held <= cap, `${held} bytes held`);
    assert.equal(held, cap); // filled to the cap, no further
    const rows = h.stack.service<UdpService>("udp.sockets")!.list();
    assert.equal(rows.reduce((n, r) => n + r.queuedMemory, 0), held);
    assert.ok(h.counter("udp.rx.queue_total_full") > 0);
    assert.equal(
      h.counter("udp.rx.datagrams") + h.counter("udp.rx.queue_total_full") +
        h.counter("udp.rx.rcvbuf_full"),
      256_000,
    );
    // Closing a socket gives its share back to the others.
    const delivered = h.counter("udp.rx.datagrams");
    kernelOf(h.stack).inject(h.iface.index, emptyDatagram(10_999));
    assert.equal(h.counter("udp.rx.datagrams"), delivered);
    conns[0]!.close();
    kernelOf(h.stack).inject(h.iface.index, emptyDatagram(10_999));
    assert.equal(h.counter("udp.rx.datagrams"), delivered + 1);
    for (const c of conns.slice(1)) c.close();
    assert.equal(h.stack.pool.outstanding, start);
  });
});

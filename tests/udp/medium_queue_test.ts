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
import { MEDIUM_BUFFER_SIZE } from "../../stack/packet_pool.ts";
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

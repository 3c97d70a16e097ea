/**
 * A TCP super-segment a TUN driver with offloads received (gso_size kept in
 * `PacketBuffer.gsoSize`) and the stack forwards: to a link without TSO it
 * is cut into segments (Linux's skb_gso_segment), to a link with TSO it
 * goes on whole; never "fragmentation needed" back to a sender whose
 * segments fit (that blackholed the flow).
 */
import assert from "node:assert/strict";
import {
  createStack,
  type DriverPort,
  type LinkDriver,
  LINKTYPE_RAW,
  type PacketBuffer,
} from "../../mod.ts";
import { pseudoHeaderSumV4, pseudoHeaderSumV6, sumRange } from "../../stack/wire/checksum.ts";

class FakeLink implements LinkDriver {
  readonly linkType = LINKTYPE_RAW;
  port!: DriverPort;
  readonly sent: { bytes: Uint8Array; gsoSize: number }[] = [];
  constructor(readonly mtu: number, readonly tsoMaxSize = 0) {}
  attach(port: DriverPort): void {
    this.port = port;
  }
  transmit(pkt: PacketBuffer): void {
    this.sent.push({ bytes: pkt.data.slice(), gsoSize: pkt.gsoSize });
    pkt.release();
  }
  close(): void {}
}

/** An IPv4/TCP super-segment 10.0.1.2 → 10.0.2.2 with DF, PSH|ACK and `payload` bytes. */
function superSegment(port: DriverPort, payload: number, gsoSize: number): PacketBuffer {
  const total = 20 + 32 + payload;
  const pkt = port.pool.alloc(total);
  const o = pkt.start;
  const b = pkt.buf;
  b.set([0x45, 0, total >>> 8, total & 0xff, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0], o);
  b.set([10, 0, 1, 2, 10, 0, 2, 2], o + 12);
  pkt.dv.setUint16(o + 10, ~sumRange(b, o, o + 20) & 0xffff);
  const t = o + 20;
  pkt.dv.setUint16(t, 40000);
  pkt.dv.setUint16(t + 2, 80);
  pkt.dv.setUint32(t + 4, 0xfffffff0); // the sequence number wraps inside
  b[t + 12] = 8 << 4; // 32 bytes: timestamps
  b[t + 13] = 0x18; // PSH|ACK
  b.set([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], t + 20);
  for (let i = 0; i < payload; i++) b[t + 32 + i] = i & 0xff;
  const pseudo = pseudoHeaderSumV4(0x0a000102, 0x0a000202, 6, 32 + payload);
  pkt.dv.setUint16(t + 16, ~sumRange(b, t, t + 32 + payload, pseudo) & 0xffff);
  pkt.gsoSize = gsoSize;
  return pkt;
}

function router(out: FakeLink) {
  const r = createStack({ seed: 1 });
  const inLink = new FakeLink(1500, 65536);
  r.addInterface({ name: "tun0", driver: inLink, addresses: ["10.0.1.1/24"] });
  r.addInterface({ name: "eth1", driver: out, addresses: ["10.0.2.1/24"] });
  r.setForwarding(true);
  return { r, inLink };
}

Deno.test("forwarding a TUN super-segment to a link without TSO cuts it into valid segments", () => {
  const out = new FakeLink(1500);
  const { r, inLink } = router(out);
  try {
    inLink.port.receive(superSegment(inLink.port, 4000, 1448));
    assert.deepEqual(inLink.sent.length, 0, "no ICMP back to the sender");
    assert.deepEqual(out.sent.map((s) => s.bytes.length), [1500, 1500, 1156]);
    let payload: number[] = [];
    out.sent.forEach(({ bytes: f, gsoSize }, i) => {
      const dv = new DataView(f.buffer);
      assert.equal(gsoSize, 0);
      assert.equal(dv.getUint16(2), f.length, "total length");
      assert.equal(sumRange(f, 0, 20), 0xffff, "IPv4 header checksum");
      assert.equal(f[8], 63, "TTL decremented");
      assert.equal(dv.getUint32(24), (0xfffffff0 + i * 1448) >>> 0, "sequence number");
      assert.equal(f[33], i === 2 ? 0x18 : 0x10, "PSH on the last only");
      const pseudo = pseudoHeaderSumV4(0x0a000102, 0x0a000202, 6, f.length - 20);
      assert.equal(sumRange(f, 20, f.length, pseudo), 0xffff, "TCP checksum");
      payload = payload.concat([...f.subarray(52)]);
    });
    assert.deepEqual(payload, Array.from({ length: 4000 }, (_, i) => i & 0xff));
    assert.equal(r.pool.outstanding, 0);
  } finally {
    r.close();
  }
});

Deno.test("forwarding a TUN super-segment to a link with TSO sends it whole with its gso size", () => {
  const out = new FakeLink(1500, 65536);
  const { r, inLink } = router(out);
  try {
    inLink.port.receive(superSegment(inLink.port, 4000, 1448));
    assert.deepEqual(out.sent.map((s) => [s.bytes.length, s.gsoSize]), [[4052, 1448]]);
  } finally {
    r.close();
  }
});

Deno.test("forwarding an IPv6 TUN super-segment to a link without TSO cuts it (no Packet Too Big)", () => {
  const out = new FakeLink(1500);
  const r = createStack({ seed: 1 });
  const inLink = new FakeLink(1500, 65536);
  r.addInterface({ name: "tun0", driver: inLink, addresses: ["2001:db8:1::1/64"] });
  r.addInterface({ name: "eth1", driver: out, addresses: ["2001:db8:2::1/64"] });
  r.setForwarding(true);
  try {
    const payload = 3000;
    const pkt = inLink.port.pool.alloc(40 + 20 + payload);
    const o = pkt.start;
    const b = pkt.buf;
    b[o] = 0x60;
    pkt.dv.setUint16(o + 4, 20 + payload);
    b[o + 6] = 6;
    b[o + 7] = 64;
    const src = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    const dst = [0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    b.set(src, o + 8);
    b.set(dst, o + 24);
    b[o + 40 + 12] = 5 << 4;
    b[o + 40 + 13] = 0x19; // FIN|PSH|ACK
    pkt.gsoSize = 1440;
    inLink.port.receive(pkt);
    assert.equal(inLink.sent.length, 0, "no Packet Too Big back to the sender");
    assert.deepEqual(out.sent.map((s) => s.bytes.length), [1500, 1500, 180]);
    out.sent.forEach(({ bytes: f }, i) => {
      const dv = new DataView(f.buffer);
      assert.equal(dv.getUint16(4), f.length - 40, "payload length");
      assert.equal(f[7], 63, "hop limit decremented");
      assert.equal(f[53], i === 2 ? 0x19 : 0x10, "FIN and PSH on the last only");
      const pseudo = pseudoHeaderSumV6(f.subarray(8, 24), f.subarray(24, 40), 6, f.length - 40);
      assert.equal(sumRange(f, 40, f.length, pseudo), 0xffff, "TCP checksum");
    });
    assert.equal(r.pool.outstanding, 0);
  } finally {
    r.close();
  }
});

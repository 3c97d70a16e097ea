/**
 * A TCP/IPv4 segment whose checksum Linux left partial (`NEEDS_CSUM`) goes
 * to TCP partial (`PacketFlags.CHECKSUM_PARTIAL`, nobody sums it); whatever
 * else reads the bytes sees them completed first: a capture, a prerouting
 * hook, forwarding.
 */
import assert from "node:assert/strict";
import {
  ACCEPT,
  createStack,
  type DriverPort,
  type LinkDriver,
  LINKTYPE_RAW,
  type PacketBuffer,
  type ProtocolPlugin,
} from "../../mod.ts";
import { PacketFlags } from "../../stack/packet_flags.ts";
import { finishChecksum, pseudoHeaderSumV4, sumBytes } from "../../stack/wire/checksum.ts";
import { CaptureTap, parseCapture, PcapngWriter } from "../pcapfile/mod.ts";
import { partialTcpV4, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_NEEDS_CSUM } from "./vnet.ts";

const SRC = 0x0a000001; // 10.0.0.1 (Linux)
const HOST = 0x0a000002; // 10.0.0.2 (the stack)

/** An IPv4/TCP packet (header checksum valid) from 10.0.0.1 to `dst`, TCP checksum partial. */
function partialSegment(dst: number, tcpFlags: number, payload: number): Uint8Array {
  const tcpLen = 20 + payload;
  const b = new Uint8Array(20 + tcpLen);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, 0x45);
  dv.setUint16(2, b.length);
  dv.setUint16(6, 0x4000); // DF
  dv.setUint8(8, 64);
  dv.setUint8(9, 6);
  dv.setUint32(12, SRC);
  dv.setUint32(16, dst);
  dv.setUint16(10, finishChecksum(sumBytes(b.subarray(0, 20))));
  dv.setUint16(20, 40000); // source port
  dv.setUint16(22, 80);
  dv.setUint32(24, 1000); // seq
  dv.setUint8(32, 5 << 4);
  dv.setUint8(33, tcpFlags);
  dv.setUint16(34, 65535);
  for (let i = 40; i < b.length; i++) b[i] = (i * 31) & 0xff;
  // As Linux leaves it: the folded pseudo-header sum, not complemented.
  dv.setUint16(36, ~finishChecksum(pseudoHeaderSumV4(SRC, dst, 6, tcpLen)) & 0xffff);
  return b;
}

/** Whether the TCP checksum of the IPv4 packet `ip` is complete and right. */
function tcpChecksumValid(ip: Uint8Array): boolean {
  const dv = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
  const len = dv.getUint16(2) - 20;
  return sumBytes(
    ip.subarray(20, 20 + len),
    pseudoHeaderSumV4(dv.getUint32(12), dv.getUint32(16), 6, len),
  ) === 0xffff;
}

class FakeLink implements LinkDriver {
  readonly linkType = LINKTYPE_RAW;
  readonly mtu = 1500;
  port!: DriverPort;
  sent: Uint8Array[] = [];
  attach(port: DriverPort): void {
    this.port = port;
  }
  transmit(pkt: PacketBuffer): void {
    this.sent.push(pkt.data.slice());
    pkt.release();
  }
  close(): void {}
}

/** Hands `ip` to the stack as the TUN driver does a partial TCP/IPv4 super-segment. */
function deliverPartial(port: DriverPort, ip: Uint8Array): void {
  const pkt = port.pool.alloc(ip.length);
  pkt.buf.set(ip, pkt.start);
  pkt.end = pkt.start + ip.length;
  pkt.l4 = pkt.start + 20;
  pkt.flags = PacketFlags.CHECKSUM_VERIFIED | PacketFlags.CHECKSUM_PARTIAL;
  port.receive(pkt);
}

Deno.test("partialTcpV4(): only a TCP/IPv4 checksum Linux left partial at the TCP checksum field stays partial", () => {
  const seg = partialSegment(HOST, 0x10, 100);
  const frame = (flags: number, csumStart: number, csumOffset: number, ip = seg) => {
    const b = new Uint8Array(10 + ip.length);
    b.set([flags, 1, 0, 0, 0, 0, csumStart, 0, csumOffset, 0]);
    b.set(ip, 10);
    return b;
  };
  const NEEDS = VIRTIO_NET_HDR_F_NEEDS_CSUM, VALID = VIRTIO_NET_HDR_F_DATA_VALID;
  const cases: [string, Uint8Array, number][] = [
    ["TCPv4 partial", frame(NEEDS, 20, 16), 30],
    ["DATA_VALID only (complete already)", frame(VALID, 0, 0), -1],
    ["NEEDS_CSUM with DATA_VALID", frame(NEEDS | VALID, 20, 16), -1],
    ["csum_offset not the TCP checksum", frame(NEEDS, 20, 6), -1],
    ["csum_start not the TCP header", frame(NEEDS, 24, 12), -1],
  ];
  const udp = seg.slice();
  udp[9] = 17;
  cases.push(["UDP", frame(NEEDS, 20, 6, udp), -1]);
  const fragment = seg.slice();
  fragment[6] = 0x20; // MF
  cases.push(["a fragment", frame(NEEDS, 20, 16, fragment), -1]);
  const v6 = seg.slice();
  v6[0] = 0x65;
  cases.push(["not IPv4", frame(NEEDS, 20, 16, v6), -1]);
  for (const [name, b, want] of cases) {
    assert.equal(partialTcpV4(b, 0, 10, 10, b.length), want, name);
  }
});

Deno.test("CHECKSUM_PARTIAL: TCP takes the segment as it is, and a capture records it completed", () => {
  const link = new FakeLink();
  const writer = new PcapngWriter({ interfaces: [{ linkType: LINKTYPE_RAW, name: "tun0" }] });
  const stack = createStack({ seed: 5 });
  stack.addInterface({
    driver: new CaptureTap(link, { writer, epochOffset: 0 }),
    addresses: ["10.0.0.2/24"],
  });
  const listener = stack.listen({ port: 80 });
  const syn = partialSegment(HOST, 0x02, 0);
  assert.equal(tcpChecksumValid(syn), false, "partial as sent");
  deliverPartial(link.port, syn);
  stack.poll();
  assert.equal(stack.counters.value("tcp.rx.bad_checksum"), 0);
  assert.equal(link.sent.length, 1, "the SYN was answered");
  assert.equal(link.sent[0]![33]! & 0x12, 0x12, "SYN-ACK");
  const recorded = parseCapture(writer.bytes()).records.map((r) => r.data);
  assert.equal(recorded.length, 2);
  assert.ok(recorded.every(tcpChecksumValid), "both directions complete in the capture");
  listener.close();
  stack.close();
});

Deno.test("CHECKSUM_PARTIAL: a prerouting hook sees the checksum completed", () => {
  const link = new FakeLink();
  const seen: boolean[] = [];
  const hook: ProtocolPlugin = {
    manifest: {
      name: "peek",
      version: "1.0.0",
      api: "^1.0.0",
      description: "checks the TCP checksum it sees",
      layer: "middlebox",
      binds: [],
      hooks: [{ point: "prerouting" }],
      counters: [],
    },
    setup() {
      return {
        hook(_point, pkt) {
          seen.push(
            tcpChecksumValid(pkt.buf.subarray(pkt.l3, pkt.end)) &&
              (pkt.flags & PacketFlags.CHECKSUM_PARTIAL) === 0,
          );
          return ACCEPT;
        },
      };
    },
  };
  const stack = createStack({ seed: 5, extraPlugins: [hook] });
  stack.addInterface({ driver: link, addresses: ["10.0.0.2/24"] });
  deliverPartial(link.port, partialSegment(HOST, 0x10, 300));
  assert.deepEqual(seen, [true]);
  stack.close();
});

Deno.test("CHECKSUM_PARTIAL: a forwarded segment leaves with its checksum completed", () => {
  const inside = new FakeLink();
  const outside = new FakeLink();
  const stack = createStack({ seed: 5 });
  stack.addInterface({ driver: inside, addresses: ["10.0.0.2/24"] });
  stack.addInterface({ driver: outside, addresses: ["10.0.1.2/24"] });
  stack.setForwarding(true);
  deliverPartial(inside.port, partialSegment(0x0a000105, 0x10, 300)); // to 10.0.1.5
  stack.poll();
  assert.equal(outside.sent.length, 1);
  assert.equal(tcpChecksumValid(outside.sent[0]!), true);
  stack.close();
});

Deno.test("CHECKSUM_PARTIAL: an ICMP Parameter Problem about bad IPv4 options quotes the checksum completed", () => {
  const link = new FakeLink();
  const stack = createStack({ seed: 5 });
  stack.addInterface({ driver: link, addresses: ["10.0.0.2/24"] });
  // The segment with a 4-byte option whose length (2) is too short for Record Route (7).
  const seg = partialSegment(HOST, 0x10, 40);
  const ip = new Uint8Array(seg.length + 4);
  ip.set(seg.subarray(0, 20));
  ip.set([7, 2, 0, 0], 20);
  ip.set(seg.subarray(20), 24);
  const dv = new DataView(ip.buffer);
  dv.setUint8(0, 0x46);
  dv.setUint16(2, ip.length);
  dv.setUint16(10, 0);
  dv.setUint16(10, finishChecksum(sumBytes(ip.subarray(0, 24))));
  const pkt = link.port.pool.alloc(ip.length);
  pkt.buf.set(ip, pkt.start);
  pkt.l4 = pkt.start + 24;
  pkt.flags = PacketFlags.CHECKSUM_VERIFIED | PacketFlags.CHECKSUM_PARTIAL;
  link.port.receive(pkt);
  stack.poll();
  assert.equal(stack.counters.value("ipv4.rx.bad_options"), 1);
  assert.equal(link.sent.length, 1, "a Parameter Problem");
  const err = link.sent[0]!;
  assert.equal(err[20], 12, "ICMP type 12");
  // The quote: the whole datagram (under 548 bytes); its TCP part after a 24-byte header.
  const quoted = err.subarray(28);
  assert.equal(quoted.length, ip.length);
  const tcpLen = ip.length - 24;
  assert.equal(
    sumBytes(quoted.subarray(24), pseudoHeaderSumV4(SRC, HOST, 6, tcpLen)),
    0xffff,
    "the quoted segment's checksum is complete",
  );
  stack.close();
});

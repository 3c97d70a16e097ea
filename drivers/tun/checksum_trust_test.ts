/**
 * `checksumTrusted()` (vnet.ts) and what `PacketFlags.CHECKSUM_VERIFIED`
 * does in the stack: a TUN driver with offloads marks packets whose
 * transport checksum Linux verified (DATA_VALID) or left partial and the
 * driver completed (NEEDS_CSUM), and TCP and UDP then skip their own sum.
 * Unmarked packets are still verified.
 */
import assert from "node:assert/strict";
import {
  createStack,
  type DriverPort,
  type LinkDriver,
  LINKTYPE_RAW,
  type PacketBuffer,
} from "../../mod.ts";
import { PacketFlags } from "../../stack/packet_flags.ts";
import {
  checksumTrusted,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VNET_HDR_LEN,
} from "./vnet.ts";

/** A virtio-net header with `flags`, csum_start and csum_offset, then an IP packet of `ip` bytes. */
function frame(flags: number, csumStart: number, csumOffset: number, ip: number[]): Uint8Array {
  const b = new Uint8Array(VNET_HDR_LEN + ip.length);
  b.set([flags, 0, 0, 0, 0, 0, csumStart & 0xff, csumStart >> 8, csumOffset, 0]);
  b.set(ip, VNET_HDR_LEN);
  return b;
}

/** IPv4 header (20 bytes, total length `total`, fragment word `frag`, protocol `proto`). */
function v4(total: number, proto: number, frag = 0x4000): number[] {
  return [0x45, 0, total >> 8, total & 0xff, 0, 0, frag >> 8, frag & 0xff, 64, proto, 0, 0]
    .concat([10, 0, 0, 1, 10, 0, 0, 2]);
}

/** IPv6 header (payload length `len`, next header `next`). */
function v6(len: number, next: number): number[] {
  return [0x60, 0, 0, 0, len >> 8, len & 0xff, next, 64].concat(Array(32).fill(0));
}

function udp(len: number): number[] {
  return [0x9c, 0x40, 0, 7, len >> 8, len & 0xff, 0, 0].concat(Array(len - 8).fill(1));
}

const NEEDS = VIRTIO_NET_HDR_F_NEEDS_CSUM, VALID = VIRTIO_NET_HDR_F_DATA_VALID;

Deno.test("checksumTrusted(): the transport checksum of an unfragmented TCP/UDP packet Linux completed or verified", () => {
  const tcp = Array(20).fill(0);
  const cases: [string, Uint8Array, boolean][] = [
    ["TCPv4 partial at the TCP checksum", frame(NEEDS, 20, 16, [...v4(40, 6), ...tcp]), true],
    ["UDPv4 partial at the UDP checksum", frame(NEEDS, 20, 6, [...v4(40, 17), ...udp(20)]), true],
    ["UDPv6 DATA_VALID", frame(VALID, 0, 0, [...v6(20, 17), ...udp(20)]), true],
    ["TCPv6 partial", frame(NEEDS, 40, 16, [...v6(20, 6), ...tcp]), true],
    ["no flag", frame(0, 20, 16, [...v4(40, 6), ...tcp]), false],
    ["csum_start not the TCP header", frame(NEEDS, 24, 12, [...v4(40, 6), ...tcp]), false],
    ["csum_offset names another field", frame(NEEDS, 20, 6, [...v4(40, 6), ...tcp]), false],
    ["a fragment (MF)", frame(VALID, 0, 0, [...v4(40, 6, 0x2000), ...tcp]), false],
    ["a later fragment", frame(VALID, 0, 0, [...v4(40, 6, 0x0010), ...tcp]), false],
    ["IPv4 length short of the frame", frame(VALID, 0, 0, [...v4(39, 6), ...tcp]), false],
    ["UDP length short of the frame", frame(VALID, 0, 0, [...v4(40, 17), ...udp(20)]), true],
    ["IPv6 fragment header", frame(VALID, 0, 0, [...v6(20, 44), ...tcp]), false],
    ["ICMP", frame(VALID, 0, 0, [...v4(40, 1), ...tcp]), false],
  ];
  // The UDP length must fill the frame too.
  const shortUdp = frame(VALID, 0, 0, [...v4(40, 17), ...udp(20)]);
  shortUdp[VNET_HDR_LEN + 20 + 5] = 19;
  cases.push(["UDP length 19 in a 20-byte payload", shortUdp, false]);
  for (const [name, b, want] of cases) {
    assert.equal(checksumTrusted(b, 0, VNET_HDR_LEN, VNET_HDR_LEN, b.length), want, name);
  }
});

class FakeLink implements LinkDriver {
  readonly linkType = LINKTYPE_RAW;
  readonly mtu = 1500;
  port!: DriverPort;
  sent = 0;
  attach(port: DriverPort): void {
    this.port = port;
  }
  transmit(pkt: PacketBuffer): void {
    this.sent++;
    pkt.release();
  }
  close(): void {}
}

/** Delivers `ip` (an IPv4 packet, checksums as given) with `flags` set, as a driver would. */
function deliver(link: FakeLink, ip: number[], flags: number): void {
  const pkt = link.port.pool.alloc(ip.length);
  pkt.buf.set(ip, pkt.start);
  pkt.flags = flags;
  link.port.receive(pkt);
}

Deno.test("CHECKSUM_VERIFIED: TCP and UDP skip the sum of a packet the driver vouches for, and check the others", () => {
  const link = new FakeLink();
  const stack = createStack({ seed: 3 });
  stack.addInterface({ driver: link, addresses: ["10.0.0.2/24"] });
  const listener = stack.listen({ port: 80 });
  const conn = stack.listenDatagram({ transport: "udp", port: 7 });
  // A SYN to port 80 and a datagram to port 7, both with a wrong checksum (0x1234).
  const ipHeader = (total: number, proto: number) => {
    const h = v4(total, proto);
    h.splice(12, 8, 10, 0, 0, 1, 10, 0, 0, 2);
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += (h[i]! << 8) | h[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    const c = ~s & 0xffff;
    h[10] = c >> 8;
    h[11] = c & 0xff;
    return h;
  };
  const syn = [...ipHeader(40, 6), 0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff]
    .concat([0xff, 0x12, 0x34, 0, 0]);
  const dgram = [...ipHeader(30, 17), 0x9c, 0x40, 0, 7, 0, 10, 0x12, 0x34, 0x68, 0x69];
  const bad = () => [
    stack.counters.value("tcp.rx.bad_checksum"),
    stack.counters.value("udp.rx.bad_checksum"),
  ];
  deliver(link, syn, 0);
  deliver(link, dgram, 0);
  assert.deepEqual(bad(), [1, 1], "unmarked: verified and dropped");
  assert.equal(link.sent, 0);
  deliver(link, syn, PacketFlags.CHECKSUM_VERIFIED);
  deliver(link, dgram, PacketFlags.CHECKSUM_VERIFIED);
  assert.deepEqual(bad(), [1, 1], "marked: not summed again");
  assert.equal(stack.counters.value("udp.rx.datagrams"), 1);
  stack.poll();
  assert.ok(link.sent >= 1, "the marked SYN was answered");
  conn.close();
  listener.close();
  stack.close();
});

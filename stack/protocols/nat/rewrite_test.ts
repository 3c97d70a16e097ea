import assert from "node:assert/strict";
import {
  finishChecksum,
  internetChecksum,
  pseudoHeaderSumV4,
  sumBytes,
  sumRange,
} from "../../wire/checksum.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import { PacketPool } from "../../packet_pool.ts";
import { segmentTcp } from "../../wire/tcp_gso.ts";
import { segmentUdpSuper } from "../../wire/udp_gso.ts";
import { rewriteIpv4Endpoint, rewriteIpv4Port, translateIcmpError } from "./rewrite.ts";

/** An IPv4 datagram with a correct header and transport checksum. */
function datagram(protocol: number, src: number, dst: number, l4: number[]): Uint8Array {
  const b = new Uint8Array(20 + l4.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0x4500);
  dv.setUint16(2, b.length);
  dv.setUint8(8, 64);
  dv.setUint8(9, protocol);
  dv.setUint32(12, src);
  dv.setUint32(16, dst);
  dv.setUint16(10, internetChecksum(b.subarray(0, 20)));
  b.set(l4, 20);
  const seg = b.subarray(20);
  if (protocol === 1) {
    dv.setUint16(22, 0);
    dv.setUint16(22, internetChecksum(seg));
  } else {
    const at = protocol === 6 ? 36 : 26;
    if (protocol === 17) dv.setUint16(24, seg.length);
    dv.setUint16(at, 0);
    dv.setUint16(
      at,
      finishChecksum(pseudoHeaderSumV4(src, dst, protocol, seg.length) + sumBytes(seg)),
    );
  }
  return b;
}

function transportOk(b: Uint8Array): boolean {
  const dv = new DataView(b.buffer, b.byteOffset);
  const seg = b.subarray(20);
  if (b[9] === 1) return internetChecksum(seg) === 0;
  return finishChecksum(
    pseudoHeaderSumV4(dv.getUint32(12), dv.getUint32(16), b[9]!, seg.length) + sumBytes(seg),
  ) === 0;
}

Deno.test("rewriteIpv4Endpoint() keeps IP, TCP and UDP checksums right", () => {
  for (const proto of [6, 17]) {
    const l4 = new Array(proto === 6 ? 24 : 12).fill(0).map((_, i) => i * 13 & 255);
    if (proto === 6) l4[12] = 0x50;
    const b = datagram(proto, 0x0a010005, 0xc633640a, l4);
    const dv = new DataView(b.buffer);
    rewriteIpv4Endpoint(dv, b, 0, b.length, "source", 0xcb007101, 40001);
    assert.equal(dv.getUint16(20), 40001);
    assert.equal(internetChecksum(b.subarray(0, 20)), 0);
    assert.ok(transportOk(b), `protocol ${proto}`);
    rewriteIpv4Endpoint(dv, b, 0, b.length, "destination", 0x0a010009, 80);
    assert.equal(dv.getUint16(22), 80);
    assert.ok(transportOk(b), `protocol ${proto}`);
  }
});

Deno.test("rewriteIpv4Port() maps an echo identifier: the request's as source, the reply's as destination", () => {
  const req = datagram(1, 1, 2, [8, 0, 0, 0, 0x12, 0x34, 0, 1, 9, 9]);
  const dv = new DataView(req.buffer);
  rewriteIpv4Port(dv, req, 0, req.length, "destination", 7); // not a reply: unchanged
  assert.equal(dv.getUint16(24), 0x1234);
  rewriteIpv4Port(dv, req, 0, req.length, "source", 7);
  assert.equal(dv.getUint16(24), 7);
  assert.ok(transportOk(req));
});

Deno.test("rewriteIpv4Port() leaves a zero UDP checksum zero and never reads past the end", () => {
  const b = datagram(17, 1, 2, [0, 1, 0, 2, 0, 12, 0, 0, 1, 2, 3, 4]);
  const dv = new DataView(b.buffer);
  dv.setUint16(26, 0);
  rewriteIpv4Port(dv, b, 0, b.length, "source", 999);
  assert.equal(dv.getUint16(26), 0);
  for (let end = 0; end < b.length; end++) {
    rewriteIpv4Port(dv, b, 0, end, "destination", 1234); // truncated: no throw
  }
});

Deno.test("translateIcmpError() rewrites outer and quoted headers; every checksum verifies", () => {
  const quoted = datagram(17, 0xcb007101, 0xc633640a, [0x9c, 0x41, 0, 9, 0, 12, 0, 0, 1, 2, 3, 4]);
  const icmp = new Uint8Array(8 + quoted.length);
  icmp[0] = 3;
  icmp[1] = 3;
  icmp.set(quoted, 8);
  const b = datagram(1, 0xc633640a, 0xcb007101, [...icmp]);
  const dv = new DataView(b.buffer);
  translateIcmpError(dv, b, 0, b.length, 20, "destination", 0x0a010005, "source", 0x0a010005, 5000);
  assert.equal(dv.getUint32(16), 0x0a010005);
  assert.equal(internetChecksum(b.subarray(0, 20)), 0);
  assert.ok(transportOk(b), "ICMP checksum");
  const inner = b.subarray(28);
  assert.equal(new DataView(inner.buffer, inner.byteOffset).getUint32(12), 0x0a010005);
  assert.equal(new DataView(inner.buffer, inner.byteOffset).getUint16(20), 5000);
  assert.equal(internetChecksum(inner.subarray(0, 20)), 0);
  assert.ok(transportOk(inner), "quoted UDP checksum");
});

// ---- super-segments with a partial checksum (TSO/USO) ------------------------

const SRC = 0x0a010005, DST = 0xc6336401, PUBLIC = 0xcb007101, INNER = 0x0a010014;

/**
 * A TCP (6) or UDP (17) super-segment as the stack sends it: one header,
 * `payload` bytes for several segments of `mss`, the transport checksum
 * field holding only the pseudo-header sum over the whole transport length
 * (folded, not complemented: CHECKSUM_PARTIAL).
 */
function superSegment(protocol: number, payload: number): PacketBuffer {
  const hl = protocol === 6 ? 20 : 8;
  const pkt = new PacketPool().alloc(20 + hl + payload);
  const b = pkt.buf, o = pkt.start, dv = pkt.dv;
  b.set([0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, protocol], o);
  dv.setUint16(o + 2, pkt.length);
  dv.setUint32(o + 12, SRC);
  dv.setUint32(o + 16, DST);
  dv.setUint16(o + 10, internetChecksum(b.subarray(o, o + 20)));
  const l4 = o + 20;
  dv.setUint16(l4, 40000);
  dv.setUint16(l4 + 2, 53);
  if (protocol === 6) {
    dv.setUint32(l4 + 4, 1000);
    b[l4 + 12] = 5 << 4;
    b[l4 + 13] = 0x18; // PSH ACK
  } else dv.setUint16(l4 + 4, hl + payload);
  for (let i = 0; i < payload; i++) b[l4 + hl + i] = (i * 7) & 0xff;
  const seed = ~finishChecksum(pseudoHeaderSumV4(SRC, DST, protocol, hl + payload)) & 0xffff;
  dv.setUint16(l4 + (protocol === 6 ? 16 : 6), seed);
  pkt.l3 = o;
  pkt.gsoSize = 1000;
  pkt.flags = PacketFlags.CHECKSUM_PARTIAL;
  return pkt;
}

/**
 * What a device (Linux's GSO, `__udp_gso_segment`/`tcp_gso_segment`) makes
 * of the super-segment's seed for each segment the software segmenter cut:
 * the seed moved by the length change, then the one's complement of the
 * sum from the transport header on. Returns each segment's checksum as the
 * device computes it and as computed from scratch (what the segmenter
 * wrote); they agree only when the seed was right.
 */
function deviceChecksums(pkt: PacketBuffer): { device: number[]; scratch: number[] } {
  const protocol = pkt.buf[pkt.l3 + 9]!;
  const field = protocol === 6 ? 16 : 6;
  const l4 = pkt.l3 + 20;
  const seed = pkt.dv.getUint16(l4 + field);
  const superLen = pkt.end - l4;
  const device: number[] = [];
  const scratch: number[] = [];
  const pool = new PacketPool();
  const each = (seg: PacketBuffer) => {
    const t = seg.l3 + 20;
    const len = seg.end - t;
    scratch.push(seg.dv.getUint16(t + field));
    // csum16_add(csum16_sub(seed, old length), new length)
    const segSeed = ~finishChecksum(seed + (~superLen & 0xffff) + len) & 0xffff;
    seg.dv.setUint16(t + field, segSeed);
    let c = finishChecksum(sumRange(seg.buf, t, seg.end));
    if (c === 0 && protocol === 17) c = 0xffff;
    device.push(c);
  };
  if (protocol === 6) segmentTcp(pkt, pool, each);
  else {
    segmentUdpSuper(pkt, pool, (d) => {
      each(d);
      d.release();
    });
  }
  return { device, scratch };
}

for (
  const [protocol, name] of [[6, "TCP super-segment (TSO)"], [
    17,
    "UDP super-datagram (USO)",
  ]] as const
) {
  Deno.test(`rewriteIpv4Endpoint() SNAT of a ${name} keeps its partial checksum right for every segment`, () => {
    const pkt = superSegment(protocol, 2500);
    rewriteIpv4Endpoint(pkt.dv, pkt.buf, pkt.l3, pkt.end, "source", PUBLIC, 61000, true);
    assert.equal(pkt.dv.getUint32(pkt.l3 + 12), PUBLIC);
    const { device, scratch } = deviceChecksums(pkt);
    assert.equal(device.length, 3);
    assert.deepEqual(device, scratch);
    assert.equal(internetChecksum(pkt.buf.subarray(pkt.l3, pkt.l3 + 20)), 0);
  });

  Deno.test(`rewriteIpv4Endpoint() DNAT of a ${name} keeps its partial checksum right for every segment`, () => {
    const pkt = superSegment(protocol, 2500);
    rewriteIpv4Endpoint(pkt.dv, pkt.buf, pkt.l3, pkt.end, "destination", INNER, 5353, true);
    assert.equal(pkt.dv.getUint16(pkt.l3 + 22), 5353);
    const { device, scratch } = deviceChecksums(pkt);
    assert.deepEqual(device, scratch);
  });

  Deno.test(`rewriteIpv4Endpoint() treating a ${name}'s partial checksum as a full one breaks every segment`, () => {
    const pkt = superSegment(protocol, 2500);
    rewriteIpv4Endpoint(pkt.dv, pkt.buf, pkt.l3, pkt.end, "source", PUBLIC, 61000, false);
    const { device, scratch } = deviceChecksums(pkt);
    for (let i = 0; i < device.length; i++) assert.notEqual(device[i], scratch[i]);
  });
}

/**
 * Hostile virtio-net headers and frames (a kernel bug, or a test's own
 * writer): the parsers and the segmenter must never throw, never write
 * past the frame, and bound what one frame can turn into.
 */
import assert from "node:assert/strict";
import {
  completeChecksum,
  parseVnetHeader,
  partialTcpV4,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VNET_HDR_LEN,
  writeTxHeader,
} from "./vnet.ts";
import { segmentUdp, UDP_MAX_SEGMENTS } from "./uso.ts";
import { PacketBuffer } from "../../stack/packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../stack/packet_flags.ts";
import { PacketPool } from "../../stack/packet_pool.ts";

/** A small deterministic generator (xorshift32): the same cases every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A frame that starts like IPv4 or IPv6 UDP/TCP, then random bytes and lengths. */
function hostileFrame(next: () => number): Uint8Array {
  const len = next() % 3000;
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = next() & 0xff;
  if (len > 0) b[0] = (next() & 1) === 0 ? 0x40 | (next() & 0x0f) : 0x60;
  if (len > 9 && (next() & 1) === 0) b[9] = (next() & 1) === 0 ? 17 : 6;
  if (len > 6 && (next() & 1) === 0) b[6] = (next() & 1) === 0 ? 17 : 6;
  return b;
}

Deno.test("vnet fuzz: parse, completeChecksum, writeTxHeader and segmentUdp never throw on hostile input", () => {
  const next = rng(20);
  const pool = new PacketPool();
  for (let i = 0; i < 3000; i++) {
    const frame = hostileFrame(next);
    // header + frame, with a guard region after the frame that must stay untouched
    const buf = new Uint8Array(VNET_HDR_LEN + frame.length + 16).fill(0xee);
    for (let k = 0; k < VNET_HDR_LEN; k++) buf[k] = next() & 0xff;
    buf.set(frame, VNET_HDR_LEN);
    const end = VNET_HDR_LEN + frame.length;
    const h = parseVnetHeader(buf, 0);
    assert.ok(Object.values(h).every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffff));
    // the end of a buffer too short for a header still parses to numbers
    assert.ok(Object.values(parseVnetHeader(buf, buf.length - 3)).every(Number.isInteger));
    completeChecksum(buf, 0, VNET_HDR_LEN, end);
    assert.ok(buf.subarray(end).every((b) => b === 0xee), "nothing written past the frame");
    writeTxHeader(buf, VNET_HDR_LEN, VNET_HDR_LEN, end, next() % 3, next() % 1600);
    assert.ok(buf.subarray(end).every((b) => b === 0xee), "nothing written past the frame");
    let n = 0;
    const got = segmentUdp(buf, VNET_HDR_LEN, VNET_HDR_LEN, end, next() % 64, pool, (p) => {
      n++;
      p.release();
    });
    assert.equal(got, n);
    assert.ok(n <= UDP_MAX_SEGMENTS, `${n} datagrams from one frame`);
  }
  assert.equal(pool.outstanding, 0, "every datagram released");
});

Deno.test("segmentUdp() refuses a super-datagram of more than UDP_MAX_SEGMENTS datagrams (gso_size 1)", () => {
  const payload = 60_000;
  const b = new Uint8Array(20 + 8 + payload);
  const dv = new DataView(b.buffer);
  b.set([0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  dv.setUint16(2, b.length);
  dv.setUint16(24, 8 + payload);
  let n = 0;
  const got = segmentUdp(b, 0, 0, b.length, 1, new PacketPool(), (p) => {
    n++;
    p.release();
  });
  assert.equal(got, 0);
  assert.equal(n, 0);
  // UDP_MAX_SEGMENTS of them is still fine
  const ok = segmentUdp(
    b,
    0,
    0,
    b.length,
    Math.ceil(payload / UDP_MAX_SEGMENTS),
    new PacketPool(),
    (p) => p.release(),
  );
  assert.equal(ok, UDP_MAX_SEGMENTS);
});

Deno.test("writeTxHeader() refuses a super-segment whose TCP header does not fit (bad data offset or IHL)", () => {
  const b = new Uint8Array(10 + 3000);
  b.set([0x45, 0, 0x0b, 0xb8], 10);
  b[10 + 9] = 6;
  b[10 + 20 + 12] = 2 << 4; // data offset 2: 8 bytes, less than a TCP header
  assert.equal(writeTxHeader(b, 10, 10, b.length, 1448, 1500), false);
  b[10 + 20 + 12] = 5 << 4;
  b[10] = 0x42; // IHL 2: 8 bytes, less than an IPv4 header
  assert.equal(writeTxHeader(b, 10, 10, b.length, 1448, 1500), false);
  b[10] = 0x45;
  assert.equal(writeTxHeader(b, 10, 10, b.length, 1448, 1500), true);
});

Deno.test("partialTcpV4() leaves partial only a TCP header that fits: finishing it writes inside the TCP header", () => {
  // NEEDS_CSUM with csum_start/csum_offset naming the TCP checksum field of
  // an IPv4 header whose IHL is under 5, or leaves no whole TCP header before
  // the frame's end: completed later (capture tap first), the field would be
  // written into the IP header or past the frame.
  const next = rng(21);
  for (let i = 0; i < 3000; i++) {
    const len = 40 + (next() % 60);
    const ihl = next() % 16;
    const buf = new Uint8Array(VNET_HDR_LEN + len + 64).fill(0xee);
    const ip = VNET_HDR_LEN, end = ip + len;
    buf.fill(0, ip, end);
    buf.set([VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0, (ihl * 4) & 0xff, 0, 16, 0]);
    buf[ip] = 0x40 | ihl;
    buf[ip + 2] = len >>> 8;
    buf[ip + 3] = len & 0xff;
    buf[ip + 9] = 6;
    const l4 = partialTcpV4(buf, 0, ip, ip, end);
    if (l4 < 0) continue;
    assert.ok(
      l4 >= ip + 20 && l4 + 20 <= end,
      `IHL ${ihl}, ${len} bytes: TCP header at ${l4 - ip}`,
    );
    const pkt = PacketBuffer.wrap(buf);
    pkt.start = ip;
    pkt.end = end;
    pkt.l4 = l4;
    pkt.flags = PacketFlags.CHECKSUM_PARTIAL;
    finishPartialChecksum(pkt);
    assert.ok(buf.subarray(end).every((b) => b === 0xee), "nothing written past the frame");
  }
});

import assert from "node:assert/strict";
import {
  completeChecksum,
  DEFAULT_OFFLOAD,
  emitVnetHeader,
  offloadLadder,
  offloadNames,
  parseVnetHeader,
  TUN_F_CSUM,
  TUN_F_TSO4,
  TUN_F_TSO6,
  TUN_F_TSO_ECN,
  TUN_F_USO4,
  TUN_F_USO6,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VNET_HDR_LEN,
  writeTxHeader,
} from "./vnet.ts";
import { negotiateOffload } from "./tun.ts";
import { EINVAL } from "./_libc.ts";
import {
  finishChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumRange,
} from "../../stack/wire/checksum.ts";

// An IPv4/TCP packet (20 + 32 header bytes with timestamps) with `payload` bytes, at offset 10.
function tcpv4(payload: number, fill = 0x5a): Uint8Array {
  const total = 20 + 32 + payload;
  const b = new Uint8Array(VNET_HDR_LEN + total);
  const ip = VNET_HDR_LEN;
  const dv = new DataView(b.buffer);
  b[ip] = 0x45; // version 4, IHL 5
  dv.setUint16(ip + 2, total > 0xffff ? 0xffff : total);
  b[ip + 8] = 64; // TTL
  b[ip + 9] = 6; // TCP
  b.set([10, 0, 0, 1, 10, 0, 0, 2], ip + 12);
  const t = ip + 20;
  dv.setUint16(t, 40000); // source port
  dv.setUint16(t + 2, 9); // destination port
  dv.setUint32(t + 4, 1000); // seq
  dv.setUint32(t + 8, 1); // ack
  b[t + 12] = 8 << 4; // data offset 8 words
  b[t + 13] = 0x10; // ACK
  dv.setUint16(t + 14, 512); // window
  b.set([1, 1, 8, 10], t + 20); // nop nop timestamp
  b.fill(fill, t + 32);
  return b;
}

Deno.test("parseVnetHeader() and emitVnetHeader() round-trip every field (little-endian)", () => {
  const h = {
    flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
    gsoType: VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN,
    hdrLen: 0x1234,
    gsoSize: 0xabcd,
    csumStart: 0x0102,
    csumOffset: 0xfffe,
  };
  const b = new Uint8Array(12).fill(0xee);
  emitVnetHeader(h, b, 1);
  assert.deepEqual([...b], [
    0xee,
    0x01,
    0x84,
    0x34,
    0x12,
    0xcd,
    0xab,
    0x02,
    0x01,
    0xfe,
    0xff,
    0xee,
  ]);
  assert.deepEqual(parseVnetHeader(b, 1), h);
});

Deno.test("completeChecksum() turns Linux's partial TCP checksum (pseudo-header sum) into a valid one", () => {
  for (const payload of [0, 1, 1447, 1448, 65000]) {
    const b = tcpv4(payload, payload & 0xff);
    const ip = VNET_HDR_LEN, t = ip + 20, end = b.length;
    const dv = new DataView(b.buffer);
    const pseudo = pseudoHeaderSumV4(0x0a000001, 0x0a000002, 6, end - t);
    // What Linux leaves in the field for CHECKSUM_PARTIAL: the folded pseudo-header sum.
    dv.setUint16(t + 16, (~finishChecksum(pseudo)) & 0xffff);
    emitVnetHeader(
      {
        flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
        gsoType: payload > 1448 ? VIRTIO_NET_HDR_GSO_TCPV4 : 0,
        hdrLen: 52,
        gsoSize: 1448,
        csumStart: 20,
        csumOffset: 16,
      },
      b,
      0,
    );
    assert.equal(completeChecksum(b, 0, ip, end), true);
    assert.equal(sumRange(b, t, end, pseudo), 0xffff, `payload ${payload}`);
  }
});

Deno.test("completeChecksum() leaves frames without NEEDS_CSUM alone and refuses offsets past the end", () => {
  const b = tcpv4(10);
  const copy = b.slice();
  assert.equal(completeChecksum(b, 0, VNET_HDR_LEN, b.length), true);
  assert.deepEqual(b, copy);
  // csum_start + csum_offset + 2 beyond the frame: refused, nothing written.
  for (const [start, offset] of [[b.length - VNET_HDR_LEN - 1, 0], [20, 0xffff], [0xffff, 16]]) {
    emitVnetHeader(
      {
        flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
        gsoType: 0,
        hdrLen: 0,
        gsoSize: 0,
        csumStart: start!,
        csumOffset: offset!,
      },
      b,
      0,
    );
    const before = b.slice();
    assert.equal(completeChecksum(b, 0, VNET_HDR_LEN, b.length), false);
    assert.deepEqual(b, before);
  }
});

Deno.test("writeTxHeader() zeroes the header of a packet that fits the MTU", () => {
  const b = tcpv4(1448);
  b.fill(0xff, 0, VNET_HDR_LEN);
  assert.equal(writeTxHeader(b, VNET_HDR_LEN, VNET_HDR_LEN, b.length, 0, 1500), true);
  assert.deepEqual([...b.subarray(0, VNET_HDR_LEN)], new Array(10).fill(0));
});

Deno.test("writeTxHeader() seeds a super-segment's checksum field with the pseudo-header sum Linux completes", () => {
  const b = tcpv4(1448 * 3, 0x37);
  const t = VNET_HDR_LEN + 20, end = b.length;
  const pseudo = pseudoHeaderSumV4(0x0a000001, 0x0a000002, 6, end - t);
  const dv = new DataView(b.buffer);
  dv.setUint16(t + 16, finishChecksum(sumRange(b, t, end, pseudo))); // what the stack wrote
  const full = dv.getUint16(t + 16);
  assert.equal(writeTxHeader(b, VNET_HDR_LEN, VNET_HDR_LEN, end, 1448, 1500), true);
  // Linux (no segmentation needed): checksum = ~sum(csum_start..end) with the seed in place.
  assert.equal(finishChecksum(sumRange(b, t, end)), full);
});

Deno.test("writeTxHeader() describes an IPv4 TCP super-segment (TCPV4, hdr_len, gso_size, NEEDS_CSUM)", () => {
  const b = tcpv4(1448 * 45);
  assert.equal(writeTxHeader(b, VNET_HDR_LEN, VNET_HDR_LEN, b.length, 1448, 1500), true);
  assert.deepEqual(parseVnetHeader(b, 0), {
    flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
    gsoType: VIRTIO_NET_HDR_GSO_TCPV4,
    hdrLen: 52,
    gsoSize: 1448,
    csumStart: 20,
    csumOffset: 16,
  });
});

Deno.test("writeTxHeader() describes an IPv6 TCP super-segment on TAP (offsets from the Ethernet header, CWR → ECN)", () => {
  const payload = 1428 * 3;
  const b = new Uint8Array(VNET_HDR_LEN + 14 + 40 + 32 + payload);
  const ip = VNET_HDR_LEN + 14;
  b[ip] = 0x60;
  b[ip + 6] = 6; // next header TCP
  b[ip + 40 + 12] = 8 << 4;
  b[ip + 40 + 13] = 0x80 | 0x10; // CWR + ACK
  assert.equal(writeTxHeader(b, VNET_HDR_LEN, ip, b.length, 1428, 1514), true);
  const h = parseVnetHeader(b, 0);
  assert.equal(h.gsoType, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN);
  assert.deepEqual([h.hdrLen, h.gsoSize, h.csumStart, h.csumOffset], [14 + 40 + 32, 1428, 54, 16]);
});

Deno.test("writeTxHeader() refuses an oversized packet that is not TCP or UDP or has no gso size", () => {
  const b = tcpv4(3000);
  assert.equal(writeTxHeader(b, VNET_HDR_LEN, VNET_HDR_LEN, b.length, 0, 1500), false);
  b[VNET_HDR_LEN + 9] = 1; // ICMP
  assert.equal(writeTxHeader(b, VNET_HDR_LEN, VNET_HDR_LEN, b.length, 1448, 1500), false);
  b[VNET_HDR_LEN] = 0x15; // not IP
  assert.equal(writeTxHeader(b, VNET_HDR_LEN, VNET_HDR_LEN, b.length, 1448, 1500), false);
});

Deno.test("offloadLadder() steps down to subsets of what was asked, ending with none", () => {
  const all = DEFAULT_OFFLOAD | TUN_F_USO4 | TUN_F_USO6 | 0x8000;
  assert.deepEqual(offloadLadder(all), [
    all,
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
    TUN_F_CSUM,
    0,
  ]);
  assert.deepEqual(offloadLadder(0), [0]);
  for (const step of offloadLadder(all)) assert.equal(step & ~all, 0);
});

Deno.test("negotiateOffload() falls back when the kernel refuses a flag set (an injected ioctl)", () => {
  // A kernel without TSO_ECN and USO (EINVAL for bits it does not take).
  const tried: number[] = [];
  const knows = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  const got = negotiateOffload(DEFAULT_OFFLOAD | TUN_F_USO4 | TUN_F_USO6, (flags) => {
    tried.push(flags);
    return (flags & ~knows) === 0 ? 0 : EINVAL;
  });
  assert.equal(got, knows);
  assert.equal(tried.length, 3);
  // A kernel refusing everything, even 0: -1 (the caller keeps the header, no offloads).
  assert.equal(negotiateOffload(DEFAULT_OFFLOAD, () => EINVAL), -1);
  // Accepted at once.
  assert.equal(negotiateOffload(TUN_F_CSUM, () => 0), TUN_F_CSUM);
});

Deno.test("offloadNames() names every bit and shows unknown ones in hex", () => {
  assert.equal(offloadNames(DEFAULT_OFFLOAD), "csum tso4 tso6 tso_ecn uso4 uso6");
  assert.equal(offloadNames(TUN_F_USO4 | TUN_F_USO6 | 0x8000), "uso4 uso6 0x8000");
});

Deno.test("writeTxHeader() describes a UDP super-datagram as UDP_L4 with the pseudo-header seed, even within the MTU", () => {
  for (
    const [version, total] of [[4, 20 + 8 + 3000], [4, 20 + 8 + 300], [6, 40 + 8 + 3000]] as const
  ) {
    const b = new Uint8Array(VNET_HDR_LEN + total);
    const dv = new DataView(b.buffer);
    const ip = VNET_HDR_LEN;
    let l4: number;
    if (version === 4) {
      b.set([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], ip);
      dv.setUint16(ip + 2, total);
      l4 = ip + 20;
    } else {
      b[ip] = 0x60;
      dv.setUint16(ip + 4, total - 40);
      b[ip + 6] = 17;
      b[ip + 7] = 64;
      b[ip + 8] = 0xfd;
      b[ip + 23] = 1;
      b[ip + 24] = 0xfd;
      b[ip + 39] = 2;
      l4 = ip + 40;
    }
    dv.setUint16(l4 + 4, b.length - l4);
    dv.setUint16(l4 + 6, 0xbeef); // whatever the stack left there
    assert.equal(writeTxHeader(b, ip, ip, b.length, 100, 1500), true);
    const h = parseVnetHeader(b, 0);
    assert.deepEqual(
      [h.flags, h.gsoType, h.hdrLen, h.gsoSize, h.csumStart, h.csumOffset],
      [VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, l4 + 8 - ip, 100, l4 - ip, 6],
    );
    const len = b.length - l4;
    const pseudo = version === 4
      ? pseudoHeaderSumV4(0x0a000001, 0x0a000002, 17, len)
      : pseudoHeaderSumV6(b.subarray(ip + 8, ip + 24), b.subarray(ip + 24, ip + 40), 17, len);
    // The seed is the folded pseudo-header sum, not complemented.
    assert.equal(dv.getUint16(l4 + 6), (~finishChecksum(pseudo)) & 0xffff);
  }
});

Deno.test("writeTxHeader() describes a TCP super-segment that fits the MTU (a peer's small MSS) as TCPV4, not a zero header", () => {
  // 1000 bytes in segments of 536 (Linux advertised MSS 536): 20 + 32 + 1000 = 1052 < 1500,
  // and its checksum field holds only the pseudo-header sum.
  const b = tcpv4(1000);
  assert.equal(b.length - VNET_HDR_LEN, 1052);
  assert.equal(writeTxHeader(b, VNET_HDR_LEN, VNET_HDR_LEN, b.length, 536, 1500), true);
  const h = parseVnetHeader(b, 0);
  assert.deepEqual([h.flags, h.gsoType, h.gsoSize], [
    VIRTIO_NET_HDR_F_NEEDS_CSUM,
    VIRTIO_NET_HDR_GSO_TCPV4,
    536,
  ]);
});

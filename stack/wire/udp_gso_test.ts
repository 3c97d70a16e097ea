import assert from "node:assert/strict";
import { PacketFlags } from "../packet_flags.ts";
import { PacketPool } from "../packet_pool.ts";
import { pseudoHeaderSumV6, sumRange } from "./checksum.ts";
import { isUdpSuper, segmentUdpSuper, UDP_MAX_SEGMENTS } from "./udp_gso.ts";

/** An IPv6 UDP super-datagram of `payload` bytes in segments of `gso`. */
function superV6(payload: number, gso: number) {
  const pool = new PacketPool();
  const pkt = pool.alloc(40 + 8 + payload);
  const b = pkt.buf, o = pkt.start, dv = pkt.dv;
  b[o] = 0x60;
  dv.setUint16(o + 4, 8 + payload);
  b[o + 6] = 17;
  b[o + 7] = 64;
  b.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], o + 8);
  b.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], o + 24);
  dv.setUint16(o + 40, 4000);
  dv.setUint16(o + 42, 53);
  dv.setUint16(o + 44, 8 + payload);
  for (let i = 0; i < payload; i++) b[o + 48 + i] = i & 0xff;
  pkt.l3 = o;
  pkt.gsoSize = gso;
  pkt.flags = PacketFlags.CHECKSUM_PARTIAL;
  pkt.mark = 7;
  pkt.ifindex = 3;
  return { pool, pkt };
}

Deno.test("segmentUdpSuper() cuts an IPv6 super-datagram: sizes, last one shorter, metadata, complete checksums", () => {
  const { pool, pkt } = superV6(2 * 1200 + 5, 1200);
  const got: { len: number; sumOk: boolean; meta: unknown[] }[] = [];
  const n = segmentUdpSuper(pkt, pool, (d) => {
    const b = d.buf, o = d.l3;
    const udpLen = d.dv.getUint16(o + 44);
    const pseudo = pseudoHeaderSumV6(
      b.subarray(o + 8, o + 24),
      b.subarray(o + 24, o + 40),
      17,
      udpLen,
    );
    got.push({
      len: d.length,
      sumOk: sumRange(b, o + 40, d.end, pseudo) === 0xffff && d.dv.getUint16(o + 4) === udpLen,
      meta: [d.family, d.l4 - d.l3, d.gsoSize, d.flags, d.mark, d.ifindex, b[o + 48 + udpLen - 9]],
    });
    d.release();
  });
  assert.equal(n, 3);
  assert.deepEqual(got.map((g) => g.len), [1248, 1248, 53]);
  assert.ok(got.every((g) => g.sumOk));
  // No CHECKSUM_PARTIAL left: each datagram is complete. The last byte of each is the payload's.
  assert.deepEqual(got.map((g) => g.meta), [
    [6, 40, 0, 0, 7, 3, 1199 & 0xff],
    [6, 40, 0, 0, 7, 3, 2399 & 0xff],
    [6, 40, 0, 0, 7, 3, 2404 & 0xff],
  ]);
});

Deno.test("segmentUdpSuper() leaves a packet that is not a UDP super-datagram, or would make too many, to the caller", () => {
  const { pool, pkt } = superV6(UDP_MAX_SEGMENTS + 1, 1);
  assert.equal(segmentUdpSuper(pkt, pool, () => assert.fail("delivered")), 0);
  pkt.gsoSize = 2; // 65 datagrams: fine
  let n = 0;
  assert.equal(segmentUdpSuper(pkt, pool, (d) => void (n++, d.release())), 65);
  assert.equal(n, 65);
  const other = superV6(100, 10);
  other.pkt.buf[other.pkt.start + 6] = 6; // TCP
  assert.equal(isUdpSuper(other.pkt), false);
  assert.equal(segmentUdpSuper(other.pkt, other.pool, () => assert.fail("delivered")), 0);
  other.pkt.release();
});

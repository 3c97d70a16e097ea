import assert from "node:assert/strict";
import { withTcpChecksum } from "./tcp_gso.ts";
import { pseudoHeaderSumV4, pseudoHeaderSumV6, sumRange } from "./checksum.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "./numbers.ts";

/** An IPv6/TCP packet (20-byte TCP header, `payload` bytes) behind an Ethernet header. */
function ethernetV6Tcp(payload: number): Uint8Array {
  const b = new Uint8Array(14 + 40 + 20 + payload);
  b.set([0x86, 0xdd], 12);
  b.set([0x60, 0, 0, 0, (20 + payload) >> 8, (20 + payload) & 0xff, 6, 64], 14);
  b[14 + 8 + 15] = 1; // source ::1
  b[14 + 24 + 15] = 2; // destination ::2
  b[54 + 12] = 5 << 4;
  b[54 + 16] = 0xab; // a pseudo-header sum, say: not a checksum
  for (let i = 0; i < payload; i++) b[74 + i] = i * 7;
  return b;
}

Deno.test("withTcpChecksum(): a super-segment's real checksum for a capture, behind Ethernet over IPv6, input untouched", () => {
  const b = ethernetV6Tcp(60000);
  const before = b.slice();
  const out = withTcpChecksum(b, LINKTYPE_ETHERNET);
  assert.deepEqual(b, before);
  const pseudo = pseudoHeaderSumV6(out.subarray(22, 38), out.subarray(38, 54), 6, 20 + 60000);
  assert.equal(sumRange(out, 54, out.length, pseudo), 0xffff);
  assert.deepEqual(out.subarray(74), b.subarray(74));
});

Deno.test("withTcpChecksum(): a checksum already right stays the same; what is not TCP comes back as it is", () => {
  const v4 = new Uint8Array(20 + 20 + 5);
  v4.set([0x45, 0, 0, 45, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  v4[32] = 5 << 4;
  v4.set([1, 2, 3, 4, 5], 40);
  const once = withTcpChecksum(v4, LINKTYPE_RAW);
  assert.equal(sumRange(once, 20, 45, pseudoHeaderSumV4(0x0a000001, 0x0a000002, 6, 25)), 0xffff);
  assert.deepEqual(withTcpChecksum(once, LINKTYPE_RAW), once);
  const udp = v4.slice();
  udp[9] = 17;
  assert.equal(withTcpChecksum(udp, LINKTYPE_RAW), udp);
  const arp = new Uint8Array(60);
  arp.set([0x08, 0x06], 12);
  assert.equal(withTcpChecksum(arp, LINKTYPE_ETHERNET), arp);
  assert.equal(withTcpChecksum(v4.subarray(0, 30), LINKTYPE_RAW).length, 30); // too short: as it is
});

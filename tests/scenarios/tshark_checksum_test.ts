/**
 * The tshark check (tests/_tshark.ts) exempts exactly one checksum
 * complaint: a TCP checksum field of 0xffff where the correct value is
 * 0x0000 (the other one's-complement zero, RFC 1071 / RFC 1624; Linux sends
 * it). Any other wrong checksum is still a problem.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PcapWriter } from "../../drivers/pcapfile/mod.ts";
import { tsharkProblems } from "../_tshark.ts";
import { gated } from "../_require.ts";
import { onesSum } from "../_harness.ts";

/**
 * A raw-IP capture of one IPv4/TCP segment 10.0.0.1:1234 → 10.0.0.2:80
 * whose correct TCP checksum is 0x0000 (two payload bytes are chosen for
 * it), with `field` written in the checksum field.
 */
function segmentWithZeroSum(field: number): Uint8Array {
  const payload = new TextEncoder().encode("..hello!");
  const ip = new Uint8Array(20 + 20 + payload.length);
  const dv = new DataView(ip.buffer);
  ip.set([0x45, 0, 0, 0, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  dv.setUint16(2, ip.length);
  dv.setUint16(10, ~onesSum(ip.subarray(0, 20), 0) & 0xffff);
  const tcp = ip.subarray(20);
  const tv = new DataView(tcp.buffer, tcp.byteOffset, tcp.byteLength);
  tv.setUint16(0, 1234);
  tv.setUint16(2, 80);
  tv.setUint32(4, 1);
  tv.setUint32(8, 1);
  tcp[12] = 5 << 4;
  tcp[13] = 0x18; // PSH, ACK
  tv.setUint16(14, 8192);
  tcp.set(payload, 20);
  tv.setUint16(20, 0);
  const pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + tcp.length;
  const partial = onesSum(tcp, pseudo); // checksum field and the two chosen bytes are 0
  tv.setUint16(20, 0xffff - partial); // now the one's-complement sum is 0xffff: checksum 0x0000
  assert.equal(onesSum(tcp, pseudo), 0xffff);
  tv.setUint16(16, field);
  const w = new PcapWriter({ linkType: 101 });
  w.write({ timestamp: 1_000_000, data: ip });
  return w.bytes();
}

Deno.test(gated(["tshark"], {
  name: "tshark check: TCP checksum 0xffff where 0x0000 is correct is not a problem",
  async fn() {
    const r = await tsharkProblems(segmentWithZeroSum(0xffff));
    assert.equal(r.frames, 1);
    assert.deepEqual(r.problems, []);
  },
}));

Deno.test(gated(["tshark"], {
  name: "tshark check: TCP checksum 0x0000 where 0x0000 is correct is not a problem",
  async fn() {
    const r = await tsharkProblems(segmentWithZeroSum(0x0000));
    assert.deepEqual(r.problems, []);
  },
}));

Deno.test(gated(["tshark"], {
  name: "tshark check: any other wrong TCP checksum is a problem",
  async fn() {
    for (const field of [0xfffe, 0x0001]) {
      const r = await tsharkProblems(segmentWithZeroSum(field));
      assert.deepEqual(r.problems.map((p) => p.kind), ["checksum"], field.toString(16));
    }
  },
}));

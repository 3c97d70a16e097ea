import assert from "node:assert/strict";
import {
  checkMldQuery,
  MLD_V1_LEN,
  mldGroupKey,
  mldMaxResponseDelay,
  mldQueryInterval,
  mldQueryRobustness,
  mldQuerySources,
  MldRecordType,
  writeMldHopByHop,
  writeMldV1,
  writeMldV2Report,
} from "./mld.ts";
import { formatIpKey, IpAddress } from "./ip_address.ts";

// An MLDv2 General Query as Linux's bridge querier sends it (after the
// IPv6 and Hop-by-Hop headers): type 130, code 0, checksum, Maximum
// Response Code 10000 ms, reserved, group ::, S=0 QRV=2, QQIC 125, 0 sources.
const V2_GENERAL = new Uint8Array([
  0x82,
  0x00,
  0x12,
  0x34,
  0x27,
  0x10,
  0x00,
  0x00,
  ...new Array(16).fill(0),
  0x02,
  0x7d,
  0x00,
  0x00,
]);

// An MLDv2 Multicast Address and Source Specific Query for ff02::fb from
// one source (2001:db8::1), Maximum Response Code 0x8000 (32768 ms).
const V2_SOURCE = new Uint8Array([
  0x82,
  0x00,
  0x00,
  0x00,
  0x80,
  0x00,
  0x00,
  0x00,
  0xff,
  0x02,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0xfb,
  0x0a,
  0x8f,
  0x00,
  0x01, // S=1 QRV=2; QQIC 0x8f: (0xf | 0x10) << 3 = 248 s
  0x20,
  0x01,
  0x0d,
  0xb8,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
]);

Deno.test("mld wire: an MLDv2 General Query deconstructs", () => {
  assert.equal(checkMldQuery(V2_GENERAL, 0, V2_GENERAL.length), 2);
  assert.equal(mldMaxResponseDelay(V2_GENERAL, 0, 2), 10000);
  assert.equal(formatIpKey(mldGroupKey(V2_GENERAL, 0)), "::");
  assert.equal(mldQueryRobustness(V2_GENERAL, 0), 2);
  assert.equal(mldQueryInterval(V2_GENERAL, 0), 125);
  assert.equal(mldQuerySources(V2_GENERAL, 0), 0);
});

Deno.test("mld wire: a source-specific query deconstructs, floating-point codes included", () => {
  assert.equal(checkMldQuery(V2_SOURCE, 0, V2_SOURCE.length), 2);
  assert.equal(mldMaxResponseDelay(V2_SOURCE, 0, 2), 32768);
  assert.equal(formatIpKey(mldGroupKey(V2_SOURCE, 0)), "ff02::fb");
  assert.equal(mldQueryInterval(V2_SOURCE, 0), 248);
  assert.equal(mldQuerySources(V2_SOURCE, 0), 1);
  // The largest code: mantissa 0xfff, exponent 7 → 0x1fff << 10 ms.
  const q = V2_GENERAL.slice();
  q[4] = 0xff;
  q[5] = 0xff;
  assert.equal(mldMaxResponseDelay(q, 0, 2), 0x1fff * 1024);
  assert.equal(mldMaxResponseDelay(q, 0, 1), 0xffff, "MLDv1: the field as is");
});

Deno.test("mld wire: every prefix of a query is a drop reason, never an exception", () => {
  for (const q of [V2_GENERAL, V2_SOURCE]) {
    for (let n = 0; n < q.length; n++) {
      const v = checkMldQuery(q, 0, n);
      if (n === MLD_V1_LEN) assert.equal(v, 1, "24 bytes read as MLDv1");
      else assert.ok(v === "truncated" || v === "bad_length", `${n}: ${v}`);
    }
  }
  assert.equal(checkMldQuery(V2_SOURCE, 0, 25), "bad_length");
  assert.equal(checkMldQuery(V2_SOURCE, 0, 23), "truncated");
});

Deno.test("mld wire: a Version 2 Report is written as RFC 3810 §5.2 lays it out", () => {
  const g1 = IpAddress.parse("ff02::1:ff00:1")!.key;
  const g2 = IpAddress.parse("ff05::2")!.key;
  const b = new Uint8Array(48).fill(0xee);
  assert.equal(
    writeMldV2Report(b, 0, [
      { type: MldRecordType.CHANGE_TO_EXCLUDE, group: g1 },
      { type: MldRecordType.MODE_IS_EXCLUDE, group: g2 },
    ]),
    48,
  );
  assert.deepEqual([...b.subarray(0, 8)], [143, 0, 0, 0, 0, 0, 0, 2]);
  assert.deepEqual([...b.subarray(8, 12)], [4, 0, 0, 0]);
  assert.deepEqual([...b.subarray(12, 28)], [...IpAddress.fromKey(g1).bytes()]);
  assert.deepEqual([...b.subarray(28, 32)], [2, 0, 0, 0]);
  assert.deepEqual([...b.subarray(32, 48)], [...IpAddress.fromKey(g2).bytes()]);
});

Deno.test("mld wire: MLDv1 messages and the Router Alert header", () => {
  const b = new Uint8Array(32).fill(0xee);
  assert.equal(writeMldHopByHop(b, 0), 8);
  assert.equal(writeMldV1(b, 8, 132, IpAddress.parse("ff02::fb")!.key), 24);
  assert.deepEqual([...b.subarray(0, 16)], [58, 0, 5, 2, 0, 0, 1, 0, 132, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(formatIpKey(mldGroupKey(b, 8)), "ff02::fb");
});

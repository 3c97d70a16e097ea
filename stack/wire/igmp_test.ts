import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { internetChecksum } from "./checksum.ts";
import {
  checkIgmp,
  decodeIgmpCode,
  encodeIgmpCode,
  formatIgmp,
  igmpGroup,
  igmpMaxRespTime,
  igmpV3QueryInterval,
  igmpV3QueryRobustness,
  igmpV3QuerySource,
  igmpV3QuerySourceCount,
  igmpV3QuerySuppress,
  igmpV3ReportLength,
  writeIgmpIpHeader,
  writeIgmpV12,
  writeIgmpV3Report,
} from "./igmp.ts";

/** An IGMPv3 group-and-source-specific query for 239.1.2.3 from 10.0.0.9 and 10.0.0.10. */
const V3_QUERY = new Uint8Array([
  0x11,
  0x64,
  0x00,
  0x00, // type, Max Resp Code 100 (10 s), checksum (filled below)
  239,
  1,
  2,
  3, // group
  0x0a,
  0x7d,
  0x00,
  0x02, // S=1 QRV=2, QQIC 125, 2 sources
  10,
  0,
  0,
  9,
  10,
  0,
  0,
  10,
]);
const sum = internetChecksum(V3_QUERY);
V3_QUERY[2] = sum >> 8;
V3_QUERY[3] = sum & 0xff;

/** An IGMPv2 report for 224.0.0.251 (mDNS): checksum ~(0x1600 + 0xe000 + 0x00fb) = 0x0904. */
const V2_REPORT = new Uint8Array([0x16, 0x00, 0x09, 0x04, 0xe0, 0x00, 0x00, 0xfb]);

Deno.test("igmp wire: a v3 group-and-source-specific query deconstructs", () => {
  assert.equal(checkIgmp(V3_QUERY, 0, V3_QUERY.length), "query_v3");
  assert.equal(igmpGroup(V3_QUERY, 0), 0xef010203);
  assert.equal(igmpMaxRespTime(V3_QUERY, 0, 3), 100);
  assert.equal(igmpV3QuerySuppress(V3_QUERY, 0), true);
  assert.equal(igmpV3QueryRobustness(V3_QUERY, 0), 2);
  assert.equal(igmpV3QueryInterval(V3_QUERY, 0), 125);
  assert.equal(igmpV3QuerySourceCount(V3_QUERY, 0), 2);
  assert.equal(igmpV3QuerySource(V3_QUERY, 0, 1), 0x0a00000a);
  assert.equal(
    formatIgmp(V3_QUERY, 0, V3_QUERY.length),
    "igmp query v3 [gaddr 239.1.2.3] 2 source(s) [max resp time 10s]",
  );
});

Deno.test("igmp wire: a v2 report from Linux deconstructs and its checksum holds", () => {
  assert.equal(checkIgmp(V2_REPORT, 0, 8), "report_v2");
  assert.equal(igmpGroup(V2_REPORT, 0), 0xe00000fb);
  const b = new Uint8Array(8);
  writeIgmpV12(b, 0, 0x16, 0xe00000fb);
  assert.deepEqual(b, V2_REPORT);
});

Deno.test("igmp wire: query versions by length (RFC 3376 §7.1)", () => {
  const b = new Uint8Array(12);
  writeIgmpV12(b, 0, 0x11, 0, 0);
  assert.equal(checkIgmp(b, 0, 8), "query_v1");
  writeIgmpV12(b, 0, 0x11, 0, 100);
  assert.equal(checkIgmp(b, 0, 8), "query_v2");
  for (const len of [9, 10, 11]) {
    const q = new Uint8Array(len);
    q[0] = 0x11;
    const s = internetChecksum(q);
    q[2] = s >> 8;
    q[3] = s & 0xff;
    assert.equal(checkIgmp(q, 0, len), "bad_length", `length ${len}`);
  }
});

Deno.test("igmp wire: every prefix of a query is a drop reason or a shorter valid message, never an exception", () => {
  for (let n = 0; n < V3_QUERY.length; n++) {
    const r = checkIgmp(V3_QUERY, 0, n);
    assert.ok(r === "truncated" || r === "bad_checksum" || r === "bad_length", `${n}: ${r}`);
  }
});

Deno.test("igmp wire: a v3 report is written as RFC 3376 §4.2 lays it out", () => {
  const recs = [
    { type: 4, group: 0xef010203, sources: [] },
    { type: 5, group: 0xef010204, sources: [0x0a000009, 0x0a00000a] },
  ];
  const len = igmpV3ReportLength(recs);
  assert.equal(len, 8 + 8 + 16);
  const b = new Uint8Array(len + 4);
  assert.equal(writeIgmpV3Report(b, 2, recs), len);
  assert.deepEqual([...b.subarray(2, 10)], [0x22, 0, b[4], b[5], 0, 0, 0, 2]);
  assert.deepEqual([...b.subarray(10, 18)], [4, 0, 0, 0, 239, 1, 2, 3]);
  assert.deepEqual([...b.subarray(18, 34)], [5, 0, 0, 2, 239, 1, 2, 4, 10, 0, 0, 9, 10, 0, 0, 10]);
  assert.equal(internetChecksum(b.subarray(2, 2 + len)), 0);
  assert.equal(checkIgmp(b, 2, 2 + len), "report_v3");
});

Deno.test("igmp wire: the report's IPv4 header has TTL 1, DF, Router Alert and a valid checksum", () => {
  const b = new Uint8Array(24);
  writeIgmpIpHeader(b, 0, 8, 0x0a000001, 0xe00000fb);
  assert.equal(internetChecksum(b), 0);
  assert.equal(b[0], 0x46);
  assert.equal(b[6], 0x40); // DF
  assert.equal(b[8], 1); // TTL
  assert.equal(b[9], 2); // IGMP
  assert.deepEqual([...b.subarray(16, 24)], [224, 0, 0, 251, 148, 4, 0, 0]);
});

Deno.test("igmp wire: encodeIgmpCode() rounds down and decodeIgmpCode() inverts it on every code", () => {
  for (let code = 0; code < 256; code++) assert.equal(encodeIgmpCode(decodeIgmpCode(code)), code);
  assert.equal(decodeIgmpCode(encodeIgmpCode(1000)), 992);
});

Deno.test("igmp wire: checkIgmp() and the accessors never throw or read out of bounds on arbitrary bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 48 }),
      fc.constantFrom(0x11, 0x12, 0x16, 0x17, 0x22, 0x99),
      (bytes, type) => {
        if (bytes.length > 0) bytes[0] = type;
        if (bytes.length >= 4) {
          bytes[2] = bytes[3] = 0;
          const s = internetChecksum(bytes);
          bytes[2] = s >> 8;
          bytes[3] = s & 0xff;
        }
        const kind = checkIgmp(bytes, 0, bytes.length);
        formatIgmp(bytes, 0, bytes.length);
        if (kind === "query_v3") {
          for (let i = 0; i < igmpV3QuerySourceCount(bytes, 0); i++) {
            assert.ok(12 + 4 * i + 4 <= bytes.length);
            igmpV3QuerySource(bytes, 0, i);
          }
        }
        if (kind === "truncated") assert.ok(bytes.length < 8 || type === 0x11);
      },
    ),
    { numRuns: 1000 },
  );
});

import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import {
  checkIgmp,
  igmpGroup,
  igmpMaxRespTime,
  igmpV3QueryInterval,
  igmpV3QueryRobustness,
  igmpV3QuerySource,
  igmpV3QuerySourceCount,
  igmpV3QuerySuppress,
  writeIgmpV3Report,
} from "./igmp.ts";
import { igmpV3QueryLength, igmpV3Records, writeIgmpV3Query } from "./igmp_query.ts";

/** Q(239.1.2.3, {10.0.0.9}): Max Resp 1 s, S set, QRV 2, QQIC 125; checksum 0xe969. */
// deno-fmt-ignore
const QUERY = new Uint8Array([
  0x11, 10, 0xe9, 0x69, // type, Max Resp Code 10, checksum
  239, 1, 2, 3, // group
  0x0a, 125, 0, 1, // S=1 QRV=2, QQIC, one source
  10, 0, 0, 9, // the source
]);

/** A v3 report: ALLOW(239.1.2.3, {10.0.0.9}) with one word of aux data, then TO_EX(232.1.1.1, {}). */
// deno-fmt-ignore
const REPORT = new Uint8Array([
  0x22, 0, 0, 0, 0, 0, 0, 2, // type, checksum (not read here), two records
  5, 1, 0, 1, 239, 1, 2, 3, 10, 0, 0, 9, 0xde, 0xad, 0xbe, 0xef, // ALLOW, aux 1 word
  4, 0, 0, 0, 232, 1, 1, 1, // TO_EX {}
]);

Deno.test("writeIgmpV3Query() builds the commented query byte for byte", () => {
  const b = new Uint8Array(igmpV3QueryLength(1));
  const n = writeIgmpV3Query(b, 0, {
    group: 0xef010203,
    maxRespTime: 10,
    suppress: true,
    robustness: 2,
    queryInterval: 125,
    sources: [0x0a000009],
  });
  assert.equal(n, 16);
  assert.deepEqual(b, QUERY);
});

Deno.test("a written query reads back through igmp.ts's accessors", () => {
  assert.equal(checkIgmp(QUERY, 0, QUERY.length), "query_v3");
  assert.equal(igmpGroup(QUERY, 0), 0xef010203);
  assert.equal(igmpMaxRespTime(QUERY, 0, 3), 10);
  assert.equal(igmpV3QuerySuppress(QUERY, 0), true);
  assert.equal(igmpV3QueryRobustness(QUERY, 0), 2);
  assert.equal(igmpV3QueryInterval(QUERY, 0), 125);
  assert.equal(igmpV3QuerySourceCount(QUERY, 0), 1);
  assert.equal(igmpV3QuerySource(QUERY, 0, 0), 0x0a000009);
});

Deno.test("writeIgmpV3Query() encodes large Max Resp Time and QQI as floating-point codes", () => {
  const b = new Uint8Array(12);
  writeIgmpV3Query(b, 0, {
    group: 0,
    maxRespTime: 1000,
    suppress: false,
    robustness: 7,
    queryInterval: 300,
    sources: [],
  });
  assert.equal(checkIgmp(b, 0, 12), "query_v3");
  assert.equal(igmpMaxRespTime(b, 0, 3), 992); // rounded down to what the code can say
  assert.equal(igmpV3QueryInterval(b, 0), 288);
  assert.equal(igmpV3QueryRobustness(b, 0), 7);
  assert.equal(igmpV3QuerySuppress(b, 0), false);
});

Deno.test("igmpV3Records() reads the commented report, skipping auxiliary data", () => {
  assert.deepEqual(igmpV3Records(REPORT, 0, REPORT.length), [[
    { type: 5, group: 0xef010203, sources: [0x0a000009] },
    { type: 4, group: 0xe8010101, sources: [] },
  ], true]);
});

Deno.test("igmpV3Records() on every prefix: the whole records before the cut, never a throw", () => {
  for (let end = 0; end < REPORT.length; end++) {
    const [records, whole] = igmpV3Records(REPORT, 0, end);
    assert.equal(whole, false, `prefix ${end}`);
    assert.equal(records.length, end >= 24 ? 1 : 0, `prefix ${end}`);
  }
});

Deno.test("igmpV3Records() round-trips writeIgmpV3Report() for any records", () => {
  const record = fc.record({
    type: fc.integer({ min: 1, max: 6 }),
    group: fc.integer({ min: 0xe0000000, max: 0xefffffff }),
    sources: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 5 }),
  });
  fc.assert(fc.property(fc.array(record, { maxLength: 6 }), (records) => {
    let len = 8;
    for (const r of records) len += 8 + 4 * r.sources.length;
    const b = new Uint8Array(len);
    writeIgmpV3Report(b, 0, records);
    assert.equal(checkIgmp(b, 0, len), "report_v3");
    assert.deepEqual(igmpV3Records(b, 0, len), [records, true]);
  }));
});

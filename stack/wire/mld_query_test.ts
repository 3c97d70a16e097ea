import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { IpAddress } from "./ip_address.ts";
import {
  checkMldQuery,
  mldGroupKey,
  mldMaxResponseDelay,
  mldQueryInterval,
  mldQueryRobustness,
  mldQuerySource,
  mldQuerySources,
  writeMldV2Report,
} from "./mld.ts";
import { encodeMldCode, mldV2QueryLength, mldV2Records, writeMldV2Query } from "./mld_query.ts";

const G = IpAddress.parse("ff0e::1:3")!.key;
const S = IpAddress.parse("2001:db8::9")!.key;

/** Q(ff0e::1:3, {2001:db8::9}): Max Resp 1000 ms, S set, QRV 2, QQIC 125 (checksum left 0). */
// deno-fmt-ignore
const QUERY = new Uint8Array([
  130, 0, 0, 0, // type, code, checksum (set with the pseudo-header by the caller)
  0x03, 0xe8, 0, 0, // Maximum Response Code 1000, reserved
  0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, // group
  0x0a, 125, 0, 1, // S=1 QRV=2, QQIC, one source
  0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, // the source
]);

Deno.test("writeMldV2Query() builds the commented query byte for byte", () => {
  const b = new Uint8Array(mldV2QueryLength(1));
  const q = {
    group: G,
    maxResponseDelay: 1000,
    suppress: true,
    robustness: 2,
    queryInterval: 125,
    sources: [S],
  };
  assert.equal(writeMldV2Query(b, 0, q), 44);
  assert.deepEqual(b, QUERY);
});

Deno.test("a written MLDv2 query reads back through mld.ts's accessors", () => {
  assert.equal(checkMldQuery(QUERY, 0, QUERY.length), 2);
  assert.equal(mldGroupKey(QUERY, 0), G);
  assert.equal(mldMaxResponseDelay(QUERY, 0, 2), 1000);
  assert.equal(mldQueryRobustness(QUERY, 0), 2);
  assert.equal(mldQueryInterval(QUERY, 0), 125);
  assert.equal(mldQuerySources(QUERY, 0), 1);
  assert.equal(mldQuerySource(QUERY, 0, 0), S);
});

Deno.test("writeMldV2Query() writes a General Query as the unspecified group; large delays as float codes", () => {
  const b = new Uint8Array(28).fill(0xee);
  writeMldV2Query(b, 0, {
    group: null,
    maxResponseDelay: 100_000,
    suppress: false,
    robustness: 2,
    queryInterval: 125,
    sources: [],
  });
  assert.deepEqual([...b.subarray(8, 24)], new Array(16).fill(0));
  assert.equal(mldMaxResponseDelay(b, 0, 2), 100_000); // (0x86a | 0x1000) << 4, exactly
  assert.equal(mldMaxResponseDelay(QUERY, 0, 2), 1000);
  assert.equal(encodeMldCode(32767), 32767);
});

Deno.test("mldV2Records() on every prefix of a report: the whole records before the cut, never a throw", () => {
  const b = new Uint8Array(8 + 36 + 20);
  writeMldV2Report(b, 0, [{ type: 5, group: G, sources: [S] }, { type: 4, group: G }]);
  assert.deepEqual(mldV2Records(b, 0, b.length), [[
    { type: 5, group: G, sources: [S] },
    { type: 4, group: G, sources: [] },
  ], true]);
  for (let end = 0; end < b.length; end++) {
    const [records, whole] = mldV2Records(b, 0, end);
    assert.equal(whole, false);
    assert.equal(records.length, end >= 44 ? 1 : 0, `prefix ${end}`);
  }
});

Deno.test("mldV2Records() round-trips writeMldV2Report() for any records", () => {
  const key = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((x) => IpAddress.v6(x).key);
  const record = fc.record({
    type: fc.integer({ min: 1, max: 6 }),
    group: key,
    sources: fc.array(key, { maxLength: 3 }),
  });
  fc.assert(fc.property(fc.array(record, { maxLength: 4 }), (records) => {
    let len = 8;
    for (const r of records) len += 20 + 16 * r.sources.length;
    const b = new Uint8Array(len);
    writeMldV2Report(b, 0, records);
    assert.deepEqual(mldV2Records(b, 0, len), [records, true]);
  }));
});

import assert from "node:assert/strict";
import {
  checkIpv4Options,
  copyEchoIpv4Options,
  emitIpv4Options,
  formatIpv4Options,
  Ipv4OptionOffsets,
  type Ipv4OptionRepr,
  ipv4OptionsLength,
  ipv4TimestampOverflowed,
  parseIpv4Options,
  recordIpv4Options,
} from "./ipv4_options.ts";

// What `ping -R` sends, after Linux recorded its own address: NOP, then
// Record Route, length 39 (nine slots), pointer 8 (slot 2 is next).
const RR_FIXTURE = new Uint8Array([
  0x01, // NOP
  0x07,
  0x27,
  0x08, // RR, length 39, pointer 8
  0x0a,
  0x00,
  0x00,
  0x01, // 10.0.0.1
  ...new Array(32).fill(0), // eight empty slots
]);
const RR_REPR: Ipv4OptionRepr[] = [
  { kind: "nop" },
  { kind: "record_route", pointer: 8, addresses: [0x0a000001, 0, 0, 0, 0, 0, 0, 0, 0] },
];

// `ping -T tsandaddr`-style Timestamp, length 20: two (address, time)
// entries, the first filled; overflow 2; then Router Alert; 24 bytes.
const TS_RA_FIXTURE = new Uint8Array([
  0x44,
  0x14,
  0x0d,
  0x21, // TS, length 20, pointer 13, overflow 2 flag 1
  0x0a,
  0x00,
  0x00,
  0x02,
  0x00,
  0x01,
  0x00,
  0x00, // 10.0.0.2 @ 65536 ms
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00, // empty entry
  0x94,
  0x04,
  0x00,
  0x00, // Router Alert, value 0
]);
const TS_RA_REPR: Ipv4OptionRepr[] = [
  { kind: "timestamp", pointer: 13, overflow: 2, flag: 1, words: [0x0a000002, 65536, 0, 0] },
  { kind: "router_alert", value: 0 },
];

// Security (skipped by length), Loose Source Route with one hop, End.
const LSRR_FIXTURE = new Uint8Array([
  0x82,
  0x04,
  0xab,
  0xcd, // Security, length 4
  0x83,
  0x07,
  0x04,
  0xc0,
  0x00,
  0x02,
  0x01, // LSRR, pointer 4, 192.0.2.1
  0x00, // EOL
]);
const LSRR_REPR: Ipv4OptionRepr[] = [
  { kind: "unknown", type: 0x82, data: new Uint8Array([0xab, 0xcd]) },
  { kind: "loose_source_route", pointer: 4, addresses: [0xc0000201] },
  { kind: "end" },
];

const FIXTURES = [RR_FIXTURE, TS_RA_FIXTURE, LSRR_FIXTURE];

Deno.test("checkIpv4Options() deconstructs Record Route behind a NOP", () => {
  const o = new Ipv4OptionOffsets();
  assert.equal(checkIpv4Options(RR_FIXTURE, 0, RR_FIXTURE.length, o), -1);
  assert.equal(o.rr, 1);
  assert.equal(RR_FIXTURE[o.rr + 2], 8);
  assert.deepEqual([o.ts, o.srr, o.ra, o.error], [-1, -1, -1, ""]);
});

Deno.test("checkIpv4Options() deconstructs Timestamp and Router Alert", () => {
  const o = new Ipv4OptionOffsets();
  assert.equal(checkIpv4Options(TS_RA_FIXTURE, 0, TS_RA_FIXTURE.length, o), -1);
  assert.deepEqual([o.ts, o.ra, o.rr, o.srr], [0, 20, -1, -1]);
});

Deno.test("checkIpv4Options() finds a source route past an unknown option", () => {
  const o = new Ipv4OptionOffsets();
  assert.equal(checkIpv4Options(LSRR_FIXTURE, 0, LSRR_FIXTURE.length, o), -1);
  assert.equal(o.srr, 4);
});

Deno.test("checkIpv4Options() reads inside a larger buffer at an offset", () => {
  const b = new Uint8Array(60).fill(0xee);
  b.set(RR_FIXTURE, 20);
  const o = new Ipv4OptionOffsets();
  assert.equal(checkIpv4Options(b, 20, 40, o), -1);
  assert.equal(o.rr, 1);
});

Deno.test("emitIpv4Options() constructs the fixtures", () => {
  for (const [repr, bytes] of [[RR_REPR, RR_FIXTURE], [TS_RA_REPR, TS_RA_FIXTURE]] as const) {
    assert.equal(ipv4OptionsLength(repr), bytes.length);
    const out = new Uint8Array(bytes.length).fill(0xff);
    assert.equal(emitIpv4Options(repr, out), bytes.length);
    assert.deepEqual(out, bytes);
  }
  const out = new Uint8Array(12).fill(0xff);
  assert.equal(emitIpv4Options(LSRR_REPR, out), 12);
  assert.deepEqual(out, LSRR_FIXTURE);
});

Deno.test("emitIpv4Options() pads to a multiple of 4 with End of Option List", () => {
  const out = new Uint8Array(8).fill(0xff);
  assert.equal(
    emitIpv4Options([{ kind: "record_route", pointer: 4, addresses: [0] }], out),
    8,
  );
  assert.deepEqual([...out], [7, 7, 4, 0, 0, 0, 0, 0]);
});

Deno.test("parseIpv4Options() parses the fixtures", () => {
  assert.deepEqual(parseIpv4Options(RR_FIXTURE), RR_REPR);
  assert.deepEqual(parseIpv4Options(TS_RA_FIXTURE), TS_RA_REPR);
  assert.deepEqual(parseIpv4Options(LSRR_FIXTURE), LSRR_REPR);
});

Deno.test("parseIpv4Options() then emitIpv4Options() gives the bytes back", () => {
  for (const f of FIXTURES) {
    const r = parseIpv4Options(f);
    assert.ok(Array.isArray(r));
    const out = new Uint8Array(f.length);
    emitIpv4Options(r, out);
    assert.deepEqual(out, f);
  }
});

// [what, options bytes, offset of the bad byte, why]
const MALFORMED: [string, number[], number, string][] = [
  ["type in the last byte", [1, 1, 1, 7], 3, "option_truncated"],
  ["length 1", [7, 1, 4, 0], 1, "option_bad_length"],
  ["length 0 of an unknown option", [1, 0x82, 0, 0], 2, "option_bad_length"],
  ["length past the area", [1, 7, 11, 4, 0, 0, 0, 0], 2, "option_bad_length"],
  ["RR length 2", [7, 2, 1, 0], 1, "option_bad_length"],
  ["RR pointer 3", [7, 7, 3, 0, 0, 0, 0, 0], 2, "option_bad_pointer"],
  ["RR pointer 0", [7, 7, 0, 0, 0, 0, 0, 0], 2, "option_bad_pointer"],
  ["RR pointer inside the last slot", [7, 7, 5, 0, 0, 0, 0, 0], 2, "option_bad_pointer"],
  ["SSRR pointer 2", [137, 7, 2, 0, 0, 0, 0, 0], 2, "option_bad_pointer"],
  ["TS length 3", [68, 3, 5, 0], 1, "option_bad_length"],
  ["TS pointer 4", [68, 8, 4, 0, 0, 0, 0, 0], 2, "option_bad_pointer"],
  ["TS flag 2", [68, 8, 5, 2, 0, 0, 0, 0], 3, "option_bad_flag"],
  ["TS+addr without room for an entry", [68, 8, 5, 1, 0, 0, 0, 0], 2, "option_bad_pointer"],
  ["RA length 2", [148, 2, 0, 0], 1, "option_bad_length"],
  ["two RR", [7, 3, 4, 7, 3, 4, 0, 0], 3, "option_duplicate"],
  ["two TS", [68, 4, 5, 0, 68, 4, 5, 0], 4, "option_duplicate"],
  ["two RA", [148, 4, 0, 0, 148, 4, 0, 0], 4, "option_duplicate"],
  ["LSRR then SSRR", [131, 3, 4, 137, 3, 4, 0, 0], 3, "option_duplicate"],
];

for (const [what, bytes, offset, why] of MALFORMED) {
  Deno.test(`checkIpv4Options() rejects ${what} at offset ${offset}`, () => {
    const o = new Ipv4OptionOffsets();
    const b = new Uint8Array(bytes);
    assert.equal(checkIpv4Options(b, 0, b.length, o), offset);
    assert.equal(o.error, why);
    assert.deepEqual(parseIpv4Options(b), { error: why, offset });
  });
}

Deno.test("checkIpv4Options() accepts a full RR and a full TS with room in the counter", () => {
  const o = new Ipv4OptionOffsets();
  const b = new Uint8Array([7, 7, 8, 10, 0, 0, 1, 68, 8, 9, 0x30, 0, 0, 0, 1, 0]);
  assert.equal(checkIpv4Options(b, 0, b.length, o), -1);
  assert.deepEqual([o.rr, o.ts], [0, 7]);
});

Deno.test("checkIpv4Options() accepts a full TS with overflow 15 (a sender may send it)", () => {
  const o = new Ipv4OptionOffsets();
  const b = new Uint8Array([68, 8, 9, 0xf0, 0, 0, 0, 0]);
  assert.equal(checkIpv4Options(b, 0, b.length, o), -1);
  assert.ok(ipv4TimestampOverflowed(b, o.ts));
});

Deno.test("checkIpv4Options() ignores bytes after End of Option List", () => {
  const o = new Ipv4OptionOffsets();
  const b = new Uint8Array([0, 7, 1, 0xff]);
  assert.equal(checkIpv4Options(b, 0, b.length, o), -1);
});

Deno.test("checkIpv4Options() and parseIpv4Options() on every prefix never throw", () => {
  const o = new Ipv4OptionOffsets();
  for (const f of [...FIXTURES, ...MALFORMED.map((m) => new Uint8Array(m[1]))]) {
    for (let n = 0; n <= f.length; n++) {
      const p = f.subarray(0, n);
      const bad = checkIpv4Options(p, 0, n, o);
      assert.ok(bad === -1 || (bad >= 0 && bad < n), `prefix ${n}: ${bad}`);
      const r = parseIpv4Options(p);
      assert.ok(Array.isArray(r) === (bad === -1));
      formatIpv4Options(p);
    }
  }
});

Deno.test("checkIpv4Options() refuses bounds outside the buffer instead of reading them", () => {
  const o = new Ipv4OptionOffsets();
  assert.equal(checkIpv4Options(new Uint8Array(4), 2, 4, o), 0);
  assert.equal(o.error, "option_truncated");
});

function header(options: number[]): Uint8Array {
  const h = new Uint8Array(20 + options.length);
  h[0] = 0x40 | (h.length >> 2);
  h.set(options, 20);
  return h;
}

Deno.test("recordIpv4Options() fills Timestamp only, then counts overflow when full", () => {
  const h = header([68, 8, 5, 0, 0, 0, 0, 0]);
  assert.ok(recordIpv4Options(h, 0, h.length, 0x0a000002, 0x01020304, true));
  assert.deepEqual([...h.subarray(20)], [68, 8, 9, 0, 1, 2, 3, 4]);
  assert.ok(recordIpv4Options(h, 0, h.length, 0x0a000002, 7, true));
  assert.equal(h[23], 0x10); // overflow 1, flag 0
  assert.ok(!recordIpv4Options(h, 0, h.length, 0x0a000002, 7, false)); // the sender's own: not counted
  assert.equal(h[23], 0x10);
});

Deno.test("recordIpv4Options() fills Timestamp with address", () => {
  const h = header([68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.ok(recordIpv4Options(h, 0, h.length, 0x0a000002, 1000, true));
  assert.deepEqual([...h.subarray(20)], [68, 12, 13, 1, 10, 0, 0, 2, 0, 0, 3, 0xe8]);
});

Deno.test("recordIpv4Options() stamps a prespecified Timestamp only for its address", () => {
  const h = header([68, 12, 5, 3, 10, 0, 0, 9, 0, 0, 0, 0]);
  assert.ok(!recordIpv4Options(h, 0, h.length, 0x0a000002, 1000, true));
  assert.equal(h[22], 5);
  assert.ok(recordIpv4Options(h, 0, h.length, 0x0a000009, 1000, true));
  assert.deepEqual([...h.subarray(20)], [68, 12, 13, 3, 10, 0, 0, 9, 0, 0, 3, 0xe8]);
});

Deno.test("recordIpv4Options() leaves a header without RR or TS alone", () => {
  const h = header([148, 4, 0, 0]);
  assert.ok(!recordIpv4Options(h, 0, h.length, 0x0a000002, 1000, true));
  assert.deepEqual([...h.subarray(20)], [148, 4, 0, 0]);
});

Deno.test("copyEchoIpv4Options() keeps RR and TS, drops the rest, pads", () => {
  const h = header([148, 4, 0, 0, 1, 68, 8, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
  const out = new Uint8Array(40).fill(0xff);
  assert.equal(copyEchoIpv4Options(h, 0, h.length, out), 8);
  assert.deepEqual([...out.subarray(0, 8)], [68, 8, 5, 0, 0, 0, 0, 0]);
  assert.equal(copyEchoIpv4Options(header([148, 4, 0, 0]), 0, 24, out), 0);
});

Deno.test("formatIpv4Options() prints tcpdump-style text", () => {
  assert.equal(
    formatIpv4Options(RR_FIXTURE),
    "options (NOP,RR 10.0.0.1 ^0.0.0.0 0.0.0.0 0.0.0.0 0.0.0.0 0.0.0.0 0.0.0.0 0.0.0.0 0.0.0.0)",
  );
  assert.equal(
    formatIpv4Options(TS_RA_FIXTURE),
    "options (TS{TS+ADDR 10.0.0.2@65536 ^0.0.0.0@0} [2 hops not recorded],RA value 0)",
  );
  assert.equal(
    formatIpv4Options(LSRR_FIXTURE),
    "options (opt-130 len 4,LSRR ^192.0.2.1,EOL)",
  );
  assert.equal(
    formatIpv4Options(new Uint8Array([7, 7, 3, 0, 0, 0, 0, 0])),
    "[bad options: option_bad_pointer at 2]",
  );
});

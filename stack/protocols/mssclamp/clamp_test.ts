import assert from "node:assert/strict";
import { clampSynMss } from "./clamp.ts";
import { finishChecksum, pseudoHeaderSumV4, sumBytes } from "../../wire/checksum.ts";

const SRC = 0x0a010002;
const DST = 0x0a020002;

/** A TCP segment with `options` (padded to 4) and `payload`, checksummed for SRC → DST. */
function segment(flags: number, options: number[], payload: number[] = []): Uint8Array {
  const optLen = (options.length + 3) & ~3;
  const s = new Uint8Array(20 + optLen + payload.length);
  s.set([
    0x9c,
    0x40,
    0x00,
    0x50,
    1,
    2,
    3,
    4,
    0,
    0,
    0,
    0,
    ((20 + optLen) / 4) << 4,
    flags,
    0xff,
    0xff,
  ]);
  s.set(options, 20);
  s.set(payload, 20 + optLen);
  fix(s);
  return s;
}

function fix(s: Uint8Array): void {
  s[16] = s[17] = 0;
  const sum = finishChecksum(sumBytes(s, pseudoHeaderSumV4(SRC, DST, 6, s.length)));
  s[16] = sum >> 8;
  s[17] = sum & 0xff;
}

function checksumOk(s: Uint8Array): boolean {
  return finishChecksum(sumBytes(s, pseudoHeaderSumV4(SRC, DST, 6, s.length))) === 0;
}

Deno.test("clampSynMss lowers an MSS at an even offset and keeps the checksum valid", () => {
  const s = segment(0x02, [2, 4, 0x05, 0xb4, 4, 2, 1, 1]); // MSS 1460, SACK_PERM
  assert.equal(clampSynMss(s, 0, s.length, 1360), "clamped");
  assert.equal((s[22]! << 8) | s[23]!, 1360);
  assert.ok(checksumOk(s));
});

Deno.test("clampSynMss lowers an MSS at an odd offset (after one NOP), payload after it", () => {
  const s = segment(0x12, [1, 2, 4, 0x05, 0xa0, 1, 1, 1], [0xab, 0xcd, 0xef]); // SYN-ACK MSS 1440
  assert.equal(clampSynMss(s, 0, s.length, 1220), "clamped");
  assert.equal((s[23]! << 8) | s[24]!, 1220);
  assert.ok(checksumOk(s));
});

Deno.test("clampSynMss lowers an MSS at odd offsets deeper in the options", () => {
  const s = segment(0x02, [1, 1, 1, 2, 4, 0x05, 0xb4, 0], [0x77]);
  // MSS value at offsets 25..26 (odd), the byte after it is option padding.
  assert.equal(clampSynMss(s, 0, s.length, 1000), "clamped");
  assert.ok(checksumOk(s));
  const t = segment(0x02, [1, 1, 1, 1, 1, 2, 4, 0x05, 0xb4, 1, 1], [0x77]);
  assert.equal(clampSynMss(t, 0, t.length, 1000), "clamped");
  assert.ok(checksumOk(t));
});

Deno.test("clampSynMss never raises an MSS, ignores non-SYNs, reports a SYN without the option", () => {
  const small = segment(0x02, [2, 4, 0x02, 0x18]); // 536
  assert.equal(clampSynMss(small, 0, small.length, 1360), "kept");
  assert.equal((small[22]! << 8) | small[23]!, 536);
  const ack = segment(0x10, [2, 4, 0x05, 0xb4]);
  assert.equal(clampSynMss(ack, 0, ack.length, 1000), "not_syn");
  const bare = segment(0x02, [1, 1, 1, 0]);
  assert.equal(clampSynMss(bare, 0, bare.length, 1000), "no_option");
});

Deno.test("clampSynMss never reads past a truncated or malformed option list", () => {
  const s = segment(0x02, [2, 4, 0x05, 0xb4]);
  for (let n = 0; n < s.length; n++) {
    const r = clampSynMss(s.subarray(0, n), 0, n, 1000);
    assert.ok(["not_syn", "bad_options"].includes(r), `prefix ${n}: ${r}`);
  }
  const bad = segment(0x02, [2, 9, 0x05, 0xb4]);
  assert.equal(clampSynMss(bad, 0, bad.length, 1000), "bad_options");
  const zero = segment(0x02, [8, 0, 0, 0]);
  assert.equal(clampSynMss(zero, 0, zero.length, 1000), "bad_options");
});

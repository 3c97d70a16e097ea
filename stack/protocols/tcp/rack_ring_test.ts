import assert from "node:assert/strict";
import { RackRing } from "./rack_ring.ts";
import { Rack } from "./rack.ts";

/** The records of `r`, oldest first, as `[start, end, time]`. */
function records(r: RackRing): number[][] {
  const out = [];
  for (let k = 0; k < r.count; k++) {
    const i = r.slot(k);
    out.push([r.start[i]!, r.end[i]!, r.time[i]!]);
  }
  return out;
}

Deno.test("RackRing: records keep their order across wrap-around, growth and a split", () => {
  const r = new RackRing();
  for (let i = 0; i < 16; i++) r.push(i * 10, i * 10 + 10, i, i);
  r.drop(10); // head moves to slot 10
  for (let i = 16; i < 26; i++) r.push(i * 10, i * 10 + 10, i, i); // wraps: 16 slots full
  assert.equal(r.count, 16);
  assert.equal(r.mask, 15);
  r.split(3, 135); // full: grows to 32 slots, then splits [130, 140)
  assert.equal(r.mask, 31);
  const want = [];
  for (let i = 10; i < 26; i++) {
    if (i === 13) want.push([130, 135, 13], [135, 140, 13]);
    else want.push([i * 10, i * 10 + 10, i]);
  }
  assert.deepEqual(records(r), want);
});

Deno.test("RackRing: sequence numbers past 2^31 are kept as unsigned", () => {
  const r = new RackRing();
  r.push(0xffff_fff0, 0x10, 7, 1);
  assert.deepEqual(records(r), [[0xffff_fff0, 0x10, 7]]);
});

Deno.test("RackRing: release gives the stores back only when empty", () => {
  const r = new RackRing();
  r.push(0, 10, 0, 0);
  r.release();
  assert.equal(r.count, 1);
  assert.equal(r.start.length, 16);
  r.drop(1);
  r.release();
  assert.equal(r.start.length, 0);
  r.push(10, 20, 1, 1); // regrows on use
  assert.deepEqual(records(r), [[10, 20, 1]]);
});

Deno.test("Rack: a SACK that splits a segment of a full, wrapped ring delivers the right part", () => {
  const r = new Rack(64);
  for (let i = 0; i < 16; i++) r.sent(i * 1000, i * 1000 + 1000, i);
  r.ack(5000, 100); // five forgotten: the ring's head is past its start
  for (let i = 16; i < 21; i++) r.sent(i * 1000, i * 1000 + 1000, i); // 16 records, wrapped
  assert.equal(r.count, 16);
  r.sack(7000, 7500, 200); // splits [7000, 8000) in a full ring: it regrows
  assert.equal(r.count, 17);
  assert.equal(r.segsSacked, 1);
  assert.equal(r.pipe(), 16 * 1000 - 500);
  r.ack(21_000, 300);
  assert.equal(r.count, 0);
  assert.equal(r.segsSacked, 0);
});

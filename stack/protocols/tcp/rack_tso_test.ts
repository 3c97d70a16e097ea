import assert from "node:assert/strict";
import { Rack } from "./rack.ts";

// RACK keeps one record per segment sent; with TSO one record is a whole
// super-segment, and the peer SACKs it MSS by MSS.

Deno.test("Rack: a super-segment SACKed in part leaves the pipe in part, and only its hole is lost", () => {
  const r = new Rack(64);
  r.sent(0, 64_000, 0); // one 64 kB super-segment
  r.sent(64_000, 128_000, 1); // and another
  // The first MSS of the first is lost: the peer SACKs everything after it.
  r.sack(1000, 128_000, 20_000);
  assert.equal(r.pipe(), 1000, "only the hole is in flight");
  r.detectLoss(40_000, 0);
  assert.equal(r.nextLost(), 0);
  assert.equal(r.endOf(0), 1000, "the retransmission is the hole, not the 63 kB SACKed");
  assert.equal(r.pipe(), 0);
});

Deno.test("Rack: a block inside a super-segment splits it in three; a later block joins the rest", () => {
  const r = new Rack(64);
  r.sent(0, 10_000, 0);
  r.sack(4000, 6000, 10_000);
  assert.equal(r.count, 3);
  assert.equal(r.pipe(), 8000);
  assert.equal(r.segsSacked, 1);
  r.sack(6000, 10_000, 11_000);
  assert.equal(r.pipe(), 4000);
  r.ack(10_000, 12_000);
  assert.equal(r.count, 0);
  assert.equal(r.segsSacked, 0);
});

Deno.test("Rack: at the record limit a partial block splits nothing (bounded by the cap)", () => {
  const r = new Rack(2);
  r.sent(0, 10_000, 0);
  r.sent(10_000, 20_000, 1);
  for (let i = 0; i < 100; i++) r.sack(1000 + 10 * i, 1005 + 10 * i, 5000);
  assert.equal(r.count, 2);
  assert.equal(r.overflow, false);
  assert.equal(r.pipe(), 20_000);
});

Deno.test("Rack: the SACKed piece of a super-segment ranks after the hole before it (ties broken by end sequence, as Linux)", () => {
  const r = new Rack(64);
  r.sent(0, 3000, 0); // one super-segment of three MSS, one transmit time
  r.sack(1000, 3000, 10_000); // the first MSS is missing
  assert.equal(r.detectLoss(10_000, 0), 0);
  assert.equal(r.nextLost(), 0, "the hole was sent before the SACKed pieces");
  assert.equal(r.endOf(0), 1000);
});

Deno.test("Rack: a hole above the SACKed piece of a super-segment is not judged lost by it", () => {
  const r = new Rack(64);
  r.sent(0, 3000, 0);
  r.sack(0, 1000, 10_000); // only the first MSS: the rest was sent after it
  r.detectLoss(10_000, 0);
  assert.equal(r.nextLost(), -1);
});

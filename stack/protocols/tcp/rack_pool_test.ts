import assert from "node:assert/strict";
import { giveRack, Rack, RACK_SEGMENTS, takeRack } from "./rack.ts";

/** Sends, SACKs, loses, retransmits and acknowledges on `r`; returns what RACK answered. */
function drive(r: Rack): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < 40; i++) r.sent(i * 100, i * 100 + 100, 1000 + i); // past the initial ring size
  r.sack(500, 900, 5000);
  out.push(r.detectLoss(5000, 0), r.nextLost(), r.pipe());
  r.sent(0, 100, 6000);
  r.ack(300, 7000, 12_345, 7);
  r.sack(1000, 1200, 8000);
  r.ack(1200, 9000);
  out.push(r.detectLoss(9000, 100), r.nextLost(), r.pipe(), r.count);
  out.push(Object.entries(r));
  return out;
}

Deno.test("takeRack/giveRack: a Rack given back comes back in the state of a new one", () => {
  const r = takeRack();
  drive(r);
  assert.notDeepEqual(
    Object.entries(r),
    Object.entries(new Rack(RACK_SEGMENTS)),
    "driving changed it",
  );
  giveRack(r);
  const again = takeRack();
  assert.equal(again, r, "the pool returned the Rack given back");
  assert.equal(again.count, 0);
  // Every public field as initialized, and the private ones (send order,
  // fack, the ACK's TSecr) behave as a new Rack's.
  assert.deepEqual(Object.entries(again), Object.entries(new Rack(RACK_SEGMENTS)));
  assert.deepEqual(drive(again), drive(new Rack(RACK_SEGMENTS)));
  giveRack(again);
});

Deno.test("giveRack: the pool keeps at most 64 Racks, and none of another limit", () => {
  const given = new Set<Rack>();
  for (let i = 0; i < 100; i++) {
    const r = new Rack(RACK_SEGMENTS);
    given.add(r);
    giveRack(r);
  }
  const small = new Rack(8);
  giveRack(small);
  let reused = 0;
  for (let i = 0; i < 100; i++) {
    const r = takeRack();
    assert.notEqual(r, small);
    assert.equal(r.limit, RACK_SEGMENTS);
    if (given.has(r)) reused++;
  }
  assert.ok(reused <= 64, `${reused} Racks came back from the pool`);
  assert.ok(reused > 0);
});

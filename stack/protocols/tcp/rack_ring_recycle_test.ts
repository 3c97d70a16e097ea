import assert from "node:assert/strict";
import { RackRing } from "./rack_ring.ts";

Deno.test("RackRing: a recycled initial-size store starts the next ring, which shows none of the old records", () => {
  const a = new RackRing();
  a.push(100, 200, 5, 1);
  a.push(200, 300, 6, 2);
  const store = a.start;
  a.recycle();
  assert.equal(a.count, 0);
  assert.equal(a.start.length, 0, "the recycled ring holds nothing");
  const b = new RackRing();
  b.push(7, 8, 9, 10);
  assert.equal(b.start, store, "the next ring took the spare store, not a fresh one");
  assert.equal(b.count, 1);
  const i = b.slot(0);
  assert.deepEqual([b.start[i], b.end[i], b.time[i], b.order[i], b.flags[i]], [7, 8, 9, 10, 0]);
});

Deno.test("RackRing: a grown store is not kept as a spare", () => {
  const a = new RackRing();
  for (let i = 0; i < 40; i++) a.push(i, i + 1, i, i); // grown past the initial size
  const grown = a.start;
  a.recycle();
  const b = new RackRing();
  b.push(1, 2, 3, 4);
  assert.notEqual(b.start, grown);
  assert.ok(b.start.length < grown.length);
});

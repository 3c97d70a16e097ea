/**
 * RACK's process-wide spares (a retired record, a ring's initial stores)
 * are bounded in real bytes: however many connections retire at once, the
 * spares never hold more than `RACK_SPARES_MAX_BYTES` and
 * `RING_SPARES_MAX_BYTES`, as `rackSpares()` and `ringSpares()` report.
 */
import assert from "node:assert/strict";
import {
  Rack,
  RACK_SEGMENTS,
  RACK_SPARE_BYTES,
  RACK_SPARES_MAX_BYTES,
  rackSpares,
} from "./rack.ts";
import { RackRing, RING_SPARE_SET_BYTES, RING_SPARES_MAX_BYTES, ringSpares } from "./rack_ring.ts";

Deno.test("RACK spares: 500 records retired at once keep at most RACK_SPARES_MAX_BYTES of records and RING_SPARES_MAX_BYTES of ring stores", () => {
  const racks = Array.from({ length: 500 }, (_, i) => {
    const r = new Rack(RACK_SEGMENTS);
    r.sent(i * 1000, i * 1000 + 100, 1); // the ring takes its first store
    r.ack(i * 1000 + 100, 2); // and forgets the segment: nothing in flight
    return r;
  });
  for (const r of racks) r.retire();
  const records = rackSpares(), sets = ringSpares();
  assert.ok(records.bytes <= RACK_SPARES_MAX_BYTES, `${records.bytes} B of records`);
  assert.ok(sets.bytes <= RING_SPARES_MAX_BYTES, `${sets.bytes} B of ring stores`);
  // Filled to the limit (earlier tests in this process may have left some).
  assert.equal(records.records, Math.floor(RACK_SPARES_MAX_BYTES / RACK_SPARE_BYTES));
  assert.equal(records.bytes, records.records * RACK_SPARE_BYTES);
  assert.equal(sets.sets, Math.floor(RING_SPARES_MAX_BYTES / RING_SPARE_SET_BYTES));
  assert.equal(sets.bytes, sets.sets * RING_SPARE_SET_BYTES);
  // New rings take the spare stores back: the pool shrinks as it is used.
  const rings = Array.from({ length: sets.sets }, () => {
    const g = new RackRing();
    g.push(0, 1, 0, 0);
    return g;
  });
  assert.equal(ringSpares().sets, 0);
  assert.equal(ringSpares().bytes, 0);
  for (const g of rings) g.recycle();
  assert.equal(ringSpares().sets, sets.sets);
});

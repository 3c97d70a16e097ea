import assert from "node:assert/strict";
import { Segment } from "./core.ts";

Deno.test("tcp Segment.payload() keeps its view while buffer and window repeat", () => {
  const seg = new Segment();
  const a = new Uint8Array(100).map((_, i) => i);
  seg.buf = a;
  seg.dataAt = 40;
  const v = seg.payload(20);
  assert.deepEqual([...v], Array.from({ length: 20 }, (_, i) => 40 + i));
  assert.equal(seg.payload(20), v); // same buffer, offset and length: no new view
  a[40] = 200; // the view reads the buffer's current bytes
  assert.equal(seg.payload(20)[0], 200);
  // Any change of length, offset or buffer makes a new, correct view.
  assert.deepEqual([...seg.payload(3)], [200, 41, 42]);
  seg.dataAt = 41;
  assert.deepEqual([...seg.payload(3)], [41, 42, 43]);
  const b = new Uint8Array(100).fill(7);
  seg.buf = b;
  assert.deepEqual([...seg.payload(3)], [7, 7, 7]);
  seg.buf = a.subarray(0); // another view over the same bytes counts as another buffer
  assert.deepEqual([...seg.payload(3)], [41, 42, 43]);
  assert.equal(seg.payload(0).length, 0);
});

import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt, seqMax, seqMin } from "./seq.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
// A distance strictly inside (-2^31, 2^31): where comparisons are defined.
const delta = fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 });

Deno.test("seq comparisons agree with integer order for any base and offset, across the wrap", () => {
  fc.assert(
    fc.property(u32, delta, (a, d) => {
      const b = seqAdd(a, d);
      assert.equal(seqLt(a, b), d > 0);
      assert.equal(seqLe(a, b), d >= 0);
      assert.equal(seqGt(a, b), d < 0);
      assert.equal(seqGe(a, b), d <= 0);
      assert.equal(seqDiff(b, a), d);
      assert.equal(seqMax(a, b), d >= 0 ? b : a);
      assert.equal(seqMin(a, b), d >= 0 ? a : b);
    }),
    { numRuns: 5000, seed: 1 },
  );
});

Deno.test("seq comparisons are antisymmetric and transitive near 2^32", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0xffff0000, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0x20000 }),
      fc.integer({ min: 0, max: 0x20000 }),
      (a, x, y) => {
        const b = seqAdd(a, x), c = seqAdd(b, y);
        assert.ok(seqLe(a, b) && seqLe(b, c) && seqLe(a, c));
        assert.equal(seqLt(a, b), !seqGe(a, b));
        if (x > 0) assert.ok(!seqLt(b, a));
      },
    ),
    { numRuns: 2000, seed: 2 },
  );
});

Deno.test("seqInRange() is lo <= s < hi for ranges across the wrap", () => {
  fc.assert(
    fc.property(u32, fc.integer({ min: 0, max: 2 ** 30 }), delta, (lo, len, d) => {
      const hi = seqAdd(lo, len);
      const s = seqAdd(lo, d);
      assert.equal(seqInRange(s, lo, hi), d >= 0 && d < len);
    }),
    { numRuns: 5000, seed: 3 },
  );
});

Deno.test("seqAdd() stays an unsigned 32-bit number", () => {
  assert.equal(seqAdd(0xffffffff, 1), 0);
  assert.equal(seqAdd(0, -1), 0xffffffff);
  fc.assert(
    fc.property(u32, delta, (a, d) => {
      const r = seqAdd(a, d);
      assert.ok(Number.isInteger(r) && r >= 0 && r <= 0xffffffff);
    }),
    { seed: 4 },
  );
});

import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { ByteRing } from "./buffer.ts";
import { Assembler } from "./assembler.ts";

Deno.test("ByteRing matches a plain byte queue under any sequence of writes and reads", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20000 }),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 9000 })), { maxLength: 60 }),
      (max, ops) => {
        const ring = new ByteRing(max);
        const model: number[] = [];
        let counter = 0;
        for (const [isWrite, n] of ops) {
          if (isWrite) {
            const src = new Uint8Array(n).map(() => counter++ & 0xff);
            const taken = ring.write(src);
            assert.equal(taken, Math.min(n, max - model.length));
            model.push(...src.subarray(0, taken));
          } else {
            const dst = new Uint8Array(n);
            const got = ring.read(dst);
            assert.deepEqual([...dst.subarray(0, got)], model.splice(0, got));
          }
          assert.equal(ring.length, model.length);
          assert.ok(ring.allocated <= max);
        }
      },
    ),
    { numRuns: 300, seed: 21 },
  );
});

Deno.test("ByteRing keeps data written ahead across growth and wrap, then commits it", () => {
  const ring = new ByteRing(64 * 1024);
  const a = new Uint8Array(5000).fill(1);
  const b = new Uint8Array(3000).fill(2);
  const gap = new Uint8Array(1000).fill(3);
  ring.write(a);
  assert.ok(ring.writeAt(1000, b)); // past a 1000-byte hole; grows the store
  ring.read(new Uint8Array(4000)); // the head moves
  ring.write(gap); // the hole fills
  ring.commit(3000);
  const out = new Uint8Array(5000);
  assert.equal(ring.read(out), 5000);
  assert.deepEqual([...new Set(out.subarray(0, 1000))], [1]);
  assert.deepEqual([...new Set(out.subarray(1000, 2000))], [3]);
  assert.deepEqual([...new Set(out.subarray(2000))], [2]);
  assert.equal(ring.writeAt(64 * 1024, new Uint8Array(1)), false); // past max
});

Deno.test("ByteRing.peek() copies from an offset without consuming", () => {
  const ring = new ByteRing(8);
  ring.write(new Uint8Array([1, 2, 3, 4, 5, 6]));
  ring.discard(4);
  ring.write(new Uint8Array([7, 8, 9, 10])); // wraps
  const out = new Uint8Array(4);
  ring.peek(1, out, 0, 4);
  assert.deepEqual([...out], [6, 7, 8, 9]);
  assert.equal(ring.length, 6);
});

Deno.test("Assembler merges ranges like a set of sequence numbers, across the wrap", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 40 })), {
        maxLength: 30,
      }),
      (base, adds) => {
        const asm = new Assembler(1000);
        const have = new Uint8Array(400);
        for (const [off, len] of adds) {
          asm.add((base + off) >>> 0, (base + off + len) >>> 0);
          have.fill(1, off, off + len);
        }
        // Disjoint, sorted, non-adjacent, and exactly the bytes added.
        const seen = new Uint8Array(400);
        for (let i = 0; i < asm.count; i++) {
          const l = (asm.left(i) - base) >>> 0, r = (asm.right(i) - base) >>> 0;
          assert.ok(l < r);
          if (i > 0) assert.ok(l > ((asm.right(i - 1) - base) >>> 0));
          seen.fill(1, l, r);
        }
        assert.deepEqual(seen, have);
        // RCV.NXT at base+1 takes the first range only if it starts there.
        const first = have.indexOf(1);
        const end = asm.takeFront((base + 1) >>> 0);
        if (first === 1) assert.ok(end !== -1);
        else assert.equal(end, -1);
      },
    ),
    { numRuns: 500, seed: 22 },
  );
});

Deno.test("Assembler refuses a new range beyond its limit and reports SACK blocks newest first", () => {
  const asm = new Assembler(2);
  assert.ok(asm.add(100, 200));
  assert.ok(asm.add(300, 400));
  assert.equal(asm.add(500, 600), false);
  assert.ok(asm.add(150, 250)); // extends an existing range
  const out = new Uint32Array(8);
  assert.equal(asm.sackBlocks(out, 4), 2);
  assert.deepEqual([...out.subarray(0, 4)], [100, 250, 300, 400]);
});

Deno.test("ByteRing.release() frees the store only when empty, and the ring works on after it", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20000 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 9000 })), {
        maxLength: 60,
      }),
      (max, ops) => {
        const ring = new ByteRing(max);
        const model: number[] = [];
        let counter = 0;
        for (const [op, n] of ops) {
          if (op === 0) {
            const src = new Uint8Array(n).map(() => counter++ & 0xff);
            model.push(...src.subarray(0, ring.write(src)));
          } else if (op === 1) {
            const dst = new Uint8Array(n);
            const got = ring.read(dst);
            assert.deepEqual([...dst.subarray(0, got)], model.splice(0, got));
          } else {
            const had = ring.allocated;
            const released = ring.release();
            assert.equal(released, model.length === 0 && had > 0);
            assert.equal(ring.allocated, released ? 0 : had);
          }
          assert.equal(ring.empty, model.length === 0);
          assert.equal(ring.length, model.length);
        }
      },
    ),
    { numRuns: 300, seed: 12 },
  );
});

Deno.test("ByteRing.release() keeps out-of-order data written ahead", () => {
  const ring = new ByteRing(100);
  assert.ok(ring.writeAt(10, new Uint8Array([7, 8])));
  assert.equal(ring.empty, false);
  assert.equal(ring.release(), false);
  assert.ok(ring.writeAt(0, new Uint8Array(10).fill(1)));
  ring.commit(12);
  const out = new Uint8Array(12);
  assert.equal(ring.read(out), 12);
  assert.deepEqual([...out.subarray(10)], [7, 8]);
  assert.ok(ring.empty && ring.release());
  assert.equal(ring.allocated, 0);
  assert.equal(ring.write(new Uint8Array(50)), 50);
  assert.ok(ring.allocated >= 50 && ring.allocated <= 100);
});

import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { splitTicks, ticks, u16, u32 } from "./_bytes.ts";
import { ChunkQueue } from "./_chunk_queue.ts";

Deno.test("u16() and u32() read both byte orders", () => {
  const b = new Uint8Array([0xa1, 0xb2, 0xc3, 0xd4]);
  assert.equal(u16(b, 0, false), 0xa1b2);
  assert.equal(u16(b, 0, true), 0xb2a1);
  assert.equal(u32(b, 0, false), 0xa1b2c3d4);
  assert.equal(u32(b, 0, true), 0xd4c3b2a1);
});

/** The exact answer, with BigInt (fine in a test). */
function reference(value: bigint, tsresol: number): [number, number] {
  const exp = BigInt(tsresol & 0x7f);
  const units = tsresol & 0x80 ? 1n << exp : 10n ** exp;
  const seconds = value / units;
  const nanos = ((value % units) * 1_000_000_000n) / units;
  return [Number(seconds), Number(nanos)];
}

Deno.test("splitTicks() is exact for decimal resolutions up to 10^-11 and binary up to 2^-32", () => {
  const resolution = fc.oneof(
    fc.integer({ min: 0, max: 11 }),
    fc.integer({ min: 0, max: 32 }).map((n) => 0x80 | n),
  );
  fc.assert(
    fc.property(fc.bigUintN(64), resolution, (value, tsresol) => {
      const [s, ns] = reference(value, tsresol);
      if (s > Number.MAX_SAFE_INTEGER) return; // seconds beyond 2^53 are not representable
      splitTicks(Number(value >> 32n), Number(value & 0xffffffffn), tsresol);
      assert.deepEqual([ticks.seconds, ticks.nanoseconds], [s, ns]);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("splitTicks() stays in range for absurd resolutions", () => {
  for (const tsresol of [12, 18, 40, 127, 0x80 | 63, 0xff]) {
    splitTicks(0xffffffff, 0xffffffff, tsresol);
    assert.ok(ticks.seconds >= 0 && Number.isFinite(ticks.seconds));
    assert.ok(ticks.nanoseconds >= 0 && ticks.nanoseconds < 1e9);
  }
});

Deno.test("ChunkQueue views span chunks without overwriting earlier views", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 40 }),
      (bytes, cuts, reads) => {
        const q = new ChunkQueue();
        for (let i = 0, c = 0; i < bytes.length; c++) {
          const n = cuts[c % cuts.length]!;
          q.push(bytes.slice(i, i + n));
          i += n;
        }
        const views: [number, Uint8Array][] = [];
        for (const n of reads) {
          const at = q.offset;
          const v = q.view(n);
          if (v === null) {
            assert.ok(n > q.available);
            break;
          }
          views.push([at, v]);
          q.consume(n);
        }
        for (const [at, v] of views) assert.deepEqual(v, bytes.subarray(at, at + v.length));
        assert.equal(q.offset + q.available, bytes.length);
      },
    ),
  );
});

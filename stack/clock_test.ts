import assert from "node:assert/strict";
import { ManualClock, MILLISECOND, SECOND, SystemClock } from "./clock.ts";

Deno.test("ManualClock starts at 0 or at the given instant", () => {
  assert.equal(new ManualClock().now(), 0);
  assert.equal(new ManualClock(5 * SECOND).now(), 5_000_000);
  assert.equal(new ManualClock(1.9).now(), 1); // whole microseconds
});

Deno.test("ManualClock.advance() moves forward by whole microseconds", () => {
  const c = new ManualClock();
  c.advance(3 * MILLISECOND);
  c.advance(0);
  c.advance(2.7);
  assert.equal(c.now(), 3_002);
});

Deno.test("ManualClock.advance() rejects negative, NaN and infinite durations", () => {
  const c = new ManualClock(10);
  for (const by of [-1, NaN, Infinity]) {
    assert.throws(() => c.advance(by), RangeError, String(by));
  }
  assert.equal(c.now(), 10);
});

Deno.test("ManualClock.set() moves to an instant, never backwards, never to NaN", () => {
  const c = new ManualClock(100);
  c.set(100);
  c.set(250);
  assert.equal(c.now(), 250);
  assert.throws(() => c.set(249), /Cannot set clock backwards to 249/);
  assert.throws(() => c.set(NaN), RangeError);
  assert.throws(() => c.set(Infinity), RangeError);
  assert.equal(c.now(), 250);
});

Deno.test("ManualClock rejects a non-finite start", () => {
  assert.throws(() => new ManualClock(NaN), RangeError);
});

Deno.test("SystemClock counts whole microseconds from its creation, monotonically", () => {
  const c = new SystemClock();
  const a = c.now();
  const b = c.now();
  assert.ok(Number.isInteger(a) && a >= 0);
  assert.ok(b >= a);
});

Deno.test("MILLISECOND and SECOND are in microseconds", () => {
  assert.equal(MILLISECOND, 1_000);
  assert.equal(SECOND, 1_000 * MILLISECOND);
});

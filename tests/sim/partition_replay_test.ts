/**
 * The replay of two partitions' step traces on idle cores
 * (drivers/loopback/_partition_replay.ts): the run-ahead rule's causal
 * waits, on traces small enough to work out by hand.
 */
import assert from "node:assert/strict";
import { replayPair } from "../../drivers/loopback/_partition_replay.ts";

/** A trace from steps [time µs, CPU ms, bound before µs] and the bound after the last. */
function trace(steps: readonly [number, number, number][], last = Infinity): Float64Array {
  return new Float64Array([...steps.flat(), last]);
}

Deno.test("partition replay: a step waits for the other's step that lets it run", () => {
  // a's step at 3000 µs needs b's bound above 2000 µs: after b's first step
  // (5 ms of CPU), so a runs 0-1, waits, runs 5-6 and 6-11; b runs 0-5, 5-6.
  const a = trace([[0, 1, 0], [3000, 1, 3000], [3100, 5, 3100]]);
  const b = trace([[0, 5, 0], [2500, 1, 2500]]);
  assert.equal(replayPair(a, b, 1000), 11);
  assert.equal(replayPair(b, a, 1000), 11, "symmetric");
  // With a lookahead of 4 ms nothing waits: the busier partition's CPU.
  assert.equal(replayPair(a, b, 4000), 7);
});

Deno.test("partition replay: traces that each wait for the other cannot be replayed", () => {
  const a = trace([[0, 1, 0], [5000, 1, 0]]);
  const b = trace([[0, 1, 0], [5000, 1, 0]]);
  assert.ok(Number.isNaN(replayPair(a, b, 1000)));
});

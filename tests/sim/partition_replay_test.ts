/**
 * The replay of two partitions' step traces on idle cores
 * (drivers/loopback/_partition_replay.ts): the run-ahead rule's causal
 * waits, on traces small enough to work out by hand, and on a small run's.
 */
import assert from "node:assert/strict";
import {
  clairvoyant,
  replayPair,
  spreadEvenly,
  traceFrom,
} from "../../drivers/loopback/_partition_replay.ts";
import { MILLISECOND, runPartitioned, SECOND } from "../../mod.ts";
import type { SimParams } from "./_partition_scenario.ts";

const MODULE = new URL("./_partition_scenario.ts", import.meta.url);

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

Deno.test("partition replay: clairvoyant bounds are each step's next frame across, less the lookahead", () => {
  const a = trace([[0, 1, 0], [3000, 1, 3000], [3100, 5, 3100]]);
  // Frames sent across at step 0 (due 4,000 µs) and at step 2 (due 9,000 µs).
  const sends = new Float64Array([0, 4000, 2, 9000]);
  const c = clairvoyant(a, sends, 1000);
  assert.deepEqual([...c], [0, 1, 3000, 3000, 1, 8000, 3100, 5, 8000, Infinity]);
  assert.deepEqual([...a], [...trace([[0, 1, 0], [3000, 1, 3000], [3100, 5, 3100]])], "a copy");
  // Nothing sent: no bound at all.
  assert.deepEqual([...clairvoyant(a, new Float64Array(0), 1000)].filter((_, i) => i % 3 === 2), [
    Infinity,
    Infinity,
    Infinity,
  ]);
  // b's first step sends nothing, so a need not wait for it: 7 ms, not 11.
  const b = trace([[0, 5, 0], [2500, 1, 2500]]);
  assert.equal(replayPair(a, b, 1000), 11);
  assert.equal(replayPair(a, clairvoyant(b, new Float64Array(0), 1000), 1000), 7);
});

Deno.test("partition replay: CPU spread evenly over simulated time costs each step its gap", () => {
  // 7 ms over 3,100 µs: step 0 costs 3000/3100 of it, step 1 100/3100, the last nothing.
  const a = trace([[0, 1, 0], [3000, 1, 3000], [3100, 5, 3100]]);
  const e = spreadEvenly(a);
  assert.deepEqual([...e].filter((_, i) => i % 3 !== 1), [0, 0, 3000, 3000, 3100, 3100, Infinity]);
  const cpu = [e[1]!, e[4]!, e[7]!];
  assert.ok(Math.abs(cpu[0]! - 7 * 3000 / 3100) < 1e-9, `${cpu}`);
  assert.ok(Math.abs(cpu[1]! - 7 * 100 / 3100) < 1e-9, `${cpu}`);
  assert.equal(cpu[2], 0);
  // Steps all at one time: the mean each.
  assert.deepEqual([...spreadEvenly(trace([[5, 1, 0], [5, 3, 0]]))], [5, 2, 0, 5, 2, 0, Infinity]);
});

Deno.test("partition replay: traces that each wait for the other cannot be replayed", () => {
  const a = trace([[0, 1, 0], [5000, 1, 0]]);
  const b = trace([[0, 1, 0], [5000, 1, 0]]);
  assert.ok(Number.isNaN(replayPair(a, b, 1000)));
});

Deno.test("partition replay: traces cut at a time replay from there, both together", () => {
  const a = trace([[0, 9, 0], [3000, 1, 3000], [3100, 5, 3100]]);
  const b = trace([[0, 1, 0], [2500, 1, 2500]]);
  const a3 = traceFrom(a, 3000), b3 = traceFrom(b, 3000);
  assert.deepEqual([...a3], [3000, 1, 3000, 3100, 5, 3100, Infinity]);
  assert.deepEqual([...b3], [Infinity], "no step left: only the closing bound");
  // a's two steps alone (b is done): 6 ms, where the whole run takes 15.
  assert.equal(replayPair(a3, b3, 1000), 6);
  assert.equal(replayPair(a, b, 1000), 15);
  // A cut at 0 keeps everything.
  assert.deepEqual([...traceFrom(a, 0)], [...a]);
});

Deno.test("partition replay: a traced run hands back both traces, which replay to its critical path", async () => {
  const params: SimParams = {
    switches: 2,
    hostsPerSwitch: 4,
    crossEvery: 1,
    portFaults: { delay: 500 },
    trunkFaults: { delay: MILLISECOND },
    until: 2 * SECOND,
    hostSeed: 3,
  };
  const base = { module: MODULE, seed: 3, duration: 3 * SECOND, params, profile: true };
  const traced = await runPartitioned({ ...base, traceSteps: true });
  const traces = traced.stepTraces!;
  assert.equal(traces.length, 2);
  for (const [i, t] of traces.entries()) {
    assert.equal(t.length % 3, 1, "three numbers a step and the closing bound");
    let cpu = 0;
    for (let k = 0; k + 3 < t.length; k += 3) {
      assert.ok(t[k]! <= t[k + 3]! || k + 3 === t.length - 1, "steps in time order");
      cpu += t[k + 1]!;
    }
    assert.ok(cpu > 0 && cpu <= traced.timing[i]!.runCpuMs, `traced ${cpu} ms of CPU`);
  }
  assert.equal(replayPair(traces[0]!, traces[1]!, traced.lookahead), traced.criticalCpuMs);
  // Every frame across is in the sends, in step order, due a lookahead or
  // more after the step that sent it.
  const sends = traced.stepSends!;
  assert.equal(
    sends.reduce((n, s) => n + s.length / 2, 0),
    traced.boundaryFrames,
    "one record per frame across",
  );
  const busiest = Math.max(...traces.map((t) => {
    let cpu = 0;
    for (let k = 1; k < t.length; k += 3) cpu += t[k]!;
    return cpu;
  }));
  for (const [i, s] of sends.entries()) {
    const t = traces[i]!;
    for (let j = 0; j < s.length; j += 2) {
      const k = s[j]!;
      assert.ok(j === 0 || s[j - 2]! <= k, "in step order");
      assert.ok(s[j + 1]! >= t[3 * k]! + traced.lookahead, `frame ${j / 2} of ${i} due too soon`);
    }
  }
  // Replayed with the clairvoyant bounds: no less than the busier CPU.
  const ideal = traces.map((t, i) => clairvoyant(t, sends[i]!, traced.lookahead));
  const ceiling = replayPair(ideal[0]!, ideal[1]!, traced.lookahead);
  assert.ok(ceiling >= busiest - 1e-9, `${ceiling} < ${busiest} ms`);
  // Without traceSteps there are none to hand back.
  const plain = await runPartitioned({ ...base });
  assert.equal(plain.stepTraces, undefined);
  assert.equal(plain.stepSends, undefined);
});

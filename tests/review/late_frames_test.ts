/**
 * simhour's late frames (`VirtualNetwork.stepLate`, fdf0767) under harsher
 * faults than partition_test's (review13): host cables and trunks that
 * lose, duplicate, corrupt and reorder, so several late frames meet at one
 * instant and some are lost or copied on the way. Two Workers must give
 * the same bytes as one thread, with frames taken late seen.
 */
import assert from "node:assert/strict";
import {
  type Faults,
  MILLISECOND,
  type PartitionedResult,
  runPartitioned,
  SECOND,
} from "../../mod.ts";
import type { SimParams } from "../sim/_partition_scenario.ts";

const MODULE = new URL("../sim/_partition_scenario.ts", import.meta.url);
const PORT: Faults = { delay: 300, loss: 0.05, duplicate: 0.03, corrupt: 0.02, reorder: 0.05 };
const TRUNK: Faults = {
  delay: MILLISECOND,
  jitter: 400,
  loss: 0.05,
  duplicate: 0.03,
  reorder: 0.1,
};

Deno.test("review13 late frames: lossy, duplicating, corrupting cables over 2 Workers match one thread (seed 31)", async () => {
  let late = 0;
  for (const seed of [31]) {
    const params: SimParams = {
      switches: 2,
      hostsPerSwitch: 20,
      crossEvery: 1,
      portFaults: PORT,
      trunkFaults: TRUNK,
      until: 5 * SECOND,
      hostSeed: seed,
      detail: true,
      interval: 100_000,
    };
    const base = { module: MODULE, seed, duration: 6 * SECOND, params };
    const one: PartitionedResult = await runPartitioned({ ...base, partitions: 1 });
    const many: PartitionedResult = await runPartitioned({ ...base, partitions: 2 });
    for (const k of Object.keys(one.report)) {
      assert.deepEqual(many.report[k], one.report[k], `${k} differs (seed ${seed})`);
    }
    assert.deepEqual(many.links, one.links);
    assert.deepEqual(many.switches, one.switches);
    for (const t of many.timing) late += t.lateFrames!;
  }
  assert.ok(late > 0, "a switch took frames late");
});

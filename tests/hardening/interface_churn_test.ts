import assert from "node:assert/strict";
import { runGcProbe } from "../_gc_probe.ts";

/**
 * Indexes are never reused, and whatever is kept by index is a Map (the
 * interface table, SLAAC's links, IPv6's link parameters), so an interface
 * gone leaves nothing. When those were arrays, each index ever used kept
 * an empty slot in three of them: about 30 bytes an interface, with no end
 * (after each round of 6,000 as here: 304, 492, 714, 996, 1,007 KB above
 * the warm-up, and this test failed with 300,400 bytes over the last
 * 12,000; with Maps: 67, 148, 189, 178, 201 KB, 12,752 bytes).
 *
 * The heap first grows by a bounded amount (V8's compiled code and its own
 * weak lists, not the stack's objects: a heap snapshot diff shows none of
 * ours; about 200 KB, most of it within 12,000 interfaces), so the bound
 * applies to the last two rounds: memory after them no higher than after
 * the first three, give or take {@linkcode SLACK} (V8's share, up to 40 KB
 * seen), less than an 8-byte slot for each of their 12,000 interfaces.
 */
const WARMUP = 1_000;
const ROUND = 6_000;
const ROUNDS = 5;
const SLACK = 64 * 1024;

Deno.test("removeInterface: adding and removing 31,000 interfaces leaves no interface, route, timer or buffer behind, and memory flat over the last 12,000", async () => {
  const r = await runGcProbe<{
    afterRounds: number[];
    interfaces: number;
    routes: number;
    timersAfterWarmup: number;
    timers: number;
    outstanding: number;
  }>(
    new URL("./_interface_churn_probe.ts", import.meta.url),
    String(WARMUP),
    String(ROUND),
    String(ROUNDS),
  );
  assert.equal(r.interfaces, 1);
  assert.equal(r.routes, 2); // the remaining interface's 10.0.0.0/24 and fe80::/64
  assert.equal(r.timers, r.timersAfterWarmup);
  assert.equal(r.outstanding, 0);
  const plateau = Math.max(...r.afterRounds.slice(0, 3));
  const end = r.afterRounds[ROUNDS - 1]!;
  assert.ok(
    end - plateau < SLACK,
    `grew ${end - plateau} bytes over the last ${2 * ROUND} interfaces (${
      r.afterRounds.join(", ")
    })`,
  );
});

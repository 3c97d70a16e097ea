/**
 * ARP publishes a `neighbor-changed` event on every neighbour state change:
 * created INCOMPLETE, resolved REACHABLE, aged STALE, removed (NONE), and
 * learned STALE from a request on the other host, then DELAY and PROBE
 * until its unicast probe is answered.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { NeighborChangedEvent } from "../../mod.ts";
import { hostMac, makeLink, ms, testPlugin } from "../_harness.ts";

Deno.test("arp publishes every neighbour state change: INCOMPLETE -> REACHABLE -> STALE -> NONE", async () => {
  const events: string[] = [];
  const recorder = testPlugin({ name: "recorder" }, (ctx) => ({
    onEvent(ev) {
      if (ev.type !== "neighbor-changed") return;
      const e = ev as NeighborChangedEvent;
      assert.equal(e.plugin, "arp");
      const host = ctx.interfaces.get(e.ifindex)!.mac![5];
      events.push(`${host} ${e.address}: ${e.previous} -> ${e.state} ${e.mac ?? "-"}`);
    },
  }));
  const env = makeLink({
    seed: 7,
    // REACHABLE for 5-15 ms, STALE for 20 ms: every state is short.
    plugins: {
      arp: {
        reachableTime: 10_000,
        staleTime: 20_000,
        delayFirstProbeTime: 1_000,
        announce: false,
      },
    },
    extraPlugins: [recorder],
  });
  await env.run(() => env.a.ping("10.0.0.2"));
  env.runFor(ms(100));
  const [macA, macB] = [hostMac(1), hostMac(2)];
  assert.deepEqual(events.filter((e) => e.startsWith("1 ")), [
    "1 10.0.0.2: NONE -> INCOMPLETE -",
    `1 10.0.0.2: INCOMPLETE -> REACHABLE ${macB}`,
    `1 10.0.0.2: REACHABLE -> STALE ${macB}`,
    `1 10.0.0.2: STALE -> NONE ${macB}`,
  ]);
  // b learned a from its request (STALE, as Linux does), sent its echo reply
  // at once (DELAY: RFC 4861 §7.3.2's states, shared with NDP since the
  // cache was extracted; Linux shows the same for ARP) and confirmed a with
  // a unicast probe 1 ms later (PROBE).
  assert.deepEqual(events.filter((e) => e.startsWith("2 ")), [
    `2 10.0.0.1: NONE -> STALE ${macA}`,
    `2 10.0.0.1: STALE -> DELAY ${macA}`,
    `2 10.0.0.1: DELAY -> PROBE ${macA}`,
    `2 10.0.0.1: PROBE -> REACHABLE ${macA}`,
    `2 10.0.0.1: REACHABLE -> STALE ${macA}`,
    `2 10.0.0.1: STALE -> NONE ${macA}`,
  ]);
  env.finish();
});

/**
 * The scenario helper (issue 19): hosts over several switches, seeded
 * request/response traffic through loss, the same counters for the same seed.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildLan,
  createStack,
  MILLISECOND,
  requestResponse,
  SECOND,
  VirtualNetwork,
} from "../../mod.ts";

async function run(seed: number): Promise<{ done: number; counters: string }> {
  const net = new VirtualNetwork({ seed });
  const lan = buildLan(
    net,
    { hosts: 40, switches: 4, portFaults: { delay: MILLISECOND, loss: 0.01 } },
    (i) => createStack({ clock: net.clock, seed: seed * 1000 + i }),
  );
  const pairs = Array.from({ length: 20 }, (_, i) => [i, 39 - i] as const);
  const done = await net.run(() => requestResponse(net, lan, pairs, { until: 10 * SECOND }));
  const counters = JSON.stringify(lan.hosts.map((h) => h.counters.snapshot()));
  for (const h of lan.hosts) h.close();
  net.close();
  return { done, counters };
}

Deno.test("buildLan + requestResponse: 20 pairs over 4 switches with 1% loss complete every request, the same way for the same seed", async () => {
  const a = await run(7);
  assert.equal(a.done, 20 * 9); // 9 whole intervals after a start within the first second
  assert.match(a.counters, /"tcp\.out_segs"/);
  const b = await run(7);
  assert.equal(b.counters, a.counters);
});

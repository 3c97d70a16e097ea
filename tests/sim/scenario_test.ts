/**
 * The scenario helper (issue 19): hosts over several switches, seeded
 * request/response traffic through loss, the same counters for the same seed.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildLan,
  bulk,
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

async function routed(seed: number) {
  const net = new VirtualNetwork({ seed });
  const lan = buildLan(
    net,
    {
      hosts: 30,
      switches: 3,
      portFaults: { delay: MILLISECOND, loss: 0.01 },
      uplinkFaults: { delay: MILLISECOND },
      router: (s) => createStack({ clock: net.clock, seed: seed * 1000 + 900 + s }),
    },
    (i) => createStack({ clock: net.clock, seed: seed * 1000 + i }),
  );
  // Every pair crosses two routers: hosts 2i and 2i + 1 are on different
  // subnets (host i is on switch i % 3), and every router carries some.
  const pairs = Array.from({ length: 12 }, (_, i) => [2 * i, 2 * i + 1] as const);
  const rr = Array.from({ length: 3 }, (_, i) => [24 + 2 * i, 25 + 2 * i] as const);
  const [flows, done] = await net.run(() =>
    Promise.all([
      bulk(net, lan, pairs, { bytes: 128 * 1024 }),
      requestResponse(net, lan, rr, { until: 5 * SECOND }),
    ])
  );
  const counters = JSON.stringify([...lan.hosts, ...lan.routers].map((h) => h.counters.snapshot()));
  const forwarded = lan.routers.map((r) => r.counters.value("ipv4.fwd.forwarded"));
  for (const h of [...lan.hosts, ...lan.routers]) h.close();
  net.close();
  return { flows, done, counters, forwarded };
}

Deno.test("buildLan with routers + bulk: 12 bulk flows and 3 request/response pairs across routed subnets with 1% loss deliver every byte, the same way for the same seed", async () => {
  const a = await routed(5);
  assert.deepEqual(a.flows.map((f) => f.bytes), Array(12).fill(128 * 1024));
  for (const f of a.flows) assert.ok(f.end > f.start && f.start < SECOND, JSON.stringify(f));
  assert.equal(a.done, 3 * 4); // 4 whole intervals after a start within the first second
  for (const n of a.forwarded) assert.ok(n > 100, `a router forwarded only ${n} datagrams`);
  assert.match(a.counters, /"tcp\.retrans_segs":[1-9]/);
  const b = await routed(5);
  assert.deepEqual(b.flows, a.flows);
  assert.equal(b.counters, a.counters);
});

Deno.test("buildLan rejects routers for fewer than 2 switches and a router that is not a function", () => {
  const net = new VirtualNetwork({ seed: 1 });
  const make = (i: number) => createStack({ clock: net.clock, seed: i });
  assert.throws(() => buildLan(net, { hosts: 4, switches: 1, router: make }, make), RangeError);
  assert.throws(
    () => buildLan(net, { hosts: 4, switches: 2, router: 1 as unknown as () => never }, make),
    TypeError,
  );
  const lan = buildLan(net, { hosts: 2 }, make);
  assert.throws(() => bulk(net, lan, [[0, 1]], { bytes: 0 }), RangeError);
  assert.throws(() => bulk(net, lan, [[0, 2]], { bytes: 1 }), RangeError);
  net.close();
});

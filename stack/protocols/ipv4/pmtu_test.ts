import assert from "node:assert/strict";
import { PmtuCache } from "./pmtu.ts";
import { RoutingTable } from "./routes.ts";
import { InterfaceTable, NetInterface } from "../../netif.ts";
import type { LinkDriver } from "../../driver.ts";

const D = 0x0a030003;

Deno.test("PmtuCache learns a lower MTU and never raises it from a report", () => {
  const c = new PmtuCache(() => 0);
  assert.equal(c.get(D), 0);
  assert.equal(c.learn(D, 1400), 1400);
  assert.equal(c.learn(D, 1492), 1400);
  assert.equal(c.learn(D, 576), 576);
  assert.equal(c.get(D), 576);
  assert.deepEqual(c.entry(D), { destination: D, mtu: 576, expires: 600_000_000, locked: false });
});

Deno.test("PmtuCache entries expire after 10 minutes (RFC 1191 §6.3)", () => {
  let now = 5;
  const c = new PmtuCache(() => now);
  c.learn(D, 576);
  now += 599_999_999;
  assert.equal(c.get(D), 576);
  now += 1;
  assert.equal(c.get(D), 0);
  assert.equal(c.size, 0);
});

Deno.test("PmtuCache clamps a report below the floor (552) and locks the entry", () => {
  const c = new PmtuCache(() => 0);
  assert.equal(c.learn(D, 68), 552);
  assert.ok(c.isLocked(D));
  const low = new PmtuCache(() => 0, { minMtu: 68 });
  assert.equal(low.learn(D, 68), 68);
  assert.ok(!low.isLocked(D));
  assert.throws(() => new PmtuCache(() => 0, { minMtu: 67 }), RangeError);
});

Deno.test("PmtuCache is bounded: the oldest destination is forgotten first", () => {
  const c = new PmtuCache(() => 0, { maxEntries: 2 });
  c.learn(1, 1000);
  c.learn(2, 1000);
  c.learn(3, 1000);
  assert.equal(c.size, 2);
  assert.equal(c.get(1), 0);
  assert.deepEqual(c.entries().map((e) => e.destination), [2, 3]);
});

Deno.test("RoutingTable.lookup() reports the interface MTU lowered by a learned path MTU", () => {
  const interfaces = new InterfaceTable();
  const driver = { linkType: 1, mtu: 1500 } as unknown as LinkDriver;
  interfaces.add(new NetInterface(0, "eth0", driver, {}));
  const c = new PmtuCache(() => 0);
  const t = new RoutingTable(interfaces, c);
  t.add({ destination: 0, prefixLength: 0, gateway: 0x0a000001, ifindex: 0, metric: 0 });
  assert.equal(t.lookup(D)!.mtu, 1500);
  c.learn(D, 576);
  assert.equal(t.lookup(D)!.mtu, 576);
  assert.equal(t.lookup(D + 1)!.mtu, 1500, "per destination");
});

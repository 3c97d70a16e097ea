import assert from "node:assert/strict";
import { SECOND } from "../../stack/clock.ts";
import type { LinkEnd } from "./link.ts";
import { VirtualNetwork } from "./network.ts";
import type { SwitchOptions } from "./switch.ts";
import { TestEndpoint } from "./_test_node.ts";

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function frame(dst: Uint8Array, src: Uint8Array, tag = 0): Uint8Array {
  const f = new Uint8Array(60);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[14] = tag;
  return f;
}

function setup(ports: number, options: SwitchOptions = {}) {
  const net = new VirtualNetwork();
  const sw = net.switch(options);
  const ends: LinkEnd[] = [];
  const hosts: TestEndpoint[] = [];
  for (let i = 0; i < ports; i++) {
    const end = sw.port();
    ends.push(end);
    hosts.push(new TestEndpoint(net, end, { ifindex: i }));
  }
  /** Which hosts received something since the last call, and clear. */
  function who(): number[] {
    const out: number[] = [];
    hosts.forEach((h, i) => {
      if (h.received.length > 0) out.push(i);
      h.received.length = 0;
    });
    return out;
  }
  return { net, sw, ends, hosts, who };
}

Deno.test("switch floods unknown unicast to every port but the ingress one", () => {
  const { net, ends, hosts, who, sw } = setup(4);
  hosts[0]!.sendNow(frame(ends[2]!.mac!, ends[0]!.mac!));
  net.runUntilIdle();
  assert.deepEqual(who(), [1, 2, 3]);
  assert.equal(sw.stats().flooded, 1);
});

Deno.test("switch forwards unicast to the learned port only", () => {
  const { net, ends, hosts, who, sw } = setup(4);
  hosts[0]!.sendNow(frame(BROADCAST, ends[0]!.mac!));
  hosts[2]!.sendNow(frame(ends[0]!.mac!, ends[2]!.mac!));
  net.runUntilIdle();
  who();
  hosts[0]!.sendNow(frame(ends[2]!.mac!, ends[0]!.mac!));
  net.runUntilIdle();
  assert.deepEqual(who(), [2]);
  assert.deepEqual(sw.stats(), { forwarded: 2, flooded: 1, filtered: 0, runts: 0 });
  assert.deepEqual(sw.macTable().map((e) => [e.mac, e.port]), [
    ["02:00:00:00:00:03", 2],
    ["02:00:00:00:00:01", 0],
  ]);
});

Deno.test("switch floods broadcast and multicast even after learning", () => {
  const { net, ends, hosts, who } = setup(3);
  hosts[1]!.sendNow(frame(BROADCAST, ends[1]!.mac!));
  net.runUntilIdle();
  assert.deepEqual(who(), [0, 2]);
  hosts[0]!.sendNow(frame(new Uint8Array([0x01, 0x00, 0x5e, 0, 0, 1]), ends[0]!.mac!));
  net.runUntilIdle();
  assert.deepEqual(who(), [1, 2]);
});

Deno.test("switch filters frames whose destination is on the ingress port", () => {
  const { net, sw, ends, hosts, who } = setup(2);
  const other = new Uint8Array([2, 9, 9, 9, 9, 9]);
  hosts[0]!.sendNow(frame(BROADCAST, other)); // `other` sits behind port 0
  net.runUntilIdle();
  who();
  hosts[0]!.sendNow(frame(other, ends[0]!.mac!));
  net.runUntilIdle();
  assert.deepEqual(who(), []);
  assert.equal(sw.stats().filtered, 1);
});

Deno.test("switch relearns a station that moved", () => {
  const { net, sw, hosts } = setup(3);
  const roamer = new Uint8Array([2, 7, 7, 7, 7, 7]);
  hosts[0]!.sendNow(frame(BROADCAST, roamer));
  net.runUntilIdle();
  assert.equal(sw.lookup(roamer), 0);
  hosts[2]!.sendNow(frame(BROADCAST, roamer));
  net.runUntilIdle();
  assert.equal(sw.lookup(roamer), 2);
});

Deno.test("switch forgets addresses after the ageing time", () => {
  const { net, sw, ends, hosts, who } = setup(3, { ageing: 10 * SECOND });
  hosts[0]!.sendNow(frame(BROADCAST, ends[0]!.mac!));
  net.runUntilIdle();
  who();
  net.runFor(9 * SECOND);
  assert.equal(sw.lookup(ends[0]!.mac!), 0);
  assert.equal(sw.macTable()[0]!.age, 9 * SECOND);
  net.runFor(1 * SECOND);
  assert.equal(sw.lookup(ends[0]!.mac!), undefined);
  assert.deepEqual(sw.macTable(), []);
  hosts[1]!.sendNow(frame(ends[0]!.mac!, ends[1]!.mac!));
  net.runUntilIdle();
  assert.deepEqual(who(), [0, 2]); // flooded again
});

Deno.test("switch MAC table is bounded, evicting the least recently seen", () => {
  const { net, sw, hosts } = setup(2, { macTableSize: 2 });
  const macs = [1, 2, 3].map((i) => new Uint8Array([2, 5, 5, 5, 5, i]));
  for (const m of macs) {
    hosts[0]!.sendNow(frame(BROADCAST, m));
    net.runFor(1_000);
  }
  assert.deepEqual(macs.map((m) => sw.lookup(m)), [undefined, 0, 0]);
  assert.equal(sw.macTable().length, 2);
  sw.flush();
  assert.equal(sw.lookup(macs[2]!), undefined);
});

Deno.test("switch MAC table: an address seen again becomes the most recent and is evicted last", () => {
  const { net, sw, hosts } = setup(2, { macTableSize: 3 });
  const macs = [1, 2, 3, 4].map((i) => new Uint8Array([2, 5, 5, 5, 5, i]));
  const see = (i: number) => {
    hosts[0]!.sendNow(frame(BROADCAST, macs[i]!));
    net.runFor(1_000);
  };
  const order = () => sw.macTable().map((e) => Number(e.mac.slice(-2)));
  for (const i of [0, 1, 2, 0]) see(i); // 1 seen again: now the newest
  assert.deepEqual(order(), [2, 3, 1]);
  see(3); // full: the least recently seen (2) goes, not 1
  assert.deepEqual(order(), [3, 1, 4]);
  see(2); // 3 from the middle to the newest end
  assert.deepEqual(order(), [1, 4, 3]);
  see(1); // 2 comes back: 1 (the oldest) goes
  assert.deepEqual(order(), [4, 3, 2]);
  see(3); // the oldest seen again
  assert.deepEqual(order(), [3, 2, 4]);
  see(3); // the newest seen again: the order stays
  assert.deepEqual(order(), [3, 2, 4]);
});

Deno.test("switch drops runts", () => {
  const { net, sw, hosts, who } = setup(2);
  hosts[0]!.sendNow(new Uint8Array(13));
  net.runUntilIdle();
  assert.deepEqual(who(), []);
  assert.equal(sw.stats().runts, 1);
});

Deno.test("switch port cables carry their own delay and faults", () => {
  const net = new VirtualNetwork();
  const sw = net.switch();
  const p0 = sw.port({ faults: { delay: 1_000 } });
  const p1 = sw.port({ directions: { "b->a": { delay: 250 } } });
  const h0 = new TestEndpoint(net, p0);
  const h1 = new TestEndpoint(net, p1);
  h0.sendNow(frame(BROADCAST, p0.mac!));
  net.runUntilIdle();
  assert.equal(h1.received[0]!.at, 1_250);
  p1.link.setFaults("a->b", { loss: 1 });
  h1.sendNow(frame(p0.mac!, p1.mac!));
  net.runUntilIdle();
  assert.equal(h0.received.length, 0);
  assert.equal(p1.link.stats("a->b").dropped.loss, 1);
  assert.equal(sw.ports.indexOf(p1), 1);
});

Deno.test("switch flooding leaks no buffers", () => {
  const { net, ends, hosts } = setup(5);
  for (let i = 0; i < 100; i++) hosts[i % 5]!.sendNow(frame(BROADCAST, ends[i % 5]!.mac!, i));
  net.runUntilIdle();
  assert.equal(hosts[0]!.received.length, 80);
  for (const h of hosts) assert.equal(h.pool.outstanding, 0);
  assert.equal(net.pool.outstanding, 0);
});

Deno.test("switch validates its options", () => {
  const net = new VirtualNetwork();
  assert.throws(() => net.switch({ macTableSize: 0 }), RangeError);
  assert.throws(() => net.switch({ ageing: -1 }), RangeError);
});

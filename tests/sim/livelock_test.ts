/**
 * The virtual network's livelock guard (issue 19): a node whose pollAt()
 * keeps returning now, and frames looping with zero delay, are caught and
 * named; a thousand hosts starting at once on zero-delay ports are not.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, DEFAULT_PLUGINS, MILLISECOND, VirtualNetwork } from "../../mod.ts";
import { testPlugin } from "../_test_plugins.ts";

const IPV4_PLUGINS = DEFAULT_PLUGINS.filter((p) =>
  ["ethernet", "arp", "ipv4", "icmp", "udp", "tcp"].includes(p.manifest.name)
);

/**
 * A plugin whose timer re-arms itself for the instant it fires at: a real
 * livelock. (Each stack poll fires it up to the timer queue's own limit of a
 * million times, hence the small network budget below.)
 */
const spinPlugin = testPlugin({ name: "spin" }, (ctx) => {
  const t = ctx.timer((now) => t.arm(now));
  t.arm(5 * MILLISECOND);
  return {};
});

Deno.test("VirtualNetwork.step() names the node and plugin whose pollAt() keeps returning now", () => {
  const net = new VirtualNetwork({ seed: 1, maxWorkPerStep: 5 });
  const sw = net.switch();
  const quiet = net.addNode(createStack({ clock: net.clock, seed: 1, name: "quiet" }));
  quiet.addInterface({ driver: sw.port({ faults: { delay: 300 } }), addresses: ["10.0.0.1/24"] });
  const spinner = net.addNode(
    createStack({ clock: net.clock, seed: 2, name: "spinner", extraPlugins: [spinPlugin] }),
  );
  spinner.addInterface({ driver: sw.port({ faults: { delay: 300 } }), addresses: ["10.0.0.2/24"] });
  assert.throws(
    () => net.runFor(10 * MILLISECOND),
    (err: Error) => {
      assert.match(err.message, /at 5000 µs/);
      assert.match(err.message, /node 1 "spinner" was polled \d+ times/);
      assert.match(err.message, /plugin "spin"/);
      return true;
    },
  );
});

Deno.test("VirtualNetwork.step() names the link of a zero-delay broadcast loop", () => {
  const net = new VirtualNetwork({ seed: 1, maxWorkPerStep: 10_000 });
  const [s1, s2] = [net.switch(), net.switch()];
  // Two cables between the same two switches and no spanning tree: a loop.
  for (let i = 0; i < 2; i++) {
    const end = s1.port();
    const other = s2.port();
    // Join the node ends of a port of each switch with a forwarder.
    end.attach({
      pool: net.pool,
      ifindex: 1,
      now: () => net.now(),
      receive: (p) => other.transmit(p),
    });
    other.attach({
      pool: net.pool,
      ifindex: 2,
      now: () => net.now(),
      receive: (p) => end.transmit(p),
    });
  }
  const host = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  host.addInterface({ driver: s1.port(), addresses: ["10.0.0.1/24"] });
  assert.throws(
    () => net.runFor(MILLISECOND),
    (err: Error) => {
      assert.match(
        err.message,
        /frames loop with zero delay \(\d+ deliveries on switch\d\.port\d [ab]->[ab]/,
      );
      return true;
    },
  );
});

Deno.test("VirtualNetwork.step() takes 1,000 hosts ARPing at once on zero-delay ports", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const sw = net.switch({ macTableSize: 4096 });
  const hosts = [];
  const address = (i: number) => `10.0.${(i + 1) >> 8}.${(i + 1) & 0xff}`;
  for (let i = 0; i < 1000; i++) {
    const s = net.addNode(createStack({ clock: net.clock, seed: i, plugins: IPV4_PLUGINS }));
    s.addInterface({ driver: sw.port(), addresses: [`${address(i)}/16`] });
    hosts.push(s);
  }
  net.runFor(2_000 * MILLISECOND); // start-up announcements, spread out by the stacks
  // Every host pings its partner at the same instant: a thousand ARP requests,
  // each flooded to every other port at once, a million deliveries in one
  // instant (more than the old guard's whole budget).
  const pings = hosts.map((s, i) => s.ping(address(i ^ 1)));
  net.runFor(10 * MILLISECOND);
  const replies = await Promise.all(pings);
  assert.equal(replies.length, 1000);
  assert.ok(sw.stats().flooded >= 1000, `flooded ${sw.stats().flooded}`);
  assert.equal(net.now(), 2_010 * MILLISECOND);
});

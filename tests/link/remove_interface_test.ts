/**
 * `Stack.removeInterface` (`ip link del`): the errors, the order of events,
 * the driver closed and its late frames counted, indexes not reused, and
 * what every subscriber forgets (routes, neighbours and their queued
 * packets, path MTUs, multicast groups with no leave sent, SLAAC, NAT,
 * the Subnet-Router anycast set). Sockets, a router losing a link
 * mid-transfer and the capture check: `tests/routing/interface_removed_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, type LinkDriver, type ProtocolPlugin, VirtualNetwork } from "../../mod.ts";
import type { DriverPort } from "../../stack/driver.ts";
import type { Ipv4RoutesService, Ipv6RoutesService, RouteService } from "../../stack/services.ts";
import type { ArpService, NdpService } from "../../stack/_services_link.ts";
import type { SlaacService } from "../../stack/protocols/slaac/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { EnvBase, pluginsWith } from "../_harness.ts";
import { makeNatNet } from "../nat/_nat.ts";
import { makeSlaacLan } from "../slaac/_lan.ts";

const SECOND = 1_000_000;
const k = (s: string) => IpAddress.parse(s)!.key;

/** A stack with eth0 and eth1 on two links of one network, after DAD. */
function twoLinks(seed = 1) {
  const net = new VirtualNetwork({ seed });
  const base = new EnvBase(net, null);
  const s = base.newStack("r");
  const l0 = net.link(), l1 = net.link();
  s.addInterface({ name: "eth0", driver: l0.a, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  s.addInterface({ name: "eth1", driver: l1.a, addresses: ["10.1.0.1/24", "fd01::1/64"] });
  net.runFor(2 * SECOND);
  return { net, base, s, l0, l1 };
}

/** A driver that keeps its port, to deliver frames after it was closed. */
class KeepPortDriver implements LinkDriver {
  readonly linkType = 1;
  readonly mtu = 1500;
  readonly mac = new Uint8Array([2, 0, 0, 0, 0, 9]);
  port: DriverPort | undefined;
  closed = 0;
  sent = 0;
  attach(port: DriverPort): void {
    this.port = port;
  }
  transmit(pkt: { release(): void }): void {
    this.sent++;
    pkt.release();
  }
  close(): void {
    this.closed++;
  }
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TypeError, `${e}`);
    return e.message;
  }
  assert.fail("did not throw");
}

Deno.test("removeInterface() of an unknown interface throws addAddress's TypeError; removing twice the same", () => {
  const stack = createStack({ seed: 1 });
  const link = new VirtualNetwork({ seed: 1 }).link();
  stack.addInterface({ name: "eth0", driver: link.a });
  assert.equal(
    message(() => stack.removeInterface("nope")),
    message(() => stack.addAddress("nope", "10.0.0.1/24")),
  );
  assert.equal(
    message(() => stack.removeInterface(7)),
    message(() => stack.addAddress(7, "10.0.0.1/24")),
  );
  stack.removeInterface("eth0");
  assert.equal(message(() => stack.removeInterface("eth0")), 'Cannot find interface "eth0"');
  assert.equal(message(() => stack.removeInterface(0)), 'Cannot find interface "0"');
  stack.close();
  assert.throws(() => stack.removeInterface("eth0"), Deno.errors.BadResource);
});

Deno.test("removeInterface(): link down, each address-removed, then interface-removed with the interface unlisted, then the driver closed", () => {
  const seen: string[] = [];
  const driver = new KeepPortDriver();
  const watcher: ProtocolPlugin = {
    manifest: {
      name: "watcher",
      description: "records interface events",
      version: "1.0.0",
      api: "^1.0.0",
      layer: "service",
      binds: [],
      counters: [],
    },
    setup: (ctx) => ({
      onEvent(ev) {
        const iface = (ev as { iface?: { name: string; index: number } }).iface;
        if (iface === undefined) return;
        const listed = ctx.interfaces.get(iface.index) !== undefined;
        const extra = "address" in ev ? ` ${ev.address}` : "";
        seen.push(`${ev.type}${extra} listed=${listed} closed=${driver.closed}`);
      },
    }),
  };
  const stack = createStack({ seed: 1, plugins: [...pluginsWith(undefined), watcher] });
  stack.addInterface({
    name: "eth0",
    driver,
    addresses: ["10.0.0.1/24", "10.0.0.2/24", "fd00::1/64"],
  });
  seen.length = 0;
  stack.removeInterface(0);
  assert.deepEqual(seen.filter((l) => !l.includes("fe80::")), [
    "link-changed listed=true closed=0",
    "address-removed fd00::1 listed=true closed=0",
    "address-removed 10.0.0.2 listed=true closed=0",
    "address-removed 10.0.0.1 listed=true closed=0",
    "interface-removed listed=false closed=0",
  ]);
  assert.equal(driver.closed, 1);
  assert.equal(stack.interfaces.list().length, 0);
  assert.equal(stack.describe().interfaces.length, 0);
  stack.close();
  assert.equal(driver.closed, 1); // close() does not close it again
});

Deno.test("removeInterface(): frames its port delivers afterwards are dropped and counted, nothing is sent", () => {
  const driver = new KeepPortDriver();
  const stack = createStack({ seed: 1 });
  stack.addInterface({ name: "eth0", driver, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  stack.poll(stack.clock.now() + 5 * SECOND);
  const sentBefore = driver.sent;
  stack.removeInterface("eth0");
  assert.equal(driver.sent, sentBefore, "no MLD Done, IGMP leave or other frame on a removed link");
  const frame = new Uint8Array(60);
  frame.fill(0xff, 0, 6);
  frame[12] = 0x08;
  driver.port!.receive(stack.pool.copyOf(frame));
  driver.port!.receive(stack.pool.copyOf(frame));
  assert.equal(stack.counters.get("dispatcher.rx.no_interface").value, 2);
  assert.equal(stack.pool.outstanding, 0);
  stack.close();
});

Deno.test("removeInterface(): indexes are not reused while the stack runs", () => {
  const net = new VirtualNetwork({ seed: 1 });
  const stack = createStack({ seed: 1 });
  stack.addInterface({ name: "eth0", driver: net.link().a });
  const b = stack.addInterface({ name: "eth1", driver: net.link().a });
  stack.removeInterface("eth1");
  const c = stack.addInterface({ name: "eth1", driver: net.link().a });
  assert.equal(b.index, 1);
  assert.equal(c.index, 2);
  stack.close();
  net.close();
});

Deno.test("removeInterface(): IPv4 and IPv6 routes via it go, connected and through gateways, and the path MTUs learned through them", () => {
  const { base, s } = twoLinks();
  s.addRoute("10.9.0.0/16", { gateway: "10.1.0.254" });
  s.addRoute("0.0.0.0/0", { gateway: "10.1.0.254", metric: 10 });
  s.addRoute("10.8.0.0/16", { gateway: "10.0.0.254" });
  s.addRoute("fd09::/32", { gateway: "fd01::fe" });
  const v4 = s.service<Ipv4RoutesService>("ipv4.routes")!;
  const v6 = s.service<Ipv6RoutesService>("ipv6.routes")!;
  const route6 = s.service<RouteService>("ipv6.route")!;
  // Path MTUs learned through eth1 and through eth0.
  v4.learnPmtu(0x0a090101, 1200); // 10.9.1.1
  v4.learnPmtu(0x0a080101, 1100); // 10.8.1.1
  route6.learnPathMtu(k("fd09::1"), 1300);
  assert.equal(route6.pmtuExpires(k("fd09::1")) > 0, true);
  const before = s.routes().filter((r) => r.interface === "eth1");
  assert.equal(before.length, 6); // 10.1.0.0/24, 10.9/16, default, fd01::/64, fe80::/64, fd09::/32
  s.removeInterface("eth1");
  assert.deepEqual(s.routes().filter((r) => r.interface !== "eth0"), []);
  assert.equal(s.routes().filter((r) => r.interface === "eth0").length, 4);
  assert.equal(v4.list().some((r) => r.ifindex === 1), false);
  assert.equal(v6.list().some((r) => r.ifindex === 1), false);
  assert.equal(s.routeGet("10.9.1.1"), undefined);
  assert.equal(s.routeGet("10.8.1.1")?.interface, "eth0");
  assert.equal(v4.pmtu(0x0a090101), undefined);
  assert.equal(v4.pmtu(0x0a080101)?.mtu, 1100); // through eth0: kept
  assert.equal(route6.pmtuExpires(k("fd09::1")), 0);
  base.finish();
});

Deno.test("removeInterface(): neighbour entries go, PERMANENT ones too, and their queued packets are dropped and counted", async () => {
  const { net, base, s } = twoLinks();
  const sock = s.listenDatagram({ hostname: "10.1.0.1", port: 5000, transport: "udp" });
  const sends = [1, 2, 3].map(() =>
    sock.send(new Uint8Array(10), { hostname: "10.1.0.77", port: 9, transport: "udp" })
  );
  await Promise.allSettled(sends);
  net.runFor(10_000); // the request is out; no answer yet (nobody on the link)
  const queued = s.neighbors().find((n) => n.address === "10.1.0.77");
  assert.equal(queued?.queued, 3);
  const mac = new Uint8Array([2, 0, 0, 0, 0, 9]);
  s.service<ArpService>("neighbor.ipv4")!.addStatic(1, 0x0a010009, mac); // 10.1.0.9
  s.service<NdpService>("neighbor.ipv6")!.addStatic(1, k("fd01::9"), mac);
  assert.equal(s.neighbors().filter((n) => n.state === "PERMANENT").length, 2);
  const unresolvedBefore = s.counters.get("arp.tx.unresolved").value;
  s.removeInterface("eth1");
  assert.deepEqual(s.neighbors().filter((n) => n.ifname !== "eth0"), []);
  assert.equal(s.counters.get("arp.tx.unresolved").value - unresolvedBefore, 3);
  sock.close();
  base.finish();
});

Deno.test("removeInterface(): multicast memberships on it go and no leave is sent", async () => {
  const { net, base, s, l1 } = twoLinks();
  const sock = s.listenDatagram({ hostname: "0.0.0.0", port: 5000, transport: "udp" });
  const membership = await sock.joinMulticastV4("239.1.2.3", "10.1.0.1");
  net.runFor(2 * SECOND);
  assert.ok(s.multicastGroups().some((g) => g.ifname === "eth1" && g.group === "239.1.2.3"));
  const sent = l1.lanes[0].stats.sent;
  s.removeInterface("eth1");
  net.runFor(10 * SECOND);
  assert.equal(l1.lanes[0].stats.sent, sent, "no IGMP leave or MLD Done on a removed link");
  assert.deepEqual(s.multicastGroups().filter((g) => g.ifindex === 1), []);
  // As Linux's IP_DROP_MEMBERSHIP for a gone device: no error, the record freed.
  await membership.leave();
  assert.equal(membership.active, false);
  await assert.rejects(membership.leave(), Deno.errors.BadResource);
  sock.close();
  base.finish();
});

Deno.test("removeInterface(): SLAAC forgets the link's routers and prefixes; the router stops advertising on it", () => {
  const lan = makeSlaacLan({ seed: 3 });
  const host = lan.hostStacks[0]!;
  lan.runFor(10 * SECOND);
  const slaac = host.service("slaac") as SlaacService;
  assert.equal(slaac.prefixes().length, 1);
  assert.equal(slaac.routers().length, 1);
  host.removeInterface(lan.ifaces[1]!.index);
  assert.deepEqual(slaac.prefixes(), []);
  assert.deepEqual(slaac.routers(), []);
  assert.deepEqual(host.routes().filter((r) => r.family === 6), []);
  // The router loses its side: no more advertisements leave on it, and
  // what it advertised there (router mode) is forgotten.
  const port = lan.ports[0]!;
  const routerIndex = lan.ifaces[0]!.index;
  const params = lan.router.service<Ipv6RoutesService>("ipv6.routes")!;
  assert.equal(params.linkParameters(routerIndex).router, true);
  lan.router.removeInterface(routerIndex);
  assert.equal(params.linkParameters(routerIndex).router, false);
  const sent = port.link.lanes[0].stats.sent;
  lan.runFor(3600 * SECOND);
  assert.equal(port.link.lanes[0].stats.sent, sent);
  lan.finish();
});

Deno.test("removeInterface(): NAT forgets the masqueraded mappings and conntrack entries of its WAN interface", async () => {
  const n = makeNatNet({ seed: 1 });
  const p = n.p.listenDatagram({ hostname: "198.51.100.10", port: 7000, transport: "udp" });
  const h1 = n.h1.listenDatagram({ hostname: "10.1.0.10", port: 6000, transport: "udp" });
  await n.run(() =>
    h1.send(new Uint8Array(8), { hostname: "198.51.100.10", port: 7000, transport: "udp" })
  );
  n.runFor(SECOND);
  assert.ok(n.nat.conntrack().some((r) => r.original.src === "10.1.0.10"));
  assert.equal((n.nat.service("nat.table") as { mappings(): unknown[] }).mappings().length, 1);
  n.nat.removeInterface("eth1");
  assert.deepEqual(n.nat.conntrack().filter((r) => r.original.src === "10.1.0.10"), []);
  assert.deepEqual((n.nat.service("nat.table") as { mappings(): unknown[] }).mappings(), []);
  assert.equal(n.nat.counters.get("nat.map.flushed").value, 1);
  p.close();
  h1.close();
  n.finish();
});

Deno.test("removeInterface(): a router's Subnet-Router anycast address of that link is no longer held, the other link's is", () => {
  const { net, base, s, l1 } = twoLinks();
  s.setForwarding(true);
  net.runFor(5 * SECOND); // the solicited-node groups of the anycast addresses reported
  const sent = l1.lanes[0].stats.sent;
  const v6 = s.service<Ipv6RoutesService>("ipv6.routes")!;
  assert.equal(v6.isSubnetAnycast!(1, k("fd01::")), true);
  assert.equal(v6.isSubnetAnycast!(1, k("fe80::")), true);
  s.removeInterface("eth1");
  assert.equal(v6.isSubnetAnycast!(1, k("fd01::")), false);
  assert.equal(v6.isSubnetAnycast!(1, k("fe80::")), false);
  assert.equal(v6.isSubnetAnycast!(0, k("fd00::")), true);
  assert.equal(v6.isSubnetAnycast!(0, k("fe80::")), true);
  net.runFor(5 * SECOND);
  assert.equal(l1.lanes[0].stats.sent, sent, "no MLD Done for the groups left");
  base.finish();
});

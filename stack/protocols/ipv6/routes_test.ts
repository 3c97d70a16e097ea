import assert from "node:assert/strict";
import type { LinkDriver } from "../../driver.ts";
import { InterfaceTable, NetInterface } from "../../netif.ts";
import { IpAddress, type IpKey } from "../../wire/ip_address.ts";
import { type Ipv6PathMtus, Ipv6RoutingTable, UNSPECIFIED } from "./routes.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

/** Learned path MTUs kept in `mtus`, as `Ipv6PathMtus` asks for them. */
function pathMtus(mtus: Map<IpKey, number>): Ipv6PathMtus {
  return {
    get: (d) => mtus.get(d) ?? 0,
    entries: () => [...mtus.keys()].map((destination) => ({ destination })),
    clear: (d) => void mtus.delete(d),
  };
}

function setup(pmtu?: Map<IpKey, number>) {
  const interfaces = new InterfaceTable();
  const driver = { linkType: 1, mtu: 1500 } as unknown as LinkDriver;
  interfaces.add(new NetInterface(0, "eth0", driver, {}));
  interfaces.add(new NetInterface(1, "eth1", driver, { mtu: 9000 }));
  const table = new Ipv6RoutingTable(interfaces, pmtu ? { pmtu: pathMtus(pmtu) } : {});
  return { interfaces, table };
}

Deno.test("Ipv6RoutingTable: longest prefix wins, lowest metric among equals", () => {
  const { table } = setup();
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: 0,
    metric: 1024,
  });
  table.add({
    destination: k("2001:db8::"),
    prefixLength: 32,
    gateway: k("fe80::2"),
    ifindex: 0,
    metric: 10,
  });
  table.add({
    destination: k("2001:db8:1::"),
    prefixLength: 48,
    gateway: UNSPECIFIED,
    ifindex: 1,
    metric: 256,
  });
  table.add({
    destination: k("2001:db8:1::"),
    prefixLength: 48,
    gateway: k("fe80::3"),
    ifindex: 0,
    metric: 100,
  });
  assert.equal(table.route(k("2001:db8:1::5"))!.gateway, k("fe80::3"));
  assert.equal(table.route(k("2001:db8:2::5"))!.gateway, k("fe80::2"));
  assert.equal(table.route(k("2600::1"))!.gateway, k("fe80::1"));
  assert.deepEqual(table.list().map((r) => r.prefixLength), [48, 48, 32, 0]);
  assert.deepEqual(table.list().map((r) => r.metric), [100, 256, 10, 1024]);
});

Deno.test("Ipv6RoutingTable.lookup(): next hop is the gateway, or the destination on-link", () => {
  const { table } = setup();
  table.add({
    destination: k("2001:db8:1::"),
    prefixLength: 64,
    gateway: UNSPECIFIED,
    ifindex: 1,
    metric: 256,
  });
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: 0,
    metric: 1024,
  });
  const onLink = table.lookup(k("2001:db8:1::9"))!;
  assert.equal(onLink.nextHop, k("2001:db8:1::9"));
  assert.equal(onLink.ifindex, 1);
  assert.equal(onLink.mtu, 9000);
  const via = table.lookup(k("2001:db8:7::9"))!;
  assert.equal(via.nextHop, k("fe80::1"));
  assert.equal(via.mtu, 1500);
});

Deno.test("Ipv6RoutingTable.lookup(): a learned path MTU lowers the MTU, never below 1280 (RFC 8201 §4)", () => {
  const pmtu = new Map<IpKey, number>();
  const { table } = setup(pmtu);
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: 0,
    metric: 0,
  });
  pmtu.set(k("2001:db8::9"), 1400);
  pmtu.set(k("2001:db8::a"), 1000);
  assert.equal(table.lookup(k("2001:db8::9"))!.mtu, 1400);
  assert.equal(table.lookup(k("2001:db8::a"))!.mtu, 1280);
  assert.equal(table.lookup(k("2001:db8::b"))!.mtu, 1500);
});

Deno.test("Ipv6RoutingTable: a route on a down interface is skipped", () => {
  const { table, interfaces } = setup();
  table.add({
    destination: k("2001:db8::"),
    prefixLength: 32,
    gateway: UNSPECIFIED,
    ifindex: 1,
    metric: 0,
  });
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: 0,
    metric: 0,
  });
  interfaces.get(1)!.up = false;
  assert.equal(table.route(k("2001:db8::5"))!.ifindex, 0);
});

Deno.test("Ipv6RoutingTable: a zone restricts a link-local lookup to its interface", () => {
  const { table } = setup();
  for (const ifindex of [0, 1]) {
    table.add({
      destination: k("fe80::"),
      prefixLength: 64,
      gateway: UNSPECIFIED,
      ifindex,
      metric: 256,
      origin: "connected",
    });
  }
  assert.equal(table.route(k("fe80::9"))!.ifindex, 0);
  assert.equal(table.route(k("fe80::9"), 1)!.ifindex, 1);
  assert.equal(table.route(k("2001:db8::1"), 1), undefined);
});

Deno.test("Ipv6RoutingTable.add(): same prefix, gateway, interface and metric replaces (an RA refresh); the prefix is masked", () => {
  const { table } = setup();
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: 0,
    metric: 1024,
    origin: "ra",
    expires: 1_800_000_000,
  });
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: 0,
    metric: 1024,
    origin: "ra",
    expires: 3_600_000_000,
  });
  assert.equal(table.size, 1);
  assert.equal(table.list()[0]!.expires, 3_600_000_000);
  table.add({
    destination: k("2001:db8:1:2::77"),
    prefixLength: 64,
    gateway: UNSPECIFIED,
    ifindex: 0,
    metric: 0,
  });
  assert.equal(table.list()[0]!.destination, k("2001:db8:1:2::"));
  assert.throws(
    () =>
      table.add({
        destination: k("::"),
        prefixLength: 129,
        gateway: UNSPECIFIED,
        ifindex: 0,
        metric: 0,
      }),
    RangeError,
  );
});

Deno.test("Ipv6RoutingTable: RA routes expire on the stack's clock (RFC 4861 §6.3.4)", () => {
  const { table } = setup();
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: 0,
    metric: 1024,
    origin: "ra",
    expires: 2000,
  });
  table.add({
    destination: k("2001:db8:1::"),
    prefixLength: 64,
    gateway: UNSPECIFIED,
    ifindex: 0,
    metric: 256,
    origin: "ra",
    expires: 1000,
  });
  table.add({
    destination: k("fe80::"),
    prefixLength: 64,
    gateway: UNSPECIFIED,
    ifindex: 0,
    metric: 256,
    origin: "connected",
  });
  assert.equal(table.nextExpiry, 1000);
  assert.equal(table.expire(999), 0);
  assert.equal(table.expire(1000), 1);
  assert.equal(table.nextExpiry, 2000);
  assert.equal(table.expire(5000), 1);
  assert.equal(table.nextExpiry, undefined);
  assert.equal(table.size, 1);
});

Deno.test("Ipv6RoutingTable: removal by prefix, gateway and interface", () => {
  const { table } = setup();
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: 0,
    metric: 1024,
  });
  table.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::2"),
    ifindex: 0,
    metric: 1024,
  });
  table.add({
    destination: k("2001:db8::"),
    prefixLength: 32,
    gateway: UNSPECIFIED,
    ifindex: 1,
    metric: 0,
  });
  assert.equal(table.remove(k("::"), 0, k("fe80::2")), 1);
  assert.equal(table.route(k("2600::1"))!.gateway, k("fe80::1"));
  assert.equal(table.removeInterface(1), 1);
  assert.equal(table.remove(k("::"), 0), 1);
  assert.equal(table.size, 0);
});

Deno.test("Ipv6RoutingTable.removeInterface(): the path MTUs learned through its routes go, the others stay", () => {
  const pmtu = new Map<IpKey, number>();
  const { table } = setup(pmtu);
  const route = (dst: string, length: number, ifindex: number) => ({
    destination: k(dst),
    prefixLength: length,
    gateway: k("fe80::1"),
    ifindex,
    metric: 0,
  });
  table.add(route("2001:db8::", 32, 1));
  table.add(route("::", 0, 0));
  pmtu.set(k("2001:db8::9"), 1400); // through eth1
  pmtu.set(k("2600::9"), 1300); // through eth0
  assert.equal(table.removeInterface(1), 1);
  assert.deepEqual([...pmtu.keys()], [k("2600::9")]);
  assert.equal(table.lookup(k("2001:db8::9"))!.mtu, 1500); // now by eth0, its own MTU
});

Deno.test("Ipv6RoutingTable: the table is bounded; a full table refuses new routes but still refreshes", () => {
  const interfaces = new InterfaceTable();
  interfaces.add(
    new NetInterface(0, "eth0", { linkType: 1, mtu: 1500 } as unknown as LinkDriver, {}),
  );
  const table = new Ipv6RoutingTable(interfaces, { maxRoutes: 2 });
  const r = (p: string) => ({
    destination: k(p),
    prefixLength: 64,
    gateway: UNSPECIFIED,
    ifindex: 0,
    metric: 0,
  });
  assert.ok(table.add(r("2001:db8:1::")));
  assert.ok(table.add(r("2001:db8:2::")));
  assert.ok(!table.add(r("2001:db8:3::")));
  assert.ok(table.add(r("2001:db8:2::")));
  assert.equal(table.size, 2);
  assert.throws(() => new Ipv6RoutingTable(interfaces, { maxRoutes: 0 }), RangeError);
});

import assert from "node:assert/strict";
import { createStack, type Stack } from "../../../mod.ts";
import type { Route, RouteService } from "../../services.ts";
import { IpAddress } from "../../wire/ip_address.ts";

function stack(): Stack {
  const s = createStack({ seed: 1 });
  const sink = { linkType: 101 as const, mtu: 1400, attach() {}, close() {} };
  s.addInterface({ driver: { ...sink, transmit: (p) => p.release() }, addresses: ["10.0.0.1/24"] });
  s.addInterface({
    driver: { ...sink, mtu: 9000, transmit: (p) => p.release() },
    addresses: ["192.168.5.9/16"],
  });
  s.addRoute("default", { gateway: "10.0.0.254" });
  return s;
}

const ip = (s: string) => IpAddress.parse(s)!;

Deno.test("ipv4.route selects the source once: ours, loopback, route, broadcast, none", () => {
  const s = stack();
  const r = s.service<RouteService>("ipv4.route")!;
  assert.equal(r.family, 4);
  assert.equal(r.selectSource(ip("10.0.0.1").key), ip("10.0.0.1").key, "ours: itself");
  assert.equal(r.selectSource(ip("127.0.0.9").key), ip("127.0.0.1").key, "loopback");
  assert.equal(r.selectSource(ip("192.168.200.1").key), ip("192.168.5.9").key, "on-link");
  assert.equal(r.selectSource(ip("8.8.8.8").key), ip("10.0.0.1").key, "via the gateway");
  assert.equal(r.selectSource(ip("224.0.0.251").key), ip("10.0.0.1").key, "multicast");
  assert.equal(r.selectSource(ip("::1").key), 0, "not this family");
  s.deleteRoute("default");
  assert.equal(r.selectSource(ip("8.8.8.8").key), 0, "no route");
  assert.equal(r.selectSource(ip("255.255.255.255").key), ip("10.0.0.1").key, "broadcast");
  s.close();
});

Deno.test("ipv4.route gives a Route: source, interface, next hop, MTU, header length", () => {
  const s = stack();
  const r = s.service<RouteService>("ipv4.route")!;
  const far = r.route(ip("8.8.8.8")) as Route;
  assert.equal(far.source.toString(), "10.0.0.1");
  assert.equal(far.nextHop.toString(), "10.0.0.254");
  assert.equal(far.ifindex, s.interfaces.byName(s.interfaces.list()[0]!.name)!.index);
  assert.deepEqual([far.mtu, far.headerLength, far.minimumMtu, far.local], [1400, 20, 68, false]);
  const lan = r.route(ip("192.168.1.1")) as Route;
  assert.deepEqual([lan.source.toString(), lan.nextHop.toString(), lan.mtu], [
    "192.168.5.9",
    "192.168.1.1",
    9000,
  ]);
  const self = r.route(ip("10.0.0.1")) as Route;
  assert.ok(self.local);
  assert.equal(self.source.toString(), "10.0.0.1");
  // A bound source must be ours; the route is still looked up.
  assert.equal(r.route(ip("8.8.8.8"), { source: ip("10.9.9.9") }), "addr_not_available");
  const bound = r.route(ip("8.8.8.8"), { source: ip("192.168.5.9") }) as Route;
  assert.equal(bound.source.toString(), "192.168.5.9");
  assert.equal(r.route(ip("2001:db8::1")), "no_route");
  // The same figures without building a Route (the transports' hot path).
  assert.equal(r.pathMtu(ip("8.8.8.8").key), 1400);
  assert.equal(r.pathMtu(ip("192.168.1.1").key), 9000);
  assert.equal(r.pathMtu(ip("10.0.0.1").key), 65535);
  assert.equal(r.pmtuExpires(ip("8.8.8.8").key), 0);
  assert.deepEqual([r.headerLength, r.minimumMtu], [20, 68]);
  s.deleteRoute("default");
  assert.equal(r.route(ip("8.8.8.8")), "no_route");
  s.close();
});

Deno.test("ipv4.route classifies addresses and sends through ipv4.send", () => {
  const s = stack();
  const r = s.service<RouteService>("ipv4.route")!;
  assert.ok(r.isLocal(ip("10.0.0.1").key) && r.isLocal(ip("127.0.0.1").key));
  assert.ok(r.isAssigned(ip("10.0.0.1").key) && !r.isAssigned(ip("127.0.0.1").key));
  assert.ok(r.isBroadcast(ip("10.0.0.255").key) && r.isBroadcast(ip("255.255.255.255").key));
  assert.ok(!r.isBroadcast(ip("10.0.0.254").key));
  const pkt = s.pool.alloc(8);
  assert.equal(r.send(pkt, 0, ip("8.8.8.8").key, 253, 0, 0), undefined);
  assert.equal(s.counters.value("ipv4.tx.packets"), 1);
  const v6 = s.pool.alloc(8);
  assert.equal(r.send(v6, ip("::1").key, ip("::1").key, 17, 0, 0), "no_route");
  assert.ok(v6.released);
  s.close();
});

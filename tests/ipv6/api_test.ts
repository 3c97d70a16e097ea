/**
 * The IPv6 side of the public API with IPv6 in the default plugins:
 * `stack.ping()` to literals and zones (`fe80::2%eth0`), `stack.routes()`
 * like `ip -6 route`, `routeGet()`, `addRoute()`/`deleteRoute()` with IPv6
 * prefixes and gateways, `setForwarding()` per family, and Destination
 * Unreachable code 3 when the neighbour resolver gives up.
 */
import assert from "node:assert/strict";
import { createStack, DEFAULT_PLUGINS, icmpv6Plugin, ipv6Plugin } from "../../mod.ts";
import { ethernetFrame, makeHost, makeLink, testPlugin } from "../_harness.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { NeighborResolver } from "../../stack/services.ts";
import { IpAddress, type IpKey } from "../../stack/wire/ip_address.ts";
import { ipv6DestinationKey, ipv6SourceKey, writeIpv6Header } from "../../stack/wire/ipv6.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

function pair() {
  return makeLink({
    seed: 5,
    linkType: 101,
    addresses: [["fe80::1/64", "fd00::1/64"], ["fe80::2/64", "fd00::2/64"]],
  });
}

Deno.test("ipv6 and icmpv6 are default plugins, booted after ipv4 and icmp", () => {
  const names = DEFAULT_PLUGINS.map((p) => p.manifest.name);
  assert.ok(names.includes("ipv6") && names.includes("icmpv6"));
  assert.ok(names.indexOf("ipv6") > names.indexOf("icmp"));
  assert.ok(DEFAULT_PLUGINS.includes(ipv6Plugin) && DEFAULT_PLUGINS.includes(icmpv6Plugin));
  const s = createStack({ seed: 1 });
  assert.ok(s.service("icmpv6.echo") !== undefined);
  s.close();
});

Deno.test("stack.ping() to an IPv6 literal, and to a link-local one with its zone", async () => {
  const env = pair();
  const eth = env.a.interfaces.list()[0]!.name;
  const r = await env.run(() => env.a.ping("fd00::2", { size: 100 }));
  assert.deepEqual([r.from, r.bytes, r.ttl], ["fd00::2", 100, 64]);
  const ll = await env.run(() => env.a.ping(`fe80::2%${eth}`));
  assert.equal(ll.from, "fe80::2");
  assert.equal(env.b.counters.value("icmpv6.tx.echo_replies"), 2);
  assert.equal(env.a.counters.value("icmpv6.rx.echo_replies"), 2);
  await assert.rejects(env.a.ping("fe80::2%nope"), TypeError);
  await assert.rejects(env.a.ping("fd00::zz"), /not an IPv4 or IPv6 address/);
  await assert.rejects(env.a.ping("fd00::2", { size: 70_000 }), RangeError);
  await assert.rejects(
    env.run(() => env.a.ping("2001:db8::1")),
    (e: Error) => e instanceof Deno.errors.NetworkUnreachable && /no route/.test(e.message),
  );
  await assert.rejects(
    env.run(() => env.a.ping("fd00::9", { timeout: 50 })),
    Deno.errors.TimedOut,
  );
  env.finish();
});

Deno.test("stack.routes() lists IPv6 routes like ip -6 route; routeGet() picks source and hop", () => {
  const env = pair();
  const eth = env.a.interfaces.list()[0]!.name;
  const v6 = () => env.a.routes().filter((r) => r.family === 6);
  assert.deepEqual(v6().map((r) => [r.destination, r.metric, r.origin]), [
    ["fe80::/64", 256, "connected"],
    ["fd00::/64", 256, "connected"],
  ]);
  env.a.addRoute("2001:db8::/32", { gateway: `fe80::2%${eth}` });
  env.a.addRoute("default", { gateway: "fd00::2", metric: 2048 });
  assert.deepEqual(v6().find((r) => r.destination === "2001:db8::/32"), {
    destination: "2001:db8::/32",
    gateway: "fe80::2",
    interface: eth,
    metric: 1024,
    origin: "static",
    family: 6,
  });
  assert.equal(v6().find((r) => r.destination === "default")?.gateway, "fd00::2");
  const g = env.a.routeGet("2001:db8::5")!;
  // RFC 6724 rule 2: a global destination gets the global-scope source, not fe80::1.
  assert.deepEqual([g.source, g.nextHop, g.mtu, g.interface], ["fd00::1", "fe80::2", 1500, eth]);
  assert.equal(env.a.routeGet("2002::1")?.nextHop, "fd00::2");
  assert.equal(env.a.routeGet(`fe80::7%${eth}`)?.source, "fe80::1");
  // Refused: a link-local gateway without its zone, our own address, a bad prefix.
  assert.throws(
    () => env.a.addRoute("2001:db9::/32", { gateway: "fe80::2" }),
    (e: Error) => e instanceof TypeError && /needs a zone/.test(e.message),
  );
  env.a.addRoute("2001:db9::/32", { gateway: "fe80::2", interface: eth }); // the interface says the link
  assert.throws(
    () => env.a.addRoute("2001:dba::/32", { gateway: "fd01::2" }),
    Deno.errors.NetworkUnreachable,
  );
  assert.throws(() => env.a.addRoute("2001:db9::/32", { gateway: "fd00::1" }), RangeError);
  assert.throws(() => env.a.addRoute("2001:db9::/129", { gateway: "fd00::2" }), TypeError);
  assert.equal(env.a.deleteRoute("2001:db8::/32"), 1);
  assert.equal(env.a.routeGet("2001:db8::5")?.nextHop, "fd00::2"); // now the default route
  env.finish();
});

Deno.test("stack.setForwarding() switches both families, or one", () => {
  const s = createStack({ seed: 1 });
  s.setForwarding(true, 6);
  assert.equal(s.forwarding, false, "IPv4's switch is untouched");
  s.setForwarding(true);
  assert.equal(s.forwarding, true);
  assert.throws(() => s.setForwarding(true, 5 as 4), RangeError);
  assert.throws(() => s.setForwarding("yes" as unknown as boolean), TypeError);
  s.close();
});

/** A neighbour resolver that knows one MAC and gives up on every other next hop. */
function stubNdp(known: IpKey, mac: Uint8Array) {
  let handler: ((ifindex: number, pkt: PacketBuffer) => void) | null = null;
  const resolver: NeighborResolver = {
    family: 6,
    resolve(ifindex, nextHop, pkt) {
      if (nextHop === known) return mac;
      handler?.(ifindex, pkt);
      pkt.release();
      return null;
    },
    onUnresolved(h) {
      handler = h;
    },
    entries: () => [],
  };
  return testPlugin({ name: "stubndp", provides: ["neighbor.ipv6"] }, () => ({
    services: { "neighbor.ipv6": resolver },
  }));
}

Deno.test("ipv6 forwarding: an unresolved next hop → Destination Unreachable code 3 (address unreachable)", () => {
  const peerMac = new Uint8Array([2, 0, 0, 0, 0, 0x99]);
  const h = makeHost({
    addresses: ["fd00::1/64"],
    extraPlugins: [stubNdp(k("fd00::99"), peerMac)],
    withoutPlugins: ["mld", "slaac"], // their multicast would go unresolved by the stub too
  });
  h.stack.setForwarding(true, 6);
  h.stack.addRoute("fd01::/64", { gateway: "fd00::2" }); // a router that never answers
  const p = new Uint8Array(40 + 8);
  writeIpv6Header(p, 0, 8, 59, 64, k("fd00::99"), k("fd01::5")); // No Next Header, 8 bytes
  const out = h.inject(
    ethernetFrame({ dst: "02:00:00:00:00:01", src: "02:00:00:00:00:99", etherType: 0x86dd }, p),
  );
  assert.equal(out.length, 1);
  const ip = out[0]!.subarray(14);
  assert.equal(ipv6SourceKey(ip, 0), k("fd00::1"));
  assert.equal(ipv6DestinationKey(ip, 0), k("fd00::99"));
  assert.deepEqual([ip[40], ip[41]], [1, 3]);
  assert.equal(ipv6DestinationKey(ip.subarray(48), 0), k("fd01::5")); // the quote
  assert.equal(ip[48 + 7], 63, "quoted as forwarded: hop limit already decremented");
  assert.equal(h.counter("ipv6.fwd.address_unreachable"), 1);
  h.finish();
});

Deno.test("one zone rule for ping, traceroute, routes and sockets: the same TypeError for the same mistake", async () => {
  const env = pair();
  const eth = env.a.interfaces.list()[0]!.name;
  const index = env.a.interfaces.list()[0]!.index;
  const message = (p: Promise<unknown> | (() => unknown)) => {
    try {
      const r = typeof p === "function" ? p() : p;
      if (r instanceof Promise) return r.then(() => "", (e: Error) => `${e.name}: ${e.message}`);
    } catch (e) {
      return Promise.resolve(`${(e as Error).name}: ${(e as Error).message}`);
    }
    return Promise.resolve("");
  };
  // A link-local address without a zone: refused as Deno's connect refuses it (Linux's EINVAL).
  const noZone = /^TypeError: .*a link-local address needs a zone/;
  assert.match(await message(env.a.ping("fe80::2")), noZone);
  assert.match(await message(env.a.traceroute("fe80::2")), noZone);
  assert.match(await message(env.a.connect({ hostname: "fe80::2", port: 80 })), noZone);
  // Binding to one (measured: Deno 2.9.6 on Linux, "Invalid argument (os error 22)", a TypeError).
  assert.match(await message(() => env.a.listen({ hostname: "fe80::1", port: 80 })), noZone);
  assert.match(
    await message(() => env.a.listenDatagram({ transport: "udp", hostname: "fe80::1", port: 53 })),
    noZone,
  );
  env.a.listen({ hostname: `fe80::1%${eth}`, port: 80 }).close();
  env.a.listenDatagram({ transport: "udp", hostname: `fe80::1%${eth}`, port: 53 }).close();
  // A zone naming no interface: the same words from ping and connect.
  const ping = await message(env.a.ping("fe80::2%nope"));
  const conn = await message(env.a.connect({ hostname: "fe80::2%nope", port: 80 }));
  assert.match(ping, /^TypeError: .*no interface "nope" for the zone of fe80::2$/);
  const tail = (m: string) => m.slice(m.indexOf("no interface"));
  assert.ok(conn.startsWith("TypeError: ") && tail(ping) === tail(conn), conn);
  // Brackets and the interface index work for ping as for sockets; a zone on a
  // global address is checked and ignored (Linux ignores sin6_scope_id there).
  assert.equal((await env.run(() => env.a.ping("[fd00::2]"))).from, "fd00::2");
  assert.equal((await env.run(() => env.a.ping(`fe80::2%${index}`))).from, "fe80::2");
  assert.equal((await env.run(() => env.a.ping(`fd00::2%${eth}`))).from, "fd00::2");
  assert.equal(env.a.routeGet(`[fe80::7%${eth}]`)?.interface, eth);
  env.finish();
});

/**
 * Router Advertisement processing on one host, with crafted frames (RFC
 * 4861 §6.1.2 validation, §6.3.4 processing; RFC 4862 §5.5.3).
 */
import assert from "node:assert/strict";
import { makeHost } from "../_harness.ts";
import type { Ipv6RoutesService, RouteService } from "../../stack/services.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { slaacPlugin, type SlaacService } from "../../stack/protocols/slaac/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { dadStandIn, resolverStandIn } from "./_standins.ts";
import { mtuOption, ndpFrame, pio, raMessage, ROUTER_LL, ROUTER_MAC } from "./_ra.ts";
import { llaOption } from "../ndp/_ndp.ts";

const SECOND = 1_000_000;
const k = (s: string) => IpAddress.parse(s)!.key;

function host(slaac: Record<string, number | string | boolean> = {}, ndp = true) {
  const resolver = resolverStandIn();
  const h = makeHost({
    seed: 9,
    addresses: [],
    extraPlugins: [
      ipv6Plugin,
      icmpv6Plugin,
      ...(ndp ? [resolver.plugin] : []),
      dadStandIn(),
      slaacPlugin,
    ],
    plugins: { slaac: { routerSolicitations: 0, ...slaac } },
    withoutPlugins: ["ndp"], // the stand-ins take its place (or nothing does)
  });
  h.runFor(2 * SECOND); // the link-local address is preferred
  const routes = h.stack.service("ipv6.routes") as Ipv6RoutesService;
  const slaacService = h.stack.service("slaac") as SlaacService;
  const autoconf = () => h.iface.ipv6.filter((a) => a.origin === "autoconf");
  const raRoutes = () =>
    routes.list().filter((r) => r.origin === "ra").map((r) =>
      `${IpAddress.fromKey(r.destination)}/${r.prefixLength} via ${IpAddress.fromKey(r.gateway)}`
    );
  return { h, resolver, routes, slaac: slaacService, autoconf, raRoutes };
}

Deno.test("slaac RA: a valid RA gives a default route, an on-link route, an address, the MTU, the hop limit and the ND timers", () => {
  const t = host();
  const { h } = t;
  const now = h.net.now();
  h.inject(ndpFrame(
    {},
    raMessage({
      hopLimit: 42,
      lifetime: 600,
      reachable: 20_000,
      retrans: 500,
      options: [pio("2001:db8:5::/64", 7200, 3600), mtuOption(1400)],
    }),
  ));
  assert.equal(h.counter("slaac.rx.router_advertisements"), 1);
  assert.deepEqual(t.raRoutes(), ["2001:db8:5::/64 via ::", "::/0 via fe80::fe"]);
  const def = t.routes.list().find((r) => r.prefixLength === 0)!;
  assert.equal(def.expires, now + 600 * SECOND);
  const [a] = t.autoconf();
  assert.equal(a!.state, "tentative", "DAD runs first");
  assert.equal(a!.validUntil, now + 7200 * SECOND);
  assert.equal(a!.preferredUntil, now + 3600 * SECOND);
  assert.equal(IpAddress.v6(a!.address).toString().startsWith("2001:db8:5:0:"), true);
  assert.deepEqual(t.routes.linkParameters(h.iface.index), {
    hopLimit: 42,
    mtu: 1400,
    router: false,
  });
  assert.deepEqual(t.resolver.timers, [{
    ifindex: h.iface.index,
    reachableTime: 20_000_000,
    retransTimer: 500_000,
  }]);
  assert.deepEqual(t.slaac.linkTimers(h.iface.index), { reachableTime: 20_000, retransTimer: 500 });
  h.runFor(SECOND);
  assert.equal(t.autoconf()[0]!.state, "preferred");
  // The learned hop limit and MTU apply to what we send on that link.
  const route = h.stack.service("ipv6.route") as RouteService;
  assert.equal(route.pathMtu(k("2001:db8:5::99")), 1400);
  const pkt = h.stack.pool.alloc(8);
  pkt.data.fill(0);
  h.take();
  assert.equal(route.send(pkt, IpAddress.v6(a!.address).key, k("ff02::1"), 59, 0, 0), undefined);
  h.runFor(0);
  const [frame] = h.take();
  assert.equal(frame![14 + 7], 42, "hop limit from the RA");
  h.finish();
});

Deno.test("slaac RA: the router's Source Link-Layer Address goes to the neighbour cache as a router's; an RA without one says only that it is a router", () => {
  const t = host();
  t.h.inject(ndpFrame({}, raMessage({ options: [llaOption(1, ROUTER_MAC)] })));
  t.h.inject(ndpFrame({ src: "fe80::fd" }, raMessage()));
  // A multicast MAC is handed on as it is: the cache refuses it (its counter).
  t.h.inject(
    ndpFrame({ src: "fe80::fc" }, raMessage({ options: [llaOption(1, "33:33:00:00:00:01")] })),
  );
  assert.deepEqual(t.resolver.senders, [
    { ifindex: t.h.iface.index, address: ROUTER_LL, mac: ROUTER_MAC, isRouter: true },
    { ifindex: t.h.iface.index, address: "fe80::fd", mac: "", isRouter: true },
    { ifindex: t.h.iface.index, address: "fe80::fc", mac: "33:33:00:00:00:01", isRouter: true },
  ]);
  t.h.finish();
});

Deno.test("slaac RA: a Reachable Time over MAX_REACHABLE_TIME (1 h) is ignored with a counter; the Retrans Timer still applies", () => {
  const t = host();
  t.h.inject(ndpFrame({}, raMessage({ reachable: 3_600_001, retrans: 2000 })));
  assert.equal(t.h.counter("slaac.rx.bad_reachable_time"), 1);
  assert.deepEqual(t.resolver.timers, [{ ifindex: t.h.iface.index, retransTimer: 2_000_000 }]);
  t.h.finish();
});

Deno.test("slaac RA: without the ndp plugin the RA's timers are counted as unused", () => {
  const t = host({}, false);
  t.h.inject(ndpFrame({}, raMessage({ reachable: 20_000 })));
  assert.equal(t.h.counter("slaac.rx.timers_unused"), 1);
  assert.deepEqual(t.slaac.linkTimers(t.h.iface.index), { reachableTime: 20_000, retransTimer: 0 });
  t.h.finish();
});

Deno.test("slaac RA validation: each malformed RA is dropped with its counter and changes nothing", () => {
  const t = host();
  const good = { options: [pio("2001:db8:5::/64", 7200, 3600)] };
  const cases: [string, Uint8Array][] = [
    ["slaac.rx.bad_hop_limit", ndpFrame({ hopLimit: 254 }, raMessage(good))],
    ["slaac.rx.bad_code", ndpFrame({}, raMessage({ ...good, code: 1 }))],
    ["slaac.rx.source_not_link_local", ndpFrame({ src: "2001:db8::fe" }, raMessage(good))],
    ["slaac.rx.too_short", ndpFrame({}, raMessage().subarray(0, 12))],
    [
      "slaac.rx.bad_option_length",
      ndpFrame({}, raMessage({ options: [[5, 0, 0, 0, 0, 0, 5, 0]] })),
    ],
    [
      "slaac.rx.bad_option_length",
      ndpFrame({}, raMessage({ options: [pio("2001:db8:5::/64", 1, 1).slice(0, 24)] })),
    ],
    ["icmpv6.rx.bad_checksum", ndpFrame({ badChecksum: true }, raMessage(good))],
  ];
  for (const [counter, frame] of cases) {
    const before = t.h.counter(counter);
    t.h.inject(frame);
    assert.equal(t.h.counter(counter), before + 1, counter);
  }
  assert.equal(t.h.counter("slaac.rx.router_advertisements"), 0);
  assert.deepEqual(t.raRoutes(), []);
  assert.deepEqual(t.autoconf(), []);
  t.h.finish();
});

Deno.test("slaac RA options: a bad MTU, a link-local prefix, preferred > valid and a /48 autonomous prefix are ignored with counters; the rest applies", () => {
  const t = host();
  t.h.inject(ndpFrame(
    {},
    raMessage({
      options: [
        mtuOption(1000),
        pio("fe80::/64", 7200, 3600),
        pio("2001:db8:6::/64", 100, 200),
        pio("2001:db8:7::/48", 7200, 3600),
        pio("2001:db8:8::/64", 7200, 3600, 0x80), // on-link only
        pio("2001:db8:9::/64", 7200, 3600),
      ],
    }),
  ));
  assert.equal(t.h.counter("slaac.rx.bad_mtu_option"), 1);
  assert.equal(t.h.counter("slaac.rx.prefix_link_local"), 1);
  assert.equal(t.h.counter("slaac.rx.prefix_bad_lifetimes"), 1);
  assert.equal(t.h.counter("slaac.rx.prefix_bad_length"), 1);
  assert.equal(t.routes.linkParameters(t.h.iface.index).mtu, 0);
  assert.deepEqual(t.raRoutes(), [
    "2001:db8:6::/64 via ::",
    "2001:db8:8::/64 via ::",
    "2001:db8:9::/64 via ::",
    "2001:db8:7::/48 via ::",
    "::/0 via fe80::fe",
  ]);
  assert.deepEqual(
    t.autoconf().map((a) => IpAddress.v6(a.address).toString().split(":").slice(0, 3).join(":")),
    ["2001:db8:9"],
  );
  t.h.finish();
});

Deno.test("slaac RA: routers and prefixes per interface are bounded, the excess counted", () => {
  const t = host({ maxRouters: 1, maxPrefixes: 2 });
  t.h.inject(ndpFrame(
    {},
    raMessage({
      options: [
        pio("2001:db8:1::/64", 600, 300),
        pio("2001:db8:2::/64", 600, 300),
        pio("2001:db8:3::/64", 600, 300),
      ],
    }),
  ));
  t.h.inject(ndpFrame({ src: "fe80::fd", srcMac: "02:00:00:00:00:fd" }, raMessage()));
  assert.equal(t.h.counter("slaac.rx.too_many_prefixes"), 1);
  assert.equal(t.h.counter("slaac.rx.too_many_routers"), 1);
  assert.deepEqual(t.slaac.routers().map((r) => r.address), [ROUTER_LL]);
  assert.deepEqual(t.slaac.prefixes().map((p) => p.prefix), ["2001:db8:1::/64", "2001:db8:2::/64"]);
  t.h.finish();
});

Deno.test("slaac RA: a Router Lifetime of 0 removes the default router at once", () => {
  const t = host();
  t.h.inject(ndpFrame({}, raMessage({ lifetime: 1800 })));
  assert.deepEqual(t.raRoutes(), ["::/0 via fe80::fe"]);
  t.h.inject(ndpFrame({}, raMessage({ lifetime: 0 })));
  assert.deepEqual(t.raRoutes(), []);
  assert.deepEqual(t.slaac.routers(), []);
  t.h.finish();
});

Deno.test("slaac RA: RFC 4862 §5.5.3 (e): the two-hour rule guards the valid lifetime; the preferred lifetime follows each RA", () => {
  const t = host();
  const { h } = t;
  const HOUR = 3600 * SECOND;
  const p = "2001:db8:5::/64";
  h.inject(ndpFrame({}, raMessage({ options: [pio(p, 3 * 3600, 3600)] })));
  h.runFor(SECOND);
  const entry = () => t.autoconf()[0]!;
  let now = h.net.now();
  assert.equal(entry().validUntil, now - SECOND + 3 * HOUR);
  // 60 s < remaining (3 h) and remaining > 2 h: the valid lifetime becomes 2 h.
  h.inject(ndpFrame({}, raMessage({ options: [pio(p, 60, 30)] })));
  assert.equal(entry().validUntil, now + 2 * HOUR);
  assert.equal(entry().preferredUntil, now + 30 * SECOND);
  // remaining ≤ 2 h: a shorter valid lifetime is ignored.
  h.runFor(40 * SECOND);
  assert.equal(entry().state, "deprecated", "its preferred lifetime ran out");
  now = h.net.now();
  h.inject(ndpFrame({}, raMessage({ options: [pio(p, 60, 60)] })));
  assert.equal(entry().validUntil, now - 40 * SECOND + 2 * HOUR);
  assert.equal(entry().state, "preferred", "a new preferred lifetime undeprecates it");
  // A received valid lifetime above 2 h, or above the remaining one, is taken as is.
  h.inject(ndpFrame({}, raMessage({ options: [pio(p, 5 * 3600, 60)] })));
  assert.equal(entry().validUntil, now + 5 * HOUR);
  h.inject(ndpFrame({}, raMessage({ options: [pio(p, 0xffffffff, 0xffffffff)] })));
  assert.equal(entry().validUntil, Infinity);
  assert.equal(entry().preferredUntil, Infinity);
  h.finish();
});

Deno.test("slaac RA: an advertising (router) interface ignores other routers' RAs", () => {
  const t = host({ advertise: "2001:db8:1::/64" });
  t.h.inject(ndpFrame({}, raMessage({ options: [pio("2001:db8:5::/64", 600, 300)] })));
  assert.equal(t.h.counter("slaac.rx.ra_ignored"), 1);
  assert.deepEqual(t.raRoutes(), []);
  t.h.finish();
});

Deno.test("slaac RA from a real LAN (tcpdump's icmpv6.pcap): default router for its 15 s, a /72 prefix on-link but not autoconfigured, MTU 100 refused, RDNSS/DNSSL skipped", async () => {
  const { captureFrames } = await import("../_frames.ts");
  const ra = captureFrames("icmpv6.pcap").find((f) => f[12] === 0x86 && f[14 + 40] === 134)!;
  const t = host();
  const now = t.h.net.now();
  t.h.inject(ra);
  assert.equal(t.h.counter("slaac.rx.router_advertisements"), 1);
  assert.deepEqual(t.raRoutes(), [
    "2222:3333:4444:5555:6600::/72 via ::",
    "::/0 via fe80::b299:28ff:fec8:d66c",
  ]);
  assert.equal(
    t.h.counter("slaac.rx.prefix_bad_length"),
    1,
    "a /72 cannot take a 64-bit identifier",
  );
  assert.equal(t.h.counter("slaac.rx.bad_mtu_option"), 1, "MTU 100 is below IPv6's 1280");
  assert.deepEqual(t.autoconf(), []);
  assert.equal(t.routes.linkParameters(t.h.iface.index).hopLimit, 64);
  t.h.runFor(15 * SECOND - (t.h.net.now() - now) - 1);
  assert.equal(t.slaac.routers().length, 1);
  t.h.runFor(1);
  assert.deepEqual(t.slaac.routers(), []);
  assert.deepEqual(
    t.raRoutes(),
    ["2222:3333:4444:5555:6600::/72 via ::"],
    "the prefix lives 30 days",
  );
  t.h.finish();
});

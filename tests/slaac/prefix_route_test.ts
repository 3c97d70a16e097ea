/**
 * SLAAC addresses and their prefix routes: the link-local address's
 * `fe80::/64` is routed from the moment the address is added (tentative,
 * as Linux's), and an address formed from an RA's on-link prefix leaves the
 * RA's route (with its lifetime) in place instead of a connected one
 * without it; the route goes when the prefix's lifetime ends, with the
 * address.
 */
import assert from "node:assert/strict";
import { makeHost } from "../_harness.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { slaacPlugin } from "../../stack/protocols/slaac/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { dadStandIn, resolverStandIn } from "./_standins.ts";
import { ndpFrame, pio, raMessage } from "./_ra.ts";

const SECOND = 1_000_000;

Deno.test("slaac: the link-local route is there while the address is tentative; an RA prefix's address keeps the RA's route and lifetime", () => {
  const h = makeHost({
    seed: 1,
    addresses: [],
    extraPlugins: [ipv6Plugin, icmpv6Plugin, resolverStandIn().plugin, dadStandIn(), slaacPlugin],
    plugins: { slaac: { routerSolicitations: 0, addressGeneration: "eui64" } },
  });
  const addresses = () => h.iface.ipv6.map((a) => `${IpAddress.v6(a.address)} ${a.state}`);
  const routes = () =>
    h.stack.routes().filter((r) => r.family === 6 && r.destination !== "default").map((r) =>
      `${r.destination} ${r.origin} ${r.metric}${r.expires === undefined ? "" : " expires"}`
    );
  assert.deepEqual(addresses(), ["fe80::ff:fe00:1 tentative"]);
  assert.deepEqual(routes(), ["fe80::/64 connected 256"]);
  h.runFor(2 * SECOND);
  assert.deepEqual(addresses(), ["fe80::ff:fe00:1 preferred"]);
  h.inject(ndpFrame({}, raMessage({ options: [pio("2001:db8:1::/64", 600, 300)] })));
  assert.deepEqual(addresses(), ["fe80::ff:fe00:1 preferred", "2001:db8:1::ff:fe00:1 tentative"]);
  assert.deepEqual(routes(), ["2001:db8:1::/64 ra 256 expires", "fe80::/64 connected 256"]);
  h.runFor(5 * SECOND);
  assert.deepEqual(addresses(), ["fe80::ff:fe00:1 preferred", "2001:db8:1::ff:fe00:1 preferred"]);
  assert.deepEqual(routes(), ["2001:db8:1::/64 ra 256 expires", "fe80::/64 connected 256"]);
  h.runFor(600 * SECOND); // the prefix's valid lifetime ends: address and route go together
  assert.deepEqual(addresses(), ["fe80::ff:fe00:1 preferred"]);
  assert.deepEqual(routes(), ["fe80::/64 connected 256"]);
  h.finish();
});

/**
 * The `ipv6.routes` link parameters slaac sets (its hunk in the ipv6
 * plugin), and the plugin following interfaces: raw-IP links get no
 * link-local address, a link coming back up solicits again, and without a
 * DAD provider the link-local address stays tentative and no RS leaves.
 */
import assert from "node:assert/strict";
import { makeHost } from "../_harness.ts";
import type { Ipv6RoutesService } from "../../stack/services.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { slaacPlugin } from "../../stack/protocols/slaac/mod.ts";
import { kernelOf } from "../../stack/stack.ts";
import { dadStandIn, resolverStandIn } from "./_standins.ts";
import { ndpFrame, raMessage } from "./_ra.ts";

const SECOND = 1_000_000;

Deno.test("ipv6.routes setLinkParameters: checked arguments; fields left out keep their value", () => {
  const h = makeHost({ addresses: ["fd00::1/64"], extraPlugins: [ipv6Plugin] });
  const routes = h.stack.service("ipv6.routes") as Ipv6RoutesService;
  const i = h.iface.index;
  assert.deepEqual(routes.linkParameters(i), { hopLimit: 0, mtu: 0, router: false });
  routes.setLinkParameters(i, { hopLimit: 7 });
  routes.setLinkParameters(i, { mtu: 1280 });
  assert.deepEqual(routes.linkParameters(i), { hopLimit: 7, mtu: 1280, router: false });
  assert.throws(() => routes.setLinkParameters(i, { hopLimit: 1.5 }), TypeError);
  assert.throws(() => routes.setLinkParameters(i, { hopLimit: 256 }), RangeError);
  assert.throws(() => routes.setLinkParameters(i, { mtu: 1279 }), RangeError);
  assert.throws(
    () => routes.setLinkParameters(i, { mtu: 1501 }),
    RangeError,
    "above the interface's",
  );
  assert.throws(() => routes.setLinkParameters(i, { router: 1 as unknown as boolean }), TypeError);
  assert.throws(() => routes.setLinkParameters(42, { hopLimit: 1 }), RangeError);
  assert.throws(() => routes.setLinkParameters(NaN, { hopLimit: 1 }), TypeError);
  assert.deepEqual(routes.linkParameters(i), { hopLimit: 7, mtu: 1280, router: false });
  h.finish();
});

Deno.test("slaac: a raw-IP (TUN) interface gets no link-local address, and RAs on it are dropped as no_link_layer", () => {
  const h = makeHost({
    linkType: 101,
    addresses: [],
    extraPlugins: [ipv6Plugin, icmpv6Plugin, slaacPlugin],
  });
  h.runFor(10 * SECOND);
  assert.deepEqual(h.iface.ipv6, []);
  assert.equal(h.history.length, 0, "no RS either");
  h.inject(ndpFrame({}, raMessage()).subarray(14));
  assert.equal(h.counter("slaac.rx.no_link_layer"), 1);
  h.finish();
});

Deno.test("slaac: without a DAD provider the link-local address stays tentative and no RS leaves (RFC 4862 §5.5.1)", () => {
  const h = makeHost({
    addresses: [],
    extraPlugins: [ipv6Plugin, icmpv6Plugin, resolverStandIn().plugin, slaacPlugin],
  });
  h.runFor(20 * SECOND);
  assert.deepEqual(h.iface.ipv6.map((a) => [a.state, a.origin]), [["tentative", "link-local"]]);
  assert.equal(h.history.filter((f) => f.bytes[54] === 133).length, 0);
  h.finish();
});

Deno.test("slaac: a link that goes down stops soliciting; when it comes back up it solicits again", () => {
  const h = makeHost({
    addresses: [],
    extraPlugins: [ipv6Plugin, icmpv6Plugin, resolverStandIn().plugin, dadStandIn(), slaacPlugin],
  });
  const rss = () => h.history.filter((f) => f.bytes[54] === 133).length;
  h.runFor(2 * SECOND);
  assert.equal(rss(), 1);
  kernelOf(h.stack).setLinkUp(h.iface.name, false);
  h.runFor(30 * SECOND);
  assert.equal(rss(), 1);
  kernelOf(h.stack).setLinkUp(h.iface.name, true);
  h.runFor(30 * SECOND);
  assert.equal(rss(), 4);
  assert.equal(h.iface.ipv6.length, 1, "the same link-local address");
  h.finish();
});

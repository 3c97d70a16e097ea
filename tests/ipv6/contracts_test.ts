/**
 * The contracts IPv6 plugins share. Address states (RFC 4862 §5.4): a tentative address is not the
 * host's (no echo answered to it, never a source) until a plugin marks it
 * preferred through the context, which publishes `address-changed`; a
 * duplicate one stays unused.
 * The `ipv6.routes` table: routes with a lifetime expire.
 */
import assert from "node:assert/strict";
import { makeHost, ms } from "../_harness.ts";
import type { Ipv6RoutesService } from "../../stack/services.ts";
import type { PluginContext, ProtocolPlugin, StackEvent } from "../../stack/manifest.ts";
import { kernelOf } from "../../stack/stack.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { setIcmpv6Checksum } from "../../stack/wire/icmpv6.ts";
import { writeIpv6Header } from "../../stack/wire/ipv6.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";

const US = IpAddress.parse("fd00::1")!;
const PEER = IpAddress.parse("fd00::2")!;

function echoRequest(): Uint8Array {
  const p = new Uint8Array(48);
  writeIpv6Header(p, 0, 8, 58, 64, PEER.key, US.key);
  p.set([128, 0, 0, 0, 0, 1, 0, 1], 40);
  setIcmpv6Checksum(p, 0, 40, p.length);
  return p;
}

/** A plugin that keeps its context and the events it saw. */
function spy() {
  const seen: StackEvent[] = [];
  let context: PluginContext | undefined;
  const plugin: ProtocolPlugin = {
    manifest: {
      name: "spy",
      version: "0.1.0",
      api: "^1.0.0",
      description: "keeps its context",
      layer: "network",
      binds: [],
      events: ["address-added", "address-changed"],
      counters: [],
    },
    setup(ctx) {
      context = ctx;
      return { receive: () => "unsupported", onEvent: (ev) => void seen.push(ev) };
    },
  };
  return { plugin, seen, ctx: () => context! };
}

Deno.test("ipv6 address state: a tentative address answers nothing until it is preferred", () => {
  const s = spy();
  const h = makeHost({
    linkType: 101,
    extraPlugins: [ipv6Plugin, icmpv6Plugin, s.plugin],
    withoutPlugins: ["mld"], // its report for the tentative address's group is not an answer
  });
  const ctx = s.ctx();
  assert.equal(ctx.addAddress(h.iface.index, "fd00::1/64", { state: "tentative" }), true);
  assert.equal(ctx.addAddress(h.iface.index, "fd00::1/64"), false, "already there");
  assert.equal(h.iface.ipv6Address(US.bytes())?.state, "tentative");
  assert.equal(h.inject(echoRequest()).length, 0);
  assert.equal(h.counter("ipv6.rx.not_for_us"), 1);

  assert.equal(ctx.setAddressState(h.iface.index, US.bytes(), "preferred"), true);
  assert.equal(ctx.setAddressState(h.iface.index, US.bytes(), "preferred"), false, "unchanged");
  const changed = s.seen.filter((e) => e.type === "address-changed");
  assert.deepEqual(
    changed.map((e) => [(e as { address: string }).address, (e as { state: string }).state]),
    [["fd00::1", "preferred"]],
  );
  assert.equal(h.inject(echoRequest()).length, 1, "answered once preferred");

  kernelOf(h.stack).setAddressState(h.iface.name, US.bytes(), "duplicate");
  assert.equal(h.inject(echoRequest()).length, 0, "a duplicate address is never used");
  assert.equal(ctx.removeAddress(h.iface.index, "fd00::1"), true);
  assert.equal(ctx.removeAddress(h.iface.index, "fd00::1"), false);
  h.finish();
});

Deno.test("ipv6 address state: addresses default to preferred and static, forever", () => {
  const h = makeHost({ linkType: 101, addresses: ["fd00::1/64"], extraPlugins: [ipv6Plugin] });
  const a = h.iface.ipv6Address(US.bytes())!;
  assert.equal(a.state, "preferred");
  assert.equal(a.origin, "static");
  assert.equal(a.validUntil, Infinity);
  assert.equal(a.preferredUntil, Infinity);
  h.finish();
});

Deno.test("ipv6.routes: a route learned with a lifetime leaves when it ends; others stay", () => {
  const h = makeHost({ linkType: 101, addresses: ["fd00::1/64"], extraPlugins: [ipv6Plugin] });
  const routes = h.stack.service("ipv6.routes") as Ipv6RoutesService;
  const k = (s: string) => IpAddress.parse(s)!.key;
  const now = h.net.now();
  assert.ok(routes.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k("fe80::1"),
    ifindex: h.iface.index,
    metric: 1024,
    origin: "ra",
    expires: now + ms(1800),
  }));
  assert.equal(routes.lookup(k("2001:db8::1"))?.nextHop, k("fe80::1"));
  h.net.runFor(ms(1799));
  assert.equal(routes.list().length, 2, "the connected route and the default router");
  h.net.runFor(ms(2));
  assert.deepEqual(routes.list().map((r) => r.origin), ["connected"]);
  assert.equal(routes.lookup(k("2001:db8::1")), undefined);
  assert.equal(routes.remove(k("fd00::"), 64), 1);
  h.finish();
});

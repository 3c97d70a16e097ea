/**
 * Redirect (RFC 4861 §8): accepted only from the current first-hop router
 * for its destination, as a host route through the better router (or
 * on-link), with the target's link-layer address in the cache; ignored
 * from anyone else, when invalid, or when the host forwards.
 */
import assert from "node:assert/strict";
import type { Ipv6RoutesService, UdpService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { icmpv6Packet, llaOption, ndpHost, neighbors6, redirectMessage, v6Frame } from "./_ndp.ts";

const US = "fd00::1";
const US_MAC = "02:00:00:00:00:01";
const ROUTER = "fe80::1";
const ROUTER_MAC = "02:00:00:00:00:fe";
const BETTER = "fe80::2";
const BETTER_MAC = "02:00:00:00:00:42";
const FAR = "2001:db8::5";
const k = (s: string) => IpAddress.parse(s)!.key;

function host() {
  const h = ndpHost(US);
  const routes = h.stack.service<Ipv6RoutesService>("ipv6.routes")!;
  routes.add({
    destination: k("::"),
    prefixLength: 0,
    gateway: k(ROUTER),
    ifindex: h.iface.index,
    metric: 1024,
    origin: "ra",
  });
  return { h, routes };
}

function redirectFrom(src: string, srcMac: string, target = BETTER, hop = 255): Uint8Array {
  return v6Frame(
    US_MAC,
    srcMac,
    icmpv6Packet(src, US, redirectMessage(target, FAR, llaOption(2, BETTER_MAC)), hop),
  );
}

/** The destination MAC of a UDP datagram sent to FAR now. */
function sendToFar(h: ReturnType<typeof host>["h"]): string {
  const udp = h.stack.service<UdpService>("udp.sockets")!;
  const s = udp.open({ family: 6 });
  assert.ok(typeof s !== "string");
  h.take();
  s.send(new Uint8Array(4), IpAddress.parse(FAR)!, 9);
  s.close();
  h.runFor(0);
  const f = h.take().find((f) => f[14 + 6] === 17);
  return f === undefined
    ? "queued"
    : [...f.subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

Deno.test("ndp Redirect from the current first-hop router: a host route through the better router, its MAC learned", () => {
  const { h, routes } = host();
  assert.deepEqual(h.inject(redirectFrom(ROUTER, ROUTER_MAC)), []);
  assert.equal(h.counter("ndp.rx.redirects"), 1);
  const r = routes.lookup(k(FAR))!;
  assert.deepEqual(
    [r.route.prefixLength, IpAddress.fromKey(r.nextHop).toString(), r.route.origin],
    [128, BETTER, "redirect"],
  );
  assert.ok(r.route.expires > 0, "a redirect route expires");
  assert.deepEqual(neighbors6(h.stack).map((n) => [n.address, n.mac, n.state]), [
    [BETTER, BETTER_MAC, "STALE"],
  ]);
  assert.equal(sendToFar(h), BETTER_MAC, "traffic to the destination goes to the better router");
  // Other destinations still go through the default router.
  assert.equal(IpAddress.fromKey(routes.lookup(k("2001:db8::6"))!.nextHop).toString(), ROUTER);
  h.finish();
});

Deno.test("ndp Redirect to the destination itself makes it on-link", () => {
  const { h, routes } = host();
  const on = v6Frame(
    US_MAC,
    ROUTER_MAC,
    icmpv6Packet(ROUTER, US, redirectMessage(FAR, FAR, llaOption(2, BETTER_MAC))),
  );
  h.inject(on);
  const r = routes.lookup(k(FAR))!;
  assert.equal(IpAddress.fromKey(r.nextHop).toString(), FAR);
  assert.equal(r.route.origin, "redirect");
  h.finish();
});

Deno.test("ndp Redirect from a node that is not the first-hop router is ignored", () => {
  const { h, routes } = host();
  h.inject(redirectFrom("fe80::66", "02:00:00:00:00:66"));
  assert.equal(h.counter("ndp.rx.redirect_not_from_router"), 1);
  assert.equal(routes.lookup(k(FAR))!.route.prefixLength, 0);
  assert.deepEqual(neighbors6(h.stack), []);
  assert.equal(h.counter("ndp.rx.redirects"), 0);
  h.finish();
});

Deno.test("ndp Redirect that is invalid (hop limit, global source, multicast destination) is ignored", () => {
  const { h, routes } = host();
  h.inject(redirectFrom(ROUTER, ROUTER_MAC, BETTER, 64));
  assert.equal(h.counter("ndp.rx.bad_hop_limit"), 1);
  h.inject(redirectFrom("fd00::fe", ROUTER_MAC));
  assert.equal(h.counter("ndp.rx.source_not_link_local"), 1);
  h.inject(
    v6Frame(US_MAC, ROUTER_MAC, icmpv6Packet(ROUTER, US, redirectMessage(BETTER, "ff02::5"))),
  );
  assert.equal(h.counter("ndp.rx.multicast_destination"), 1);
  assert.equal(routes.lookup(k(FAR))!.route.prefixLength, 0);
  h.finish();
});

Deno.test("ndp Redirect: a newer one for the same destination replaces the older", () => {
  const { h, routes } = host();
  h.inject(redirectFrom(ROUTER, ROUTER_MAC));
  // Now BETTER is the first hop for FAR; its own redirect is accepted.
  h.inject(
    v6Frame(
      US_MAC,
      BETTER_MAC,
      icmpv6Packet(BETTER, US, redirectMessage("fe80::3", FAR, llaOption(2, "02:00:00:00:00:03"))),
    ),
  );
  const mine = routes.list().filter((r) => r.origin === "redirect");
  assert.equal(mine.length, 1);
  assert.equal(IpAddress.fromKey(mine[0]!.gateway).toString(), "fe80::3");
  h.finish();
});

/**
 * What Router Discovery hands the neighbour cache, with the real ndp and
 * slaac plugins on one Ethernet host whose peer is the test: a Router
 * Advertisement's Source Link-Layer Address makes a STALE router entry
 * (RFC 4861 §6.3.4) that the first packet uses without a solicitation; its
 * Reachable Time and Retrans Timer become the link's (solicitation spacing,
 * REACHABLE's length, DAD probes); a router's RS handling learns the
 * soliciting host (§6.2.6); the service's arguments are checked.
 */
import assert from "node:assert/strict";
import { type HostOptions, makeHost } from "../_harness.ts";
import type { Ipv6RoutesService, NdpService, UdpService } from "../../stack/services.ts";
import { slaacPlugin } from "../../stack/protocols/slaac/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import {
  icmpv6Of,
  icmpv6Packet,
  llaOption,
  naMessage,
  neighbors6,
  SECOND,
  V6_PLUGINS,
  v6Frame,
} from "./_ndp.ts";
import { ndpFrame, pio, raMessage, ROUTER_LL, ROUTER_MAC, rsMessage } from "../slaac/_ra.ts";

const MS = 1000;
const k = (s: string) => IpAddress.parse(s)!.key;

/** A host with ipv6, icmpv6, ndp and slaac (no RSs of its own), its link-local address usable. */
function host(options: HostOptions = {}, slaac: Record<string, number | string | boolean> = {}) {
  const h = makeHost({
    seed: 21,
    addresses: [],
    extraPlugins: [...V6_PLUGINS, slaacPlugin],
    plugins: { slaac: { routerSolicitations: 0, ...slaac } },
    ...options,
  });
  h.runFor(3 * SECOND); // link-local formed, DAD (≤ 1 s delay, one probe, 1 s) passed
  assert.equal(h.iface.ipv6.find((a) => a.origin === "link-local")?.state, "preferred");
  h.take();
  return h;
}

/** Sends one UDP datagram from the host to `dst`:9. */
function sendUdp(h: ReturnType<typeof host>, dst: string): void {
  const udp = h.stack.service<UdpService>("udp.sockets")!;
  const s = udp.open({ family: 6 });
  assert.ok(typeof s !== "string");
  assert.equal(s.send(new Uint8Array([1, 2, 3, 4]), IpAddress.parse(dst)!, 9), undefined);
  s.close();
}

/** The Neighbor Solicitations among `frames`. */
function solicitations(frames: readonly Uint8Array[]) {
  return frames.map(icmpv6Of).filter((m) => m?.type === 135);
}

Deno.test("ndp router discovery: an RA's Source Link-Layer Address makes a STALE router entry, and traffic through the router leaves at once without a solicitation", () => {
  const h = host();
  h.inject(ndpFrame(
    {},
    raMessage({ options: [llaOption(1, ROUTER_MAC), pio("2001:db8:5::/64", 7200, 3600, 0x40)] }),
  ));
  h.runFor(3 * SECOND); // the SLAAC address (autonomous only: not on-link) passes DAD
  h.take();
  assert.deepEqual(neighbors6(h.stack), [{
    ifname: "eth0",
    address: ROUTER_LL,
    mac: ROUTER_MAC,
    state: "STALE",
    queued: 0,
    router: true,
  }]);
  // Off-link: through the default route the RA gave, to the cached MAC.
  sendUdp(h, "2001:db8:99::1");
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1, "the datagram, and no solicitation");
  assert.equal(out[0]![14 + 6], 17);
  assert.deepEqual([...out[0]!.subarray(0, 6)], [2, 0, 0, 0, 0, 0xfe]);
  assert.equal(neighbors6(h.stack)[0]!.state, "DELAY");
  h.finish();
});

Deno.test("ndp router discovery: a router entry whose advertisement clears the Router flag loses its default route (RFC 4861 §7.2.5)", () => {
  const h = host();
  const routes = h.stack.service<Ipv6RoutesService>("ipv6.routes")!;
  h.inject(ndpFrame({}, raMessage({ options: [llaOption(1, ROUTER_MAC)] })));
  assert.equal(routes.list().filter((r) => r.prefixLength === 0).length, 1);
  // Unsolicited, Override, no Router flag: it stopped being a router.
  h.inject(v6Frame(
    "33:33:00:00:00:01",
    ROUTER_MAC,
    icmpv6Packet(ROUTER_LL, "ff02::1", naMessage(ROUTER_LL, 0x20, llaOption(2, ROUTER_MAC))),
  ));
  assert.equal(routes.list().filter((r) => r.prefixLength === 0).length, 0);
  assert.equal(neighbors6(h.stack)[0]!.router, undefined);
  h.finish();
});

Deno.test("ndp router discovery: an RA without the option marks only an existing entry as a router", () => {
  const h = host();
  h.inject(ndpFrame({}, raMessage()));
  assert.deepEqual(neighbors6(h.stack), [], "nothing to record without a link address");
  h.inject(ndpFrame({}, raMessage({ options: [llaOption(1, ROUTER_MAC)] })));
  h.inject(ndpFrame({ src: "fe80::fd", srcMac: "02:00:00:00:00:fd" }, raMessage()));
  assert.deepEqual(neighbors6(h.stack).map((n) => n.address), [ROUTER_LL]);
  h.finish();
});

Deno.test("ndp router discovery: the RA's Retrans Timer spaces solicitations, and the entry fails after three of them", () => {
  const h = host();
  h.inject(
    ndpFrame({}, raMessage({ retrans: 300, options: [pio("2001:db8:5::/64", 7200, 3600)] })),
  );
  h.runFor(2 * SECOND); // the SLAAC address passes DAD
  h.take();
  const t0 = h.net.now();
  sendUdp(h, "2001:db8:5::9"); // on-link, nobody answers
  h.runFor(2 * SECOND);
  const at = h.history.filter((f) => f.at >= t0 && icmpv6Of(f.bytes)?.type === 135).map((f) =>
    f.at - t0
  );
  assert.deepEqual(at, [0, 300 * MS, 600 * MS]);
  const row = neighbors6(h.stack).find((n) => n.address === "2001:db8:5::9");
  assert.equal(row?.state, "FAILED", "after the third one's 300 ms");
  assert.equal(h.counter("ndp.tx.unresolved"), 1);
  h.finish();
});

Deno.test("ndp router discovery: without an RA's timers the default RetransTimer (1 s) spaces solicitations", () => {
  const h = host();
  h.inject(ndpFrame({}, raMessage({ options: [pio("2001:db8:5::/64", 7200, 3600)] })));
  h.runFor(3 * SECOND);
  h.take();
  const t0 = h.net.now();
  sendUdp(h, "2001:db8:5::9");
  h.runFor(4 * SECOND);
  const at = h.history.filter((f) => f.at >= t0 && icmpv6Of(f.bytes)?.type === 135).map((f) =>
    f.at - t0
  );
  assert.deepEqual(at, [0, SECOND, 2 * SECOND]);
  h.finish();
});

Deno.test("ndp router discovery: the RA's Reachable Time bounds REACHABLE (0.5–1.5× the base), re-drawn for an entry already REACHABLE", () => {
  const h = host();
  const ndp = h.stack.service<NdpService>("neighbor.ipv6")!;
  h.inject(ndpFrame({}, raMessage({ options: [llaOption(1, ROUTER_MAC)] })));
  ndp.confirmReachable(h.iface.index, k(ROUTER_LL));
  assert.equal(neighbors6(h.stack)[0]!.state, "REACHABLE");
  const t0 = h.net.now();
  // BaseReachableTime 30 s → 2 s: the entry's 15..45 s becomes 1..3 s from t0.
  h.inject(ndpFrame({}, raMessage({ reachable: 2000 })));
  h.runFor(SECOND - 1);
  assert.equal(neighbors6(h.stack)[0]!.state, "REACHABLE");
  h.runFor(2 * SECOND + 1);
  assert.equal(neighbors6(h.stack)[0]!.state, "STALE");
  // A new confirmation draws from the new base too.
  for (let i = 0; i < 5; i++) {
    ndp.confirmReachable(h.iface.index, k(ROUTER_LL));
    const start = h.net.now();
    let left = start;
    while (neighbors6(h.stack)[0]!.state === "REACHABLE") {
      h.runFor(100 * MS);
      left = h.net.now();
    }
    const lived = left - start;
    assert.ok(lived >= SECOND && lived <= 3 * SECOND + 100 * MS, `REACHABLE for ${lived} µs`);
  }
  assert.ok(h.net.now() - t0 < 30 * SECOND);
  h.finish();
});

Deno.test("ndp router discovery: DAD probes of a SLAAC address come one RA Retrans Timer apart", () => {
  const d = makeHost({
    seed: 22,
    addresses: [],
    extraPlugins: [...V6_PLUGINS, slaacPlugin],
    plugins: { slaac: { routerSolicitations: 0 }, ndp: { dadTransmits: 3 } },
  });
  d.runFor(5 * SECOND);
  d.take();
  const t0 = d.net.now();
  d.inject(
    ndpFrame({}, raMessage({ retrans: 200, options: [pio("2001:db8:5::/64", 7200, 3600)] })),
  );
  d.runFor(3 * SECOND);
  const probes = d.history.filter((f) => {
    const m = icmpv6Of(f.bytes);
    return f.at >= t0 && m?.type === 135 && m.src === "::";
  }).map((f) => f.at);
  assert.equal(probes.length, 3);
  assert.deepEqual([probes[1]! - probes[0]!, probes[2]! - probes[1]!], [200 * MS, 200 * MS]);
  const a = d.iface.ipv6.find((x) => x.origin === "autoconf")!;
  assert.equal(a.state, "preferred");
  d.finish();
});

Deno.test("ndp router discovery: a router learns a soliciting host's link address STALE, not as a router, and reaches it without a solicitation", () => {
  const h = host({}, { advertise: "2001:db8:1::/64" });
  const HOST_MAC = "02:00:00:00:00:77";
  h.inject(ndpFrame({ src: "fe80::77", dst: "ff02::2", srcMac: HOST_MAC }, rsMessage(HOST_MAC)));
  assert.deepEqual(neighbors6(h.stack), [{
    ifname: "eth0",
    address: "fe80::77",
    mac: HOST_MAC,
    state: "STALE",
    queued: 0,
  }]);
  h.runFor(SECOND); // the answering RA
  h.take();
  sendUdp(h, "fe80::77");
  h.runFor(0);
  const out = h.take();
  assert.equal(solicitations(out).length, 0);
  assert.equal(out.length, 1);
  assert.deepEqual([...out[0]!.subarray(0, 6)], [2, 0, 0, 0, 0, 0x77]);
  h.finish();
});

Deno.test("ndp router discovery: setLinkTimers and learnRouterDiscovery check their arguments; a multicast MAC is refused and counted", () => {
  const h = host();
  const ndp = h.stack.service<NdpService>("neighbor.ipv6")!;
  const i = h.iface.index;
  assert.throws(() => ndp.setLinkTimers(i, { reachableTime: 1.5 }), TypeError);
  assert.throws(() => ndp.setLinkTimers(i, { retransTimer: Number.NaN }), TypeError);
  assert.throws(() => ndp.setLinkTimers(i, { reachableTime: 3_600_000_001 }), RangeError);
  assert.throws(() => ndp.setLinkTimers(i, { retransTimer: 999 }), RangeError);
  assert.throws(() => ndp.setLinkTimers(99, { retransTimer: 1000 }), RangeError);
  assert.throws(() => ndp.setLinkTimers("0" as unknown as number, {}), TypeError);
  const mac = new Uint8Array([2, 0, 0, 0, 0, 5]);
  assert.throws(
    () => ndp.learnRouterDiscovery(99, { address: k("fe80::5"), mac, isRouter: true }),
    RangeError,
  );
  assert.throws(
    () => ndp.learnRouterDiscovery(i, { address: 5 as never, mac, isRouter: true }),
    TypeError,
  );
  const multicast = new Uint8Array([0x33, 0x33, 0, 0, 0, 1]);
  assert.equal(
    ndp.learnRouterDiscovery(i, { address: k("fe80::5"), mac: multicast, isRouter: true }),
    false,
  );
  assert.equal(h.counter("ndp.rx.bad_link_address"), 1);
  assert.equal(
    ndp.learnRouterDiscovery(i, { address: k("::"), mac, isRouter: false }),
    false,
    "an RS from :: teaches nothing",
  );
  assert.equal(
    ndp.learnRouterDiscovery(i, { address: k("ff02::1"), mac, isRouter: false }),
    false,
  );
  assert.equal(
    ndp.learnRouterDiscovery(i, { address: k("fe80::5"), mac, isRouter: true }),
    true,
  );
  assert.deepEqual(neighbors6(h.stack).map((n) => [n.address, n.state, n.router]), [
    ["fe80::5", "STALE", true],
  ]);
  h.finish();
});

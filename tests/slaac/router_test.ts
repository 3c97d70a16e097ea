/**
 * Router mode (RFC 4861 §6.2) and Router Solicitation (§6.3.7) on one
 * stack, with the bytes it sends checked and crafted solicitations.
 */
import assert from "node:assert/strict";
import { makeHost } from "../_harness.ts";
import type { Ipv6RoutesService } from "../../stack/services.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { slaacPlugin, type SlaacService } from "../../stack/protocols/slaac/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { dadStandIn, resolverStandIn } from "./_standins.ts";
import { ndpFrame, rsMessage } from "./_ra.ts";

const SECOND = 1_000_000;
const MS = 1_000;
const PEER_MAC = "02:00:00:00:00:fe";

function stack(
  slaac: Record<string, number | string | boolean>,
  resolver = resolverStandIn(),
) {
  return makeHost({
    seed: 12,
    addresses: [],
    extraPlugins: [ipv6Plugin, icmpv6Plugin, resolver.plugin, dadStandIn(), slaacPlugin],
    plugins: { slaac },
  });
}

/** The fields of a frame holding an ICMPv6 ND message, read by offset. */
function nd(frame: Uint8Array) {
  const ip = frame.subarray(14);
  const m = ip.subarray(40);
  const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const options: { type: number; bytes: Uint8Array }[] = [];
  for (let at = m[0] === 134 ? 16 : 8; at + 2 <= m.length && m[at + 1]! > 0; at += m[at + 1]! * 8) {
    options.push({ type: m[at]!, bytes: m.subarray(at, at + m[at + 1]! * 8) });
  }
  return {
    dstMac: [...frame.subarray(0, 6)].map((x) => x.toString(16).padStart(2, "0")).join(":"),
    hopLimit: ip[7]!,
    src: IpAddress.v6(ip.slice(8, 24)).toString(),
    dst: IpAddress.v6(ip.slice(24, 40)).toString(),
    type: m[0]!,
    code: m[1]!,
    routerLifetime: m[0] === 134 ? dv.getUint16(6) : -1,
    curHopLimit: m[4]!,
    options,
  };
}

function sentAt(h: ReturnType<typeof stack>, type: number) {
  return h.history.filter((f) =>
    f.bytes[12] === 0x86 && f.bytes[14 + 6] === 58 && f.bytes[54] === type
  );
}

Deno.test("slaac router: the first RA follows the link-local address's DAD: to ff02::1, hop limit 255, with PIO, MTU and SLLA", () => {
  const h = stack({ advertise: "2001:db8:1::/64" });
  h.runFor(2 * SECOND);
  const ras = sentAt(h, 134);
  assert.equal(ras.length, 1);
  // DAD (the stand-in) ends at 1 s; the RA follows within MAX_RA_DELAY_TIME.
  assert.ok(ras[0]!.at >= SECOND && ras[0]!.at <= SECOND + 500 * MS, `at ${ras[0]!.at}`);
  const ra = nd(ras[0]!.bytes);
  const ll = h.iface.ipv6.find((a) => a.origin === "link-local")!;
  assert.equal(ra.src, IpAddress.v6(ll.address).toString());
  assert.equal(ra.dst, "ff02::1");
  assert.equal(ra.dstMac, "33:33:00:00:00:01");
  assert.equal(ra.hopLimit, 255);
  assert.equal(ra.code, 0);
  assert.equal(ra.curHopLimit, 64);
  assert.equal(ra.routerLifetime, 1800);
  assert.deepEqual(ra.options.map((o) => o.type), [3, 5, 1]);
  const [p, mtu, slla] = ra.options.map((o) => o.bytes);
  assert.deepEqual([...p!.subarray(0, 4)], [3, 4, 64, 0xc0]);
  assert.equal(new DataView(p!.buffer, p!.byteOffset).getUint32(4), 86400);
  assert.equal(new DataView(p!.buffer, p!.byteOffset).getUint32(8), 14400);
  assert.equal(IpAddress.v6(p!.slice(16, 32)).toString(), "2001:db8:1::");
  assert.equal(new DataView(mtu!.buffer, mtu!.byteOffset).getUint32(4), 1500);
  assert.deepEqual([...slla!.subarray(2, 8)], [2, 0, 0, 0, 0, 1]);
  assert.equal(
    (h.stack.service("ipv6.routes") as Ipv6RoutesService).linkParameters(h.iface.index).router,
    true,
  );
  h.finish();
});

Deno.test("slaac router: unsolicited RAs come at most 16 s apart at first, then every 200..600 s", () => {
  const h = stack({ advertise: "2001:db8:1::/64" });
  h.runFor(3600 * SECOND);
  const at = sentAt(h, 134).map((f) => f.at);
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  assert.ok(gaps.slice(0, 3).every((g) => g >= 3 * SECOND && g <= 16 * SECOND), `${gaps}`);
  assert.ok(gaps.slice(3).every((g) => g >= 200 * SECOND && g <= 600 * SECOND), `${gaps}`);
  assert.ok(new Set(gaps.slice(3)).size > 1, "randomised");
  assert.ok(at.length >= 3 + 6 && at.length <= 3 + 18, `${at.length} RAs`);
  h.finish();
});

Deno.test("slaac router: an RS is answered within 500 ms, and never two RAs within 3 s", () => {
  const h = stack({ advertise: "2001:db8:1::/64" });
  h.runFor(100 * SECOND); // past the initial RAs
  h.take();
  const rs = () =>
    h.inject(ndpFrame({ src: "fe80::99", dst: "ff02::2", srcMac: PEER_MAC }, rsMessage(PEER_MAC)));
  const t0 = h.net.now();
  rs();
  h.runFor(SECOND);
  const [first, ...more] = sentAt(h, 134).filter((f) => f.at >= t0);
  assert.equal(more.length, 0);
  assert.ok(first!.at - t0 <= 500 * MS, `after ${first!.at - t0} µs`);
  assert.equal(nd(first!.bytes).dst, "ff02::1");
  rs(); // 1 s later: the answer waits for MIN_DELAY_BETWEEN_RAS
  h.runFor(5 * SECOND);
  const after = sentAt(h, 134).filter((f) => f.at > first!.at);
  assert.equal(after.length, 1);
  assert.ok(
    after[0]!.at - first!.at >= 3 * SECOND && after[0]!.at - first!.at <= 3 * SECOND + 500 * MS,
  );
  assert.equal(h.counter("slaac.rx.router_solicitations"), 2);
  h.finish();
});

Deno.test("slaac router: an RS's sender and Source Link-Layer Address go to the neighbour cache as a host's (RFC 4861 §6.2.6); a host interface hands on nothing", () => {
  const resolver = resolverStandIn();
  const h = stack({ advertise: "2001:db8:1::/64" }, resolver);
  h.runFor(2 * SECOND);
  h.inject(ndpFrame({ src: "fe80::99", dst: "ff02::2", srcMac: PEER_MAC }, rsMessage(PEER_MAC)));
  h.inject(ndpFrame({ src: "fe80::98", dst: "ff02::2" }, rsMessage()));
  assert.deepEqual(resolver.senders, [
    { ifindex: h.iface.index, address: "fe80::99", mac: PEER_MAC, isRouter: false },
    { ifindex: h.iface.index, address: "fe80::98", mac: "", isRouter: false },
  ]);
  h.finish();
  const quiet = resolverStandIn();
  const host = stack({ routerSolicitations: 0 }, quiet);
  host.runFor(2 * SECOND);
  host.inject(ndpFrame({ src: "fe80::99", dst: "ff02::1" }, rsMessage(PEER_MAC)));
  assert.equal(host.counter("slaac.rx.rs_ignored"), 1);
  assert.deepEqual(quiet.senders, []);
  host.finish();
});

Deno.test("slaac router: malformed RSs are dropped with their counters and answered by nothing", () => {
  const h = stack({ advertise: "2001:db8:1::/64" });
  h.runFor(100 * SECOND);
  const t0 = h.net.now();
  h.inject(ndpFrame({ src: "fe80::99", dst: "ff02::2", hopLimit: 64 }, rsMessage()));
  h.inject(ndpFrame({ src: "::", dst: "ff02::2" }, rsMessage(PEER_MAC)));
  const bad = rsMessage();
  bad[1] = 1;
  h.inject(ndpFrame({ src: "fe80::99", dst: "ff02::2" }, bad));
  h.runFor(SECOND);
  assert.equal(h.counter("slaac.rx.bad_hop_limit"), 1);
  assert.equal(h.counter("slaac.rx.unspecified_source_with_lla"), 1);
  assert.equal(h.counter("slaac.rx.bad_code"), 1);
  assert.equal(h.counter("slaac.rx.router_solicitations"), 0);
  assert.equal(sentAt(h, 134).filter((f) => f.at >= t0).length, 0);
  h.finish();
});

Deno.test("slaac router: RSs to ff02::2 are not for a host interface (the link hears all-routers only where we advertise)", () => {
  const h = stack({ routerSolicitations: 0 });
  h.runFor(2 * SECOND);
  h.inject(ndpFrame({ src: "fe80::99", dst: "ff02::2" }, rsMessage(PEER_MAC)));
  // 33:33:00:00:00:02 is on no multicast list of a host interface (issue #11's link filter).
  assert.equal(h.counter("ethernet.rx.multicast_filtered"), 1);
  assert.equal(h.counter("slaac.rx.rs_ignored"), 0);
  h.finish();
});

Deno.test("slaac router: withdrawing the last prefix sends a final RA with Router Lifetime 0; advertise() starts again", () => {
  const h = stack({ advertise: "2001:db8:1::/64", routerSolicitations: 0 });
  h.runFor(20 * SECOND);
  const slaac = h.stack.service("slaac") as SlaacService;
  assert.deepEqual(slaac.advertised(h.iface.index), ["2001:db8:1::/64"]);
  const t0 = h.net.now();
  assert.equal(slaac.withdraw(h.iface.index, "2001:db8:1::/64"), true);
  assert.equal(slaac.withdraw(h.iface.index, "2001:db8:1::/64"), false);
  h.runFor(1000 * SECOND);
  const after = sentAt(h, 134).filter((f) => f.at >= t0);
  assert.equal(after.length, 1);
  assert.equal(nd(after[0]!.bytes).routerLifetime, 0);
  const routes = h.stack.service("ipv6.routes") as Ipv6RoutesService;
  assert.equal(routes.linkParameters(h.iface.index).router, false);
  slaac.advertise(h.iface.index, "2001:db8:2::/64");
  h.runFor(SECOND);
  const again = sentAt(h, 134).filter((f) => f.at > after[0]!.at);
  assert.equal(again.length, 1);
  assert.equal(nd(again[0]!.bytes).routerLifetime, 1800);
  assert.throws(() => slaac.advertise(h.iface.index, "fe80::/64"), RangeError);
  assert.throws(() => slaac.advertise(h.iface.index, "nonsense"), TypeError);
  assert.throws(() => slaac.advertise(99, "2001:db8:3::/64"), RangeError);
  h.finish();
});

Deno.test("slaac RS: up to 3, 4 s apart after at most 1 s; from :: without SLLA before DAD ends, then from the link-local address with it", () => {
  const h = stack({});
  h.runFor(60 * SECOND);
  const rss = sentAt(h, 133);
  assert.equal(rss.length, 3);
  assert.ok(rss[0]!.at <= SECOND);
  assert.equal(rss[1]!.at - rss[0]!.at, 4 * SECOND);
  assert.equal(rss[2]!.at - rss[1]!.at, 4 * SECOND);
  const ll = IpAddress.v6(h.iface.ipv6.find((a) => a.origin === "link-local")!.address).toString();
  for (const f of rss) {
    const rs = nd(f.bytes);
    assert.equal(rs.dst, "ff02::2");
    assert.equal(rs.dstMac, "33:33:00:00:00:02");
    assert.equal(rs.hopLimit, 255);
    if (f.at < SECOND) {
      assert.equal(rs.src, "::");
      assert.deepEqual(rs.options, []);
    } else {
      assert.equal(rs.src, ll);
      assert.deepEqual([...rs.options[0]!.bytes], [1, 1, 2, 0, 0, 0, 0, 1]);
    }
  }
  assert.equal(nd(rss[2]!.bytes).src, ll);
  h.finish();
});

Deno.test("slaac RS: an RA with a Router Lifetime stops the solicitations", async () => {
  const { ndpFrame: frame, raMessage } = await import("./_ra.ts");
  const h = stack({});
  h.runFor(2 * SECOND);
  assert.equal(sentAt(h, 133).length, 1);
  h.inject(frame({}, raMessage({ lifetime: 300 })));
  h.runFor(60 * SECOND);
  assert.equal(sentAt(h, 133).length, 1);
  h.finish();
});

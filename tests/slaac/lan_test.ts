/**
 * SLAAC on the loopback network: a virtual router in router mode and hosts
 * configure themselves (link-local, RS, RA, default route, an address in
 * the prefix with the advertised lifetimes), lifetimes run out on the
 * virtual clock, TCP works over the configured addresses, and the same
 * seed gives the same addresses and a byte-identical, tshark-clean capture.
 */
import assert from "node:assert/strict";
import { assertTsharkClean } from "../_tshark.ts";
import { ms } from "../_harness.ts";
import type { Ipv6RoutesService } from "../../stack/services.ts";
import type { SlaacService } from "../../stack/protocols/slaac/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { addressLines, makeSlaacLan } from "./_lan.ts";

const SECOND = 1_000_000;
const k = (s: string) => IpAddress.parse(s)!.key;

function globalOf(lines: string[]): string | undefined {
  return lines.find((l) => l.startsWith("2001:db8:1:"))?.split("/")[0];
}

Deno.test("slaac lan: a host gets a default route via the router's link-local address and an address in the prefix with the advertised lifetimes", () => {
  const lan = makeSlaacLan({ seed: 3, router: { validLifetime: 3600, preferredLifetime: 1800 } });
  const [routerIf, hostIf] = lan.ifaces;
  const host = lan.hostStacks[0]!;
  lan.runFor(10 * SECOND);
  const routerLl = addressLines(routerIf!).find((l) => l.startsWith("fe80::"))!;
  assert.match(routerLl, /^fe80::[0-9a-f:]+\/64 preferred link-local$/);
  const lines = addressLines(hostIf!);
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[0]!, /^2001:db8:1:0:[0-9a-f:]+\/64 preferred autoconf$/);
  assert.match(lines[1]!, /^fe80::[0-9a-f:]+\/64 preferred link-local$/);
  const routes = host.service("ipv6.routes") as Ipv6RoutesService;
  const def = routes.list().find((r) => r.prefixLength === 0)!;
  assert.equal(IpAddress.fromKey(def.gateway).toString(), routerLl.split("/")[0]);
  assert.equal(def.origin, "ra");
  assert.equal(def.metric, 1024);
  const onLink = routes.list().find((r) => r.destination === k("2001:db8:1::"))!;
  assert.equal(onLink.origin, "ra");
  assert.equal(routes.lookup(k("2001:db8:99::1"))?.nextHop, def.gateway);
  const slaac = host.service("slaac") as SlaacService;
  const [p] = slaac.prefixes();
  assert.equal(p!.prefix, "2001:db8:1::/64");
  // The address's lifetimes are the RA's, counted from when it arrived.
  const heard = def.expires - 1800 * SECOND;
  assert.equal(p!.validUntil, heard + 3600 * SECOND);
  assert.equal(p!.preferredUntil, heard + 1800 * SECOND);
  const entry = hostIf!.ipv6.find((a) => a.origin === "autoconf")!;
  assert.equal(entry.validUntil, p!.validUntil);
  assert.ok(heard > 0 && heard < 10 * SECOND, `RA heard at ${heard}`);
  assert.equal(host.counters.value("slaac.rx.router_advertisements") >= 1, true);
  assert.ok(lan.router.counters.value("slaac.rx.router_solicitations") >= 1);
  assert.equal(lan.router.counters.value("slaac.rx.ra_ignored"), 0);
  assert.ok(host.counters.value("slaac.tx.router_solicitations") >= 1);
  lan.finish();
});

Deno.test("slaac lan: without RAs the address is deprecated when its preferred lifetime ends and removed when its valid lifetime ends", () => {
  const lan = makeSlaacLan({ seed: 4, router: { validLifetime: 120, preferredLifetime: 60 } });
  const hostIf = lan.ifaces[1]!;
  const host = lan.hostStacks[0]!;
  lan.runFor(10 * SECOND);
  const slaac = host.service("slaac") as SlaacService;
  const p = slaac.prefixes()[0]!;
  // The router falls silent: its port is cut, no RA refreshes the lifetimes.
  lan.ports[0]!.link.partition();
  const at = (t: number) => lan.runFor(t - lan.net.now());
  at(p.preferredUntil - 1);
  assert.equal(hostIf.ipv6.find((a) => a.origin === "autoconf")?.state, "preferred");
  at(p.preferredUntil);
  assert.equal(hostIf.ipv6.find((a) => a.origin === "autoconf")?.state, "deprecated");
  assert.equal(host.counters.value("slaac.addr.deprecated"), 1);
  at(p.validUntil - 1);
  assert.equal(hostIf.ipv6.filter((a) => a.origin === "autoconf").length, 1);
  at(p.validUntil);
  assert.deepEqual(hostIf.ipv6.map((a) => a.origin), ["link-local"]);
  assert.equal(host.counters.value("slaac.addr.expired"), 1);
  const routes = host.service("ipv6.routes") as Ipv6RoutesService;
  assert.equal(routes.list().some((r) => r.destination === k("2001:db8:1::")), false);
  assert.deepEqual(slaac.prefixes(), []);
  lan.finish();
});

Deno.test("slaac lan: periodic RAs refresh the lifetimes, so the address stays preferred", () => {
  const lan = makeSlaacLan({
    seed: 5,
    router: {
      validLifetime: 60,
      preferredLifetime: 30,
      maxRtrAdvInterval: 20 * SECOND,
      minRtrAdvInterval: 10 * SECOND,
    },
  });
  lan.runFor(300 * SECOND);
  const auto = lan.ifaces[1]!.ipv6.find((a) => a.origin === "autoconf");
  assert.equal(auto?.state, "preferred");
  const sent = lan.router.counters.value("slaac.tx.router_advertisements");
  // One per 10..20 s over 300 s, plus the first ones and the solicited one.
  assert.ok(sent >= 15 && sent <= 35, `${sent} RAs`);
  lan.finish();
});

Deno.test("slaac lan: two hosts get distinct addresses and TCP runs between them over SLAAC addresses", async () => {
  const lan = makeSlaacLan({ seed: 6, hosts: 2 });
  lan.runFor(10 * SECOND);
  const a = globalOf(addressLines(lan.ifaces[1]!))!;
  const b = globalOf(addressLines(lan.ifaces[2]!))!;
  assert.ok(a && b && a !== b, `${a} ${b}`);
  const [ha, hb] = lan.hostStacks;
  await lan.run(async () => {
    using l = hb!.listen({ hostname: b, port: 80 });
    const [c, s] = await Promise.all([ha!.connect({ hostname: b, port: 80 }), l.accept()]);
    // RFC 6724 picks the SLAAC address as the source towards a global destination.
    assert.equal(s.remoteAddr.hostname, a);
    await c.write(new TextEncoder().encode("slaac"));
    const buf = new Uint8Array(5);
    assert.equal(await s.read(buf), 5);
    assert.equal(new TextDecoder().decode(buf), "slaac");
    c.close();
    s.close();
  }, { timeout: ms(10_000) });
  lan.finish();
});

Deno.test("slaac lan: the same seed gives the same addresses and a byte-identical capture, which tshark reads clean", async () => {
  function run(seed: number) {
    const lan = makeSlaacLan({ seed, hosts: 2, capture: true });
    lan.runFor(30 * SECOND);
    const addrs = lan.ifaces.map((i) => addressLines(i).join(","));
    const pcap = lan.capture!.bytes();
    lan.finish();
    return { addrs, pcap };
  }
  const x = run(7), y = run(7), z = run(8);
  assert.deepEqual(x.addrs, y.addrs);
  assert.deepEqual(x.pcap, y.pcap);
  assert.notDeepEqual(x.addrs, z.addrs, "another seed, another secret, other identifiers");
  assert.ok(x.pcap.length > 24 + 4 * 60, "RSs and RAs were captured");
  await assertTsharkClean(x.pcap);
});

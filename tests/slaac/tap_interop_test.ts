/**
 * SLAAC against Linux over TAP, in a namespace of its own (see
 * tests/interop/_netns.ts), with the real ipv6, icmpv6, ndp, mld and slaac
 * plugins: Linux configures itself from the stack's Router Advertisements
 * (address, default route, MTU, hop limit) and pings the stack's
 * link-local address; the stack configures itself from a Router
 * Advertisement crafted with scapy (its address through the ndp plugin's
 * DAD, the router's entry from the RA's link-layer option) and answers
 * Linux's ping to that address.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatMac } from "../../stack/wire/mac.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import type { SlaacService } from "../../stack/protocols/slaac/mod.ts";
import { INTEROP_NEEDS, ip, pingCommand, pingSummary, withDevice } from "../interop/_netns.ts";
import { gated } from "../_require.ts";
import { pluginsWith } from "../_harness.ts";
import { v6Plugins } from "../ipv6/_lan.ts";
import { eui64Address } from "../../stack/wire/ipv6_interface_id.ts";

const STACK_MAC = new Uint8Array([0x02, 0x5e, 0x10, 0x00, 0x00, 0x02]);
const SCAPY = "/usr/bin/python3";

function plugins(slaac: Record<string, number | string | boolean>) {
  return () => pluginsWith({ slaac }, v6Plugins());
}

/** Polls `check` every 100 ms for up to `seconds`; its last value. */
async function waitFor<T>(
  seconds: number,
  check: () => Promise<T | undefined>,
): Promise<T | undefined> {
  for (let i = 0; i < seconds * 10; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

Deno.test(gated([...INTEROP_NEEDS, "tshark", "ping"], {
  name:
    "slaac tap: Linux configures an address, a default route, the MTU and the hop limit from the stack's RAs, and pings the router's link-local address",
  async fn() {
    await withDevice({
      mode: "tap",
      mac: STACK_MAC,
      plugins: plugins({
        advertise: "2001:db8:7::/64",
        advertiseMtu: 1400,
        advertiseHopLimit: 33,
        routerLifetime: 600,
      }),
    }, async (h) => {
      const dev = h.dev.name;
      const ns = { netns: h.netns };
      // Linux's IPv6 on: a link-local address, RAs accepted (the harness keeps it quiet).
      await ip(["link", "set", "dev", dev, "down"], ns);
      await ip(["link", "set", "dev", dev, "addrgenmode", "eui64"], ns);
      await ip(["link", "set", "dev", dev, "up"], ns);
      h.runner.kick();
      const linuxMac = h.dev.linuxMac!;
      const expected = IpAddress.fromKey(
        eui64Address(IpAddress.parse("2001:db8:7::")!.key, linuxMac),
      ).toString();
      const addr = await waitFor(15, async () => {
        const out = await ip(["-6", "addr", "show", "dev", dev], ns);
        return out.includes(`${expected}/64`) && !/2001:db8:7:[^\n]*tentative/.test(out)
          ? out
          : undefined;
      });
      assert.ok(addr, `Linux formed no address in 2001:db8:7::/64 (wanted ${expected})`);
      assert.match(addr, /scope global dynamic/);
      const routes = await ip(["-6", "route", "show", "dev", dev], ns);
      const lla = h.stack.interfaces.list()[0]!.ipv6.find((a) => a.origin === "link-local");
      assert.ok(lla, "the stack has a link-local address");
      const ll = IpAddress.v6(lla.address).toString();
      assert.match(routes, new RegExp(`default via ${ll} proto ra metric \\d+ expires`));
      assert.match(routes, /2001:db8:7::\/64 proto kernel metric 256 expires/);
      const sysctl = async (name: string) =>
        (await h.exec(["cat", `/proc/sys/net/ipv6/conf/${dev}/${name}`], 5)).stdout.trim();
      assert.equal(await sysctl("mtu"), "1400");
      assert.equal(await sysctl("hop_limit"), "33");
      assert.ok((h.stack.counters.snapshot()["slaac.tx.router_advertisements"] ?? 0) >= 1);
      // The stack learned Linux from its RS's link-layer option (RFC 4861 §6.2.6): no router.
      const linux = h.stack.neighbors().find((n) => n.mac === formatMac(linuxMac));
      assert.ok(linux !== undefined, JSON.stringify(h.stack.neighbors()));
      assert.equal(linux.router, undefined);
      // Linux resolves the router's link-local address by NDP and pings it.
      const r = await h.exec(
        pingCommand(`${ll}%${dev}`, { count: 3, interval: 0.1, ipv6: true }),
        10,
      );
      assert.deepEqual(pingSummary(r.stdout), { sent: 3, received: 3, loss: 0 }, r.stdout);
      const neigh = await ip(["-6", "neigh", "show", ll, "dev", dev], ns);
      assert.match(
        neigh,
        new RegExp(`lladdr ${formatMac(STACK_MAC)} router (REACHABLE|STALE|DELAY)`),
      );
    });
  },
}));

const RA_SCRIPT = `
import sys
from scapy.all import Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptMTU, ICMPv6NDOptSrcLLAddr, sendp, conf
conf.verb = 0
mac = sys.argv[2]
ra = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src="fe80::1", dst="ff02::1", hlim=255)
      / ICMPv6ND_RA(chlim=50, routerlifetime=900)
      / ICMPv6NDOptPrefixInfo(prefix="2001:db8:8::", prefixlen=64, L=1, A=1, validlifetime=7200, preferredlifetime=3600)
      / ICMPv6NDOptMTU(mtu=1400) / ICMPv6NDOptSrcLLAddr(lladdr=mac))
sendp(ra, iface=sys.argv[1])
`;

Deno.test(gated([...INTEROP_NEEDS, "scapy", "tshark", "ping"], {
  name:
    "slaac tap: the stack configures itself from a Router Advertisement crafted with scapy, and Linux pings that address",
  async fn() {
    await withDevice({ mode: "tap", mac: STACK_MAC, plugins: plugins({}) }, async (h) => {
      const r = await h.exec([SCAPY, "-c", RA_SCRIPT, h.dev.name, formatMac(h.dev.linuxMac!)], 20);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const slaac = h.stack.service("slaac") as SlaacService;
      const p = await waitFor(5, () => {
        h.runner.kick();
        const a = slaac.prefixes().find((x) =>
          x.prefix === "2001:db8:8::/64" && x.address !== null
        );
        return Promise.resolve(a);
      });
      assert.ok(p, "no address from 2001:db8:8::/64");
      assert.deepEqual(slaac.routers().map((x) => x.address), ["fe80::1"]);
      // The address joins the interface once the link-local address has
      // passed DAD (RFC 4862 §5.4: held until then), which may be after the RA.
      const entry = await waitFor(5, () => {
        h.runner.kick();
        return Promise.resolve(
          h.stack.interfaces.list()[0]!.ipv6.find((a) =>
            IpAddress.v6(a.address).toString() === p!.address
          ),
        );
      });
      assert.equal(entry?.origin, "autoconf");
      assert.equal(entry?.prefixLength, 64);
      assert.equal(h.stack.counters.snapshot()["slaac.rx.router_advertisements"], 1);
      // The ndp plugin's DAD makes it preferred.
      const preferred = await waitFor(5, () => {
        h.runner.kick();
        const now = h.stack.interfaces.list()[0]!.ipv6.find((a) =>
          IpAddress.v6(a.address).toString() === p!.address
        );
        return Promise.resolve(now?.state === "preferred" ? true : undefined);
      });
      assert.ok(preferred, "the address never became preferred");
      // The RA's Source Link-Layer Address option made a router entry (RFC 4861 §6.3.4).
      const router = h.stack.neighbors().find((n) => n.address === "fe80::1");
      assert.equal(router?.mac, formatMac(h.dev.linuxMac!));
      assert.equal(router?.router, true);
      // Linux on the prefix pings the address: NDP resolves the stack.
      await ip(["-6", "addr", "add", "2001:db8:8::1/64", "dev", h.dev.name, "nodad"], {
        netns: h.netns,
      });
      const ping = await h.exec(
        pingCommand(p!.address!, { count: 3, interval: 0.1, ipv6: true }),
        10,
      );
      assert.deepEqual(pingSummary(ping.stdout), { sent: 3, received: 3, loss: 0 }, ping.stdout);
    });
  },
}));

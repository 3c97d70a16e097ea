/**
 * The prefix route of a tentative IPv6 address, the stack against Linux at
 * the same moment on one TAP link in a private namespace: Linux adds
 * fd00::1/64 with DAD (RetransTimer raised to 3 s there, so it stays
 * tentative for the whole check), the stack adds fd00::2/64 (its DAD runs
 * too). `ip -6 route` lists `fd00::/64 proto kernel metric 256` while
 * Linux's address is tentative, and the stack's `routes()` lists
 * `fd00::/64`, connected, metric 256, while its address is. A send from
 * either side while its only address is tentative fails with
 * EADDRNOTAVAIL: Linux's errno 99 from `sendto` (Python in the namespace),
 * the stack's `Deno.errors.AddrNotAvailable`. The harness's
 * `addrgenmode none` leaves Linux no link-local address to send from, and
 * `lo` is taken down: with it up, Linux's source selection picks ::1 for
 * the send (seen on 6.18.44), which the stack never puts on a link (RFC
 * 4291 §2.5.3).
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_PLUGINS, type PluginEntry, type ProtocolPlugin } from "../../mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { ndpPlugin } from "../../stack/protocols/ndp/mod.ts";
import { slaacPlugin } from "../../stack/protocols/slaac/mod.ts";
import { pluginsWith } from "../_test_plugins.ts";
import { gated, type Requirement } from "../_require.ts";
import { type DeviceHarness, INTEROP_NEEDS, ip, withDevice } from "./_netns.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3"];
const LINUX = "fd00::1";
const STACK = "fd00::2";

/** The defaults plus ipv6, icmpv6 and ndp, without slaac (no link-local address of its own). */
function plugins(): PluginEntry[] {
  const names = new Set(DEFAULT_PLUGINS.map((p) => p.manifest.name));
  const more: ProtocolPlugin[] = [ipv6Plugin, icmpv6Plugin, ndpPlugin].filter((p) =>
    !names.has(p.manifest.name)
  );
  return pluginsWith({}, more).filter((e) => e.plugin !== slaacPlugin);
}

/** Linux sends one datagram to `dst` and prints the errno, or "sent". */
const SENDTO = `
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", (sys.argv[1], 9))
    print("sent")
except OSError as e:
    print("errno", e.errno)
`;

function stackState(h: DeviceHarness): string | undefined {
  return h.stack.interfaces.list()[0]!.ipv6Address(IpAddress.parse(STACK)!.bytes())?.state;
}

Deno.test(gated(NEEDS, {
  name:
    "ipv6 tentative route interop: ip -6 route and the stack's routes() both list the prefix while the address is tentative; sends fail EADDRNOTAVAIL on both",
  async fn() {
    await withDevice({ mode: "tap", plugins: () => plugins(), capture: false }, async (h) => {
      const dev = h.dev.name;
      const sysctl = await h.exec(
        ["sysctl", "-w", `net.ipv6.neigh.${dev}.retrans_time_ms=3000`],
        5,
      );
      assert.equal(sysctl.code, 0, sysctl.stderr);
      // Linux: add, then at once the address's flags and the routes, in one shell.
      const linux = await h.exec([
        "sh",
        "-c",
        `ip -6 addr add ${LINUX}/64 dev ${dev} && ip -6 addr show dev ${dev} && echo --- && ` +
        `ip -6 route show dev ${dev}`,
      ], 5);
      assert.equal(linux.code, 0, linux.stderr);
      const [addrs, routes] = linux.stdout.split("---\n");
      assert.match(addrs!, new RegExp(`inet6 ${LINUX}/64 scope global tentative`), addrs);
      assert.match(routes!, /^fd00::\/64 proto kernel metric 256\b/m, routes);
      // The stack at the same moment.
      h.stack.addAddress(h.stack.interfaces.list()[0]!.index, `${STACK}/64`);
      h.runner.kick();
      assert.equal(stackState(h), "tentative");
      const ours = h.stack.routes().filter((r) => r.family === 6).map((r) =>
        `${r.destination} ${r.origin} metric ${r.metric}`
      );
      assert.deepEqual(ours, ["fd00::/64 connected metric 256"]);
      // Sends while tentative: the same EADDRNOTAVAIL on both sides (no ::1 to fall back on).
      await ip(["link", "set", "lo", "down"], { netns: h.netns });
      const send = await h.exec(["python3", "-c", SENDTO, STACK], 5);
      assert.equal(send.stdout.trim(), "errno 99", send.stderr);
      await assert.rejects(h.stack.ping(LINUX, { timeout: 100 }), Deno.errors.AddrNotAvailable);
      // Linux's address was still tentative after both checks: the window did not close midway.
      const still = await ip(["-6", "addr", "show", "dev", dev], { netns: h.netns });
      assert.match(still, /tentative/, "Linux's DAD outlasted the check");
      const afterRoutes = await ip(["-6", "route", "show", "dev", dev], { netns: h.netns });
      assert.match(afterRoutes, /^fd00::\/64 proto kernel metric 256\b/m);
    });
  },
}));

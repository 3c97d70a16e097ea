/**
 * IPv6 forwarding (RFC 8200 §3, RFC 4443) between three raw-IP networks:
 * ping and traceroute through the public API, hop limit expiry with Time
 * Exceeded, Destination Unreachable codes 0 (no route) and 1 (a filter),
 * and the bytes each error carries.
 */
import assert from "node:assert/strict";
import { ACCEPT, CONSUMED } from "../../stack/manifest.ts";
import { testPlugin } from "../_harness.ts";
import { kernelOf } from "../../stack/stack.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { icmpv6Type, verifyIcmpv6Checksum } from "../../stack/wire/icmpv6.ts";
import { formatIpKey, IpAddress } from "../../stack/wire/ip_address.ts";
import {
  ipv6DestinationKey,
  ipv6HopLimit,
  ipv6NextHeader,
  ipv6PayloadLength,
  ipv6SourceKey,
  writeIpv6Header,
} from "../../stack/wire/ipv6.ts";
import { count, makeRoutedNet6 } from "./_topology6.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

/** The ICMPv6 messages in `frames` (raw IPv6) from `src` to `dst`, as [type, code, bytes]. */
function icmpv6From(frames: Uint8Array[], src: string, dst: string) {
  return frames.filter((f) =>
    ipv6NextHeader(f, 0) === 58 && ipv6SourceKey(f, 0) === k(src) &&
    ipv6DestinationKey(f, 0) === k(dst)
  ).map((f) => {
    assert.ok(verifyIcmpv6Checksum(f, 0, 40, f.length));
    assert.equal(ipv6PayloadLength(f, 0), f.length - 40);
    return { type: icmpv6Type(f, 40), code: f[41]!, frame: f };
  });
}

Deno.test("ipv6 forwarding: ping across two routers; the reply's hop limit shows both", async () => {
  const n = makeRoutedNet6();
  const reply = await n.run(() => n.h1.ping("fd03::30"));
  assert.equal(reply.from, "fd03::30");
  assert.equal(reply.ttl, 62);
  assert.equal(count(n.r1, "ipv6.fwd.forwarded"), 2);
  assert.equal(count(n.r2, "ipv6.fwd.forwarded"), 2);
  // On the middle link the request left R1 with hop limit 63.
  const req = n.mid.frames().find((f) => ipv6NextHeader(f, 0) === 58 && f[40] === 128)!;
  assert.equal(ipv6HopLimit(req, 0), 63);
  for (const c of [n.lan1, n.mid, n.lan3]) await assertTsharkClean(c.bytes());
  n.finish();
});

Deno.test("ipv6 forwarding is off on a host: a packet not for it is dropped as not_for_us", async () => {
  const n = makeRoutedNet6({ noForwarding: true });
  assert.equal(n.r1.forwarding, false);
  await assert.rejects(
    n.run(() => n.h1.ping("fd03::30", { timeout: 100 })),
    Deno.errors.TimedOut,
  );
  assert.equal(count(n.r1, "ipv6.rx.not_for_us"), 1);
  assert.equal(count(n.r1, "ipv6.fwd.forwarded"), 0);
  n.finish();
});

Deno.test("ipv6 forwarding: hop limit 1 at R1 → Time Exceeded code 0 quoting the packet", async () => {
  const n = makeRoutedNet6();
  await assert.rejects(
    n.run(() => n.h1.ping("fd03::30", { ttl: 1 })),
    (e: Error) =>
      e instanceof Deno.errors.NetworkUnreachable &&
      e.message === "hop limit exceeded in transit from fd01::1",
  );
  const errs = icmpv6From(n.lan1.frames(), "fd01::1", "fd01::10");
  assert.equal(errs.length, 1);
  const { type, code, frame } = errs[0]!;
  assert.deepEqual([type, code], [3, 0]);
  assert.deepEqual([...frame.subarray(44, 48)], [0, 0, 0, 0]); // unused
  const quoted = frame.subarray(48);
  assert.equal(ipv6HopLimit(quoted, 0), 1);
  assert.equal(ipv6DestinationKey(quoted, 0), k("fd03::30"));
  assert.equal(quoted[40], 128); // the echo request itself
  assert.equal(count(n.r1, "ipv6.rx.fwd_hop_limit_exceeded"), 1);
  assert.equal(count(n.r1, "icmpv6.tx.errors"), 1);
  await assertTsharkClean(n.lan1.bytes());
  n.finish();
});

Deno.test("ipv6 stack.traceroute() over ICMPv6: R1, R2, then the echo reply from H3", async () => {
  const n = makeRoutedNet6();
  const hops = await n.run(() => n.h1.traceroute("fd03::30", { protocol: "icmp" }));
  assert.deepEqual(
    hops.map((h) => [h.ttl, h.from, h.type, h.code, h.reached]),
    [[1, "fd01::1", 3, 0, false], [2, "fd12::2", 3, 0, false], [3, "fd03::30", 129, 0, true]],
  );
  n.finish();
});

Deno.test("ipv6 stack.traceroute() over UDP: R1, R2, then port unreachable (1/4) from H3", async () => {
  const n = makeRoutedNet6();
  const hops = await n.run(() => n.h1.traceroute("fd03:0::30"));
  assert.deepEqual(
    hops.map((h) => [h.ttl, h.from, h.type, h.code, h.reached]),
    [[1, "fd01::1", 3, 0, false], [2, "fd12::2", 3, 0, false], [3, "fd03::30", 1, 4, true]],
  );
  // On H3's link: the port unreachable, quoting the UDP probe that arrived with hop limit 1.
  const unreach = icmpv6From(n.lan3.frames(), "fd03::30", "fd01::10");
  assert.equal(unreach.length, 1);
  assert.deepEqual([unreach[0]!.type, unreach[0]!.code], [1, 4]);
  const quoted = unreach[0]!.frame.subarray(48);
  assert.equal(ipv6NextHeader(quoted, 0), 17);
  assert.equal(ipv6HopLimit(quoted, 0), 1);
  assert.equal(count(n.h1, "icmpv6.tx.udp_probes"), 3);
  assert.equal(count(n.h1, "icmpv6.rx.error_for_probe"), 3);
  for (const c of [n.lan1, n.mid, n.lan3]) await assertTsharkClean(c.bytes());
  n.finish();
});

Deno.test("ipv6 forwarding: no route at R1 → Destination Unreachable code 0", async () => {
  const n = makeRoutedNet6();
  await assert.rejects(
    n.run(() => n.h1.ping("fd99::1")),
    (e: Error) => e.message === "no route to destination from fd01::1",
  );
  const errs = icmpv6From(n.lan1.frames(), "fd01::1", "fd01::10");
  assert.deepEqual(errs.map((e) => [e.type, e.code]), [[1, 0]]);
  assert.equal(ipv6DestinationKey(errs[0]!.frame.subarray(48), 0), k("fd99::1"));
  assert.equal(count(n.r1, "ipv6.rx.fwd_no_route"), 1);
  n.finish();
});

Deno.test("ipv6 forwarding: a forward hook that drops → administratively prohibited (1/1)", async () => {
  const filter = testPlugin({
    name: "filter6",
    layer: "middlebox",
    hooks: [{ point: "forward" }],
    counters: ["forward.blocked"],
  }, () => ({
    hook: (_p, pkt, h) => {
      if (pkt.family !== 6) return ACCEPT;
      seen.push([h.inIface?.name, h.outIface?.name, formatIpKey(h.route!.nextHop), h.route!.mtu]);
      return "blocked";
    },
  }));
  const seen: unknown[] = [];
  const n = makeRoutedNet6({ r1Plugins: [filter] });
  await assert.rejects(
    n.run(() => n.h1.ping("fd03::30")),
    (e: Error) => e.message === "communication administratively prohibited from fd01::1",
  );
  assert.deepEqual(
    icmpv6From(n.lan1.frames(), "fd01::1", "fd01::10").map((e) => [e.type, e.code]),
    [[
      1,
      1,
    ]],
  );
  assert.equal(count(n.r1, "filter6.forward.blocked"), 1);
  // The hook sees where the packet came from and where it would go, as for IPv4.
  assert.deepEqual(seen, [["eth0", "eth1", "fd12::2", 1500]]);
  assert.equal(count(n.r1, "ipv6.fwd.prohibited"), 1);
  assert.equal(n.mid.frames().length, 0);
  n.finish();
});

Deno.test("ipv6 forwarding: a link-local source never leaves its link (1/2); link-local destinations stay", () => {
  const n = makeRoutedNet6();
  const eth0 = n.r1.interfaces.byName("eth0")!.index;
  const inject = (src: string, dst: string) => {
    const p = new Uint8Array(48);
    writeIpv6Header(p, 0, 8, 59, 64, k(src), k(dst)); // No Next Header, 8 bytes
    kernelOf(n.r1).inject(eth0, p);
    n.net.runFor(0);
  };
  inject("fe80::99", "fd03::30");
  const errs = icmpv6From(n.lan1.frames(), "fe80::1", "fe80::99");
  assert.deepEqual(errs.map((e) => [e.type, e.code]), [[1, 2]]);
  assert.equal(count(n.r1, "ipv6.rx.fwd_beyond_scope"), 1);
  inject("fd01::10", "fe80::5"); // another host's link-local address: not routed
  assert.equal(count(n.r1, "ipv6.rx.fwd_bad_destination"), 1);
  inject("::", "fd03::30"); // the unspecified source identifies nobody
  assert.equal(count(n.r1, "ipv6.rx.fwd_bad_source"), 1);
  assert.equal(n.mid.frames().length, 0);
  assert.equal(count(n.r1, "ipv6.fwd.forwarded"), 0);
  n.finish();
});

Deno.test("ipv6 input hook that drops → administratively prohibited; one that steals → silence", async () => {
  let steal = false;
  const filter = testPlugin({
    name: "input6",
    layer: "middlebox",
    hooks: [{ point: "input" }],
    counters: ["input.blocked"],
  }, () => ({
    hook: (_p, pkt) => pkt.family !== 6 ? ACCEPT : steal ? (pkt.release(), CONSUMED) : "blocked",
  }));
  const n = makeRoutedNet6({ r1Plugins: [filter] });
  await assert.rejects(
    n.run(() => n.h1.ping("fd01::1")),
    (e: Error) => e.message === "communication administratively prohibited from fd01::1",
  );
  assert.equal(count(n.r1, "input6.input.blocked"), 1);
  steal = true;
  await assert.rejects(
    n.run(() => n.h1.ping("fd01::1", { timeout: 100 })),
    Deno.errors.TimedOut,
  );
  assert.equal(count(n.r1, "icmpv6.tx.errors"), 1);
  n.finish();
});

/**
 * Neighbor Discovery for a router's Subnet-Router anycast address (RFC
 * 4291 §2.6.1) on the Ethernet LAN of `tests/ipv6/_lan.ts`: the router,
 * forwarding, hears the solicited-node group of 2001:db8:1:: (MLD joins it,
 * as Linux's `__ipv6_dev_ac_inc`), answers a solicitation for it without
 * Override (RFC 4861 §7.2.4), from a unicast address, after a random delay
 * under MAX_ANYCAST_DELAY_TIME (§7.2.7), and the host's echo to it is
 * answered from 2001:db8:1::1 (RFC 4443 §4.2). The review's case: before,
 * the router forwarded the echo back onto the link, resolution of
 * 2001:db8:1:: failed, and the host got Address Unreachable.
 */
import assert from "node:assert/strict";
import { assertTsharkClean } from "../_tshark.ts";
import { formatIpKey, IpAddress } from "../../stack/wire/ip_address.ts";
import { ipv6DestinationKey, ipv6NextHeader, ipv6SourceKey } from "../../stack/wire/ipv6.ts";
import { makeIpv6Lan, ROUTER_GLOBAL, sendEcho } from "../ipv6/_lan.ts";
import {
  addr,
  icmpv6Of,
  icmpv6Packet,
  llaOption,
  multicastMac,
  ndpHost,
  NOT_UNDER_TEST,
  nsMessage,
  solicitedNode,
  v6Frame,
} from "./_ndp.ts";

const SECOND = 1_000_000;
const ANYCAST = "2001:db8:1::";

/** One ICMPv6 message of a capture record (Ethernet): what the checks read. */
interface Message {
  readonly at: number;
  readonly type: number;
  readonly src: string;
  readonly dst: string;
  /** NS/NA target. */
  readonly target: string;
  /** NA flags byte (R 0x80, S 0x40, O 0x20). */
  readonly flags: number;
}

function messages(records: { timestamp: number; data: Uint8Array }[]): Message[] {
  const out: Message[] = [];
  for (const r of records) {
    const f = r.data;
    if (f[12] !== 0x86 || f[13] !== 0xdd || ipv6NextHeader(f, 14) !== 58) continue;
    const t = f[54]!;
    out.push({
      at: r.timestamp,
      type: t,
      src: formatIpKey(ipv6SourceKey(f, 14)),
      dst: formatIpKey(ipv6DestinationKey(f, 14)),
      target: t === 135 || t === 136 ? IpAddress.v6(f.subarray(62, 78)).toString() : "",
      flags: f[58]!,
    });
  }
  return out;
}

Deno.test("ndp anycast: a forwarding router answers a solicitation for its subnet's anycast address without Override, delayed under 1 s; the host's echo is answered", async () => {
  const lan = makeIpv6Lan({ hosts: 1, capture: true });
  lan.router.setForwarding(true, 6);
  lan.runFor(10 * SECOND); // SLAAC, DAD
  const groups = lan.router.multicastGroups().map((g) => g.group);
  assert.ok(groups.includes("ff02::1:ff00:0"), groups.join(" ")); // 2001:db8:1::'s solicited-node group
  const h1 = lan.hostStacks[0]!;
  const start = lan.net.clock.now();
  sendEcho(h1, ANYCAST, 1);
  lan.runFor(4 * SECOND);
  const after = messages(lan.capture!.records()).filter((m) => m.at >= start);
  const ns = after.filter((m) => m.type === 135 && m.target === ANYCAST);
  const na = after.filter((m) => m.type === 136 && m.target === ANYCAST);
  assert.equal(ns.length, 1); // answered the first time
  assert.equal(na.length, 1);
  assert.equal(ns[0]!.dst, "ff02::1:ff00:0");
  assert.equal(na[0]!.flags, 0xc0); // Router, Solicited; no Override
  assert.notEqual(na[0]!.src, ANYCAST); // from a unicast address of the link
  assert.equal(na[0]!.dst, ns[0]!.src);
  const delay = na[0]!.at - ns[0]!.at;
  assert.ok(delay >= 0 && delay < SECOND, `delay ${delay} µs`);
  const replies = after.filter((m) => m.type === 129);
  assert.deepEqual(replies.map((m) => m.src), [ROUTER_GLOBAL]);
  assert.deepEqual(after.filter((m) => m.type === 1), []); // no Address Unreachable
  assert.equal(lan.router.counters.get("ipv6.fwd.forwarded").value, 0);
  await assertTsharkClean(lan.capture!.bytes());
  lan.finish();
});

Deno.test("ndp anycast: with forwarding off the group is left and a solicitation for it goes unanswered", () => {
  const lan = makeIpv6Lan({ hosts: 1, capture: true });
  lan.router.setForwarding(true, 6);
  lan.runFor(10 * SECOND);
  lan.router.setForwarding(false, 6);
  lan.runFor(0);
  const groups = lan.router.multicastGroups().map((g) => g.group);
  assert.ok(!groups.includes("ff02::1:ff00:0"), groups.join(" "));
  const start = lan.net.clock.now();
  sendEcho(lan.hostStacks[0]!, ANYCAST, 1);
  lan.runFor(4 * SECOND);
  const after = messages(lan.capture!.records()).filter((m) => m.at >= start);
  assert.equal(after.filter((m) => m.type === 135 && m.target === ANYCAST).length, 3); // unanswered
  assert.equal(after.filter((m) => m.type === 136 && m.target === ANYCAST).length, 0);
  lan.finish();
});

// ---- one router whose peer is the test: crafted solicitations ------------------

const US = "fd00::1";
const US_MAC = "02:00:00:00:00:01";
const PEER = "fd00::9";
const PEER_MAC = "02:00:00:00:00:99";
const SUBNET_ANYCAST = "fd00::";

/** A forwarding router at fd00::1/64 (no slaac, no mld: only the frames under test). */
function router(ndp: Record<string, number | boolean> = {}) {
  const h = ndpHost(US, ndp, { withoutPlugins: NOT_UNDER_TEST });
  h.stack.setForwarding(true, 6);
  h.runFor(0);
  h.take();
  return h;
}

/** A solicitation for fd00:: from `src`: to its solicited-node group, or unicast to it. */
function solicitation(src = PEER, srcMac = PEER_MAC, unicast = false): Uint8Array {
  const dst = unicast ? SUBNET_ANYCAST : solicitedNode(SUBNET_ANYCAST);
  const options = src === "::" ? [] : llaOption(1, srcMac);
  return v6Frame(
    unicast ? US_MAC : multicastMac(dst),
    srcMac,
    icmpv6Packet(src, dst, nsMessage(SUBNET_ANYCAST, options)),
  );
}

/** [source, destination, flags byte] of the advertisements for fd00:: in `frames`. */
function advertisements(frames: Uint8Array[]): [string, string, number][] {
  return frames.map(icmpv6Of).filter((m) => m?.type === 136).map((m) => {
    assert.deepEqual(m!.message.subarray(8, 24), addr(SUBNET_ANYCAST));
    return [m!.src, m!.dst, m!.message[4]!];
  });
}

Deno.test("ndp anycast: a multicast solicitation waits a random time under 1 s (the stack's RNG); a unicast one (NUD) is answered at once", () => {
  const h = router();
  const start = h.net.clock.now();
  assert.deepEqual(advertisements(h.inject(solicitation())), []); // waits
  assert.deepEqual(advertisements(h.inject(solicitation(PEER, PEER_MAC, true))), [
    [US, PEER, 0xc0], // Router, Solicited; no Override; from our unicast address
  ]);
  h.runFor(SECOND);
  const waited = h.history.filter((r) => {
    const m = icmpv6Of(r.bytes);
    return r.at >= start && m?.type === 136 && m.message[8] === 0xfd && m.message[23] === 0;
  });
  assert.equal(waited.length, 2);
  assert.deepEqual(advertisements([waited[1]!.bytes]), [[US, PEER, 0xc0]]);
  assert.ok(waited[1]!.at - start < SECOND);
  assert.equal(h.counter("ndp.tx.advertisements"), 2);
  h.finish();
});

Deno.test("ndp anycast: another node's DAD probe for it is answered to all nodes (no S, no O); anycastDelay 0 answers at once", () => {
  const h = router({ anycastDelay: 0 });
  assert.deepEqual(advertisements(h.inject(solicitation())), [[US, PEER, 0xc0]]);
  assert.deepEqual(advertisements(h.inject(solicitation("::", PEER_MAC))), [
    [US, "ff02::1", 0x80],
  ]);
  h.finish();
});

Deno.test("ndp anycast: at most 64 advertisements wait; more solicitations are dropped and counted", () => {
  const h = router();
  for (let i = 0; i < 70; i++) {
    const m = `02:00:00:00:01:${i.toString(16).padStart(2, "0")}`;
    h.inject(solicitation(`fd00::${(0x100 + i).toString(16)}`, m));
  }
  assert.equal(h.counter("ndp.tx.anycast_delay_full"), 6);
  h.runFor(SECOND);
  assert.equal(advertisements(h.take()).length, 64);
  // Forwarding off: fd00:: is not ours any more (IPv6 drops the unicast solicitation).
  h.stack.setForwarding(false, 6);
  h.inject(solicitation(PEER, PEER_MAC, true), SECOND);
  assert.equal(h.counter("ipv6.rx.not_for_us"), 1);
  assert.deepEqual(advertisements(h.take()), []);
  h.finish();
});

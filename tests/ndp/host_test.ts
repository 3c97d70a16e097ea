/**
 * The NDP plugin on one Ethernet host whose peer is the test: the bytes of
 * the solicitations and advertisements it sends, how it answers crafted
 * ones, resolution with its queue, and DAD on its own.
 */
import assert from "node:assert/strict";
import { type HostOptions, makeHost } from "../_harness.ts";
import type { NdpService, UdpService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import {
  addr,
  addressState,
  icmpv6Of,
  icmpv6Packet,
  llaOption,
  multicastMac,
  naMessage,
  ndpHost,
  neighbors6,
  NOT_UNDER_TEST,
  nsMessage,
  SECOND,
  solicitedNode,
  V6_PLUGINS,
  v6Frame,
} from "./_ndp.ts";

const US = "fd00::1";
const US_MAC = "02:00:00:00:00:01";
const PEER = "fd00::9";
const PEER_MAC = "02:00:00:00:00:99";

function host(options: HostOptions = {}, ndp: Record<string, number | boolean> = {}) {
  return ndpHost(US, ndp, { withoutPlugins: NOT_UNDER_TEST, ...options });
}

/** A solicitation from PEER for `target`, to its solicited-node group, with PEER's MAC option. */
function solicitation(target = US, src = PEER, srcMac = PEER_MAC): Uint8Array {
  const group = solicitedNode(target);
  return v6Frame(
    multicastMac(group),
    srcMac,
    icmpv6Packet(src, group, nsMessage(target, llaOption(1, srcMac))),
  );
}

/** Sends one UDP datagram from US to `dst`:9 (leaves or waits for resolution). */
function sendUdp(h: ReturnType<typeof host>, dst = PEER): void {
  const udp = h.stack.service<UdpService>("udp.sockets")!;
  const s = udp.open({ family: 6 });
  assert.ok(typeof s !== "string");
  assert.equal(s.send(new Uint8Array([1, 2, 3, 4]), IpAddress.parse(dst)!, 9), undefined);
  s.close();
}

Deno.test("ndp: a usable new address is announced by an unsolicited advertisement (Override, to ff02::1)", () => {
  const h = host();
  const na = h.boot.map(icmpv6Of).filter((m) => m?.type === 136);
  assert.equal(na.length, 1);
  const m = na[0]!;
  assert.equal(m.dstMac, "33:33:00:00:00:01");
  assert.equal(m.srcMac, US_MAC);
  assert.deepEqual([m.src, m.dst, m.hopLimit], [US, "ff02::1", 255]);
  assert.deepEqual(
    [...m.message.subarray(0, 2), ...m.message.subarray(4)],
    [136, 0, 0x20, 0, 0, 0, ...addr(US), 2, 1, 2, 0, 0, 0, 0, 1],
  );
  assert.equal(h.counter("ndp.tx.unsolicited_advertisements"), 1);
  h.finish();
});

Deno.test("ndp: a solicitation for our address gets a solicited advertisement (S, O, target option) and teaches the sender", () => {
  const h = host();
  const out = h.inject(solicitation());
  assert.equal(out.length, 1);
  const m = icmpv6Of(out[0]!)!;
  assert.deepEqual([m.dstMac, m.srcMac, m.src, m.dst, m.hopLimit], [
    PEER_MAC,
    US_MAC,
    US,
    PEER,
    255,
  ]);
  assert.deepEqual(
    [...m.message.subarray(0, 2), ...m.message.subarray(4)],
    [136, 0, 0x60, 0, 0, 0, ...addr(US), 2, 1, 2, 0, 0, 0, 0, 1],
  );
  // Learned from the source link-layer option (STALE), then used for the answer (DELAY).
  assert.deepEqual(neighbors6(h.stack), [{
    ifname: "eth0",
    address: PEER,
    mac: PEER_MAC,
    state: "DELAY",
    queued: 0,
  }]);
  assert.equal(h.counter("ndp.rx.solicitations"), 1);
  h.finish();
});

Deno.test("ndp: a solicitation from :: (another node's DAD) for our address is answered to all nodes, not solicited", () => {
  const h = host();
  const group = solicitedNode(US);
  const out = h.inject(
    v6Frame(multicastMac(group), PEER_MAC, icmpv6Packet("::", group, nsMessage(US))),
  );
  assert.equal(out.length, 1);
  const m = icmpv6Of(out[0]!)!;
  assert.deepEqual([m.dstMac, m.dst, m.message[4]], ["33:33:00:00:00:01", "ff02::1", 0x20]);
  assert.deepEqual(neighbors6(h.stack), [], "nothing learned from ::");
  h.finish();
});

Deno.test("ndp: a solicitation for an address that is not ours is not answered", () => {
  const h = host();
  // Same solicited-node group as ours (same low 24 bits), another address.
  assert.deepEqual(h.inject(solicitation("fd00::5:0:1")), []);
  assert.equal(h.counter("ndp.rx.not_for_us"), 1);
  assert.deepEqual(neighbors6(h.stack), []);
  h.finish();
});

Deno.test("ndp: resolution solicits the solicited-node group from our address; the advertisement releases the queued packet", () => {
  const h = host();
  h.take();
  sendUdp(h);
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1, "only the solicitation: the datagram waits");
  const ns = icmpv6Of(out[0]!)!;
  assert.deepEqual([ns.dstMac, ns.srcMac, ns.src, ns.dst, ns.hopLimit], [
    "33:33:ff:00:00:09",
    US_MAC,
    US,
    "ff02::1:ff00:9",
    255,
  ]);
  assert.deepEqual(
    [...ns.message.subarray(0, 2), ...ns.message.subarray(4)],
    [135, 0, 0, 0, 0, 0, ...addr(PEER), 1, 1, 2, 0, 0, 0, 0, 1],
  );
  assert.equal(neighbors6(h.stack)[0]?.state, "INCOMPLETE");
  assert.equal(neighbors6(h.stack)[0]?.queued, 1);
  const released = h.inject(
    v6Frame(
      US_MAC,
      PEER_MAC,
      icmpv6Packet(PEER, US, naMessage(PEER, 0x60, llaOption(2, PEER_MAC))),
    ),
  );
  assert.equal(released.length, 1);
  assert.deepEqual([...released[0]!.subarray(0, 6)], [2, 0, 0, 0, 0, 0x99]);
  assert.equal(released[0]![14 + 6], 17, "the UDP datagram");
  assert.deepEqual(neighbors6(h.stack)[0], {
    ifname: "eth0",
    address: PEER,
    mac: PEER_MAC,
    state: "REACHABLE",
    queued: 0,
  });
  h.finish();
});

Deno.test("ndp: an unanswered resolution sends 3 solicitations 1 s apart, then FAILED drops the packet", () => {
  const h = host();
  const told: [number, number][] = [];
  h.stack.service<NdpService>("neighbor.ipv6")!.onUnresolved((ifindex, pkt) =>
    told.push([ifindex, pkt.buf[pkt.start + 6]!])
  );
  h.take();
  sendUdp(h);
  h.runFor(3 * SECOND - 1);
  assert.equal(neighbors6(h.stack)[0]?.state, "INCOMPLETE");
  h.runFor(1);
  assert.equal(neighbors6(h.stack)[0]?.state, "FAILED");
  const ns = h.history.filter((f) => icmpv6Of(f.bytes)?.type === 135);
  assert.deepEqual(ns.map((f) => f.at), [0, SECOND, 2 * SECOND]);
  assert.equal(h.counter("ndp.tx.unresolved"), 1);
  assert.deepEqual(
    told,
    [[h.iface.index, 17]],
    "IPv6 hears of the dropped datagram (address unreachable)",
  );
  h.runFor(20 * SECOND);
  assert.deepEqual(neighbors6(h.stack), [], "a FAILED entry goes after failedTime");
  h.finish();
});

Deno.test("ndp: an advertisement without Override does not replace a REACHABLE address, it makes it STALE", () => {
  const h = host();
  sendUdp(h);
  h.inject(
    v6Frame(
      US_MAC,
      PEER_MAC,
      icmpv6Packet(PEER, US, naMessage(PEER, 0x60, llaOption(2, PEER_MAC))),
    ),
  );
  const other = "02:00:00:00:00:42";
  h.inject(
    v6Frame(US_MAC, other, icmpv6Packet(PEER, US, naMessage(PEER, 0x00, llaOption(2, other)))),
  );
  assert.deepEqual([neighbors6(h.stack)[0]?.state, neighbors6(h.stack)[0]?.mac], [
    "STALE",
    PEER_MAC,
  ]);
  // With Override, the new address is taken (unsolicited: STALE).
  h.inject(
    v6Frame(US_MAC, other, icmpv6Packet(PEER, US, naMessage(PEER, 0x20, llaOption(2, other)))),
  );
  assert.deepEqual([neighbors6(h.stack)[0]?.state, neighbors6(h.stack)[0]?.mac], [
    "STALE",
    other,
  ]);
  h.finish();
});

Deno.test("ndp: an advertisement nobody asked for creates no entry (RFC 4861 §7.2.5)", () => {
  const h = host();
  h.inject(
    v6Frame(
      US_MAC,
      PEER_MAC,
      icmpv6Packet(PEER, US, naMessage(PEER, 0x20, llaOption(2, PEER_MAC))),
    ),
  );
  assert.deepEqual(neighbors6(h.stack), []);
  assert.equal(h.counter("ndp.rx.no_entry"), 1);
  h.finish();
});

Deno.test("ndp: the static entry of addStatic is used at once and never ages", () => {
  const h = host();
  const ndp = h.stack.service<NdpService>("neighbor.ipv6")!;
  ndp.addStatic(h.iface.index, IpAddress.parse(PEER)!.key, new Uint8Array([2, 0, 0, 0, 0, 0x99]));
  assert.throws(() => ndp.addStatic(h.iface.index, 0x0a000001, new Uint8Array(6)), TypeError);
  assert.throws(
    () => ndp.addStatic(h.iface.index, IpAddress.parse(PEER)!.key, new Uint8Array(4)),
    RangeError,
  );
  assert.throws(() => ndp.addStatic(1.5, IpAddress.parse(PEER)!.key, new Uint8Array(6)), TypeError);
  assert.throws(
    () => ndp.addStatic(7, IpAddress.parse(PEER)!.key, new Uint8Array([2, 0, 0, 0, 0, 1])),
    RangeError,
  );
  assert.throws(
    () =>
      ndp.addStatic(
        h.iface.index,
        IpAddress.parse("ff02::1")!.key,
        new Uint8Array([2, 0, 0, 0, 0, 1]),
      ),
    RangeError,
  );
  h.take();
  sendUdp(h);
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  assert.equal(out[0]![14 + 6], 17);
  h.runFor(600 * SECOND);
  assert.equal(neighbors6(h.stack)[0]?.state, "PERMANENT");
  h.finish();
});

Deno.test("ndp: an IPv6 multicast destination maps to 33:33 and the group's low 32 bits without any solicitation", () => {
  const h = host();
  h.take();
  sendUdp(h, "ff02::1:2");
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  assert.deepEqual([...out[0]!.subarray(0, 6)], [0x33, 0x33, 0, 1, 0, 2]);
  assert.deepEqual(neighbors6(h.stack), []);
  h.finish();
});

// ---- DAD on its own -------------------------------------------------------------------

Deno.test("ndp DAD: a new address is tentative, probed once from :: to its solicited-node group, then preferred", () => {
  const h = host({}, { dadTransmits: 1 });
  assert.equal(addressState(h.stack, US), "tentative");
  h.runFor(SECOND); // the probe leaves within 1 s (random delay)
  const probes = h.history.filter((f) => icmpv6Of(f.bytes)?.type === 135);
  assert.equal(probes.length, 1);
  const p = icmpv6Of(probes[0]!.bytes)!;
  assert.deepEqual([p.dstMac, p.src, p.dst, p.hopLimit, p.message.length], [
    "33:33:ff:00:00:01",
    "::",
    "ff02::1:ff00:1",
    255,
    24,
  ]);
  assert.deepEqual([...p.message.subarray(8, 24)], [...addr(US)]);
  assert.equal(addressState(h.stack, US), "tentative");
  h.runFor(probes[0]!.at + SECOND - 1 - h.net.now());
  assert.equal(addressState(h.stack, US), "tentative", "RetransTimer after the probe");
  h.runFor(1);
  assert.equal(addressState(h.stack, US), "preferred");
  assert.equal(h.counter("ndp.dad.passed"), 1);
  assert.equal(h.counter("ndp.tx.unsolicited_advertisements"), 1, "announced once usable");
  h.finish();
});

Deno.test("ndp DAD: another node's probe for our tentative address makes it duplicate, logged and never used", () => {
  const h = host({}, { dadTransmits: 1 });
  const group = solicitedNode(US);
  const echo = icmpv6Packet(PEER, US, new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1]), 64);
  assert.deepEqual(h.inject(v6Frame(US_MAC, PEER_MAC, echo)), [], "tentative: no echo reply");
  const logs: string[] = [];
  h.stack.logs.sink = (r) => void logs.push(`${r.level} ${r.source}: ${r.message}`);
  h.inject(v6Frame(multicastMac(group), PEER_MAC, icmpv6Packet("::", group, nsMessage(US))));
  assert.equal(addressState(h.stack, US), "duplicate");
  assert.equal(h.counter("ndp.dad.duplicates"), 1);
  assert.deepEqual(logs, [
    "warn ndp: Duplicate address fd00::1 on eth0: another node probes for it; the address is not used (RFC 4862 §5.4.5)",
  ]);
  h.runFor(5 * SECOND);
  assert.equal(addressState(h.stack, US), "duplicate", "stays duplicate");
  assert.deepEqual(h.inject(v6Frame(US_MAC, PEER_MAC, echo)), [], "never answers for it");
  assert.deepEqual(h.inject(solicitation()), [], "never defends it");
  assert.equal(h.counter("ndp.tx.unsolicited_advertisements"), 0);
  h.finish();
});

Deno.test("ndp DAD: an advertisement for our tentative address makes it duplicate", () => {
  const h = host({}, { dadTransmits: 1 });
  h.inject(
    v6Frame(
      "33:33:00:00:00:01",
      PEER_MAC,
      icmpv6Packet(US, "ff02::1", naMessage(US, 0x20, llaOption(2, PEER_MAC))),
    ),
  );
  assert.equal(addressState(h.stack, US), "duplicate");
  h.finish();
});

Deno.test("ndp DAD: a solicitation for a tentative address from a unicast source is dropped unanswered", () => {
  const h = host({}, { dadTransmits: 1 });
  assert.deepEqual(h.inject(solicitation()), []);
  assert.equal(h.counter("ndp.rx.tentative_target"), 1);
  assert.equal(addressState(h.stack, US), "tentative");
  h.finish();
});

Deno.test("ndp DAD: our own probe heard back (a looping link) is ignored", () => {
  const h = host({}, { dadTransmits: 1 });
  const group = solicitedNode(US);
  h.inject(v6Frame(multicastMac(group), US_MAC, icmpv6Packet("::", group, nsMessage(US))));
  assert.equal(h.counter("ndp.rx.looped_back"), 1);
  h.runFor(3 * SECOND);
  assert.equal(addressState(h.stack, US), "preferred");
  h.finish();
});

Deno.test("ndp DAD: dadTransmits 0 turns it off; a raw-IP link skips it (Linux NOARP)", () => {
  const off = host();
  assert.equal(addressState(off.stack, US), "preferred");
  off.finish();
  const tun = makeHost({
    linkType: 101,
    addresses: [`${US}/64`],
    extraPlugins: V6_PLUGINS,
    withoutPlugins: NOT_UNDER_TEST,
  });
  assert.equal(addressState(tun.stack, US), "preferred");
  tun.runFor(3 * SECOND);
  assert.deepEqual(tun.history, [], "no DAD probe, no advertisement on a raw-IP link");
  tun.finish();
});

Deno.test("ndp: a link going down forgets its neighbours and stops DAD; up again, DAD runs anew", () => {
  const h = host({}, { dadTransmits: 1 });
  h.runFor(3 * SECOND);
  h.inject(solicitation());
  assert.equal(neighbors6(h.stack).length, 1);
  h.stack.addAddress("eth0", "fd00::2/64");
  assert.equal(addressState(h.stack, "fd00::2"), "tentative");
  h.stack.setLinkUp("eth0", false);
  assert.deepEqual(neighbors6(h.stack), []);
  h.take();
  h.runFor(5 * SECOND);
  assert.deepEqual(h.take(), [], "no probe on a down link");
  assert.equal(addressState(h.stack, "fd00::2"), "tentative", "DAD did not pass while down");
  h.stack.setLinkUp("eth0", true);
  h.runFor(2 * SECOND);
  assert.equal(addressState(h.stack, "fd00::2"), "preferred");
  assert.equal(h.take().filter((f) => icmpv6Of(f)?.src === "::").length, 1, "one DAD probe");
  h.finish();
});

Deno.test("ndp: a neighbour advertising one of our usable addresses is a conflict: counted always, logged at most once a second", () => {
  const h = host();
  const logs: string[] = [];
  h.stack.logs.sink = (r) => void logs.push(r.message);
  const claim = v6Frame(
    "33:33:00:00:00:01",
    PEER_MAC,
    icmpv6Packet(US, "ff02::1", naMessage(US, 0x20, llaOption(2, PEER_MAC))),
  );
  for (let i = 0; i < 50; i++) h.inject(claim);
  assert.equal(h.counter("ndp.rx.address_conflict"), 50);
  assert.deepEqual(logs, ["Address conflict: a neighbour advertises our fd00::1 on eth0"]);
  h.runFor(SECOND);
  h.inject(claim);
  assert.equal(logs.length, 2);
  assert.equal(addressState(h.stack, US), "preferred", "a usable address stays ours");
  assert.deepEqual(neighbors6(h.stack), []);
  h.finish();
});

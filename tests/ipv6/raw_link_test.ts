/**
 * The IPv6 and ICMPv6 plugin skeletons on a raw-IP link (TUN): echo,
 * extension header errors, reassembly and fragmentation, UDP over IPv6
 * through the real network layer, and the hook points.
 */
import assert from "node:assert/strict";
import { makeHost, ms, testPlugin } from "../_harness.ts";
import { ACCEPT, CONSUMED } from "../../stack/manifest.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { PacketFlags } from "../../stack/packet_flags.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import type { UdpService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import {
  icmpv6Code,
  icmpv6EchoIdentifier,
  icmpv6EchoSequence,
  icmpv6Type,
  icmpv6Word,
  setIcmpv6Checksum,
  verifyIcmpv6Checksum,
} from "../../stack/wire/icmpv6.ts";
import {
  ipv6DestinationKey,
  ipv6HopLimit,
  ipv6NextHeader,
  ipv6SourceKey,
  writeIpv6Header,
} from "../../stack/wire/ipv6.ts";
import { Ipv6Chain, walkIpv6Chain } from "../../stack/wire/ipv6_chain.ts";
import { finishChecksum, sumBytes } from "../../stack/wire/checksum.ts";
import { pseudoHeaderSum } from "../../stack/ip/pseudo_header.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { fragmentIpv6 } from "../../stack/protocols/ipv6/fragment.ts";
import { xorshift32 } from "../_random.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { CAPTURE_EPOCH } from "../_capture.ts";
import { PcapWriter } from "../../drivers/pcapfile/mod.ts";
import { Ipv6Reassembler } from "../../stack/protocols/ipv6/reassembly.ts";

const k = (s: string) => IpAddress.parse(s)!.key;
const US = "fd00::1";
const PEER = "fd00::2";

function host(extra: Parameters<typeof makeHost>[0] = {}) {
  return makeHost({
    linkType: 101,
    addresses: [`${US}/64`],
    extraPlugins: [ipv6Plugin, icmpv6Plugin],
    // Without mld: its reports would join the exact frame counts here.
    withoutPlugins: ["mld"],
    ...extra,
  });
}

/** An IPv6 packet `src` → `dst` carrying `rest` after the fixed header (next header `next`). */
function packet(src: string, dst: string, next: number, rest: Uint8Array | number[], hop = 64) {
  const p = new Uint8Array(40 + rest.length);
  writeIpv6Header(p, 0, rest.length, next, hop, k(src), k(dst));
  p.set(rest, 40);
  return p;
}

/** An echo request with `size` ramp bytes, checksum set. */
function echoRequest(src: string, dst: string, size = 56, id = 0x1234, seq = 1): Uint8Array {
  const msg = new Uint8Array(8 + size);
  msg.set([128, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff]);
  for (let i = 0; i < size; i++) msg[8 + i] = (i + 8) & 0xff;
  const p = packet(src, dst, 58, msg);
  setIcmpv6Checksum(p, 0, 40, p.length);
  return p;
}

Deno.test("ipv6 raw link: an echo request is answered with the same identifier, sequence and data (RFC 4443 §4.2)", () => {
  const h = host();
  const out = h.inject(echoRequest(PEER, US, 56, 0xbeef, 7));
  assert.equal(out.length, 1);
  const r = out[0]!;
  assert.equal(ipv6SourceKey(r, 0), k(US));
  assert.equal(ipv6DestinationKey(r, 0), k(PEER));
  assert.equal(ipv6NextHeader(r, 0), 58);
  assert.equal(ipv6HopLimit(r, 0), 64);
  assert.equal(icmpv6Type(r, 40), 129);
  assert.equal(icmpv6EchoIdentifier(r, 40), 0xbeef);
  assert.equal(icmpv6EchoSequence(r, 40), 7);
  assert.ok(verifyIcmpv6Checksum(r, 0, 40, r.length));
  assert.deepEqual(r.subarray(48), echoRequest(PEER, US, 56).subarray(48));
  assert.equal(h.counter("icmpv6.rx.echo_requests"), 1);
  assert.equal(h.counter("ipv6.rx.delivered"), 1);
  h.finish();
});

Deno.test("ipv6 raw link: an echo reply's checksum, updated from the request's, is the one summed afresh", async () => {
  const h = host();
  const rand = xorshift32(13);
  const capture = new PcapWriter({ linkType: 101 });
  for (let i = 0; i < 300; i++) {
    const size = i < 100 ? i : rand() % 1400;
    const peer = `fd00::${(rand() % 0xfffe + 2).toString(16)}:${(rand() & 0xffff).toString(16)}`;
    const p = echoRequest(peer, US, size, rand() & 0xffff, i);
    for (let j = 48; j < p.length; j++) p[j] = rand();
    p[41] = i % 3 === 0 ? rand() & 0xff : 0; // a code other than 0 is answered with 0
    setIcmpv6Checksum(p, 0, 40, p.length);
    const out = h.inject(p);
    assert.equal(out.length, 1, `size ${size}`);
    const r = out[0]!;
    assert.equal(icmpv6Type(r, 40), 129);
    assert.equal(icmpv6Code(r, 40), 0);
    // verifyIcmpv6Checksum compares the field with a fresh sum (0x0000, never 0xffff, for a zero).
    assert.ok(verifyIcmpv6Checksum(r, 0, 40, r.length), `size ${size} from ${peer}`);
    assert.deepEqual(r.subarray(44), p.subarray(44));
    capture.write({ timestamp: CAPTURE_EPOCH + 2 * i, data: p });
    capture.write({ timestamp: CAPTURE_EPOCH + 2 * i + 1, data: r });
  }
  assert.equal(h.counter("icmpv6.tx.echo_replies"), 300);
  h.finish();
  // Wireshark's own sum agrees, and pairs each reply with its request.
  await assertTsharkClean(capture.bytes());
});

Deno.test("ipv6 raw link: a request whose checksum is written 0xffff (the other zero) gets the reply's summed value", () => {
  const h = host();
  const p = echoRequest(PEER, US, 10);
  // Make the message's sum 0xffff with the last data word, so that its
  // checksum is zero: written 0x0000 as a sender sums it, or 0xffff.
  p[48 + 8] = 0;
  p[48 + 9] = 0;
  p[42] = 0;
  p[43] = 0;
  const sum = sumBytes(p.subarray(40), pseudoHeaderSum(k(PEER), k(US), 58, p.length - 40));
  p[48 + 8] = (~sum & 0xffff) >> 8;
  p[48 + 9] = ~sum & 0xff;
  setIcmpv6Checksum(p, 0, 40, p.length);
  assert.equal((p[42]! << 8) | p[43]!, 0);
  p[42] = 0xff;
  p[43] = 0xff;
  const out = h.inject(p);
  assert.equal(out.length, 1);
  assert.ok(verifyIcmpv6Checksum(out[0]!, 0, 40, out[0]!.length));
  h.finish();
});

Deno.test("ipv6 raw link: an echo request to ff02::1 is answered from our unicast address", () => {
  const h = host();
  const out = h.inject(echoRequest(PEER, "ff02::1"));
  assert.equal(out.length, 1);
  assert.equal(ipv6SourceKey(out[0]!, 0), k(US));
  // Another source than the request's destination: a pseudo-header of its own, summed.
  assert.ok(verifyIcmpv6Checksum(out[0]!, 0, 40, out[0]!.length));
  h.finish();
});

Deno.test("ipv6 raw link: a fragmented echo request is reassembled and its reply fragmented at the MTU", () => {
  const h = host();
  const pool = new PacketPool();
  const whole = echoRequest(PEER, US, 3000);
  const pkt = pool.copyOf(whole);
  const frags: PacketBuffer[] = [];
  assert.equal(fragmentIpv6(pkt, 1280, 0x77, pool, frags), 3);
  let out: Uint8Array[] = [];
  for (const f of frags.reverse()) {
    out = out.concat(h.inject(f.data.slice()));
    f.release();
  }
  assert.equal(h.counter("ipv6.rx.fragments"), 3);
  assert.equal(h.counter("ipv6.rx.reassembled"), 1);
  assert.equal(out.length, 3, "3048 bytes of reply over a 1500-byte link");
  assert.ok(out.every((f) => f.length <= 1500));
  const reasm = new Ipv6Reassembler(pool, () => 0);
  const chain = new Ipv6Chain();
  let reply: PacketBuffer | null | string = null;
  for (const f of out) {
    const p = pool.copyOf(f);
    assert.equal(walkIpv6Chain(p.buf, p.start, p.end, chain), null);
    reply = reasm.add(p, chain);
    p.release();
  }
  assert.ok(reply !== null && typeof reply !== "string");
  const r = reply.data.slice();
  reply.release();
  assert.equal(r.length, 40 + 8 + 3000);
  assert.equal(icmpv6Type(r, 40), 129);
  assert.ok(verifyIcmpv6Checksum(r, 0, 40, r.length));
  assert.deepEqual(r.subarray(48), whole.subarray(48));
  h.finish();
});

Deno.test("ipv6 raw link: an unknown next header gets Parameter Problem code 1 pointing at it (RFC 8200 §4)", () => {
  const h = host();
  const bad = packet(PEER, US, 60, [253, 0, 1, 4, 0, 0, 0, 0, 1, 2, 3, 4]);
  const out = h.inject(bad);
  assert.equal(out.length, 1);
  const e = out[0]!;
  assert.equal(icmpv6Type(e, 40), 4);
  assert.equal(icmpv6Code(e, 40), 1);
  assert.equal(icmpv6Word(e, 40), 40);
  assert.ok(verifyIcmpv6Checksum(e, 0, 40, e.length));
  assert.deepEqual(e.subarray(48), bad, "the invoking packet is quoted");
  assert.equal(h.counter("ipv6.rx.unknown_next_header"), 1);
  h.finish();
});

Deno.test("ipv6 raw link: a Routing header type 0 with segments left gets Parameter Problem code 0 (RFC 5095)", () => {
  const h = host();
  const out = h.inject(packet(PEER, US, 43, [59, 2, 0, 1, 0, 0, 0, 0, ...new Array(16).fill(0)]));
  assert.equal(out.length, 1);
  assert.equal(icmpv6Type(out[0]!, 40), 4);
  assert.equal(icmpv6Code(out[0]!, 40), 0);
  assert.equal(icmpv6Word(out[0]!, 40), 42);
  assert.equal(h.counter("ipv6.rx.unknown_routing_type"), 1);
  h.finish();
});

Deno.test("ipv6 raw link: no Parameter Problem about a packet to a multicast group (RFC 4443 §2.4 e.3)", () => {
  const h = host();
  assert.deepEqual(h.inject(packet(PEER, "ff02::1", 253, [1, 2, 3])), []);
  assert.equal(h.counter("ipv6.rx.unknown_next_header"), 1);
  assert.equal(h.counter("icmpv6.tx.no_error_for_multicast"), 1);
  h.finish();
});

Deno.test("ipv6 raw link: packets from a multicast source, or not for us, are dropped silently", () => {
  const h = host();
  assert.deepEqual(h.inject(echoRequest("ff02::5", US)), []);
  assert.equal(h.counter("ipv6.rx.bad_source"), 1);
  assert.deepEqual(h.inject(echoRequest(PEER, "fd00::9")), []);
  assert.equal(h.counter("ipv6.rx.not_for_us"), 1);
  assert.deepEqual(h.inject(echoRequest(PEER, "::1")), []);
  assert.equal(h.counter("ipv6.rx.bad_source"), 2, "::1 never comes from a wire");
  h.finish();
});

Deno.test("ipv6 raw link: an incomplete fragmented packet gets Time Exceeded code 1 after 60 s (RFC 8200 §4.5)", () => {
  const h = host();
  const pool = new PacketPool();
  const pkt = pool.copyOf(echoRequest(PEER, US, 3000));
  const frags: PacketBuffer[] = [];
  fragmentIpv6(pkt, 1280, 0x99, pool, frags);
  const first = frags[0]!.data.slice();
  for (const f of frags) f.release();
  assert.deepEqual(h.inject(first), []);
  h.runFor(ms(59_999));
  assert.equal(h.take().length, 0);
  h.runFor(ms(1));
  const out = h.take();
  assert.equal(out.length, 1);
  assert.equal(icmpv6Type(out[0]!, 40), 3);
  assert.equal(icmpv6Code(out[0]!, 40), 1);
  assert.equal(out[0]!.length, 1280, "quoted up to the minimum MTU (RFC 4443 §2.4 c)");
  assert.deepEqual(
    out[0]!.subarray(48),
    first.subarray(0, 1232),
    "the first fragment, as received",
  );
  assert.equal(h.counter("ipv6.rx.reasm_timeout"), 1);
  h.finish();
});

Deno.test("ipv6 raw link: UDP over IPv6 through the network layer, checksum with the IPv6 pseudo-header", () => {
  const h = host();
  const udp = h.stack.service<UdpService>("udp.sockets")!;
  const sock = udp.open({ address: IpAddress.parse(US)!, port: 7 });
  assert.ok(typeof sock !== "string");
  const dgram = new Uint8Array([0x30, 0x39, 0, 7, 0, 11, 0, 0, 1, 2, 3]);
  const sum = finishChecksum(sumBytes(dgram, pseudoHeaderSum(k(PEER), k(US), 17, 11)));
  dgram[6] = sum >> 8;
  dgram[7] = sum & 0xff;
  assert.deepEqual(h.inject(packet(PEER, US, 17, dgram)), []);
  const into = new Uint8Array(8);
  assert.equal(sock.recv(into), 3);
  assert.equal(sock.peerAddress.toString(), PEER);
  assert.equal(sock.peerPort, 12345);
  assert.equal(sock.send(into.subarray(0, 3), sock.peerAddress, sock.peerPort), undefined);
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  const o = out[0]!;
  assert.equal(ipv6NextHeader(o, 0), 17);
  assert.equal(ipv6DestinationKey(o, 0), k(PEER));
  assert.equal(
    sumBytes(o.subarray(40), pseudoHeaderSum(k(US), k(PEER), 17, o.length - 40)),
    0xffff,
  );
  sock.close();
  h.finish();
});

Deno.test("ipv6 raw link: UDP to a closed port is answered with port unreachable through icmpv6.error", () => {
  const h = host();
  const dgram = new Uint8Array([0x30, 0x39, 0x27, 0x0f, 0, 8, 0, 0]);
  const sum = finishChecksum(sumBytes(dgram, pseudoHeaderSum(k(PEER), k(US), 17, 8)));
  dgram[6] = sum >> 8;
  dgram[7] = sum & 0xff;
  const out = h.inject(packet(PEER, US, 17, dgram));
  assert.equal(out.length, 1);
  assert.equal(icmpv6Type(out[0]!, 40), 1);
  assert.equal(icmpv6Code(out[0]!, 40), 4);
  h.finish();
});

Deno.test("ipv6 raw link: the prerouting, input and output hooks see IPv6 packets with family 6", () => {
  const seen: string[] = [];
  const watcher = testPlugin({
    name: "watch6",
    layer: "middlebox",
    hooks: [{ point: "prerouting" }, { point: "input" }, { point: "output" }, {
      point: "postrouting",
    }],
  }, () => ({
    hook(point, pkt, hctx) {
      if (pkt.family === 6) seen.push(`${point}:${hctx?.family}`);
      return ACCEPT;
    },
  }));
  const h = host({ extraPlugins: [ipv6Plugin, icmpv6Plugin, watcher] });
  assert.equal(h.inject(echoRequest(PEER, US)).length, 1);
  assert.deepEqual(seen, ["prerouting:6", "input:6", "output:6", "postrouting:6"]);
  h.finish();
});

Deno.test("ipv6 raw link: a port unreachable quoting our datagram reaches the connected UDP socket by kind", () => {
  const h = host();
  const udp = h.stack.service<UdpService>("udp.sockets")!;
  const sock = udp.open({ family: 6 });
  assert.ok(typeof sock !== "string");
  assert.equal(sock.connect(IpAddress.parse(PEER)!, 4000), undefined);
  assert.equal(sock.localAddress.toString(), US);
  assert.equal(sock.send(new Uint8Array([9, 9]), null, 0), undefined);
  h.runFor(0);
  const [sent] = h.take();
  assert.ok(sent);
  const msg = new Uint8Array(8 + sent.length);
  msg.set([1, 4, 0, 0, 0, 0, 0, 0]);
  msg.set(sent, 8);
  const err = packet(PEER, US, 58, msg);
  setIcmpv6Checksum(err, 0, 40, err.length);
  assert.deepEqual(h.inject(err), []);
  assert.equal(h.counter("icmpv6.rx.errors"), 1);
  assert.equal(sock.takeError(), "connection_refused");
  sock.close();
  h.finish();
});

Deno.test("ipv6 raw link: a bad ICMPv6 checksum is dropped and counted", () => {
  const h = host();
  const p = echoRequest(PEER, US);
  p[60] = p[60]! ^ 1;
  assert.deepEqual(h.inject(p), []);
  assert.equal(h.counter("icmpv6.rx.bad_checksum"), 1);
  h.finish();
});

function fragmentsOf(bytes: Uint8Array, mtu: number): Uint8Array[] {
  const pool = new PacketPool();
  const frags: PacketBuffer[] = [];
  fragmentIpv6(pool.copyOf(bytes), mtu, 0x55, pool, frags);
  const out = frags.map((f) => f.data.slice());
  for (const f of frags) f.release();
  return out;
}

Deno.test("ipv6 raw link: a prerouting hook joined with defrag sees the whole packet once; without, each fragment", () => {
  for (const defrag of [true, false]) {
    const lengths: number[] = [];
    const ct = testPlugin({
      name: "ct6",
      layer: "middlebox",
      hooks: [{ point: "prerouting", defrag }],
    }, () => ({
      hook(_point, pkt) {
        if (pkt.family === 6) lengths.push(pkt.end - pkt.l3);
        return ACCEPT;
      },
    }));
    const h = host({ extraPlugins: [ipv6Plugin, icmpv6Plugin, ct] });
    for (const f of fragmentsOf(echoRequest(PEER, US, 3000), 1280)) h.inject(f);
    assert.deepEqual(lengths, defrag ? [3048] : [1280, 1280, 592], `defrag ${defrag}`);
    assert.equal(h.counter("icmpv6.rx.echo_requests"), 1);
    h.finish();
  }
});

Deno.test("ipv6 raw link: a Hop-by-Hop Router Alert is flagged on the packet for the transport (RFC 2711)", () => {
  let flags = 0;
  const sink = testPlugin({
    name: "sink6",
    layer: "transport",
    binds: [{ table: "ip.protocol", key: 253 }],
  }, () => ({
    receive(pkt) {
      flags = pkt.flags;
      return CONSUMED;
    },
  }));
  const h = host({ extraPlugins: [ipv6Plugin, icmpv6Plugin, sink] });
  h.inject(packet(PEER, US, 0, [253, 0, 5, 2, 0, 0, 1, 0, 1, 2, 3, 4]));
  assert.equal(flags & PacketFlags.ROUTER_ALERT, PacketFlags.ROUTER_ALERT);
  assert.equal(h.counter("ipv6.rx.delivered"), 1);
  h.finish();
});

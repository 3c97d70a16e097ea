import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { IpAddress } from "./ip_address.ts";
import { writeIpv6Header } from "./ipv6.ts";
import { Ipv6Chain, walkIpv6Chain } from "./ipv6_chain.ts";
import { ECHO_REPLY_PACKET, MLD_REPORT_PACKET } from "./ipv6_test_fixtures.ts";

const UNICAST = IpAddress.parse("2001:db8::2")!.key;
const MULTICAST = IpAddress.parse("ff02::1")!.key;
const HBH = 0, ROUTING = 43, FRAGMENT = 44, DEST = 60, NONE = 59, TCP = 6, UDP = 17, ICMPV6 = 58;

/** An IPv6 packet: `first` next header, then `rest` (extension headers and upper layer). */
function packet(first: number, rest: number[], dst = UNICAST): Uint8Array {
  const p = new Uint8Array(40 + rest.length);
  writeIpv6Header(p, 0, rest.length, first, 64, IpAddress.parse("2001:db8::1")!.key, dst);
  p.set(rest, 40);
  return p;
}

function walk(p: Uint8Array, chain = new Ipv6Chain()): Ipv6Chain {
  walkIpv6Chain(p, 0, p.length, chain);
  return chain;
}

/** An 8-byte options header holding one option `type` with `len` data bytes (len <= 4), padded. */
function optionsHeader(next: number, type: number, data: number[]): number[] {
  const h = [next, 0, type, data.length, ...data];
  const pad = 8 - h.length;
  if (pad === 1) h.push(0);
  else if (pad >= 2) h.push(1, pad - 2, ...new Array(pad - 2).fill(0));
  return h;
}

Deno.test("ipv6 chain: a packet without extension headers goes straight to its protocol", () => {
  const c = walk(ECHO_REPLY_PACKET);
  assert.equal(c.problem, null);
  assert.equal(c.protocol, ICMPV6);
  assert.equal(c.upperAt, 40);
  assert.equal(c.protocolAt, 6);
  assert.equal(c.headers, 0);
  assert.equal(c.fragmentAt, -1);
  assert.ok(!c.isFragment);
});

Deno.test("ipv6 chain: the capture's MLDv2 report, Hop-by-Hop Router Alert 0 + PadN (RFC 2711)", () => {
  const c = walk(MLD_REPORT_PACKET);
  assert.equal(c.problem, null);
  assert.equal(c.protocol, ICMPV6);
  assert.equal(c.upperAt, 48);
  assert.equal(c.protocolAt, 40);
  assert.equal(c.headers, 1);
  assert.equal(c.routerAlert, 0);
});

Deno.test("ipv6 chain: Hop-by-Hop after another header is Parameter Problem code 1 at the Next Header that names it (RFC 8200 §4.3)", () => {
  const p = packet(DEST, [HBH, 0, 1, 4, 0, 0, 0, 0, NONE, 0, 1, 4, 0, 0, 0, 0]);
  const c = walk(p);
  assert.equal(c.problem, "hop_by_hop_not_first");
  assert.equal(c.icmpCode, 1);
  assert.equal(c.icmpPointer, 40);
});

Deno.test("ipv6 chain: unknown option 00xxxxxx is skipped (RFC 8200 §4.2)", () => {
  const c = walk(packet(DEST, [...optionsHeader(UDP, 0x1e, [1, 2]), ...new Array(8).fill(0)]));
  assert.equal(c.problem, null);
  assert.equal(c.protocol, UDP);
  assert.equal(c.upperAt, 48);
});

Deno.test("ipv6 chain: unknown option 01xxxxxx discards silently", () => {
  const c = walk(packet(DEST, [...optionsHeader(UDP, 0x5e, [1, 2]), ...new Array(8).fill(0)]));
  assert.equal(c.problem, "unknown_option");
  assert.equal(c.icmpCode, -1);
});

Deno.test("ipv6 chain: unknown option 10xxxxxx discards with Parameter Problem code 2 at the option, even to multicast", () => {
  for (const dst of [UNICAST, MULTICAST]) {
    const c = walk(
      packet(HBH, [...optionsHeader(UDP, 0x9e, [1, 2]), ...new Array(8).fill(0)], dst),
    );
    assert.equal(c.problem, "unknown_option");
    assert.equal(c.icmpCode, 2);
    assert.equal(c.icmpPointer, 42);
  }
});

Deno.test("ipv6 chain: unknown option 11xxxxxx sends Parameter Problem code 2 only if the destination is not multicast", () => {
  const uni = walk(packet(DEST, [...optionsHeader(UDP, 0xde, [1, 2]), ...new Array(8).fill(0)]));
  assert.equal(uni.problem, "unknown_option");
  assert.equal(uni.icmpCode, 2);
  assert.equal(uni.icmpPointer, 42);
  const multi = walk(
    packet(DEST, [...optionsHeader(UDP, 0xde, [1, 2]), ...new Array(8).fill(0)], MULTICAST),
  );
  assert.equal(multi.problem, "unknown_option");
  assert.equal(multi.icmpCode, -1);
});

Deno.test("ipv6 chain: Jumbo Payload (0xc2) is not supported: code 2 (RFC 2675 §3 for a node without jumbograms)", () => {
  const c = walk(packet(HBH, [...optionsHeader(NONE, 0xc2, [0, 1, 0, 0])]));
  assert.equal(c.problem, "unknown_option");
  assert.equal(c.icmpCode, 2);
});

Deno.test("ipv6 chain: Router Alert of the wrong length is malformed", () => {
  const c = walk(packet(HBH, optionsHeader(NONE, 5, [0, 0, 0])));
  assert.equal(c.problem, "bad_option");
  assert.equal(c.icmpCode, -1);
});

Deno.test("ipv6 chain: Router Alert in Destination Options is an unknown 00 option, skipped", () => {
  const c = walk(packet(DEST, optionsHeader(NONE, 5, [0, 0])));
  assert.equal(c.problem, null);
  assert.equal(c.routerAlert, -1);
});

Deno.test("ipv6 chain: an option running past its header is malformed", () => {
  const c = walk(packet(DEST, [NONE, 0, 0x1e, 10, 0, 0, 0, 0]));
  assert.equal(c.problem, "bad_option");
});

Deno.test("ipv6 chain: more than 7 bytes of padding in a row is malformed (RFC 8504 §5.3), 6 is fine", () => {
  assert.equal(walk(packet(DEST, [NONE, 0, 0, 0, 0, 0, 0, 0])).problem, null); // 6 × Pad1
  const c = walk(packet(DEST, [NONE, 1, 1, 12, ...new Array(12).fill(0)])); // PadN of 14
  assert.equal(c.problem, "bad_option");
});

Deno.test("ipv6 chain: a PadN carrying anything but zeros is malformed (RFC 4942 §2.1.9.5, Linux too)", () => {
  assert.equal(walk(packet(DEST, [NONE, 0, 1, 4, 0, 0, 0, 0])).problem, null);
  assert.equal(walk(packet(DEST, [NONE, 0, 1, 4, 0, 0, 7, 0])).problem, "bad_option");
});

Deno.test("ipv6 chain: more non-padding options than maxOptions drops the packet", () => {
  const h = [NONE, 2, ...new Array(9).fill(0).flatMap(() => [0x1e, 0]), 1, 2, 0, 0]; // 24 bytes
  assert.equal(h.length, 24);
  assert.equal(walk(packet(DEST, h)).problem, "too_many_options");
  assert.equal(walk(packet(DEST, h), new Ipv6Chain({ maxOptions: 9 })).problem, null);
});

Deno.test("ipv6 chain: Routing type 0 with segments left is Parameter Problem code 0 at the Routing Type (RFC 5095 §3)", () => {
  const rh0 = [NONE, 2, 0, 1, 0, 0, 0, 0, ...new Array(16).fill(0)];
  const c = walk(packet(ROUTING, rh0));
  assert.equal(c.problem, "unknown_routing_type");
  assert.equal(c.icmpCode, 0);
  assert.equal(c.icmpPointer, 42);
});

Deno.test("ipv6 chain: Routing header with segments left 0 is ignored, whatever its type (RFC 8200 §4.4)", () => {
  for (const type of [0, 2, 4, 77]) {
    const c = walk(packet(ROUTING, [UDP, 0, type, 0, 0, 0, 0, 0, ...new Array(8).fill(0)]));
    assert.equal(c.problem, null, `type ${type}`);
    assert.equal(c.protocol, UDP);
    assert.equal(c.upperAt, 48);
  }
  const srh = walk(packet(ROUTING, [UDP, 0, 4, 2, 0, 0, 0, 0, ...new Array(8).fill(0)]));
  assert.equal(srh.problem, "unknown_routing_type");
});

Deno.test("ipv6 chain: an unknown upper layer is Parameter Problem code 1 at the byte naming it (RFC 8200 §4)", () => {
  const c = walk(packet(DEST, [253, 0, 1, 4, 0, 0, 0, 0, 0xaa, 0xbb]));
  assert.equal(c.problem, null);
  assert.equal(c.protocol, 253);
  assert.equal(c.unknownNextHeader(), "unknown_next_header");
  assert.equal(c.problem, "unknown_next_header");
  assert.equal(c.icmpCode, 1);
  assert.equal(c.icmpPointer, 40);
  const direct = walk(packet(253, [1, 2, 3]));
  direct.unknownNextHeader();
  assert.equal(direct.icmpPointer, 6);
});

Deno.test("ipv6 chain: more extension headers than maxHeaders is dropped without ICMP, the bound itself passes", () => {
  const dests = (n: number) =>
    new Array(n).fill(0).flatMap((_, i) => [i === n - 1 ? NONE : DEST, 0, 1, 4, 0, 0, 0, 0]);
  assert.equal(walk(packet(DEST, dests(8))).problem, null);
  const c = walk(packet(DEST, dests(9)));
  assert.equal(c.problem, "chain_too_long");
  assert.equal(c.icmpCode, -1);
  assert.equal(
    walk(packet(DEST, dests(3)), new Ipv6Chain({ maxHeaders: 2 })).problem,
    "chain_too_long",
  );
});

Deno.test("ipv6 chain: a header running past the payload is truncated, no ICMP", () => {
  const c = walk(packet(DEST, [NONE, 1, 1, 4, 0, 0, 0, 0])); // claims 16 bytes, has 8
  assert.equal(c.problem, "chain_truncated");
  assert.equal(c.icmpCode, -1);
  assert.equal(walk(packet(DEST, [NONE, 0, 1])).problem, "chain_truncated");
});

Deno.test("ipv6 chain: a non-first fragment stops the walk at its data", () => {
  // Fragment: next UDP, offset 1232 (154 × 8), M=1, id 0xdeadbeef; 16 data bytes.
  const c = walk(
    packet(FRAGMENT, [UDP, 0, 0x04, 0xd1, 0xde, 0xad, 0xbe, 0xef, ...new Array(16).fill(7)]),
  );
  assert.equal(c.problem, null);
  assert.ok(c.isFragment);
  assert.equal(c.fragmentAt, 40);
  assert.equal(c.fragmentNamedAt, 6);
  assert.equal(c.fragmentOffset, 1232);
  assert.ok(c.moreFragments);
  assert.equal(c.identification, 0xdeadbeef);
  assert.equal(c.protocol, UDP);
  assert.equal(c.upperAt, 48);
});

Deno.test("ipv6 chain: an atomic fragment is processed in isolation (RFC 6946 §4)", () => {
  const c = walk(packet(FRAGMENT, [UDP, 0, 0, 0, 0, 0, 0, 9, ...new Array(8).fill(0)]));
  assert.equal(c.problem, null);
  assert.ok(!c.isFragment);
  assert.equal(c.fragmentAt, 40);
  assert.equal(c.protocol, UDP);
  assert.equal(c.upperAt, 48);
});

Deno.test("ipv6 chain: a first fragment holding its whole chain and TCP header walks to TCP", () => {
  const c = walk(
    packet(FRAGMENT, [
      DEST,
      0,
      0,
      1,
      0,
      0,
      0,
      1,
      TCP,
      0,
      1,
      4,
      0,
      0,
      0,
      0,
      ...new Array(24).fill(0),
    ]),
  );
  assert.equal(c.problem, null);
  assert.ok(c.isFragment);
  assert.equal(c.protocol, TCP);
  assert.equal(c.upperAt, 56);
  assert.equal(c.headers, 2);
  assert.equal(c.fragmentNamedAt, 6);
});

Deno.test("ipv6 chain: a first fragment whose chain goes on past it is Parameter Problem code 3, pointer 0 (RFC 7112 §5)", () => {
  // Destination Options claims 16 bytes; the fragment holds 8 of them.
  const c = walk(packet(FRAGMENT, [DEST, 0, 0, 1, 0, 0, 0, 1, TCP, 1, 1, 4, 0, 0, 0, 0]));
  assert.equal(c.problem, "first_fragment_incomplete");
  assert.equal(c.icmpCode, 3);
  assert.equal(c.icmpPointer, 0);
});

Deno.test("ipv6 chain: a first fragment cutting the TCP header short is RFC 7112's code 3", () => {
  const c = walk(packet(FRAGMENT, [TCP, 0, 0, 1, 0, 0, 0, 1, ...new Array(16).fill(0)]));
  assert.equal(c.problem, "first_fragment_incomplete");
  assert.equal(c.icmpCode, 3);
  const udp = walk(packet(FRAGMENT, [UDP, 0, 0, 1, 0, 0, 0, 1, ...new Array(16).fill(0)]));
  assert.equal(udp.problem, null);
});

Deno.test("ipv6 chain: a non-last fragment whose length is not a multiple of 8 is code 0 at the Payload Length (RFC 8200 §4.5)", () => {
  const c = walk(packet(FRAGMENT, [UDP, 0, 0, 9, 0, 0, 0, 1, ...new Array(12).fill(0)]));
  assert.equal(c.problem, "fragment_bad_length");
  assert.equal(c.icmpCode, 0);
  assert.equal(c.icmpPointer, 4);
  // The last fragment may have any length.
  assert.equal(
    walk(packet(FRAGMENT, [UDP, 0, 0, 8, 0, 0, 0, 1, ...new Array(12).fill(0)])).problem,
    null,
  );
});

Deno.test("ipv6 chain: a fragment reaching past 65,535 bytes is code 0 at the Fragment Offset (RFC 8200 §4.5)", () => {
  // offset 65528 (0xfff8) with 16 data bytes.
  const c = walk(
    packet(DEST, [
      FRAGMENT,
      0,
      1,
      4,
      0,
      0,
      0,
      0,
      UDP,
      0,
      0xff,
      0xf8,
      0,
      0,
      0,
      1,
      ...new Array(16).fill(0),
    ]),
  );
  assert.equal(c.problem, "fragment_too_big");
  assert.equal(c.icmpCode, 0);
  assert.equal(c.icmpPointer, 50);
});

Deno.test("ipv6 chain: a second Fragment header is dropped", () => {
  const c = walk(
    packet(FRAGMENT, [
      FRAGMENT,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      UDP,
      0,
      0,
      0,
      0,
      0,
      0,
      2,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]),
  );
  assert.equal(c.problem, "nested_fragment");
});

Deno.test("ipv6 chain: offsets are absolute and the pointer relative inside a larger buffer", () => {
  const p = packet(DEST, [...optionsHeader(UDP, 0xde, [1, 2]), ...new Array(8).fill(0)]);
  const buf = new Uint8Array(14 + p.length);
  buf.set(p, 14);
  const c = new Ipv6Chain();
  assert.equal(walkIpv6Chain(buf, 14, buf.length, c), "unknown_option");
  assert.equal(c.icmpPointer, 42);
  const ok = new Ipv6Chain();
  const q = packet(DEST, [UDP, 0, 1, 4, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
  buf.set(q, 14);
  assert.equal(walkIpv6Chain(buf, 14, 14 + q.length, ok), null);
  assert.equal(ok.upperAt, 14 + 48);
  assert.equal(ok.protocolAt, 14 + 40);
});

Deno.test("ipv6 chain: one result object is reset by each walk", () => {
  const c = new Ipv6Chain();
  walkIpv6Chain(MLD_REPORT_PACKET, 0, MLD_REPORT_PACKET.length, c);
  const frag = packet(FRAGMENT, [UDP, 0, 0, 8, 0, 0, 0, 1, 1, 2]);
  walkIpv6Chain(frag, 0, frag.length, c);
  assert.equal(c.routerAlert, -1);
  walkIpv6Chain(ECHO_REPLY_PACKET, 0, ECHO_REPLY_PACKET.length, c);
  assert.equal(c.fragmentAt, -1);
  assert.equal(c.headers, 0);
  assert.equal(c.problem, null);
});

Deno.test("ipv6 chain fuzz: arbitrary chains never throw and stay inside the packet", () => {
  const chain = new Ipv6Chain();
  const nextHeaders = fc.constantFrom(HBH, ROUTING, FRAGMENT, DEST, NONE, TCP, UDP, ICMPV6, 253);
  fc.assert(
    fc.property(
      nextHeaders,
      fc.array(fc.oneof(nextHeaders, fc.integer({ min: 0, max: 255 })), { maxLength: 200 }),
      fc.boolean(),
      fc.nat(8),
      (first, rest, multicast, cut) => {
        const p = packet(first, rest, multicast ? MULTICAST : UNICAST);
        const end = Math.max(40, p.length - cut);
        const r = walkIpv6Chain(p, 0, end, chain);
        assert.equal(r, chain.problem);
        if (r === null) {
          assert.ok(chain.upperAt >= 40 && chain.upperAt <= end);
          assert.ok(chain.protocolAt >= 6 && chain.protocolAt < chain.upperAt);
          assert.ok(chain.headers <= chain.maxHeaders);
        } else if (chain.icmpCode >= 0) {
          assert.ok(chain.icmpCode <= 3);
          assert.ok(chain.icmpPointer >= 0 && chain.icmpPointer < end);
        }
      },
    ),
    { numRuns: 3000, seed: 10 },
  );
});

/**
 * `findIpv6Upper`: the upper layer as hooks are told it (netfilter's
 * `ipv6_find_hdr()`), beside `walkIpv6Chain`'s stricter walk.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { IpAddress } from "./ip_address.ts";
import { writeIpv6Header } from "./ipv6.ts";
import { findIpv6Upper, Ipv6Chain, walkIpv6Chain } from "./ipv6_chain.ts";
import { ECHO_REPLY_PACKET, MLD_REPORT_PACKET } from "./ipv6_test_fixtures.ts";

const HBH = 0, ROUTING = 43, FRAGMENT = 44, ESP = 50, AH = 51, NONE = 59, DEST = 60;
const TCP = 6, UDP = 17, ICMPV6 = 58;

/** An IPv6 packet: `first` next header, then `rest` (extension headers and upper layer). */
function packet(first: number, rest: number[]): Uint8Array {
  const p = new Uint8Array(40 + rest.length);
  const src = IpAddress.parse("2001:db8::1")!.key;
  writeIpv6Header(p, 0, rest.length, first, 64, src, IpAddress.parse("2001:db8::2")!.key);
  p.set(rest, 40);
  return p;
}

function find(p: Uint8Array, chain = new Ipv6Chain()): Ipv6Chain {
  findIpv6Upper(p, 0, p.length, chain);
  return chain;
}

/** An 8-byte options header naming `next`, holding PadN only. */
const padded = (next: number) => [next, 0, 1, 4, 0, 0, 0, 0];
const TCP_HEADER = [0x30, 0x39, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0];

Deno.test("ipv6 upper: without an extension header the upper layer follows the fixed header", () => {
  const c = find(ECHO_REPLY_PACKET);
  assert.equal(c.problem, null);
  assert.equal(c.protocol, ICMPV6);
  assert.equal(c.upperAt, 40);
  assert.equal(c.headers, 0);
});

Deno.test("ipv6 upper: Hop-by-Hop then Destination Options then TCP gives TCP at byte 56", () => {
  const c = find(packet(HBH, [...padded(DEST), ...padded(TCP), ...TCP_HEADER]));
  assert.equal(c.problem, null);
  assert.equal(c.protocol, TCP);
  assert.equal(c.upperAt, 56);
  assert.equal(c.protocolAt, 48);
  assert.equal(c.headers, 2);
  // The capture's MLD report: ICMPv6 behind its Hop-by-Hop Router Alert.
  const mld = find(MLD_REPORT_PACKET);
  assert.equal(mld.protocol, ICMPV6);
  assert.equal(mld.upperAt, 48);
});

Deno.test("ipv6 upper: options a destination refuses are skipped, not judged (a router forwards them)", () => {
  // Option type 0x81 (10xxxxxx): a destination discards; a filter must still see UDP.
  const p = packet(DEST, [UDP, 0, 0x81, 4, 0, 0, 0, 0, 0, 1, 0, 2, 0, 8, 0, 0]);
  assert.equal(walkIpv6Chain(p, 0, p.length, new Ipv6Chain()), "unknown_option");
  const c = find(p);
  assert.equal(c.problem, null);
  assert.equal(c.protocol, UDP);
  assert.equal(c.upperAt, 48);
});

Deno.test("ipv6 upper: a Routing header with segments left and Hop-by-Hop out of place are skipped too", () => {
  const routing = [DEST, 0, 0, 1, 0, 0, 0, 0]; // type 0, one segment left: RFC 5095 for a host
  const c = find(packet(ROUTING, [...routing, ...padded(HBH), ...padded(TCP), ...TCP_HEADER]));
  assert.equal(c.problem, null);
  assert.equal(c.protocol, TCP);
  assert.equal(c.upperAt, 64);
  assert.equal(c.headers, 3);
});

Deno.test("ipv6 upper: an Authentication header is skipped by its 4-byte-word length (RFC 4302 §2.2)", () => {
  // AH with 12 bytes of ICV: Payload Len 4 → (4 + 2) × 4 = 24 bytes.
  const ah = [TCP, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, ...new Array(12).fill(0xaa)];
  const c = find(packet(AH, [...ah, ...TCP_HEADER]));
  assert.equal(c.problem, null);
  assert.equal(c.protocol, TCP);
  assert.equal(c.upperAt, 64);
});

Deno.test("ipv6 upper: ESP and No Next Header end the chain", () => {
  const esp = find(packet(DEST, [...padded(ESP), 0, 0, 1, 0, 0, 0, 0, 1, 0xee, 0xee]));
  assert.equal(esp.protocol, ESP);
  assert.equal(esp.upperAt, 48);
  const none = find(packet(HBH, padded(NONE)));
  assert.equal(none.protocol, NONE);
  assert.equal(none.upperAt, 48);
});

Deno.test("ipv6 upper: a non-first fragment names its protocol and stops at its data", () => {
  const c = find(packet(FRAGMENT, [TCP, 0, 0x04, 0xd1, 0xde, 0xad, 0xbe, 0xef, ...TCP_HEADER]));
  assert.equal(c.problem, null);
  assert.equal(c.protocol, TCP);
  assert.equal(c.fragmentOffset, 1232);
  assert.equal(c.upperAt, 48);
  assert.equal(c.identification, 0xdeadbeef);
  // A first fragment goes on to the upper-layer header.
  const first = find(packet(FRAGMENT, [DEST, 0, 0, 1, 0, 0, 0, 1, ...padded(TCP), ...TCP_HEADER]));
  assert.equal(first.fragmentOffset, 0);
  assert.ok(first.moreFragments);
  assert.equal(first.protocol, TCP);
  assert.equal(first.upperAt, 56);
});

Deno.test("ipv6 upper: a chain longer than maxHeaders, or than the packet, is a problem, never a guess", () => {
  const nine: number[] = [];
  for (let i = 0; i < 9; i++) nine.push(...padded(i < 8 ? DEST : TCP));
  const p = packet(DEST, [...nine, ...TCP_HEADER]);
  const c = new Ipv6Chain();
  assert.equal(findIpv6Upper(p, 0, p.length, c), "chain_too_long");
  assert.equal(c.problem, "chain_too_long");
  assert.equal(findIpv6Upper(p, 0, p.length, new Ipv6Chain({ maxHeaders: 9 })), null);
  // A header claiming more bytes than the packet has; one cut inside its first 8 bytes.
  assert.equal(
    findIpv6Upper(packet(DEST, [TCP, 1, 1, 4, 0, 0, 0, 0]), 0, 48, c),
    "chain_truncated",
  );
  assert.equal(findIpv6Upper(packet(HBH, [TCP, 0, 1]), 0, 43, c), "chain_truncated");
  // `end` bounds the walk even when the buffer goes on.
  const whole = packet(DEST, [...padded(TCP), ...TCP_HEADER]);
  assert.equal(findIpv6Upper(whole, 0, 44, c), "chain_truncated");
});

Deno.test("ipv6 upper: offsets are absolute inside a larger buffer, and each find resets the result", () => {
  const p = packet(DEST, [...padded(UDP), 0, 1, 0, 2, 0, 8, 0, 0]);
  const big = new Uint8Array(100 + p.length);
  big.set(p, 100);
  const c = new Ipv6Chain();
  findIpv6Upper(packet(FRAGMENT, [TCP, 0, 0, 8, 0, 0, 0, 1, ...TCP_HEADER]), 0, 76, c);
  assert.equal(c.fragmentOffset, 8);
  assert.equal(findIpv6Upper(big, 100, big.length, c), null);
  assert.equal(c.upperAt, 148);
  assert.equal(c.protocolAt, 140);
  assert.equal(c.fragmentAt, -1);
  assert.equal(c.fragmentOffset, 0);
});

Deno.test("ipv6 upper fuzz: arbitrary chains never throw, stay inside the packet and agree with a sound walk", () => {
  const chain = new Ipv6Chain();
  const strict = new Ipv6Chain();
  const nextHeaders = fc.constantFrom(HBH, ROUTING, FRAGMENT, DEST, AH, ESP, NONE, TCP, UDP, 253);
  fc.assert(
    fc.property(
      nextHeaders,
      fc.array(fc.oneof(nextHeaders, fc.integer({ min: 0, max: 255 })), { maxLength: 300 }),
      fc.nat(8),
      (first, rest, cut) => {
        const p = packet(first, rest);
        const end = Math.max(40, p.length - cut);
        const r = findIpv6Upper(p, 0, end, chain);
        assert.equal(r, chain.problem);
        if (r === null) {
          assert.ok(chain.upperAt >= 40 && chain.upperAt <= end);
          assert.ok(chain.protocolAt >= 6 && chain.protocolAt < chain.upperAt);
          assert.ok(chain.headers <= chain.maxHeaders);
        } else assert.ok(r === "chain_truncated" || r === "chain_too_long");
        // Where the destination's walk accepts a chain without AH, both find the same layer.
        if (walkIpv6Chain(p, 0, end, strict) === null && !p.subarray(0, end).includes(AH)) {
          assert.equal(r, null);
          assert.equal(chain.protocol, strict.protocol);
          assert.equal(chain.upperAt, strict.upperAt);
        }
      },
    ),
    { numRuns: 3000, seed: 11 },
  );
});

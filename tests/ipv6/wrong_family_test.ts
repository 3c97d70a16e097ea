/**
 * IPv4 and IPv6 share the `ip.protocol` table, so ICMP (1) and ICMPv6 (58)
 * could each be handed the other family's packets: an IPv6 packet with Next
 * Header 1 or an IPv4 datagram with protocol 58. Each ICMP plugin takes only
 * its own family's and counts the rest.
 */
import assert from "node:assert/strict";
import { makeHost } from "../_harness.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { writeIpv6Header } from "../../stack/wire/ipv6.ts";
import { finishChecksum, sumBytes } from "../../stack/wire/checksum.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

/** An ICMP (v4-numbered) echo request of 8 + 8 bytes with its plain checksum. */
function echo(type: number): Uint8Array {
  const m = new Uint8Array(16);
  m.set([type, 0, 0, 0, 0x12, 0x34, 0, 1]);
  const c = finishChecksum(sumBytes(m));
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return m;
}

Deno.test("ip.protocol shared: an IPv6 packet with Next Header 1 (ICMP for IPv4) is not answered", () => {
  const h = makeHost({ linkType: 101, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  h.take();
  const m = echo(8);
  const p = new Uint8Array(40 + m.length);
  writeIpv6Header(p, 0, m.length, 1, 64, k("fd00::2"), k("fd00::1"));
  p.set(m, 40);
  assert.deepEqual(h.inject(p).filter((f) => f[0]! >> 4 === 4), [], "no IPv4 answer");
  assert.equal(h.counter("icmp.rx.echo_requests"), 0);
  assert.equal(h.counter("icmp.rx.wrong_family"), 1);
  h.finish();
});

Deno.test("ip.protocol shared: an IPv4 datagram with protocol 58 (ICMPv6) is not answered", () => {
  const h = makeHost({ linkType: 101, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  h.take();
  const m = echo(128);
  const p = new Uint8Array(20 + m.length);
  p.set([0x45, 0, 0, p.length, 0, 1, 0, 0, 64, 58, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
  const c = finishChecksum(sumBytes(p.subarray(0, 20)));
  p[10] = c >> 8;
  p[11] = c & 0xff;
  p.set(m, 20);
  h.inject(p);
  assert.equal(h.counter("icmpv6.rx.echo_requests"), 0);
  assert.equal(h.counter("icmpv6.rx.wrong_family"), 1);
  h.finish();
});

import assert from "node:assert/strict";
import { IpAddress } from "./ip_address.ts";
import {
  checkIpv6Header,
  formatIpv6Header,
  IPV6_HEADER_LEN,
  ipv6AddressesEqual,
  ipv6DestinationIsMulticast,
  ipv6DestinationKey,
  ipv6FlowLabel,
  ipv6HopLimit,
  ipv6NextHeader,
  ipv6PayloadLength,
  ipv6SourceKey,
  ipv6TrafficClass,
  ipv6Version,
  setIpv6FlowLabel,
  setIpv6HopLimit,
  setIpv6PayloadLength,
  setIpv6TrafficClass,
  writeIpv6Header,
} from "./ipv6.ts";
import { ECHO_REPLY_PACKET, NS_PACKET, RA_PACKET } from "./ipv6_test_fixtures.ts";

const key = (s: string) => IpAddress.parse(s)!.key;

Deno.test("ipv6 header deconstruct: the Neighbor Solicitation of the capture (RFC 8200 §3)", () => {
  const p = NS_PACKET;
  assert.equal(checkIpv6Header(p, 0, p.length), null);
  assert.equal(ipv6Version(p, 0), 6);
  assert.equal(ipv6TrafficClass(p, 0), 0);
  assert.equal(ipv6FlowLabel(p, 0), 0);
  assert.equal(ipv6PayloadLength(p, 0), 32);
  assert.equal(ipv6NextHeader(p, 0), 58);
  assert.equal(ipv6HopLimit(p, 0), 255);
  assert.equal(ipv6SourceKey(p, 0), key("2001:db8:1:2::1003"));
  assert.equal(ipv6DestinationKey(p, 0), key("ff02::1:ff00:1000"));
  assert.ok(ipv6DestinationIsMulticast(p, 0));
  assert.ok(!ipv6DestinationIsMulticast(ECHO_REPLY_PACKET, 0));
});

Deno.test("ipv6 header deconstruct at an offset inside a larger buffer", () => {
  const buf = new Uint8Array(14 + ECHO_REPLY_PACKET.length + 4);
  buf.set(ECHO_REPLY_PACKET, 14);
  assert.equal(checkIpv6Header(buf, 14, 14 + ECHO_REPLY_PACKET.length), null);
  assert.equal(ipv6PayloadLength(buf, 14), 64);
  assert.equal(ipv6HopLimit(buf, 14), 64);
  assert.equal(ipv6SourceKey(buf, 14), key("2001:db8:1:2::1000"));
});

Deno.test("ipv6 header construct: writeIpv6Header gives the capture's bytes", () => {
  const p = new Uint8Array(RA_PACKET.length).fill(0xaa);
  p.set(RA_PACKET.subarray(IPV6_HEADER_LEN), IPV6_HEADER_LEN);
  writeIpv6Header(p, 0, 176, 58, 255, key("fe80::b299:28ff:fec8:d66c"), key("ff02::1"));
  assert.deepEqual(p, RA_PACKET);
});

Deno.test("ipv6 header writers change only their field", () => {
  const p = NS_PACKET.slice();
  setIpv6TrafficClass(p, 0, 0xb9);
  setIpv6FlowLabel(p, 0, 0xfedcb);
  setIpv6HopLimit(p, 0, 7);
  setIpv6PayloadLength(p, 0, 0x1234);
  assert.equal(ipv6Version(p, 0), 6);
  assert.equal(ipv6TrafficClass(p, 0), 0xb9);
  assert.equal(ipv6FlowLabel(p, 0), 0xfedcb);
  assert.equal(ipv6HopLimit(p, 0), 7);
  assert.equal(ipv6PayloadLength(p, 0), 0x1234);
  assert.equal(ipv6NextHeader(p, 0), 58);
  assert.deepEqual(p.subarray(8), NS_PACKET.subarray(8));
});

Deno.test("checkIpv6Header() rejects a payload length past the link's bytes, allows padding", () => {
  const padded = new Uint8Array(NS_PACKET.length + 6);
  padded.set(NS_PACKET);
  assert.equal(checkIpv6Header(padded, 0, padded.length), null);
  assert.equal(checkIpv6Header(NS_PACKET, 0, NS_PACKET.length - 1), "bad_payload_length");
});

Deno.test("checkIpv6Header() rejects version 4", () => {
  const p = NS_PACKET.slice();
  p[0] = 0x45;
  assert.equal(checkIpv6Header(p, 0, p.length), "bad_version");
});

Deno.test("checkIpv6Header() truncation sweep: every prefix gives a reason, never a throw", () => {
  for (const f of [NS_PACKET, ECHO_REPLY_PACKET, RA_PACKET]) {
    for (let n = 0; n < f.length; n++) {
      const r = checkIpv6Header(f.subarray(0, n), 0, n);
      assert.equal(r, n < IPV6_HEADER_LEN ? "truncated" : "bad_payload_length", `prefix ${n}`);
    }
    assert.equal(checkIpv6Header(f, 0, f.length), null);
  }
  assert.equal(checkIpv6Header(NS_PACKET, 0, NS_PACKET.length + 1), "truncated"); // end past the bytes
});

Deno.test("ipv6AddressesEqual() compares the two addresses of a header", () => {
  const p = new Uint8Array(40);
  writeIpv6Header(p, 0, 0, 59, 1, key("2001:db8::1"), key("2001:db8::1"));
  assert.ok(ipv6AddressesEqual(p, 8, 24));
  p[39] = 2;
  assert.ok(!ipv6AddressesEqual(p, 8, 24));
});

Deno.test("formatIpv6Header() prints the capture's echo reply like tcpdump -v", () => {
  assert.equal(
    formatIpv6Header(ECHO_REPLY_PACKET, 0),
    "2001:db8:1:2::1000 > 2001:db8:1:2::1003: flowlabel 0x00000, hlim 64, next-header 58, payload length 64",
  );
  const p = ECHO_REPLY_PACKET.slice();
  setIpv6TrafficClass(p, 0, 0x10);
  assert.match(formatIpv6Header(p, 0), /: class 0x10, flowlabel/);
});

import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { parseIpv6Address } from "./address.ts";
import {
  emitUdp,
  formatUdpRepr,
  parseUdp,
  UDP_HEADER_LEN,
  udpBufferLen,
  udpChecksum,
  UdpPacket,
  type UdpPseudoHeader,
  type UdpRepr,
} from "./udp.ts";

// shared/pcaps/dns_query_response.pcapng frame 1, UDP datagram (39 bytes):
// DNS query 192.168.0.114.1060 > 205.152.37.23.53, "A? wireshark.org".
// deno-fmt-ignore
const DNS_QUERY = new Uint8Array([
  0x04, 0x24, // source port 1060
  0x00, 0x35, // destination port 53
  0x00, 0x27, // length 39
  0x03, 0x6d, // checksum (tshark: good)
  0x18, 0x0f, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // DNS header
  0x09, 0x77, 0x69, 0x72, 0x65, 0x73, 0x68, 0x61, 0x72, 0x6b, // "wireshark"
  0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, // "org", type A, class IN
]);
const DNS_QUERY_PSEUDO: UdpPseudoHeader = { family: 4, src: 0xc0a80072, dst: 0xcd982517 };

// dns_query_response.pcapng frame 2, UDP datagram (55 bytes): the response
// 205.152.37.23.53 > 192.168.0.114.1060 with one A record.
// deno-fmt-ignore
const DNS_RESPONSE = new Uint8Array([
  0x00, 0x35, 0x04, 0x24, 0x00, 0x37, 0x3c, 0x20, // 53 > 1060, length 55, checksum 0x3c20
  0x18, 0x0f, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
  0x09, 0x77, 0x69, 0x72, 0x65, 0x73, 0x68, 0x61, 0x72, 0x6b, 0x03, 0x6f, 0x72, 0x67, 0x00,
  0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x38, 0x40,
  0x00, 0x04, 0x80, 0x79, 0x32, 0x7a, // 128.121.50.122
]);
const DNS_RESPONSE_PSEUDO: UdpPseudoHeader = { family: 4, src: 0xcd982517, dst: 0xc0a80072 };

// shared/pcaps/LINKTYPE_IPV4.pcap, UDP datagram (37 bytes) followed here by
// two bytes of padding that the length field excludes:
// 192.168.1.100.12345 > 9.9.9.9.53, "A? example.com".
// deno-fmt-ignore
const PADDED_QUERY = new Uint8Array([
  0x30, 0x39, 0x00, 0x35, 0x00, 0x25, 0x19, 0x76, // 12345 > 53, length 37, checksum 0x1976
  0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00,
  0x00, 0x01, 0x00, 0x01,
  0x00, 0x00, // padding
]);
const PADDED_QUERY_PSEUDO: UdpPseudoHeader = { family: 4, src: 0xc0a80164, dst: 0x09090909 };

// Crafted (no IPv6 UDP in the corpus): fe80::1.546 > ff02::1:2.547 "hello",
// checksum computed independently in Python and checked good by tshark 4.0
// (`-o udp.check_checksum:TRUE`) in a LINKTYPE_RAW capture.
// deno-fmt-ignore
const DHCPV6_HELLO = new Uint8Array([
  0x02, 0x22, 0x02, 0x23, 0x00, 0x0d, 0xba, 0x35, // 546 > 547, length 13, checksum 0xba35
  0x68, 0x65, 0x6c, 0x6c, 0x6f, // "hello"
]);
const DHCPV6_PSEUDO: UdpPseudoHeader = {
  family: 6,
  src: parseIpv6Address("fe80::1")!,
  dst: parseIpv6Address("ff02::1:2")!,
};

// Crafted: 10.0.0.1.1000 > 10.0.0.2.2000 with payload 0xe01f, whose
// checksum computes to 0 and is therefore sent as 0xffff (RFC 768).
// deno-fmt-ignore
const COMPUTES_TO_ZERO = new Uint8Array([
  0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0a, 0xff, 0xff, // 1000 > 2000, length 10, checksum 0xffff
  0xe0, 0x1f,
]);
const COMPUTES_TO_ZERO_PSEUDO: UdpPseudoHeader = { family: 4, src: 0x0a000001, dst: 0x0a000002 };

const FIXTURES: [Uint8Array, UdpPseudoHeader][] = [
  [DNS_QUERY, DNS_QUERY_PSEUDO],
  [DNS_RESPONSE, DNS_RESPONSE_PSEUDO],
  [PADDED_QUERY, PADDED_QUERY_PSEUDO],
  [DHCPV6_HELLO, DHCPV6_PSEUDO],
  [COMPUTES_TO_ZERO, COMPUTES_TO_ZERO_PSEUDO],
];

function checked(bytes: Uint8Array): UdpPacket {
  const p = UdpPacket.check(bytes);
  assert.ok(typeof p !== "string", `check: ${p}`);
  return p;
}

function parsed(bytes: Uint8Array, pseudo: UdpPseudoHeader): UdpRepr {
  const r = parseUdp(checked(bytes), pseudo);
  assert.ok(typeof r !== "string", `parse: ${r}`);
  return r;
}

Deno.test("UdpPacket deconstructs a DNS query", () => {
  const p = checked(DNS_QUERY);
  assert.equal(p.srcPort, 1060);
  assert.equal(p.dstPort, 53);
  assert.equal(p.length, 39);
  assert.equal(p.checksum, 0x036d);
  assert.equal(p.payload.length, 31);
  assert.equal(p.payload[0], 0x18);
  assert.ok(p.verifyChecksum(DNS_QUERY_PSEUDO));
  assert.ok(checked(DNS_RESPONSE).verifyChecksum(DNS_RESPONSE_PSEUDO));
});

Deno.test("UdpPacket.payload excludes bytes past the length field", () => {
  const p = checked(PADDED_QUERY);
  assert.equal(p.length, 37);
  assert.equal(p.payload.length, 29);
  assert.ok(p.verifyChecksum(PADDED_QUERY_PSEUDO));
});

Deno.test("UdpPacket verifies the IPv6 pseudo-header checksum", () => {
  const p = checked(DHCPV6_HELLO);
  assert.ok(p.verifyChecksum(DHCPV6_PSEUDO));
  // The same bytes under the IPv4 pseudo-header do not verify.
  assert.ok(!p.verifyChecksum({ family: 4, src: 0xfe800000, dst: 0xff020000 }));
});

Deno.test("UdpPacket constructs the DNS query header field by field", () => {
  const bytes = new Uint8Array(DNS_QUERY.length);
  bytes.set(DNS_QUERY.subarray(UDP_HEADER_LEN), UDP_HEADER_LEN);
  const p = UdpPacket.unchecked(bytes);
  p.srcPort = 1060;
  p.dstPort = 53;
  p.length = 39;
  p.fillChecksum(DNS_QUERY_PSEUDO);
  assert.deepEqual(bytes, DNS_QUERY);
  p.checksum = 0x1234;
  assert.equal(p.checksum, 0x1234);
});

Deno.test("UdpPacket.fillChecksum() writes a computed 0 as 0xffff", () => {
  const bytes = new Uint8Array(COMPUTES_TO_ZERO);
  const p = UdpPacket.unchecked(bytes);
  p.checksum = 0;
  p.fillChecksum(COMPUTES_TO_ZERO_PSEUDO);
  assert.equal(p.checksum, 0xffff);
  assert.ok(p.verifyChecksum(COMPUTES_TO_ZERO_PSEUDO));
});

Deno.test("parseUdp() reads the fixtures", () => {
  assert.deepEqual(parsed(DNS_QUERY, DNS_QUERY_PSEUDO), {
    srcPort: 1060,
    dstPort: 53,
    payloadLength: 31,
  });
  assert.deepEqual(parsed(DNS_RESPONSE, DNS_RESPONSE_PSEUDO), {
    srcPort: 53,
    dstPort: 1060,
    payloadLength: 47,
  });
  assert.deepEqual(parsed(PADDED_QUERY, PADDED_QUERY_PSEUDO), {
    srcPort: 12345,
    dstPort: 53,
    payloadLength: 29,
  });
  assert.deepEqual(parsed(DHCPV6_HELLO, DHCPV6_PSEUDO), {
    srcPort: 546,
    dstPort: 547,
    payloadLength: 5,
  });
  assert.deepEqual(parsed(COMPUTES_TO_ZERO, COMPUTES_TO_ZERO_PSEUDO), {
    srcPort: 1000,
    dstPort: 2000,
    payloadLength: 2,
  });
});

Deno.test("parseUdp() rejects a bad checksum unless told not to verify", () => {
  const bytes = new Uint8Array(DNS_QUERY);
  bytes[20] = bytes[20]! ^ 0x01;
  const p = checked(bytes);
  assert.equal(parseUdp(p, DNS_QUERY_PSEUDO), "bad_checksum");
  assert.ok(typeof parseUdp(p, DNS_QUERY_PSEUDO, { verifyChecksum: false }) !== "string");
  // A wrong address in the pseudo-header fails too.
  assert.equal(
    parseUdp(checked(DNS_QUERY), { ...DNS_QUERY_PSEUDO, dst: 0x08080808 }),
    "bad_checksum",
  );
});

Deno.test("parseUdp() accepts a zero checksum over IPv4 only (RFC 768, RFC 8200 §8.1)", () => {
  const v4 = new Uint8Array(DNS_QUERY);
  v4[6] = v4[7] = 0;
  assert.ok(typeof parseUdp(checked(v4), DNS_QUERY_PSEUDO) !== "string");
  const v6 = new Uint8Array(DHCPV6_HELLO);
  v6[6] = v6[7] = 0;
  assert.equal(parseUdp(checked(v6), DHCPV6_PSEUDO), "zero_checksum");
  assert.equal(parseUdp(checked(v6), DHCPV6_PSEUDO, { verifyChecksum: false }), "zero_checksum");
});

Deno.test("emitUdp() writes the fixtures", () => {
  for (const [fixture, pseudo] of FIXTURES) {
    const repr = parsed(fixture, pseudo);
    const bytes = new Uint8Array(udpBufferLen(repr));
    bytes.set(fixture.subarray(UDP_HEADER_LEN, udpBufferLen(repr)), UDP_HEADER_LEN);
    emitUdp(repr, bytes, pseudo);
    assert.deepEqual(bytes, fixture.subarray(0, udpBufferLen(repr)));
  }
});

Deno.test("emitUdp() throws RangeError into a short buffer or past 65535 bytes", () => {
  const pseudo = DNS_QUERY_PSEUDO;
  assert.throws(
    () => emitUdp({ srcPort: 1, dstPort: 2, payloadLength: 4 }, new Uint8Array(11), pseudo),
    RangeError,
  );
  assert.throws(
    () => emitUdp({ srcPort: 1, dstPort: 2, payloadLength: 65528 }, new Uint8Array(70000), pseudo),
    RangeError,
  );
});

Deno.test("UdpPacket.check() rejects a length below 8", () => {
  const bytes = new Uint8Array(DNS_QUERY);
  bytes[4] = 0;
  bytes[5] = 7;
  assert.equal(UdpPacket.check(bytes), "bad_length");
});

Deno.test("UdpPacket.check() rejects a length beyond the bytes", () => {
  assert.equal(UdpPacket.check(DNS_QUERY.subarray(0, 38)), "bad_length");
});

Deno.test("UdpPacket.check() truncation sweep: every prefix is a drop reason, never an exception", () => {
  for (const [fixture, pseudo] of FIXTURES) {
    const length = (fixture[4]! << 8) | fixture[5]!;
    for (let n = 0; n <= fixture.length; n++) {
      const prefix = fixture.subarray(0, n);
      const p = UdpPacket.check(prefix);
      if (n < UDP_HEADER_LEN) assert.equal(p, "truncated", `prefix ${n}`);
      else if (n < length) assert.equal(p, "bad_length", `prefix ${n}`);
      else {
        assert.ok(typeof p !== "string", `prefix ${n}`);
        assert.ok(typeof parseUdp(p, pseudo) !== "string", `prefix ${n}`);
        assert.equal(p.payload.length, length - UDP_HEADER_LEN);
      }
    }
  }
});

Deno.test("UdpPacket.toString() is tcpdump -q style", () => {
  assert.equal(
    checked(DNS_QUERY).toString(DNS_QUERY_PSEUDO),
    "IP 192.168.0.114.1060 > 205.152.37.23.53: UDP, length 31",
  );
  assert.equal(
    checked(DNS_RESPONSE).toString(DNS_RESPONSE_PSEUDO),
    "IP 205.152.37.23.53 > 192.168.0.114.1060: UDP, length 47",
  );
  assert.equal(
    checked(DHCPV6_HELLO).toString(DHCPV6_PSEUDO),
    "IP6 fe80::1.546 > ff02::1:2.547: UDP, length 5",
  );
  assert.equal(checked(DNS_QUERY).toString(), "1060 > 53: UDP, length 31");
  assert.equal(String(checked(DNS_QUERY)), "1060 > 53: UDP, length 31");
  assert.equal(
    UdpPacket.unchecked(DNS_QUERY.subarray(0, 20)).toString(),
    "1060 > 53: UDP, bad length 39 > 20",
  );
  assert.equal(
    formatUdpRepr(parsed(DNS_QUERY, DNS_QUERY_PSEUDO), DNS_QUERY_PSEUDO),
    checked(DNS_QUERY).toString(DNS_QUERY_PSEUDO),
  );
});

Deno.test("udpChecksum() agrees with a naive byte-pair sum", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffff }), (b, ps) => {
      let s = ps;
      for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
      while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
      const expect = (~s & 0xffff) === 0 ? 0xffff : ~s & 0xffff;
      assert.equal(udpChecksum(b, ps), expect);
    }),
  );
});

const arbPseudo: fc.Arbitrary<UdpPseudoHeader> = fc.oneof(
  fc.record({
    family: fc.constant(4 as const),
    src: fc.integer({ min: 0, max: 0xffffffff }),
    dst: fc.integer({ min: 0, max: 0xffffffff }),
  }),
  fc.record({
    family: fc.constant(6 as const),
    src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  }),
);

Deno.test("parseUdp(emitUdp(repr)) equals repr", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.uint8Array({ maxLength: 1500 }),
      fc.nat(7),
      arbPseudo,
      (srcPort, dstPort, payload, offset, pseudo) => {
        const repr: UdpRepr = { srcPort, dstPort, payloadLength: payload.length };
        // At an arbitrary (odd or even) offset in a larger buffer.
        const buf = new Uint8Array(offset + udpBufferLen(repr) + 3);
        const bytes = buf.subarray(offset);
        bytes.set(payload, UDP_HEADER_LEN);
        emitUdp(repr, bytes, pseudo);
        const p = checked(bytes);
        assert.notEqual(p.checksum, 0);
        assert.deepEqual(parseUdp(p, pseudo), repr);
        assert.deepEqual(p.payload, payload);
      },
    ),
  );
});

Deno.test("UdpPacket.check() and parseUdp() never throw on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), arbPseudo, (bytes, pseudo) => {
      const p = UdpPacket.check(bytes);
      if (typeof p === "string") return;
      const r = parseUdp(p, pseudo);
      if (typeof r !== "string") {
        assert.ok(r.payloadLength + UDP_HEADER_LEN <= bytes.length);
        assert.equal(p.payload.length, r.payloadLength);
      }
      p.toString(pseudo);
    }),
  );
});

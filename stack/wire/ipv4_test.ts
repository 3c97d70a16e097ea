import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { internetChecksum } from "./checksum.ts";
import {
  emitIpv4,
  formatIpv4Repr,
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_IGMP,
  IP_PROTOCOL_UDP,
  IPV4_HEADER_LEN,
  IPV4_OPTION_ROUTER_ALERT,
  ipv4HeaderLength,
  Ipv4Packet,
  type Ipv4ParsedRepr,
  type Ipv4Repr,
  parseIpv4,
  readIpv4Option,
} from "./ipv4.ts";

// shared/pcaps/icmp_echo.pcapng frame 1, IPv4 datagram (60 bytes):
// 192.168.100.138 > 192.168.100.1, ICMP echo request, ttl 128, id 0xfefd.
// deno-fmt-ignore
const ICMP_ECHO = new Uint8Array([
  0x45, 0x00, // version 4, IHL 5, DSCP 0, ECN 0
  0x00, 0x3c, // total length 60
  0xfe, 0xfd, // identification
  0x00, 0x00, // flags none, offset 0
  0x80, 0x01, // TTL 128, protocol ICMP
  0xf1, 0xe6, // checksum
  0xc0, 0xa8, 0x64, 0x8a, // src 192.168.100.138
  0xc0, 0xa8, 0x64, 0x01, // dst 192.168.100.1
  0x08, 0x00, 0x14, 0x5c, 0x05, 0x00, 0x34, 0x00, // ICMP echo request header
  0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70,
  0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
]);

// shared/pcaps/IGMP_V2.pcap frame 2, IPv4 datagram (32 bytes) with Router Alert:
// 192.168.1.64 > 239.255.255.250, IGMPv2 report.
// deno-fmt-ignore
const IGMP_ROUTER_ALERT = new Uint8Array([
  0x46, 0x00, // version 4, IHL 6 (24-byte header)
  0x00, 0x20, // total length 32
  0x8c, 0x62, // identification
  0x00, 0x00, // flags none
  0x01, 0x02, // TTL 1, protocol IGMP
  0xe6, 0x92, // checksum
  0xc0, 0xa8, 0x01, 0x40, // src 192.168.1.64
  0xef, 0xff, 0xff, 0xfa, // dst 239.255.255.250
  0x94, 0x04, 0x00, 0x00, // option: Router Alert (148), length 4, value 0
  0x16, 0x00, 0xfa, 0x04, 0xef, 0xff, 0xff, 0xfa, // IGMPv2 membership report
]);

// shared/pcaps/IGMP_V2.pcap frame 1, Ethernet payload (46 bytes): a 28-byte
// datagram (192.168.1.2 > 224.0.0.1, IGMP query) and 18 bytes of Ethernet padding.
// deno-fmt-ignore
const IGMP_PADDED = new Uint8Array([
  0x45, 0x00, 0x00, 0x1c, 0x65, 0x51, 0x00, 0x00, 0x01, 0x02, 0xb2, 0xe3, // total length 28
  0xc0, 0xa8, 0x01, 0x02, 0xe0, 0x00, 0x00, 0x01, // 192.168.1.2 > 224.0.0.1
  0x11, 0x64, 0xee, 0x9b, 0x00, 0x00, 0x00, 0x00, // IGMP general query
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // padding
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
]);

// shared/pcaps/ip_frag_source.pcapng frame 5, the IPv4 header only (the
// datagram is 1500 bytes): middle fragment of an echo reply.
// deno-fmt-ignore
const FRAGMENT_HEADER = new Uint8Array([
  0x45, 0x00, 0x05, 0xdc, // total length 1500
  0x07, 0xf8, // identification 2040
  0x20, 0xb9, // MF, offset 185 * 8 = 1480
  0x7f, 0x01, 0x42, 0x3b, // TTL 127, ICMP, checksum
  0xc0, 0xa8, 0x00, 0x80, // src 192.168.0.128
  0x0a, 0x0a, 0x00, 0x03, // dst 10.10.0.3
]);

// ip_frag_source.pcapng frame 3, header only: last fragment sent with checksum
// offload, so the checksum field is 0.
// deno-fmt-ignore
const OFFLOADED_HEADER = new Uint8Array([
  0x45, 0x00, 0x02, 0x38, 0x74, 0x74, 0x01, 0x72, // total length 568, offset 370 * 8 = 2960
  0x80, 0x01, 0x00, 0x00, // TTL 128, ICMP, checksum 0
  0x0a, 0x0a, 0x00, 0x03, 0xc0, 0xa8, 0x00, 0x80, // 10.10.0.3 > 192.168.0.128
]);

// shared/pcaps/LINKTYPE_IPV4.pcap frame 1 (57 bytes): UDP DNS query
// 192.168.1.100.12345 > 9.9.9.9.53.
// deno-fmt-ignore
const UDP_DNS = new Uint8Array([
  0x45, 0x00, 0x00, 0x39, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xa6, 0x95,
  0xc0, 0xa8, 0x01, 0x64, 0x09, 0x09, 0x09, 0x09,
  0x30, 0x39, 0x00, 0x35, 0x00, 0x25, 0x19, 0x76, // UDP header
  0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61,
  0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
]);

// shared/pcaps/ipv4_invalid_total_length.pcap frame 1, Ethernet payload (84
// bytes) of a datagram whose total length says 85.
// deno-fmt-ignore
const INVALID_TOTAL_LENGTH = new Uint8Array([
  0x45, 0x00, 0x00, 0x55, 0xf1, 0xa6, 0x00, 0x00, 0x40, 0x11, 0x45, 0x93, // total length 85
  0x8c, 0xd3, 0x09, 0xce, 0x2d, 0x21, 0x7f, 0x9c,
  0x98, 0xb7, 0x00, 0x35, 0x00, 0x40, 0x6e, 0xcb, 0x92, 0xaa, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x01, 0x03, 0x77, 0x77, 0x77, 0x07, 0x74, 0x63, 0x70, 0x64, 0x75, 0x6d, 0x70,
  0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08, 0x8b, 0xc0, 0xe5, 0xf5, 0x3e, 0x71, 0x3b, 0xbd,
]);

// shared/pcaps/ip4-trunc.pcap frame 1: caplen 20, so 6 bytes of IPv4 header.
const IP4_TRUNC = new Uint8Array([0x45, 0x00, 0x00, 0x20, 0x00, 0x01]);

const VALID = [ICMP_ECHO, IGMP_ROUTER_ALERT, IGMP_PADDED, UDP_DNS];

function checked(bytes: Uint8Array): Ipv4Packet {
  const p = Ipv4Packet.check(bytes);
  assert.ok(typeof p !== "string", `check: ${p}`);
  return p;
}

function parsed(p: Ipv4Packet, verifyChecksum = true): Ipv4ParsedRepr {
  const r = parseIpv4(p, { verifyChecksum });
  assert.ok(typeof r !== "string", `parse: ${r}`);
  return r;
}

Deno.test("Ipv4Packet deconstructs an ICMP echo datagram", () => {
  const p = checked(ICMP_ECHO);
  assert.equal(p.version, 4);
  assert.equal(p.ihl, 5);
  assert.equal(p.headerLength, 20);
  assert.equal(p.dscp, 0);
  assert.equal(p.ecn, 0);
  assert.equal(p.totalLength, 60);
  assert.equal(p.identification, 0xfefd);
  assert.ok(!p.dontFragment);
  assert.ok(!p.moreFragments);
  assert.equal(p.fragmentOffset, 0);
  assert.ok(!p.isFragment);
  assert.equal(p.ttl, 128);
  assert.equal(p.protocol, IP_PROTOCOL_ICMP);
  assert.equal(p.checksum, 0xf1e6);
  assert.equal(p.src, 0xc0a8648a);
  assert.equal(p.dst, 0xc0a86401);
  assert.equal(p.options.length, 0);
  assert.equal(p.payload.length, 40);
  assert.equal(p.payload[0], 0x08);
  assert.ok(p.verifyChecksum());
});

Deno.test("Ipv4Packet deconstructs a header with a Router Alert option", () => {
  const p = checked(IGMP_ROUTER_ALERT);
  assert.equal(p.ihl, 6);
  assert.equal(p.headerLength, 24);
  assert.deepEqual([...p.options], [0x94, 0x04, 0x00, 0x00]);
  assert.equal(p.protocol, IP_PROTOCOL_IGMP);
  assert.deepEqual([...p.payload], [0x16, 0x00, 0xfa, 0x04, 0xef, 0xff, 0xff, 0xfa]);
  assert.ok(p.verifyChecksum());
  const ra = readIpv4Option(p.options, 0);
  assert.ok(typeof ra !== "string");
  assert.equal(ra.type, IPV4_OPTION_ROUTER_ALERT);
  assert.deepEqual([...ra.data], [0, 0]);
  assert.equal(readIpv4Option(p.options, ra.next), "end");
});

Deno.test("Ipv4Packet.payload excludes Ethernet padding", () => {
  const p = checked(IGMP_PADDED);
  assert.equal(p.bytes.length, 46);
  assert.equal(p.totalLength, 28);
  assert.equal(p.payload.length, 8);
  assert.equal(p.payload[0], 0x11);
});

Deno.test("Ipv4Packet deconstructs fragment fields", () => {
  const p = Ipv4Packet.unchecked(FRAGMENT_HEADER);
  assert.equal(p.identification, 2040);
  assert.ok(p.moreFragments);
  assert.ok(!p.dontFragment);
  assert.equal(p.fragmentOffset, 1480);
  assert.ok(p.isFragment);
  assert.ok(p.verifyChecksum());
  const last = Ipv4Packet.unchecked(OFFLOADED_HEADER);
  assert.ok(!last.moreFragments);
  assert.equal(last.fragmentOffset, 2960);
  assert.ok(last.isFragment);
  assert.equal(last.checksum, 0);
  assert.ok(!last.verifyChecksum());
});

Deno.test("Ipv4Packet constructs the ICMP echo header field by field", () => {
  const bytes = new Uint8Array(ICMP_ECHO.length);
  const p = Ipv4Packet.unchecked(bytes);
  p.version = 4;
  p.ihl = 5;
  p.dscp = 0;
  p.ecn = 0;
  p.totalLength = 60;
  p.identification = 0xfefd;
  p.ttl = 128;
  p.protocol = IP_PROTOCOL_ICMP;
  p.src = 0xc0a8648a;
  p.dst = 0xc0a86401;
  p.fillChecksum();
  p.payload.set(ICMP_ECHO.subarray(20));
  assert.deepEqual(bytes, ICMP_ECHO);
});

Deno.test("Ipv4Packet constructs a fragment header and an options header", () => {
  const frag = new Uint8Array(IPV4_HEADER_LEN);
  const p = Ipv4Packet.unchecked(frag);
  p.headerLength = 20;
  p.version = 4;
  p.totalLength = 1500;
  p.identification = 2040;
  p.moreFragments = true;
  p.fragmentOffset = 1480;
  p.ttl = 127;
  p.protocol = IP_PROTOCOL_ICMP;
  p.src = 0xc0a80080;
  p.dst = 0x0a0a0003;
  p.fillChecksum();
  assert.deepEqual(frag, FRAGMENT_HEADER);
  p.moreFragments = false;
  p.dontFragment = true;
  assert.ok(p.dontFragment && !p.moreFragments && p.fragmentOffset === 1480);

  const ra = new Uint8Array(IGMP_ROUTER_ALERT.length);
  const q = Ipv4Packet.unchecked(ra);
  q.version = 4;
  q.ihl = 6;
  q.totalLength = 32;
  q.identification = 0x8c62;
  q.ttl = 1;
  q.protocol = IP_PROTOCOL_IGMP;
  q.src = 0xc0a80140;
  q.dst = 0xeffffffa;
  q.options.set([0x94, 0x04, 0x00, 0x00]);
  q.fillChecksum();
  q.payload.set(IGMP_ROUTER_ALERT.subarray(24));
  assert.deepEqual(ra, IGMP_ROUTER_ALERT);
});

Deno.test("Ipv4Packet setters keep neighbouring bits", () => {
  const p = Ipv4Packet.unchecked(new Uint8Array(20));
  p.version = 4;
  p.ihl = 15;
  p.dscp = 0x2e; // EF
  p.ecn = 3;
  assert.deepEqual([p.version, p.ihl, p.dscp, p.ecn], [4, 15, 0x2e, 3]);
  p.ecn = 1;
  p.ihl = 5;
  assert.deepEqual([p.version, p.ihl, p.dscp, p.ecn], [4, 5, 0x2e, 1]);
});

Deno.test("parseIpv4() reads the fixtures", () => {
  assert.deepEqual(parsed(checked(ICMP_ECHO)), {
    src: 0xc0a8648a,
    dst: 0xc0a86401,
    protocol: IP_PROTOCOL_ICMP,
    ttl: 128,
    payloadLength: 40,
    identification: 0xfefd,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    dscp: 0,
    ecn: 0,
  });
  assert.deepEqual(parsed(checked(IGMP_ROUTER_ALERT)), {
    src: 0xc0a80140,
    dst: 0xeffffffa,
    protocol: IP_PROTOCOL_IGMP,
    ttl: 1,
    payloadLength: 8,
    identification: 0x8c62,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    dscp: 0,
    ecn: 0,
    options: new Uint8Array([0x94, 0x04, 0x00, 0x00]),
  });
  const dns = parsed(checked(UDP_DNS));
  assert.equal(dns.protocol, IP_PROTOCOL_UDP);
  assert.equal(dns.payloadLength, 37);
  const frag = parsed(Ipv4Packet.unchecked(FRAGMENT_HEADER));
  assert.equal(frag.payloadLength, 1480);
  assert.ok(frag.moreFragments);
  assert.equal(frag.fragmentOffset, 1480);
});

Deno.test("parseIpv4() rejects a bad checksum unless told not to verify", () => {
  const p = Ipv4Packet.unchecked(OFFLOADED_HEADER);
  assert.equal(parseIpv4(p), "bad_checksum");
  assert.equal(parseIpv4(p, {}), "bad_checksum");
  const r = parsed(p, false);
  assert.equal(r.fragmentOffset, 2960);
  assert.equal(r.payloadLength, 548);
  const flipped = new Uint8Array(ICMP_ECHO);
  flipped[15] = flipped[15]! ^ 1;
  assert.equal(parseIpv4(checked(flipped)), "bad_checksum");
});

Deno.test("emitIpv4() writes the fixture headers", () => {
  for (const fixture of [ICMP_ECHO, IGMP_ROUTER_ALERT, IGMP_PADDED, UDP_DNS, FRAGMENT_HEADER]) {
    const p = Ipv4Packet.unchecked(fixture);
    const repr = parsed(p);
    const bytes = new Uint8Array(ipv4HeaderLength(repr));
    emitIpv4(repr, bytes);
    assert.deepEqual(bytes, fixture.subarray(0, p.headerLength));
  }
});

Deno.test("emitIpv4() fills defaults and pads options", () => {
  const bytes = new Uint8Array(24).fill(0xaa);
  const repr: Ipv4Repr = {
    src: 0x0a000001,
    dst: 0xe0000016,
    protocol: IP_PROTOCOL_IGMP,
    ttl: 1,
    payloadLength: 8,
    options: new Uint8Array([1, 1]),
  };
  emitIpv4(repr, bytes);
  const p = Ipv4Packet.unchecked(bytes);
  assert.equal(p.headerLength, 24);
  assert.equal(p.totalLength, 32);
  assert.deepEqual([...p.options], [1, 1, 0, 0]);
  assert.equal(p.identification, 0);
  assert.ok(!p.dontFragment && !p.moreFragments);
  assert.ok(p.verifyChecksum());
  assert.equal(internetChecksum(bytes), 0);
});

Deno.test("emitIpv4() throws RangeError for oversized options or a short buffer", () => {
  const repr = { src: 0, dst: 0, protocol: 0, ttl: 0, payloadLength: 0 };
  assert.throws(() => ipv4HeaderLength({ ...repr, options: new Uint8Array(41) }), RangeError);
  assert.equal(ipv4HeaderLength({ ...repr, options: new Uint8Array(40) }), 60);
  assert.throws(() => emitIpv4(repr, new Uint8Array(19)), RangeError);
});

Deno.test("Ipv4Packet.check() rejects IHL below 5", () => {
  for (let ihl = 0; ihl < 5; ihl++) {
    const bytes = new Uint8Array(ICMP_ECHO);
    bytes[0] = 0x40 | ihl;
    assert.equal(Ipv4Packet.check(bytes), "bad_header_length");
  }
});

Deno.test("Ipv4Packet.check() rejects a version other than 4", () => {
  for (const v of [0, 6, 15]) {
    const bytes = new Uint8Array(ICMP_ECHO);
    bytes[0] = (v << 4) | 5;
    assert.equal(Ipv4Packet.check(bytes), "bad_version");
  }
});

Deno.test("Ipv4Packet.check() rejects a header longer than the bytes", () => {
  const bytes = new Uint8Array(ICMP_ECHO.subarray(0, 40));
  bytes[0] = 0x4f; // 60-byte header
  assert.equal(Ipv4Packet.check(bytes), "truncated");
});

Deno.test("Ipv4Packet.check() rejects a total length beyond the bytes", () => {
  assert.equal(Ipv4Packet.check(INVALID_TOTAL_LENGTH), "bad_total_length");
});

Deno.test("Ipv4Packet.check() rejects a total length below the header length", () => {
  const bytes = new Uint8Array(IGMP_ROUTER_ALERT);
  bytes[3] = 23; // header is 24
  assert.equal(Ipv4Packet.check(bytes), "bad_total_length");
  bytes[3] = 24; // an empty payload is fine
  assert.equal(checked(bytes).payload.length, 0);
});

Deno.test("Ipv4Packet.check() rejects the ip4-trunc capture", () => {
  assert.equal(Ipv4Packet.check(IP4_TRUNC), "truncated");
});

Deno.test("Ipv4Packet.check() truncation sweep: every prefix is a drop reason, never an exception", () => {
  for (const fixture of VALID) {
    const total = checked(fixture).totalLength;
    for (let n = 0; n < fixture.length; n++) {
      const p = Ipv4Packet.check(fixture.subarray(0, n));
      if (n >= total) {
        // Only padding is missing: still a valid datagram.
        assert.ok(typeof p !== "string");
        assert.ok(typeof parseIpv4(p) !== "string");
        continue;
      }
      assert.ok(typeof p === "string", `prefix ${n}`);
      assert.ok(p === "truncated" || p === "bad_total_length", `prefix ${n}: ${p}`);
    }
  }
});

Deno.test("readIpv4Option() walks NOPs and stops at end of list", () => {
  const opts = new Uint8Array([1, 1, 0x83, 7, 4, 1, 2, 3, 4, 0, 0xff, 0xff]);
  const a = readIpv4Option(opts, 0);
  assert.ok(typeof a !== "string" && a.type === 1 && a.data.length === 0 && a.next === 1);
  const c = readIpv4Option(opts, 2);
  assert.ok(typeof c !== "string");
  assert.equal(c.type, 0x83); // loose source route
  assert.deepEqual([...c.data], [4, 1, 2, 3, 4]);
  assert.equal(c.next, 9);
  assert.equal(readIpv4Option(opts, 9), "end");
  assert.equal(readIpv4Option(opts, 12), "end");
  assert.equal(readIpv4Option(opts, -1), "end");
});

Deno.test("readIpv4Option() rejects malformed lengths", () => {
  assert.equal(readIpv4Option(new Uint8Array([0x94]), 0), "bad_option"); // no length octet
  assert.equal(readIpv4Option(new Uint8Array([0x94, 1, 0, 0]), 0), "bad_option"); // length < 2
  assert.equal(readIpv4Option(new Uint8Array([0x94, 0, 0, 0]), 0), "bad_option");
  assert.equal(readIpv4Option(new Uint8Array([0x94, 5, 0, 0]), 0), "bad_option"); // past the end
  const ok = readIpv4Option(new Uint8Array([0x94, 2]), 0);
  assert.ok(typeof ok !== "string" && ok.data.length === 0 && ok.next === 2);
});

Deno.test("Ipv4Packet.toString() prints addresses, protocol, length, TTL, id and flags", () => {
  assert.equal(
    checked(ICMP_ECHO).toString(),
    "IP 192.168.100.138 > 192.168.100.1: proto 1 len 60 ttl 128 id 65277",
  );
  assert.equal(
    checked(IGMP_ROUTER_ALERT).toString(),
    "IP 192.168.1.64 > 239.255.255.250: proto 2 len 32 ttl 1 id 35938 optlen 4",
  );
  assert.equal(
    Ipv4Packet.unchecked(FRAGMENT_HEADER).toString(),
    "IP 192.168.0.128 > 10.10.0.3: proto 1 len 1500 ttl 127 id 2040 [MF] offset 1480",
  );
  const df = new Uint8Array(ICMP_ECHO);
  df[6] = 0x60;
  assert.ok(Ipv4Packet.unchecked(df).toString().endsWith("id 65277 [DF,MF]"));
  assert.equal(formatIpv4Repr(parsed(checked(ICMP_ECHO))), checked(ICMP_ECHO).toString());
  assert.equal(
    formatIpv4Repr(parsed(checked(IGMP_ROUTER_ALERT))),
    checked(IGMP_ROUTER_ALERT).toString(),
  );
});

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const arbParsedRepr: fc.Arbitrary<Ipv4ParsedRepr> = fc
  .record({
    src: u32,
    dst: u32,
    protocol: u8,
    ttl: u8,
    payloadLength: fc.integer({ min: 0, max: 0xffff - 60 }),
    identification: u16,
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((n) => n * 8),
    dscp: fc.integer({ min: 0, max: 63 }),
    ecn: fc.integer({ min: 0, max: 3 }),
    options: fc.option(
      fc.integer({ min: 1, max: 10 }).chain((words) =>
        fc.uint8Array({ minLength: 4 * words, maxLength: 4 * words })
      ),
      { nil: undefined },
    ),
  })
  .map(({ options, ...rest }) => (options === undefined ? rest : { ...rest, options }));

Deno.test("parseIpv4(emitIpv4(repr)) equals repr", () => {
  fc.assert(
    fc.property(arbParsedRepr, (repr) => {
      const headerLength = ipv4HeaderLength(repr);
      const bytes = new Uint8Array(headerLength + repr.payloadLength);
      emitIpv4(repr, bytes);
      const p = checked(bytes);
      assert.equal(p.headerLength, headerLength);
      assert.equal(internetChecksum(bytes.subarray(0, headerLength)), 0);
      assert.deepEqual(parsed(p), repr);
    }),
    { numRuns: 300 },
  );
});

Deno.test("Ipv4Packet.verifyChecksum() agrees with internetChecksum()", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 5, max: 15 }),
      fc.uint8Array({ minLength: 60, maxLength: 60 }),
      (ihl, b) => {
        b[0] = 0x40 | ihl;
        const p = Ipv4Packet.unchecked(b);
        assert.equal(p.verifyChecksum(), internetChecksum(b.subarray(0, 4 * ihl)) === 0);
        p.fillChecksum();
        assert.equal(internetChecksum(b.subarray(0, 4 * ihl)), 0);
      },
    ),
  );
});

Deno.test("Ipv4Packet.check() and parseIpv4() never throw on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (bytes, v4) => {
      if (v4 && bytes.length > 0) bytes[0] = 0x40 | (bytes[0]! & 0x0f);
      const p = Ipv4Packet.check(bytes);
      if (typeof p === "string") return;
      assert.ok(p.payload.length === p.totalLength - p.headerLength);
      parseIpv4(p);
      parseIpv4(p, { verifyChecksum: false });
      p.toString();
      for (
        let o = readIpv4Option(p.options, 0);
        typeof o !== "string";
        o = readIpv4Option(p.options, o.next)
      ) {
        assert.ok(o.next <= p.options.length);
      }
    }),
    { numRuns: 1000 },
  );
});

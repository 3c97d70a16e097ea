import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { emitEthernet, ETHERTYPE_IPV4 } from "./ethernet.ts";
import { emitIcmpv4 } from "./icmpv4.ts";
import { emitIpv4, IP_PROTOCOL_ICMP } from "./ipv4.ts";
import { describeFrame } from "./pretty.ts";

// Expected lines are `tcpdump -n -r FILE` output (tcpdump 4.99) without the
// timestamp, except where a comment says the format is ours.

// shared/pcaps/arp_resolution.pcapng frame 1 (42 bytes).
// deno-fmt-ignore
const ARP_REQUEST_FRAME = new Uint8Array([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0x08, 0x06, // Ethernet
  0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // ARP request
  0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0x00, 0x72, // sender 192.168.0.114
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, // target 192.168.0.1
]);

// arp_resolution.pcapng frame 2 (46 bytes: 4 trailer bytes after the ARP packet).
// deno-fmt-ignore
const ARP_REPLY_FRAME = new Uint8Array([
  0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0x00, 0x13, 0x46, 0x0b, 0x22, 0xba, 0x08, 0x06, // Ethernet
  0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, // ARP reply
  0x00, 0x13, 0x46, 0x0b, 0x22, 0xba, 0xc0, 0xa8, 0x00, 0x01, // sender 192.168.0.1
  0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0x00, 0x72, // target 192.168.0.114
  0xc0, 0xa8, 0x00, 0x72, // trailer
]);

// shared/pcaps/icmp_echo.pcapng frame 1 (74 bytes).
// deno-fmt-ignore
const ECHO_REQUEST_FRAME = new Uint8Array([
  0x00, 0x12, 0x80, 0x4b, 0xc0, 0x7f, 0x00, 0x16, 0xd4, 0xb8, 0x59, 0xb1, 0x08, 0x00, // Ethernet
  0x45, 0x00, 0x00, 0x3c, 0xfe, 0xfd, 0x00, 0x00, 0x80, 0x01, 0xf1, 0xe6, // IPv4
  0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 0x01,
  0x08, 0x00, 0x14, 0x5c, 0x05, 0x00, 0x34, 0x00, // ICMP echo request
  0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70,
  0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
]);

// shared/pcaps/icmp_traceroute.pcapng, first time exceeded (70 bytes).
// deno-fmt-ignore
const TIME_EXCEEDED_FRAME = new Uint8Array([
  0x00, 0x16, 0xd4, 0xb8, 0x59, 0xb1, 0x00, 0x12, 0x80, 0x4b, 0xc0, 0x7f, 0x08, 0x00, // Ethernet
  0x45, 0xc0, 0x00, 0x38, 0x49, 0x1a, 0x00, 0x00, 0xff, 0x01, 0x28, 0x0e, // IPv4
  0xc0, 0xa8, 0x64, 0x01, 0xc0, 0xa8, 0x64, 0x8a,
  0x0b, 0x00, 0xf4, 0xff, 0x00, 0x00, 0x00, 0x00, // ICMP time exceeded
  0x45, 0x00, 0x00, 0x5c, 0xff, 0x51, 0x00, 0x00, 0x01, 0x01, 0x8f, 0x1a, // quoted IPv4
  0xc0, 0xa8, 0x64, 0x8a, 0x04, 0x02, 0x02, 0x01,
  0x08, 0x00, 0xba, 0xff, 0x05, 0x00, 0x38, 0x00, // quoted ICMP
]);

// shared/pcaps/ip4-trunc.pcap frame 1: caplen 20 of a 46-byte frame.
// deno-fmt-ignore
const IP4_TRUNC_FRAME = new Uint8Array([
  0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef, 0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0, 0x08, 0x00,
  0x45, 0x00, 0x00, 0x20, 0x00, 0x01,
]);

// shared/pcaps/LINKTYPE_IPV4.pcap frame 1 (57 bytes, link type 228): UDP DNS query.
// deno-fmt-ignore
const RAW_UDP = new Uint8Array([
  0x45, 0x00, 0x00, 0x39, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xa6, 0x95,
  0xc0, 0xa8, 0x01, 0x64, 0x09, 0x09, 0x09, 0x09,
  0x30, 0x39, 0x00, 0x35, 0x00, 0x25, 0x19, 0x76,
  0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61,
  0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
]);

/** A copy of `bytes` with `protocol` in the IPv4 header at `ipOffset`. */
function withProtocol(bytes: Uint8Array, ipOffset: number, protocol: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[ipOffset + 9] = protocol;
  return out;
}

/** An Ethernet + IPv4 frame carrying `payload`, built with the emitters. */
function ipv4Frame(
  fields: {
    protocol: number;
    moreFragments?: boolean;
    fragmentOffset?: number;
    identification?: number;
  },
  payload: Uint8Array,
): Uint8Array {
  const frame = new Uint8Array(14 + 20 + payload.length);
  const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
  emitEthernet({ src: mac, dst: mac, etherType: ETHERTYPE_IPV4 }, frame);
  emitIpv4(
    { src: 0x0a000001, dst: 0x0a000002, ttl: 64, payloadLength: payload.length, ...fields },
    frame.subarray(14),
  );
  frame.set(payload, 34);
  return frame;
}

Deno.test("describeFrame() prints ARP like tcpdump", () => {
  assert.equal(
    describeFrame(ARP_REQUEST_FRAME, 1),
    "ARP, Request who-has 192.168.0.1 tell 192.168.0.114, length 28",
  );
  assert.equal(
    describeFrame(ARP_REPLY_FRAME, 1),
    "ARP, Reply 192.168.0.1 is-at 00:13:46:0b:22:ba, length 32",
  );
});

Deno.test("describeFrame() prints ICMP over IPv4 like tcpdump", () => {
  assert.equal(
    describeFrame(ECHO_REQUEST_FRAME, 1),
    "IP 192.168.100.138 > 192.168.100.1: ICMP echo request, id 1280, seq 13312, length 40",
  );
  assert.equal(
    describeFrame(TIME_EXCEEDED_FRAME, 1),
    "IP 192.168.100.1 > 192.168.100.138: ICMP time exceeded in-transit, length 36",
  );
});

Deno.test("describeFrame() prints the link header with { link: true }", () => {
  assert.equal(
    describeFrame(ARP_REQUEST_FRAME, 1, { link: true }),
    "00:16:ce:6e:8b:24 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: " +
      "ARP, Request who-has 192.168.0.1 tell 192.168.0.114, length 28",
  );
});

Deno.test("describeFrame() shows VLAN tags as vlan N", () => {
  // Crafted: the ARP request with an 802.1Q tag, VID 5.
  const tagged = new Uint8Array(ARP_REQUEST_FRAME.length + 4);
  tagged.set(ARP_REQUEST_FRAME.subarray(0, 12));
  tagged.set([0x81, 0x00, 0x00, 0x05], 12);
  tagged.set(ARP_REQUEST_FRAME.subarray(12), 16);
  assert.equal(
    describeFrame(tagged, 1),
    "vlan 5, ARP, Request who-has 192.168.0.1 tell 192.168.0.114, length 28",
  );
  // Crafted: QinQ, S-tag 100, C-tag 5.
  const qinq = new Uint8Array(tagged.length + 4);
  qinq.set(tagged.subarray(0, 12));
  qinq.set([0x88, 0xa8, 0x00, 0x64], 12);
  qinq.set(tagged.subarray(12), 16);
  assert.equal(
    describeFrame(qinq, 1),
    "vlan 100, vlan 5, ARP, Request who-has 192.168.0.1 tell 192.168.0.114, length 28",
  );
  assert.match(describeFrame(qinq, 1, { link: true }), /vlan 100, p 0, vlan 5, p 0, ethertype ARP/);
});

Deno.test("describeFrame() prints an unknown IP protocol as proto N", () => {
  assert.equal(
    describeFrame(withProtocol(ECHO_REQUEST_FRAME, 14, 253), 1),
    "IP 192.168.100.138 > 192.168.100.1: proto 253, length 40",
  );
});

Deno.test("describeFrame() prints an unknown EtherType with its number", () => {
  const lldp = new Uint8Array(ARP_REQUEST_FRAME);
  lldp.set([0x88, 0xcc], 12);
  assert.equal(describeFrame(lldp, 1), "ethertype Unknown (0x88cc), length 28");
});

Deno.test("describeFrame() decodes raw IP link types from the IP header", () => {
  const dns = withProtocol(RAW_UDP, 0, 253);
  const expected = "IP 192.168.1.100 > 9.9.9.9: proto 253, length 37";
  assert.equal(describeFrame(dns, 228), expected);
  assert.equal(describeFrame(dns, 101), expected);
  assert.equal(
    describeFrame(ECHO_REQUEST_FRAME.subarray(14), 101),
    describeFrame(ECHO_REQUEST_FRAME, 1),
  );
  const v6 = new Uint8Array(40);
  v6[0] = 0x60;
  assert.equal(describeFrame(v6, 101), describeFrame(v6, 229));
  assert.equal(describeFrame(new Uint8Array([0x50, 0, 0]), 101), "IP [bad_version 5], length 3");
  assert.equal(describeFrame(new Uint8Array(0), 101), "[|ip]");
});

Deno.test("describeFrame() names an unknown link type", () => {
  assert.equal(describeFrame(new Uint8Array(3), 147), "linktype 147, length 3");
});

Deno.test("describeFrame() marks fragments (our format: frag id:size@offset+)", () => {
  const icmp = new Uint8Array(16);
  emitIcmpv4({
    kind: "echo",
    type: 8,
    code: 0,
    identifier: 1,
    sequence: 57,
    data: new Uint8Array(8),
  }, icmp);
  assert.equal(
    describeFrame(
      ipv4Frame({ protocol: IP_PROTOCOL_ICMP, moreFragments: true, identification: 7 }, icmp),
      1,
    ),
    "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 57, length 16 (frag 7:16@0+)",
  );
  assert.equal(
    describeFrame(
      ipv4Frame(
        { protocol: IP_PROTOCOL_ICMP, fragmentOffset: 1480, identification: 7 },
        new Uint8Array(24),
      ),
      1,
    ),
    "IP 10.0.0.1 > 10.0.0.2: proto 1, length 24 (frag 7:24@1480)",
  );
});

Deno.test("describeFrame() prints truncation markers instead of throwing", () => {
  assert.equal(describeFrame(ARP_REQUEST_FRAME.subarray(0, 13), 1), "[|ether]");
  assert.equal(describeFrame(ARP_REQUEST_FRAME.subarray(0, 30), 1), "ARP, [|ARP]");
  assert.equal(describeFrame(IP4_TRUNC_FRAME, 1), "IP [|ip]"); // tcpdump: "IP  [|ip]"
  const longHeader = new Uint8Array(ECHO_REQUEST_FRAME.subarray(0, 50));
  longHeader[14] = 0x4f; // IHL 15: 60 bytes, only 36 present
  assert.equal(describeFrame(longHeader, 1), "IP 192.168.100.138 > 192.168.100.1: [|ip]");
  assert.equal(
    describeFrame(ipv4Frame({ protocol: IP_PROTOCOL_ICMP }, new Uint8Array(5)), 1),
    "IP 10.0.0.1 > 10.0.0.2: [|icmp]",
  );
});

Deno.test("describeFrame() reports a total length beyond the capture like tcpdump", () => {
  // As in ipv4_invalid_total_length.pcap (total length 85, 84 bytes
  // present): tcpdump warns, then decodes what is there.
  const short = ECHO_REQUEST_FRAME.subarray(0, 73);
  assert.equal(
    describeFrame(short, 1),
    "IP truncated-ip - 1 bytes missing! 192.168.100.138 > 192.168.100.1: " +
      "ICMP echo request, id 1280, seq 13312, length 39",
  );
});

Deno.test("describeFrame() decodes a frame the snapshot length cut, with originalLength", () => {
  // retransmit-fast009.pcap frame 4 style: a data segment captured to 54 bytes.
  const seg = new Uint8Array(54);
  seg.set(ECHO_REQUEST_FRAME.subarray(0, 14));
  seg.set([0x45, 0, 0x02, 0x02, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  seg.set([0xc4, 0xc0, 0, 80, 0x18, 0xb1, 0x9c, 0xbb, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff], 34);
  assert.equal(
    describeFrame(seg, 1, { originalLength: 542 }),
    "IP 10.0.0.1.50368 > 10.0.0.2.80: Flags [P.], seq 414293179:414293653, ack 1, win 65535, length 474",
  );
  assert.match(describeFrame(seg, 1), /^IP truncated-ip - 474 bytes missing! 10\.0\.0\.1\.50368/);
});

Deno.test("describeFrame() shows other IPv4 drop reasons in brackets", () => {
  const badIhl = new Uint8Array(ECHO_REQUEST_FRAME);
  badIhl[14] = 0x44;
  assert.equal(describeFrame(badIhl, 1), "IP 192.168.100.138 > 192.168.100.1: [bad_header_length]");
  const shortTotal = new Uint8Array(ECHO_REQUEST_FRAME);
  shortTotal[17] = 19;
  assert.equal(
    describeFrame(shortTotal, 1),
    "IP 192.168.100.138 > 192.168.100.1: [bad_total_length]",
  );
  const v5 = new Uint8Array(ECHO_REQUEST_FRAME);
  v5[14] = 0x55;
  assert.equal(describeFrame(v5, 1), "IP [bad_version]");
  const hw = new Uint8Array(ARP_REQUEST_FRAME);
  hw[15] = 6;
  assert.equal(describeFrame(hw, 1), "ARP, [unsupported_hardware], length 28");
});

Deno.test("describeFrame() never throws on any prefix of the fixtures", () => {
  for (
    const fixture of [ARP_REQUEST_FRAME, ARP_REPLY_FRAME, ECHO_REQUEST_FRAME, TIME_EXCEEDED_FRAME]
  ) {
    for (let n = 0; n <= fixture.length; n++) {
      for (const lt of [1, 101, 228, 229]) {
        const line = describeFrame(fixture.subarray(0, n), lt);
        assert.equal(typeof line, "string");
        assert.ok(!line.includes("\n"));
      }
    }
  }
});

Deno.test("describeFrame() never throws on arbitrary bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 120 }),
      fc.constantFrom(1, 101, 228, 229, 0, 12345),
      fc.boolean(),
      (bytes, linkType, link) => {
        const line = describeFrame(bytes, linkType, { link });
        assert.equal(typeof line, "string");
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("describeFrame() never throws on mutated real frames", () => {
  const fixtures = [ARP_REQUEST_FRAME, ARP_REPLY_FRAME, ECHO_REQUEST_FRAME, TIME_EXCEEDED_FRAME];
  fc.assert(
    fc.property(
      fc.constantFrom(...fixtures),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(),
      (fixture, edits, cut) => {
        const bytes = new Uint8Array(fixture);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        const line = describeFrame(bytes.subarray(0, cut % (bytes.length + 1)), 1, {
          link: cut % 2 === 0,
        });
        assert.equal(typeof line, "string");
      },
    ),
    { numRuns: 2000 },
  );
});

// shared/pcaps/icmpv6_neighbor_solicitation.pcapng frame 1 (86 bytes).
// deno-fmt-ignore
const NEIGHBOR_SOLICITATION_FRAME = new Uint8Array([
  0x33, 0x33, 0xff, 0x00, 0x10, 0x00, 0x00, 0x0c, 0x29, 0x2f, 0x80, 0x31, 0x86, 0xdd,
  0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, // IPv6, plen 32, ICMPv6, hlim 255
  0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0x10, 0x03,
  0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x10, 0x00,
  0x87, 0x00, 0x44, 0xb7, 0x00, 0x00, 0x00, 0x00, // neighbor solicitation
  0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0x10, 0x00,
  0x01, 0x01, 0x00, 0x0c, 0x29, 0x2f, 0x80, 0x31, // source link-address option
]);

// shared/pcaps/igmp-v3-v2-reports.pcap frame 1 (54 bytes): IGMPv3 report, Router Alert.
// deno-fmt-ignore
const IGMPV3_REPORT_FRAME = new Uint8Array([
  0x01, 0x00, 0x5e, 0x00, 0x00, 0x16, 0x50, 0xdc, 0xe7, 0xa2, 0xd8, 0x95, 0x08, 0x00,
  0x46, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x41, 0xbb,
  0xc0, 0xa8, 0x01, 0x96, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, // Router Alert
  0x22, 0x00, 0xea, 0x03, 0x00, 0x00, 0x00, 0x01, // v3 report, 1 record
  0x04, 0x00, 0x00, 0x00, 0xef, 0xff, 0xff, 0xfa,
]);

// shared/pcaps/IGMP_V2.pcap frame 6 (60 bytes, padded): group-specific query.
// deno-fmt-ignore
const IGMPV2_QUERY_FRAME = new Uint8Array([
  0x01, 0x00, 0x5e, 0x01, 0x01, 0x03, 0x00, 0x1b, 0x11, 0x10, 0x26, 0x11, 0x08, 0x00,
  0x45, 0x00, 0x00, 0x1c, 0x65, 0x52, 0x00, 0x00, 0x01, 0x02, 0xb0, 0xdf,
  0xc0, 0xa8, 0x01, 0x02, 0xe1, 0x01, 0x01, 0x03,
  0x11, 0x0a, 0x0c, 0xf1, 0xe1, 0x01, 0x01, 0x03, // query, max resp 10, group 225.1.1.3
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

/** A raw IPv6 packet (link type 229) from `fd00::1` to `fd00::2` carrying `payload`. */
function ipv6Packet(nextHeader: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(40 + payload.length);
  p.set([0x60, 0, 0, 0, payload.length >> 8, payload.length & 0xff, nextHeader, 64]);
  p[8] = p[24] = 0xfd;
  p[23] = 1;
  p[39] = 2;
  p.set(payload, 40);
  return p;
}

Deno.test("describeFrame() prints UDP like tcpdump", () => {
  assert.equal(
    describeFrame(RAW_UDP, 228),
    "IP 192.168.1.100.12345 > 9.9.9.9.53: UDP, length 29",
  );
  const bad = new Uint8Array(RAW_UDP);
  bad[25] = 99; // UDP length 99, 37 bytes present
  assert.equal(
    describeFrame(bad, 228),
    "IP 192.168.1.100.12345 > 9.9.9.9.53: UDP, bad length 99 > 37",
  );
  assert.equal(
    describeFrame(RAW_UDP.subarray(0, 26), 228),
    "IP truncated-ip - 31 bytes missing! 192.168.1.100.12345 > 9.9.9.9.53: [|udp]",
  );
  assert.equal(
    describeFrame(RAW_UDP.subarray(0, 40), 228, { originalLength: 57 }),
    "IP 192.168.1.100.12345 > 9.9.9.9.53: UDP, length 29",
  );
});

Deno.test("describeFrame() prints TCP with tcpdump's flags, options and header complaints", () => {
  // linux-probes/tun-curl4.pcap frame 1: a Linux SYN.
  // deno-fmt-ignore
  const syn = new Uint8Array([
    0x45, 0x00, 0x00, 0x3c, 0x5d, 0x4b, 0x40, 0x00, 0x40, 0x06, 0xc9, 0x6b,
    0x0a, 0x4d, 0x00, 0x01, 0x0a, 0x4d, 0x00, 0x02,
    0xb7, 0x7a, 0x1f, 0x90, 0x93, 0x26, 0x4a, 0x07, 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0,
    0x71, 0xf2, 0, 0, 2, 4, 5, 0xb4, 4, 2, 8, 10, 0xe4, 0x3f, 0x2e, 0x05, 0, 0, 0, 0, 1, 3, 3, 10,
  ]);
  assert.equal(
    describeFrame(syn, 101),
    "IP 10.77.0.1.46970 > 10.77.0.2.8080: Flags [S], seq 2468760071, win 64240, " +
      "options [mss 1460,sackOK,TS val 3829345797 ecr 0,nop,wscale 10], length 0",
  );
  // tcp-malformed.pcap: a data offset past the segment.
  const long = new Uint8Array(40);
  long.set(syn.subarray(0, 20));
  long[3] = 40;
  long.set([0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 1, 0x70, 0x10], 20);
  assert.equal(
    describeFrame(long, 101),
    "IP 10.77.0.1.5000 > 10.77.0.2.80: Flags [.] [bad hdr length 28 - too long, > 20]",
  );
  long[32] = 0x40;
  assert.equal(
    describeFrame(long, 101),
    "IP 10.77.0.1.5000 > 10.77.0.2.80: Flags [.] [bad hdr length 16 - too short, < 20]",
  );
  assert.equal(
    describeFrame(syn.subarray(0, 22), 101),
    "IP truncated-ip - 38 bytes missing! 10.77.0.1 > 10.77.0.2: [|tcp]",
  );
});

Deno.test("describeFrame() prints IPv6 and ICMPv6 (NDP) like tcpdump", () => {
  assert.equal(
    describeFrame(NEIGHBOR_SOLICITATION_FRAME, 1),
    "IP6 2001:db8:1:2::1003 > ff02::1:ff00:1000: ICMP6, neighbor solicitation, " +
      "who has 2001:db8:1:2::1000, length 32",
  );
  const echo = ipv6Packet(58, new Uint8Array([128, 0, 0, 0, 0x06, 0xa4, 0, 1, 1, 2, 3, 4]));
  assert.equal(
    describeFrame(echo, 229),
    "IP6 fd00::1 > fd00::2: ICMP6, echo request, id 1700, seq 1, length 12",
  );
  const na = ipv6Packet(58, new Uint8Array(24));
  na[40] = 136;
  na.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 48);
  assert.equal(
    describeFrame(na, 101),
    "IP6 fd00::1 > fd00::2: ICMP6, neighbor advertisement, tgt is fd00::2, length 24",
  );
  const rs = ipv6Packet(58, new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(
    describeFrame(rs, 229),
    "IP6 fd00::1 > fd00::2: ICMP6, router solicitation, length 8",
  );
  const mld = ipv6Packet(58, new Uint8Array(28));
  mld[40] = 143;
  mld[47] = 2;
  assert.equal(
    describeFrame(mld, 229),
    "IP6 fd00::1 > fd00::2: ICMP6, multicast listener report v2, 2 group record(s), length 28",
  );
  assert.equal(
    describeFrame(ipv6Packet(58, new Uint8Array(2)), 229),
    "IP6 fd00::1 > fd00::2: [|icmp6]",
  );
});

Deno.test("describeFrame() names IPv6 extension headers, then ports without addresses", () => {
  // The tun-scapy_ext6.pcap chain, crafted smaller: Hop-by-Hop, Fragment (atomic), UDP.
  const udp = new Uint8Array([0x15, 0xb3, 0, 7, 0, 9, 0, 0, 0x41]);
  const chain = new Uint8Array(16 + udp.length);
  chain.set([44, 0, 1, 4, 0, 0, 0, 0]); // HBH, PadN 4, next = fragment
  chain.set([17, 0, 0, 0, 0, 0, 0x12, 0x34], 8); // fragment offset 0, next = UDP
  chain.set(udp, 16);
  assert.equal(
    describeFrame(ipv6Packet(0, chain), 229),
    "IP6 fd00::1 > fd00::2: HBH frag (0|9) 5555 > 7: UDP, length 1",
  );
  // A later fragment: nothing after the fragment header is a header.
  const later = new Uint8Array(8 + 16);
  later.set([17, 0, 0x05, 0xa8, 0, 0, 0, 9]);
  assert.equal(describeFrame(ipv6Packet(44, later), 229), "IP6 fd00::1 > fd00::2: frag (1448|16)");
  const routing = new Uint8Array(8);
  routing.set([59, 0, 4, 0]);
  assert.equal(
    describeFrame(ipv6Packet(43, routing), 229),
    "IP6 fd00::1 > fd00::2: RT6 (len=0, type=4, segleft=0)",
  );
  const cut = ipv6Packet(0, new Uint8Array([58, 3, 0, 0, 0, 0, 0, 0])); // HBH says 32 bytes, 8 there
  assert.equal(describeFrame(cut, 229), "IP6 fd00::1 > fd00::2: [|ip6]");
});

Deno.test("describeFrame() reports IPv6 payload lengths beyond the capture", () => {
  const echo = ipv6Packet(58, new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4]));
  assert.equal(
    describeFrame(echo.subarray(0, 50), 229),
    "IP6 truncated-ip6 - 2 bytes missing! fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 1, length 10",
  );
  assert.equal(
    describeFrame(echo.subarray(0, 50), 229, { originalLength: 52 }),
    "IP6 fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 1, length 10",
  );
  assert.equal(describeFrame(echo.subarray(0, 39), 229), "IP6 [|ip6]");
});

Deno.test("describeFrame() prints IGMP v1, v2 and v3 like tcpdump", () => {
  assert.equal(
    describeFrame(IGMPV3_REPORT_FRAME, 1),
    "IP 192.168.1.150 > 224.0.0.22: igmp v3 report, 1 group record(s)",
  );
  assert.equal(
    describeFrame(IGMPV2_QUERY_FRAME, 1),
    "IP 192.168.1.2 > 225.1.1.3: igmp query v2 [max resp time 10] [gaddr 225.1.1.3]",
  );
  const v1 = new Uint8Array(IGMPV2_QUERY_FRAME);
  v1[34] = 0x12;
  assert.equal(describeFrame(v1, 1), "IP 192.168.1.2 > 225.1.1.3: igmp v1 report 225.1.1.3");
  v1[34] = 0x17;
  assert.equal(describeFrame(v1, 1), "IP 192.168.1.2 > 225.1.1.3: igmp leave 225.1.1.3");
  v1[34] = 0x11;
  v1[35] = 0;
  v1.fill(0, 38, 42);
  assert.equal(describeFrame(v1, 1), "IP 192.168.1.2 > 225.1.1.3: igmp query v1");
  assert.equal(
    describeFrame(IGMPV3_REPORT_FRAME.subarray(0, 40), 1, { originalLength: 54 }),
    "IP 192.168.1.150 > 224.0.0.22: [|igmp]",
  );
});

Deno.test("describeFrame() never throws on prefixes and mutations of the new fixtures", () => {
  const fixtures = [NEIGHBOR_SOLICITATION_FRAME, IGMPV3_REPORT_FRAME, IGMPV2_QUERY_FRAME];
  for (const f of fixtures) {
    for (let n = 0; n <= f.length; n++) {
      for (const lt of [1, 101, 229]) {
        assert.equal(typeof describeFrame(f.subarray(0, n), lt), "string");
      }
    }
  }
  fc.assert(
    fc.property(
      fc.constantFrom(...fixtures, RAW_UDP),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
      fc.nat({ max: 2000 }),
      (fixture, edits, cut, orig) => {
        const bytes = new Uint8Array(fixture);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        const part = bytes.subarray(0, cut % (bytes.length + 1));
        for (const lt of [1, 228, 229]) {
          const line = describeFrame(part, lt, { originalLength: orig });
          assert.ok(!line.includes("\n"));
        }
      },
    ),
    { numRuns: 3000 },
  );
});

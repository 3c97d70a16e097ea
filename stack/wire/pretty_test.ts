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
  // ipv4_invalid_total_length.pcap: total length 85, 84 bytes present.
  const short = ECHO_REQUEST_FRAME.subarray(0, 73);
  assert.equal(
    describeFrame(short, 1),
    "IP 192.168.100.138 > 192.168.100.1: truncated-ip - 1 bytes missing!",
  );
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

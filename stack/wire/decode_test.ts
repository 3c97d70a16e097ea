import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import {
  type DecodedFrame,
  decodeFrame,
  formatDecodedLayers,
  IPV6_MAX_EXTENSIONS,
  walkIpv6,
} from "./decode.ts";

// Frames are from shared/pcaps (file and frame number in the comment) or
// crafted (said so); expected values were read with `tshark -V`.

// shared/pcaps/linux-probes/tun-scapy_ext6.pcap frame 1 (raw IP): IPv6 with
// Hop-by-Hop, Destination Options, Routing type 0, an atomic Fragment,
// Destination Options, then UDP 5555 -> 7 with 13 bytes of data.
// deno-fmt-ignore
const EXT6 = new Uint8Array([
  0x60, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x40, // IPv6: plen 69, next 0 (HBH), hlim 64
  0xfd, 0x00, 0x00, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // fd00:77::1
  0xfd, 0x00, 0x00, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // fd00:77::2
  0x3c, 0x01, 0x05, 0x02, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x01, 0x04, 0, 0, 0, 0, // HBH (16)
  0x2b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // DSTOPT -> routing
  0x2c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // RT6 type 0 -> fragment
  0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, // fragment (atomic) -> DSTOPT
  0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // DSTOPT -> UDP
  0x15, 0xb3, 0x00, 0x07, 0x00, 0x15, 0x08, 0x0e, // UDP 5555 -> 7, length 21
  0x65, 0x78, 0x74, 0x2d, 0x68, 0x64, 0x72, 0x2d, 0x63, 0x68, 0x61, 0x69, 0x6e, // "ext-hdr-chain"
]);

// shared/pcaps/icmp-destunreach-udp.pcap frame 1 (Ethernet), its first 70 of
// 194 bytes: ICMP port unreachable from 192.168.1.102 quoting a UDP datagram
// 192.168.1.1:53 -> 192.168.1.102:59207 (the cut-off rest is the DNS answer).
// deno-fmt-ignore
const PORT_UNREACHABLE = new Uint8Array([
  0x00, 0x19, 0xe3, 0xe7, 0x5d, 0x23, 0x00, 0x0b, 0xdb, 0x63, 0x58, 0xa6, 0x08, 0x00,
  0x45, 0x00, 0x00, 0xb0, 0x28, 0x1e, 0x00, 0x00, 0x80, 0x01, 0x8e, 0x77, // IPv4, 176 bytes
  0xc0, 0xa8, 0x01, 0x66, 0xc0, 0xa8, 0x01, 0x01,
  0x03, 0x03, 0x03, 0xbb, 0x00, 0x00, 0x00, 0x00, // ICMP 3/3
  0x45, 0x00, 0x00, 0xa3, 0x37, 0x11, 0x00, 0x00, 0x40, 0x11, 0xbf, 0x81, // quoted IPv4
  0xc0, 0xa8, 0x01, 0x01, 0xc0, 0xa8, 0x01, 0x66,
  0x00, 0x35, 0xe7, 0x47, 0x00, 0x8f, 0x76, 0xd2, // quoted UDP 53 -> 59207, length 143
]);

function layer(f: DecodedFrame, name: string, nth = 0) {
  const l = f.layers.filter((x) => x.name === name)[nth];
  assert.ok(l, `no ${name} layer #${nth} in ${f.layers.map((x) => x.name).join(",")}`);
  return l;
}

Deno.test("decodeFrame() follows the IPv6 extension chain to UDP", () => {
  const f = decodeFrame(EXT6, 101);
  assert.deepEqual(f.protocols, [
    "ipv6",
    "hop-by-hop",
    "destination-options",
    "routing",
    "fragment",
    "destination-options",
    "udp",
  ]);
  assert.equal(f.protocol, "udp");
  assert.deepEqual([f.src, f.dst, f.srcPort, f.dstPort, f.ipProtocol], [
    "fd00:77::1",
    "fd00:77::2",
    5555,
    7,
    17,
  ]);
  assert.equal(layer(f, "hop-by-hop").fields.options, "Router Alert 0,PadN 2,PadN 4");
  assert.equal(layer(f, "routing").fields.routingType, 0);
  assert.equal(layer(f, "fragment").fields.identification, "0x00001234");
  assert.equal(layer(f, "udp").fields.length, 21);
  assert.equal(layer(f, "udp").notes.checksum, "correct");
  assert.equal(f.problem, undefined);
});

Deno.test("decodeFrame() decodes the datagram an ICMP error quotes, marked quoted", () => {
  const f = decodeFrame(PORT_UNREACHABLE, 1);
  assert.deepEqual(f.protocols, ["ethernet", "ipv4", "icmp"]);
  assert.equal(f.protocol, "icmp");
  assert.equal(f.srcPort, undefined); // the quoted ports are not the packet's
  const icmp = layer(f, "icmp");
  assert.equal(icmp.notes.code, "port unreachable");
  const inner = layer(f, "ipv4", 1);
  assert.equal(inner.quoted, true);
  assert.equal(inner.fields.src, "192.168.1.1");
  assert.equal(inner.problem, "truncated"); // 163 bytes claimed, 28 here
  const udp = layer(f, "udp");
  assert.deepEqual([udp.quoted, udp.fields.srcPort, udp.fields.dstPort], [true, 53, 59207]);
  assert.equal(udp.notes.checksum, undefined); // not verifiable from a quote
});

Deno.test("decodeFrame() decodes what a snapshot length left, lengths from the headers", () => {
  // Crafted: a TCP segment claiming 100 bytes of data, cut after the header.
  const p = new Uint8Array(40);
  p.set([0x45, 0, 0, 140, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  p.set([0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff], 20);
  const f = decodeFrame(p, 228);
  assert.equal(f.problem, "truncated");
  const tcp = layer(f, "tcp");
  assert.equal(tcp.fields.payloadLength, 100);
  assert.equal(tcp.notes.flags, "[P.] ACK,PSH");
  assert.equal(tcp.notes.checksum, undefined);
});

Deno.test("decodeFrame() names NDP, MLD and IGMP fields", () => {
  // Crafted: ICMPv6 neighbor solicitation for fd00::2 with a source link-address option.
  const ns = new Uint8Array(40 + 32);
  ns.set([0x60, 0, 0, 0, 0, 32, 58, 255]);
  ns[8] = 0xfd;
  ns[23] = 1;
  ns.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 2], 24);
  ns.set([135, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 40);
  ns.set([1, 1, 2, 0, 0, 0, 0, 1], 64);
  const f = decodeFrame(ns, 229);
  assert.equal(f.protocol, "icmp6");
  const icmp6 = layer(f, "icmp6");
  assert.equal(icmp6.notes.type, "neighbor solicitation");
  assert.equal(icmp6.fields.target, "fd00::2");
  assert.equal(icmp6.fields.options, "source link-address 02:00:00:00:00:01");
  // Crafted: IGMPv2 report for 239.1.2.3.
  const igmp = new Uint8Array(28);
  igmp.set([0x46, 0, 0, 28, 0, 0, 0, 0, 1, 2, 0, 0, 10, 0, 0, 1, 239, 1, 2, 3]);
  igmp.set([0x16, 0, 0, 0, 239, 1, 2, 3], 20);
  igmp[0] = 0x45;
  const g = decodeFrame(igmp, 228);
  assert.equal(g.protocol, "igmp");
  assert.equal(layer(g, "igmp").notes.type, "v2 membership report");
  assert.equal(layer(g, "igmp").fields.group, "239.1.2.3");
});

Deno.test("walkIpv6() stops at a fragment with a non-zero offset", () => {
  const p = new Uint8Array(40 + 8 + 16);
  p.set([0x60, 0, 0, 0, 0, 24, 44, 64]);
  p.set([17, 0, 0x05, 0xa8, 0, 0, 0, 9], 40); // offset 1448, more = 0, next UDP
  const w = walkIpv6(p);
  assert.ok(typeof w !== "string");
  assert.deepEqual(w.fragment, { offset: 1448, more: false, identification: 9 });
  assert.equal(w.protocol, 17);
  assert.equal(w.payload.length, 16);
  const f = decodeFrame(p, 229);
  assert.deepEqual(f.protocols, ["ipv6", "fragment"]); // no UDP header in a later fragment
});

Deno.test("walkIpv6() bounds the extension chain", () => {
  // Crafted: 20 Destination Options headers in a row.
  const n = IPV6_MAX_EXTENSIONS + 4;
  const p = new Uint8Array(40 + 8 * n);
  p.set([0x60, 0, 0, 0, 0, 8 * n, 60, 64]);
  for (let i = 0; i < n; i++) p[40 + 8 * i] = 60;
  const w = walkIpv6(p);
  assert.ok(typeof w !== "string");
  assert.equal(w.problem, "too_many_extensions");
  assert.equal(w.extensions.length, IPV6_MAX_EXTENSIONS);
  // A header whose length runs past the payload length.
  const q = new Uint8Array(EXT6);
  q[41] = 9;
  const v = walkIpv6(q);
  assert.ok(typeof v !== "string");
  assert.equal(v.problem, "truncated");
  assert.equal(v.extensions.length, 0);
});

Deno.test("walkIpv6() reports bytes missing and the jumbogram case", () => {
  const w = walkIpv6(EXT6.subarray(0, 60));
  assert.ok(typeof w !== "string");
  assert.equal(w.missing, 49);
  const jumbo = new Uint8Array(EXT6);
  jumbo[4] = jumbo[5] = 0;
  const j = walkIpv6(jumbo);
  assert.ok(typeof j !== "string");
  assert.equal(j.missing, 0);
  assert.equal(walkIpv6(new Uint8Array(40)), "bad_version");
});

Deno.test("formatDecodedLayers() prints one line per header, quoted ones indented", () => {
  const lines = formatDecodedLayers(decodeFrame(PORT_UNREACHABLE, 1));
  assert.equal(lines.length, 5);
  assert.match(
    lines[0]!,
    /^Ethernet: dst 00:19:e3:e7:5d:23, src 00:0b:db:63:58:a6, type 0x0800 \(IPv4\)$/,
  );
  assert.match(lines[2]!, /^ICMP: type 3 \(destination unreachable\), code 3 \(port unreachable\)/);
  assert.match(
    lines[3]!,
    /^ {2}IPv4 \(quoted\): .*src 192\.168\.1\.1, dst 192\.168\.1\.102 \[truncated\]$/,
  );
  assert.match(lines[4]!, /^ {2}UDP \(quoted\): src port 53, dst port 59207, length 143/);
});

Deno.test("decodeFrame() never throws on any prefix of the fixtures", () => {
  for (const [bytes, lt] of [[EXT6, 101], [PORT_UNREACHABLE, 1]] as const) {
    for (let n = 0; n <= bytes.length; n++) {
      for (const linkType of [lt, 1, 101, 228, 229]) {
        const f = decodeFrame(bytes.subarray(0, n), linkType);
        assert.equal(typeof f.protocol, "string");
        formatDecodedLayers(f);
      }
    }
  }
});

Deno.test("decodeFrame() never throws on arbitrary or mutated bytes", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 160 }),
        fc.tuple(
          fc.constantFrom(EXT6, PORT_UNREACHABLE),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
          fc.nat(),
        ).map(([base, edits, cut]) => {
          const b = new Uint8Array(base);
          for (const [at, v] of edits) b[at % b.length] = v;
          return b.subarray(0, cut % (b.length + 1));
        }),
      ),
      fc.constantFrom(1, 101, 228, 229, 0),
      (bytes, linkType) => {
        const f = decodeFrame(bytes, linkType);
        for (const line of formatDecodedLayers(f)) assert.ok(!line.includes("\n"));
      },
    ),
    { numRuns: 3000 },
  );
});

import assert from "node:assert/strict";
import { captureFrames } from "../../tests/_frames.ts";
import { Icmpv4Packet } from "./icmpv4.ts";
import {
  icmpv4ChecksumField,
  icmpv4Code,
  icmpv4Identifier,
  icmpv4NextHopMtu,
  icmpv4Pointer,
  icmpv4RestOfHeader,
  icmpv4Sequence,
  icmpv4Type,
  setIcmpv4ChecksumField,
  setIcmpv4Code,
  setIcmpv4Identifier,
  setIcmpv4NextHopMtu,
  setIcmpv4Pointer,
  setIcmpv4RestOfHeader,
  setIcmpv4Sequence,
  setIcmpv4Type,
} from "./icmpv4_fields.ts";
import { ipv4Dst, ipv4Protocol, ipv4Src } from "./ipv4_fields.ts";
import { udpDstPort, udpSrcPort } from "./udp_fields.ts";
import { dataViewOf } from "./_decode_util.ts";

const ICMP_AT = 14 + 20; // Ethernet, IPv4 without options

Deno.test("icmpv4 accessors read the echo request and reply of icmp_echo.pcapng", () => {
  const [request, reply] = captureFrames("icmp_echo.pcapng");
  // tshark -e icmp.type -e icmp.code -e icmp.checksum -e icmp.ident -e icmp.seq
  assert.deepEqual(
    [icmpv4Type(dataViewOf(request!), ICMP_AT), icmpv4Code(dataViewOf(request!), ICMP_AT)],
    [8, 0],
  );
  assert.equal(icmpv4ChecksumField(dataViewOf(request!), ICMP_AT), 0x145c);
  assert.deepEqual(
    [
      icmpv4Identifier(dataViewOf(request!), ICMP_AT),
      icmpv4Sequence(dataViewOf(request!), ICMP_AT),
    ],
    [1280, 13312],
  );
  assert.equal(icmpv4RestOfHeader(dataViewOf(request!), ICMP_AT), 0x05003400);
  assert.deepEqual([
    icmpv4Type(dataViewOf(reply!), ICMP_AT),
    icmpv4ChecksumField(dataViewOf(reply!), ICMP_AT),
  ], [
    0,
    0x1c5c,
  ]);
});

Deno.test("icmpv4 next-hop MTU of a fragmentation-needed error (smtp-icmp-fragneeded.pcap frame 26)", () => {
  const f = captureFrames("smtp-icmp-fragneeded.pcap")[25]!;
  assert.deepEqual([icmpv4Type(dataViewOf(f), ICMP_AT), icmpv4Code(dataViewOf(f), ICMP_AT)], [
    3,
    4,
  ]);
  assert.equal(icmpv4NextHopMtu(dataViewOf(f), ICMP_AT), 1492);
  assert.equal(icmpv4ChecksumField(dataViewOf(f), ICMP_AT), 0xc94e);
});

Deno.test("icmpv4 and the quoted headers of a port unreachable (icmp-destunreach-udp.pcap)", () => {
  const f = captureFrames("icmp-destunreach-udp.pcap")[0]!;
  assert.deepEqual([icmpv4Type(dataViewOf(f), ICMP_AT), icmpv4Code(dataViewOf(f), ICMP_AT)], [
    3,
    3,
  ]);
  const q = ICMP_AT + 8; // the quoted IPv4 header
  assert.equal(ipv4Src(dataViewOf(f), q), 0xc0a80101); // 192.168.1.1
  assert.equal(ipv4Dst(dataViewOf(f), q), 0xc0a80166); // 192.168.1.102
  assert.equal(ipv4Protocol(dataViewOf(f), q), 17);
  assert.deepEqual([udpSrcPort(dataViewOf(f), q + 20), udpDstPort(dataViewOf(f), q + 20)], [
    53,
    59207,
  ]);
});

Deno.test("icmpv4 setters rebuild the captured headers byte for byte, touching nothing else", () => {
  const echo = captureFrames("icmp_echo.pcapng")[0]!;
  const fragNeeded = captureFrames("smtp-icmp-fragneeded.pcap")[25]!;
  for (const f of [echo, fragNeeded]) {
    const copy = f.slice();
    copy.fill(0, ICMP_AT, ICMP_AT + 8);
    setIcmpv4Type(dataViewOf(copy), ICMP_AT, icmpv4Type(dataViewOf(f), ICMP_AT));
    setIcmpv4Code(dataViewOf(copy), ICMP_AT, icmpv4Code(dataViewOf(f), ICMP_AT));
    setIcmpv4ChecksumField(dataViewOf(copy), ICMP_AT, icmpv4ChecksumField(dataViewOf(f), ICMP_AT));
    setIcmpv4RestOfHeader(dataViewOf(copy), ICMP_AT, icmpv4RestOfHeader(dataViewOf(f), ICMP_AT));
    assert.deepEqual(copy, f);
  }
  const copy = echo.slice();
  copy.fill(0, ICMP_AT + 4, ICMP_AT + 8);
  setIcmpv4Identifier(dataViewOf(copy), ICMP_AT, 1280);
  setIcmpv4Sequence(dataViewOf(copy), ICMP_AT, 13312);
  assert.deepEqual(copy, echo);
  const mtu = fragNeeded.slice();
  mtu.fill(0, ICMP_AT + 6, ICMP_AT + 8);
  setIcmpv4NextHopMtu(dataViewOf(mtu), ICMP_AT, 1492);
  assert.deepEqual(mtu, fragNeeded);
});

Deno.test("icmpv4 pointer of a parameter problem is the high byte of the rest of the header", () => {
  const b = new Uint8Array(8);
  setIcmpv4Type(dataViewOf(b), 0, 12);
  setIcmpv4Pointer(dataViewOf(b), 0, 20);
  assert.equal(icmpv4Pointer(dataViewOf(b), 0), 20);
  assert.equal(icmpv4RestOfHeader(dataViewOf(b), 0), 20 << 24);
});

Deno.test("Icmpv4Packet reads through the same accessors as the plugin", () => {
  const f = captureFrames("icmp_echo.pcapng")[0]!;
  const view = Icmpv4Packet.check(f.subarray(ICMP_AT));
  assert.ok(typeof view !== "string");
  assert.deepEqual(
    [view.type, view.code, view.checksum, view.identifier, view.sequence],
    [8, 0, 0x145c, 1280, 13312],
  );
  assert.ok(view.verifyChecksum());
});

import assert from "node:assert/strict";
import { captureFrames } from "../../tests/_frames.ts";
import { Ipv4Packet } from "./ipv4.ts";
import {
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  IPV4_OFFSET_MASK,
  ipv4ChecksumField,
  ipv4Dst,
  ipv4FragmentField,
  ipv4HeaderLen,
  ipv4Identification,
  ipv4Protocol,
  ipv4Src,
  ipv4Tos,
  ipv4TotalLength,
  ipv4Ttl,
  ipv4Version,
  setIpv4ChecksumField,
  setIpv4Dst,
  setIpv4FragmentField,
  setIpv4Identification,
  setIpv4Protocol,
  setIpv4Src,
  setIpv4Tos,
  setIpv4TotalLength,
  setIpv4Ttl,
  setIpv4VersionAndHeaderLen,
} from "./ipv4_fields.ts";
import { dataViewOf } from "./_decode_util.ts";

const L3 = 14; // after the Ethernet header

Deno.test("ipv4 accessors read the first echo request of icmp_echo.pcapng", () => {
  const f = captureFrames("icmp_echo.pcapng")[0]!;
  // tshark: 192.168.100.138 > 192.168.100.1, len 60, id 0xfefd, ttl 128, proto 1, sum 0xf1e6
  assert.deepEqual(
    [
      ipv4Version(dataViewOf(f), L3),
      ipv4HeaderLen(dataViewOf(f), L3),
      ipv4Tos(dataViewOf(f), L3),
      ipv4TotalLength(dataViewOf(f), L3),
    ],
    [4, 20, 0, 60],
  );
  assert.equal(ipv4Identification(dataViewOf(f), L3), 0xfefd);
  assert.equal(ipv4FragmentField(dataViewOf(f), L3), 0);
  assert.deepEqual([ipv4Ttl(dataViewOf(f), L3), ipv4Protocol(dataViewOf(f), L3)], [128, 1]);
  assert.equal(ipv4ChecksumField(dataViewOf(f), L3), 0xf1e6);
  assert.equal(ipv4Src(dataViewOf(f), L3), 0xc0a8648a);
  assert.equal(ipv4Dst(dataViewOf(f), L3), 0xc0a86401);
});

Deno.test("ipv4 accessors read a header with options (IGMP_V2.pcap, Router Alert)", () => {
  const f = captureFrames("IGMP_V2.pcap")[1]!;
  assert.equal(ipv4HeaderLen(dataViewOf(f), L3), 24);
  assert.equal(ipv4Protocol(dataViewOf(f), L3), 2);
  assert.equal(ipv4Ttl(dataViewOf(f), L3), 1);
  assert.equal(ipv4Dst(dataViewOf(f), L3), 0xeffffffa); // 239.255.255.250
});

Deno.test("ipv4 fragment field of ip_frag_source.pcapng: MF and offsets 0, 185, 370 (x8 bytes)", () => {
  const frames = captureFrames("ip_frag_source.pcapng").slice(0, 3);
  assert.deepEqual(
    frames.map((f) => [
      (ipv4FragmentField(dataViewOf(f), L3) & IPV4_FLAG_MF) !== 0,
      (ipv4FragmentField(dataViewOf(f), L3) & IPV4_FLAG_DF) !== 0,
      ipv4FragmentField(dataViewOf(f), L3) & IPV4_OFFSET_MASK,
      ipv4Identification(dataViewOf(f), L3),
      ipv4ChecksumField(dataViewOf(f), L3), // offloaded: 0 on the sender
    ]),
    [[true, false, 0, 0x7474, 0], [true, false, 185, 0x7474, 0], [false, false, 370, 0x7474, 0]],
  );
});

Deno.test("ipv4 setters rebuild captured headers byte for byte, touching nothing else", () => {
  const frames = [
    captureFrames("icmp_echo.pcapng")[0]!,
    captureFrames("IGMP_V2.pcap")[1]!,
    captureFrames("ip_frag_source.pcapng")[1]!,
  ];
  for (const f of frames) {
    const hl = ipv4HeaderLen(dataViewOf(f), L3);
    const copy = f.slice();
    copy.fill(0, L3, L3 + 20); // the fixed header; options stay
    setIpv4VersionAndHeaderLen(dataViewOf(copy), L3, hl);
    setIpv4Tos(dataViewOf(copy), L3, ipv4Tos(dataViewOf(f), L3));
    setIpv4TotalLength(dataViewOf(copy), L3, ipv4TotalLength(dataViewOf(f), L3));
    setIpv4Identification(dataViewOf(copy), L3, ipv4Identification(dataViewOf(f), L3));
    setIpv4FragmentField(dataViewOf(copy), L3, ipv4FragmentField(dataViewOf(f), L3));
    setIpv4Ttl(dataViewOf(copy), L3, ipv4Ttl(dataViewOf(f), L3));
    setIpv4Protocol(dataViewOf(copy), L3, ipv4Protocol(dataViewOf(f), L3));
    setIpv4ChecksumField(dataViewOf(copy), L3, ipv4ChecksumField(dataViewOf(f), L3));
    setIpv4Src(dataViewOf(copy), L3, ipv4Src(dataViewOf(f), L3));
    setIpv4Dst(dataViewOf(copy), L3, ipv4Dst(dataViewOf(f), L3));
    assert.deepEqual(copy, f);
  }
});

Deno.test("Ipv4Packet reads through the same accessors as the plugins", () => {
  const f = captureFrames("icmp_echo.pcapng")[1]!;
  const view = Ipv4Packet.check(f.subarray(L3));
  assert.ok(typeof view !== "string");
  assert.deepEqual(
    [view.headerLength, view.totalLength, view.ttl, view.protocol, view.src, view.dst],
    [
      ipv4HeaderLen(dataViewOf(f), L3),
      ipv4TotalLength(dataViewOf(f), L3),
      ipv4Ttl(dataViewOf(f), L3),
      ipv4Protocol(dataViewOf(f), L3),
      ipv4Src(dataViewOf(f), L3),
      ipv4Dst(dataViewOf(f), L3),
    ],
  );
  assert.ok(view.verifyChecksum());
});

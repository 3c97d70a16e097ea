import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import {
  emitEthernet,
  ETHERNET_HEADER_LEN,
  EthernetFrame,
  ethernetHeaderLength,
  type EthernetRepr,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  etherTypeName,
  formatEthernetRepr,
  parseEthernet,
} from "./ethernet.ts";

// shared/pcaps/arp_resolution.pcapng frame 1 (42 bytes, unpadded):
// "ARP, Request who-has 192.168.0.1 tell 192.168.0.114".
// deno-fmt-ignore
const ARP_REQUEST_FRAME = new Uint8Array([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst ff:ff:ff:ff:ff:ff
  0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, // src 00:16:ce:6e:8b:24
  0x08, 0x06, // EtherType ARP
  0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // ARP: Ethernet/IPv4, request
  0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, 0xc0, 0xa8, 0x00, 0x72, // sender
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, // target
]);

// shared/pcaps/icmp_echo.pcapng frame 1 (74 bytes): IPv4 unicast frame.
// deno-fmt-ignore
const ICMP_ECHO_FRAME = new Uint8Array([
  0x00, 0x12, 0x80, 0x4b, 0xc0, 0x7f, // dst 00:12:80:4b:c0:7f
  0x00, 0x16, 0xd4, 0xb8, 0x59, 0xb1, // src 00:16:d4:b8:59:b1
  0x08, 0x00, // EtherType IPv4
  0x45, 0x00, 0x00, 0x3c, 0xfe, 0xfd, 0x00, 0x00, 0x80, 0x01, 0xf1, 0xe6, // IPv4 header
  0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 0x01,
  0x08, 0x00, 0x14, 0x5c, 0x05, 0x00, 0x34, 0x00, // ICMP echo request
  0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70,
  0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
]);

// Crafted (no tagged frame in the corpus): the ARP request above with an
// 802.1Q tag, PCP 5, VID 100, inserted after the addresses.
// deno-fmt-ignore
const VLAN_ARP_FRAME = new Uint8Array([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst
  0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, // src
  0x81, 0x00, 0xa0, 0x64, // TPID 0x8100, TCI: PCP 5, DEI 0, VID 100
  0x08, 0x06, // EtherType ARP
  ...ARP_REQUEST_FRAME.subarray(14),
]);

// Crafted: QinQ, outer S-tag 0x88a8 VID 200, inner C-tag 0x8100 VID 5, IPv4.
// deno-fmt-ignore
const QINQ_FRAME = new Uint8Array([
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
  0x88, 0xa8, 0x00, 0xc8, // S-tag VID 200
  0x81, 0x00, 0x00, 0x05, // C-tag VID 5
  0x08, 0x00, // EtherType IPv4
  0x45, 0x00, 0x00, 0x14, // (start of a payload)
]);

const FIXTURES = [ARP_REQUEST_FRAME, ICMP_ECHO_FRAME, VLAN_ARP_FRAME, QINQ_FRAME];

function checked(bytes: Uint8Array): EthernetFrame {
  const f = EthernetFrame.check(bytes);
  assert.ok(typeof f !== "string", `check: ${f}`);
  return f;
}

Deno.test("EthernetFrame deconstructs an untagged ARP broadcast", () => {
  const f = checked(ARP_REQUEST_FRAME);
  assert.deepEqual([...f.dst], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual([...f.src], [0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]);
  assert.equal(f.dstNumber, 0xffff_ffff_ffff);
  assert.equal(f.srcNumber, 0x0016_ce6e_8b24);
  assert.ok(f.dstIsBroadcast);
  assert.ok(f.dstIsMulticast);
  assert.equal(f.etherType, ETHERTYPE_ARP);
  assert.equal(f.vlanTagCount, 0);
  assert.equal(f.vlanId, undefined);
  assert.equal(f.vlanPriority, undefined);
  assert.equal(f.innerVlanId, undefined);
  assert.equal(f.headerLength, 14);
  assert.equal(f.payload.length, 28);
  assert.equal(f.payload.byteOffset, ARP_REQUEST_FRAME.byteOffset + 14); // a view, not a copy
});

Deno.test("EthernetFrame deconstructs a unicast IPv4 frame", () => {
  const f = checked(ICMP_ECHO_FRAME);
  assert.ok(!f.dstIsBroadcast);
  assert.ok(!f.dstIsMulticast);
  assert.equal(f.etherType, ETHERTYPE_IPV4);
  assert.equal(f.payload[0], 0x45);
});

Deno.test("EthernetFrame deconstructs an 802.1Q tag", () => {
  const f = checked(VLAN_ARP_FRAME);
  assert.equal(f.vlanTagCount, 1);
  assert.equal(f.vlanId, 100);
  assert.equal(f.vlanPriority, 5);
  assert.equal(f.innerVlanId, undefined);
  assert.equal(f.etherType, ETHERTYPE_ARP);
  assert.equal(f.headerLength, 18);
  assert.deepEqual(f.payload, ARP_REQUEST_FRAME.subarray(14));
});

Deno.test("EthernetFrame deconstructs QinQ tags", () => {
  const f = checked(QINQ_FRAME);
  assert.equal(f.vlanTagCount, 2);
  assert.equal(f.vlanId, 200);
  assert.equal(f.innerVlanId, 5);
  assert.equal(f.etherType, ETHERTYPE_IPV4);
  assert.equal(f.headerLength, 22);
  assert.deepEqual([...f.payload], [0x45, 0x00, 0x00, 0x14]);
});

Deno.test("EthernetFrame constructs the ARP frame header field by field", () => {
  const bytes = new Uint8Array(ARP_REQUEST_FRAME.length);
  const f = EthernetFrame.unchecked(bytes);
  f.dst = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  f.src = new Uint8Array([0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]);
  f.etherType = ETHERTYPE_ARP;
  f.payload.set(ARP_REQUEST_FRAME.subarray(14));
  assert.deepEqual(bytes, ARP_REQUEST_FRAME);
});

Deno.test("EthernetFrame setters rewrite VLAN IDs and keep the PCP", () => {
  const bytes = new Uint8Array(VLAN_ARP_FRAME);
  const f = checked(bytes);
  f.vlanId = 4095;
  assert.equal(f.vlanId, 4095);
  assert.equal(f.vlanPriority, 5);
  f.vlanId = 100;
  assert.deepEqual(bytes, VLAN_ARP_FRAME);
  const q = new Uint8Array(QINQ_FRAME);
  const g = checked(q);
  g.innerVlanId = 6;
  g.etherType = ETHERTYPE_ARP;
  assert.equal(g.innerVlanId, 6);
  assert.deepEqual([...q.subarray(16, 22)], [0x81, 0x00, 0x00, 0x06, 0x08, 0x06]);
});

Deno.test("parseEthernet() reads untagged, tagged and QinQ headers", () => {
  assert.deepEqual(parseEthernet(checked(ARP_REQUEST_FRAME)), {
    dst: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    src: new Uint8Array([0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]),
    etherType: ETHERTYPE_ARP,
  });
  assert.deepEqual(parseEthernet(checked(VLAN_ARP_FRAME)), {
    dst: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    src: new Uint8Array([0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]),
    etherType: ETHERTYPE_ARP,
    vlanId: 100,
  });
  assert.deepEqual(parseEthernet(checked(QINQ_FRAME)), {
    dst: new Uint8Array([2, 0, 0, 0, 0, 2]),
    src: new Uint8Array([2, 0, 0, 0, 0, 1]),
    etherType: ETHERTYPE_IPV4,
    vlanId: 200,
    innerVlanId: 5,
  });
});

Deno.test("emitEthernet() writes the fixture headers", () => {
  const untagged = new Uint8Array(14);
  emitEthernet(parseEthernet(checked(ICMP_ECHO_FRAME)), untagged);
  assert.deepEqual(untagged, ICMP_ECHO_FRAME.subarray(0, 14));
  const qinq = new Uint8Array(22);
  emitEthernet(parseEthernet(checked(QINQ_FRAME)), qinq);
  assert.deepEqual(qinq, QINQ_FRAME.subarray(0, 22));
});

Deno.test("emitEthernet() writes a zero PCP for a tagged header", () => {
  const repr = parseEthernet(checked(VLAN_ARP_FRAME));
  const bytes = new Uint8Array(ethernetHeaderLength(repr));
  assert.equal(bytes.length, 18);
  emitEthernet(repr, bytes);
  assert.deepEqual([...bytes.subarray(12)], [0x81, 0x00, 0x00, 0x64, 0x08, 0x06]);
});

Deno.test("EthernetFrame.check() rejects a frame shorter than 14 bytes", () => {
  assert.equal(EthernetFrame.check(new Uint8Array(0)), "truncated");
  assert.equal(EthernetFrame.check(new Uint8Array(13)), "truncated");
  assert.ok(typeof EthernetFrame.check(new Uint8Array(14)) !== "string");
});

Deno.test("EthernetFrame.check() rejects a third VLAN tag", () => {
  const bytes = new Uint8Array(30);
  bytes.set([0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x81, 0x00, 0, 3, 0x08, 0x00], 12);
  assert.equal(EthernetFrame.check(bytes), "too_many_vlan_tags");
});

Deno.test("EthernetFrame.check() truncation sweep: every prefix gives a view or a drop reason", () => {
  for (const fixture of FIXTURES) {
    for (let n = 0; n <= fixture.length; n++) {
      const f = EthernetFrame.check(fixture.subarray(0, n));
      if (typeof f === "string") {
        assert.equal(f, "truncated", `prefix ${n}`);
        continue;
      }
      // A valid view: every accessor stays in bounds.
      assert.ok(f.headerLength <= n);
      parseEthernet(f);
      f.toString();
    }
  }
});

Deno.test("EthernetFrame accessors stay in bounds for a subarray at an offset", () => {
  const big = new Uint8Array(100);
  big.set(VLAN_ARP_FRAME, 7);
  const f = checked(big.subarray(7, 7 + VLAN_ARP_FRAME.length));
  assert.equal(f.vlanId, 100);
  assert.equal(f.etherType, ETHERTYPE_ARP);
});

Deno.test("EthernetFrame.toString() is tcpdump -e style", () => {
  assert.equal(
    checked(ARP_REQUEST_FRAME).toString(),
    "00:16:ce:6e:8b:24 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42",
  );
  assert.equal(
    checked(QINQ_FRAME).toString(),
    "02:00:00:00:00:01 > 02:00:00:00:00:02, vlan 200, p 0, vlan 5, p 0, ethertype IPv4 (0x0800), length 26",
  );
  assert.equal(
    formatEthernetRepr(parseEthernet(checked(VLAN_ARP_FRAME))),
    "00:16:ce:6e:8b:24 > ff:ff:ff:ff:ff:ff, vlan 100, ethertype ARP (0x0806)",
  );
  assert.equal(etherTypeName(ETHERTYPE_VLAN), "802.1Q");
  assert.equal(etherTypeName(ETHERTYPE_QINQ), "802.1Q-QinQ");
});

const arbMac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const arbVid = fc.integer({ min: 0, max: 4095 });
// EtherTypes that are not VLAN TPIDs (a TPID as the inner type would be a third tag).
const arbEtherType = fc.integer({ min: 0, max: 0xffff }).filter((t) =>
  t !== ETHERTYPE_VLAN && t !== ETHERTYPE_QINQ
);
const arbRepr: fc.Arbitrary<EthernetRepr> = fc.oneof(
  fc.record({ src: arbMac, dst: arbMac, etherType: arbEtherType }),
  fc.record({ src: arbMac, dst: arbMac, etherType: arbEtherType, vlanId: arbVid }),
  fc.record({
    src: arbMac,
    dst: arbMac,
    etherType: arbEtherType,
    vlanId: arbVid,
    innerVlanId: arbVid,
  }),
);

Deno.test("parseEthernet(emitEthernet(repr)) equals repr", () => {
  fc.assert(
    fc.property(arbRepr, fc.uint8Array({ maxLength: 64 }), (repr, payload) => {
      const len = ethernetHeaderLength(repr);
      const bytes = new Uint8Array(len + payload.length);
      emitEthernet(repr, bytes);
      bytes.set(payload, len);
      const f = checked(bytes);
      assert.equal(f.headerLength, len);
      assert.deepEqual(parseEthernet(f), repr);
      assert.deepEqual(f.payload, payload);
    }),
  );
});

Deno.test("EthernetFrame.check() and parseEthernet() never throw on arbitrary bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(0x8100, 0x88a8, 0x0800, 0x0806),
      fc.constantFrom(0x8100, 0x88a8, 0x0800),
      (bytes, t1, t2) => {
        // Bias towards tags so that the nested paths get exercised.
        if (bytes.length >= 14) new DataView(bytes.buffer).setUint16(12, t1);
        if (bytes.length >= 18) new DataView(bytes.buffer).setUint16(16, t2);
        const f = EthernetFrame.check(bytes);
        if (typeof f === "string") return;
        parseEthernet(f);
        f.toString();
        assert.ok(f.headerLength <= bytes.length);
        assert.ok(f.headerLength >= ETHERNET_HEADER_LEN);
      },
    ),
  );
});

import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import {
  ARP_OPERATION_REPLY,
  ARP_OPERATION_REQUEST,
  ARP_PACKET_LEN,
  ArpPacket,
  type ArpRepr,
  emitArp,
  formatArpRepr,
  parseArp,
} from "./arp.ts";

// shared/pcaps/arp_resolution.pcapng frame 1, Ethernet payload (28 bytes):
// "ARP, Request who-has 192.168.0.1 tell 192.168.0.114".
// deno-fmt-ignore
const ARP_REQUEST = new Uint8Array([
  0x00, 0x01, // hardware type: Ethernet
  0x08, 0x00, // protocol type: IPv4
  0x06, 0x04, // hlen 6, plen 4
  0x00, 0x01, // operation: request
  0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, // sender MAC 00:16:ce:6e:8b:24
  0xc0, 0xa8, 0x00, 0x72, // sender IP 192.168.0.114
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target MAC (unknown)
  0xc0, 0xa8, 0x00, 0x01, // target IP 192.168.0.1
]);

// arp_resolution.pcapng frame 2, Ethernet payload (32 bytes, 4 of them trailer):
// "ARP, Reply 192.168.0.1 is-at 00:13:46:0b:22:ba".
// deno-fmt-ignore
const ARP_REPLY = new Uint8Array([
  0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
  0x00, 0x02, // operation: reply
  0x00, 0x13, 0x46, 0x0b, 0x22, 0xba, // sender MAC 00:13:46:0b:22:ba
  0xc0, 0xa8, 0x00, 0x01, // sender IP 192.168.0.1
  0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24, // target MAC 00:16:ce:6e:8b:24
  0xc0, 0xa8, 0x00, 0x72, // target IP 192.168.0.114
  0xc0, 0xa8, 0x00, 0x72, // trailer bytes in the capture, not part of ARP
]);

// shared/pcaps/arp_gratuitous.pcapng frame 1, Ethernet payload (46 bytes, 18 of padding):
// announcement for 24.6.125.19.
// deno-fmt-ignore
const ARP_GRATUITOUS = new Uint8Array([
  0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
  0x00, 0x03, 0x47, 0xb7, 0xf2, 0xf5, 0x18, 0x06, 0x7d, 0x13, // sender 00:03:47:b7:f2:f5 24.6.125.19
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x06, 0x7d, 0x13, // target 24.6.125.19
  ...new Uint8Array(18), // Ethernet padding
]);

const FIXTURES = [ARP_REQUEST, ARP_REPLY, ARP_GRATUITOUS];

function checked(bytes: Uint8Array): ArpPacket {
  const p = ArpPacket.check(bytes);
  assert.ok(typeof p !== "string", `check: ${p}`);
  return p;
}

function parsed(bytes: Uint8Array): ArpRepr {
  const r = parseArp(checked(bytes));
  assert.ok(typeof r !== "string", `parse: ${r}`);
  return r;
}

Deno.test("ArpPacket deconstructs a request", () => {
  const p = checked(ARP_REQUEST);
  assert.equal(p.hardwareType, 1);
  assert.equal(p.protocolType, 0x0800);
  assert.equal(p.hardwareLength, 6);
  assert.equal(p.protocolLength, 4);
  assert.equal(p.operation, ARP_OPERATION_REQUEST);
  assert.deepEqual([...p.senderMac], [0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]);
  assert.equal(p.senderIp, 0xc0a80072);
  assert.deepEqual([...p.targetMac], [0, 0, 0, 0, 0, 0]);
  assert.equal(p.targetIp, 0xc0a80001);
  assert.ok(!p.isGratuitous);
});

Deno.test("ArpPacket deconstructs a reply with a trailer", () => {
  const p = checked(ARP_REPLY);
  assert.equal(p.operation, ARP_OPERATION_REPLY);
  assert.deepEqual([...p.senderMac], [0x00, 0x13, 0x46, 0x0b, 0x22, 0xba]);
  assert.equal(p.senderIp, 0xc0a80001);
  assert.equal(p.targetIp, 0xc0a80072);
});

Deno.test("ArpPacket deconstructs a gratuitous announcement", () => {
  const p = checked(ARP_GRATUITOUS);
  assert.ok(p.isGratuitous);
  assert.equal(p.senderIp, 0x18067d13);
});

Deno.test("ArpPacket constructs the request field by field", () => {
  const bytes = new Uint8Array(ARP_PACKET_LEN);
  const p = ArpPacket.unchecked(bytes);
  p.hardwareType = 1;
  p.protocolType = 0x0800;
  p.hardwareLength = 6;
  p.protocolLength = 4;
  p.operation = ARP_OPERATION_REQUEST;
  p.senderMac = new Uint8Array([0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]);
  p.senderIp = 0xc0a80072;
  p.targetMac = new Uint8Array(6);
  p.targetIp = 0xc0a80001;
  assert.deepEqual(bytes, ARP_REQUEST);
});

Deno.test("parseArp() reads the request and the reply", () => {
  assert.deepEqual(parsed(ARP_REQUEST), {
    operation: 1,
    senderMac: new Uint8Array([0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]),
    senderIp: 0xc0a80072,
    targetMac: new Uint8Array(6),
    targetIp: 0xc0a80001,
  });
  assert.deepEqual(parsed(ARP_REPLY), {
    operation: 2,
    senderMac: new Uint8Array([0x00, 0x13, 0x46, 0x0b, 0x22, 0xba]),
    senderIp: 0xc0a80001,
    targetMac: new Uint8Array([0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]),
    targetIp: 0xc0a80072,
  });
});

Deno.test("parseArp() borrows the MACs from the packet", () => {
  const r = parsed(ARP_REPLY);
  assert.equal(r.senderMac.buffer, ARP_REPLY.buffer);
  assert.equal(r.senderMac.byteOffset, ARP_REPLY.byteOffset + 8);
});

Deno.test("emitArp() writes the fixtures", () => {
  for (const fixture of FIXTURES) {
    const bytes = new Uint8Array(ARP_PACKET_LEN);
    emitArp(parsed(fixture), bytes);
    assert.deepEqual(bytes, fixture.subarray(0, ARP_PACKET_LEN));
  }
});

Deno.test("emitArp() throws RangeError into a buffer shorter than 28 bytes", () => {
  assert.throws(() => emitArp(parsed(ARP_REQUEST), new Uint8Array(27)), RangeError);
});

Deno.test("ArpPacket.check() rejects a hardware type other than Ethernet", () => {
  const bytes = new Uint8Array(ARP_REQUEST);
  bytes[1] = 6; // IEEE 802
  assert.equal(ArpPacket.check(bytes), "unsupported_hardware");
  const hlen = new Uint8Array(ARP_REQUEST);
  hlen[4] = 8;
  assert.equal(ArpPacket.check(hlen), "unsupported_hardware");
});

Deno.test("ArpPacket.check() rejects a protocol other than IPv4", () => {
  const bytes = new Uint8Array(ARP_REQUEST);
  bytes[2] = 0x86;
  bytes[3] = 0xdd;
  assert.equal(ArpPacket.check(bytes), "unsupported_protocol");
  const plen = new Uint8Array(ARP_REQUEST);
  plen[5] = 16;
  assert.equal(ArpPacket.check(plen), "unsupported_protocol");
});

Deno.test("parseArp() rejects operations other than request and reply", () => {
  for (const op of [0, 3, 4, 8, 9, 0xffff]) {
    const bytes = new Uint8Array(ARP_REQUEST);
    new DataView(bytes.buffer).setUint16(6, op);
    assert.equal(parseArp(checked(bytes)), "unsupported_operation", `op ${op}`);
  }
});

Deno.test("ArpPacket.check() truncation sweep: every short prefix is a drop reason", () => {
  for (const fixture of FIXTURES) {
    for (let n = 0; n <= fixture.length; n++) {
      const p = ArpPacket.check(fixture.subarray(0, n));
      if (n < ARP_PACKET_LEN) {
        assert.equal(p, "truncated", `prefix ${n}`);
      } else {
        assert.ok(typeof p !== "string");
        assert.ok(typeof parseArp(p) !== "string");
        p.toString();
      }
    }
  }
});

Deno.test("ArpPacket.toString() is tcpdump style", () => {
  assert.equal(
    checked(ARP_REQUEST).toString(),
    "ARP, Request who-has 192.168.0.1 tell 192.168.0.114",
  );
  assert.equal(checked(ARP_REPLY).toString(), "ARP, Reply 192.168.0.1 is-at 00:13:46:0b:22:ba");
  assert.equal(
    checked(ARP_GRATUITOUS).toString(),
    "ARP, Request who-has 24.6.125.19 tell 24.6.125.19",
  );
  const withTha = new Uint8Array(ARP_REQUEST);
  withTha.fill(0xff, 18, 24);
  assert.equal(
    checked(withTha).toString(),
    "ARP, Request who-has 192.168.0.1 (ff:ff:ff:ff:ff:ff) tell 192.168.0.114",
  );
  const rarp = new Uint8Array(ARP_REQUEST);
  rarp[7] = 3;
  assert.equal(checked(rarp).toString(), "ARP, Reverse Request 192.168.0.114 > 192.168.0.1");
  rarp[7] = 77;
  assert.equal(checked(rarp).toString(), "ARP, op 77 192.168.0.114 > 192.168.0.1");
  assert.equal(formatArpRepr(parsed(ARP_REPLY)), checked(ARP_REPLY).toString());
});

const arbMac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const arbIp = fc.integer({ min: 0, max: 0xffffffff });
const arbRepr: fc.Arbitrary<ArpRepr> = fc.record({
  operation: fc.constantFrom(1 as const, 2 as const),
  senderMac: arbMac,
  senderIp: arbIp,
  targetMac: arbMac,
  targetIp: arbIp,
});

Deno.test("parseArp(emitArp(repr)) equals repr", () => {
  fc.assert(
    fc.property(arbRepr, fc.nat({ max: 18 }), (repr, padding) => {
      const bytes = new Uint8Array(ARP_PACKET_LEN + padding);
      emitArp(repr, bytes);
      assert.deepEqual(parsed(bytes), repr);
    }),
  );
});

Deno.test("ArpPacket.check() and parseArp() never throw on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (bytes, fixHeader) => {
      // Half the time make the fixed header valid so the later paths run.
      if (fixHeader && bytes.length >= 6) bytes.set([0, 1, 8, 0, 6, 4]);
      const p = ArpPacket.check(bytes);
      if (typeof p === "string") return;
      parseArp(p);
      p.toString();
    }),
  );
});

import assert from "node:assert/strict";
import { FLOW_ERROR, FLOW_NONE, FLOW_PACKET, FlowScratch, readFlow, tupleKey } from "./tuple.ts";

function ipv4(protocol: number, l4: number[], flags = 0): Uint8Array {
  const b = new Uint8Array(20 + l4.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0x4500);
  dv.setUint16(2, b.length);
  dv.setUint16(6, flags);
  dv.setUint8(9, protocol);
  dv.setUint32(12, 0x0a000001);
  dv.setUint32(16, 0x0a000002);
  b.set(l4, 20);
  return b;
}

Deno.test("readFlow(): ICMP echo request and reply carry the identifier on the requester's side", () => {
  const s = new FlowScratch();
  const req = ipv4(1, [8, 0, 0, 0, 0x12, 0x34, 0, 1]);
  assert.equal(readFlow(req, new DataView(req.buffer), 0, req.length, false, s), FLOW_PACKET);
  assert.deepEqual([s.srcPort, s.dstPort, s.echoRequest], [0x1234, 0, true]);
  const rep = ipv4(1, [0, 0, 0, 0, 0x12, 0x34, 0, 1]);
  assert.equal(readFlow(rep, new DataView(rep.buffer), 0, rep.length, false, s), FLOW_PACKET);
  assert.deepEqual([s.srcPort, s.dstPort, s.echoRequest], [0, 0x1234, false]);
});

Deno.test("readFlow(): an ICMP error gives the quoted datagram's tuple", () => {
  const quoted = ipv4(17, [0x13, 0x88, 0, 9, 0, 8, 0, 0]);
  const err = ipv4(1, [3, 3, 0, 0, 0, 0, 0, 0, ...quoted]);
  const s = new FlowScratch();
  assert.equal(readFlow(err, new DataView(err.buffer), 0, err.length, false, s), FLOW_ERROR);
  assert.deepEqual([s.protocol, s.srcPort, s.dstPort, s.errorL4], [17, 5000, 9, 20]);
});

Deno.test("readFlow(): later fragments and the first of several are not tracked", () => {
  const s = new FlowScratch();
  const later = ipv4(17, [0, 1, 0, 2, 0, 8, 0, 0], 0x0001);
  assert.equal(readFlow(later, new DataView(later.buffer), 0, later.length, false, s), FLOW_NONE);
  const first = ipv4(17, [0, 1, 0, 2, 0, 8, 0, 0], 0x2000);
  assert.equal(readFlow(first, new DataView(first.buffer), 0, first.length, false, s), FLOW_NONE);
});

Deno.test("readFlow(): IPv6 UDP after a destination options header", () => {
  const b = new Uint8Array(40 + 8 + 8);
  b[0] = 0x60;
  b[5] = 16;
  b[6] = 60; // destination options
  b[23] = 1; // ::1
  b[39] = 2; // ::2
  b[40] = 17; // then UDP
  b[41] = 0; // 8 bytes
  b[42] = 1; // PadN, 4 bytes of padding follow (6 bytes of options in all)
  b[43] = 4;
  b.set([0x13, 0x88, 0, 53, 0, 8, 0, 0], 48);
  const s = new FlowScratch();
  assert.equal(readFlow(b, new DataView(b.buffer), 0, b.length, false, s), FLOW_PACKET);
  assert.deepEqual([s.family, s.protocol, s.srcPort, s.dstPort, s.l4], [6, 17, 5000, 53, 48]);
});

Deno.test("readFlow(): every prefix of every packet gives an answer, never an exception", () => {
  const quoted = ipv4(6, [
    0x13,
    0x88,
    0,
    80,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0x50,
    0x02,
    0xff,
    0xff,
    0,
    0,
    0,
    0,
  ]);
  const packets = [
    quoted,
    ipv4(1, [3, 3, 0, 0, 0, 0, 0, 0, ...quoted]),
    ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1]),
    ipv4(17, [0, 1, 0, 2, 0, 8, 0, 0]),
  ];
  const s = new FlowScratch();
  for (const p of packets) {
    for (let end = 0; end <= p.length; end++) {
      const k = readFlow(p, new DataView(p.buffer), 0, end, false, s);
      assert.ok(k === FLOW_NONE || k === FLOW_PACKET || k === FLOW_ERROR);
    }
  }
});

Deno.test("readFlow(): an ICMPv4 error quoting an IPv6 datagram relates to no flow", () => {
  // IPv4 + ICMP port unreachable quoting IPv6 UDP [::1]:5000 > [::2]:53.
  const b = new Uint8Array(20 + 8 + 48);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0x4500);
  dv.setUint16(2, b.length);
  b[9] = 1;
  b[20] = 3;
  b[21] = 3;
  b[28] = 0x60;
  b[28 + 6] = 17;
  b[28 + 7] = 64;
  b[28 + 8 + 15] = 1;
  b[28 + 24 + 15] = 2;
  dv.setUint16(28 + 40, 5000);
  dv.setUint16(28 + 42, 53);
  assert.equal(readFlow(b, dv, 0, b.length, false, new FlowScratch()), FLOW_NONE);
});

Deno.test("tupleKey(): an IPv6 tuple whose address keys are digits never spells an IPv4 tuple's key", () => {
  // 1.0.0.0 is 16777216; an IPv6 key of the same 8 characters (words 0x31, 0x36, ...).
  const v6 = "16777216";
  assert.notEqual(tupleKey(6, v6, 80, v6, 80), tupleKey(6, 16777216, 80, 16777216, 80));
});

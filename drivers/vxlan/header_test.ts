import assert from "node:assert/strict";
import { emitVxlan, parseVxlan, VXLAN_HEADER_LEN, VxlanPacket, type VxlanRepr } from "./header.ts";

// flags 0x08 (I), reserved 0x000000, VNI 0x00002a (42), reserved 0x00,
// then an inner Ethernet header: dst ff:ff:ff:ff:ff:ff, src 02:00:00:00:00:01, type 0x0806.
const FIXTURE = new Uint8Array([
  0x08,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x2a,
  0x00,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0x02,
  0x00,
  0x00,
  0x00,
  0x00,
  0x01,
  0x08,
  0x06,
]);
const REPR: VxlanRepr = { vni: 42 };

Deno.test("VxlanPacket deconstructs the fixture", () => {
  const p = VxlanPacket.check(FIXTURE);
  assert.ok(p instanceof VxlanPacket);
  assert.equal(p.flags, 0x08);
  assert.equal(p.vni, 42);
  assert.deepEqual([...p.payload.subarray(12, 14)], [0x08, 0x06]);
  assert.equal(p.toString(), "VXLAN, flags [I] (0x08), vni 42");
});

Deno.test("VxlanPacket constructs the fixture's header through its setters", () => {
  const b = new Uint8Array(FIXTURE.length);
  b.set(FIXTURE.subarray(VXLAN_HEADER_LEN), VXLAN_HEADER_LEN);
  const p = VxlanPacket.unchecked(b);
  p.flags = 0x08;
  p.vni = 42;
  assert.deepEqual(b, FIXTURE);
});

Deno.test("parseVxlan() reads the fixture's repr", () => {
  assert.deepEqual(parseVxlan(VxlanPacket.check(FIXTURE) as VxlanPacket), REPR);
});

Deno.test("emitVxlan() writes the fixture's header and zeroes reserved bits", () => {
  const b = new Uint8Array(FIXTURE.length).fill(0xee);
  b.set(FIXTURE.subarray(VXLAN_HEADER_LEN), VXLAN_HEADER_LEN);
  emitVxlan(REPR, VxlanPacket.unchecked(b));
  assert.deepEqual(b, FIXTURE);
});

Deno.test("VNI keeps 24 bits: 0xffffff round-trips, the low reserved byte stays 0", () => {
  const b = new Uint8Array(22);
  emitVxlan({ vni: 0xffffff }, VxlanPacket.unchecked(b));
  assert.deepEqual([...b.subarray(4, 8)], [0xff, 0xff, 0xff, 0x00]);
  assert.equal((VxlanPacket.check(b) as VxlanPacket).vni, 0xffffff);
});

Deno.test("parseVxlan() rejects a header without the I flag and ignores reserved bits", () => {
  const b = FIXTURE.slice();
  b[0] = 0xf7; // every flag but I
  assert.equal(parseVxlan(VxlanPacket.check(b) as VxlanPacket), "vxlan.no_i_flag");
  b[0] = 0xff;
  b[1] =
    b[2] =
    b[3] =
    b[7] =
      0xff;
  assert.deepEqual(parseVxlan(VxlanPacket.check(b) as VxlanPacket), REPR);
});

Deno.test("every prefix of the fixture gives a drop reason or the repr, never an exception", () => {
  for (let n = 0; n <= FIXTURE.length; n++) {
    const p = VxlanPacket.check(FIXTURE.subarray(0, n));
    if (n < VXLAN_HEADER_LEN) {
      assert.equal(p, "vxlan.truncated", `length ${n}`);
      continue;
    }
    assert.ok(p instanceof VxlanPacket);
    const r = parseVxlan(p);
    assert.deepEqual(r, n < FIXTURE.length ? "vxlan.inner_truncated" : REPR, `length ${n}`);
  }
});

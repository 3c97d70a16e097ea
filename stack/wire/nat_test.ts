import assert from "node:assert/strict";
import { finishChecksum, internetChecksum, pseudoHeaderSumV4, sumBytes } from "./checksum.ts";
import { rewriteIpv4Address } from "./nat.ts";

const SRC = 0x0a000001;
const DST = 0x0a000002;

/** A datagram with `payload` bytes of transport data and valid checksums. */
function datagram(proto: number, transportLen: number, sumAt: number, frag = 0): DataView {
  const b = new Uint8Array(20 + transportLen);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0x4500);
  dv.setUint16(2, b.length);
  dv.setUint16(6, frag);
  dv.setUint16(8, 0x4000 | proto);
  dv.setUint32(12, SRC);
  dv.setUint32(16, DST);
  for (let i = 20; i < b.length; i++) b[i] = (i * 37) & 0xff;
  if (sumAt >= 0) {
    dv.setUint16(20 + sumAt, 0);
    const sum = finishChecksum(
      sumBytes(b.subarray(20), pseudoHeaderSumV4(SRC, DST, proto, transportLen)),
    );
    dv.setUint16(20 + sumAt, sum);
  }
  dv.setUint16(10, internetChecksum(b.subarray(0, 20)));
  return dv;
}

function transportOk(dv: DataView, proto: number): boolean {
  const b = new Uint8Array(dv.buffer);
  const len = b.length - 20;
  const s = sumBytes(
    b.subarray(20),
    pseudoHeaderSumV4(dv.getUint32(12), dv.getUint32(16), proto, len),
  );
  return finishChecksum(s) === 0;
}

function headerOk(dv: DataView): boolean {
  return internetChecksum(new Uint8Array(dv.buffer).subarray(0, 20)) === 0;
}

Deno.test("rewriteIpv4Address keeps the IP and TCP checksums right (destination and source)", () => {
  const dv = datagram(6, 40, 16);
  assert.ok(transportOk(dv, 6));
  assert.equal(rewriteIpv4Address(dv, 0, dv.byteLength, "destination", 0xc0a80105), DST);
  assert.equal(dv.getUint32(16), 0xc0a80105);
  assert.ok(headerOk(dv));
  assert.ok(transportOk(dv, 6));
  assert.equal(rewriteIpv4Address(dv, 0, dv.byteLength, "source", 0xcb007101), SRC);
  assert.equal(dv.getUint32(12), 0xcb007101);
  assert.ok(headerOk(dv));
  assert.ok(transportOk(dv, 6));
});

Deno.test("rewriteIpv4Address updates a UDP checksum and leaves a zero (absent) one at zero", () => {
  const dv = datagram(17, 13, 6);
  rewriteIpv4Address(dv, 0, dv.byteLength, "destination", 0x08080808);
  assert.ok(headerOk(dv));
  assert.ok(transportOk(dv, 17));
  const none = datagram(17, 13, -1);
  none.setUint16(26, 0);
  none.setUint16(10, 0);
  none.setUint16(10, internetChecksum(new Uint8Array(none.buffer).subarray(0, 20)));
  rewriteIpv4Address(none, 0, none.byteLength, "source", 0x08080808);
  assert.equal(none.getUint16(26), 0);
  assert.ok(headerOk(none));
});

Deno.test("rewriteIpv4Address touches only the IP checksum of a later fragment or of ICMP", () => {
  const frag = datagram(6, 40, -1, 0x0003); // offset 24: no TCP header here
  const before = new Uint8Array(frag.buffer).slice(20);
  rewriteIpv4Address(frag, 0, frag.byteLength, "destination", 0x0a0000fe);
  assert.ok(headerOk(frag));
  assert.deepEqual(new Uint8Array(frag.buffer).slice(20), before);
  const icmp = datagram(1, 8, -1);
  const ib = new Uint8Array(icmp.buffer);
  icmp.setUint16(22, 0);
  icmp.setUint16(22, internetChecksum(ib.subarray(20)));
  rewriteIpv4Address(icmp, 0, icmp.byteLength, "destination", 0x0a0000fe);
  assert.ok(headerOk(icmp));
  assert.ok(internetChecksum(new Uint8Array(icmp.buffer).subarray(20)) === 0);
});

Deno.test("rewriteIpv4Address: same address is a no-op; a too short header is left alone", () => {
  const dv = datagram(6, 40, 16);
  const copy = new Uint8Array(dv.buffer).slice();
  assert.equal(rewriteIpv4Address(dv, 0, dv.byteLength, "source", SRC), SRC);
  assert.deepEqual(new Uint8Array(dv.buffer), copy);
  assert.equal(rewriteIpv4Address(dv, 0, 19, "source", 1), 0);
  assert.deepEqual(new Uint8Array(dv.buffer), copy);
});

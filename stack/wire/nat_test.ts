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

Deno.test("rewriteIpv4Address of a partial checksum equals the pseudo-header sum recomputed, over random and edge addresses", () => {
  // A small seeded generator (xorshift32): the same cases every run.
  let state = 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const edges = [0, 0xffffffff, 0xffff0000, 0x0000ffff, 0x00010000, 0xfffe0001, 0x7fff8000];
  const cases: [number, number, number][] = [];
  for (const a of edges) for (const b of edges) for (const c of edges) cases.push([a, b, c]);
  for (let i = 0; i < 3000; i++) cases.push([next(), next(), i % 5 === 0 ? 0xffffffff : next()]);
  for (const [src, dst, to] of cases) {
    for (const [proto, sumAt] of [[17, 6], [6, 16]] as const) {
      for (const field of ["source", "destination"] as const) {
        const len = 8 + (next() & 0x3fff);
        const b = new Uint8Array(20 + 20);
        const dv = new DataView(b.buffer);
        dv.setUint16(0, 0x4500);
        dv.setUint16(2, 20 + len);
        dv.setUint16(8, 0x4000 | proto);
        dv.setUint32(12, src);
        dv.setUint32(16, dst);
        dv.setUint16(20 + sumAt, pseudoHeaderSumV4(src, dst, proto, len));
        rewriteIpv4Address(dv, 0, b.length, field, to, true);
        const want = field === "source"
          ? pseudoHeaderSumV4(to, dst, proto, len)
          : pseudoHeaderSumV4(src, to, proto, len);
        const got = dv.getUint16(20 + sumAt);
        const what = `${field} ${src.toString(16)} ${dst.toString(16)} -> ${to.toString(16)}`;
        // One's complement has two zeros: the field must be the same number, not only equivalent.
        assert.equal(got, want, `proto ${proto} ${what}`);
      }
    }
  }
});

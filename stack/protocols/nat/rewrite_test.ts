import assert from "node:assert/strict";
import {
  finishChecksum,
  internetChecksum,
  pseudoHeaderSumV4,
  sumBytes,
} from "../../wire/checksum.ts";
import { rewriteIpv4Endpoint, rewriteIpv4Port, translateIcmpError } from "./rewrite.ts";

/** An IPv4 datagram with a correct header and transport checksum. */
function datagram(protocol: number, src: number, dst: number, l4: number[]): Uint8Array {
  const b = new Uint8Array(20 + l4.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0x4500);
  dv.setUint16(2, b.length);
  dv.setUint8(8, 64);
  dv.setUint8(9, protocol);
  dv.setUint32(12, src);
  dv.setUint32(16, dst);
  dv.setUint16(10, internetChecksum(b.subarray(0, 20)));
  b.set(l4, 20);
  const seg = b.subarray(20);
  if (protocol === 1) {
    dv.setUint16(22, 0);
    dv.setUint16(22, internetChecksum(seg));
  } else {
    const at = protocol === 6 ? 36 : 26;
    if (protocol === 17) dv.setUint16(24, seg.length);
    dv.setUint16(at, 0);
    dv.setUint16(
      at,
      finishChecksum(pseudoHeaderSumV4(src, dst, protocol, seg.length) + sumBytes(seg)),
    );
  }
  return b;
}

function transportOk(b: Uint8Array): boolean {
  const dv = new DataView(b.buffer, b.byteOffset);
  const seg = b.subarray(20);
  if (b[9] === 1) return internetChecksum(seg) === 0;
  return finishChecksum(
    pseudoHeaderSumV4(dv.getUint32(12), dv.getUint32(16), b[9]!, seg.length) + sumBytes(seg),
  ) === 0;
}

Deno.test("rewriteIpv4Endpoint() keeps IP, TCP and UDP checksums right", () => {
  for (const proto of [6, 17]) {
    const l4 = new Array(proto === 6 ? 24 : 12).fill(0).map((_, i) => i * 13 & 255);
    if (proto === 6) l4[12] = 0x50;
    const b = datagram(proto, 0x0a010005, 0xc633640a, l4);
    const dv = new DataView(b.buffer);
    rewriteIpv4Endpoint(dv, b, 0, b.length, "source", 0xcb007101, 40001);
    assert.equal(dv.getUint16(20), 40001);
    assert.equal(internetChecksum(b.subarray(0, 20)), 0);
    assert.ok(transportOk(b), `protocol ${proto}`);
    rewriteIpv4Endpoint(dv, b, 0, b.length, "destination", 0x0a010009, 80);
    assert.equal(dv.getUint16(22), 80);
    assert.ok(transportOk(b), `protocol ${proto}`);
  }
});

Deno.test("rewriteIpv4Port() maps an echo identifier: the request's as source, the reply's as destination", () => {
  const req = datagram(1, 1, 2, [8, 0, 0, 0, 0x12, 0x34, 0, 1, 9, 9]);
  const dv = new DataView(req.buffer);
  rewriteIpv4Port(dv, req, 0, req.length, "destination", 7); // not a reply: unchanged
  assert.equal(dv.getUint16(24), 0x1234);
  rewriteIpv4Port(dv, req, 0, req.length, "source", 7);
  assert.equal(dv.getUint16(24), 7);
  assert.ok(transportOk(req));
});

Deno.test("rewriteIpv4Port() leaves a zero UDP checksum zero and never reads past the end", () => {
  const b = datagram(17, 1, 2, [0, 1, 0, 2, 0, 12, 0, 0, 1, 2, 3, 4]);
  const dv = new DataView(b.buffer);
  dv.setUint16(26, 0);
  rewriteIpv4Port(dv, b, 0, b.length, "source", 999);
  assert.equal(dv.getUint16(26), 0);
  for (let end = 0; end < b.length; end++) {
    rewriteIpv4Port(dv, b, 0, end, "destination", 1234); // truncated: no throw
  }
});

Deno.test("translateIcmpError() rewrites outer and quoted headers; every checksum verifies", () => {
  const quoted = datagram(17, 0xcb007101, 0xc633640a, [0x9c, 0x41, 0, 9, 0, 12, 0, 0, 1, 2, 3, 4]);
  const icmp = new Uint8Array(8 + quoted.length);
  icmp[0] = 3;
  icmp[1] = 3;
  icmp.set(quoted, 8);
  const b = datagram(1, 0xc633640a, 0xcb007101, [...icmp]);
  const dv = new DataView(b.buffer);
  translateIcmpError(dv, b, 0, b.length, 20, "destination", 0x0a010005, "source", 0x0a010005, 5000);
  assert.equal(dv.getUint32(16), 0x0a010005);
  assert.equal(internetChecksum(b.subarray(0, 20)), 0);
  assert.ok(transportOk(b), "ICMP checksum");
  const inner = b.subarray(28);
  assert.equal(new DataView(inner.buffer, inner.byteOffset).getUint32(12), 0x0a010005);
  assert.equal(new DataView(inner.buffer, inner.byteOffset).getUint16(20), 5000);
  assert.equal(internetChecksum(inner.subarray(0, 20)), 0);
  assert.ok(transportOk(inner), "quoted UDP checksum");
});

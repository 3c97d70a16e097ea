import assert from "node:assert/strict";
import { segmentUdp } from "./uso.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import { pseudoHeaderSumV4, pseudoHeaderSumV6, sumRange } from "../../stack/wire/checksum.ts";

function collect(
  b: Uint8Array,
  ipAt: number,
  gsoSize: number,
): { n: number; frames: Uint8Array[] } {
  const frames: Uint8Array[] = [];
  const n = segmentUdp(b, 0, ipAt, b.length, gsoSize, new PacketPool(), (p) => {
    frames.push(p.data.slice());
    p.release();
  });
  return { n, frames };
}

Deno.test("segmentUdp() cuts an IPv4 super-datagram into datagrams with valid lengths, ids and checksums", () => {
  const payload = 2500;
  const b = new Uint8Array(20 + 8 + payload);
  const dv = new DataView(b.buffer);
  b.set([0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  dv.setUint16(2, b.length);
  dv.setUint16(20, 40000);
  dv.setUint16(22, 9);
  for (let i = 0; i < payload; i++) b[28 + i] = i & 0xff;
  const { n, frames } = collect(b, 0, 1000);
  assert.equal(n, 3);
  assert.deepEqual(frames.map((f) => f.length), [1028, 1028, 528]);
  frames.forEach((f, i) => {
    const fdv = new DataView(f.buffer);
    assert.equal(fdv.getUint16(2), f.length, "IPv4 total length");
    assert.equal(fdv.getUint16(4), 0x1234 + i, "one identification each");
    assert.equal(sumRange(f, 0, 20), 0xffff, "IPv4 header checksum");
    assert.equal(fdv.getUint16(24), f.length - 20, "UDP length");
    const pseudo = pseudoHeaderSumV4(0x0a000001, 0x0a000002, 17, f.length - 20);
    assert.equal(sumRange(f, 20, f.length, pseudo), 0xffff, "UDP checksum");
    assert.equal(f[28], (i * 1000) & 0xff, "payload in order");
  });
});

Deno.test("segmentUdp() cuts an IPv6 super-datagram and refuses non-UDP or a zero gso size", () => {
  const payload = 300;
  const b = new Uint8Array(40 + 8 + payload);
  const dv = new DataView(b.buffer);
  b[0] = 0x60;
  dv.setUint16(4, 8 + payload);
  b[6] = 17;
  b[7] = 64;
  b[23] = 1; // ::1 → ::2 (any addresses will do)
  b[39] = 2;
  dv.setUint16(40, 5000);
  dv.setUint16(42, 7);
  b.fill(0xab, 48);
  const { n, frames } = collect(b, 0, 128);
  assert.equal(n, 3);
  for (const f of frames) {
    const fdv = new DataView(f.buffer);
    assert.equal(fdv.getUint16(4), f.length - 40, "IPv6 payload length");
    const pseudo = pseudoHeaderSumV6(f.subarray(8, 24), f.subarray(24, 40), 17, f.length - 40);
    assert.equal(sumRange(f, 40, f.length, pseudo), 0xffff, "UDP checksum");
  }
  assert.equal(collect(b, 0, 0).n, 0);
  b[6] = 6; // TCP
  assert.equal(collect(b, 0, 128).n, 0);
});

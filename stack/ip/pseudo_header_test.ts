import assert from "node:assert/strict";
import { packetPseudoHeaderSum, pseudoHeaderSum } from "./pseudo_header.ts";
import { TransportErrorKind, transportErrorName } from "./transport_error.ts";
import { PacketBuffer } from "../packet.ts";
import { pseudoHeaderSumV4, pseudoHeaderSumV6 } from "../wire/checksum.ts";
import { IpAddress } from "../wire/ip_address.ts";

const V6_SRC = IpAddress.parse("2001:db8::ffff:1")!;
const V6_DST = IpAddress.parse("fe80::abcd:ef01:2345")!;

Deno.test("pseudoHeaderSum() equals the per-version sums of wire/checksum.ts", () => {
  for (
    const [src, dst, proto, len] of [
      [0x0a000001, 0x0a000002, 17, 28],
      [0xffffffff, 0xfffffffe, 6, 65535],
      [0, 0, 6, 0],
    ] as const
  ) {
    assert.equal(pseudoHeaderSum(src, dst, proto, len), pseudoHeaderSumV4(src, dst, proto, len));
  }
  for (const len of [0, 8, 1232, 65535, 70000]) {
    assert.equal(
      pseudoHeaderSum(V6_SRC.key, V6_DST.key, 58, len),
      pseudoHeaderSumV6(V6_SRC.bytes(), V6_DST.bytes(), 58, len),
    );
  }
});

Deno.test("packetPseudoHeaderSum() reads either family's addresses from the packet bytes", () => {
  const b = new Uint8Array(48);
  b.set(V6_SRC.bytes(), 8);
  b.set(V6_DST.bytes(), 24);
  const pkt = PacketBuffer.wrap(b);
  pkt.family = 6;
  pkt.srcAt = 8;
  pkt.dstAt = 24;
  assert.equal(
    packetPseudoHeaderSum(pkt, 17, 1000),
    pseudoHeaderSum(V6_SRC.key, V6_DST.key, 17, 1000),
  );
  assert.equal(pkt.srcKey(), V6_SRC.key);
  assert.equal(pkt.dstKey(), V6_DST.key);
  b.set([192, 168, 1, 1, 10, 0, 0, 7], 0);
  pkt.family = 4;
  pkt.srcAt = 0;
  pkt.dstAt = 4;
  assert.equal(packetPseudoHeaderSum(pkt, 6, 40), pseudoHeaderSumV4(0xc0a80101, 0x0a000007, 6, 40));
  assert.equal(pkt.srcKey(), 0xc0a80101);
});

Deno.test("transportErrorName() names every kind", () => {
  for (const kind of Object.values(TransportErrorKind)) {
    assert.ok(!transportErrorName(kind).startsWith("error kind"), String(kind));
  }
  assert.equal(transportErrorName(99), "error kind 99");
});

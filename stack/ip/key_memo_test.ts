import assert from "node:assert/strict";
import { IpKeyMemo } from "./key_memo.ts";
import { PacketBuffer } from "../packet.ts";
import { IpAddress } from "../wire/ip_address.ts";

/** A packet holding the addresses `list`, 16 bytes each, of family 6. */
function packetOf(list: string[]): PacketBuffer {
  const bytes = new Uint8Array(16 * list.length);
  list.forEach((a, i) => bytes.set(IpAddress.parse(a)!.bytes(), 16 * i));
  const pkt = PacketBuffer.wrap(bytes);
  pkt.family = 6;
  return pkt;
}

Deno.test("IpKeyMemo.keyAt() returns the key of the bytes, whichever slot they share", () => {
  // Same last 32 bits (one slot), different prefixes: each read must see its own bytes.
  const list = ["fd00::1", "2001:db8::1", "fe80::1", "fd00::1:0:0:1", "fd00::2"];
  const pkt = packetOf(list);
  const memo = new IpKeyMemo();
  for (let round = 0; round < 3; round++) {
    list.forEach((a, i) => assert.equal(memo.keyAt(pkt, 16 * i), IpAddress.parse(a)!.key, a));
  }
});

Deno.test("IpKeyMemo.keyAt() hands back the same string for the same bytes", () => {
  const pkt = packetOf(["fd00::1", "fd00::1"]);
  const memo = new IpKeyMemo();
  const first = memo.keyAt(pkt, 0);
  pkt.buf[15] = 1; // unchanged bytes, another offset
  assert.equal(Object.is(memo.keyAt(pkt, 16), first), true);
});

Deno.test("IpKeyMemo.keyAt() reads IPv4 keys as numbers", () => {
  const pkt = PacketBuffer.wrap(new Uint8Array([10, 0, 0, 1, 192, 0, 2, 255]));
  pkt.family = 4;
  const memo = new IpKeyMemo();
  assert.equal(memo.keyAt(pkt, 0), 0x0a000001);
  assert.equal(memo.keyAt(pkt, 4), 0xc00002ff);
});

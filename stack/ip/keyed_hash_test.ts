import assert from "node:assert/strict";
import { SeededRng } from "../rng.ts";
import { IpAddress } from "../wire/ip_address.ts";
import { KeyedHash } from "./keyed_hash.ts";

Deno.test("KeyedHash.withKey() is HalfSipHash-2-4 keyed as given: the reference vector, key 00..07", () => {
  // The same vector as tcp/isn_test.ts, keyed directly rather than through an Rng.
  const h = KeyedHash.withKey(0x03020100, 0x07060504);
  assert.equal(h.hash(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c), 0x84acb5d9);
});

Deno.test("KeyedHash keyed from an Rng equals withKey() of the Rng's first two words", () => {
  const rng = new SeededRng(11);
  const copy = new SeededRng(11);
  const a = new KeyedHash(rng);
  const b = KeyedHash.withKey(copy.nextU32(), copy.nextU32());
  assert.equal(a.hash(1, 2, 3, 4), b.hash(1, 2, 3, 4));
});

Deno.test("KeyedHash.address() hashes every bit of an IPv6 key", () => {
  const h = KeyedHash.withKey(1, 2);
  const x = IpAddress.parse("2001:db8::1")!.key;
  const y = IpAddress.parse("2001:db8::2")!.key;
  assert.notEqual(h.begin().address(x).end(), h.begin().address(y).end());
  assert.equal(h.begin().address(x).end(), h.begin().address(x).end());
});

import assert from "node:assert/strict";
import { PmtuCache } from "./pmtu_cache.ts";
import { IpAddress } from "../wire/ip_address.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

Deno.test("PmtuCache with IPv6 keys: floored without a lock when lockAtFloor is off; entries in address order", () => {
  const c = new PmtuCache<string | number>(() => 0, { minMtu: 1280, lockAtFloor: false });
  assert.equal(c.learn(k("2001:db8::2"), 600), 1280);
  assert.ok(!c.isLocked(k("2001:db8::2")));
  c.learn(k("2001:db8::1"), 1400);
  assert.deepEqual(c.entries().map((e) => IpAddress.fromKey(e.destination).toString()), [
    "2001:db8::1",
    "2001:db8::2",
  ]);
});

Deno.test("PmtuCache: expiry 0 keeps nothing (IPv4's pmtuExpiry 0), a negative or fractional one is refused", () => {
  const c = new PmtuCache(() => 0, { minMtu: 552, expiry: 0 });
  assert.equal(c.learn(0x0a000001, 1000), 1000);
  assert.equal(c.get(0x0a000001), 0);
  assert.throws(() => new PmtuCache(() => 0, { minMtu: 552, expiry: -1 }), RangeError);
  assert.throws(() => new PmtuCache(() => 0, { minMtu: 552, expiry: 0.5 }), RangeError);
  assert.throws(() => new PmtuCache(() => 0, { minMtu: 67 }), RangeError);
});

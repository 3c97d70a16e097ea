import assert from "node:assert/strict";
import { IPV6_PMTU_EXPIRY, Ipv6PmtuCache } from "./pmtu.ts";
import { IpAddress } from "../../wire/ip_address.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

Deno.test("Ipv6PmtuCache is bounded: the oldest destination goes first", () => {
  const cache = new Ipv6PmtuCache(() => 0, { maxEntries: 2 });
  cache.learn(k("2001:db8::1"), 1400);
  cache.learn(k("2001:db8::2"), 1400);
  cache.learn(k("2001:db8::3"), 1400);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(k("2001:db8::1")), 0);
  assert.equal(cache.get(k("2001:db8::3")), 1400);
});

Deno.test("Ipv6PmtuCache: lowering again restarts the 10-minute lifetime", () => {
  let now = 0;
  const cache = new Ipv6PmtuCache(() => now);
  const dst = k("2001:db8::1");
  cache.learn(dst, 1400);
  now = 300_000_000;
  cache.learn(dst, 1300);
  assert.equal(cache.expires(dst), now + IPV6_PMTU_EXPIRY);
  now += IPV6_PMTU_EXPIRY - 1;
  assert.equal(cache.get(dst), 1300);
  now += 1;
  assert.equal(cache.get(dst), 0);
  assert.equal(cache.expires(dst), 0);
});

Deno.test("Ipv6PmtuCache refuses a bound below 1 and a lifetime below 1 µs", () => {
  assert.throws(() => new Ipv6PmtuCache(() => 0, { maxEntries: 0 }), RangeError);
  assert.throws(() => new Ipv6PmtuCache(() => 0, { expiry: 0 }), RangeError);
  assert.throws(() => new Ipv6PmtuCache(() => 0, { maxEntries: 1.5 }), RangeError);
});

import assert from "node:assert/strict";
import { IcmpRateLimiter } from "./icmp_rate_limit.ts";
import { IpAddress } from "../wire/ip_address.ts";

Deno.test("IcmpRateLimiter: 6 in a burst per destination, then one a second; global cap too", () => {
  const rl = new IcmpRateLimiter();
  let sent = 0;
  for (let i = 0; i < 10; i++) if (rl.allow(1, 0)) sent++;
  assert.equal(sent, 6);
  assert.ok(!rl.allow(1, 999_999));
  assert.ok(rl.allow(1, 1_000_000));
  const g = new IcmpRateLimiter({ interval: 0, perSecond: 1000, globalBurst: 50 });
  sent = 0;
  for (let i = 0; i < 100; i++) if (g.allow(i, 0)) sent++;
  assert.equal(sent, 50);
  assert.ok(g.allow(1000, 1000), "a token per millisecond");
  const off = new IcmpRateLimiter({ interval: 0, perSecond: 0 });
  for (let i = 0; i < 1000; i++) assert.ok(off.allow(1, 0));
});

Deno.test("IcmpRateLimiter: IPv6 destinations have buckets of their own", () => {
  const rl = new IcmpRateLimiter();
  const a = IpAddress.parse("fd00::9")!.key;
  const b = IpAddress.parse("fd00::8")!.key;
  let sent = 0;
  for (let i = 0; i < 10; i++) if (rl.allow(a, 0)) sent++;
  assert.equal(sent, 6);
  assert.ok(rl.allow(b, 0));
  assert.ok(rl.allow(a, 1_000_000));
});

Deno.test("IcmpRateLimiter: a burst below 1 or a negative interval is refused", () => {
  assert.throws(() => new IcmpRateLimiter({ burst: 0 }), RangeError);
  assert.throws(() => new IcmpRateLimiter({ globalBurst: 0 }), RangeError);
  assert.throws(() => new IcmpRateLimiter({ interval: -1 }), RangeError);
  assert.throws(() => new IcmpRateLimiter({ perSecond: Number.NaN }), RangeError);
});

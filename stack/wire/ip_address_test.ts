import assert from "node:assert/strict";
import {
  formatIpKey,
  IpAddress,
  ipKeyAt,
  ipKeyFamily,
  ipKeyHash,
  isUnspecifiedKey,
  writeIpKey,
} from "./ip_address.ts";
import { parseIpv6Address } from "./ipv6_address.ts";

Deno.test("IpAddress.parse() reads both families and toString() writes RFC 5952", () => {
  const v4 = IpAddress.parse("192.168.0.1")!;
  assert.equal(v4.family, 4);
  assert.equal(v4.key, 0xc0a80001);
  assert.equal(v4.v4, 0xc0a80001);
  assert.equal(v4.toString(), "192.168.0.1");
  const v6 = IpAddress.parse("2001:0DB8:0:0:0:0:0:1")!;
  assert.equal(v6.family, 6);
  assert.equal(v6.toString(), "2001:db8::1");
  assert.equal(typeof v6.key, "string");
  assert.equal(IpAddress.parse("::ffff:10.0.0.1")!.toString(), "::ffff:10.0.0.1");
  assert.equal(IpAddress.parse("10.0.0"), null);
  assert.equal(IpAddress.parse("::g"), null);
  assert.equal(IpAddress.parse(""), null);
  assert.throws(() => v6.v4, TypeError);
});

Deno.test("IpAddress equality goes through the key, across constructors", () => {
  const a = IpAddress.v6(parseIpv6Address("fe80::1")!);
  const b = IpAddress.parse("fe80:0::1")!;
  assert.ok(a.equals(b));
  assert.equal(a.key, b.key);
  assert.ok(IpAddress.v4(0x0a000001 | 0).equals(IpAddress.parse("10.0.0.1")!));
  assert.ok(!IpAddress.parse("::")!.equals(IpAddress.ANY4));
  assert.ok(IpAddress.fromKey(IpAddress.LOOPBACK6.key).equals(IpAddress.LOOPBACK6));
  assert.deepEqual([...IpAddress.parse("::1")!.bytes()], [...new Uint8Array(15), 1]);
  assert.throws(() => IpAddress.v6(new Uint8Array(4)), RangeError);
});

Deno.test("IpAddress classifies loopback, multicast, unspecified, broadcast, link-local", () => {
  const p = (s: string) => IpAddress.parse(s)!;
  assert.ok(p("127.0.0.5").isLoopback() && p("::1").isLoopback());
  assert.ok(!p("::2").isLoopback() && !p("128.0.0.1").isLoopback());
  assert.ok(p("224.0.0.1").isMulticast() && p("ff02::1").isMulticast());
  assert.ok(!p("fe80::1").isMulticast() && !p("10.0.0.1").isMulticast());
  assert.ok(p("0.0.0.0").isUnspecified() && p("::").isUnspecified());
  assert.ok(!p("::1").isUnspecified());
  assert.ok(p("255.255.255.255").isBroadcast() && !p("ff02::1").isBroadcast());
  assert.ok(p("169.254.1.1").isLinkLocal() && p("fe80::1").isLinkLocal());
  assert.ok(p("febf::1").isLinkLocal() && !p("fec0::1").isLinkLocal());
  assert.equal(IpAddress.any(6), IpAddress.ANY6);
});

Deno.test("ipKeyAt() and writeIpKey() round-trip packet bytes of both families", () => {
  const b = new Uint8Array(24);
  const v6 = parseIpv6Address("2001:db8::a:b")!;
  b.set(v6, 4);
  const k6 = ipKeyAt(b, 4, 6);
  assert.equal(k6, IpAddress.v6(v6).key);
  assert.equal(ipKeyFamily(k6), 6);
  assert.equal(formatIpKey(k6), "2001:db8::a:b");
  b.set([10, 0, 0, 200], 0);
  const k4 = ipKeyAt(b, 0, 4);
  assert.equal(k4, 0x0a0000c8);
  assert.equal(ipKeyFamily(k4), 4);
  const out = new Uint8Array(20);
  writeIpKey(k6, out, 2);
  writeIpKey(0xc0a80101, out, 16);
  assert.deepEqual([...out.subarray(2, 16)], [...v6.subarray(0, 14)]);
  assert.deepEqual([...out.subarray(16)], [192, 168, 1, 1]);
});

Deno.test("ipKeyHash() is the address for IPv4 and spreads IPv6", () => {
  assert.equal(ipKeyHash(0xc0a80101), 0xc0a80101 | 0);
  const a = ipKeyHash(IpAddress.parse("2001:db8::1")!.key);
  const b = ipKeyHash(IpAddress.parse("2001:db8::2")!.key);
  assert.notEqual(a, b);
  assert.equal(a, a | 0);
  assert.ok(isUnspecifiedKey(0) && isUnspecifiedKey(IpAddress.ANY6.key));
  assert.ok(!isUnspecifiedKey(1));
});

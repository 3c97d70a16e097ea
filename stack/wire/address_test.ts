import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import {
  BROADCAST_MAC,
  BROADCAST_MAC_NUMBER,
  formatIpAddress,
  formatIpv4Address,
  formatIpv6Address,
  formatMac,
  ipv4BroadcastAddress,
  ipv4InSubnet,
  ipv4Mask,
  ipv4MulticastMac,
  ipv4NetworkAddress,
  ipv4PrefixLength,
  isBroadcastMac,
  isIpv4Broadcast,
  isIpv4LinkLocal,
  isIpv4LinkLocalMulticast,
  isIpv4Loopback,
  isIpv4Multicast,
  isIpv4Private,
  isIpv4Unspecified,
  isIpv6LinkLocal,
  isIpv6Loopback,
  isIpv6Multicast,
  isIpv6Unspecified,
  isMulticastMac,
  macFromNumber,
  macToNumber,
  parseIpAddress,
  parseIpv4Address,
  parseIpv4Cidr,
  parseIpv6Address,
  parseIpv6Cidr,
  parseMac,
} from "./address.ts";

function v6(s: string): Uint8Array {
  const a = parseIpv6Address(s);
  assert.ok(a !== null, `parse ${s}`);
  return a;
}

Deno.test("parseIpv4Address() accepts dotted quads", () => {
  assert.equal(parseIpv4Address("0.0.0.0"), 0);
  assert.equal(parseIpv4Address("192.168.0.114"), 0xc0a80072);
  assert.equal(parseIpv4Address("255.255.255.255"), 0xffffffff);
  assert.equal(parseIpv4Address("1.2.3.4"), 0x01020304);
});

Deno.test("parseIpv4Address() rejects everything but a strict dotted quad", () => {
  for (
    const s of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "1..2.3",
      ".1.2.3",
      "1.2.3.",
      "256.0.0.1",
      "1.2.3.1000",
      "01.2.3.4",
      "1.2.3.00",
      "0x1.2.3.4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "+1.2.3.4",
      "1.2.3.-4",
      "16909060",
      "1.2.3.4/24",
    ]
  ) {
    assert.equal(parseIpv4Address(s), null, s);
  }
});

Deno.test("formatIpv4Address() and parseIpv4Address() round-trip every u32", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
      assert.equal(parseIpv4Address(formatIpv4Address(n)), n);
    }),
  );
});

Deno.test("parseIpv4Cidr() keeps host bits and bounds the prefix", () => {
  assert.deepEqual(parseIpv4Cidr("10.0.0.2/24"), { address: 0x0a000002, prefixLength: 24 });
  assert.deepEqual(parseIpv4Cidr("0.0.0.0/0"), { address: 0, prefixLength: 0 });
  assert.deepEqual(parseIpv4Cidr("1.2.3.4/32"), { address: 0x01020304, prefixLength: 32 });
  for (const s of ["10.0.0.2/", "10.0.0.2/33", "10.0.0.2/024", "10.0.0.2/2a", "/24", "10.0.0/24"]) {
    assert.equal(parseIpv4Cidr(s), null, s);
  }
});

Deno.test("ipv4Mask() and ipv4PrefixLength() are inverse", () => {
  for (let p = 0; p <= 32; p++) assert.equal(ipv4PrefixLength(ipv4Mask(p)), p);
  assert.equal(ipv4Mask(8), 0xff000000);
  assert.equal(ipv4PrefixLength(0x00ffffff), null);
  assert.equal(ipv4PrefixLength(0xfffffffe | 0), 31);
});

Deno.test("ipv4Mask() throws RangeError on a bad prefix length", () => {
  assert.throws(() => ipv4Mask(33), RangeError);
  assert.throws(() => ipv4Mask(-1), RangeError);
  assert.throws(() => ipv4Mask(1.5), RangeError);
});

Deno.test("ipv4NetworkAddress(), ipv4BroadcastAddress() and ipv4InSubnet() agree", () => {
  const cidr = { address: 0xc0a80172, prefixLength: 23 };
  assert.equal(ipv4NetworkAddress(cidr), 0xc0a80000);
  assert.equal(ipv4BroadcastAddress(cidr), 0xc0a801ff);
  assert.ok(ipv4InSubnet(0xc0a80000, cidr));
  assert.ok(ipv4InSubnet(0xc0a801ff, cidr));
  assert.ok(!ipv4InSubnet(0xc0a80200, cidr));
  assert.ok(ipv4InSubnet(0x01020304, { address: 0, prefixLength: 0 }));
  assert.equal(ipv4BroadcastAddress({ address: 0x0a000001, prefixLength: 32 }), 0x0a000001);
});

Deno.test("isIpv4*() classify addresses", () => {
  assert.ok(isIpv4Unspecified(0));
  assert.ok(isIpv4Broadcast(0xffffffff));
  assert.ok(!isIpv4Broadcast(0xfffffffe));
  assert.ok(isIpv4Multicast(0xe0000000));
  assert.ok(!isIpv4Multicast(0xdfffffff));
  assert.ok(isIpv4LinkLocalMulticast(0xe0000001));
  assert.ok(!isIpv4LinkLocalMulticast(0xe0000101));
  assert.ok(isIpv4Loopback(0x7fffffff));
  assert.ok(isIpv4LinkLocal(0xa9fe0000));
  assert.ok(isIpv4Private(0xac100000));
  assert.ok(!isIpv4Private(0xac0fffff));
  assert.ok(!isIpv4Private(0x0b000000));
});

Deno.test("ipv4MulticastMac() maps the low 23 bits", () => {
  assert.equal(formatMac(ipv4MulticastMac(0xe0000001)), "01:00:5e:00:00:01");
  assert.equal(formatMac(ipv4MulticastMac(0xe1800001)), "01:00:5e:00:00:01"); // 225.128.0.1 aliases
});

Deno.test("parseIpv6Address() accepts every RFC 4291 text form", () => {
  const full = new Uint8Array([
    0x20,
    0x01,
    0x0d,
    0xb8,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x08,
    0x08,
    0x00,
    0x20,
    0x0c,
    0x41,
    0x7a,
  ]);
  assert.deepEqual(v6("2001:DB8:0:0:8:800:200C:417A"), full);
  assert.deepEqual(v6("2001:0db8:0000:0000:0008:0800:200c:417a"), full);
  assert.deepEqual(v6("2001:db8::8:800:200c:417a"), full);
  assert.deepEqual(v6("::"), new Uint8Array(16));
  assert.deepEqual(v6("::1")[15], 1);
  assert.deepEqual(v6("ff01::101").subarray(0, 2), new Uint8Array([0xff, 0x01]));
  assert.deepEqual(v6("1::"), new Uint8Array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.deepEqual(v6("1:2:3:4:5:6:7::")[15], 0); // "::" for exactly one group
  assert.deepEqual(v6("::2:3:4:5:6:7:8")[0], 0);
  assert.deepEqual(
    v6("0:0:0:0:0:0:13.1.68.3"),
    new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 1, 68, 3]),
  );
  assert.deepEqual(
    v6("::FFFF:129.144.52.38").subarray(10),
    new Uint8Array([0xff, 0xff, 129, 144, 52, 38]),
  );
  assert.deepEqual(v6("64:ff9b::192.0.2.33").subarray(12), new Uint8Array([192, 0, 2, 33]));
  assert.deepEqual(v6("1:2:3:4:5:6:1.2.3.4").subarray(10), new Uint8Array([0, 6, 1, 2, 3, 4]));
});

Deno.test("parseIpv6Address() rejects malformed text", () => {
  for (
    const s of [
      "",
      ":",
      ":::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "1::2::3",
      "1:::2",
      ":1::2",
      "1::2:",
      ":1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:",
      "12345::",
      "g::1",
      "::1.2.3",
      "::1.2.3.4.5",
      "::1.2.3.256",
      "1.2.3.4::",
      "::1.2.3.4:1",
      "1:2:3:4:5:6:7:1.2.3.4",
      "fe80::1%eth0",
      "[::1]",
      " ::1",
      "::01.2.3.4",
    ]
  ) {
    assert.equal(parseIpv6Address(s), null, s);
  }
});

Deno.test("formatIpv6Address() follows RFC 5952", () => {
  const cases: [string, string][] = [
    ["2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // §4.2.3: first of equal runs
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // §4.2.2: a single 0 is not compressed
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // §4.2.3: the longest run
    ["2001:DB8::AAAA", "2001:db8::aaaa"], // §4.3: lowercase
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"], // §5: IPv4-mapped in mixed notation
    ["::192.0.2.1", "::c000:201"],
    ["fe80::0202:b3ff:fe1e:8329", "fe80::202:b3ff:fe1e:8329"],
  ];
  for (const [input, canonical] of cases) {
    assert.equal(formatIpv6Address(v6(input)), canonical, input);
  }
});

Deno.test("formatIpv6Address() throws RangeError on short input", () => {
  assert.throws(() => formatIpv6Address(new Uint8Array(15)), RangeError);
});

Deno.test("formatIpv6Address() matches the WHATWG URL serializer and round-trips", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
        minLength: 8,
        maxLength: 8,
      }),
      (words) => {
        const bytes = new Uint8Array(16);
        words.forEach((w, i) => {
          bytes[2 * i] = w >>> 8;
          bytes[2 * i + 1] = w & 0xff;
        });
        const text = formatIpv6Address(bytes);
        assert.deepEqual(parseIpv6Address(text), bytes);
        const mapped = words.every((w, i) => i >= 5 || w === 0) && words[5] === 0xffff;
        if (!mapped) assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
      },
    ),
  );
});

Deno.test("parseIpv6Address() reads arbitrary non-canonical spellings", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
        minLength: 8,
        maxLength: 8,
      }),
      fc.integer({ min: 0, max: 8 }),
      fc.integer({ min: 0, max: 8 }),
      fc.boolean(),
      fc.boolean(),
      (words, a, b, upper, pad) => {
        // Compress words[lo..hi) with "::" when they are all zero and lo < hi.
        const lo = Math.min(a, b);
        const hi = Math.max(a, b);
        for (let i = lo; i < hi; i++) words[i] = 0;
        const hex = (w: number) => {
          const s = pad ? w.toString(16).padStart(4, "0") : w.toString(16);
          return upper ? s.toUpperCase() : s;
        };
        const text = lo < hi
          ? `${words.filter((_, i) => i < lo).map(hex).join(":")}::${
            words.filter((_, i) => i >= hi).map(hex).join(":")
          }`
          : words.map(hex).join(":");
        const parsed = parseIpv6Address(text);
        assert.ok(parsed !== null, text);
        for (let i = 0; i < 8; i++) {
          assert.equal((parsed[2 * i]! << 8) | parsed[2 * i + 1]!, words[i]);
        }
      },
    ),
  );
});

Deno.test("parseIpv6Address() never throws on arbitrary text", () => {
  fc.assert(
    fc.property(fc.stringOf(fc.constantFrom(..."0123456789abcdefABCDEFgx:.%/ ")), (s) => {
      const r = parseIpv6Address(s);
      if (r !== null) assert.equal(r.length, 16);
    }),
  );
});

Deno.test("parseIpv6Cidr() bounds the prefix", () => {
  const c = parseIpv6Cidr("fe80::1/10");
  assert.ok(c !== null);
  assert.equal(c.prefixLength, 10);
  assert.equal(formatIpv6Address(c.address), "fe80::1");
  assert.equal(parseIpv6Cidr("::/0")?.prefixLength, 0);
  assert.equal(parseIpv6Cidr("::/128")?.prefixLength, 128);
  assert.equal(parseIpv6Cidr("::/129"), null);
  assert.equal(parseIpv6Cidr("::"), null);
  assert.equal(parseIpv6Cidr("::1/"), null);
});

Deno.test("isIpv6*() classify addresses", () => {
  assert.ok(isIpv6Unspecified(v6("::")));
  assert.ok(!isIpv6Unspecified(v6("::1")));
  assert.ok(isIpv6Loopback(v6("::1")));
  assert.ok(!isIpv6Loopback(v6("1::1")));
  assert.ok(isIpv6Multicast(v6("ff02::16")));
  assert.ok(isIpv6LinkLocal(v6("febf::1")));
  assert.ok(!isIpv6LinkLocal(v6("fe00::1")));
});

Deno.test("parseIpAddress() picks the family by ':' and formatIpAddress() inverts it", () => {
  const v4 = parseIpAddress("192.168.0.1");
  assert.equal(v4?.family, 4);
  assert.equal(v4?.key, 0xc0a80001);
  const a = parseIpAddress("::ffff:192.168.0.1");
  assert.equal(a?.family, 6);
  assert.equal(formatIpAddress(a!), "::ffff:192.168.0.1");
  assert.equal(parseIpAddress("192.168.0"), null);
  assert.equal(parseIpAddress("::g"), null);
});

Deno.test("parseMac() and formatMac() round-trip", () => {
  assert.deepEqual(
    parseMac("00:16:CE:6e:8b:24"),
    new Uint8Array([0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24]),
  );
  for (
    const s of ["", "00:16:ce:6e:8b", "00:16:ce:6e:8b:24:", "00:16:ce:6e:8b:2g", "0016.ce6e.8b24"]
  ) {
    assert.equal(parseMac(s), null, s);
  }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
      assert.deepEqual(parseMac(formatMac(b)), b);
    }),
  );
});

Deno.test("formatMac() reads at an offset and throws RangeError past the end", () => {
  const frame = new Uint8Array([
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0,
    0x16,
    0xce,
    0x6e,
    0x8b,
    0x24,
  ]);
  assert.equal(formatMac(frame, 6), "00:16:ce:6e:8b:24");
  assert.throws(() => formatMac(frame, 7), RangeError);
});

Deno.test("macToNumber() and macFromNumber() are inverse", () => {
  assert.equal(macToNumber(BROADCAST_MAC), BROADCAST_MAC_NUMBER);
  assert.equal(macToNumber(new Uint8Array([0, 0, 0x80, 0, 0, 0])), 0x8000_0000);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
      const n = macToNumber(b);
      assert.ok(Number.isSafeInteger(n) && n >= 0);
      assert.deepEqual(macFromNumber(n), b);
    }),
  );
  assert.throws(() => macFromNumber(2 ** 48), RangeError);
  assert.throws(() => macFromNumber(-1), RangeError);
});

Deno.test("isMulticastMac() and isBroadcastMac() read the I/G bit and all-ones", () => {
  assert.ok(isMulticastMac(BROADCAST_MAC));
  assert.ok(isMulticastMac(new Uint8Array([0x33, 0x33, 0, 0, 0, 1])));
  assert.ok(!isMulticastMac(new Uint8Array([0x00, 0x16, 0xce, 0x6e, 0x8b, 0x24])));
  const frame = new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.ok(isBroadcastMac(frame, 1));
  assert.ok(!isBroadcastMac(frame, 0));
});

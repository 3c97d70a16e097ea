import assert from "node:assert/strict";
import { NptMapping } from "./mapping.ts";
import { formatIpv6Address, parseIpv6Address } from "../../wire/ipv6_address.ts";

/** The one's-complement sum of an address's eight words. */
function addressSum(a: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < 16; i += 2) s += (a[i]! << 8) | a[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff ? 0 : s; // the two zeros of one's complement
}

Deno.test("NptMapping reproduces RFC 6296 §3.4's example: fd01:203:405:1::1234 ↔ 2001:db8:1:d550::1234", () => {
  const m = NptMapping.parse("FD01:0203:0405::/48", "2001:0DB8:0001::/48");
  assert.equal(m.adjustment, 0xd54f);
  assert.equal(m.translateText("fd01:203:405:1::1234", "outbound"), "2001:db8:1:d550::1234");
  assert.equal(m.translateText("2001:db8:1:d550::1234", "inbound"), "fd01:203:405:1::1234");
});

Deno.test("NptMapping leaves addresses outside its prefix alone", () => {
  const m = NptMapping.parse("fd01:203:405::/48", "2001:db8:1::/48");
  assert.equal(m.translateText("fd01:203:406:1::1", "outbound"), null);
  assert.equal(m.translateText("fd01:203:405:1::1", "inbound"), null);
});

Deno.test("NptMapping drops an address whose adjustment word is 0xFFFF (RFC 6296 §3.4)", () => {
  const m = NptMapping.parse("fd01:203:405::/48", "2001:db8:1::/48");
  assert.equal(m.translateText("fd01:203:405:ffff::1", "outbound"), null);
  const b = parseIpv6Address("fd01:203:405:ffff::1")!;
  assert.equal(m.translate(b, 0, "outbound"), false);
  assert.deepEqual(b, parseIpv6Address("fd01:203:405:ffff::1"), "left unchanged");
});

Deno.test("NptMapping writes a word that comes out 0xFFFF as 0x0000, and maps it back", () => {
  const m = NptMapping.parse("fd01:203:405::/48", "2001:db8:1::/48");
  const w = (0xffff - m.adjustment).toString(16); // w + adjustment = 0xFFFF
  assert.equal(m.translateText(`fd01:203:405:${w}::1`, "outbound"), "2001:db8:1::1");
  assert.equal(m.translateText("2001:db8:1::1", "inbound"), `fd01:203:405:${w}::1`);
});

Deno.test("NptMapping /64: the adjustment goes in the first interface-identifier word that is not 0xFFFF", () => {
  const m = NptMapping.parse("fd01:203:405:1::/64", "2001:db8:1:2::/64");
  const out = m.translateText("fd01:203:405:1:ffff:0:0:1", "outbound")!;
  assert.match(out, /^2001:db8:1:2:ffff:/);
  assert.equal(m.translateText(out, "inbound"), "fd01:203:405:1:ffff::1");
  assert.equal(m.translateText("fd01:203:405:1:ffff:ffff:ffff:ffff", "outbound"), null);
});

Deno.test("NptMapping is checksum-neutral and reversible at every prefix length 1..64", () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let len = 1; len <= 64; len++) {
    const prefix = (first: number) => {
      const b = new Uint8Array(16);
      for (let i = 0; i < 8; i++) {
        const keep = Math.max(0, Math.min(8, len - i * 8));
        b[i] = (i === 0 ? first : next() & 0xff) & ((0xff << (8 - keep)) & 0xff);
      }
      return `${formatIpv6Address(b)}/${len}`;
    };
    const inside = prefix(0xfd);
    const outside = prefix(0x20);
    const m = NptMapping.parse(inside, outside);
    for (let k = 0; k < 50; k++) {
      const a = parseIpv6Address(inside.split("/")[0]!)!;
      // Random host bits under the inside prefix.
      for (let i = 0; i < 16; i++) {
        const keep = Math.max(0, Math.min(8, len - i * 8));
        const mask = (0xff << (8 - keep)) & 0xff;
        a[i] = (a[i]! & mask) | (next() & 0xff & ~mask);
      }
      const before = a.slice(); // copy: kept to compare
      assert.ok(m.matches(a, 0, "outbound"));
      if (!m.translate(a, 0, "outbound")) continue; // an adjustment word of 0xFFFF
      assert.equal(addressSum(a), addressSum(before), `/${len}: sum kept`);
      assert.ok(m.matches(a, 0, "inbound"), `/${len}: lands in the outside prefix`);
      assert.ok(m.translate(a, 0, "inbound"));
      assert.deepEqual(a, before, `/${len}: reversible`);
    }
  }
});

Deno.test("NptMapping.parse() rejects bad prefixes before creating anything", () => {
  assert.throws(() => NptMapping.parse("fd01::", "2001:db8::/48"), TypeError);
  assert.throws(() => NptMapping.parse("fd01::/48", "2001:db8::/56"), RangeError);
  assert.throws(() => NptMapping.parse("fd01::/96", "2001:db8::/96"), RangeError);
  assert.throws(() => NptMapping.parse("fd01::/0", "2001:db8::/0"), RangeError);
  assert.throws(() => NptMapping.parse("fd01::1/48", "2001:db8::/48"), /bits set past/);
});

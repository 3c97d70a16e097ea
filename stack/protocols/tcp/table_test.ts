import assert from "node:assert/strict";
import { tupleHash } from "./table.ts";

Deno.test("tupleHash() stays within 30 bits (a small integer: no heap number per lookup)", () => {
  let seen = 0;
  for (let i = 0; i < 20_000; i++) {
    const la = Math.imul(i, 0x9e3779b1) >>> 0;
    const ra = Math.imul(i + 7, 0x85ebca6b) >>> 0;
    const h = tupleHash(la, (i * 31) & 0xffff, ra, (i * 17 + 1) & 0xffff);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 30, `hash ${h}`);
    seen |= h;
  }
  // All 30 bits are used.
  assert.equal(seen, 2 ** 30 - 1);
});

Deno.test("tupleHash() of IPv6 keys stays within 30 bits", () => {
  const a = "\u2001\u0db8\u0000\u0000\u0000\u0000\u0000\u0001";
  const b = "\u2001\u0db8\u0000\u0000\u0000\u0000\u0000\u0002";
  for (let p = 1; p < 2000; p++) {
    const h = tupleHash(a, p, b, 65535 - p);
    assert.ok(h >= 0 && h < 2 ** 30);
  }
});

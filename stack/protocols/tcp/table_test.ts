import assert from "node:assert/strict";
import { ConnTable, tupleHash } from "./table.ts";
import type { TcpEndpoint } from "./endpoint.ts";

/** A stand-in endpoint 10.0.0.2:`lp` ↔ 10.0.0.1:40000, with the fields the table reads and writes. */
function fakeEndpoint(lp: number): TcpEndpoint {
  return {
    localAddr: 0x0a000002,
    localPort: lp,
    remoteAddr: 0x0a000001,
    remotePort: 40000,
    hashNext: undefined,
  } as unknown as TcpEndpoint;
}

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

Deno.test("ConnTable: a removed connection is not found again, even right after a lookup found it", () => {
  const table = new ConnTable();
  const ep = fakeEndpoint;
  const a = ep(80), b = ep(81);
  table.insert(a);
  table.insert(b);
  assert.equal(table.lookup(0x0a000002, 80, 0x0a000001, 40000), a);
  assert.equal(table.lookup(0x0a000002, 80, 0x0a000001, 40000), a); // the remembered one
  assert.equal(table.lookup(0x0a000002, 81, 0x0a000001, 40000), b);
  assert.equal(table.lookup(0x0a000002, 82, 0x0a000001, 40000), undefined);
  table.lookup(0x0a000002, 80, 0x0a000001, 40000);
  table.remove(a);
  assert.equal(table.lookup(0x0a000002, 80, 0x0a000001, 40000), undefined);
  assert.equal(table.lookup(0x0a000002, 81, 0x0a000001, 40000), b);
  assert.equal(table.size, 1);
});

Deno.test("ConnTable: every connection is found while the buckets grow and shrink, and none after removal", () => {
  const table = new ConnTable();
  const ep = fakeEndpoint;
  const eps = Array.from({ length: 1000 }, (_, i) => ep(1000 + i));
  for (const e of eps) table.insert(e); // 16 buckets, doubled to 1024
  assert.equal(table.size, 1000);
  for (const e of eps) assert.equal(table.lookup(0x0a000002, e.localPort, 0x0a000001, 40000), e);
  assert.equal(new Set(table).size, 1000); // iteration sees each once
  for (const e of eps.slice(0, 990)) table.remove(e); // halved at each eighth, down to 16
  assert.equal(table.size, 10);
  for (const e of eps.slice(0, 990)) {
    assert.equal(table.lookup(0x0a000002, e.localPort, 0x0a000001, 40000), undefined);
  }
  for (const e of eps.slice(990)) {
    assert.equal(table.lookup(0x0a000002, e.localPort, 0x0a000001, 40000), e);
  }
  assert.deepEqual([...table].sort((x, y) => x.localPort - y.localPort), eps.slice(990));
  for (const e of eps.slice(990)) table.remove(e);
  assert.equal(table.size, 0);
  assert.deepEqual([...table], []);
});

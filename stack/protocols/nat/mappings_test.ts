import assert from "node:assert/strict";
import { SeededRng } from "../../rng.ts";
import { MAPPING_BYTES, MappingTable, pickPort, REMOTE_BYTES } from "./mappings.ts";

Deno.test("pickPort() keeps the port when free, else draws randomly with the same parity and class", () => {
  const rng = new SeededRng(7);
  assert.equal(pickPort(5001, 1, 65535, rng, () => true), 5001);
  const drawn = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const p = pickPort(5001, 1, 65535, rng, (x) => x !== 5001);
    assert.equal(p % 2, 1);
    assert.ok(p >= 1024);
    drawn.add(p);
  }
  assert.ok(drawn.size > 40, "random, not sequential");
  const low = pickPort(123, 1, 65535, rng, (x) => x !== 123);
  assert.ok(low >= 1 && low < 1024 && low % 2 === 1, String(low));
});

Deno.test("pickPort() scans when random draws fail, and says -1 when nothing is free", () => {
  const rng = new SeededRng(1);
  // Only 40000 is free among 1024..65535.
  assert.equal(pickPort(5000, 1024, 65535, rng, (x) => x === 40000), 40000);
  // No port of that parity free: another parity rather than nothing.
  assert.equal(pickPort(5000, 1024, 65535, rng, (x) => x === 40001), 40001);
  assert.equal(pickPort(5000, 1024, 1030, rng, () => false), -1);
});

Deno.test("MappingTable: endpoint-independent, bounded, idle mappings expire and make room", () => {
  const t = new MappingTable(2);
  const rng = new SeededRng(2);
  const a = t.create(17, 1, 5000, 100, 1, 65535, rng, () => false)!;
  assert.equal(t.byInternal(17, 1, 5000, 100), a);
  assert.equal(t.byExternal(17, 100, 5000), a);
  t.acquire(a);
  const b = t.create(17, 2, 5000, 100, 1, 65535, rng, () => false)!;
  assert.notEqual(b.extPort, 5000);
  t.acquire(b);
  // Full, nothing idle: refused.
  assert.equal(t.create(17, 3, 5000, 100, 1, 65535, rng, () => false), null);
  t.release(b, 1_000);
  assert.equal(t.nextExpiry(500), 1_500);
  // Full, one idle: it makes room.
  const c = t.create(17, 3, 5000, 100, 1, 65535, rng, () => false)!;
  assert.ok(c !== null);
  assert.equal(t.byExternal(17, 100, b.extPort), c.extPort === b.extPort ? c : undefined);
  t.release(a, 2_000);
  assert.equal(t.expire(2_499, 500), 0);
  assert.equal(t.expire(2_500, 500), 1);
  assert.equal(t.size, 1);
});

Deno.test("MappingTable: an external address is known while a mapping is on it, and forgotten with its last one", () => {
  const t = new MappingTable(16);
  const rng = new SeededRng(1);
  const a = t.create(17, 0x0a010001, 5000, 0xcb007101, 1024, 65535, rng, () => false)!;
  const b = t.create(17, 0x0a010002, 5000, 0xcb007101, 1024, 65535, rng, () => false)!;
  assert.ok(t.hasExternalAddress(0xcb007101));
  t.delete(a);
  assert.ok(t.hasExternalAddress(0xcb007101));
  t.delete(b);
  t.delete(b); // twice: no effect
  assert.ok(!t.hasExternalAddress(0xcb007101));
});

Deno.test("MappingTable: bytes charged per mapping and remote, refused past maxBytes, given back on delete", () => {
  const t = new MappingTable(16, 2 * MAPPING_BYTES + REMOTE_BYTES);
  const rng = new SeededRng(2);
  const a = t.create(17, 0x0a010001, 5000, 0xcb007101, 1024, 65535, rng, () => false)!;
  assert.equal(t.bytes, MAPPING_BYTES);
  assert.equal(t.permit(a, 0x08080808, 53, 256), "ok");
  assert.equal(t.permit(a, 0x08080808, 53, 256), "ok", "a known remote costs nothing");
  assert.equal(t.bytes, MAPPING_BYTES + REMOTE_BYTES);
  const b = t.create(17, 0x0a010002, 5000, 0xcb007101, 1024, 65535, rng, () => false)!;
  assert.equal(t.permit(b, 0x08080404, 53, 256), "bytes_full");
  assert.equal(t.permit(a, 0x08080808, 54, 1), "full");
  assert.ok(t.bytesFull);
  t.acquire(a);
  t.acquire(b);
  assert.equal(t.create(17, 0x0a010003, 5000, 0xcb007101, 1024, 65535, rng, () => false), null);
  t.release(b, 1);
  const c = t.create(17, 0x0a010003, 5000, 0xcb007101, 1024, 65535, rng, () => false);
  assert.ok(c !== null, "an idle mapping makes room");
  assert.equal(t.size, 2);
  t.delete(a);
  t.delete(c);
  assert.equal(t.bytes, 0);
});

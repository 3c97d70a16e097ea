import assert from "node:assert/strict";
import { Fdb } from "./fdb.ts";

const A = { hostname: "192.0.2.1", port: 4789 };
const B = { hostname: "192.0.2.2", port: 4789 };
const S = 1_000_000;
function mac(n: number): Uint8Array {
  return new Uint8Array([2, 0, 0, 0, n >> 8, n & 0xff]);
}

Deno.test("Fdb learns a source MAC and finds it", () => {
  const fdb = new Fdb();
  fdb.learn(mac(1), 0, A, 0);
  assert.equal(fdb.lookup(mac(1), 0, S), A);
  assert.equal(fdb.lookup(mac(2), 0, S), undefined);
  assert.equal(fdb.stats.learned, 1);
});

Deno.test("Fdb reads the MAC at an offset", () => {
  const fdb = new Fdb();
  const frame = new Uint8Array(14);
  frame.set(mac(7), 6);
  fdb.learn(frame, 6, B, 0);
  assert.equal(fdb.lookup(mac(7), 0, 0), B);
});

Deno.test("Fdb never learns a group address", () => {
  const fdb = new Fdb();
  fdb.learn(new Uint8Array([1, 0, 0x5e, 0, 0, 1]), 0, A, 0);
  assert.equal(fdb.size, 0);
});

Deno.test("Fdb ages an entry out after agingTime without traffic; traffic refreshes it", () => {
  const fdb = new Fdb({ agingTime: 10 * S });
  fdb.learn(mac(1), 0, A, 0);
  fdb.learn(mac(1), 0, A, 8 * S); // refreshed
  assert.equal(fdb.lookup(mac(1), 0, 17 * S), A);
  assert.equal(fdb.lookup(mac(1), 0, 19 * S), undefined);
  assert.equal(fdb.stats.aged, 1);
  assert.equal(fdb.size, 0);
});

Deno.test("Fdb.sweep() removes every expired entry", () => {
  const fdb = new Fdb({ agingTime: 10 * S });
  for (let i = 0; i < 5; i++) fdb.learn(mac(i), 0, A, i * S);
  fdb.sweep(13 * S); // entries seen at 0, 1, 2 are older than 10 s
  assert.equal(fdb.size, 2);
  assert.equal(fdb.stats.aged, 3);
});

Deno.test("Fdb counts a moved MAC and follows it", () => {
  const fdb = new Fdb();
  fdb.learn(mac(1), 0, A, 0);
  fdb.learn(mac(1), 0, B, S);
  assert.equal(fdb.lookup(mac(1), 0, S), B);
  assert.equal(fdb.stats.moved, 1);
});

Deno.test("Fdb full of live entries refuses a new MAC (counted); an expired oldest makes room", () => {
  const fdb = new Fdb({ maxEntries: 2, agingTime: 10 * S });
  fdb.learn(mac(1), 0, A, 0);
  fdb.learn(mac(2), 0, A, 5 * S);
  fdb.learn(mac(3), 0, A, 6 * S);
  assert.equal(fdb.stats.full, 1);
  assert.equal(fdb.lookup(mac(3), 0, 6 * S), undefined);
  fdb.learn(mac(3), 0, B, 11 * S); // mac(1) expired: evicted
  assert.equal(fdb.size, 2);
  assert.equal(fdb.lookup(mac(3), 0, 11 * S), B);
  assert.equal(fdb.lookup(mac(1), 0, 11 * S), undefined);
});

Deno.test("Fdb static entries never age, are not replaced by learning, do not count in the bound", () => {
  const fdb = new Fdb({ maxEntries: 1, agingTime: S });
  fdb.addStatic(mac(9), A);
  fdb.learn(mac(9), 0, B, 0);
  fdb.learn(mac(1), 0, B, 0);
  assert.equal(fdb.lookup(mac(9), 0, 1000 * S), A);
  assert.equal(fdb.size, 1);
  assert.equal(fdb.stats.full, 0);
});

Deno.test("Fdb rejects bad bounds", () => {
  assert.throws(() => new Fdb({ maxEntries: 0 }), RangeError);
  assert.throws(() => new Fdb({ agingTime: 10 }), RangeError);
});

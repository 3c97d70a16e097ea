import assert from "node:assert/strict";
import { ConnTable, Entry, hashTuple4 } from "./table.ts";

const S = 1_000_000;

function udp(id: number, src: number, port: number): Entry {
  return new Entry(id, 4, 17, src, port, 0x0a020002, 53);
}

Deno.test("ConnTable.get4() finds both directions of IPv4 entries, and nothing once removed", () => {
  const t = new ConnTable({ maxEntries: 10_000, maxBytes: 1 << 30 });
  const es: Entry[] = [];
  for (let i = 0; i < 2000; i++) {
    const e = udp(i + 1, 0x0a010000 + (i >> 4), 1024 + (i & 15));
    assert.equal(t.insert(e, 0, 30 * S), undefined);
    es.push(e);
  }
  for (const [i, e] of es.entries()) {
    if (i % 2 === 0) t.remove(e);
  }
  for (const [i, e] of es.entries()) {
    const o = e.original, r = e.reply;
    const fwd = t.get4(17, o.src as number, o.srcPort, o.dst as number, o.dstPort);
    const back = t.get4(17, r.src as number, r.srcPort, r.dst as number, r.dstPort);
    if (i % 2 === 0) {
      assert.equal(fwd, undefined);
      assert.equal(back, undefined);
    } else {
      assert.equal(fwd, e.refs[0]);
      assert.equal(back, e.refs[1]);
      assert.equal(t.get(e.origKey), fwd, "the same as by key");
    }
  }
  // Another protocol with the same addresses and ports is another tuple.
  const o = es[1]!.original;
  assert.equal(t.get4(6, o.src as number, o.srcPort, o.dst as number, o.dstPort), undefined);
});

Deno.test("hashTuple4() is a small integer and tells the directions apart", () => {
  const a = hashTuple4(17, 0x0a000001, 5000, 0x0a000002, 53);
  const b = hashTuple4(17, 0x0a000002, 53, 0x0a000001, 5000);
  assert.ok(Number.isInteger(a) && a >= 0 && a < 2 ** 30);
  assert.notEqual(a, b);
});

Deno.test("ConnTable: an entry refreshed while last of its set stays in expiry order (exact expiry)", () => {
  const t = new ConnTable({ maxEntries: 10, maxBytes: 1 << 20 });
  const a = udp(1, 0x0a010001, 1000);
  const b = udp(2, 0x0a010002, 1000);
  t.insert(a, 0, 30 * S);
  t.insert(b, 1 * S, 30 * S);
  // b is last: refreshed in place; a moves behind it.
  t.refresh(b, 5 * S, 30 * S);
  t.refresh(a, 6 * S, 30 * S);
  t.refresh(a, 7 * S, 30 * S); // last now: in place
  assert.equal(t.nextExpiry(), 35 * S);
  assert.equal(t.expire(35 * S - 1), 0);
  assert.equal(t.expire(35 * S), 1);
  assert.equal(t.get(b.origKey), undefined);
  assert.equal(t.nextExpiry(), 37 * S);
  assert.equal(t.expire(37 * S), 1);
  assert.equal(t.size, 0);
});

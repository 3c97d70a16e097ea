import assert from "node:assert/strict";
import type { LinkDriver } from "./driver.ts";
import { InterfaceTable, MAX_INTERFACE_INDEX, NetInterface } from "./netif.ts";

const DRIVER = { linkType: 1, mtu: 1500 } as unknown as LinkDriver;

function add(table: InterfaceTable, name: string): NetInterface {
  const iface = new NetInterface(table.nextIndex(), name, DRIVER, {});
  table.add(iface);
  return iface;
}

Deno.test("InterfaceTable: indexes count up; a removed one is never handed out again, not even to its name", () => {
  const table = new InterfaceTable();
  assert.equal(table.nextIndex(), 0);
  assert.equal(table.nextIndex(), 0, "asking takes nothing");
  const [a, b, c] = [add(table, "a"), add(table, "b"), add(table, "c")];
  assert.deepEqual([a.index, b.index, c.index], [0, 1, 2]);
  table.remove(b);
  table.remove(c);
  assert.equal(table.get(1), undefined);
  assert.equal(table.byName("b"), undefined);
  const again = add(table, "b");
  assert.equal(again.index, 3);
  assert.deepEqual(table.list().map((i) => `${i.index} ${i.name}`), ["0 a", "3 b"]);
  assert.throws(() => table.add(new NetInterface(1, "old", DRIVER, {})), RangeError);
  assert.equal(table.get(1), undefined);
});

Deno.test("InterfaceTable: removing an interface that is not the listed one leaves the listed one", () => {
  const table = new InterfaceTable();
  const a = add(table, "a");
  table.remove(new NetInterface(0, "a", DRIVER, {}));
  assert.equal(table.get(0), a);
  assert.equal(table.byName("a"), a);
});

Deno.test("InterfaceTable: past its last index it refuses with a RangeError and keeps what it has", () => {
  const table = new InterfaceTable(2);
  const [a, b, c] = [add(table, "a"), add(table, "b"), add(table, "c")];
  table.remove(a);
  table.remove(b);
  assert.throws(() => table.nextIndex(), RangeError, "every index up to 2 was used");
  assert.throws(() => add(table, "d"), RangeError);
  assert.equal(table.get(2), c);
  assert.deepEqual(table.list(), [c]);
  assert.equal(new InterfaceTable().nextIndex() <= MAX_INTERFACE_INDEX, true);
});

Deno.test("InterfaceTable: a last index that is not a whole number in 0..MAX_INTERFACE_INDEX is refused", () => {
  assert.throws(() => new InterfaceTable(NaN), TypeError);
  assert.throws(() => new InterfaceTable(1.5), TypeError);
  assert.throws(() => new InterfaceTable(-1), RangeError);
  assert.throws(() => new InterfaceTable(MAX_INTERFACE_INDEX + 1), RangeError);
  assert.equal(new InterfaceTable(0).nextIndex(), 0);
});

Deno.test("InterfaceTable.get(): indexes sharing a lookup slot (0 and 16) are both found; a removed one is not, even just after a lookup", () => {
  const table = new InterfaceTable();
  const all = Array.from({ length: 17 }, (_, i) => add(table, `i${i}`));
  for (let round = 0; round < 2; round++) {
    assert.equal(table.get(0), all[0]);
    assert.equal(table.get(16), all[16]);
  }
  table.remove(all[16]!);
  assert.equal(table.get(16), undefined);
  assert.equal(table.get(0), all[0]);
  table.remove(all[0]!);
  assert.equal(table.get(0), undefined);
  assert.equal(table.get(32), undefined);
});

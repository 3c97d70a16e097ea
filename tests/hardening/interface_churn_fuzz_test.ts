/**
 * Interfaces coming and going in a seeded order, against a model: the
 * interface table's lookups (a Map behind a direct-mapped cache of 16
 * slots, so indexes 16 apart share a slot) never give a removed interface
 * or miss a present one; `addStatic` (ARP and NDP) on any index, present,
 * removed or never used, with good and bad addresses and MACs, throws
 * only TypeError or RangeError in its own words and adds nothing when it
 * throws; the static entries of a removed interface go with it.
 */
import assert from "node:assert/strict";
import { createStack, type NetInterface, VirtualNetwork } from "../../mod.ts";
import type { ArpService, NdpService } from "../../stack/_services_link.ts";
import { kernelOf } from "../../stack/stack.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { prng } from "./_fuzz.ts";

const OPS = 1500;
const ACTION = "Cannot add static neighbour";

Deno.test(`interface churn fuzz: ${OPS} seeded adds, removes, lookups and static neighbours agree with a model`, () => {
  const r = prng(19);
  const int = (n: number) => Math.floor(r() * n);
  const net = new VirtualNetwork({ seed: 19 });
  const stack = createStack({ seed: 19 });
  const table = kernelOf(stack).interfaces;
  const arp = stack.service<ArpService>("neighbor.ipv4")!;
  const ndp = stack.service<NdpService>("neighbor.ipv6")!;
  // The stack's own interfaces (loopback) stay; the churn is of the others.
  const present = new Map<number, NetInterface>(table.list().map((i) => [i.index, i]));
  const removable = new Set<number>();
  const statics = new Map<number, number>(); // interface index → static entries on it
  let everUsed = Math.max(-1, ...present.keys()) + 1, thrown = 0, added = 0, made = 0;
  const macs: unknown[] = [
    new Uint8Array([2, 0, 0, 0, 0, 9]),
    new Uint8Array([2, 0, 0, 0, 0, 9]).subarray(0, 5),
    new Uint8Array([1, 0, 0x5e, 0, 0, 1]),
    [2, 0, 0, 0, 0, 9],
    null,
  ];
  try {
    for (let op = 0; op < OPS; op++) {
      const k = int(10);
      if (k < 3 || removable.size === 0) {
        const n = made++;
        const iface = stack.addInterface({
          name: `churn${n}`,
          driver: net.link().a,
          addresses: [`10.${n >> 8}.${n & 0xff}.1/24`],
        });
        assert.equal(iface.index, kernelOf(stack).interfaces.list().at(-1)!.index);
        present.set(iface.index, iface);
        removable.add(iface.index);
        everUsed = iface.index + 1;
      } else if (k < 5) {
        const indexes = [...removable];
        const index = indexes[int(indexes.length)]!;
        stack.removeInterface(index);
        present.delete(index);
        removable.delete(index);
        statics.delete(index);
      } else if (k < 8) {
        // A lookup of any index ever given (and a little beyond): the cache agrees with the model.
        for (let n = 0; n < 4; n++) {
          const index = int(everUsed + 20);
          assert.equal(table.get(index), present.get(index), `op ${op}: get(${index})`);
        }
      } else {
        const index = r() < 0.7 && present.size > 0
          ? [...present.keys()][int(present.size)]!
          : [int(everUsed + 20), -1, 1.5, "0", null][int(5)];
        const mac = r() < 0.7 ? macs[0] : macs[int(macs.length)];
        const v6 = r() < 0.5;
        const address = v6
          ? [IpAddress.parse(`fd00::${op.toString(16)}`)!.key, IpAddress.parse("ff02::1")!.key, 5][
            r() < 0.8 ? 0 : int(3)
          ]
          : [0x0a000000 + op + 2, 0xe0000001, "10.0.0.9", 2 ** 32][r() < 0.8 ? 0 : int(4)];
        const before = stack.neighbors().length;
        try {
          if (v6) ndp.addStatic(index as number, address as string, mac as Uint8Array);
          else arp.addStatic(index as number, address as number, mac as Uint8Array);
          added++;
          statics.set(index as number, (statics.get(index as number) ?? 0) + 1);
          assert.ok(present.has(index as number), `op ${op}: added on absent ${index}`);
        } catch (e) {
          thrown++;
          assert.ok(e instanceof TypeError || e instanceof RangeError, `op ${op}: ${e}`);
          assert.ok(e.message.startsWith(`${ACTION}: `), `op ${op}: ${e.message}`);
          assert.equal(stack.neighbors().length, before, `op ${op}: added though it threw`);
        }
      }
      if (op % 100 === 99) {
        // The static entries are those of present interfaces, no more.
        const rows = stack.neighbors().filter((n) => n.state === "PERMANENT");
        const names = new Set([...present.values()].map((i) => i.name));
        assert.ok(
          rows.every((n) => names.has(n.ifname)),
          `op ${op}: an entry outlived its interface`,
        );
        assert.equal(rows.length, [...statics.values()].reduce((a, b) => a + b, 0), `op ${op}`);
      }
    }
    assert.ok(added > 50 && thrown > 50 && everUsed > 200, `${added} ${thrown} ${everUsed}`);
  } finally {
    stack.close();
    net.close();
  }
});

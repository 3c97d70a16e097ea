/**
 * The `igmp.groups` service (MulticastGroupsService): argument checks
 * before any state changes (stack/validate.ts policy), the bounded table
 * with its counters, and the `ip maddr`-like rows.
 */
import assert from "node:assert/strict";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { igmpHost } from "./_igmp.ts";

const groupsOf = (h: ReturnType<typeof igmpHost>) =>
  h.stack.service<MulticastGroupsService>("igmp.groups")!;

Deno.test("igmp.groups checks its arguments before changing anything", () => {
  const h = igmpHost();
  const igmp = groupsOf(h);
  const i = h.iface.index;
  const holder = igmp.newHolder();
  assert.throws(() => igmp.join(i, 42 as unknown as string), TypeError);
  assert.throws(() => igmp.join(i, "ff02::fb"), TypeError, "IPv6 group");
  assert.throws(() => igmp.join(i, "10.0.0.9"), RangeError, "not multicast");
  assert.throws(() => igmp.join(99, "239.1.2.3"), RangeError, "no such interface");
  assert.throws(() => igmp.join(1.5, "239.1.2.3"), TypeError);
  const f = (mode: string, sources: unknown) =>
    ({ mode, sources }) as unknown as Parameters<MulticastGroupsService["setFilter"]>[3];
  assert.throws(() => igmp.setFilter(i, "239.1.2.3", holder, f("any", [])), TypeError);
  assert.throws(() => igmp.setFilter(i, "239.1.2.3", holder, f("include", "10.0.0.1")), TypeError);
  assert.throws(() => igmp.setFilter(i, "239.1.2.3", holder, f("include", ["fd00::1"])), TypeError);
  assert.throws(() => igmp.setFilter(i, "239.1.2.3", 0, f("include", [])), RangeError);
  assert.throws(() => igmp.dropHolder(NaN), TypeError);
  assert.deepEqual(igmp.list().map((g) => g.group), ["224.0.0.1"], "nothing changed");
  h.runFor(1000);
  assert.equal(h.takeIgmp().length, 0);
  h.finish();
});

Deno.test("igmp.groups the table is bounded per interface and per source list; refusals are counted", () => {
  const h = igmpHost({ plugins: { igmp: { maxGroups: 3, maxSources: 2 } } });
  const igmp = groupsOf(h);
  const i = h.iface.index;
  igmp.join(i, "239.0.0.1");
  igmp.join(i, "239.0.0.2"); // with 224.0.0.1: 3
  assert.throws(() => igmp.join(i, "239.0.0.3"), RangeError);
  assert.equal(h.counter("igmp.groups.full"), 1);
  const a = igmp.newHolder();
  const sources = ["10.0.0.5", "10.0.0.6", "10.0.0.7"];
  assert.throws(() => igmp.setFilter(i, "239.0.0.1", a, { mode: "exclude", sources }), RangeError);
  assert.equal(h.counter("igmp.groups.sources_full"), 1);
  assert.deepEqual(igmp.list().map((g) => [g.group, g.users]), [
    ["224.0.0.1", 1],
    ["239.0.0.1", 1],
    ["239.0.0.2", 1],
  ]);
  h.finish();
});

Deno.test("igmp.groups list() rows: family, interface, merged mode and sorted sources, users, reported", () => {
  const h = igmpHost();
  const igmp = groupsOf(h);
  const i = h.iface.index;
  igmp.setFilter(i, "232.1.1.1", igmp.newHolder(), {
    mode: "include",
    sources: ["10.9.0.2", "10.9.0.1"],
  });
  igmp.join(i, "224.0.0.251");
  assert.deepEqual(igmp.list(), [
    {
      family: 4,
      ifindex: i,
      ifname: h.iface.name,
      group: "224.0.0.1",
      mode: "exclude",
      sources: [],
      users: 1,
      reported: false,
    },
    {
      family: 4,
      ifindex: i,
      ifname: h.iface.name,
      group: "232.1.1.1",
      mode: "include",
      sources: ["10.9.0.1", "10.9.0.2"],
      users: 1,
      reported: true,
    },
    {
      family: 4,
      ifindex: i,
      ifname: h.iface.name,
      group: "224.0.0.251",
      mode: "exclude",
      sources: [],
      users: 1,
      reported: true,
    },
  ]);
  h.finish();
});

Deno.test("stack.multicastGroups() lists IPv4 then IPv6 groups, like ip maddr", () => {
  const h = igmpHost({ addresses: ["10.0.0.1/24", "fe80::1/64"] });
  const igmp = groupsOf(h);
  igmp.join(h.iface.index, "239.1.2.3");
  const mld = h.stack.service<MulticastGroupsService>("mld.groups")!;
  mld.setFilter(h.iface.index, "ff3e::1", mld.newHolder(), {
    mode: "include",
    sources: ["fe80::9"],
  });
  assert.deepEqual(
    h.stack.multicastGroups().map((g) => `${g.family} ${g.group} ${g.mode} ${g.sources.join(",")}`),
    [
      "4 224.0.0.1 exclude ",
      "4 239.1.2.3 exclude ",
      "6 ff02::1 exclude ",
      "6 ff02::1:ff00:1 exclude ",
      "6 ff3e::1 include fe80::9",
    ],
  );
  h.finish();
});

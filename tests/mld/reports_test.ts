/**
 * MLDv2 host reports (RFC 3810) for the groups the stack joins itself:
 * State Change Reports on join and leave, answers to queries within the
 * Maximum Response Delay on the virtual clock, and the bytes of every
 * report (hop limit 1, Router Alert, checksum, records).
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { contextSpy, mldHost, query, readMld } from "./_mld.ts";

const TO_EX = 4;
const TO_IN = 3;
const IS_EX = 2;

Deno.test("mld an address's solicited-node group is reported at once (CHANGE_TO_EXCLUDE, from ::, to ff02::16) and once more within 1 s", () => {
  const h = mldHost({ addresses: ["fd00::1/64"] });
  assert.equal(h.boot.length, 1, "one report at set-up");
  assert.deepEqual(readMld(h.boot[0]!), {
    src: "::", // no link-local address yet (RFC 3810 §5.2.13)
    dst: "ff02::16",
    type: 143,
    records: [[TO_EX, "ff02::1:ff00:1"]],
  });
  const t0 = h.history[0]!.at;
  h.runFor(ms(1000));
  const again = h.take();
  assert.equal(again.length, 1, "robustness 2: one retransmission");
  assert.deepEqual(readMld(again[0]!).records, [[TO_EX, "ff02::1:ff00:1"]]);
  const dt = h.history[1]!.at - t0;
  assert.ok(dt > 0 && dt <= ms(1000), `retransmitted after ${dt} µs`);
  h.runFor(ms(60_000));
  assert.equal(h.take().length, 0, "then quiet");
  assert.equal(h.counter("mld.tx.reports_v2"), 2);
  h.finish();
});

Deno.test("mld all-nodes is joined but never reported; groups are listed per interface", () => {
  const h = mldHost({ addresses: ["fe80::1/64", "fd00::1/64"] });
  const mld = h.stack.service("mld.groups") as MulticastGroupsService;
  assert.deepEqual(
    mld.list().map((g) => [g.ifname, g.group, g.users, g.reported]),
    [[h.iface.name, "ff02::1", 1, false], [h.iface.name, "ff02::1:ff00:1", 2, true]],
  );
  const all = h.boot.map(readMld);
  assert.equal(all.length, 1, "two addresses, one shared solicited-node group, one report");
  assert.equal(all[0]!.src, "fe80::1", "from the usable link-local address");
  assert.deepEqual(all[0]!.records, [[TO_EX, "ff02::1:ff00:1"]]);
  assert.ok(!h.boot.some((f) => readMld(f).records.some(([, g]) => g === "ff02::1")));
  assert.ok(mld.isMember(h.iface.index, IpAddress.parse("ff02::1")!.key));
  h.finish();
});

Deno.test("mld a tentative address's group is joined and reported before DAD could send (RFC 4862 §5.4.2)", () => {
  const spy = contextSpy();
  const h = mldHost({ addresses: [], extra: [spy.plugin] });
  assert.equal(h.boot.length, 0, "nothing to report: only all-nodes");
  spy.ctx().addAddress(h.iface.index, "fe80::2:3/64", { state: "tentative", origin: "link-local" });
  h.runFor(0);
  const r = h.take().map(readMld);
  assert.equal(r.length, 1);
  assert.equal(r[0]!.src, "::", "a tentative address is no source");
  assert.deepEqual(r[0]!.records, [[TO_EX, "ff02::1:ff02:3"]]);
  // DAD fails: the address is not ours, its group is left.
  spy.ctx().setAddressState(h.iface.index, IpAddress.parse("fe80::2:3")!.bytes(), "duplicate");
  h.runFor(0);
  assert.deepEqual(h.take().map((f) => readMld(f).records), [[[TO_IN, "ff02::1:ff02:3"]]]);
  h.finish();
});

Deno.test("mld removing the last address of a group sends CHANGE_TO_INCLUDE twice, then forgets it", () => {
  const h = mldHost({ addresses: ["fe80::1/64", "fd00::5/64"] });
  h.runFor(ms(2000));
  h.take();
  h.stack.removeAddress(h.iface.name, "fd00::5");
  h.runFor(ms(2000));
  const r = h.take().map(readMld);
  assert.deepEqual(r.map((x) => x.records), [[[TO_IN, "ff02::1:ff00:5"]], [[
    TO_IN,
    "ff02::1:ff00:5",
  ]]]);
  assert.ok(r.every((x) => x.src === "fe80::1" && x.dst === "ff02::16"));
  const mld = h.stack.service("mld.groups") as MulticastGroupsService;
  assert.deepEqual(mld.list().map((g) => g.group), ["ff02::1", "ff02::1:ff00:1"]);
  h.finish();
});

Deno.test("mld a join while a leave is being retransmitted merges into one report per instant", () => {
  const h = mldHost({ addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  h.take();
  h.stack.addAddress(h.iface.name, "fd00::7/64");
  h.stack.addAddress(h.iface.name, "fd00::8/64");
  h.runFor(0);
  const r = h.take().map(readMld);
  assert.equal(r.length, 1, "joins of one instant share a report");
  assert.deepEqual(r[0]!.records, [[TO_EX, "ff02::1:ff00:7"], [TO_EX, "ff02::1:ff00:8"]]);
  h.finish();
});

/** Drains the boot reports of a host with fe80::1 and fd00::1, then injects `q`; returns (delay, reports). */
function answer(seed: number, q: Uint8Array) {
  const h = mldHost({ seed, addresses: ["fe80::1/64", "fd00::1/64", "fd00::1:2/64"] });
  h.runFor(ms(2000));
  h.take();
  const t0 = h.net.now();
  const n = h.history.length;
  h.inject(q);
  h.runFor(ms(12_000));
  const sent = h.history.slice(n);
  const reports = h.take().map(readMld);
  return { h, delays: sent.map((s) => s.at - t0), reports };
}

Deno.test("mld a General Query is answered with MODE_IS_EXCLUDE for every group but ff02::1, within the Maximum Response Delay", () => {
  const delays: number[] = [];
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const r = answer(seed, query({ maxDelay: 1000 }));
    assert.equal(r.reports.length, 1, `seed ${seed}`);
    assert.deepEqual(r.reports[0], {
      src: "fe80::1",
      dst: "ff02::16",
      type: 143,
      records: [[IS_EX, "ff02::1:ff00:1"], [IS_EX, "ff02::1:ff01:2"]],
    });
    assert.ok(r.delays[0]! >= 0 && r.delays[0]! <= ms(1000), `seed ${seed}: ${r.delays[0]} µs`);
    delays.push(r.delays[0]!);
    assert.equal(r.h.counter("mld.rx.queries_v2"), 1);
    r.h.finish();
  }
  assert.ok(new Set(delays).size > 1, `random delays from the stack's RNG: ${delays}`);
});

Deno.test("mld a Multicast-Address-Specific Query is answered for that group only; one for another group is not", () => {
  const r = answer(1, query({ group: "ff02::1:ff00:1", dst: "ff02::1:ff00:1", maxDelay: 500 }));
  assert.deepEqual(r.reports.map((x) => x.records), [[[IS_EX, "ff02::1:ff00:1"]]]);
  assert.ok(r.delays[0]! <= ms(500));
  r.h.finish();
  const other = answer(1, query({ group: "ff02::1:ff00:99", maxDelay: 500 }));
  assert.equal(other.reports.length, 0);
  assert.equal(other.h.counter("mld.rx.query_not_member"), 1);
  other.h.finish();
});

Deno.test("mld a General Query pending sooner covers a later group query (RFC 3810 §6.2 rule 1)", () => {
  const h = mldHost({ seed: 3, addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  h.take();
  const sent = h.inject(query({ maxDelay: 1 })); // answered within 1 ms…
  assert.equal(sent.length, 0, "not at once (this seed)");
  sent.push(
    ...h.inject(query({ group: "ff02::1:ff00:1", dst: "ff02::1:ff00:1", maxDelay: 30_000 })),
  );
  h.runFor(ms(31_000));
  sent.push(...h.take());
  assert.deepEqual(
    sent.map((f) => readMld(f).records),
    [[[IS_EX, "ff02::1:ff00:1"]]],
    "…and that answer covers the later group query",
  );
  h.finish();
});

Deno.test("mld queries that are not from a link-local router on the link are dropped (RFC 3810 §6.2)", () => {
  const h = mldHost({ addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  h.take();
  h.inject(query({ src: "fd00::99" }));
  h.inject(query({ hopLimit: 2 }));
  h.inject(query({ routerAlert: false }));
  h.inject(query({ length: 26 }));
  h.inject(query({ group: "fd00::1" }));
  h.runFor(ms(20_000));
  assert.equal(h.take().length, 0);
  for (
    const reason of ["bad_source", "bad_hop_limit", "no_router_alert", "bad_length", "bad_group"]
  ) {
    assert.equal(h.counter(`mld.rx.${reason}`), 1, reason);
  }
  assert.equal(h.counter("mld.rx.queries_v2"), 0);
  h.finish();
});

Deno.test("mld a query from :: or from a global address is dropped whatever its version (RFC 3810 §5.1.14)", () => {
  const h = mldHost({ addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  h.take();
  h.inject(query({ src: "::" }));
  h.inject(query({ src: "::", version: 1 }));
  h.inject(query({ src: "2001:db8::99", version: 1 }));
  h.inject(query({ src: "fe80::99", hopLimit: 255, version: 1 }));
  h.runFor(ms(20_000));
  assert.equal(h.take().length, 0);
  assert.equal(h.counter("mld.rx.bad_source"), 3);
  assert.equal(h.counter("mld.rx.bad_hop_limit"), 1);
  assert.equal(h.counter("mld.rx.queries_v1") + h.counter("mld.rx.queries_v2"), 0);
  assert.equal(h.counter("mld.mode.v1"), 0, "no MLDv1 mode from a forged query");
  h.finish();
});

Deno.test("mld a large table is reported in as many reports as the MTU needs", () => {
  const h = mldHost({ addresses: ["fe80::1/64"], mtu: 1280 });
  const mld = h.stack.service("mld.groups") as MulticastGroupsService;
  h.runFor(ms(2000));
  h.take();
  for (let i = 0; i < 100; i++) mld.join(h.iface.index, `ff05::${(i + 1).toString(16)}`);
  h.runFor(0);
  const r = h.take();
  assert.deepEqual(r.map((f) => f.length), [1280 - 4, 56 + 20 * 39], "61 records fill 1276 bytes");
  assert.equal(r.flatMap((f) => readMld(f).records).length, 100);
  h.finish();
});

Deno.test("mld the same seed sends the same reports at the same instants", () => {
  const run = (seed: number) => {
    const h = mldHost({ seed, addresses: ["fe80::1/64", "fd00::1/64"] });
    h.runFor(ms(2000));
    h.inject(query({ maxDelay: 5000 }));
    h.runFor(ms(6000));
    const out = h.history.map((x) => [x.at, [...x.bytes].join(",")]);
    h.finish();
    return out;
  };
  assert.deepEqual(run(9), run(9));
  assert.notDeepEqual(run(9), run(10), "another seed, other delays");
});

Deno.test("mld a link that goes down sends nothing; back up, it announces its groups again", () => {
  const h = mldHost({ addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  h.take();
  h.stack.setLinkUp(h.iface.name, false);
  h.stack.addAddress(h.iface.name, "fd00::3/64");
  h.runFor(ms(2000));
  assert.equal(h.take().length, 0);
  h.stack.setLinkUp(h.iface.name, true);
  h.runFor(ms(2000));
  const r = h.take().map(readMld);
  assert.equal(r.length, 2, "robustness 2");
  assert.deepEqual(r[0]!.records, [[TO_EX, "ff02::1:ff00:1"], [TO_EX, "ff02::1:ff00:3"]]);
  h.finish();
});

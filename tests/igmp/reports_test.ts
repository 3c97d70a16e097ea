/**
 * IGMPv3 host reports (RFC 3376 §5): State Change Reports on join, leave
 * and filter changes, retransmitted [Robustness] times within the
 * Unsolicited Report Interval; answers to General, Group-Specific and
 * Group-and-Source-Specific Queries within the Max Resp Time, on the
 * virtual clock.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import {
  ALLOW,
  BLOCK,
  igmpHost,
  igmpQuery,
  IS_EX,
  IS_IN,
  readIgmp,
  TO_EX,
  TO_IN,
} from "./_igmp.ts";

const groupsOf = (h: ReturnType<typeof igmpHost>) =>
  h.stack.service<MulticastGroupsService>("igmp.groups")!;

Deno.test("igmp nothing is reported at start-up: 224.0.0.1 is joined but never reported (RFC 3376 §5)", () => {
  const h = igmpHost();
  h.runFor(ms(5000));
  assert.equal(h.takeIgmp().length, 0);
  assert.deepEqual(
    groupsOf(h).list().map((g) => [g.family, g.group, g.mode, g.reported]),
    [[4, "224.0.0.1", "exclude", false]],
  );
  h.finish();
});

Deno.test("igmp a join sends TO_EX {} to 224.0.0.22 at once and once more within the Unsolicited Report Interval", () => {
  const h = igmpHost();
  h.runFor(ms(100));
  h.take();
  const igmp = groupsOf(h);
  assert.equal(igmp.join(h.iface.index, "239.1.2.3"), true);
  assert.equal(igmp.join(h.iface.index, "239.1.2.3"), false, "reference-counted");
  h.runFor(0);
  const first = h.takeIgmp().map(readIgmp);
  assert.deepEqual(first, [{
    src: "10.0.0.1",
    dst: "224.0.0.22",
    type: 0x22,
    records: [[TO_EX, "239.1.2.3", []]],
  }]);
  const t0 = h.net.now();
  const n = h.history.length;
  h.runFor(ms(1000));
  const again = h.takeIgmp().map(readIgmp);
  assert.deepEqual(again.map((r) => r.records), [[[TO_EX, "239.1.2.3", []]]]);
  const at = h.history.slice(n).find((x) => x.bytes[9] === 2)!.at;
  assert.ok(at > t0 && at <= t0 + ms(1000), `retransmitted after ${at - t0} µs`);
  h.runFor(ms(60_000));
  assert.equal(h.takeIgmp().length, 0, "then quiet");
  assert.equal(h.counter("igmp.tx.reports_v3"), 2);
  h.finish();
});

Deno.test("igmp link-local groups other than 224.0.0.1 (224.0.0.251, mDNS) are reported, in changes and in answers (RFC 3376 §5)", () => {
  const h = igmpHost();
  h.runFor(ms(100));
  h.take();
  assert.equal(groupsOf(h).join(h.iface.index, "224.0.0.251"), true);
  h.runFor(ms(1000));
  assert.deepEqual(h.takeIgmp().map((p) => readIgmp(p).records), [
    [[TO_EX, "224.0.0.251", []]],
    [[TO_EX, "224.0.0.251", []]],
  ]);
  h.inject(igmpQuery({ maxResp: 10 }));
  h.runFor(ms(1000));
  assert.deepEqual(
    h.takeIgmp().map((p) => readIgmp(p).records),
    [[[IS_EX, "224.0.0.251", []]]],
    "224.0.0.1 is never in the answer",
  );
  h.finish();
});

Deno.test("igmp the last leave sends TO_IN {} robustness times, then the group is gone", () => {
  const h = igmpHost({ plugins: { igmp: { robustness: 3 } } });
  const igmp = groupsOf(h);
  igmp.join(h.iface.index, "239.1.2.3");
  igmp.join(h.iface.index, "239.1.2.3");
  h.runFor(ms(5000));
  assert.equal(h.takeIgmp().length, 3, "robustness 3");
  assert.equal(igmp.leave(h.iface.index, "239.1.2.3"), false, "one join still holds it");
  h.runFor(ms(5000));
  assert.equal(h.takeIgmp().length, 0);
  assert.equal(igmp.leave(h.iface.index, "239.1.2.3"), true);
  h.runFor(ms(5000));
  assert.deepEqual(h.takeIgmp().map((p) => readIgmp(p).records), [
    [[TO_IN, "239.1.2.3", []]],
    [[TO_IN, "239.1.2.3", []]],
    [[TO_IN, "239.1.2.3", []]],
  ]);
  assert.deepEqual(igmp.list().map((g) => g.group), ["224.0.0.1"]);
  assert.equal(igmp.leave(h.iface.index, "239.1.2.3"), false, "nothing left to leave");
  h.finish();
});

Deno.test("igmp source filters: INCLUDE joins send ALLOW, a second holder's EXCLUDE sends TO_EX, blocks send BLOCK", () => {
  const h = igmpHost({ plugins: { igmp: { robustness: 1 } } });
  const igmp = groupsOf(h);
  const a = igmp.newHolder();
  const b = igmp.newHolder();
  const step = () => {
    h.runFor(ms(10));
    return h.takeIgmp().map((p) => readIgmp(p).records);
  };
  igmp.setFilter(h.iface.index, "232.1.1.1", a, {
    mode: "include",
    sources: ["10.9.0.1", "10.9.0.2"],
  });
  assert.deepEqual(step(), [[[ALLOW, "232.1.1.1", ["10.9.0.1", "10.9.0.2"]]]]);
  igmp.setFilter(h.iface.index, "232.1.1.1", a, { mode: "include", sources: ["10.9.0.2"] });
  assert.deepEqual(step(), [[[BLOCK, "232.1.1.1", ["10.9.0.1"]]]]);
  igmp.setFilter(h.iface.index, "232.1.1.1", b, {
    mode: "exclude",
    sources: ["10.9.0.2", "10.9.0.3"],
  });
  // EXCLUDE{2,3} merged with INCLUDE{2}: EXCLUDE{3} (RFC 3376 §3.2).
  assert.deepEqual(step(), [[[TO_EX, "232.1.1.1", ["10.9.0.3"]]]]);
  assert.deepEqual(
    igmp.list().filter((g) => g.group === "232.1.1.1").map((g) => [g.mode, g.sources, g.users]),
    [
      ["exclude", ["10.9.0.3"], 2],
    ],
  );
  assert.equal(igmp.dropHolder(b), true);
  assert.deepEqual(step(), [[[TO_IN, "232.1.1.1", ["10.9.0.2"]]]]);
  assert.equal(igmp.dropHolder(a), true);
  assert.deepEqual(step(), [[[BLOCK, "232.1.1.1", ["10.9.0.2"]]]]);
  assert.deepEqual(igmp.list().map((g) => g.group), ["224.0.0.1"]);
  h.finish();
});

/** A host joined to 239.1.2.3 (EXCLUDE {}) and 232.1.1.1 (INCLUDE {10.9.0.1, 10.9.0.2}), reports drained. */
function joinedHost(seed = 1) {
  const h = igmpHost({ seed });
  const igmp = groupsOf(h);
  igmp.join(h.iface.index, "239.1.2.3");
  igmp.setFilter(h.iface.index, "232.1.1.1", igmp.newHolder(), {
    mode: "include",
    sources: ["10.9.0.1", "10.9.0.2"],
  });
  h.runFor(ms(3000));
  h.take();
  return h;
}

/** Injects `q` into `h` and runs `span`; returns the IGMP answers and their delays. */
function answer(h: ReturnType<typeof igmpHost>, q: Uint8Array, span = ms(12_000)) {
  const t0 = h.net.now();
  const n = h.history.length;
  h.inject(q);
  h.runFor(span);
  const sent = h.history.slice(n).filter((x) => x.bytes[9] === 2);
  h.take();
  return { delays: sent.map((s) => s.at - t0), reports: sent.map((s) => readIgmp(s.bytes)) };
}

Deno.test("igmp a General Query is answered with the current state of every reported group, within Max Resp Time", () => {
  const delays: number[] = [];
  for (const seed of [1, 2, 3, 4, 5]) {
    const h = joinedHost(seed);
    const r = answer(h, igmpQuery({ maxResp: 20 })); // 2 s
    assert.equal(r.reports.length, 1, `seed ${seed}`);
    assert.deepEqual(r.reports[0]!.records, [
      [IS_EX, "239.1.2.3", []],
      [IS_IN, "232.1.1.1", ["10.9.0.1", "10.9.0.2"]],
    ]);
    assert.equal(r.reports[0]!.dst, "224.0.0.22");
    assert.ok(r.delays[0]! <= ms(2000), `seed ${seed}: ${r.delays[0]}`);
    delays.push(r.delays[0]!);
    assert.equal(h.counter("igmp.rx.queries_v3"), 1);
    h.finish();
  }
  assert.ok(new Set(delays).size > 1, `random delays from the stack's RNG: ${delays}`);
});

Deno.test("igmp a v3 Max Resp Code of 128 and more is the floating-point form (RFC 3376 §4.1.1)", () => {
  const h = joinedHost(7);
  const r = answer(h, igmpQuery({ maxResp: 31744 }), ms(3_200_000)); // 0xff: 3174.4 s
  assert.equal(r.reports.length, 1);
  assert.ok(r.delays[0]! > ms(12_000), `beyond the 12.7 s a plain code allows: ${r.delays[0]}`);
  h.finish();
});

Deno.test("igmp a Group-Specific Query is answered for that group only; one for another group is counted", () => {
  const h = joinedHost();
  const r = answer(h, igmpQuery({ group: "239.1.2.3", maxResp: 10 }));
  assert.deepEqual(r.reports.map((x) => x.records), [[[IS_EX, "239.1.2.3", []]]]);
  assert.ok(r.delays[0]! <= ms(1000));
  const none = answer(h, igmpQuery({ group: "239.9.9.9", dst: "224.0.0.1", maxResp: 10 }));
  assert.equal(none.reports.length, 0);
  assert.equal(h.counter("igmp.rx.query_not_member"), 1);
  h.finish();
});

Deno.test("igmp a Group-and-Source-Specific Query is answered with the queried sources the state hears (§5.2)", () => {
  const h = joinedHost();
  const inc = answer(
    h,
    igmpQuery({ group: "232.1.1.1", sources: ["10.9.0.2", "10.9.0.5"], maxResp: 10 }),
  );
  assert.deepEqual(inc.reports.map((x) => x.records), [[[IS_IN, "232.1.1.1", ["10.9.0.2"]]]]);
  const exc = answer(h, igmpQuery({ group: "239.1.2.3", sources: ["10.9.0.5"], maxResp: 10 }));
  assert.deepEqual(exc.reports.map((x) => x.records), [[[IS_IN, "239.1.2.3", ["10.9.0.5"]]]]);
  const nothing = answer(h, igmpQuery({ group: "232.1.1.1", sources: ["10.9.0.7"], maxResp: 10 }));
  assert.equal(nothing.reports.length, 0, "an empty answer is not sent");
  h.finish();
});

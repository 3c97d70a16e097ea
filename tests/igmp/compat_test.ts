/**
 * IGMP compatibility modes (RFC 3376 §7.2.1): an IGMPv2 or IGMPv1 query
 * moves the interface to that version until the Older Version Querier
 * Present timer (Robustness × Query Interval + Max Resp Time, §8.12)
 * expires; v1 wins over v2; the older modes report, suppress and leave the
 * RFC 2236 / RFC 1112 way; pending v3 transmissions are cancelled.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { igmpHost, igmpQuery, IS_EX, otherReport, readIgmp, TO_EX } from "./_igmp.ts";

const groupsOf = (h: ReturnType<typeof igmpHost>) =>
  h.stack.service<MulticastGroupsService>("igmp.groups")!;
/** The Older Version Querier Present Timeout for the defaults and a 10 s Max Resp Time. */
const OLDER_TIMEOUT = ms(2 * 125_000 + 10_000);

function joined() {
  const h = igmpHost();
  groupsOf(h).join(h.iface.index, "239.1.2.3");
  h.runFor(ms(3000));
  h.take();
  return h;
}

const summary = (p: Uint8Array) => {
  const r = readIgmp(p);
  return `${r.type.toString(16)} ${r.dst} ${r.records.map(([t, g]) => `${t}:${g}`).join(" ")}`;
};

Deno.test("igmp v3 → v2: a v2 General Query is answered with a v2 Report to the group within its Max Resp Time", () => {
  const h = joined();
  const t0 = h.net.now();
  const n = h.history.length;
  assert.deepEqual(h.injectIgmp(igmpQuery({ version: 2, maxResp: 50 })), []);
  h.runFor(ms(5000));
  assert.deepEqual(h.takeIgmp().map(summary), ["16 239.1.2.3 0:239.1.2.3"]);
  const at = h.history.slice(n).find((x) => x.bytes[9] === 2)!.at;
  assert.ok(at - t0 <= ms(5000));
  assert.equal(h.counter("igmp.mode.v2"), 1);
  assert.equal(h.counter("igmp.rx.queries_v2"), 1);
  h.finish();
});

Deno.test("igmp v2 mode: a join sends v2 Reports (robustness times), the last reporter's leave sends a Leave to 224.0.0.2", () => {
  const h = joined();
  h.injectIgmp(igmpQuery({ version: 2, group: "239.7.7.7", dst: "224.0.0.1", maxResp: 10 })); // not a member: only the mode
  const igmp = groupsOf(h);
  igmp.join(h.iface.index, "239.5.5.5");
  h.runFor(ms(3000));
  assert.deepEqual(h.takeIgmp().map(summary), [
    "16 239.5.5.5 0:239.5.5.5",
    "16 239.5.5.5 0:239.5.5.5",
  ]);
  igmp.leave(h.iface.index, "239.5.5.5");
  h.runFor(ms(100));
  assert.deepEqual(h.takeIgmp().map(summary), ["17 224.0.0.2 0:239.5.5.5"]);
  assert.equal(h.counter("igmp.tx.leaves"), 1);
  h.finish();
});

Deno.test("igmp v2 mode: another host's report suppresses ours, and then we send no Leave (RFC 2236 §3)", () => {
  const h = joined();
  h.injectIgmp(igmpQuery({ version: 2, maxResp: 100 }));
  const early = h.injectIgmp(otherReport("239.1.2.3"));
  assert.equal(early.length, 0, "this seed's delay is not zero");
  h.runFor(ms(12_000));
  assert.equal(h.takeIgmp().length, 0, "suppressed");
  assert.equal(h.counter("igmp.rx.suppressed"), 1);
  groupsOf(h).leave(h.iface.index, "239.1.2.3");
  h.runFor(ms(1000));
  assert.equal(h.takeIgmp().length, 0, "not the last reporter: no Leave");
  h.finish();
});

Deno.test("igmp v2 → v3: after the Older Version Querier Present Timeout, joins send v3 reports again", () => {
  const h = joined();
  h.injectIgmp(igmpQuery({ version: 2, maxResp: 100 }));
  h.runFor(ms(12_000));
  h.take();
  h.runFor(OLDER_TIMEOUT - ms(12_000) - 1);
  assert.equal(h.counter("igmp.mode.v3"), 0, "not yet");
  h.runFor(2);
  assert.equal(h.counter("igmp.mode.v3"), 1);
  groupsOf(h).join(h.iface.index, "239.6.6.6");
  h.runFor(0);
  assert.deepEqual(h.takeIgmp().map(summary), [`22 224.0.0.22 ${TO_EX}:239.6.6.6`]);
  h.finish();
});

Deno.test("igmp v3 → v1: a v1 query is answered with a v1 Report within 10 s, and leaving sends nothing", () => {
  const h = joined();
  h.injectIgmp(igmpQuery({ version: 1 }));
  h.runFor(ms(10_000));
  assert.deepEqual(h.takeIgmp().map(summary), ["12 239.1.2.3 0:239.1.2.3"]);
  assert.equal(h.counter("igmp.mode.v1"), 1);
  groupsOf(h).leave(h.iface.index, "239.1.2.3");
  h.runFor(ms(5000));
  assert.equal(h.takeIgmp().length, 0, "IGMPv1 has no Leave");
  h.finish();
});

Deno.test("igmp v1 wins over v2, and when the v1 querier goes the v2 one still holds the interface in v2 mode", () => {
  const h = joined();
  h.injectIgmp(igmpQuery({ version: 1 }));
  h.runFor(ms(60_000));
  h.injectIgmp(igmpQuery({ version: 2, maxResp: 100 })); // v2 present until 60 + 260 s
  h.runFor(ms(12_000));
  assert.deepEqual(h.takeIgmp().map(summary), [
    "12 239.1.2.3 0:239.1.2.3",
    "12 239.1.2.3 0:239.1.2.3",
  ]);
  h.runFor(OLDER_TIMEOUT - ms(72_000) + 1); // the v1 timer (started at 0) expires
  assert.equal(h.counter("igmp.mode.v2"), 1, "back from v1 to v2");
  h.injectIgmp(igmpQuery({ version: 3, maxResp: 100 }));
  h.runFor(ms(10_000));
  assert.deepEqual(
    h.takeIgmp().map(summary),
    ["16 239.1.2.3 0:239.1.2.3"],
    "a v3 query answered the v2 way",
  );
  h.runFor(OLDER_TIMEOUT);
  assert.equal(h.counter("igmp.mode.v3"), 1);
  h.injectIgmp(igmpQuery({ version: 3, maxResp: 10 }));
  h.runFor(ms(1000));
  assert.deepEqual(h.takeIgmp().map(summary), [`22 224.0.0.22 ${IS_EX}:239.1.2.3`]);
  h.finish();
});

Deno.test("igmp a v2 querier heard cancels the pending v3 retransmission (RFC 3376 §7.2.1)", () => {
  const h = igmpHost();
  groupsOf(h).join(h.iface.index, "239.1.2.3");
  h.runFor(0);
  assert.equal(h.takeIgmp().length, 1, "the first State Change Report");
  h.injectIgmp(igmpQuery({ version: 2, group: "239.9.9.9", dst: "224.0.0.1", maxResp: 10 }));
  h.runFor(ms(5000));
  assert.deepEqual(h.takeIgmp(), [], "its retransmission is gone");
  assert.equal(h.counter("igmp.tx.reports_v3"), 1);
  h.finish();
});

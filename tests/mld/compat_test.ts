/**
 * MLDv1 compatibility (RFC 3810 §8, RFC 2710 §4): while an MLDv1 querier
 * is present the host answers with MLDv1 Reports to the group, suppresses
 * its report when another listener's comes first, says Done to ff02::2
 * when it leaves after reporting, and goes back to MLDv2 when the Older
 * Version Querier Present timer (robustness × query interval + delay) runs out.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { mldHost, query, readMld, v1Report } from "./_mld.ts";

function v1Host(seed = 1) {
  const h = mldHost({ seed, addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  h.take();
  return h;
}

Deno.test("mld compat an MLDv1 query is answered with an MLDv1 Report to the group itself, within its delay", () => {
  const h = v1Host();
  const t0 = h.net.now();
  const n = h.history.length;
  h.inject(query({ version: 1, maxDelay: 2000 }));
  h.runFor(ms(2000));
  const r = h.take().map(readMld);
  assert.deepEqual(r, [{
    src: "fe80::1",
    dst: "ff02::1:ff00:1",
    type: 131,
    records: [[0, "ff02::1:ff00:1"]],
  }]);
  assert.ok(h.history[n]!.at - t0 <= ms(2000));
  assert.equal(h.counter("mld.rx.queries_v1"), 1);
  assert.equal(h.counter("mld.tx.reports_v1"), 1);
  h.finish();
});

Deno.test("mld compat another listener's MLDv1 Report suppresses ours, and then leaving sends no Done", () => {
  const h = v1Host();
  assert.equal(h.inject(query({ version: 1, maxDelay: 10_000 })).length, 0);
  h.inject(v1Report("ff02::1:ff00:1"));
  h.runFor(ms(11_000));
  assert.equal(h.take().length, 0, "suppressed (RFC 2710 §4)");
  assert.equal(h.counter("mld.rx.suppressed"), 1);
  h.stack.removeAddress(h.iface.name, "fe80::1");
  h.runFor(ms(2000));
  assert.equal(h.take().length, 0, "not the last reporter: no Done");
  h.finish();
});

Deno.test("mld compat leaving after reporting sends Done to ff02::2; joining sends MLDv1 Reports", () => {
  const h = v1Host();
  h.inject(query({ version: 1, maxDelay: 1000 }));
  h.runFor(ms(1000));
  assert.equal(h.take().length, 1);
  h.stack.addAddress(h.iface.name, "fd00::9/64");
  h.runFor(ms(1000));
  const joins = h.take().map(readMld);
  assert.deepEqual(joins.map((x) => [x.type, x.dst]), [[131, "ff02::1:ff00:9"], [
    131,
    "ff02::1:ff00:9",
  ]]);
  h.stack.removeAddress(h.iface.name, "fe80::1");
  h.runFor(0);
  const done = h.take().map(readMld);
  assert.equal(done.length, 1);
  assert.equal(done[0]!.type, 132);
  assert.equal(done[0]!.dst, "ff02::2");
  assert.equal(done[0]!.src, "::", "its own link-local address is gone");
  assert.deepEqual(done[0]!.records, [[0, "ff02::1:ff00:1"]]);
  h.finish();
});

Deno.test("mld compat back to MLDv2 when no MLDv1 query came for robustness × 125 s + the delay", () => {
  const h = v1Host();
  h.inject(query({ version: 1, maxDelay: 1000 }));
  h.runFor(ms(2 * 125_000 + 1000 - 1));
  h.take();
  h.stack.addAddress(h.iface.name, "fd00::a/64");
  h.runFor(0);
  assert.deepEqual(h.take().map((f) => readMld(f).type), [131], "still MLDv1 just before");
  h.runFor(ms(2));
  h.take();
  h.stack.addAddress(h.iface.name, "fd00::b/64");
  h.runFor(0);
  assert.deepEqual(h.take().map((f) => readMld(f).type), [143], "MLDv2 again");
  h.finish();
});

Deno.test("mld compat an MLDv2 query while in MLDv1 mode is answered as MLDv1", () => {
  const h = v1Host();
  h.inject(query({ version: 1, maxDelay: 1 }));
  h.runFor(ms(10));
  h.take();
  h.inject(query({ version: 2, maxDelay: 1000 }));
  h.runFor(ms(1000));
  assert.deepEqual(h.take().map((f) => readMld(f).type), [131]);
  h.finish();
});

Deno.test("mld compat an MLDv1 Report from off the link (not link-local, or hop limit above 1) suppresses nothing", () => {
  const h = v1Host();
  h.inject(query({ version: 1, maxDelay: 1000 }));
  const forged = v1Report("ff02::1:ff00:1");
  forged[7] = 64; // hop limit
  h.inject(forged);
  h.runFor(ms(1000));
  assert.equal(h.take().length, 1, "our report still goes");
  assert.equal(h.counter("mld.rx.bad_hop_limit"), 1);
  assert.equal(h.counter("mld.rx.suppressed"), 0);
  h.finish();
});

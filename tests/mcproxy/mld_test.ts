/**
 * The proxy for IPv6 (MLD, RFC 3810 with RFC 4605) on the same network: a
 * listener's join makes the proxy report upstream from its link-local
 * address and forward the group's traffic with the hop limit one lower;
 * the last Done-equivalent (TO_IN {}) stops it after the last-listener
 * queries; source-specific joins forward only the allowed sources;
 * link-local scope groups are never forwarded.
 */
import assert from "node:assert/strict";
import { assertTsharkClean } from "../_tshark.ts";
import { ethernetFrame } from "../_harness.ts";
import { query } from "../mld/_mld.ts";
import { kernelOf } from "../../stack/stack.ts";
import { makeProxyNet, mldFrames, SECOND, udp6Frames } from "./_proxy.ts";

const GROUP = "ff0e::1:3";
const TO_IN = 3;
const TO_EX = 4;
const ALLOW = 5;

/** The network, with duplicate address detection done (link-local addresses usable). */
function net() {
  const n = makeProxyNet();
  n.runFor(3 * SECOND);
  return n;
}

Deno.test("mcproxy MLD join: reported upstream from R's link-local address, forwarded with hop limit one lower", async () => {
  const n = net();
  assert.ok(n.count("mld.tx.general_queries") >= 2, "MLDv2 General Queries on both LANs");
  const queries = mldFrames(n.lan0.frames()).filter((f) => f.type === 130);
  assert.ok(queries.length >= 1);
  assert.ok(queries.every((q) => q.src.startsWith("fe80::") && q.dst === "ff02::1" && q.hop === 1));
  n.a.groups6.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  const up = mldFrames(n.up.frames()).filter((f) => f.type === 143 && f.src.startsWith("fe80::"));
  assert.ok(up.some((f) => f.what.includes(`${TO_EX} ${GROUP}`)), JSON.stringify(up));
  assert.equal(n.count("mld.upstream.changes"), 1);
  n.s.send(GROUP, "six");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), ["six"]);
  assert.deepEqual(udp6Frames(n.lan0.frames()), ["2001:db8::10>ff0e::1:3 hop=7 six"]);
  assert.deepEqual(udp6Frames(n.lan1.frames()), []);
  assert.equal(n.count("mld.fwd.forwarded"), 1);
  for (const cap of [n.up, n.lan0, n.lan1]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("mcproxy MLD leave: the last listener's leave stops forwarding after the last-listener queries", async () => {
  const n = net();
  n.a.groups6.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  n.a.groups6.leave(n.a.ifindex, GROUP);
  n.runFor(4 * SECOND);
  const q = mldFrames(n.lan0.frames()).filter((f) => f.type === 130 && f.dst === GROUP);
  assert.equal(q.length, 2, "Multicast Address Specific Queries, robustness times");
  assert.equal(n.count("mld.tx.group_queries"), 2);
  const up = mldFrames(n.up.frames()).filter((f) => f.type === 143 && f.src.startsWith("fe80::"));
  assert.ok(up.some((f) => f.what.includes(`${TO_IN} ${GROUP}`)), "left upstream");
  n.s.send(GROUP, "gone");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), []);
  assert.deepEqual(udp6Frames(n.lan0.frames()), []);
  await assertTsharkClean(n.lan0.bytes());
  n.finish();
});

Deno.test("mcproxy MLD source-specific: only the included source is asked for and forwarded", () => {
  const n = net();
  const g = "ff3e::8000:1";
  n.a.groups6.setFilter(n.a.ifindex, g, n.a.groups6.newHolder(), {
    mode: "include",
    sources: ["2001:db8::10"],
  });
  n.runFor(SECOND);
  const up = mldFrames(n.up.frames()).filter((f) => f.type === 143 && f.src.startsWith("fe80::"));
  assert.ok(up.some((f) => f.what.includes(`${ALLOW} ${g} 2001:db8::10`)), JSON.stringify(up));
  n.s.send(g, "s");
  n.s2.send(g, "s2");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), ["s"]);
  assert.deepEqual(udp6Frames(n.lan0.frames()), ["2001:db8::10>ff3e::8000:1 hop=7 s"]);
  n.finish();
});

Deno.test("mcproxy MLD: link-local scope groups are never forwarded, hop limit 1 neither", () => {
  const n = net();
  n.c.groups6.join(n.c.ifindex, "ff02::fb");
  n.a.groups6.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  n.a.send("ff02::fb", "mdns");
  n.s.send(GROUP, "hop1", 1);
  n.runFor(SECOND);
  assert.deepEqual(n.c.take(), []);
  assert.deepEqual(udp6Frames(n.lan1.frames()), []);
  assert.deepEqual(udp6Frames(n.lan0.frames()).map((s) => s.split(" ").pop()), ["mdns"], "A's own");
  assert.ok(n.count("mld.fwd.link_local") >= 1);
  assert.equal(n.count("mld.fwd.ttl_exceeded"), 1);
  assert.equal(n.count("mld.rx.link_local_records") >= 1, true, "ff02::fb is not asked upstream");
  n.finish();
});

Deno.test("mcproxy MLDv1 listener: its Report joins, its Done brings the queries and the end of forwarding", () => {
  const n = net();
  // An MLDv1 querier heard by B alone puts B's mld in MLDv1 mode (RFC 3810 §8.2.1).
  kernelOf(n.b.stack).inject(
    n.b.ifindex,
    ethernetFrame(
      { dst: "33:33:00:00:00:01", src: "02:00:00:00:00:99", etherType: 0x86dd },
      query({ version: 1 }),
    ),
  );
  n.b.groups6.join(n.b.ifindex, GROUP);
  n.runFor(SECOND);
  assert.ok(n.count("mld.rx.reports_v1") >= 1);
  assert.ok(mldFrames(n.lan0.frames()).some((f) => f.type === 131 && f.what[0] === GROUP));
  n.s.send(GROUP, "v1");
  n.runFor(100_000);
  assert.deepEqual(n.b.take(), ["v1"]);
  n.b.groups6.leave(n.b.ifindex, GROUP);
  n.runFor(100_000);
  assert.equal(n.count("mld.rx.done"), 1);
  n.runFor(3 * SECOND);
  assert.equal(n.count("mld.tx.group_queries"), 2);
  n.s.send(GROUP, "gone");
  n.runFor(SECOND);
  assert.deepEqual(n.b.take(), []);
  assert.deepEqual(udp6Frames(n.lan0.frames()).map((s) => s.split(" ").pop()), ["v1"]);
  n.finish();
});

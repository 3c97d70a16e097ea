/**
 * The IGMP proxy (RFC 4605) on the loopback network: a receiver's join
 * makes the proxy report upstream and forward the group's traffic; a leave
 * with another member remaining keeps it; the last leave stops it after
 * the last-member queries; source-specific joins forward only the allowed
 * sources; TTL, link-local groups and the arrival interface are respected;
 * a downstream sender reaches upstream and the other downstream LAN.
 */
import assert from "node:assert/strict";
import { assertTsharkClean } from "../_tshark.ts";
import { ethernetFrame } from "../_harness.ts";
import { igmpQuery } from "../igmp/_igmp.ts";
import { kernelOf } from "../../stack/stack.ts";
import { igmpFrames, makeProxyNet, SECOND, udpFrames } from "./_proxy.ts";

const GROUP = "239.1.2.3";
const TO_IN = 3;
const TO_EX = 4;
const ALLOW = 5;

Deno.test("mcproxy join: a receiver's join is reported upstream and the group's traffic reaches it with TTL one lower", async () => {
  const n = makeProxyNet();
  const filtered = n.filtered();
  n.s.send(GROUP, "before");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), [], "no member yet: nothing forwarded");
  assert.ok(n.filtered() > filtered, "not asked for upstream: R's link filter drops it");
  n.a.groups.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  // The proxy holds the union upstream: its igmp plugin sent TO_EX({}) from 10.0.0.1.
  const reports = igmpFrames(n.up.frames()).filter((f) => f.src === "10.0.0.1" && f.type === 0x22);
  assert.ok(reports.some((f) => f.what.includes(`${TO_EX} ${GROUP}`)), JSON.stringify(reports));
  assert.equal(n.count("upstream.changes"), 1);
  n.s.send(GROUP, "one");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), ["one"]);
  assert.deepEqual(n.c.take(), [], "lan1 has no member");
  assert.deepEqual(udpFrames(n.lan0.frames()), ["10.0.0.10>239.1.2.3 ttl=7 one"]);
  assert.deepEqual(udpFrames(n.lan1.frames()), [], "not flooded to lan1");
  assert.equal(n.count("fwd.forwarded"), 1);
  for (const cap of [n.up, n.lan0, n.lan1]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("mcproxy querier: General Queries at startup (robustness, a quarter interval apart) then every Query Interval", () => {
  const n = makeProxyNet();
  n.runFor(200 * SECOND);
  const queries = igmpFrames(n.lan0.frames()).filter((f) => f.type === 0x11);
  assert.deepEqual(queries.map((q) => [q.src, q.dst, q.ttl, q.what[0]]), [
    ["10.1.0.1", "224.0.0.1", 1, "0.0.0.0"],
    ["10.1.0.1", "224.0.0.1", 1, "0.0.0.0"],
    ["10.1.0.1", "224.0.0.1", 1, "0.0.0.0"],
  ]);
  const at = n.lan0.records().filter((r) => r.data[14 + 9] === 2 && r.data[14 + 24] === 0x11)
    .map((r) => r.timestamp);
  assert.deepEqual(at.map((t) => t - at[0]!), [0, 31_250_000, 156_250_000]);
  n.finish();
});

Deno.test("mcproxy leave: with another member remaining the group-specific query is answered and traffic goes on", () => {
  const n = makeProxyNet();
  n.a.groups.join(n.a.ifindex, GROUP);
  n.b.groups.join(n.b.ifindex, GROUP);
  n.runFor(SECOND);
  n.a.groups.leave(n.a.ifindex, GROUP);
  n.runFor(5 * SECOND);
  const seen = igmpFrames(n.lan0.frames());
  const q = seen.filter((f) => f.type === 0x11 && f.dst === GROUP);
  assert.equal(q.length, 2, "Q(G) sent Last Member Query Count times");
  assert.equal(n.count("tx.group_queries"), 2);
  assert.equal(q[0]!.suppress, false);
  // B answers each query at random within its Max Resp Time (the S flag of the
  // retransmission depends on the order of B's answer and A's repeated TO_IN;
  // router_groups_test checks it).
  const last = seen.indexOf(q[1]!);
  assert.ok(seen.some((f, i) => i > last && f.src === "10.1.0.20" && f.type === 0x22));
  n.s.send(GROUP, "still");
  n.runFor(SECOND);
  assert.deepEqual(n.b.take(), ["still"]);
  assert.deepEqual(n.a.take(), [], "A left: its stack no longer accepts the group");
  n.finish();
});

Deno.test("mcproxy leave: the last leave stops forwarding after the last-member queries and leaves upstream", async () => {
  const n = makeProxyNet();
  n.a.groups.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  n.s.send(GROUP, "in");
  n.runFor(100_000);
  assert.deepEqual(n.a.take(), ["in"]);
  n.a.groups.leave(n.a.ifindex, GROUP);
  n.runFor(1_500_000); // within LMQT (2 s): still forwarded
  n.s.send(GROUP, "lmqt");
  n.runFor(100_000);
  assert.deepEqual(udpFrames(n.lan0.frames()).map((s) => s.split(" ").pop()), ["in", "lmqt"]);
  n.runFor(2 * SECOND);
  const filtered = n.filtered();
  n.s.send(GROUP, "after");
  n.runFor(SECOND);
  assert.deepEqual(udpFrames(n.lan0.frames()).map((s) => s.split(" ").pop()), ["in", "lmqt"]);
  assert.ok(n.filtered() > filtered, "left upstream: R's link filter drops the group");
  const upLeave = igmpFrames(n.up.frames()).filter((f) =>
    f.src === "10.0.0.1" && f.what.includes(`${TO_IN} ${GROUP}`)
  );
  assert.ok(upLeave.length >= 1, "the proxy left upstream (TO_IN({}))");
  for (const cap of [n.up, n.lan0]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("mcproxy source-specific: an INCLUDE join forwards only the allowed source, and asks upstream for it alone", () => {
  const n = makeProxyNet();
  const g = "232.1.1.1";
  n.a.groups.setFilter(n.a.ifindex, g, n.a.groups.newHolder(), {
    mode: "include",
    sources: ["10.0.0.10"],
  });
  n.runFor(SECOND);
  const up = igmpFrames(n.up.frames()).filter((f) => f.src === "10.0.0.1" && f.type === 0x22);
  assert.ok(up.some((f) => f.what.includes(`${ALLOW} ${g} 10.0.0.10`)), JSON.stringify(up));
  n.s.send(g, "from-s");
  n.s2.send(g, "from-s2");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), ["from-s"]);
  assert.deepEqual(udpFrames(n.lan0.frames()), ["10.0.0.10>232.1.1.1 ttl=7 from-s"]);
  assert.equal(n.count("fwd.no_members"), 1, "S2's datagram went nowhere");
  n.finish();
});

Deno.test("mcproxy EXCLUDE join: a blocked source is not forwarded, the others are", () => {
  const n = makeProxyNet();
  n.a.groups.setFilter(n.a.ifindex, GROUP, n.a.groups.newHolder(), {
    mode: "exclude",
    sources: ["10.0.0.11"],
  });
  n.runFor(SECOND);
  n.s.send(GROUP, "s");
  n.s2.send(GROUP, "s2");
  n.runFor(SECOND);
  assert.deepEqual(udpFrames(n.lan0.frames()), ["10.0.0.10>239.1.2.3 ttl=7 s"]);
  const up = igmpFrames(n.up.frames()).filter((f) => f.src === "10.0.0.1" && f.type === 0x22);
  assert.ok(up.some((f) => f.what.includes(`${TO_EX} ${GROUP} 10.0.0.11`)), JSON.stringify(up));
  n.finish();
});

Deno.test("mcproxy forwarding: TTL 1 and link-local groups are never forwarded", () => {
  const n = makeProxyNet();
  n.a.groups.join(n.a.ifindex, GROUP);
  n.c.groups.join(n.c.ifindex, "224.0.0.251");
  n.runFor(SECOND);
  n.s.send(GROUP, "ttl1", 1);
  n.a.send("224.0.0.251", "mdns"); // downstream: the proxy hears every group there
  n.runFor(SECOND);
  assert.deepEqual(n.c.take(), []);
  assert.deepEqual(udpFrames(n.lan0.frames()), ["10.1.0.10>224.0.0.251 ttl=8 mdns"], "A's own");
  assert.deepEqual(udpFrames(n.lan1.frames()), []);
  assert.deepEqual(udpFrames(n.up.frames()), [
    "10.0.0.10>239.1.2.3 ttl=1 ttl1",
  ]);
  assert.equal(n.count("fwd.ttl_exceeded"), 1);
  assert.equal(n.count("fwd.link_local"), 1);
  const up = igmpFrames(n.up.frames()).filter((f) => f.src === "10.0.0.1" && f.type === 0x22);
  assert.ok(!up.some((f) => f.what.some((w) => w.includes("224.0.0.251"))), "not asked upstream");
  n.finish();
});

Deno.test("mcproxy downstream sender: goes upstream and to the other downstream LAN with members, never back", async () => {
  const n = makeProxyNet();
  n.c.groups.join(n.c.ifindex, GROUP);
  n.runFor(SECOND);
  n.a.send(GROUP, "from-a");
  n.runFor(SECOND);
  assert.deepEqual(n.c.take(), ["from-a"]);
  assert.deepEqual(udpFrames(n.lan1.frames()), ["10.1.0.10>239.1.2.3 ttl=7 from-a"]);
  assert.deepEqual(udpFrames(n.up.frames()), ["10.1.0.10>239.1.2.3 ttl=7 from-a"]);
  assert.deepEqual(
    udpFrames(n.lan0.frames()),
    ["10.1.0.10>239.1.2.3 ttl=8 from-a"],
    "only A's own",
  );
  assert.equal(n.count("fwd.forwarded"), 2);
  for (const cap of [n.up, n.lan0, n.lan1]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("mcproxy without the plugin: a forwarding router forwards no multicast", () => {
  const n = makeProxyNet({ withoutProxy: true });
  n.a.groups.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  const before = n.filtered();
  n.s.send(GROUP, "x");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), []);
  assert.deepEqual(udpFrames(n.lan0.frames()), []);
  assert.ok(n.filtered() > before, "no member upstream: R's link filter drops it");
  n.finish();
});

Deno.test("mcproxy querier election: a lower address heard makes the proxy stop querying but keep its database", () => {
  const n = makeProxyNet({ lan0Address: "10.1.0.100/24", secondRouter: "10.1.0.2/24" });
  const r2 = n.r2!;
  assert.equal(n.count("querier.lost"), 1, "R heard R2's startup query");
  assert.equal(r2.counters.get("mcproxy.querier.lost").value, 0, "R2 (lower) stays querier");
  n.a.groups.join(n.a.ifindex, GROUP);
  n.runFor(200 * SECOND);
  const fromR = igmpFrames(n.lan0.frames()).filter((f) =>
    f.type === 0x11 && f.src === "10.1.0.100"
  );
  assert.equal(fromR.length, 1, "only R's first startup query");
  n.s.send(GROUP, "not from R");
  n.runFor(SECOND);
  // RFC 4605 §4.2: only the querier forwards onto a downstream LAN (R2 here,
  // whose upstream leads nowhere); two proxies forwarding would duplicate.
  assert.deepEqual(n.a.take(), [], "the non-querier listens but does not forward");
  assert.equal(n.count("fwd.forwarded"), 0);
  // The leave: R2 queries, R lowers its group timer on R2's query (§6.6.1) and stops after LMQT.
  n.a.groups.leave(n.a.ifindex, GROUP);
  n.runFor(4 * SECOND);
  assert.equal(n.count("tx.group_queries"), 0);
  assert.equal(r2.counters.get("mcproxy.tx.group_queries").value, 2);
  n.s.send(GROUP, "gone");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), []);
  n.finish();
});

Deno.test("mcproxy querier election: when the other querier goes quiet the proxy resumes after the Other Querier Present Interval", () => {
  const n = makeProxyNet({ lan0Address: "10.1.0.100/24", secondRouter: "10.1.0.2/24" });
  n.a.groups.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  n.r2!.close();
  // R2's last query left at start-up (t ≈ 0): the interval is 2 × 125 s + 10 s / 2.
  n.runFor(252 * SECOND);
  assert.equal(n.count("querier.resumed"), 0);
  n.runFor(3 * SECOND);
  assert.equal(n.count("querier.resumed"), 1);
  const fromR = igmpFrames(n.lan0.frames()).filter((f) =>
    f.type === 0x11 && f.src === "10.1.0.100"
  );
  assert.equal(fromR.length, 2, "R's first startup query, then one on resuming");
  n.s.send(GROUP, "querier again");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), ["querier again"], "the querier again, R forwards onto lan0");
  n.finish();
});

Deno.test("mcproxy IGMPv2 host: its Report joins, its Leave brings the group-specific queries and the end of forwarding", async () => {
  const n = makeProxyNet();
  // A v2 querier heard by B alone puts B's igmp in IGMPv2 mode (RFC 3376 §7.2.1).
  const q = igmpQuery({ version: 2, src: "10.1.0.254" });
  kernelOf(n.b.stack).inject(
    n.b.ifindex,
    ethernetFrame({ dst: "01:00:5e:00:00:01", src: "02:00:00:00:0a:fe", etherType: 0x0800 }, q),
  );
  n.b.groups.join(n.b.ifindex, GROUP);
  n.runFor(SECOND);
  assert.ok(n.count("rx.reports_v2") >= 1);
  assert.ok(
    igmpFrames(n.lan0.frames()).some((f) => f.type === 0x16 && f.src === "10.1.0.20"),
    "B's v2 Report was on lan0",
  );
  n.s.send(GROUP, "v2");
  n.runFor(100_000);
  assert.deepEqual(n.b.take(), ["v2"]);
  n.b.groups.leave(n.b.ifindex, GROUP);
  n.runFor(100_000);
  assert.equal(n.count("rx.leaves"), 1);
  n.runFor(3 * SECOND);
  assert.equal(n.count("tx.group_queries"), 2);
  const filtered = n.filtered();
  n.s.send(GROUP, "gone");
  n.runFor(SECOND);
  assert.deepEqual(n.b.take(), []);
  assert.deepEqual(udpFrames(n.lan0.frames()).map((s) => s.split(" ").pop()), ["v2"]);
  assert.ok(n.filtered() > filtered, "left upstream: R's link filter drops the group");
  await assertTsharkClean(n.lan0.bytes());
  n.finish();
});

Deno.test("mcproxy determinism: the same seed gives byte-identical captures", () => {
  function run(): Uint8Array[] {
    const n = makeProxyNet({ seed: 7 });
    n.a.groups.join(n.a.ifindex, GROUP);
    n.c.groups.join(n.c.ifindex, GROUP);
    n.runFor(SECOND);
    n.s.send(GROUP, "same");
    n.a.groups.leave(n.a.ifindex, GROUP);
    n.runFor(5 * SECOND);
    const out = [n.up.bytes(), n.lan0.bytes(), n.lan1.bytes()];
    n.finish();
    return out;
  }
  const [a, b] = [run(), run()];
  assert.deepEqual(a, b);
  assert.ok(a[1]!.length > 500, "lan0 carried the exchange");
});

Deno.test("mcproxy union (RFC 4605 §4.1): INCLUDE {S} on lan0 and EXCLUDE {S} on lan1 ask upstream for all sources; each LAN gets what it asked for", () => {
  const n = makeProxyNet();
  const g = "232.9.9.9";
  n.a.groups.setFilter(n.a.ifindex, g, n.a.groups.newHolder(), {
    mode: "include",
    sources: ["10.0.0.10"],
  });
  n.c.groups.setFilter(n.c.ifindex, g, n.c.groups.newHolder(), {
    mode: "exclude",
    sources: ["10.0.0.10"],
  });
  n.runFor(SECOND);
  // EXCLUDE {S} ∪ INCLUDE {S} = EXCLUDE {} (RFC 3376 §3.2): every source upstream.
  const up = igmpFrames(n.up.frames()).filter((f) => f.src === "10.0.0.1" && f.type === 0x22);
  assert.ok(up.some((f) => f.what.includes(`${TO_EX} ${g}`)), JSON.stringify(up));
  n.s.send(g, "s");
  n.s2.send(g, "s2");
  n.runFor(SECOND);
  assert.deepEqual(udpFrames(n.lan0.frames()), ["10.0.0.10>232.9.9.9 ttl=7 s"]);
  assert.deepEqual(udpFrames(n.lan1.frames()), ["10.0.0.11>232.9.9.9 ttl=7 s2"]);
  assert.deepEqual(n.a.take(), ["s"]);
  assert.deepEqual(n.c.take(), ["s2"]);
  n.finish();
});

Deno.test("mcproxy link down and up: queries are counted as not sent while down, and start again at once when up", () => {
  const n = makeProxyNet();
  n.r.setLinkUp("lan0", false);
  n.runFor(40 * SECOND); // the second startup query falls due at 31.25 s
  assert.equal(n.count("tx.interface_down"), 1);
  const before = n.count("tx.general_queries");
  n.r.setLinkUp("lan0", true);
  n.runFor(100_000);
  assert.equal(n.count("tx.general_queries"), before + 1, "a startup query as soon as it is up");
  n.finish();
});

Deno.test("mcproxy bounds: groups past maxGroups are refused and counted, the first still forwarded", () => {
  const n = makeProxyNet({ proxy: { maxGroups: 1 } });
  n.a.groups.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  n.a.groups.join(n.a.ifindex, "239.1.2.4");
  n.runFor(SECOND);
  assert.ok(n.count("db.groups_full") >= 1);
  n.s.send(GROUP, "first");
  n.s.send("239.1.2.4", "second");
  n.runFor(SECOND);
  assert.deepEqual(n.a.take(), ["first"]);
  n.finish();
});

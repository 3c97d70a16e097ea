/**
 * The IPv6 plugins together on the loopback network, no stand-ins: a
 * router stack (slaac router mode, ndp, mld, ipv6, icmpv6) and two hosts.
 * The hosts form link-local and SLAAC addresses whose DAD the ndp plugin
 * really runs, resolve each other and the router by NDP (the router's entry
 * from its RA's link-layer option, flagged as a router), exchange ICMPv6
 * echoes, UDP and TCP over the SLAAC addresses, and report their groups
 * with MLDv2. The capture is tshark-clean, and byte-identical for the same
 * seed in two separate processes (the determinism scenario `ipv6-lan`).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { assertTsharkClean } from "../_tshark.ts";
import { scenarioHash } from "../determinism/_run.ts";
import { type Ipv6LanRun, LAN_PREFIX, ROUTER_GLOBAL, runIpv6Lan } from "./_lan.ts";

const HOST_MACS = ["02:00:00:00:00:02", "02:00:00:00:00:03"];
const ROUTER_MAC = "02:00:00:00:00:01";

function count(run: Ipv6LanRun, stack: number, name: string): number {
  return run.counters[stack]![name] ?? 0;
}

Deno.test("ipv6 lan: hosts configure link-local and SLAAC addresses (DAD by ndp), resolve each other and the router by NDP, and exchange echoes, UDP and TCP over SLAAC", async () => {
  const run = await runIpv6Lan(1, true);
  const [routerLines, ...hostLines] = run.addresses;
  assert.match(routerLines![0]!, /^2001:db8:1::1\/64 preferred static$/);
  assert.match(routerLines![1]!, /^fe80::[0-9a-f:]+\/64 preferred link-local$/);
  for (const lines of hostLines) {
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(lines[0]!, /^2001:db8:1:0:[0-9a-f:]+\/64 preferred autoconf$/);
    assert.match(lines[1]!, /^fe80::[0-9a-f:]+\/64 preferred link-local$/);
  }
  assert.notEqual(run.slaac[0], run.slaac[1]);
  assert.ok(LAN_PREFIX.startsWith("2001:db8:1::"));
  for (let i = 0; i < 3; i++) {
    // Every address (link-local and SLAAC, or static on the router) went through DAD.
    assert.equal(count(run, i, "ndp.dad.started"), 2, `stack ${i}`);
    assert.equal(count(run, i, "ndp.dad.passed"), 2, `stack ${i}`);
    assert.equal(count(run, i, "ndp.tx.dad_probes"), 2, `stack ${i}`);
    assert.equal(count(run, i, "ndp.dad.duplicates"), 0, `stack ${i}`);
    assert.ok(count(run, i, "mld.tx.reports_v2") >= 2, `stack ${i} reports its groups`);
    assert.equal(count(run, i, "dispatcher.plugin_fault"), 0);
  }
  // Echoes: h1 → h2 and h1 → the router, both answered.
  assert.equal(count(run, 1, "icmpv6.rx.echo_replies"), 2);
  assert.equal(count(run, 2, "icmpv6.tx.echo_replies"), 1);
  assert.equal(count(run, 0, "icmpv6.tx.echo_replies"), 1);
  // Resolution by NDP: h1 solicited h2 and the router's global address, the
  // router solicited h1 for its answer; each solicitation was answered.
  assert.equal(count(run, 1, "ndp.tx.solicitations"), 2);
  assert.equal(count(run, 0, "ndp.tx.solicitations"), 1);
  assert.equal(count(run, 1, "ndp.rx.advertisements"), 2);
  const [routerN, h1N, h2N] = run.neighbors;
  const row = (rows: typeof h1N, address: string) => rows!.find((n) => n.address === address);
  assert.deepEqual(
    [row(h1N, run.slaac[1]!)?.mac, row(h1N, run.slaac[1]!)?.state],
    [HOST_MACS[1], "REACHABLE"],
  );
  assert.deepEqual(
    [row(h2N, run.slaac[0]!)?.mac, row(h2N, run.slaac[0]!)?.state],
    [HOST_MACS[0], "REACHABLE"],
  );
  assert.deepEqual(
    [row(h1N, ROUTER_GLOBAL)?.mac, row(h1N, ROUTER_GLOBAL)?.state],
    [ROUTER_MAC, "REACHABLE"],
  );
  assert.equal(row(routerN, run.slaac[0]!)?.mac, HOST_MACS[0]);
  // The router's link-local entry came from its RA (Source Link-Layer Address), as a router's.
  for (const rows of [h1N, h2N]) {
    const r = rows!.find((n) => n.address.startsWith("fe80:"));
    assert.equal(r?.mac, ROUTER_MAC);
    assert.equal(r?.router, true);
  }
  assert.deepEqual(run.udp, { from: run.slaac[0], data: "over slaac" });
  // RFC 6724 picks h2's SLAAC address as the source towards h1's.
  assert.deepEqual(run.tcp, { peer: run.slaac[1], echoed: "4096 bytes intact" });
  assert.ok(run.capture !== null && run.capture.length > 24 + 60 * 50);
  await assertTsharkClean(run.capture);
});

Deno.test("ipv6 lan: another seed draws other RFC 7217 secrets, so other addresses", async () => {
  const [a, b] = [await runIpv6Lan(1), await runIpv6Lan(2)];
  assert.notDeepEqual(a.slaac, b.slaac);
  assert.equal(a.tcp.echoed, "4096 bytes intact");
  assert.equal(b.tcp.echoed, "4096 bytes intact");
});

Deno.test("ipv6 lan: the same seed writes a byte-identical capture in two separate processes", async () => {
  const [a, b] = await Promise.all([scenarioHash("ipv6-lan"), scenarioHash("ipv6-lan")]);
  assert.ok(a.bytes > 24 + 60 * 50, `${a.bytes} bytes`);
  assert.equal(a.sha256, b.sha256);
  // And the same bytes as in this process.
  const here = (await runIpv6Lan(1, true)).capture!;
  assert.equal(here.length, a.bytes);
  assert.equal(createHash("sha256").update(here).digest("hex"), a.sha256);
});

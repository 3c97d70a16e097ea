/**
 * review16, risk 2: `TcpCore.confirmReachable` (3e18e41) remembers one
 * peer and the instant before which the network layer wants no
 * confirmation of it. It must stay per peer: connections to two peers in
 * turn each confirm their own peer (a memo that forgot the address would
 * let one peer's confirmation stand for the other), and it holds one
 * entry whatever the number of peers (nothing per peer to bound).
 * Skipping a confirmation can only let an entry age (STALE, DELAY,
 * PROBE): the memo never keeps an entry REACHABLE that the layer did not
 * confirm (RFC 4861 §7.3.1).
 */
import assert from "node:assert/strict";
import { makeLan } from "../_harness.ts";
import type { RouteService } from "../../stack/services.ts";

Deno.test("review16 tcp reachability memo: connections to two peers in turn confirm each peer, and each ARP entry stays REACHABLE without probes", async () => {
  const lan = makeLan({ hosts: 3, seed: 9 });
  const [a, b, c] = lan.hosts as [typeof lan.hosts[0], typeof lan.hosts[0], typeof lan.hosts[0]];
  await lan.run(async () => {
    await a.ping(lan.addresses[1]!);
    await a.ping(lan.addresses[2]!);
  });
  const route = a.service<RouteService>("ipv4.route")!;
  const confirm = route.confirmReachable!.bind(route);
  const confirmed: string[] = [];
  route.confirmReachable = (addr, scope) => {
    confirmed.push(addr === 0x0a000002 ? "b" : addr === 0x0a000003 ? "c" : String(addr));
    return confirm(addr, scope);
  };
  const lb = b.listen({ port: 80 });
  const lc = c.listen({ port: 80 });
  const requests = a.counters.value("arp.tx.requests");
  await lan.run(async () => {
    for (let i = 0; i < 10; i++) {
      for (const [host, l] of [[lan.addresses[1]!, lb], [lan.addresses[2]!, lc]] as const) {
        const [conn, s] = await Promise.all([a.connect({ hostname: host, port: 80 }), l.accept()]);
        conn.close();
        s.close();
      }
    }
  });
  assert.ok(confirmed.includes("b") && confirmed.includes("c"), `confirmed: ${confirmed}`);
  // One memo: turns between two peers confirm at every turn, never more often.
  assert.ok(confirmed.length <= 2 * 20, `${confirmed.length} confirmations`);
  const states = a.neighbors().filter((n) => n.address !== lan.addresses[0]).map((n) => n.state);
  assert.deepEqual(states, ["REACHABLE", "REACHABLE"]);
  assert.equal(a.counters.value("arp.tx.requests"), requests, "no ARP probe was needed");
  lb.close();
  lc.close();
  lan.runFor(130_000_000);
  lan.finish();
});

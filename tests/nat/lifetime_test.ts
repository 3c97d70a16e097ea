import assert from "node:assert/strict";
import type { NatService } from "../../mod.ts";
import { count, makeNatNet, P, PUBLIC } from "./_nat.ts";

const enc = new TextEncoder();

function natTable(n: ReturnType<typeof makeNatNet>): NatService {
  return n.nat.service<NatService>("nat.table")!;
}

/** H `host` sends one datagram from `port` to P:7 (nobody answers). */
async function sendOnce(
  n: ReturnType<typeof makeNatNet>,
  host: "h1" | "h2" | "h3",
  port: number,
) {
  const c = n[host].listenDatagram({ transport: "udp", port });
  await n.run(() => c.send(enc.encode("x"), { transport: "udp", hostname: P, port: 7 }));
  n.runFor(10_000); // through ARP and the NAT
  c.close();
}

Deno.test("nat lifetime: a UDP mapping lives while its flow does (30 s unreplied), then 120 s more, then expires", async () => {
  const n = makeNatNet();
  await sendOnce(n, "h1", 5000);
  assert.deepEqual(natTable(n).mappings().map((m) => [m.external, m.flows]), [[
    `${PUBLIC}:5000`,
    1,
  ]]);
  n.runFor(31_000_000); // the flow expires in conntrack
  assert.deepEqual(n.nat.conntrack(), []);
  assert.deepEqual(natTable(n).mappings().map((m) => [m.external, m.flows]), [[
    `${PUBLIC}:5000`,
    0,
  ]]);
  n.runFor(118_000_000); // 120 s after the flow ended at 30 s: not yet
  assert.equal(natTable(n).mappings().length, 1);
  n.runFor(2_000_000);
  assert.deepEqual(natTable(n).mappings(), []);
  assert.equal(count(n.nat, "nat.map.expired"), 1);
  n.finish();
});

Deno.test("nat lifetime: a mapping is not handed to another endpoint while it lives; afterwards the port is free again", async () => {
  const n = makeNatNet();
  await sendOnce(n, "h1", 5000);
  n.runFor(100_000_000); // H1's flow is gone, its mapping lingers
  await sendOnce(n, "h2", 5000);
  const h2 = natTable(n).mappings().find((m) => m.internal === "10.1.0.20:5000")!;
  assert.notEqual(h2.external, `${PUBLIC}:5000`);
  n.runFor(60_000_000); // H1's mapping expires (H2's flow too)
  assert.equal(natTable(n).mappings().some((m) => m.internal === "10.1.0.10:5000"), false);
  await sendOnce(n, "h3", 5000);
  assert.ok(natTable(n).mappings().some((m) => m.external === `${PUBLIC}:5000`));
  n.finish();
});

Deno.test("nat lifetime: an idle established TCP flow keeps its mapping past RFC 5382's 2 h 4 min", async () => {
  const n = makeNatNet();
  const l = n.p.listen({ port: 9000 });
  const [c, s] = await n.run(() =>
    Promise.all([n.h1.connect({ hostname: P, port: 9000 }), l.accept()])
  );
  l.close();
  n.runFor((2 * 3600 + 5 * 60) * 1_000_000);
  assert.equal(natTable(n).mappings().filter((m) => m.protocol === "tcp").length, 1);
  await n.run(async () => {
    await c.write(enc.encode("still there"));
    assert.equal(await s.read(new Uint8Array(32)), 11);
  });
  c.close();
  s.close();
  n.runFor(200_000_000);
  n.finish();
});

Deno.test("nat lifetime: a half-closed TCP flow idle 3 min 50 s still carries data (RFC 5382 REQ-5 transitory ≥ 4 min)", async () => {
  const n = makeNatNet();
  const l = n.p.listen({ port: 9000 });
  const [c, s] = await n.run(() =>
    Promise.all([n.h1.connect({ hostname: P, port: 9000 }), l.accept()])
  );
  await n.run(async () => {
    await c.closeWrite();
    assert.equal(await s.read(new Uint8Array(4)), null);
  });
  assert.equal(n.nat.conntrack().find((r) => r.protocol === "tcp")?.state, "CLOSE_WAIT");
  n.runFor(230_000_000); // Linux's CLOSE_WAIT is 60 s; RFC 5382 asks for 4 min
  await n.run(async () => {
    await s.write(new Uint8Array([1, 2, 3]));
    assert.equal(await c.read(new Uint8Array(8)), 3);
  });
  assert.equal(count(n.nat, "conntrack.track.invalid"), 0);
  c.close();
  s.close();
  l.close();
  n.runFor(500_000_000);
  n.finish();
});

Deno.test("nat lifetime: a translated TCP flow lasts 4 min after a RST (RFC 7857 §2.2), then goes", async () => {
  const n = makeNatNet();
  const l = n.p.listen({ port: 9000 });
  const [c, s] = await n.run(() =>
    Promise.all([n.h1.connect({ hostname: P, port: 9000 }), l.accept()])
  );
  s.setLinger(0);
  s.close();
  n.runFor(10_000);
  const tcp = () => n.nat.conntrack().filter((r) => r.protocol === "tcp");
  assert.equal(tcp()[0]?.state, "CLOSE");
  n.runFor(230_000_000);
  assert.equal(tcp().length, 1);
  n.runFor(20_000_000);
  assert.equal(tcp().length, 0);
  c.close();
  l.close();
  n.runFor(200_000_000);
  n.finish();
});

Deno.test("nat lifetime: MASQUERADE flushes mappings and flows when the outgoing address goes", async () => {
  const n = makeNatNet();
  await sendOnce(n, "h1", 5000);
  assert.equal(natTable(n).mappings().length, 1);
  assert.equal(n.nat.conntrack().length, 1);
  n.nat.addAddress("eth1", "203.0.113.9/24");
  n.nat.removeAddress("eth1", `${PUBLIC}/24`);
  assert.deepEqual(natTable(n).mappings(), []);
  assert.deepEqual(n.nat.conntrack(), []);
  assert.equal(count(n.nat, "nat.map.flushed"), 1);
  // The next flow takes the interface's new address.
  await sendOnce(n, "h1", 5000);
  assert.deepEqual(natTable(n).mappings().map((m) => m.external), ["203.0.113.9:5000"]);
  n.finish();
});

Deno.test("nat lifetime: 10,000 UDP flows through the NAT stay within the conntrack bound; early drops free their mappings", async () => {
  const n = makeNatNet({ conntrack: { maxEntries: 2048 }, nat: { mappingTimeout: 1_000_000 } });
  await n.run(async () => {
    for (let i = 0; i < 10_000; i++) {
      const s = n.h1.listenDatagram({ transport: "udp", port: 10_000 + i });
      await s.send(enc.encode("x"), { transport: "udp", hostname: P, port: 7 });
      s.close();
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 0));
    }
  });
  n.runFor(10_000);
  assert.equal(n.nat.conntrack().length, 2048);
  assert.equal(count(n.nat, "conntrack.track.early_drop"), 10_000 - 2048);
  assert.equal(count(n.nat, "nat.flow.snat"), 10_000);
  n.runFor(2_000_000); // evicted flows' mappings linger 1 s
  const maps = natTable(n).mappings();
  assert.equal(maps.length, 2048);
  assert.ok(maps.every((m) => m.flows === 1));
  n.finish();
});

Deno.test("nat lifetime: MASQUERADE flushes its mappings when the outgoing link goes down", async () => {
  const n = makeNatNet();
  await sendOnce(n, "h1", 5000);
  assert.equal(natTable(n).mappings().length, 1);
  n.nat.setLinkUp("eth1", false);
  assert.deepEqual(natTable(n).mappings(), []);
  assert.deepEqual(n.nat.conntrack(), []);
  assert.equal(count(n.nat, "nat.map.flushed"), 1);
  n.nat.setLinkUp("eth1", true);
  n.finish();
});

Deno.test("nat from a stack manifest: built-in names conntrack and nat, rules as an option", async () => {
  const { loadStack } = await import("../../mod.ts");
  const stack = await loadStack({
    plugins: [
      "ethernet",
      "arp",
      { use: "ipv4", options: { forwarding: true } },
      "icmp",
      "udp",
      "tcp",
      "conntrack",
      {
        use: "nat",
        options: { rules: "masquerade -o eth1; dnat -i eth1 -p tcp --dport 8080 --to 10.1.0.5:80" },
      },
    ],
  });
  assert.deepEqual(stack.describe().hooks.prerouting, ["conntrack", "nat"]);
  assert.deepEqual(stack.describe().hooks.postrouting, ["nat", "conntrack"]);
  assert.equal(stack.service<NatService>("nat.table")!.rules().length, 2);
  stack.close();
});

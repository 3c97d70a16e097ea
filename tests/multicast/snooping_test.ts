/**
 * IGMP/MLD snooping in the loopback switch with real stacks on its ports:
 * the stacks' own reports teach the switch, the switch's querier is
 * answered, and a group's datagrams reach only the ports with members.
 */
import assert from "node:assert/strict";
import { makeLan, ms, withEnv } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import type { Stack } from "../../mod.ts";

const enc = new TextEncoder();

function mld(s: Stack): MulticastGroupsService {
  return s.service("mld.groups") as MulticastGroupsService;
}

Deno.test("snooping switch: an IPv6 group's datagrams reach only the ports whose stacks joined it", async () => {
  const lan = makeLan({
    hosts: 4,
    seed: 5,
    switch: { snooping: true },
    capture: { receive: true, transmit: true },
  });
  await withEnv(lan, async (env) => {
    const [sender, a, b] = env.hosts as [Stack, Stack, Stack, Stack];
    for (const s of [a, b]) mld(s).join(s.interfaces.list()[0]!.index, "ff05::1:3");
    env.runFor(ms(3000));
    const snoop = lan.sw.snooping!;
    assert.deepEqual(snoop.groups().find((g) => g.group === "ff05::1:3")?.ports, [1, 2]);
    const ra = a.listenDatagram({ transport: "udp", port: 5000, hostname: "::" });
    const rb = b.listenDatagram({ transport: "udp", port: 5000, hostname: "::" });
    const tx = sender.listenDatagram({ transport: "udp", port: 6000, hostname: "::" });
    const delivered = () => lan.ports[3]!.link.stats("b->a").delivered;
    const before = delivered();
    const prunedBefore = snoop.stats().pruned;
    const got = await env.run(async () => {
      await tx.send(enc.encode("to the group"), { hostname: "ff05::1:3", port: 5000 });
      return await Promise.all([ra.receive(), rb.receive()]);
    });
    assert.deepEqual(got.map(([d]) => new TextDecoder().decode(d)), [
      "to the group",
      "to the group",
    ]);
    env.runFor(ms(100));
    assert.equal(delivered(), before, "host 4 joined nothing: its port carried no copy");
    assert.equal(snoop.stats().pruned, prunedBefore + 1);
    for (const c of [ra, rb, tx]) c.close();
    await assertTsharkClean(env.capture!.bytes());
  });
});

Deno.test("snooping switch: stacks answer its querier, so memberships outlive the membership interval", async () => {
  const lan = makeLan({
    hosts: 3,
    seed: 6,
    switch: { snooping: { queryInterval: 20_000_000, queryResponseInterval: 2_000_000 } },
  });
  await withEnv(lan, async (env) => {
    const [sender, a] = env.hosts as [Stack, Stack, Stack];
    const idx = a.interfaces.list()[0]!.index;
    (a.service("igmp.groups") as MulticastGroupsService).join(idx, "239.1.2.3");
    mld(a).join(idx, "ff05::1:3");
    // Group membership interval: 2 × 20 s + 2 s. Run well past it: only answers to queries keep it.
    env.runFor(ms(120_000));
    const snoop = lan.sw.snooping!;
    assert.ok(snoop.stats().queriesSent >= 10);
    // The IGMP queries come from 0.0.0.0 (RFC 4541 §2.1.1): IPv4 takes them to 224.0.0.1.
    assert.ok(a.counters.get("igmp.rx.queries_v3").value >= 5);
    assert.equal(a.counters.get("ipv4.rx.martian_zero_source").value, 0);
    assert.deepEqual(
      snoop.groups().filter((g) => !g.group.startsWith("ff02")).map((g) => [g.group, g.ports]),
      [["239.1.2.3", [1]], ["ff05::1:3", [1]]],
    );
    const ra = a.listenDatagram({ transport: "udp", port: 5000, hostname: "::" });
    const tx = sender.listenDatagram({ transport: "udp", port: 6000 });
    const got = await env.run(async () => {
      await tx.send(enc.encode("still a member"), { hostname: "239.1.2.3", port: 5000 });
      return await ra.receive();
    });
    assert.equal(new TextDecoder().decode(got[0]), "still a member");
    for (const c of [ra, tx]) c.close();
  });
});

Deno.test("snooping switch: the same seed gives byte-identical traffic (querier, reports, group data)", async () => {
  async function once(): Promise<Uint8Array> {
    const lan = makeLan({ hosts: 3, seed: 8, switch: { snooping: true }, capture: true });
    let bytes: Uint8Array = new Uint8Array();
    await withEnv(lan, async (env) => {
      const [sender, a] = env.hosts as [Stack, Stack, Stack];
      const rx = a.listenDatagram({ transport: "udp", port: 5000 });
      await rx.joinMulticastV4("239.1.2.3", "10.0.0.2");
      env.runFor(ms(2000));
      const tx = sender.listenDatagram({ transport: "udp", port: 6000 });
      await env.run(async () => {
        await tx.send(enc.encode("same bytes"), { hostname: "239.1.2.3", port: 5000 });
        await rx.receive();
      });
      env.runFor(ms(130_000)); // past a query interval: queries and answers
      bytes = env.capture!.bytes();
      for (const c of [rx, tx]) c.close();
    });
    return bytes;
  }
  const [first, second] = [await once(), await once()];
  assert.ok(first.length > 2000);
  assert.deepEqual(first, second);
  await assertTsharkClean(first); // the switch's IGMPv3/MLDv2 queries, the hosts' reports
});

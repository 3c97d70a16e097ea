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

import assert from "node:assert/strict";
import { makeLan, withEnv } from "../_harness.ts";

const SECOND = 1_000_000;

Deno.test("switch: a third host hears the broadcast request but neither answers nor learns", async () => {
  await withEnv(makeLan({ hosts: 3, seed: 54 }), async (lan) => {
    const [h1, , h3] = lan.hosts;
    lan.runFor(SECOND); // h1's and h2's announcements are requests too
    await lan.run(() => h1!.ping("10.0.0.2"));
    assert.deepEqual(h3!.neighbors(), []);
    assert.equal(h3!.counters.get("arp.rx.requests").value, 2 + 1);
    assert.equal(h3!.counters.get("arp.tx.replies").value, 0);
  });
});

Deno.test("switch: learned unicast is not flooded: a promiscuous third host sees none of it", async () => {
  await withEnv(makeLan({ hosts: 3, seed: 55 }), async (lan) => {
    const [h1, , h3] = lan.hosts;
    h3!.interfaces.get(0)!.promiscuous = true;
    lan.runFor(SECOND); // the announcements teach the switch every MAC
    for (let i = 0; i < 3; i++) await lan.run(() => h1!.ping("10.0.0.2"));
    assert.equal(h3!.counters.get("ipv4.rx.not_for_us").value, 0);
    assert.equal(lan.sw.stats().forwarded, 2 * 3 + 1); // echo pairs, and the ARP reply
  });
});

Deno.test("switch: a promiscuous host receives flooded unicast for others and drops it in IPv4", async () => {
  await withEnv(makeLan({ hosts: 3, seed: 56 }), async (lan) => {
    const [h1, , h3] = lan.hosts;
    h3!.interfaces.get(0)!.promiscuous = true;
    await lan.run(() => h1!.ping("10.0.0.2"));
    lan.sw.flush(); // forget every MAC: the next unicast frame is flooded
    await lan.run(() => h1!.ping("10.0.0.2"));
    assert.ok(h3!.counters.get("ipv4.rx.not_for_us").value >= 1);
    assert.equal(h3!.counters.get("icmp.rx.echo_requests").value, 0);
  });
});

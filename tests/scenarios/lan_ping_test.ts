import assert from "node:assert/strict";
import { checkArp, checkEthernet, framesMatching, hex, makeLan, withEnv } from "../_harness.ts";
import { formatIpv4Address } from "../../stack/wire/address.ts";

function ipAt(f: Uint8Array, at: number): number {
  return new DataView(f.buffer, f.byteOffset).getUint32(at);
}

Deno.test("lan: three hosts on a switch resolve each other and ping every pair", async () => {
  await withEnv(makeLan({ hosts: 3, seed: 11, capture: true }), async (lan) => {
    for (const [i, from] of lan.hosts.entries()) {
      for (const [j, to] of lan.addresses.entries()) {
        if (i === j) continue;
        const r = await lan.run(() => from.ping(to));
        assert.equal(r.from, to);
      }
    }
    // A neighbour learned from its request is STALE until the unicast probe
    // sent 5 s after its first use (Linux's DELAY) is answered.
    lan.runFor(6_000_000);
    for (const [i, h] of lan.hosts.entries()) {
      const rows = h.neighbors().map((n) => `${n.address} ${n.mac} ${n.state}`).sort();
      const want = lan.addresses.flatMap((a, j) =>
        j === i ? [] : [`${a} ${lan.macs[j]} REACHABLE`]
      );
      assert.deepEqual(rows, want, h.name);
    }
    // Three requests in all: a request teaches its target the asker too, so
    // h1→h2, h1→h3 and h2→h3 are asked; the way back never is.
    const requests = framesMatching(
      lan.capture!.frames(),
      checkEthernet({ dst: "ff:ff:ff:ff:ff:ff" }, checkArp({ operation: 1 })),
    ).filter((f) => hex(f.subarray(28, 32)) !== hex(f.subarray(38, 42))); // not gratuitous
    assert.deepEqual(
      requests.map((f) => `${formatIpv4Address(ipAt(f, 28))} > ${formatIpv4Address(ipAt(f, 38))}`),
      ["10.0.0.1 > 10.0.0.2", "10.0.0.1 > 10.0.0.3", "10.0.0.2 > 10.0.0.3"],
    );
    assert.ok(lan.sw.stats().forwarded > 0);
  });
});

Deno.test("lan: 50 hosts on one switch all ping host 1 at once", async () => {
  await withEnv(makeLan({ hosts: 50, seed: 12 }), async (lan) => {
    const replies = await lan.run(() =>
      Promise.all(lan.hosts.slice(1).map((h) => h.ping("10.0.0.1")))
    );
    assert.equal(replies.length, 49);
    for (const r of replies) assert.equal(r.from, "10.0.0.1");
    const h1 = lan.hosts[0]!;
    assert.equal(h1.neighbors().length, 49);
    assert.equal(h1.counters.get("icmp.tx.echo_replies").value, 49);
    assert.equal(h1.counters.get("arp.tx.replies").value, 49);
    // Nobody but host 1 answered or learned from the flood of requests.
    for (const h of lan.hosts.slice(1)) {
      assert.deepEqual(h.neighbors().map((n) => n.address), ["10.0.0.1"], h.name);
    }
  });
});

Deno.test("lan: a host learns a neighbour from its request and answers without asking back", async () => {
  await withEnv(makeLan({ hosts: 2, seed: 13 }), async (lan) => {
    const [h1, h2] = lan.hosts;
    await lan.run(() => h1!.ping("10.0.0.2"));
    assert.equal(h1!.counters.get("arp.tx.requests").value, 1);
    assert.equal(h2!.counters.get("arp.tx.requests").value, 0);
    await lan.run(() => h2!.ping("10.0.0.1"));
    assert.equal(h2!.counters.get("arp.tx.requests").value, 0);
  });
});

import assert from "node:assert/strict";
import {
  checkArp,
  checkEthernet,
  checkIcmp,
  checkIpv4,
  framesMatching,
  makeLan,
  makeLink,
  ms,
  pingRetry,
  withEnv,
} from "../_harness.ts";
import type { Faults } from "../../drivers/loopback/faults.ts";

const SECOND = 1_000_000;
/** 20% loss, duplication, reordering, 10 ms ± 3 ms, each direction. */
const BAD_LINK: Faults = {
  loss: 0.2,
  duplicate: 0.1,
  reorder: 0.1,
  delay: ms(10),
  jitter: ms(3),
};

/** 30 pings of up to 4 attempts over BAD_LINK; one line per ping. */
async function lossyPings(seed: number): Promise<{ lines: string[]; successes: number }> {
  const env = makeLink({ seed, faults: BAD_LINK });
  const lines: string[] = [];
  let successes = 0;
  await withEnv(env, async () => {
    await env.run(async () => {
      for (let i = 0; i < 30; i++) {
        const out = await pingRetry(env.a, "10.0.0.2", { attempts: 4, timeout: 300 });
        if (out.reply) successes++;
        lines.push(
          `${i} attempts=${out.attempts} rtt=${out.reply?.rtt ?? "-"} at=${env.net.now()}`,
        );
        if (out.reply && out.attempts === 1 && i > 0) {
          // Two crossings of 10 ms ± 3 ms, plus at most one reorder hold-back each.
          assert.ok(out.reply.rtt >= 14 && out.reply.rtt <= 28, lines.at(-1));
        }
      }
    });
    lines.push(JSON.stringify([env.link.stats("a->b"), env.link.stats("b->a")]));
    lines.push(env.a.counterTable(), env.b.counterTable());
  });
  return { lines, successes };
}

Deno.test("faults: pings with retries over a lossy, duplicating, reordering link are deterministic per seed", async () => {
  const first = await lossyPings(21);
  const again = await lossyPings(21);
  assert.deepEqual(again.lines, first.lines);
  const other = await lossyPings(22);
  assert.notDeepEqual(other.lines, first.lines);
  // With 4 tries at ~64% each, nearly every ping gets through; some needed retries.
  assert.ok(first.successes >= 27, `${first.successes}/30`);
  assert.ok(first.lines.some((l) => !l.includes("attempts=1 ")), "some ping needed a retry");
});

Deno.test("faults: duplicated replies are counted as unmatched, not delivered twice", async () => {
  await withEnv(makeLink({ seed: 23, directions: { "b->a": { duplicate: 1 } } }), async (env) => {
    for (let i = 0; i < 5; i++) await env.run(() => env.a.ping("10.0.0.2"));
    env.runFor(SECOND);
    assert.equal(env.a.counters.get("icmp.rx.echo_replies").value, 10);
    assert.equal(env.a.counters.get("icmp.rx.unmatched_reply").value, 5);
  });
});

Deno.test("faults: pings fail during a partition and succeed after it heals", async () => {
  await withEnv(makeLan({ hosts: 2, seed: 24 }), async (lan) => {
    const [h1] = lan.hosts;
    assert.ok((await lan.run(() => pingRetry(h1!, "10.0.0.2"))).reply);
    lan.ports[1]!.link.partition();
    const during = await lan.run(() => pingRetry(h1!, "10.0.0.2", { attempts: 3 }));
    assert.equal(during.reply, undefined);
    assert.deepEqual(during.failures, ["TimedOut", "TimedOut", "TimedOut"]);
    lan.ports[1]!.link.heal();
    const after = await lan.run(() => pingRetry(h1!, "10.0.0.2"));
    assert.equal(after.attempts, 1);
    assert.equal(after.reply?.from, "10.0.0.2");
  });
});

Deno.test("faults: a long partition ages the entry out; after healing ARP resolves again", async () => {
  await withEnv(makeLan({ hosts: 2, seed: 25, capture: { hosts: [0] } }), async (lan) => {
    const [h1] = lan.hosts;
    await lan.run(() => h1!.ping("10.0.0.2"));
    lan.ports[1]!.link.partition();
    // Unused: REACHABLE (≤ 45 s) → STALE → removed 60 s later.
    lan.runFor(120 * SECOND);
    assert.deepEqual(h1!.neighbors(), []);
    lan.ports[1]!.link.heal();
    const r = await lan.run(() => pingRetry(h1!, "10.0.0.2"));
    assert.equal(r.attempts, 1);
    const asks = framesMatching(
      lan.capture!.frames(),
      checkEthernet({ src: lan.macs[0]! }, checkArp({ operation: 1, targetIp: "10.0.0.2" })),
    );
    assert.equal(asks.length, 2);
  });
});

Deno.test("faults: ARP fails when the peer is gone: 3 requests, FAILED, no echo on the wire", async () => {
  await withEnv(makeLan({ hosts: 2, seed: 26, capture: { hosts: [0] } }), async (lan) => {
    const [h1, h2] = lan.hosts;
    lan.runFor(SECOND); // start-up announcements
    h2!.close(); // the peer goes away (its driver closes)
    await assert.rejects(
      lan.run(() => h1!.ping("10.0.0.2", { timeout: 5000 })),
      Deno.errors.TimedOut,
    );
    const frames = lan.capture!.frames();
    const asks = framesMatching(
      frames,
      checkEthernet(
        { src: lan.macs[0]!, dst: "ff:ff:ff:ff:ff:ff" },
        checkArp({ operation: 1, targetIp: "10.0.0.2" }),
      ),
    );
    assert.equal(asks.length, 3);
    const echoes = framesMatching(frames, checkEthernet({}, checkIpv4({}, checkIcmp({ type: 8 }))));
    assert.equal(echoes.length, 0);
    assert.equal(h1!.neighbors()[0]?.state, "FAILED");
    assert.equal(h1!.counters.get("arp.tx.unresolved").value, 1);
  });
});

Deno.test("faults: a peer that vanishes after resolution is probed, then forgotten", async () => {
  await withEnv(
    makeLan({ hosts: 2, seed: 27, plugins: { arp: { reachableTime: 10 * SECOND } } }),
    async (lan) => {
      const [h1, h2] = lan.hosts;
      await lan.run(() => h1!.ping("10.0.0.2"));
      lan.net.removeNode(h2!);
      h2!.close();
      lan.runFor(16 * SECOND); // STALE by now
      assert.equal(h1!.neighbors()[0]?.state, "STALE");
      const out = await lan.run(() => pingRetry(h1!, "10.0.0.2", { attempts: 1 }));
      assert.equal(out.reply, undefined);
      lan.runFor(10 * SECOND); // 5 s of DELAY, 3 unicast probes, then removal
      assert.deepEqual(h1!.neighbors(), []);
      assert.equal(h1!.counters.get("arp.tx.requests").value, 1 + 3);
    },
  );
});

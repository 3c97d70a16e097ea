/**
 * Integrity across a path whose middle link has a 1280-byte MTU: the hosts
 * sit on 1500-byte links, so they offer MSS 1460 and send full-sized
 * segments with DF set; R1 (and R2 the other way) answers with ICMP
 * "fragmentation needed" (RFC 1191), TCP lowers its MSS and resends. The
 * middle link also loses, reorders, duplicates and corrupts frames, with
 * 20 ms ± 5 ms of delay each way. What arrives must hash (SHA-256) to what
 * was sent, both sides must close cleanly, and no frame may have been
 * fragmented on the way.
 *
 * The CI subset is 1 MiB each way over 10 seeds. `TCP_SOAK=1` runs 64 MiB
 * each way over 50 seeds (`TCP_SOAK_MIB` and `TCP_SOAK_SEEDS` override).
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { exchangeBoth, makePath, SOAK_FAULTS, soakSize } from "./_transfer.ts";

const { mib: MIB, seeds: SEEDS } = soakSize(10);

const count = (s: { counters: { get(n: string): { value: number } } }, name: string) =>
  s.counters.get(name).value;

async function exchange(seed: number, total: number): Promise<void> {
  const env = makePath({ seed, midMtu: 1280, midFaults: SOAK_FAULTS, capture: seed === 1 });
  try {
    const l = env.h2.listen({ port: 9000 });
    await env.run(async () => {
      const [c, s] = await Promise.all([
        env.h1.connect({ hostname: "10.3.0.30", port: 9000 }),
        l.accept(),
      ]);
      await exchangeBoth(c, s, seed, total, ["h1", "h2"]);
      // Both learned the path MTU: 1280 − 40 − 12 (timestamps) = 1228. From
      // the connections themselves: both may be in TIME-WAIT already, which
      // `sockets()` lists without internals (as `ss`).
      for (const [name, conn] of [["h1", c], ["h2", s]] as const) {
        assert.equal(conn.info().mss, 1228, `seed ${seed}: ${name} MSS`);
      }
      c.close();
      s.close();
    }, { timeout: 3_600_000_000 });
    l.close();
    env.runFor(ms(200_000)); // TIME-WAIT and any last retransmissions
    assert.deepEqual(env.h1.sockets(), [], `seed ${seed}: h1 still has sockets`);
    assert.deepEqual(env.h2.sockets(), [], `seed ${seed}: h2 still has sockets`);
    // Each direction was told by its first router, and nothing was fragmented.
    assert.ok(count(env.r1, "ipv4.rx.fwd_frag_needed") > 0, `seed ${seed}: R1 frag needed`);
    assert.ok(count(env.r2, "ipv4.rx.fwd_frag_needed") > 0, `seed ${seed}: R2 frag needed`);
    for (const h of [env.h1, env.h2]) {
      assert.ok(count(h, "tcp.pmtu_updates") >= 1, `seed ${seed}: ${h.name} pmtu_updates`);
      assert.equal(count(h, "ipv4.tx.fragmented"), 0, `seed ${seed}: ${h.name} fragmented`);
      assert.equal(count(h, "tcp.tx.failed"), 0, `seed ${seed}: ${h.name} tcp.tx.failed`);
    }
    for (const r of [env.r1, env.r2]) {
      assert.equal(count(r, "ipv4.tx.fragmented"), 0, `seed ${seed}: ${r.name} fragmented`);
    }
    if (env.net.now() < 600_000_000) {
      // The learned path MTUs (they expire after 10 minutes, RFC 1191 §6.3,
      // which a soak-sized transfer can outlast; TCP keeps its lowered MSS).
      assert.equal(env.h1.routeGet("10.3.0.30")!.mtu, 1280);
      assert.equal(env.h2.routeGet("10.1.0.10")!.mtu, 1280);
    }
    const mid = env.mid.stats("a->b");
    assert.ok(mid.dropped.loss > 0, `seed ${seed}: frames were lost`);
    assert.ok(mid.dropped.mtu === 0, `seed ${seed}: a DF frame reached the 1280 link`);
    if (env.capture !== null) {
      // DF on every TCP datagram H1 sent or received (RFC 1191 §3: always,
      // with PMTUD). Read from the raw bytes: frames corrupted on the middle
      // link reach H1 with bad TCP checksums (routers do not check them);
      // a corrupted IP header would have been dropped by R1.
      const tcp = env.capture.frames().filter((f) =>
        f[12] === 0x08 && f[13] === 0x00 && f[14 + 9] === 6
      );
      assert.ok(tcp.length > 1000, `seed ${seed}: ${tcp.length} TCP datagrams captured`);
      const noDf = tcp.filter((f) => (f[14 + 6]! & 0x40) === 0);
      assert.equal(noDf.length, 0, `seed ${seed}: datagrams without DF`);
      const lengths = tcp.filter((f) => f[14 + 12] === 10 && f[14 + 15] === 10)
        .map((f) => (f[14 + 2]! << 8) | f[14 + 3]!);
      assert.ok(lengths.includes(1500), "H1 first sent 1500-byte datagrams");
      assert.ok(lengths.includes(1280), "then 1280-byte ones");
      assert.ok(lengths.every((n) => n <= 1500), "never more than the link MTU");
    }
  } catch (e) {
    env.close();
    throw e;
  }
  env.finish();
}

for (let seed = 1; seed <= SEEDS; seed++) {
  Deno.test(`tcp ${MIB} MiB each way across a 1280-byte MTU link (PMTUD) under faults, seed ${seed}`, async () => {
    await exchange(seed, MIB * 1024 * 1024);
  });
}

/**
 * ECN end to end on the virtual network: a 10 Mbit/s bottleneck (20 ms RTT)
 * whose queue marks CE above 15,000 bytes (the link's AQM option,
 * `ecnMarkThreshold`) instead of dropping. A 3 MB ECN transfer sees marks
 * and no drops: the sender reduces at most once per round trip, never
 * retransmits, and the capture (tshark) shows ECT(0) data, CE-marked data,
 * ECE on the receiver's ACKs and CWR on the sender's data. Through two
 * forwarding routers, ECT(0) and CE arrive as marked.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { assertTsharkClean, tsharkRows, tsharkTrue as truthy } from "../_tshark.ts";
import { gated } from "../_require.ts";
import { makePath, receiveAll, sendAll } from "./_transfer.ts";

const RATE = 10_000_000;
const DELAY = ms(10);
const TOTAL = 3_000_000;

async function transfer(ecn: boolean) {
  const lane = {
    bandwidth: RATE,
    delay: DELAY,
    queueLimit: { bytes: 200_000 },
    ecnMarkThreshold: 15_000,
  };
  // Port 48001: tshark would read the random payload to port 80 as HTTP.
  // b sends to a over the marking direction; the capture at a sees the
  // marks as they arrive and the ACKs a sends.
  const env = makeLink({
    seed: 3,
    capture: true,
    directions: { "b->a": lane, "a->b": { delay: DELAY } },
    plugins: { tcp: { congestionControl: "newreno" } },
  });
  await env.run(() => env.b.ping("10.0.0.1"));
  const l = env.a.listen({ port: 48001 });
  const reductions: number[] = [];
  let info!: ReturnType<typeof env.b.sockets>[number];
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.b.connect({ hostname: "10.0.0.1", port: 48001, ecn }),
      l.accept(),
    ]);
    let seen = 0;
    let running = true;
    const watch = () => {
      const n = env.b.counters.get("tcp.ecn_reductions").value;
      if (n > seen) reductions.push(env.net.now());
      seen = n;
      if (running) env.net.at(env.net.now() + ms(1), watch);
    };
    watch();
    const [sent, got] = await Promise.all([sendAll(c, 9, TOTAL), receiveAll(s)]);
    running = false;
    assert.equal(got.bytes, TOTAL);
    assert.equal(got.hash, sent);
    info = env.b.sockets().find((x) => x.remote === "10.0.0.1:48001")!;
    c.close();
    s.close();
  }, { timeout: 120_000_000 });
  env.runFor(ms(70_000)); // through TIME-WAIT
  l.close();
  const stats = env.link.stats("b->a");
  const capture = env.capture!.bytes();
  const counters = {
    ceReceived: env.a.counters.get("tcp.ecn_ce_received").value,
    reductions: env.b.counters.get("tcp.ecn_reductions").value,
  };
  env.finish();
  return { stats, capture, counters, reductions, info };
}

Deno.test("tcp ECN over a CE-marking bottleneck: marks, no drops, no retransmissions, one reduction per round trip", async () => {
  const o = await transfer(true);
  const d = o.stats.dropped;
  assert.equal(d.queue_full + d.aqm + d.loss, 0, `no drops: ${JSON.stringify(d)}`);
  assert.ok(o.stats.ceMarked > 0, "the queue marked");
  assert.equal(o.info.ecn, true);
  assert.equal(o.info.retrans ?? 0, 0, "no retransmission");
  assert.equal(o.counters.ceReceived, o.stats.ceMarked, "every mark reached the receiver");
  assert.ok(o.counters.reductions >= 2, `reductions ${o.counters.reductions}`);
  assert.ok(
    o.counters.reductions < o.stats.ceMarked,
    `${o.counters.reductions} reductions for ${o.stats.ceMarked} marks`,
  );
  for (let i = 1; i < o.reductions.length; i++) {
    const gap = o.reductions[i]! - o.reductions[i - 1]!;
    assert.ok(gap >= 2 * DELAY, `reductions ${gap} µs apart: less than a round trip`);
  }
});

Deno.test("tcp without ECN over the same bottleneck: Not-ECT segments are dropped by the AQM and retransmitted", async () => {
  const o = await transfer(false);
  assert.ok(o.stats.dropped.aqm > 0, "the AQM dropped what it could not mark");
  assert.equal(o.stats.ceMarked, 0);
  assert.ok((o.info.retrans ?? 0) > 0);
});

Deno.test(
  gated(["tshark"], {
    name: "tcp ECN capture: tshark reads ECT(0), CE, ECE and CWR, and nothing malformed",
    fn: async () => {
      const o = await transfer(true);
      await assertTsharkClean(o.capture, { replaceAllowed: true });
      const rows = await tsharkRows(o.capture, "tcp", [
        "ip.src",
        "ip.dsfield.ecn",
        "tcp.flags.ece",
        "tcp.flags.cwr",
        "tcp.flags.syn",
        "tcp.len",
      ]);
      const count = (f: (r: string[]) => boolean) => rows.filter(f).length;
      const fromSender = (r: string[]) => r[0] === "10.0.0.2";
      assert.ok(count((r) => fromSender(r) && r[1] === "2" && r[5] !== "0") > 0, "ECT(0) data");
      assert.ok(count((r) => fromSender(r) && r[1] === "3") > 0, "CE-marked data");
      assert.ok(count((r) => !fromSender(r) && truthy(r[2]) && !truthy(r[4])) > 0, "ECE on ACKs");
      assert.ok(count((r) => fromSender(r) && truthy(r[3]) && !truthy(r[4])) > 0, "CWR on data");
      // Pure ACKs and SYNs are Not-ECT.
      assert.equal(
        count((r) => !fromSender(r) && r[1] !== "0"),
        0,
        "the receiver's ACKs are Not-ECT",
      );
      assert.equal(count((r) => truthy(r[4]) && r[1] !== "0"), 0, "SYNs are Not-ECT");
    },
  }),
);

Deno.test("tcp ECN through two routers, the middle link marking: ECT(0) forwarded, every CE mark reaches the receiver", async () => {
  const env = makePath({
    seed: 5,
    midFaults: {
      bandwidth: RATE,
      delay: DELAY,
      queueLimit: { bytes: 200_000 },
      ecnMarkThreshold: 15_000,
    },
  });
  await env.run(() => env.h2.ping("10.1.0.10"));
  const l = env.h1.listen({ port: 48002 });
  let retrans = -1;
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.h2.connect({ hostname: "10.1.0.10", port: 48002, ecn: true }),
      l.accept(),
    ]);
    const [sent, got] = await Promise.all([sendAll(c, 11, 1_000_000), receiveAll(s)]);
    assert.equal(got.hash, sent);
    retrans = env.h2.sockets().find((x) => x.remote === "10.1.0.10:48002")!.retrans ?? 0;
    c.close();
    s.close();
  }, { timeout: 120_000_000 });
  env.runFor(ms(70_000));
  l.close();
  const marked = env.mid.stats("b->a").ceMarked;
  assert.ok(marked > 0, "the middle link marked");
  assert.equal(env.h1.counters.get("tcp.ecn_ce_received").value, marked, "CE survived forwarding");
  // Data is ECT and only ever marked; a Not-ECT control segment (a pure ACK
  // or FIN, RFC 3168 §6.1.4) above the threshold may still be dropped.
  const dropped = env.mid.stats("b->a").dropped.aqm;
  assert.ok(dropped <= 2, `${dropped} Not-ECT segments dropped`);
  assert.ok(env.h2.counters.get("tcp.ecn_reductions").value >= 1);
  assert.equal(retrans, 0);
  env.finish();
});

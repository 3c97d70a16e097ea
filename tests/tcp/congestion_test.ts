/**
 * Congestion control on a bottleneck: a 10 Mbit/s link with 10 ms of delay
 * each way (20 ms RTT) and a tail-drop queue of one bandwidth-delay product
 * (25,000 bytes), one bulk transfer for 30 s of virtual time. The socket
 * table is sampled every 5 ms: the window grows exponentially (slow start)
 * until the first loss, ssthresh is then set from the window at the loss
 * (½ for NewReno, β = 0.7 for CUBIC), and growth afterwards is additive
 * (congestion avoidance), never exponential again. Both algorithms keep the
 * link at least 90% busy with payload, and the socket table's figures agree
 * with the path.
 *
 * `TCP_CC_SECONDS` changes the transfer time (default 30).
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { timedBulk } from "./_transfer.ts";

const RATE = 10_000_000; // bit/s
const DELAY = ms(10); // each way
const BDP = (RATE / 8) * (2 * DELAY / 1e6); // 25,000 bytes
const SECONDS = Number(Deno.env.get("TCP_CC_SECONDS") ?? 30);

interface Sample {
  /** ms since the connection was established. */
  readonly t: number;
  readonly cwnd: number;
  readonly ssthresh: number | undefined;
  readonly retrans: number;
  /** `open`, `recovery` (PRR sizes cwnd from the pipe), `loss`. */
  readonly caState: string;
}

interface Outcome {
  readonly samples: Sample[];
  /** Payload bytes the receiver read within `SECONDS`. */
  readonly delivered: number;
  readonly written: number;
  readonly received: number;
  readonly info: ReturnType<ReturnType<typeof makeLink>["a"]["sockets"]>[number];
  readonly drops: number;
}

async function bulk(cc: string, seed: number): Promise<Outcome> {
  const lane = { bandwidth: RATE, delay: DELAY, queueLimit: { bytes: BDP } };
  const env = makeLink({ seed, directions: { "a->b": lane, "b->a": lane } });
  const samples: Sample[] = [];
  let delivered = 0;
  let info!: Outcome["info"];
  const { written, received } = await timedBulk(env, {
    congestionControl: cc,
    duration: SECONDS * 1e6,
    every: ms(5),
    sample: (start) => {
      const i = env.a.sockets().find((x) => x.remote === "10.0.0.2:80")!;
      samples.push({
        t: (env.net.now() - start) / 1000,
        cwnd: i.cwnd!,
        ssthresh: i.ssthresh,
        retrans: i.retrans!,
        caState: i.caState!,
      });
    },
    atEnd: (received) => delivered = received,
    beforeClose: async () => {
      await new Promise<void>((r) => env.net.at(env.net.now() + ms(1000), r)); // the last ACKs
      info = env.a.sockets().find((x) => x.remote === "10.0.0.2:80")!;
    },
    timeout: (SECONDS + 600) * 1_000_000,
  });
  const drops = env.link.stats("a->b").dropped.queue_full;
  env.finish();
  return { samples, delivered, written, received, info, drops };
}

function checkShape(o: Outcome, beta: number): void {
  const s = o.samples;
  const lossAt = s.findIndex((x) => x.ssthresh !== undefined);
  assert.ok(lossAt > 0, "a loss happened");
  // Slow start: no loss yet, the window at least doubles every 3 base RTTs.
  const before = s.slice(0, lossAt);
  for (let i = 0; i + 12 < before.length; i++) {
    assert.ok(
      before[i + 12]!.cwnd >= 2 * before[i]!.cwnd,
      `slow start at ${before[i]!.t} ms: ${before[i]!.cwnd} → ${before[i + 12]!.cwnd} in 60 ms`,
    );
  }
  const peak = before.at(-1)!.cwnd;
  assert.ok(peak * 1448 > 1.2 * BDP / 1.0, `slow start filled the pipe: peak ${peak}`);
  // ssthresh from the window at the loss.
  const ssthresh = s[lossAt]!.ssthresh!;
  assert.ok(
    Math.abs(ssthresh - beta * peak) <= 2,
    `ssthresh ${ssthresh} after a peak of ${peak} (β ${beta})`,
  );
  // Afterwards: over every 200 ms stretch (~8 RTTs) in congestion avoidance
  // without a loss event, the window grows by at most ~1 segment per RTT.
  let stretches = 0;
  for (let i = lossAt; i + 40 < s.length; i++) {
    const a = s[i]!, b = s[i + 40]!;
    // Not from inside a recovery: there PRR's cwnd is pipe + sndcnt, which
    // sits above ssthresh until the pipe drains (RFC 6937).
    const quiet = a.ssthresh === b.ssthresh && a.retrans === b.retrans && a.caState === "open";
    if (!quiet || a.cwnd < a.ssthresh!) continue;
    stretches++;
    const growth = b.cwnd - a.cwnd;
    assert.ok(growth >= 0 && growth <= 10, `at ${a.t} ms: ${a.cwnd} → ${b.cwnd} in 200 ms`);
  }
  assert.ok(stretches > 100, `${stretches} stretches of congestion avoidance`);
}

function checkFigures(o: Outcome, cc: string): void {
  const utilization = (o.delivered * 8) / (RATE * SECONDS);
  assert.ok(utilization >= 0.9, `${cc}: payload ${utilization.toFixed(3)} of the link rate`);
  assert.equal(o.received, o.written, "everything written arrived");
  const i = o.info;
  assert.equal(i.cc, cc);
  assert.equal(i.mss, 1448);
  assert.equal(i.bytesAcked, o.written, "bytesAcked is what was sent");
  // The path RTT (20 ms), plus serialization and up to a BDP of queueing.
  assert.ok(i.rtt! >= 20 && i.rtt! <= 45, `rtt ${i.rtt} ms`);
  assert.ok(i.retrans! > 0 && i.retrans! >= o.drops / 2, `retrans ${i.retrans}, drops ${o.drops}`);
  assert.ok(i.segsOut! >= o.written / 1448, `segsOut ${i.segsOut}`);
}

Deno.test(`tcp NewReno on a 10 Mbit/s, 20 ms, 1-BDP-queue link for ${SECONDS} s: slow start, then AIMD; ≥ 90% of the link`, async () => {
  const o = await bulk("newreno", 1);
  checkShape(o, 0.5);
  checkFigures(o, "newreno");
});

Deno.test(`tcp CUBIC on a 10 Mbit/s, 20 ms, 1-BDP-queue link for ${SECONDS} s: slow start, then β = 0.7 and cubic growth; ≥ 90% of the link`, async () => {
  const o = await bulk("cubic", 1);
  checkShape(o, 0.7);
  checkFigures(o, "cubic");
});

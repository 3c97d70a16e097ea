/**
 * BBR v1 on a lossy bottleneck: 10 Mbit/s, 10 ms each way (a 25,000-byte
 * BDP), a tail-drop queue of one BDP, and 1% random loss on the data
 * direction, one bulk transfer for 30 s of virtual time. Loss-based CUBIC
 * takes every random loss as congestion and keeps its window small; BBR
 * models the path (bottleneck bandwidth and RTprop) and keeps sending at
 * the bottleneck rate, so it delivers at least 90% of the link's rate in
 * payload where CUBIC does not. The socket table shows BBR's state, pacing
 * rate and delivery rate.
 *
 * `TCP_BBR_SECONDS` changes the transfer time (default 30).
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { TcpSocketInfo } from "../../mod.ts";
import { timedBulk } from "./_transfer.ts";

const RATE = 10_000_000;
const DELAY = ms(10);
const BDP = (RATE / 8) * (2 * DELAY / 1e6);
const SECONDS = Number(Deno.env.get("TCP_BBR_SECONDS") ?? 30);

interface Outcome {
  readonly utilization: number;
  readonly states: readonly string[];
  readonly info: TcpSocketInfo;
  readonly written: number;
  readonly received: number;
}

async function bulk(cc: string, seed: number): Promise<Outcome> {
  const data = { bandwidth: RATE, delay: DELAY, queueLimit: { bytes: BDP }, loss: 0.01 };
  const acks = { bandwidth: RATE, delay: DELAY, queueLimit: { bytes: BDP } };
  const env = makeLink({
    seed,
    directions: { "a->b": data, "b->a": acks },
    plugins: { tcp: { sendBuffer: 1 << 20, receiveBuffer: 1 << 20 } },
  });
  let delivered = 0;
  const states: string[] = [];
  let info!: TcpSocketInfo;
  const mine = () => env.a.sockets().find((x) => x.remote === "10.0.0.2:80");
  const { written, received } = await timedBulk(env, {
    congestionControl: cc,
    duration: SECONDS * 1e6,
    every: ms(1),
    sample: () => {
      const i = mine();
      if (i === undefined) return false;
      if (states.at(-1) !== i.ccState) states.push(i.ccState!);
    },
    atEnd: (received) => {
      delivered = received;
      info = mine()!;
    },
    timeout: (SECONDS + 600) * 1_000_000,
  });
  env.finish();
  return { utilization: (delivered * 8) / (RATE * SECONDS), states, info, written, received };
}

Deno.test(`tcp BBR on a 10 Mbit/s, 20 ms, 1-BDP-queue link with 1% loss for ${SECONDS} s: ≥ 90% of the link, CUBIC below`, async () => {
  const bbr = await bulk("bbr", 1);
  const cubic = await bulk("cubic", 1);
  const figures = `BBR ${bbr.utilization.toFixed(3)}, CUBIC ${cubic.utilization.toFixed(3)}`;
  assert.ok(bbr.utilization >= 0.9, figures);
  assert.ok(cubic.utilization < 0.9, figures);
  assert.ok(bbr.utilization > 1.3 * cubic.utilization, figures);
  assert.equal(bbr.received, bbr.written, "everything written arrived");
  // Startup, Drain, then ProbeBW (and a ProbeRTT every 10 s).
  assert.deepEqual(bbr.states.slice(0, 3), ["startup", "drain", "probe_bw"]);
  assert.ok(SECONDS < 11 || bbr.states.includes("probe_rtt"), bbr.states.join(" "));
  const i = bbr.info;
  assert.equal(i.cc, "bbr");
  // The payload rate of the link: 1448 bytes per 1514-byte frame at 10 Mbit/s.
  const payloadRate = (RATE / 8) * 1448 / 1514;
  assert.ok(
    i.pacingRate! >= 0.7 * payloadRate && i.pacingRate! <= 1.3 * payloadRate,
    `pacing rate ${i.pacingRate} B/s (payload rate ${payloadRate.toFixed(0)})`,
  );
  assert.ok(
    i.deliveryRate! >= 0.5 * payloadRate && i.deliveryRate! <= 1.05 * payloadRate,
    `delivery rate ${i.deliveryRate} B/s`,
  );
  assert.ok(i.minRtt! >= 20 && i.minRtt! < 23, `min RTT ${i.minRtt} ms`);
  assert.equal(cubic.info.pacingRate, undefined, "CUBIC is not paced by default");
});

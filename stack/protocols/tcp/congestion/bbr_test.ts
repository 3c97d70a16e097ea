import assert from "node:assert/strict";
import { Bbr, BBR_GAIN_CYCLE, BBR_HIGH_GAIN } from "./bbr.ts";
import { RateSample } from "./delivery_rate.ts";

const MSS = 1000;
const RTT = 20_000; // µs
const BW = 1_000_000; // bytes/s: a BDP of 20,000 bytes

/** A path simulation at the level of rate samples: one sample per round. */
class Path {
  readonly rs = new RateSample();
  delivered = 0;
  now = 0;
  constructor(readonly bbr: Bbr) {
    this.rs.mss = MSS;
  }
  /** One round: the delivery rate is min(BW, what the window allows), RTT as given. */
  round(rtt = RTT, opts: { inRecovery?: boolean; appLimited?: boolean; bw?: number } = {}): void {
    const rs = this.rs;
    const bw = opts.bw ?? BW;
    const rate = Math.min(bw, this.bbr.cwnd * 1e6 / rtt);
    const bytes = Math.round(rate * rtt / 1e6);
    this.now += rtt;
    Object.assign(rs, {
      now: this.now,
      rtt,
      deliveryRate: Math.round(rate),
      priorDelivered: this.delivered,
      delivered: bytes,
      newlyDelivered: bytes,
      inflight: Math.min(this.bbr.cwnd, bytes),
      inRecovery: opts.inRecovery ?? false,
      isAppLimited: opts.appLimited ?? false,
    });
    this.delivered += bytes;
    this.bbr.onRateSample(rs);
  }
}

Deno.test("BBR: Startup grows at 2/ln2, finds the pipe full after 3 flat rounds, drains, then ProbeBW", () => {
  const bbr = new Bbr(MSS, 10);
  const p = new Path(bbr);
  assert.equal(bbr.state, "startup");
  assert.equal(bbr.pacingGain, BBR_HIGH_GAIN);
  let rounds = 0;
  while (bbr.state === "startup" && rounds < 50) {
    p.round();
    rounds++;
  }
  assert.ok(bbr.filledPipe, `pipe full after ${rounds} rounds`);
  assert.equal(bbr.btlBw, BW);
  assert.equal(bbr.rtProp, RTT);
  // Drain ends once in flight is down to a BDP: ProbeBW, window 2·BDP + 3 segments.
  for (let i = 0; i < 5 && (bbr.state as string) !== "probe_bw"; i++) p.round();
  assert.equal(bbr.state, "probe_bw");
  for (let i = 0; i < 20; i++) p.round();
  assert.equal(bbr.cwnd, 2 * BW * RTT / 1e6 + 3 * MSS);
  assert.ok(BBR_GAIN_CYCLE.includes(bbr.pacingGain));
  assert.equal(bbr.pacingRate, Math.round(bbr.pacingGain * BW));
});

Deno.test("BBR: ProbeBW cycles its pacing gain through 1.25, 0.75 and six rounds of 1", () => {
  const bbr = new Bbr(MSS, 10, {
    rng: {
      range: () => 0,
      nextU32: () => 0,
      nextFloat: () => 0,
      fill() {},
      fork: () => undefined!,
    },
  });
  const p = new Path(bbr);
  for (let i = 0; i < 40 && bbr.state !== "probe_bw"; i++) p.round();
  const gains: number[] = [];
  for (let i = 0; i < 24; i++) {
    p.round(RTT + 1);
    gains.push(bbr.pacingGain);
  }
  assert.ok(gains.includes(1.25) && gains.includes(0.75), gains.join(" "));
  assert.equal(gains.filter((g) => g === 1).length >= 12, true, gains.join(" "));
});

Deno.test("BBR: RTprop not refreshed for 10 s → ProbeRTT at 4 segments for 200 ms, then back with the window", () => {
  const bbr = new Bbr(MSS, 10);
  const p = new Path(bbr);
  for (let i = 0; i < 40 && bbr.state !== "probe_bw"; i++) p.round();
  const cwnd = bbr.cwnd;
  // Ten seconds of slightly larger RTTs: the 20 ms minimum expires.
  let rounds = 0;
  while (bbr.state !== "probe_rtt" && rounds < 1000) {
    p.round(RTT + 2000);
    rounds++;
  }
  assert.equal(bbr.state, "probe_rtt");
  assert.ok(p.now >= 10_000_000, `ProbeRTT at ${p.now} µs`);
  assert.equal(bbr.cwnd, 4 * MSS);
  const started = p.now;
  while (bbr.state === "probe_rtt" && p.now - started < 1_000_000) p.round(RTT);
  assert.equal(bbr.state, "probe_bw");
  assert.ok(p.now - started >= 200_000, `${p.now - started} µs in ProbeRTT`);
  assert.ok(bbr.cwnd >= cwnd * 0.9, `window restored: ${bbr.cwnd} (was ${cwnd})`);
});

Deno.test("BBR: recovery holds the window to packet conservation for a round and restores it after", () => {
  const bbr = new Bbr(MSS, 10);
  const p = new Path(bbr);
  for (let i = 0; i < 40; i++) p.round();
  const before = bbr.cwnd;
  bbr.onCongestion(10 * MSS, p.now);
  assert.equal(bbr.ssthresh, before, "the window to restore");
  assert.equal(bbr.cwnd, 11 * MSS, "in flight plus one segment");
  p.round(RTT, { inRecovery: true }); // the round of conservation starts
  assert.ok(bbr.cwnd < before);
  p.round(RTT, { inRecovery: false }); // recovery over
  assert.ok(bbr.cwnd >= before, `${bbr.cwnd} ≥ ${before}`);
  // An RTO: one segment, restored a round later.
  bbr.onTimeout(0, p.now);
  assert.equal(bbr.cwnd, MSS);
  p.round();
  p.round();
  assert.ok(bbr.cwnd >= before);
});

Deno.test("BBR: application-limited samples below the estimate do not lower it", () => {
  const bbr = new Bbr(MSS, 10);
  const p = new Path(bbr);
  for (let i = 0; i < 40; i++) p.round();
  assert.equal(bbr.btlBw, BW);
  for (let i = 0; i < 30; i++) p.round(RTT, { appLimited: true, bw: BW / 10 });
  assert.equal(bbr.btlBw, BW, "app-limited samples ignored");
  for (let i = 0; i < 30; i++) p.round(RTT, { bw: BW / 2 });
  assert.equal(bbr.btlBw, BW / 2, "the max filter forgot the old rate after 10 rounds");
});

Deno.test("BBR: restarting from idle in ProbeBW paces at the bandwidth estimate", () => {
  const bbr = new Bbr(MSS, 10);
  const p = new Path(bbr);
  for (let i = 0; i < 40 && bbr.state !== "probe_bw"; i++) p.round();
  for (let i = 0; i < 8 && bbr.pacingGain === 1; i++) p.round(RTT + 1);
  assert.notEqual(bbr.pacingGain, 1);
  bbr.onIdleRestart();
  assert.equal(bbr.pacingRate, BW);
});

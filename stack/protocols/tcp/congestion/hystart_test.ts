import assert from "node:assert/strict";
import { HYSTART, HyStartPlusPlus } from "./hystart.ts";
import { RateSample } from "./delivery_rate.ts";
import { createCongestionControl } from "./mod.ts";

const rs = new RateSample();

/** One round of `n` ACKs, every one with RTT `rtt`. */
function round(hy: { onSample(rs: RateSample): unknown }, rtt: number, n = 8): void {
  for (let i = 0; i < n; i++) {
    rs.roundStart = i === 0;
    rs.rtt = rtt;
    hy.onSample(rs);
  }
}

Deno.test("HyStart++: the threshold is lastRoundMinRTT/8 clamped to 4..16 ms", () => {
  // 200 ms RTT: 25 ms/8 → clamped to 16 ms; +15 ms stays in slow start, +16 ms leaves.
  const hy = new HyStartPlusPlus();
  round(hy, 200_000);
  round(hy, 215_000);
  assert.equal(hy.inCss, false);
  round(hy, 231_000);
  assert.equal(hy.inCss, true);
  // 10 ms RTT: 1.25 ms → 4 ms.
  const low = new HyStartPlusPlus();
  round(low, 10_000);
  round(low, 13_900);
  assert.equal(low.inCss, false);
  round(low, 17_900);
  assert.equal(low.inCss, true);
});

Deno.test("HyStart++: fewer than N_RTT_SAMPLE samples in a round decide nothing", () => {
  const hy = new HyStartPlusPlus();
  round(hy, 20_000);
  round(hy, 40_000, HYSTART.N_RTT_SAMPLE - 1);
  assert.equal(hy.inCss, false);
  rs.roundStart = false;
  rs.rtt = 40_000;
  hy.onSample(rs); // the eighth
  assert.equal(hy.inCss, true);
});

Deno.test("HyStart++: CSS goes back to slow start when the RTT falls below the baseline", () => {
  const hy = new HyStartPlusPlus();
  round(hy, 20_000);
  round(hy, 30_000);
  assert.equal(hy.inCss, true);
  round(hy, 25_000); // below the 30 ms baseline
  assert.equal(hy.inCss, false);
  assert.equal(hy.done, false);
});

Deno.test("HyStart++: CSS_ROUNDS rounds of CSS end slow start", () => {
  const hy = new HyStartPlusPlus();
  round(hy, 20_000);
  round(hy, 30_000);
  let ended = 0;
  for (let r = 0; r < HYSTART.CSS_ROUNDS; r++) {
    rs.roundStart = true;
    rs.rtt = 31_000;
    if (hy.onSample(rs)) ended = r + 1;
    round({ onSample: (x: RateSample) => hy.onSample(x) }, 31_000, 0);
    for (let i = 1; i < 8; i++) {
      rs.roundStart = false;
      hy.onSample(rs);
    }
  }
  assert.equal(ended, HYSTART.CSS_ROUNDS);
  assert.ok(hy.done && !hy.inCss);
});

Deno.test("NewReno and CUBIC with HyStart++: CSS grows by a quarter, its end sets ssthresh = cwnd", () => {
  for (const name of ["newreno", "cubic"]) {
    const cc = createCongestionControl(name, 1000, 10);
    const feed = (rtt: number, start: boolean) => {
      rs.roundStart = start;
      rs.rtt = rtt;
      cc.onRateSample!(rs);
    };
    for (let i = 0; i < 8; i++) feed(20_000, i === 0);
    for (let i = 0; i < 8; i++) feed(30_000, i === 0);
    const before = cc.cwnd;
    cc.onAck(4000, cc.cwnd, 0, 20_000);
    assert.equal(cc.cwnd - before, 1000, `${name}: a quarter of 4000`);
    for (let r = 0; r < HYSTART.CSS_ROUNDS; r++) for (let i = 0; i < 8; i++) feed(31_000, i === 0);
    assert.equal(cc.ssthresh, cc.cwnd, name);
  }
});

Deno.test("HyStart++ off: slow start grows by every byte whatever the RTT does", () => {
  const cc = createCongestionControl("cubic", 1000, 10, { hystart: false });
  for (const rtt of [20_000, 40_000, 80_000]) {
    for (let i = 0; i < 8; i++) {
      rs.roundStart = i === 0;
      rs.rtt = rtt;
      cc.onRateSample?.(rs);
    }
  }
  const before = cc.cwnd;
  cc.onAck(4000, cc.cwnd, 0, 20_000);
  assert.equal(cc.cwnd - before, 4000);
  assert.equal(cc.ssthresh, Infinity);
});

import assert from "node:assert/strict";
import { createCongestionControl } from "./mod.ts";

const MSS = 1000;

Deno.test("NewReno: slow start doubles per round, congestion avoidance adds one MSS per window", () => {
  const cc = createCongestionControl("newreno", MSS, 10);
  assert.equal(cc.cwnd, 10 * MSS);
  // One round: every segment of the window acknowledged.
  for (let i = 0; i < 10; i++) cc.onAck(MSS, cc.cwnd, 0, 0);
  assert.equal(cc.cwnd, 20 * MSS);
  cc.onCongestion(20 * MSS, 0);
  assert.equal(cc.ssthresh, 10 * MSS);
  assert.equal(cc.cwnd, 10 * MSS);
  for (let i = 0; i < 10; i++) cc.onAck(MSS, cc.cwnd, 0, 0);
  assert.equal(cc.cwnd, 11 * MSS);
});

Deno.test("NewReno and CUBIC: a timeout leaves one segment; an idle sender does not grow", () => {
  for (const name of ["newreno", "cubic"]) {
    const cc = createCongestionControl(name, MSS, 10);
    cc.onAck(MSS, 1 * MSS, 0, 0); // flight far below the window: application-limited
    assert.equal(cc.cwnd, 10 * MSS, name);
    cc.onTimeout(10 * MSS, 0);
    assert.equal(cc.cwnd, MSS, name);
  }
});

Deno.test("CUBIC: β = 0.7 on loss, concave regrowth back towards W_max, then beyond", () => {
  const cc = createCongestionControl("cubic", MSS, 100);
  cc.cwnd = 100 * MSS;
  cc.ssthresh = 0; // congestion avoidance from the start
  cc.onCongestion(100 * MSS, 0);
  assert.equal(cc.cwnd, 70 * MSS);
  const rtt = 100_000;
  let t = 0;
  const at: number[] = [];
  for (let round = 0; round < 100; round++) {
    const w = Math.floor(cc.cwnd / MSS);
    for (let i = 0; i < w; i++) cc.onAck(MSS, cc.cwnd, t, rtt);
    t += rtt;
    at.push(cc.cwnd / MSS);
  }
  // K = cbrt(W_max (1 - β) / C) = cbrt(100 · 0.3 / 0.4) ≈ 4.2 s: near W_max around then…
  const plateau = at[Math.round(4.2e6 / rtt)]!;
  assert.ok(plateau > 95 && plateau < 110, `cwnd at K: ${plateau}`);
  // …and well above it later (convex region): W(10 s) = 0.4 · 5.8³ + 100 ≈ 178.
  assert.ok(at.at(-1)! > 150, `cwnd after 10 s: ${at.at(-1)}`);
});

Deno.test("createCongestionControl() rejects unknown names", () => {
  assert.throws(() => createCongestionControl("vegas", MSS, 10), TypeError);
});

import assert from "node:assert/strict";
import { DeliveryRate } from "./delivery_rate.ts";

const MSS = 1000;

Deno.test("DeliveryRate: a flight acknowledged in order gives rate = delivered / max(send, ack elapsed)", () => {
  const dr = new DeliveryRate();
  // Round 1: 10 segments at t = 0 (a burst), acknowledged 2 at a time, 1 ms apart, from 20 ms.
  for (let i = 0; i < 10; i++) dr.onSend(i * MSS, MSS, 0, i * MSS, false);
  let rs = dr.onAck(2 * MSS, 0, undefined, 20_000);
  assert.equal(rs.rtt, 20_000);
  assert.equal(rs.deliveryRate, 100_000); // 2000 bytes over 20 ms
  for (let k = 2; k <= 5; k++) rs = dr.onAck(2 * k * MSS, 0, undefined, 20_000 + (k - 1) * 1000);
  assert.equal(dr.delivered, 10 * MSS);
  assert.equal(rs.deliveryRate, Math.round(10_000 * 1e6 / 24_000));
  assert.equal(dr.minRtt, 20_000);
  assert.equal(dr.tracked, 0);
});

Deno.test("DeliveryRate: packet-timed rounds end when data sent after the round began is delivered", () => {
  const dr = new DeliveryRate();
  dr.onSend(0, MSS, 0, 0, false);
  dr.onSend(MSS, MSS, 0, MSS, false);
  let rs = dr.onAck(MSS, 0, undefined, 10_000);
  assert.ok(rs.roundStart);
  const first = rs.roundCount;
  dr.onSend(2 * MSS, MSS, 10_000, MSS, false); // sent in the new round
  rs = dr.onAck(2 * MSS, 0, undefined, 10_100); // sent before it: same round
  assert.ok(!rs.roundStart);
  rs = dr.onAck(3 * MSS, 0, undefined, 20_000);
  assert.ok(rs.roundStart);
  assert.equal(rs.roundCount, first + 1);
});

Deno.test("DeliveryRate: SACKed bytes count once, retransmissions give no RTT, app-limited is marked", () => {
  const dr = new DeliveryRate();
  for (let i = 0; i < 4; i++) dr.onSend(i * MSS, MSS, 0, i * MSS, false);
  dr.markAppLimited(4 * MSS);
  // Segment 0 lost; 1..3 SACKed.
  let rs = dr.onAck(0, 3 * MSS, 4 * MSS, 10_000);
  assert.equal(rs.newlyDelivered, 3 * MSS);
  assert.equal(rs.rtt, 10_000);
  assert.equal(rs.isAppLimited, false); // sent before the app ran dry
  dr.onSend(0, MSS, 10_000, 4 * MSS, true); // retransmission of segment 0
  rs = dr.onAck(4 * MSS, 0, undefined, 20_000);
  assert.equal(rs.newlyDelivered, MSS); // 1..3 were already counted
  assert.equal(dr.delivered, 4 * MSS);
  assert.equal(rs.rtt, -1, "no RTT sample from a retransmission (Karn)");
  // Sent while application-limited: the flag reaches the sample.
  dr.onSend(4 * MSS, MSS, 20_000, 0, false);
  dr.markAppLimited(MSS);
  dr.onSend(5 * MSS, MSS, 20_000, MSS, false);
  rs = dr.onAck(6 * MSS, 0, undefined, 30_000);
  assert.equal(rs.isAppLimited, true);
});

Deno.test("DeliveryRate: release() gives an idle ring back; it regrows, and a full ring counts what it cannot track", () => {
  const dr = new DeliveryRate();
  dr.onSend(0, MSS, 0, 0, false);
  dr.release(); // one tracked: kept
  assert.equal(dr.tracked, 1);
  dr.onAck(MSS, 0, undefined, 10_000);
  dr.release();
  assert.equal(dr.tracked, 0);
  assert.ok(dr.onSend(MSS, MSS, 20_000, 0, false));
  const rs = dr.onAck(2 * MSS, 0, undefined, 30_000);
  assert.equal(rs.rtt, 10_000);
  // 65,536 segments outstanding fill the ring; the next is not tracked.
  const big = new DeliveryRate();
  for (let i = 0; i < 65_536; i++) assert.ok(big.onSend(i * 100, 100, 0, i * 100, false));
  assert.equal(big.onSend(65_536 * 100, 100, 0, 0, false), false);
  assert.equal(big.untracked, 1);
});

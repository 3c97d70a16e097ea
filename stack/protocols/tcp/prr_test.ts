import assert from "node:assert/strict";
import { Prr } from "./prr.ts";

const MSS = 1000;

Deno.test("Prr without SACK: each duplicate ACK delivers one segment, the pipe shrinks by it", () => {
  const prr = new Prr();
  prr.start(10_000, 7_000);
  assert.equal(prr.renoPipe(10_000), 10_000);
  assert.equal(prr.renoDupAck(MSS, 10_000), 1000);
  assert.equal(prr.renoDupAck(MSS, 10_000), 1000);
  assert.equal(prr.renoDupAck(MSS, 10_000), 1000);
  // 3 duplicates, the hole at SND.UNA lost and not yet resent: 10 − 3 − 1.
  assert.equal(prr.renoPipe(10_000, MSS), 6_000);
  // Resent: the lost and the retransmitted segment cancel.
  assert.equal(prr.renoPipe(10_000), 7_000);
});

Deno.test("Prr without SACK: duplicates never stand for more than the flight less the hole", () => {
  const prr = new Prr();
  prr.start(3_000, 2_000);
  assert.equal(prr.renoDupAck(MSS, 3_000), 1000);
  assert.equal(prr.renoDupAck(MSS, 3_000), 1000);
  // A third duplicate with 3 segments out: the network duplicated an ACK.
  assert.equal(prr.renoDupAck(MSS, 3_000), 0);
  assert.equal(prr.renoSacked, 2_000);
  assert.equal(prr.renoPipe(3_000), 1_000);
  assert.equal(prr.renoPipe(3_000, MSS), 0);
  // A flight of less than a segment: nothing stands for delivery.
  prr.start(500, 2_000);
  assert.equal(prr.renoDupAck(MSS, 500), 0);
  assert.equal(prr.renoPipe(500), 500);
});

Deno.test("Prr without SACK: a partial ACK delivers only what its duplicates did not count", () => {
  const prr = new Prr();
  prr.start(15_000, 7_000);
  for (let i = 0; i < 8; i++) prr.renoDupAck(MSS, 15_000);
  // 5 segments acknowledged: the hole plus 4 the duplicates counted.
  assert.equal(prr.renoAcked(5_000, MSS, 10_000), 1000);
  assert.equal(prr.renoSacked, 4_000); // 8 − (5 − 1)
  assert.equal(prr.renoPipe(10_000, MSS), 5_000);
  // More acknowledged than the duplicates counted: the difference is new.
  assert.equal(prr.renoAcked(7_000, MSS, 3_000), 3_000);
  assert.equal(prr.renoSacked, 0);
  // Never negative, and at least the hole, a partial segment counted as it is.
  assert.equal(prr.renoAcked(300, MSS, 2_700), 300);
  assert.equal(prr.renoSacked, 0);
});

Deno.test("Prr without SACK: DeliveredData over an episode adds up to what was acknowledged", () => {
  const prr = new Prr();
  prr.start(10_000, 5_000);
  let delivered = 0;
  for (let i = 0; i < 3; i++) delivered += prr.renoDupAck(MSS, 10_000);
  delivered += prr.renoAcked(2_000, MSS, 8_000); // partial ACK
  for (let i = 0; i < 4; i++) delivered += prr.renoDupAck(MSS, 8_000);
  delivered += prr.renoAcked(8_000, MSS, 0); // the rest
  assert.equal(delivered, 10_000);
  assert.equal(prr.renoSacked, 0);
});

Deno.test("Prr without SACK: the duplicates' count starts over with each episode", () => {
  const prr = new Prr();
  prr.start(10_000, 5_000);
  prr.renoDupAck(MSS, 10_000);
  prr.start(10_000, 5_000);
  assert.equal(prr.renoSacked, 0);
  assert.equal(prr.renoPipe(10_000), 10_000);
});

Deno.test("Prr: the proportional part and the slow-start bound with emulated DeliveredData", () => {
  // Reno, 10 segments out, ssthresh 5 (the drill's nosack_proportional).
  const prr = new Prr();
  prr.start(10_000, 5_000);
  prr.renoSacked = 2_000;
  let d = prr.renoDupAck(MSS, 10_000); // 3rd duplicate: pipe 6 > 5
  assert.equal(prr.sendCount(d, prr.renoPipe(10_000, MSS), MSS, false), 500);
  prr.out += 1000; // the fast retransmission (the first ACK's segment)
  d = prr.renoDupAck(MSS, 10_000); // 4th: pipe 6, ceil(2 · 5 / 10) − 1 = 0
  assert.equal(prr.sendCount(d, prr.renoPipe(10_000), MSS, false), 0);
  d = prr.renoDupAck(MSS, 10_000); // 5th: pipe 5 = ssthresh, no room
  assert.equal(prr.sendCount(d, prr.renoPipe(10_000), MSS, false), 0);
  d = prr.renoDupAck(MSS, 10_000); // 6th: pipe 4, bound max(4 − 1, 1) segments, room 1
  assert.equal(prr.sendCount(d, prr.renoPipe(10_000), MSS, false), 1000);
});

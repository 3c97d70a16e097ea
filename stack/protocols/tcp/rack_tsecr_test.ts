import assert from "node:assert/strict";
import { Rack } from "./rack.ts";

const OFFSET = 4_000_000_000; // the connection's timestamp offset (wraps past 2^32)

/** TSval of a segment sent at `t` µs (endpoint.tsNow). */
const tsAt = (t: number) => (Math.floor(t / 1000) + OFFSET) >>> 0;

/** Two segments at 0 µs; 1 SACKed at 50 ms; 0 judged lost and resent at 60 ms. */
function resent(): Rack {
  const r = new Rack(64);
  r.sent(0, 100, 0);
  r.sent(100, 200, 0);
  r.sack(100, 200, 50_000);
  r.detectLoss(50_000, 0);
  assert.equal(r.nextLost(), 0);
  r.sent(0, 100, 60_000);
  return r;
}

Deno.test("Rack: a cumulative ACK whose TSecr predates the retransmission is for the original (RFC 8985 §6.2 step 2)", () => {
  const r = resent();
  const before = { xmitTs: r.xmitTs, rtt: r.rtt, endSeq: r.endSeq };
  // 70 ms after the retransmission (more than min_RTT: condition 2 does not
  // apply), echoing the original's timestamp: no RACK update.
  r.ack(200, 130_000, tsAt(0), OFFSET);
  assert.deepEqual({ xmitTs: r.xmitTs, rtt: r.rtt, endSeq: r.endSeq }, before);
});

Deno.test("Rack: a cumulative ACK echoing the retransmission's timestamp updates RACK", () => {
  const r = resent();
  r.ack(200, 130_000, tsAt(60_000), OFFSET);
  assert.equal(r.xmitTs, 60_000);
  assert.equal(r.rtt, 70_000);
  assert.equal(r.endSeq, 100);
});

Deno.test("Rack: without a timestamp (or for a segment sent once) the ACK updates RACK as before", () => {
  const r = resent();
  r.ack(200, 130_000);
  assert.equal(r.xmitTs, 60_000);
  // A segment sent once is never judged by TSecr.
  const s = new Rack(64);
  s.sent(0, 100, 0);
  s.ack(100, 40_000, tsAt(0) - 5, OFFSET);
  assert.equal(s.xmitTs, 0);
  assert.equal(s.rtt, 40_000);
});

Deno.test("Rack: a SACK is not judged by TSecr (it echoes the cumulative ACK's segment)", () => {
  const r = new Rack(64);
  r.sent(0, 100, 0);
  r.sent(100, 200, 0);
  r.sent(200, 300, 0);
  r.sack(200, 300, 50_000);
  r.detectLoss(50_000, 0);
  r.sent(0, 100, 60_000);
  r.sent(100, 200, 60_000);
  // The retransmission of 100..200 SACKed 70 ms later: RACK advances.
  r.sack(100, 200, 130_000);
  assert.equal(r.xmitTs, 60_000);
});

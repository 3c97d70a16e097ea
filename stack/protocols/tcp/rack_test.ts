import assert from "node:assert/strict";
import { Rack, RACK_SEGMENTS, rackOf } from "./rack.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { Prr } from "./prr.ts";
import { isDsack } from "./dsack.ts";
import { TcpOptionSet } from "../../wire/tcp_options.ts";

/** `n` segments of 100 bytes from `base`, sent 1 µs apart from `t0`. */
function flight(r: Rack, base: number, n: number, t0: number): void {
  for (let i = 0; i < n; i++) r.sent((base + 100 * i) >>> 0, (base + 100 * i + 100) >>> 0, t0 + i);
}

Deno.test("Rack: a segment sent before a delivered one is lost once RACK.rtt + reo_wnd has passed", () => {
  const r = new Rack(64);
  flight(r, 0, 4, 0);
  r.sack(100, 200, 10_000); // segment 1 delivered after 10 ms: RACK.rtt 10 ms
  assert.equal(r.rtt, 9_999);
  // Segment 0 was sent 1 µs earlier: with a 5 ms window it has 5 ms - 1 µs left.
  assert.equal(r.detectLoss(10_000, 5_000), 4_999);
  assert.equal(r.nextLost(), -1);
  assert.equal(r.detectLoss(15_000, 5_000), 0);
  assert.equal(r.nextLost(), 0);
  assert.equal(r.endOf(0), 100);
  // Lost and SACKed segments are not in flight; 2 and 3 are.
  assert.equal(r.pipe(), 200);
});

Deno.test("Rack: a retransmission is split to its range, re-timed, and counts in the pipe", () => {
  const r = new Rack(64);
  flight(r, 0, 2, 0);
  r.sack(100, 200, 1000);
  r.detectLoss(1000, 0);
  assert.equal(r.nextLost(), 0);
  r.sent(0, 50, 2000); // half the segment resent
  assert.equal(r.count, 3);
  assert.equal(r.nextLost(), 50); // the other half is still to resend
  assert.equal(r.pipe(), 50); // the retransmission in flight
  r.sent(50, 100, 2000);
  assert.equal(r.nextLost(), -1);
  // Acknowledged faster than the minimum RTT: the ACK is for the original (§6.2 step 2).
  const before = r.xmitTs;
  r.ack(100, 2001);
  assert.equal(r.xmitTs, before);
  assert.equal(r.count, 1);
});

Deno.test("Rack: a lost retransmission is lost again, and ties at one instant go by transmission order", () => {
  const r = new Rack(64);
  flight(r, 0, 3, 0);
  r.sack(100, 200, 1000);
  r.detectLoss(1000, 0);
  r.sent(0, 100, 1000); // resent at the same instant segment 2 is SACKed later
  r.sent(300, 400, 1000); // new data after the retransmission, same instant
  r.sack(300, 400, 3000);
  r.detectLoss(3000, 0);
  assert.equal(r.nextLost(), 0, "the retransmission was sent before the delivered new data");
});

Deno.test("Rack: reordering is seen when a segment sent once is delivered below RACK.fack", () => {
  const r = new Rack(64);
  flight(r, 0, 3, 0);
  r.sack(100, 300, 1000);
  assert.equal(r.reorderingSeen, false);
  r.ack(300, 1100);
  assert.equal(r.reorderingSeen, true);
  assert.equal(r.reorderEvents, 1);
  assert.equal(r.minRtt, 998); // segment 2, sent at 2 µs, delivered at 1000
});

Deno.test("Rack: works across sequence wrap-around, forgets acknowledged segments, and overflows its limit", () => {
  const r = new Rack(4);
  flight(r, 0xffff_ff00, 4, 0);
  r.sack(0x0000_0000, 0x0000_0100, 500);
  r.detectLoss(500, 0);
  assert.equal(r.nextLost(), 0xffff_ff00);
  r.ack(0x0000_0000, 600);
  assert.equal(r.count, 2);
  r.sent(0x100, 0x200, 700);
  r.sent(0x200, 0x300, 700);
  assert.equal(r.overflow, false);
  r.sent(0x300, 0x400, 700);
  assert.equal(r.overflow, true);
  r.timedOut();
  assert.equal(r.segsSacked, 0);
});

Deno.test("Rack: a retired record is reset, taken by the next connection's rackOf, and judges as a new one", () => {
  const used = new Rack(RACK_SEGMENTS);
  flight(used, 0, 4, 0);
  used.sack(100, 200, 10_000);
  used.detectLoss(15_000, 5_000);
  used.sent(0, 100, 16_000); // the lost segment resent
  used.retire();
  const ep = {
    rack: null,
    sackOk: true,
    rackOff: false,
    rttSamples: 0,
    srtt: 0,
    core: { cfg: { rack: true } },
  } as unknown as TcpEndpoint;
  const again = rackOf(ep)!;
  assert.equal(again, used, "the retired record is reused");
  const fresh = new Rack(RACK_SEGMENTS);
  assert.deepEqual({ ...again }, { ...fresh });
  assert.equal(again.count, 0);
  // The same flight gives the same judgements (the private counters were reset too).
  for (const r of [again, fresh]) {
    flight(r, 5000, 3, 20_000);
    r.sack(5100, 5300, 30_000);
    r.sack(5000, 5050, 30_001); // below RACK.fack: reordering
  }
  assert.equal(again.detectLoss(40_000, 0), fresh.detectLoss(40_000, 0));
  assert.equal(again.nextLost(), fresh.nextLost());
  assert.equal(again.pipe(), fresh.pipe());
  assert.deepEqual({ ...again }, { ...fresh });
});

Deno.test("Prr: proportional while pipe > ssthresh, then slow-start reduction bound", () => {
  const p = new Prr();
  p.start(10_000, 5_000);
  assert.equal(p.sendCount(1000, 9000, 1000), 500);
  p.out += 500;
  assert.equal(p.sendCount(1000, 8000, 1000), 500);
  p.out += 500;
  // pipe at or below ssthresh: up to ssthresh, at most delivered + 1 MSS.
  assert.equal(p.sendCount(1000, 3000, 1000), 2000);
  p.out += 2000;
  assert.equal(p.sendCount(0, 4900, 1000), 100);
  // Above ssthresh again, having sent more than the proportion allows: nothing.
  assert.equal(p.sendCount(0, 6000, 1000), 0);
});

Deno.test("isDsack: first block below the ACK, or inside the second block (RFC 2883 §4.2)", () => {
  const o = new TcpOptionSet();
  o.sackCount = 1;
  o.sackBlocks.set([100, 200]);
  assert.equal(isDsack(o, 200), true);
  assert.equal(isDsack(o, 150), false);
  o.sackCount = 2;
  o.sackBlocks.set([300, 400, 300, 500]);
  assert.equal(isDsack(o, 200), true);
  o.sackBlocks.set([300, 400, 500, 600]);
  assert.equal(isDsack(o, 200), false);
  o.sackCount = 0;
  assert.equal(isDsack(o, 200), false);
});

Deno.test("Prr: the slow-start reduction bound adds a segment only on a safe ACK (RFC 6937bis)", () => {
  const p = new Prr();
  p.start(4000, 7000);
  // An ACK that found new losses: no more than it delivered.
  assert.equal(p.sendCount(1000, 0, 1000, false), 1000);
  p.out += 1000;
  // SND.UNA advanced, nothing new lost: delivered + 1 MSS.
  assert.equal(p.sendCount(1000, 0, 1000, true), 2000);
});

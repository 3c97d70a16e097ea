/**
 * RACK-TLP (RFC 8985), D-SACK (RFC 2883, RFC 3708 undo) and PRR (RFC 6937)
 * on the sender, segment by segment, with the test as a peer 20 ms away:
 * a tail loss is found by the loss probe, not the RTO; a segment delayed
 * past three later ones first causes a fast retransmission that the
 * peer's D-SACK shows spurious (undone), and once the reordering window has
 * grown, the same reordering causes none, and a real loss is then found by
 * the reordering timer.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { Peer } from "./_tcp.ts";
import { open, RTT } from "./_recovery.ts";

Deno.test("tcp RACK-TLP: a tail loss is recovered by the loss probe before the RTO", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno" } } });
  const c = await open(peer);
  await c.conn.write(new Uint8Array(10_000));
  assert.equal(c.rel(peer.take()).length, 10);
  // One RTT later segments 0..6 arrived; 7, 8, 9 (the tail) were lost.
  peer.wait(RTT);
  assert.deepEqual(c.rel(peer.send(c.ackOf(7000))), []);
  const lossAt = peer.host.net.now();
  // PTO = 2·SRTT + 2 ms: the probe resends the last segment (no new data).
  const probe = c.rel(peer.wait(ms(50)));
  assert.deepEqual(probe, [9000], "the loss probe");
  assert.equal(peer.counter("tlp_probes"), 1);
  // The probe's SACK one RTT later: RACK judges 7 and 8 lost (sent before
  // the probe, more than RACK.rtt + reo_wnd ago) and fast recovery resends
  // them, one per ACK while ACKs find losses or leave SND.UNA (PRR,
  // RFC 6937bis, as Linux's tcp_cwnd_reduction).
  peer.wait(RTT);
  const rec = c.rel(peer.send(c.ackOf(7000, [[9000, 10_000]])));
  assert.deepEqual(rec, [7000]);
  assert.equal(c.info().caState, "recovery");
  peer.wait(RTT);
  assert.deepEqual(c.rel(peer.send(c.ackOf(8000, [[9000, 10_000]]))), [8000]);
  peer.wait(RTT);
  peer.send(c.ackOf(10_000));
  const recovered = peer.host.net.now() - lossAt;
  assert.equal(peer.counter("timeouts"), 0, "no RTO");
  assert.ok(recovered < ms(200), `recovered in ${recovered / 1000} ms, under the 200 ms RTO`);
  assert.equal(c.info().caState, "open");
  assert.equal(c.info().tlpProbes, 1);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp RACK-TLP: a probe that repaired the only lost segment makes one congestion response", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno" } } });
  const c = await open(peer);
  await c.conn.write(new Uint8Array(10_000));
  peer.take();
  peer.wait(RTT);
  peer.send(c.ackOf(9000)); // only the last segment was lost
  // One segment in flight: PTO = 2·SRTT + 200 ms (a delayed ACK), capped by
  // the RTO; the probe goes instead of the RTO.
  assert.deepEqual(c.rel(peer.wait(ms(250))), [9000]);
  peer.wait(RTT);
  peer.send(c.ackOf(10_000)); // the probe arrived; no D-SACK follows
  assert.equal(peer.counter("tlp_recoveries"), 0, "an ACK of exactly the probe waits");
  await c.conn.write(new Uint8Array(1000));
  assert.deepEqual(c.rel(peer.take()), [10_000]);
  peer.wait(RTT);
  peer.send(c.ackOf(11_000)); // beyond the probe, still no D-SACK: it repaired a loss
  assert.equal(peer.counter("tlp_recoveries"), 1);
  assert.equal(peer.counter("timeouts"), 0);
  // RFC 5681 (4) with the one segment in flight: max(FlightSize / 2, 2·SMSS).
  assert.equal(c.info().ssthresh, 2, "one congestion response");
  assert.equal(c.info().caState, "open");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp RACK-TLP: a D-SACK of the probe means nothing was lost: no congestion response", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno" } } });
  const c = await open(peer);
  await c.conn.write(new Uint8Array(10_000));
  peer.take();
  peer.wait(RTT);
  peer.send(c.ackOf(9000)); // the last segment's ACK is late
  assert.deepEqual(c.rel(peer.wait(ms(250))), [9000]);
  peer.send(c.ackOf(10_000)); // the original's ACK
  peer.wait(RTT);
  peer.send(c.ackOf(10_000, [[9000, 10_000]])); // the probe, reported as a duplicate
  assert.equal(peer.counter("dsacks_recv"), 1);
  await c.conn.write(new Uint8Array(1000));
  peer.take();
  peer.wait(RTT);
  peer.send(c.ackOf(11_000));
  assert.equal(peer.counter("tlp_recoveries"), 0);
  assert.equal(c.info().ssthresh, undefined, "no reduction");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp D-SACK: a spurious RTO is undone when the retransmission is reported twice (RFC 3708)", async () => {
  // RACK off: no loss probe ahead of the RTO.
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno", rack: false } } });
  const c = await open(peer);
  await c.conn.write(new Uint8Array(10_000));
  assert.equal(c.rel(peer.take()).length, 10);
  // The ACKs are delayed past the RTO (200 ms): segment 0 is resent.
  assert.deepEqual(c.rel(peer.wait(ms(210))), [0]);
  assert.equal(peer.counter("timeouts"), 1);
  assert.equal(c.info().cwnd, 1);
  peer.send(c.ackOf(10_000)); // the late ACK of the originals
  // A duplicate the network made of a segment never resent proves nothing.
  peer.send(c.ackOf(10_000, [[5000, 6000]]));
  assert.equal(peer.counter("spurious_undos"), 0);
  peer.wait(RTT);
  peer.send(c.ackOf(10_000, [[0, 1000]])); // the retransmission arrived twice
  assert.equal(peer.counter("spurious_undos"), 1);
  assert.ok(c.info().cwnd! >= 10, `cwnd ${c.info().cwnd}`);
  assert.equal(c.info().ssthresh, undefined);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp RACK: reordering by 3 segments — one spurious fast retransmit undone by D-SACK, then none; a real loss then waits for the reordering timer", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno" } } });
  const c = await open(peer);
  // Round 1: segment 0 is delayed past 1, 2 and 3.
  await c.conn.write(new Uint8Array(10_000));
  assert.equal(c.rel(peer.take()).length, 10);
  peer.wait(RTT);
  peer.send(c.ackOf(0, [[1000, 2000]]));
  peer.send(c.ackOf(0, [[1000, 3000]]));
  // Three segments SACKed and no reordering seen yet: RACK's window is 0.
  const fr = c.rel(peer.send(c.ackOf(0, [[1000, 4000]])));
  assert.equal(fr[0], 0, `fast retransmit: ${fr}`);
  assert.equal(peer.counter("fast_retransmits"), 1);
  const reduced = c.info();
  assert.equal(reduced.caState, "recovery");
  // The original arrives, then everything else; then the retransmission,
  // which the receiver reports as a duplicate (D-SACK below the ACK).
  peer.wait(ms(5));
  peer.send(c.ackOf(4000));
  peer.send(c.ackOf(10_000));
  peer.wait(ms(15));
  peer.send(c.ackOf(10_000, [[0, 1000]]));
  const undone = c.info();
  assert.equal(peer.counter("dsacks_recv"), 1);
  assert.equal(peer.counter("spurious_undos"), 1);
  assert.equal(undone.spuriousUndos, 1);
  assert.equal(undone.caState, "open");
  assert.ok(undone.cwnd! >= 10, `cwnd restored: ${undone.cwnd}`);
  assert.equal(undone.ssthresh, undefined, "ssthresh restored (infinite before the response)");
  // Round 2: the same reordering (of the second segment). RACK's window is
  // now 2·min_RTT/4 = 10 ms (reordering seen, one D-SACK round): the late
  // segment arrives within it.
  await c.conn.write(new Uint8Array(10_000));
  const sent = c.rel(peer.take());
  assert.ok(sent.length >= 5, `round 2 sent ${sent}`);
  const base = sent[0]! + 1000;
  peer.wait(RTT);
  peer.send(c.ackOf(base));
  const retransBefore = undone.retrans ?? 0;
  peer.send(c.ackOf(base, [[base + 1000, base + 2000]]));
  peer.send(c.ackOf(base, [[base + 1000, base + 3000]]));
  const quiet = c.rel(peer.send(c.ackOf(base, [[base + 1000, base + 4000]])));
  assert.ok(!quiet.includes(base), `no fast retransmit: ${quiet}`);
  peer.wait(ms(5));
  peer.send(c.ackOf(sent[0]! + sent.length * 1000));
  peer.wait(ms(50));
  assert.equal(peer.counter("fast_retransmits"), 1, "no second fast retransmit");
  assert.equal(c.info().retrans ?? 0, retransBefore);
  assert.ok(c.info().reordSeen! >= 1);
  // Round 3: this time the segment is really lost. The reordering timer
  // (RFC 8985 §6.3) finds it RACK.rtt + reo_wnd after it was sent, long
  // before the RTO.
  await c.conn.write(new Uint8Array(10_000));
  const third = c.rel(peer.take());
  assert.ok(third.length >= 5, `round 3 sent ${third}`);
  const lost = third[0]! + 1000;
  peer.wait(RTT);
  peer.send(c.ackOf(lost));
  peer.send(c.ackOf(lost, [[lost + 1000, lost + 2000]]));
  peer.send(c.ackOf(lost, [[lost + 1000, lost + 3000]]));
  assert.deepEqual(c.rel(peer.send(c.ackOf(lost, [[lost + 1000, lost + 4000]]))), []);
  const resent = c.rel(peer.wait(ms(12)));
  assert.equal(resent[0], lost, `the reordering timer resent it: ${resent}`);
  assert.equal(peer.counter("fast_retransmits"), 2);
  assert.equal(peer.counter("timeouts"), 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp RACK off: the same reordering fast-retransmits every time (RFC 6675 DupThresh)", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno", rack: false } } });
  const c = await open(peer);
  for (let round = 0; round < 2; round++) {
    await c.conn.write(new Uint8Array(8000));
    const sent = c.rel(peer.take());
    const base = sent[0]! + 1000; // the second segment is delayed
    peer.wait(RTT);
    peer.send(c.ackOf(base));
    peer.send(c.ackOf(base, [[base + 1000, base + 2000]]));
    peer.send(c.ackOf(base, [[base + 1000, base + 3000]]));
    peer.send(c.ackOf(base, [[base + 1000, base + 4000]]));
    peer.wait(ms(5));
    peer.send(c.ackOf(sent[0]! + sent.length * 1000));
    peer.wait(ms(50));
  }
  assert.equal(peer.counter("fast_retransmits"), 2);
  c.conn.close();
  peer.finish();
});

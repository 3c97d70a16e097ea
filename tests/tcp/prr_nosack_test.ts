/**
 * PRR (RFC 6937) during fast recovery without SACK: the duplicate ACKs
 * stand for the segments delivered (RFC 6937 §3, Linux's Reno SACK
 * emulation): new data goes out in proportion to them, cwnd only comes
 * down to ssthresh (no RFC 5681 window inflation), and when recovery ends
 * the data in flight is at ssthresh.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { Peer } from "./_tcp.ts";
import { open, RTT } from "./_recovery.ts";

for (const cc of ["newreno", "cubic"] as const) {
  Deno.test(`tcp PRR without SACK (${cc}): sends in proportion, cwnd comes down to ssthresh, flight at ssthresh at the end`, async () => {
    const peer = new Peer({ plugins: { tcp: { congestionControl: cc } } });
    const c = await open(peer, 1000, false);
    await c.conn.write(new Uint8Array(60_000));
    assert.equal(c.rel(peer.take()).length, 10);
    peer.wait(RTT);
    // Segment 0 is lost; 1..9 arrive, one duplicate ACK each (the first two
    // send new data by limited transmit), then the two segments those sent.
    const trace: { cwnd: number; sent: number[]; state: string }[] = [];
    let sndMax = 10_000;
    for (let k = 1; k <= 11; k++) {
      const out = c.rel(peer.send(c.ackOf(0)));
      for (const x of out) if (x + 1000 > sndMax) sndMax = x + 1000;
      const i = c.info();
      trace.push({ cwnd: i.cwnd!, sent: out, state: i.caState! });
    }
    const show = JSON.stringify(trace);
    assert.equal(peer.counter("fast_retransmits"), 1, show);
    assert.equal(peer.counter("sack_recoveries"), 0, show);
    const ssthresh = c.info().ssthresh!;
    assert.equal(ssthresh, cc === "cubic" ? 7 : 6, show); // β·cwnd; FlightSize (12) / 2
    const recovering = trace.filter((t) => t.state === "recovery");
    assert.equal(recovering.length, 9, show);
    assert.deepEqual(recovering[0]!.sent, [0], show); // the fast retransmission
    // At most one segment per duplicate ACK, and cwnd never grows: it
    // comes down to ssthresh (inflation took it to ssthresh + 11 segments,
    // for the same segments sent after a single loss).
    assert.ok(recovering.every((t) => t.sent.length <= 1), show);
    for (let i = 1; i < recovering.length; i++) {
      assert.ok(recovering[i]!.cwnd <= recovering[i - 1]!.cwnd, show);
    }
    assert.equal(recovering.at(-1)!.cwnd, ssthresh, show);
    // RFC 6937: ceil(prr_delivered · ssthresh / RecoverFS) while the pipe is
    // above ssthresh (RecoverFS 12 segments, 9 delivered), then PRR-SSRB
    // holds the pipe at ssthresh.
    const total = recovering.reduce((n, t) => n + t.sent.length, 0) - 1;
    const proportional = Math.ceil(9 * ssthresh / 12);
    assert.ok(
      total >= proportional - 1 && total <= ssthresh + 1,
      `${total} new segments in recovery (proportional part ${proportional}, ssthresh ${ssthresh}): ${show}`,
    );
    // The retransmission is acknowledged with everything: recovery ends
    // with the data in flight at ssthresh (and cwnd at min(ssthresh,
    // FlightSize + 1 segment), RFC 6582's exit).
    peer.wait(RTT);
    peer.send(c.ackOf(12_000));
    const end = c.info();
    assert.equal(end.caState, "open");
    const flight = (sndMax - 12_000) / 1000;
    assert.ok(
      Math.abs(flight - ssthresh) <= 1,
      `flight ${flight} segments, ssthresh ${ssthresh}: ${show}`,
    );
    assert.ok(end.cwnd! >= ssthresh - 1 && end.cwnd! <= ssthresh, `cwnd ${end.cwnd}: ${show}`);
    peer.wait(ms(1));
    c.conn.close();
    peer.finish();
  });
}

Deno.test("tcp PRR without SACK: a partial ACK resends the next hole and sends no new data past PRR", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "cubic" } } });
  const c = await open(peer, 1000, false);
  await c.conn.write(new Uint8Array(10_000));
  assert.equal(c.rel(peer.take()).length, 10);
  peer.wait(RTT);
  // Segments 0 and 5 lost: 1..4 and 6..9 bring 8 duplicate ACKs.
  for (let k = 0; k < 3; k++) c.rel(peer.send(c.ackOf(0)));
  assert.equal(c.info().caState, "recovery");
  await c.conn.write(new Uint8Array(20_000));
  const sent: number[] = [];
  for (let k = 3; k < 8; k++) sent.push(...c.rel(peer.send(c.ackOf(0))));
  assert.deepEqual(sent, [10_000, 11_000, 12_000, 13_000, 14_000]);
  // The retransmission of 0 arrives: ACK 5000 (a partial ACK). Its
  // DeliveredData is one segment (4 of the 5 were counted by duplicates);
  // the pipe is 10 − 4 − 1: cwnd 6 has room for the hole only.
  const out = c.rel(peer.send(c.ackOf(5000)));
  assert.deepEqual(out, [5000]);
  assert.equal(c.info().cwnd, 6);
  assert.equal(c.info().caState, "recovery");
  peer.wait(ms(1));
  c.conn.close();
  peer.finish();
});

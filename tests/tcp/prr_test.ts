/**
 * PRR (RFC 6937) during fast recovery: with one segment lost out of a
 * window of ten and ssthresh half of it, every SACK that delivers a segment
 * lets about half a segment go (not nothing for half the recovery and then
 * a burst), and when recovery ends the data in flight and cwnd are at
 * ssthresh.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { Peer } from "./_tcp.ts";
import { open, RTT } from "./_recovery.ts";

for (const [cc, rack] of [["newreno", true], ["cubic", true], ["newreno", false]] as const) {
  const how = rack ? "RACK" : "RFC 6675";
  Deno.test(`tcp PRR (${cc}, ${how} loss detection): sends in proportion during recovery and ends with cwnd and flight at ssthresh`, async () => {
    const peer = new Peer({ plugins: { tcp: { congestionControl: cc, rack } } });
    const c = await open(peer);
    await c.conn.write(new Uint8Array(60_000));
    assert.equal(c.rel(peer.take()).length, 10);
    peer.wait(RTT);
    // Segment 0 is lost; 1..9 arrive, one SACK each (the first two send
    // new data by limited transmit, RFC 3042), then the two segments those sent.
    const trace: { cwnd: number; sent: number[]; state: string }[] = [];
    let sndMax = 10_000;
    for (let k = 1; k <= 11; k++) {
      const out = c.rel(peer.send(c.ackOf(0, [[1000, 1000 + 1000 * k]])));
      for (const x of out) if (x + 1000 > sndMax) sndMax = x + 1000;
      const i = c.info();
      trace.push({ cwnd: i.cwnd!, sent: out, state: i.caState! });
    }
    const show = JSON.stringify(trace);
    assert.equal(peer.counter("fast_retransmits"), 1, show);
    const ssthresh = c.info().ssthresh!;
    // NewReno halves FlightSize: RACK's recovery caps it by cwnd (10, the
    // limited-transmit segments left out, as RFC 3042 §2 asks); RFC 6675's
    // counts all 12 out. CUBIC: β·cwnd.
    assert.equal(ssthresh, cc === "cubic" ? 7 : rack ? 5 : 6, show);
    const recovering = trace.filter((t) => t.state === "recovery");
    assert.ok(recovering.length >= 6, show);
    // Never more than two segments per ACK (PRR-SSRB allows delivered + 1 MSS).
    assert.ok(trace.every((t) => t.sent.length <= 2), show);
    // The cwnd trace comes down to ssthresh a segment per ACK, not in one
    // step at the start (RFC 6675 alone sets cwnd = ssthresh at once).
    assert.ok(recovering[0]!.cwnd > ssthresh, show);
    for (let i = 1; i < recovering.length; i++) {
      assert.ok(recovering[i]!.cwnd >= recovering[i - 1]!.cwnd - 1, show);
      assert.ok(recovering[i]!.cwnd >= ssthresh, show);
    }
    const total = recovering.reduce((n, t) => n + t.sent.length, 0);
    // RFC 6937: while pipe > ssthresh, prr_out = ceil(prr_delivered ·
    // ssthresh / RecoverFS) (RecoverFS: the 12 segments out when recovery
    // began; prr_delivered: the 9 its ACKs reported), then PRR-SSRB holds
    // pipe at ssthresh: in all, between that and ssthresh segments.
    const proportional = Math.ceil(9 * ssthresh / 12);
    assert.ok(
      total >= proportional - 1 && total <= ssthresh + 1,
      `${total} sent in recovery (proportional part ${proportional}, ssthresh ${ssthresh}): ${show}`,
    );
    // The retransmission is acknowledged with everything: recovery ends.
    peer.wait(RTT);
    peer.send(c.ackOf(12_000));
    const end = c.info();
    assert.equal(end.caState, "open");
    assert.equal(end.cwnd, ssthresh, "cwnd = ssthresh at the end of recovery");
    const flight = (sndMax - 12_000) / 1000;
    assert.ok(Math.abs(flight - ssthresh) <= 1, `flight ${flight} segments, ssthresh ${ssthresh}`);
    peer.wait(ms(1));
    c.conn.close();
    peer.finish();
  });
}

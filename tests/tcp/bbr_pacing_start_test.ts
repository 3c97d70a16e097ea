/**
 * BBR's first pacing rate (Linux `bbr_init_pacing_rate_from_rtt`): once an
 * RTT is known, high_gain · cwnd / RTT, and in Startup a lower bandwidth
 * sample never lowers it. The first ACK's delivery-rate sample (one segment
 * over one RTT, 50 kB/s here) is no measure of the path; pacing at
 * high_gain times it held the sender to one segment per 7 ms and delayed a
 * fast retransmission by several ACKs.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { Peer } from "./_tcp.ts";
import { open, RTT } from "./_recovery.ts";

const HIGH_GAIN = 2 / Math.LN2;

type Conn = Awaited<ReturnType<typeof open>>;

/** A BBR connection whose initial window (10 segments of 1000 bytes) left one RTT ago. */
async function windowOut(): Promise<{ peer: Peer; c: Conn }> {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "bbr" } } });
  const c = await open(peer);
  await c.conn.write(new Uint8Array(100_000));
  assert.equal(c.rel(peer.take()).length, 10);
  peer.wait(RTT);
  return { peer, c };
}

/**
 * Segment 0 lost: `ack(k)` SACKs segments 1 to k − 1, for k = 2, 3, … until
 * recovery starts (7 ACKs at most), which it must; returns the next k.
 */
function sackUntilRecovery(c: Conn, ack: (k: number) => void): number {
  let k = 2;
  for (; k <= 8 && c.info().caState !== "recovery"; k++) ack(k);
  assert.equal(c.info().caState, "recovery");
  return k;
}

/** Closes and lets the close run its course. */
function close(peer: Peer, c: Conn): void {
  c.conn.close();
  peer.wait(ms(1000));
}

Deno.test("tcp BBR Startup: the first ACK sets the pacing rate from the RTT, not from its one-segment sample", async () => {
  const { peer, c } = await windowOut();
  peer.send(c.ackOf(1000));
  const fromRtt = HIGH_GAIN * 10_000 / (RTT / 1e6); // ≈ 1.44 MB/s
  const rate = c.info().pacingRate!;
  assert.ok(
    rate >= 0.99 * fromRtt,
    `pacing rate ${rate} B/s, high_gain · cwnd / RTT = ${fromRtt.toFixed(0)}`,
  );
  close(peer, c);
});

Deno.test("tcp BBR: the fast retransmission goes within 1 ms of RACK finding the loss", async () => {
  const { peer, c } = await windowOut();
  let out: number[] = [];
  const k = sackUntilRecovery(c, (k) => {
    out = c.rel(peer.send(c.ackOf(0, [[1000, k * 1000]])));
  });
  out.push(...c.rel(peer.wait(ms(1))));
  assert.ok(
    out.includes(0),
    `sent ${JSON.stringify(out)} within 1 ms of recovery (${k - 2} SACKs)`,
  );
  close(peer, c);
});

Deno.test("tcp BBR fast recovery: packet conservation, one segment out per segment delivered (window from pipe, not FlightSize)", async () => {
  const { peer, c } = await windowOut();
  // Segment 0 is lost; every later one is SACKed, one per ACK, 1 ms apart.
  let k = sackUntilRecovery(c, (k) => {
    peer.send(c.ackOf(0, [[1000, k * 1000]]));
    peer.wait(ms(1));
  });
  const recoveryAt = k - 1; // the ACK that found the loss SACKed up to recoveryAt·1000
  const sent: number[][] = [];
  for (; k <= recoveryAt + 5; k++) {
    sent.push(c.rel([...peer.send(c.ackOf(0, [[1000, k * 1000]])), ...peer.wait(ms(1))]));
  }
  const total = sent.reduce((n, s) => n + s.length, 0);
  // 5 ACKs each delivered one segment; the retransmission went on the first
  // ACK (before this trace) or counts here: at most one more than delivered.
  assert.ok(total <= 5 + 1, `sent ${JSON.stringify(sent)} for 5 segments delivered`);
  close(peer, c);
});

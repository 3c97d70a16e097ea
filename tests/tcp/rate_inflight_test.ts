/**
 * The delivery-rate sample's `inflight` (draft-cheng-iccrg-delivery-rate-
 * estimation; what BBR's model and packet conservation read) is the data
 * in flight after the ACK as Linux's `tcp_packets_in_flight` counts it:
 * sent − SACKed − judged lost + retransmitted. During RACK recovery the
 * segments RACK judged lost are out of it, also when RFC 6675's IsLost
 * (DupThresh segments SACKed above) would not yet call them lost; without
 * SACK, the duplicate ACKs stand for delivered segments (Reno SACK
 * emulation, as PRR's pipe).
 */
import assert from "node:assert/strict";
import { NewReno } from "../../stack/protocols/tcp/congestion/newreno.ts";
import type { RateSample } from "../../stack/protocols/tcp/congestion/delivery_rate.ts";
import { ms } from "../_harness.ts";
import { congestionPlugin, Peer } from "./_tcp.ts";
import { open, RTT } from "./_recovery.ts";

/** The samples the recording controller saw: inflight and recovery state, bytes. */
const seen: { inflight: number; inRecovery: boolean }[] = [];

/** NewReno that records every rate sample. */
class Recording extends NewReno {
  override onRateSample(rs: RateSample): void {
    seen.push({ inflight: rs.inflight, inRecovery: rs.inRecovery });
    super.onRateSample(rs);
  }
}

const recordingPlugin = congestionPlugin(
  "recording",
  "test: NewReno recording its rate samples",
  (mss, iw) => new Recording(mss, iw, { hystart: false }),
);

Deno.test("tcp rate sample inflight in RACK recovery: a segment RACK judged lost is not in flight", async () => {
  seen.length = 0;
  const peer = new Peer({
    extraPlugins: [recordingPlugin],
    plugins: { tcp: { congestionControl: "recording", rack: true } },
  });
  const c = await open(peer);
  await c.conn.write(new Uint8Array(10_000));
  assert.equal(c.rel(peer.take()).length, 10);
  peer.wait(RTT);
  // Segment 2 SACKed: 0 and 1 are lost once the reordering window
  // (min_RTT / 4) has passed; RACK's timer starts recovery, and PRR lets
  // the first of them go.
  assert.deepEqual(c.rel(peer.send(c.ackOf(0, [[2000, 3000]]))), []);
  assert.deepEqual(c.rel(peer.wait(ms(6))), [0]);
  assert.equal(c.info().caState, "recovery");
  // Segment 3 SACKed: out are 0 (resent), 4..9, and not 1 (lost, not yet
  // resent): 7 segments. RFC 6675's pipe counts 1 too (not IsLost with
  // only 2 segments SACKed above): 8.
  seen.length = 0;
  peer.send(c.ackOf(0, [[2000, 4000]]));
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0], { inflight: 7000, inRecovery: true });
  peer.wait(ms(1));
  c.conn.close();
  peer.finish();
});

Deno.test("tcp rate sample inflight in recovery without SACK: duplicate ACKs stand for delivered segments", async () => {
  seen.length = 0;
  const peer = new Peer({
    extraPlugins: [recordingPlugin],
    plugins: { tcp: { congestionControl: "recording" } },
  });
  const c = await open(peer, 1000, false);
  await c.conn.write(new Uint8Array(10_000));
  assert.equal(c.rel(peer.take()).length, 10);
  peer.wait(RTT);
  // Segment 0 lost: three duplicate ACKs, the fast retransmission.
  for (let k = 0; k < 3; k++) peer.send(c.ackOf(0));
  assert.equal(c.info().caState, "recovery");
  // The retransmission and 1..4 acknowledged (a partial ACK below the
  // recovery point): out are 5..9, of which the 3 duplicates' segments
  // minus the 4 the ACK covered beyond the hole leave none delivered
  // above it, and the hole at 5 is resent at once: 5 segments.
  seen.length = 0;
  peer.send(c.ackOf(5000));
  assert.deepEqual(seen.at(-1), { inflight: 5000, inRecovery: true });
  // Two duplicate ACKs (6 and 7 arrived), then 5 and 6 are acknowledged:
  // the ACK delivered the hole; 7 is still counted by its duplicate, and
  // the hole at 7000 is resent: out are 7..9 less the one duplicate: 2.
  peer.send(c.ackOf(5000));
  peer.send(c.ackOf(5000));
  seen.length = 0;
  peer.send(c.ackOf(7000));
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0], { inflight: 2000, inRecovery: true });
  peer.wait(ms(1));
  c.conn.close();
  peer.finish();
});

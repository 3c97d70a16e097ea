/**
 * PRR's DeliveredData (RFC 6937 §3): "the change in snd.una plus the
 * (signed) change in quantity of data marked SACKed". A cumulative ACK that
 * covers bytes SACKed earlier delivers only what was not yet SACKed; those
 * bytes were counted in prr_delivered when their SACK came. Counting them
 * again lets the proportional part send more than ssthresh/RecoverFS of
 * what really left the network.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { Peer } from "./_tcp.ts";
import { open, RTT } from "./_recovery.ts";

for (const rack of [false, true]) {
  const how = rack ? "RACK" : "RFC 6675";
  Deno.test(`tcp PRR (${how}): a cumulative ACK over SACKed bytes counts them once in prr_delivered`, async () => {
    const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno", rack } } });
    const c = await open(peer);
    await c.conn.write(new Uint8Array(30_000));
    assert.equal(c.rel(peer.take()).length, 10);
    peer.wait(RTT);
    // Segment 0 is late: 1..3 are SACKed (limited transmit sends 10 and 11),
    // the third SACK starts fast recovery and resends 0.
    for (let k = 2; k <= 4; k++) c.rel(peer.send(c.ackOf(0, [[1000, k * 1000]])));
    assert.equal(c.info().caState, "recovery");
    const ssthresh = c.info().ssthresh!;
    // The original of 0 and then 4 arrive: ACK 5000 delivers 2000 new bytes
    // (0 and 4; 1..3 were SACKed). RecoverFS is the 12 segments out,
    // prr_delivered 1 + 2 = 3 segments, prr_out 1 (the retransmission), and
    // 7 segments remain in flight, above ssthresh: the proportional part
    // allows ceil(3000 · ssthresh / 12) - 1000 bytes, less than a segment:
    // nothing is sent. (Counting 1..3 again, prr_delivered 6, let 1 or 2 go.)
    const out = c.rel(peer.send(c.ackOf(5000)));
    const allowed = Math.floor((Math.ceil(3000 * ssthresh / 12) - 1000) / 1000);
    assert.ok(
      out.length <= allowed,
      `sent ${
        JSON.stringify(out)
      } after the partial ACK, PRR allows ${allowed} (ssthresh ${ssthresh})`,
    );
    peer.wait(ms(1));
    c.conn.close();
    peer.finish();
  });
}

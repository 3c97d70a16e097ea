/**
 * A SACK block that reaches past SND.MAX reports data never sent: forged
 * or corrupt. Linux (`tcp_is_sackblock_valid`) ignores such a block
 * whole; clipping it to SND.MAX would still mark the segments inside it
 * delivered, for RACK and the scoreboard alike, and start a recovery for a
 * loss that never happened. The block is dropped and counted
 * (`sacks_invalid`); the valid blocks of the same ACK still count.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { Peer } from "./_tcp.ts";
import { open, RTT } from "./_recovery.ts";

for (const rack of [true, false]) {
  const how = rack ? "RACK" : "RFC 6675";
  Deno.test(`tcp SACK (${how}): a block past SND.MAX is dropped whole and counted`, async () => {
    const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno", rack } } });
    const c = await open(peer);
    await c.conn.write(new Uint8Array(10_000));
    assert.equal(c.rel(peer.take()).length, 10);
    peer.wait(RTT);
    // Two ACKs, each with a block from segment 1 to past the last byte sent
    // (a third would be a third duplicate ACK).
    for (let k = 0; k < 2; k++) {
      const out = c.rel(peer.send(c.ackOf(0, [[1000, 10_000 + 1000 * (k + 1)]])));
      assert.deepEqual(out, [], `ACK ${k}: nothing is resent`);
    }
    const i = c.info();
    assert.equal(i.caState, "open");
    assert.equal(peer.counter("fast_retransmits"), 0);
    assert.equal(peer.counter("sacks_invalid"), 2);
    // A valid block beside an invalid one still counts.
    peer.send(c.ackOf(1000, [[2000, 20_000], [3000, 4000]]));
    assert.equal(peer.counter("sacks_invalid"), 3);
    assert.equal(c.info().caState, "open");
    peer.wait(ms(1));
    c.conn.close();
    peer.finish();
  });
}

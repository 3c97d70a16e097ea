/**
 * Hostile D-SACKs (RFC 2883 §4.2, RFC 3708): a first SACK block that lies
 * outside what was ever sent (beyond SND.MAX, or more than a window below
 * SND.UNA) is no evidence of a duplicate and must not undo a congestion
 * response; it is dropped and counted (`dsacks_invalid`), as Linux's
 * `tcp_is_sackblock_valid`.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { Peer } from "./_tcp.ts";
import { open } from "./_recovery.ts";

/** A connection whose first segment was resent by the RTO (cwnd 1), the originals then acknowledged. */
async function afterRto(peer: Peer) {
  const c = await open(peer);
  await c.conn.write(new Uint8Array(10_000));
  assert.equal(c.rel(peer.take()).length, 10);
  assert.deepEqual(c.rel(peer.wait(ms(210))), [0]);
  assert.equal(peer.counter("timeouts"), 1);
  peer.send(c.ackOf(10_000)); // the late ACK of the originals
  return c;
}

Deno.test("tcp D-SACK: a forged block past SND.MAX covering every retransmission does not undo", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno", rack: false } } });
  const c = await afterRto(peer);
  const cwnd = c.info().cwnd!;
  // First block inside the second, both reaching 1 MB past anything sent.
  peer.send(c.ackOf(10_000, [[0, 1 << 20], [0, 1 << 20]]));
  assert.equal(peer.counter("spurious_undos"), 0);
  assert.equal(peer.counter("dsacks_invalid"), 1);
  assert.equal(peer.counter("dsacks_recv"), 0);
  assert.equal(c.info().cwnd, cwnd);
  assert.notEqual(c.info().ssthresh, undefined);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp D-SACK: a forged block far below SND.UNA (wrapping round to the retransmission) does not undo", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno", rack: false } } });
  const c = await afterRto(peer);
  // [-2^31 + 1000, 1000) wraps: seq arithmetic alone sees it end at the ACK's left.
  peer.send(c.ackOf(10_000, [[2 ** 31 + 1000, 1000]]));
  assert.equal(peer.counter("spurious_undos"), 0);
  assert.equal(peer.counter("dsacks_invalid"), 1);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp D-SACK: the genuine block is still accepted and undoes", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno", rack: false } } });
  const c = await afterRto(peer);
  peer.send(c.ackOf(10_000, [[0, 1000]]));
  assert.equal(peer.counter("spurious_undos"), 1);
  assert.equal(peer.counter("dsacks_invalid"), 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp D-SACK flood: 10k forged and 10k stale D-SACKs are counted, undo nothing, change no window", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "cubic" } } });
  const c = await open(peer);
  await c.conn.write(new Uint8Array(60_000));
  peer.take();
  peer.wait(ms(20));
  peer.send(c.ackOf(1000));
  peer.take();
  const cwnd = c.info().cwnd;
  const N = 10_000;
  for (let i = 0; i < N; i++) {
    peer.send(c.ackOf(1000, [[0, 1 << 20], [0, 1 << 20]])); // past SND.MAX
    peer.send(c.ackOf(1000, [[0, 1000]])); // a genuine-looking duplicate of acknowledged data
  }
  assert.equal(peer.counter("dsacks_invalid"), N);
  assert.equal(peer.counter("dsacks_recv"), N);
  assert.equal(peer.counter("spurious_undos"), 0);
  assert.equal(peer.counter("fast_retransmits"), 0);
  const i = c.info();
  assert.equal(i.state, "ESTABLISHED");
  assert.equal(i.cwnd, cwnd);
  c.conn.close();
  peer.wait(ms(1000));
});

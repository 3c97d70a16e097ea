/**
 * Timeouts meeting loss recovery, segment by segment (RFC 5681 §3.1,
 * RFC 6675 §5.1): a retransmission timeout during SACK recovery must not
 * reduce ssthresh a second time for the same window, nor raise it from a
 * FlightSize swollen by SACKed data and new data sent during recovery; a
 * second timeout of the same segment holds it.
 */
import assert from "node:assert/strict";
import { activeOpen, Peer, show } from "./_tcp.ts";
import { ms } from "../_harness.ts";

Deno.test("tcp RTO during SACK recovery keeps the recovery's ssthresh; a second RTO holds it", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno" } } });
  const c = await activeOpen(peer, 80, { mss: 1000, sackOk: true });
  await c.conn.write(new Uint8Array(40_000));
  assert.equal(peer.take().length, 10); // the initial window
  const s = c.sndNxt;
  const info = () => peer.stack.sockets().find((x) => x.state === "ESTABLISHED")!;
  const sackAck = (blocks: [number, number][]) => ({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: s,
    flags: ".",
    options: { sack: blocks.map(([l, r]) => [(s + l) >>> 0, (s + r) >>> 0] as const) },
  });
  // Segment 0 is lost, 1..3 arrive: recovery, ssthresh = FlightSize / 2 = 5 segments.
  peer.send(sackAck([[1000, 4000]]));
  assert.equal(peer.counter("sack_recoveries"), 1);
  assert.equal(info().ssthresh, 5);
  // More SACKs: the pipe empties and new data goes out; FlightSize grows past 10 segments.
  const out = peer.send(sackAck([[1000, 10_000]]));
  assert.ok(out.some((x) => (x.seq - s) >>> 0 >= 10_000), show(out));
  // Nothing more is heard: the retransmission of segment 0 times out (RTO 200 ms).
  peer.wait(ms(300));
  assert.equal(peer.counter("timeouts"), 1);
  assert.equal(info().cwnd, 1);
  assert.equal(info().ssthresh, 5, "not reduced again, and not raised from FlightSize");
  peer.wait(ms(5000));
  assert.ok(peer.counter("timeouts") >= 2);
  assert.equal(info().ssthresh, 5, "held on later timeouts of the same segment");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp RTO outside recovery: ssthresh = FlightSize / 2 once, then held", async () => {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno" } } });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  await c.conn.write(new Uint8Array(8000));
  assert.equal(peer.take().length, 8);
  peer.wait(ms(200));
  const info = () => peer.stack.sockets().find((x) => x.state === "ESTABLISHED")!;
  assert.equal(peer.counter("timeouts"), 1);
  assert.deepEqual([info().cwnd, info().ssthresh], [1, 4]);
  peer.wait(ms(400));
  assert.equal(peer.counter("timeouts"), 2);
  assert.deepEqual([info().cwnd, info().ssthresh], [1, 4]);
  c.conn.close();
  peer.finish();
});

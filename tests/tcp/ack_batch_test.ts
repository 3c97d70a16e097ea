/**
 * ACK coalescing per receive batch: once two full-sized segments are
 * unacknowledged (RFC 9293 §3.8.6.3, RFC 5681 §4.2), the ACK goes out at the
 * end of the receive batch, one for everything the batch brought (a stretch
 * ACK, as Linux's GRO makes), super-segments included; outside batches every
 * second segment is still acknowledged; out-of-order data, a filled hole and
 * a FIN are acknowledged at once, inside the batch; the delayed-ACK timer
 * still covers a lone segment.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { activeOpen, expectSeg, one, pattern, Peer, show } from "./_tcp.ts";

const MSS = 1000;

async function setup(quickAcks = 0) {
  const peer = new Peer({ plugins: { tcp: { quickAcks } } });
  const c = await activeOpen(peer, 80, { mss: MSS });
  const seg = (i: number, flags = ".") => ({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt + MSS * i,
    ack: c.sndNxt,
    flags,
    payload: pattern(MSS, i),
  });
  return { peer, c, seg };
}

Deno.test("tcp ESTABLISHED + batch of 16 full segments → one ACK, at the end of the batch", async () => {
  const { peer, c, seg } = await setup();
  const { during, after } = peer.sendBatch(Array.from({ length: 16 }, (_, i) => seg(i)));
  assert.deepEqual(during, [], `nothing while the batch is open:\n${show(during)}`);
  one(after, { flags: ".", ack: c.peerNxt + 16 * MSS, len: 0 });
  // Nothing is left for the delayed-ACK timer.
  assert.deepEqual(peer.wait(ms(100)), []);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + batches of 3 segments → one ACK per batch", async () => {
  const { peer, c, seg } = await setup();
  for (let b = 0; b < 4; b++) {
    const { during, after } = peer.sendBatch([seg(3 * b), seg(3 * b + 1), seg(3 * b + 2)]);
    assert.deepEqual(during, []);
    one(after, { ack: c.peerNxt + 3 * (b + 1) * MSS });
  }
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + single segments outside batches → every second one ACKed at once", async () => {
  const { peer, c, seg } = await setup();
  const acks = [];
  for (let i = 0; i < 6; i++) acks.push(peer.send(seg(i)).map((s) => s.ack - c.peerNxt));
  assert.deepEqual(acks, [[], [2 * MSS], [], [4 * MSS], [], [6 * MSS]]);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + lone segment in a batch → delayed-ACK timer (40 ms), not the batch end", async () => {
  const { peer, c, seg } = await setup();
  const { during, after } = peer.sendBatch([seg(0)]);
  assert.deepEqual([...during, ...after], []);
  assert.deepEqual(peer.wait(ms(39)), []);
  one(peer.wait(ms(1)), { ack: c.peerNxt + MSS });
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + out-of-order segments in a batch → immediate duplicate ACKs with SACK, inside the batch", async () => {
  const peer = new Peer({ plugins: { tcp: { quickAcks: 0 } } });
  const c = await activeOpen(peer, 80, { mss: MSS, sackOk: true });
  const seg = (i: number) => ({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt + MSS * i,
    ack: c.sndNxt,
    flags: ".",
    payload: pattern(MSS, i),
  });
  // 0, 1 in order; 2 lost; 3, 4, 5 out of order.
  const { during, after } = peer.sendBatch([seg(0), seg(1), seg(3), seg(4), seg(5)]);
  // Each out-of-order segment is answered at once (RFC 5681 §4.2) and
  // carries the in-order ACK the batch owed; nothing is left for its end.
  assert.deepEqual(
    during.map((s) => [s.ack - c.peerNxt, s.sack.map(([l, r]) => [l - c.peerNxt, r - c.peerNxt])]),
    [
      [2 * MSS, [[3 * MSS, 4 * MSS]]],
      [2 * MSS, [[3 * MSS, 5 * MSS]]],
      [2 * MSS, [[3 * MSS, 6 * MSS]]],
    ],
  );
  assert.deepEqual(after, []);
  // The retransmission filling the hole is acknowledged at once, in a batch too.
  const fill = peer.sendBatch([seg(2)]);
  expectSeg(one(fill.during), { ack: c.peerNxt + 6 * MSS });
  assert.deepEqual(fill.after, []);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + FIN at the end of a batch → ACKed at once", async () => {
  const { peer, c, seg } = await setup();
  const { during, after } = peer.sendBatch([seg(0), seg(1), seg(2, "F.")]);
  // The FIN's immediate ACK covers the two full segments before it.
  one(during, { ack: c.peerNxt + 3 * MSS + 1 });
  assert.deepEqual(after, []);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + quick-ACK mode after the handshake → every segment ACKed at once, even in a batch", async () => {
  const { peer, c, seg } = await setup(2);
  const { during, after } = peer.sendBatch([seg(0), seg(1), seg(2), seg(3), seg(4)]);
  // Two quick ACKs, then the batch's stretch ACK for the other three.
  assert.deepEqual(during.map((s) => s.ack - c.peerNxt), [MSS, 2 * MSS]);
  one(after, { ack: c.peerNxt + 5 * MSS });
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + batch of super-segments → one ACK, at the end of the batch, as for full segments", async () => {
  const { peer, c } = await setup();
  // Super-segments as a TUN with offloads delivers them (Linux's GSO): 8 MSS each.
  const superSeg = (i: number) => ({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt + 8 * MSS * i,
    ack: c.sndNxt,
    flags: ".",
    payload: pattern(8 * MSS, i),
  });
  const { during, after } = peer.sendBatch(Array.from({ length: 4 }, (_, i) => superSeg(i)));
  // Linux ACKs each GRO packet; an ACK per super-segment (or per 4 or 8)
  // inside a TUN batch was measured and not kept: no faster with a BBR
  // sender, slower with CUBIC, more CPU per GiB (rcv.ts scheduleAck).
  assert.deepEqual(during, [], `nothing while the batch is open:\n${show(during)}`);
  one(after, { flags: ".", ack: c.peerNxt + 32 * MSS, len: 0 });
  assert.deepEqual(peer.wait(ms(100)), []);
  c.conn.close();
  peer.finish();
});

/**
 * TIME-WAIT reuse (RFC 9293 §3.10.7.4, RFC 6191): a SYN for a connection the
 * stack holds in TIME-WAIT opens a new one only when it is beyond the old
 * connection (sequence number past the old RCV.NXT, or a newer TSval), and
 * the new ISN lies above the old connection's SND.NXT; any other SYN gets
 * an ACK and the old connection stays in TIME-WAIT.
 */
import assert from "node:assert/strict";
import { one, type PassiveConn, passiveOpen, pattern, Peer, show, type TcpFields } from "./_tcp.ts";
import { ms } from "../_harness.ts";
import { seqGt } from "../../stack/protocols/tcp/seq.ts";

/** Sends `n` bytes from the stack, ACKing everything it sends; returns its SND.NXT after. */
async function pushData(peer: Peer, p: PassiveConn, n: number): Promise<number> {
  const w = p.conn.write(pattern(n));
  let acked = p.sndNxt;
  let segs = peer.take();
  for (let i = 0; i < 50 && acked !== ((p.sndNxt + n) >>> 0); i++) {
    for (const s of segs) {
      const end = (s.seq + s.payload.length) >>> 0;
      if (seqGt(end, acked)) acked = end;
    }
    const ack = { srcPort: p.peerPort, dstPort: p.port, seq: p.peerNxt, ack: acked, flags: "." };
    segs = peer.send(ack, ms(1));
  }
  await w;
  assert.equal(acked, (p.sndNxt + n) >>> 0, "all data acknowledged");
  return acked;
}

/** A new SYN from the old connection's port 40000 with `seq` (and TSval `tsVal`, if given). */
function newSyn(seq: number, tsVal?: number): TcpFields {
  const ts = tsVal !== undefined ? { ts: [tsVal, 0] as const } : {};
  return { srcPort: 40000, dstPort: 80, seq, flags: "S", options: { mss: 1460, ...ts } };
}

/** Passive open, `n` bytes out, then the stack closes first and holds TIME-WAIT. */
async function intoTimeWait(peer: Peer, n: number, ts = false) {
  const opts = ts ? { mss: 1460, ts: [1000, 0] as const } : { mss: 1460 };
  const p = await passiveOpen(peer, 80, 40000, opts);
  const sndNxt = n > 0 && !ts ? await pushData(peer, p, n) : p.sndNxt;
  p.conn.close();
  const fin = one(peer.take(), { flags: "F.", seq: sndNxt });
  const tsOpt = ts ? { options: { ts: [1002, fin.ts![0]] as const } } : {};
  peer.send({
    srcPort: 40000,
    dstPort: 80,
    seq: p.peerNxt,
    ack: sndNxt + 1,
    flags: "F.",
    ...tsOpt,
  });
  assert.equal(peer.state(40000), "TIME-WAIT");
  return { p, oldSndNxt: (sndNxt + 1) >>> 0, oldRcvNxt: (p.peerNxt + 1) >>> 0 };
}

Deno.test("tcp TIME-WAIT + new SYN soon after a fast transfer → new ISN above the old SND.NXT", async () => {
  const peer = new Peer();
  // 40 kB in a few virtual milliseconds: RFC 6528's clock (4 µs ticks)
  // moves far less than the old connection's sequence numbers did.
  const { p, oldSndNxt, oldRcvNxt } = await intoTimeWait(peer, 40_000);
  const synAck = one(
    peer.send(newSyn(oldRcvNxt + 10)),
    { flags: "S.", ack: oldRcvNxt + 11 },
  );
  assert.ok(
    seqGt(synAck.seq, oldSndNxt + 65535),
    `new ISN ${synAck.seq} must lie a window above the old SND.NXT ${oldSndNxt}`,
  );
  assert.equal(peer.state(40000), "SYN-RECEIVED");
  p.listener.close();
  peer.finish();
});

Deno.test("tcp TIME-WAIT + SYN at or below the old RCV.NXT → ACK, TIME-WAIT kept", async () => {
  const peer = new Peer();
  const { p, oldSndNxt, oldRcvNxt } = await intoTimeWait(peer, 0);
  for (const seq of [oldRcvNxt, oldRcvNxt - 1000]) {
    const out = peer.send(newSyn(seq), ms(1100));
    one(out, { flags: ".", seq: oldSndNxt, ack: oldRcvNxt });
    assert.equal(peer.state(40000), "TIME-WAIT", show(out));
  }
  p.listener.close();
  peer.finish();
});

Deno.test("tcp TIME-WAIT (timestamps) + SYN with a newer TSval and an old sequence number → reopened", async () => {
  const peer = new Peer();
  const { p, oldSndNxt, oldRcvNxt } = await intoTimeWait(peer, 0, true);
  const synAck = one(
    // Below the old RCV.NXT: only the timestamp makes it new (RFC 6191).
    peer.send(newSyn(oldRcvNxt - 5000, 2000)),
    { flags: "S.", ack: oldRcvNxt - 4999 },
  );
  assert.ok(seqGt(synAck.seq, oldSndNxt), `ISN ${synAck.seq} above ${oldSndNxt}`);
  assert.equal(peer.state(40000), "SYN-RECEIVED");
  p.listener.close();
  peer.finish();
});

Deno.test("tcp TIME-WAIT (timestamps) + SYN with an older TSval → ACK, TIME-WAIT kept", async () => {
  const peer = new Peer();
  const { p, oldSndNxt, oldRcvNxt } = await intoTimeWait(peer, 0, true);
  // A higher sequence number does not help an old timestamp.
  const out = peer.send(newSyn(oldRcvNxt + 100_000, 900), ms(600));
  one(out, { flags: ".", seq: oldSndNxt, ack: oldRcvNxt });
  assert.equal(peer.state(40000), "TIME-WAIT");
  p.listener.close();
  peer.finish();
});

Deno.test("tcp TIME-WAIT (timestamps) + SYN with the same TSval: reopened only past the old RCV.NXT", async () => {
  const peer = new Peer();
  const { p, oldRcvNxt } = await intoTimeWait(peer, 0, true);
  const low = peer.send(newSyn(oldRcvNxt - 1, 1002), ms(600));
  one(low, { flags: "." });
  assert.equal(peer.state(40000), "TIME-WAIT");
  one(peer.send(newSyn(oldRcvNxt + 1, 1002)), { flags: "S.", ack: oldRcvNxt + 2 });
  assert.equal(peer.state(40000), "SYN-RECEIVED");
  p.listener.close();
  peer.finish();
});

Deno.test("tcp TIME-WAIT + new SYN while the SYN queue is full → a real child above the old SND.NXT, not a cookie", async () => {
  const peer = new Peer({ plugins: { tcp: { synBacklog: 1 } } });
  const { p, oldSndNxt, oldRcvNxt } = await intoTimeWait(peer, 40_000);
  // Another client's half-open connection fills the SYN queue.
  one(peer.send({ srcPort: 40100, dstPort: 80, seq: 1, flags: "S", options: { mss: 1460 } }), {
    flags: "S.",
  });
  const synAck = one(
    peer.send(newSyn(oldRcvNxt + 10)),
    { flags: "S.", ack: oldRcvNxt + 11 },
  );
  assert.ok(seqGt(synAck.seq, oldSndNxt + 65535), `ISN ${synAck.seq} above ${oldSndNxt}`);
  assert.equal(peer.counter("syncookies_sent"), 0);
  assert.equal(peer.state(40000), "SYN-RECEIVED");
  p.listener.close();
  peer.finish();
});

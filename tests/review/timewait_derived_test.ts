/**
 * review16, risk 1: a compact TIME-WAIT record (`timewait_record.ts`) keeps
 * neither FIN's sequence number, SND.WL2, the send buffer's start nor the
 * last ACK sent: a revived endpoint derives them from SND.MAX and RCV.NXT
 * (`fitsRecord` guards the compaction). Each way into TIME-WAIT below is
 * run twice, the user's socket closed (compacted) and kept open (a full
 * endpoint, never compacted), and the same peer segments must draw the
 * same bytes: a retransmitted FIN, old data, data beyond the window, an
 * in-window RST (RFC 1337), a SYN with data, a PAWS-old ACK (RFC 7323) and
 * a SYN reusing the tuple with a newer timestamp (RFC 6191).
 *
 * Two connections go through each way: with records they share the
 * table's one timer, while full endpoints arm one each, so the test knows
 * the compact run compacted (else it would compare two full endpoints).
 */
import assert from "node:assert/strict";
import { passiveOpen, pattern, Peer, type Seg, type TcpFields } from "../tcp/_tcp.ts";
import { ms } from "../_harness.ts";

type Way = "simultaneous" | "unacked_data" | "zero_window" | "fin_and_ack_together";

/** Opens a connection on `peerPort`, closes it the way `way` says, then probes its TIME-WAIT. */
async function oneConnection(peer: Peer, peerPort: number, way: Way, keepSocket: boolean) {
  const port = 80 + peerPort - 40000;
  const p = await passiveOpen(peer, port, peerPort, {
    mss: 1460,
    sackOk: true,
    wscale: 7,
    ts: [1000, 0],
  }, 5000 + peerPort);
  const seen: Seg[][] = [];
  let tsVal = 1002;
  let lastTs = p.synAck.ts?.[0] ?? 0;
  const send = (f: Omit<TcpFields, "srcPort" | "dstPort">, after = 0, ts = tsVal++) => {
    const out = peer.send(
      { srcPort: peerPort, dstPort: port, ...f, options: { ts: [ts, lastTs] } },
      after,
    );
    seen.push(out);
    if (out.length > 0 && out.at(-1)!.ts !== undefined) lastTs = out.at(-1)!.ts![0];
    return out;
  };
  const take = () => {
    const out = peer.take();
    seen.push(out);
    if (out.length > 0 && out.at(-1)!.ts !== undefined) lastTs = out.at(-1)!.ts![0];
    return out;
  };
  const close = async () => {
    if (keepSocket) await p.conn.closeWrite();
    else p.conn.close();
  };
  let rcvNxt = p.peerNxt;
  let sndNxt = p.sndNxt;
  // 200 bytes from the peer, read by the user (a closed socket must have nothing unread).
  send({ seq: rcvNxt, ack: sndNxt, flags: "P.", payload: pattern(200) }, ms(50));
  assert.equal(await p.conn.read(new Uint8Array(200)), 200);
  rcvNxt += 200;
  if (way === "simultaneous") {
    await close();
    take(); // our FIN
    send({ seq: rcvNxt, ack: sndNxt, flags: "F." }, ms(1)); // crosses it: CLOSING, ACK
    send({ seq: rcvNxt + 1, ack: sndNxt + 1, flags: "." }, ms(1)); // our FIN acknowledged
  } else if (way === "unacked_data") {
    await p.conn.write(pattern(3000, 3));
    await close();
    take(); // data and FIN, none acknowledged
    sndNxt += 3000;
    send({ seq: rcvNxt, ack: sndNxt + 1, flags: "F." }, ms(1));
  } else if (way === "zero_window") {
    await p.conn.write(pattern(100, 5));
    take();
    sndNxt += 100;
    send({ seq: rcvNxt, ack: sndNxt, flags: ".", window: 0 }, ms(1));
    await close();
    take(); // the FIN waits for the window (or probes it): compared either way
    send({ seq: rcvNxt, ack: sndNxt, flags: ".", window: 1000 }, ms(1)); // the FIN goes
    // The peer's FIN closes the window again: TIME-WAIT with SND.WND 0.
    send({ seq: rcvNxt, ack: sndNxt + 1, flags: "F.", window: 0 }, ms(1));
  } else {
    await close();
    take();
    // The ACK of our FIN and the peer's FIN in one segment: FIN-WAIT-1 straight to TIME-WAIT.
    send({ seq: rcvNxt, ack: sndNxt + 1, flags: "F." }, ms(1));
  }
  rcvNxt += 1;
  sndNxt += 1;
  const state = peer.state(peerPort);
  peer.wait(ms(1_000));
  send({ seq: rcvNxt - 1, ack: sndNxt, flags: "F." }); // retransmitted FIN: ACK, 2×MSL again
  send({ seq: rcvNxt - 100, ack: sndNxt, flags: "P.", payload: pattern(100) }); // old data
  send({ seq: rcvNxt + 5000, ack: sndNxt, flags: "P.", payload: pattern(10) }); // beyond: ACK
  send({ seq: rcvNxt, flags: "R" }, 0); // RFC 1337: ignored
  send({ seq: rcvNxt - 500, flags: "S", payload: pattern(20) }, 0, 7); // old SYN with data: ACK
  send({ seq: rcvNxt, ack: sndNxt, flags: "." }, 0, 6); // PAWS: an old TSval
  send({ seq: rcvNxt, ack: sndNxt, flags: "S." }, ms(10));
  return { seen, state, p, rcvNxt, send };
}

async function transcript(way: Way, keepSocket: boolean) {
  const peer = new Peer({ seed: 11 });
  const a = await oneConnection(peer, 40000, way, keepSocket);
  const timersOne = peer.stack.pendingTimers;
  const b = await oneConnection(peer, 40001, way, keepSocket);
  const timersTwo = peer.stack.pendingTimers;
  // RFC 6191: a SYN above RCV.NXT with a newer timestamp reopens the tuple.
  const reuse = b.send({ seq: b.rcvNxt + 100_000, flags: "S" }, ms(1), 1_000_000);
  const counters = ["rx.time_wait_rst", "rx.out_of_window", "rx.paws", "challenge_acks"].map(
    (c) => peer.counter(c),
  );
  for (const c of [a, b]) {
    if (keepSocket) c.p.conn.close();
    c.p.listener.close();
  }
  peer.wait(ms(120_000));
  peer.finish();
  return {
    seen: [a.seen, b.seen],
    reuse,
    states: [a.state, b.state],
    counters,
    timersAdded: timersTwo - timersOne,
  };
}

for (
  const way of ["simultaneous", "unacked_data", "zero_window", "fin_and_ack_together"] as const
) {
  Deno.test(`tcp TIME-WAIT reached by ${way}: a compact record answers byte for byte as the full endpoint`, async () => {
    const compact = await transcript(way, false);
    const full = await transcript(way, true);
    assert.deepEqual(compact.states, ["TIME-WAIT", "TIME-WAIT"]);
    assert.deepEqual(full.states, ["TIME-WAIT", "TIME-WAIT"]);
    assert.equal(
      compact.timersAdded,
      0,
      "the second connection became a record (one shared timer)",
    );
    assert.equal(full.timersAdded, 1, "the kept socket's endpoint has a timer of its own");
    assert.ok(compact.reuse.some((s) => s.flags === "S."), "the tuple was reused (RFC 6191)");
    assert.deepEqual(compact.seen, full.seen);
    assert.deepEqual(compact.reuse, full.reuse);
    assert.deepEqual(compact.counters, full.counters);
  });
}

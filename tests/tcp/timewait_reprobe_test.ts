/**
 * Compact TIME-WAIT records (`stack/protocols/tcp/timewait_table.ts`) under
 * probes: a segment for a record revives a full endpoint to answer it; the
 * endpoint must become a record again afterwards, whatever its place in
 * the expiry order, or a peer sending one ACK per TIME-WAIT connection
 * turns every record back into a 2 KiB endpoint with a timer of its own
 * until 2×MSL ends. The stack's armed timers show which it is: records
 * share one.
 */
import assert from "node:assert/strict";
import { fromPeer, passiveOpen, pattern, Peer } from "./_tcp.ts";
import { ms } from "../_harness.ts";

const MSL2 = ms(60_000);

/**
 * Three connections into TIME-WAIT 100 ms apart; with `probe`, old data
 * for the `victim`th oldest (answered, 2×MSL not restarted). Returns the
 * ACK sent, the armed timers before and after the probe, and when each
 * entry ended (ms after the probe, 1 ms steps).
 */
async function probedTimeWait(probe: boolean, victim = 0) {
  const peer = new Peer({ seed: 3 });
  const conns = [];
  for (let i = 0; i < 3; i++) {
    const p = await passiveOpen(peer, 80 + i, 40000 + i);
    p.conn.close();
    assert.equal(peer.take().length, 1, "the FIN");
    peer.send(fromPeer(p, { ack: p.sndNxt + 1, flags: "F." }), ms(1));
    assert.equal(peer.state(40000 + i), "TIME-WAIT");
    p.listener.close();
    conns.push(p);
    peer.wait(ms(100));
  }
  const timers = [peer.stack.pendingTimers];
  const p = conns[victim]!;
  const answer = probe
    ? peer.send(
      fromPeer(p, { seq: p.peerNxt - 100, ack: p.sndNxt + 1, flags: "P.", payload: pattern(100) }),
    )
    : [];
  timers.push(peer.stack.pendingTimers);
  peer.wait(MSL2 - ms(1_000));
  const ends = [-1, -1, -1];
  for (let t = MSL2 / 1000 - 1_000; t < MSL2 / 1000 && ends[2] === -1; t++) {
    for (let i = 0; i < 3; i++) {
      if (ends[i] === -1 && peer.state(40000 + i) === undefined) ends[i] = t;
    }
    peer.wait(ms(1));
  }
  peer.finish();
  return { answer, timers, ends };
}

Deno.test("tcp TIME-WAIT record probed out of expiry order is compacted again and expires on time", async () => {
  const probed = await probedTimeWait(true);
  const quiet = await probedTimeWait(false);
  assert.equal(probed.answer.length, 1, "old data in TIME-WAIT is answered");
  assert.equal(probed.answer[0]!.flags, ".");
  assert.equal(
    probed.timers[1],
    probed.timers[0],
    "the probed entry is a record again (no timer of its own)",
  );
  assert.ok(
    quiet.ends[0]! > 0 && quiet.ends[0]! < quiet.ends[1]! && quiet.ends[1]! < quiet.ends[2]!,
  );
  assert.deepEqual(probed.ends, quiet.ends, "each entry still ends 2×MSL after it began");
});

Deno.test("tcp TIME-WAIT record probed in the middle of the expiry order goes back between its neighbours", async () => {
  // Revived and compacted again, it is queued after the older record and
  // before the newer one: both ends of the queue stay as they were.
  const probed = await probedTimeWait(true, 1);
  const quiet = await probedTimeWait(false);
  assert.equal(probed.answer.length, 1, "old data in TIME-WAIT is answered");
  assert.equal(probed.timers[1], probed.timers[0], "the probed entry is a record again");
  assert.ok(!probed.ends.includes(-1), "every entry ended");
  assert.deepEqual(probed.ends, quiet.ends, "each entry still ends 2×MSL after it began");
});

/**
 * `count` connections into TIME-WAIT 10 ms apart; polled every ms near the
 * end of 2×MSL. With `probe`, when 10 are left (the storage has shrunk
 * once), old data for the oldest left. Returns the answer, the armed
 * timers before and after it, and when each entry ended (ms steps).
 */
async function burstTimeWait(count: number, probe: boolean) {
  const peer = new Peer({ seed: 5 });
  const conns = [];
  for (let i = 0; i < count; i++) {
    const p = await passiveOpen(peer, 1000 + i, 40000 + i);
    p.conn.close();
    assert.equal(peer.take().length, 1, "the FIN");
    peer.send(fromPeer(p, { ack: p.sndNxt + 1, flags: "F." }), ms(1));
    p.listener.close();
    conns.push(p);
    peer.wait(ms(10));
  }
  peer.wait(MSL2 - ms(1_000));
  const ends: number[] = conns.map(() => -1);
  let answer: unknown[] = [];
  const timers: number[] = [];
  for (let t = 0; t < 2_000 && ends.includes(-1); t++) {
    const live = new Set(
      peer.stack.sockets().filter((s) => s.state === "TIME-WAIT").map((s) => s.remote),
    );
    for (let i = 0; i < count; i++) {
      if (ends[i] === -1 && !live.has(`${peer.addr}:${40000 + i}`)) ends[i] = t;
    }
    if (probe && timers.length === 0 && live.size <= 10) {
      const p = conns[count - live.size]!;
      timers.push(peer.stack.pendingTimers);
      answer = peer.send(
        fromPeer(p, { seq: p.peerNxt - 10, ack: p.sndNxt + 1, flags: "P.", payload: pattern(10) }),
      );
      answer = (answer as { flags: string; ack: number }[]).map((
        s,
      ) => [s.flags, s.ack - p.peerNxt]);
      timers.push(peer.stack.pendingTimers);
    }
    peer.wait(ms(1));
  }
  peer.finish();
  return { answer, timers, ends };
}

Deno.test("tcp TIME-WAIT records moved by the storage shrinking are still found, answer, are compacted again and expire on time", async () => {
  const probed = await burstTimeWait(40, true);
  const quiet = await burstTimeWait(40, false);
  assert.deepEqual(probed.answer, [[".", 1]], "old data answered with an ACK of the FIN");
  assert.equal(probed.timers[1], probed.timers[0], "the probed entry is a record again");
  assert.ok(!quiet.ends.includes(-1), "every entry ended");
  assert.deepEqual(probed.ends, quiet.ends);
});

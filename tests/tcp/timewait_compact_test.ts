/**
 * Compact TIME-WAIT (`stack/protocols/tcp/timewait_table.ts`): a
 * connection its user closed is kept in TIME-WAIT as a small record, not a
 * full endpoint. Nothing may change on the wire or in `ss`: the same
 * exchange is run twice, once with the user's socket closed (the record)
 * and once with it still open (a full endpoint, never compacted), and the
 * stack's answers to every probe must be the same, byte for byte. The memory
 * a TIME-WAIT entry costs is measured in a child process that can force
 * garbage collection (`_timewait_memory.ts`).
 */
import assert from "node:assert/strict";
import { runGcProbe } from "../_gc_probe.ts";
import { passiveOpen, pattern, Peer, type Seg, type TcpFields } from "./_tcp.ts";
import { ms } from "../_harness.ts";

const MSL2 = ms(60_000);

/**
 * Opens a connection with timestamps, SACK and window scaling, moves 300
 * bytes each way, lets the stack close first (closing its socket, or only
 * its sending side when `keepSocket`), and then probes the TIME-WAIT with
 * a retransmitted FIN, old data, an in-window RST, a SYN with an old TSval
 * (no reuse), a PAWS-old ACK and a SYN-ACK. Returns everything the stack sent, what `ss` showed,
 * and when the connection disappeared.
 */
async function timeWaitTranscript(keepSocket: boolean) {
  const peer = new Peer({ seed: 7 });
  const p = await passiveOpen(peer, 80, 40000, {
    mss: 1460,
    sackOk: true,
    wscale: 7,
    ts: [1000, 0],
  });
  const seen: Seg[][] = [];
  let tsVal = 1002;
  const tsOf = (segs: readonly Seg[]) => segs.at(-1)?.ts?.[0] ?? 0;
  let lastTs = tsOf([p.synAck]);
  const send = (f: Omit<TcpFields, "srcPort" | "dstPort">, after = 0, ts = tsVal++) => {
    const out = peer.send({
      srcPort: 40000,
      dstPort: 80,
      ...f,
      options: { ts: [ts, lastTs] },
    }, after);
    seen.push(out);
    if (out.length > 0) lastTs = tsOf(out);
    return out;
  };
  // 300 bytes from the peer, read by the user.
  send({ seq: p.peerNxt, ack: p.sndNxt, flags: "P.", payload: pattern(300) }, ms(50));
  const got = new Uint8Array(300);
  assert.equal(await p.conn.read(got), 300);
  // 300 bytes from the stack, acknowledged.
  await p.conn.write(pattern(300, 7));
  seen.push(peer.take());
  const rcvNxt = p.peerNxt + 300;
  const sndNxt = p.sndNxt + 300;
  send({ seq: rcvNxt, ack: sndNxt, flags: "." }, ms(10));
  if (keepSocket) await p.conn.closeWrite();
  else p.conn.close();
  seen.push(peer.take()); // the FIN
  send({ seq: rcvNxt, ack: sndNxt + 1, flags: "F." }, ms(1));
  assert.equal(peer.state(40000), "TIME-WAIT");
  const shown = [peer.stack.sockets().find((s) => s.remote === "10.0.0.2:40000")];
  peer.wait(ms(1_000));
  send({ seq: rcvNxt, ack: sndNxt + 1, flags: "F." }); // retransmitted: ACK, 2×MSL again
  send({ seq: rcvNxt - 100, ack: sndNxt + 1, flags: "P.", payload: pattern(100) }); // old data
  send({ seq: rcvNxt, flags: "R" }, 0); // RFC 1337: ignored
  send({ seq: rcvNxt - 1000, flags: "S" }, 0, 6); // not beyond the old connection: ACK
  send({ seq: rcvNxt, ack: sndNxt + 1, flags: "." }, 0, 5); // PAWS: an old TSval
  send({ seq: rcvNxt, ack: sndNxt + 1, flags: "S." }, ms(10));
  shown.push(peer.stack.sockets().find((s) => s.remote === "10.0.0.2:40000"));
  peer.wait(MSL2 - ms(11));
  const before = peer.state(40000);
  peer.wait(ms(1));
  const after = peer.state(40000);
  const counters = ["rx.time_wait_rst", "rx.out_of_window", "rx.paws", "challenge_acks"].map(
    (c) => peer.counter(c),
  );
  if (keepSocket) p.conn.close();
  p.listener.close();
  peer.finish();
  return { seen, shown, before, after, counters };
}

Deno.test("tcp TIME-WAIT closed by its user (compact record) answers every probe byte for byte as an open one", async () => {
  const compact = await timeWaitTranscript(false);
  const full = await timeWaitTranscript(true);
  assert.ok(compact.seen.flat().length >= 8, "the probes were answered");
  assert.deepEqual(compact.seen, full.seen);
  assert.deepEqual(compact.shown, full.shown);
  assert.equal(compact.shown[1]?.state, "TIME-WAIT");
  assert.deepEqual([compact.before, compact.after], ["TIME-WAIT", undefined]);
  assert.deepEqual([full.before, full.after], ["TIME-WAIT", undefined]);
  assert.deepEqual(compact.counters, full.counters);
});

Deno.test("tcp TIME-WAIT entries cost at most 1 KiB each, 128 B of it ArrayBuffers (compact records, 4,000 connections)", async () => {
  const { entries, bytesPerEntry, externalPerEntry } = await runGcProbe<
    { entries: number; bytesPerEntry: number; externalPerEntry: number }
  >(new URL("./_timewait_memory.ts", import.meta.url), "2000");
  assert.equal(entries, 4000, "both ends of every connection hold TIME-WAIT");
  // The records are typed-array rows (112 B with their hash, chain and
  // queue words, 4,096 rows for 4,000 records, plus two 4-B hash buckets
  // per row): the probe must see them, and no more than that.
  assert.ok(externalPerEntry > 100, `implausibly small: ${externalPerEntry} B of ArrayBuffers`);
  assert.ok(externalPerEntry <= 128, `${externalPerEntry} B of ArrayBuffers per TIME-WAIT entry`);
  assert.ok(bytesPerEntry <= 1024, `${bytesPerEntry} B per TIME-WAIT entry`);
});

/**
 * Loss recovery, segment by segment: the retransmission timer (RFC 6298:
 * backoff, give-up with TimedOut, go-back to SND.UNA with a one-segment
 * window), fast retransmit and NewReno partial ACKs (RFC 5681, RFC 6582),
 * SACK-based recovery retransmitting only the holes (RFC 6675), and
 * keepalive (RFC 1122 §4.2.3.6).
 */
import assert from "node:assert/strict";
import { activeOpen, one, pattern, Peer, show } from "./_tcp.ts";
import { makeLink, ms } from "../_harness.ts";

Deno.test("tcp ESTABLISHED + no ACKs → retransmissions at 0.2, 0.6, 1.4 s, then TimedOut", async () => {
  const peer = new Peer({ plugins: { tcp: { maxRetries: 3 } } });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  await c.conn.write(pattern(500));
  one(peer.take(), { len: 500 });
  const times: number[] = [];
  const start = peer.host.net.now();
  for (let i = 0; i < 40 && peer.state(80) !== undefined; i++) {
    for (const s of peer.wait(ms(100))) {
      assert.equal(s.seq, c.sndNxt, show([s]));
      times.push(peer.host.net.now() - start);
    }
  }
  assert.deepEqual(times, [ms(200), ms(600), ms(1400)]);
  assert.equal(peer.state(80), undefined); // gave up at 3 s
  await assert.rejects(() => c.conn.read(new Uint8Array(1)), Deno.errors.TimedOut);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp RTO: go back to SND.UNA with a one-segment window, then slow start", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  await c.conn.write(pattern(8000));
  assert.equal(peer.take().length, 8);
  // Nothing is acknowledged: one segment after the RTO.
  one(peer.wait(ms(200)), { seq: c.sndNxt, len: 1000 });
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.cwnd, 1);
  // Its ACK brings two more (slow start from one).
  const out = peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt + 1000,
    flags: ".",
  });
  assert.deepEqual(out.map((s) => (s.seq - c.sndNxt) >>> 0), [1000, 2000], show(out));
  c.conn.close();
  peer.finish();
});

Deno.test("tcp three duplicate ACKs → fast retransmit; partial ACK → next hole (NewReno)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 }); // no SACK
  await c.conn.write(pattern(10_000));
  assert.equal(peer.take().length, 10);
  const ack = (n: number) => ({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt + n,
    flags: ".",
  });
  // Segments 1 and 4 (of 0..9) were lost: the peer acknowledges 1000 and then repeats it.
  peer.send(ack(1000));
  assert.deepEqual(peer.send(ack(1000)), []);
  assert.deepEqual(peer.send(ack(1000)).length, 0);
  const fr = peer.send(ack(1000));
  assert.equal(fr[0]!.seq, (c.sndNxt + 1000) >>> 0, show(fr)); // the fast retransmit
  assert.equal(peer.counter("fast_retransmits"), 1);
  // A partial ACK (up to the second hole): that hole goes out at once.
  const part = peer.send(ack(4000));
  assert.equal(part[0]!.seq, (c.sndNxt + 4000) >>> 0, show(part));
  // The full ACK ends recovery.
  peer.send(ack(10_000));
  const info = peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!;
  assert.ok(info.ssthresh !== undefined);
  assert.equal(peer.counter("timeouts"), 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp SACK: lost holes first, then new data, then holes not yet judged lost (RFC 6675)", async () => {
  // RFC 6675's rules: RACK off (with RACK, this zero-RTT peer's first SACK
  // already marks the hole lost: a reordering window of min_RTT/4 = 0).
  const peer = new Peer({ plugins: { tcp: { rack: false } } });
  const c = await activeOpen(peer, 80, { mss: 1000, sackOk: true });
  await c.conn.write(pattern(20_000));
  assert.equal(peer.take().length, 10); // the initial window
  const s = c.sndNxt;
  const sackAck = (blocks: [number, number][]) => ({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: s + 1000,
    flags: ".",
    options: { sack: blocks.map(([l, r]) => [(s + l) >>> 0, (s + r) >>> 0] as const) },
  });
  const rel = (segs: { seq: number }[]) => segs.map((x) => (x.seq - s) >>> 0);
  // Segment 0 arrived; 1 and 4 were lost; SACKs report the rest as it arrives.
  const first = peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: s + 1000,
    flags: ".",
  });
  assert.deepEqual(rel(first), [10_000, 11_000]); // slow start
  assert.deepEqual(rel(peer.send(sackAck([[2000, 3000]]))), [12_000]); // limited transmit
  assert.deepEqual(rel(peer.send(sackAck([[2000, 4000]]))), [13_000]);
  // More than 2·SMSS SACKed above 1000: it is lost (IsLost); 4000 is not yet.
  const rec = rel(peer.send(sackAck([[2000, 4000], [5000, 6000]])));
  assert.equal(rec[0], 1000, `sent ${rec}`); // the hole first…
  assert.ok(rec.slice(1).every((x) => x >= 14_000), `sent ${rec}`); // …then new data only
  assert.equal(peer.counter("sack_recoveries"), 1);
  // More SACKed above 4000: now it is lost too, and goes before new data.
  const more = rel(peer.send(sackAck([[2000, 4000], [5000, 9000]])));
  assert.equal(more[0], 4000, `sent ${more}`);
  assert.equal(more.filter((x) => x < 10_000).length, 1, `sent ${more}`);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp keepalive: probes after the idle time, answered probes keep the connection", async () => {
  const peer = new Peer({
    plugins: { tcp: { keepaliveIdleMs: 10_000, keepaliveIntervalMs: 1000, keepaliveProbes: 3 } },
  });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  c.conn.setKeepAlive(true);
  assert.deepEqual(peer.wait(ms(9999)), []);
  const probe = one(peer.wait(ms(1)), { flags: ".", seq: c.sndNxt - 1, len: 0 });
  void probe;
  // Answer it: the idle timer starts again.
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt, flags: "." });
  assert.deepEqual(peer.wait(ms(9999)), []);
  one(peer.wait(ms(1)), { seq: c.sndNxt - 1 });
  // Unanswered: two more probes a second apart, then TimedOut.
  assert.equal(peer.wait(ms(1000)).length, 1);
  assert.equal(peer.wait(ms(1000)).length, 1);
  peer.wait(ms(1000));
  assert.equal(peer.state(80), undefined);
  await assert.rejects(() => c.conn.read(new Uint8Array(1)), Deno.errors.TimedOut);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp RTT estimate follows the path: RTO = SRTT + 4·RTTVAR, at least 200 ms", async () => {
  const env = makeLink({ seed: 2, faults: { delay: ms(150) } });
  await env.run(() => env.a.ping("10.0.0.2")); // resolve ARP first: every sample is 300 ms
  const l = env.b.listen({ port: 80 });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()])
  );
  await env.run(async () => {
    for (let i = 0; i < 5; i++) {
      await c.write(pattern(100));
      await s.read(new Uint8Array(100));
      await s.write(pattern(10));
      await c.read(new Uint8Array(10));
    }
  });
  const info = env.a.sockets().find((x) => x.remote === "10.0.0.2:80")!;
  assert.ok(Math.abs(info.rtt! - 300) < 5, `srtt ${info.rtt}`);
  assert.ok(info.rto! >= 300 && info.rto! < 700, `rto ${info.rto}`);
  c.close();
  s.close();
  l.close();
  env.finish();
});

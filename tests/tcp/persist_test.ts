/**
 * Zero-window probing (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17) must not look
 * like loss: a probe sends the octet at SND.UNA with SND.NXT left there (BSD),
 * so the transfer resumes at SND.UNA when the window opens (no 1-byte hole),
 * and the peer's answers to probes are not duplicate ACKs (no fast
 * retransmit, no cut of cwnd, no RTO to fill a hole). Regression tests for a
 * stall of one RTO after every zero-window period.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { activeOpen, one, pattern, Peer } from "./_tcp.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";

async function readExactly(conn: TcpConn, n: number): Promise<void> {
  const buf = new Uint8Array(65536);
  let got = 0;
  while (got < n) {
    const r = await conn.read(buf.subarray(0, Math.min(buf.length, n - got)));
    if (r === null) throw new Error(`end of stream after ${got} of ${n} bytes`);
    got += r;
  }
}

Deno.test("tcp ESTABLISHED + zero window, reader resumes → transfer resumes without fast retransmit or RTO", async () => {
  const env = makeLink({ seed: 21, faults: { delay: ms(1) }, capture: true });
  const l = env.b.listen({ port: 19 });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 19 }), l.accept()])
  );
  l.close();
  // b writes without end; a reads 100 kB, pauses 5 s (zero window, persist
  // probes with backoff), then reads 500 kB more.
  const chunk = pattern(65536);
  let stop = false;
  const writer = (async () => {
    while (!stop) await s.write(chunk);
  })().catch(() => {});
  await env.run(() => readExactly(c, 100_000));
  await env.run(() => new Promise<void>((r) => env.net.at(env.net.now() + ms(5_000), r)));
  const counter = (name: string) => env.b.counters.get(name).value;
  assert.ok(counter("tcp.zero_window_probes") >= 3, `${counter("tcp.zero_window_probes")} probes`);
  assert.equal(counter("tcp.fast_retransmits"), 0, "probe answers are not duplicate ACKs");
  const t0 = env.net.now();
  await env.run(() => readExactly(c, 500_000));
  const took = env.net.now() - t0;
  assert.equal(counter("tcp.timeouts"), 0, "no RTO on a lossless link");
  assert.equal(counter("tcp.fast_retransmits"), 0);
  assert.ok(took < ms(100), `500 kB over a 1 ms link took ${took / 1000} ms of virtual time`);
  stop = true;
  c.close();
  s.close();
  env.runFor(ms(1_000));
  await env.run(() => writer);
  // No hole ("previous segment not captured") and no duplicate ACKs; the
  // window-full, zero-window and probe notes are what this exchange is.
  await assertTsharkClean(env.capture!.bytes(), {
    allowWarnings: [
      /^TCP window specified by the receiver is now completely full/,
      /^TCP Zero ?Window/i,
      /^TCP (Zero ?Window ?Probe|ZeroWindowProbe)/i,
      /^Connection reset \(RST\)/,
    ],
  });
  env.finish();
});

Deno.test("tcp ESTABLISHED + zero window: the probe leaves SND.NXT at SND.UNA; answers are not dup ACKs; the window update resends from SND.UNA", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const base = { srcPort: 80, dstPort: c.port, seq: c.peerNxt, flags: "." };
  peer.send({ ...base, ack: c.sndNxt, window: 0 });
  await c.conn.write(pattern(3000));
  assert.deepEqual(peer.take(), []);
  // Four probes, each answered with the window still closed: the same octet
  // each time, and never a fast retransmit (3 would be a dup-ACK threshold).
  let wait = ms(200);
  for (let i = 0; i < 4; i++) {
    one(peer.wait(wait), { len: 1, seq: c.sndNxt });
    assert.deepEqual(peer.send({ ...base, ack: c.sndNxt, window: 0 }), []);
    wait *= 2;
  }
  assert.equal(peer.counter("fast_retransmits"), 0);
  assert.equal(peer.counter("zero_window_probes"), 4);
  // The receiver dropped the probe octet; its window update resends from SND.UNA.
  const out = peer.send({ ...base, ack: c.sndNxt, window: 65535 });
  assert.deepEqual(out.map((s) => [s.seq - c.sndNxt, s.payload.length]), [
    [0, 1000],
    [1000, 1000],
    [2000, 1000],
  ]);
  assert.deepEqual(out[0]!.payload, pattern(1000));
  // The retransmission timer is a fresh RTO, not the probes' backed-off one:
  // unacknowledged, the first segment is resent 200 ms later.
  assert.deepEqual(peer.wait(ms(199)), []);
  one(peer.wait(ms(1)), { seq: c.sndNxt, len: 1000 });
  c.conn.close();
  peer.finish();
});

/**
 * Blind in-window attacks (RFC 5961) and a peer that ignores our window,
 * segment by segment: blind RSTs and SYNs across the sequence space, data
 * with an ACK outside `[SND.UNA − MAX.SND.WND, SND.NXT]` (§5.2), data past
 * `RCV.NXT + RCV.WND` (dropped with an ACK, never buffered), and a peer
 * scattering out-of-order bytes (the reassembly ranges stay bounded).
 */
import assert from "node:assert/strict";
import { activeOpen, one, pattern, Peer, show, text } from "./_tcp.ts";
import { xorshift32 } from "../_harness.ts";

Deno.test("tcp ESTABLISHED + blind RSTs across the sequence space → only RCV.NXT resets; in-window ones are challenged, others ignored", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer); // the stack advertises 65535 (no scaling)
  const wnd = 65535;
  const offsets = [1, 2, 1000, wnd - 1, wnd, wnd + 1, 1 << 20, 2 ** 31 - 1, 2 ** 31, -1, -1000];
  let challenged = 0;
  for (const d of offsets) {
    const out = peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt + d, flags: "R" });
    if (d > 0 && d < wnd) {
      one(out, { flags: ".", seq: c.sndNxt, ack: c.peerNxt });
      challenged++;
    } else assert.deepEqual(out, [], `offset ${d}: ${show(out)}`);
    assert.equal(peer.state(80), "ESTABLISHED", `offset ${d}`);
  }
  assert.equal(peer.counter("rx.rst_challenged"), challenged);
  assert.equal(peer.counter("rx.out_of_window"), offsets.length - challenged);
  // RST+ACK with a random ACK field changes nothing either.
  const r = xorshift32(7);
  for (let i = 0; i < 100; i++) {
    peer.send({
      srcPort: 80,
      dstPort: c.port,
      seq: c.peerNxt + 1 + (r() % 60000),
      ack: r(),
      flags: "R.",
    });
  }
  assert.equal(peer.state(80), "ESTABLISHED");
  // The exact one resets.
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, flags: "R" });
  assert.equal(peer.state(80), undefined);
  await assert.rejects(() => c.conn.read(new Uint8Array(1)), Deno.errors.ConnectionReset);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + 1000 blind SYNs at random sequence numbers → challenge ACKs up to the limit, connection kept", async () => {
  const peer = new Peer({ plugins: { tcp: { challengeAckLimit: 100 } } });
  const c = await activeOpen(peer);
  const r = xorshift32(11);
  let acks = 0;
  for (let i = 0; i < 1000; i++) {
    const out = peer.send({ srcPort: 80, dstPort: c.port, seq: r(), flags: "S" });
    for (const s of out) {
      assert.equal(s.flags, ".", show(out));
      assert.equal(s.seq, c.sndNxt);
      assert.equal(s.ack, c.peerNxt);
    }
    acks += out.length;
  }
  assert.equal(acks, 100);
  assert.equal(peer.counter("rx.syn_challenged"), 1000);
  assert.equal(peer.counter("challenge_acks_limited"), 900);
  assert.equal(peer.state(80), "ESTABLISHED");
  // Still usable.
  peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt,
    flags: "P.",
    payload: text("ok"),
  });
  const buf = new Uint8Array(4);
  assert.equal(await c.conn.read(buf), 2);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + in-window data with ACK outside [SND.UNA − MAX.SND.WND, SND.NXT] → challenge ACK, data dropped (RFC 5961 §5.2)", async () => {
  const peer = new Peer({ plugins: { tcp: { challengeAckLimit: 3 } } });
  const c = await activeOpen(peer); // the peer's window: 65535, unscaled
  const maxSndWnd = 65535;
  const tooOld = c.sndNxt - maxSndWnd - 1;
  const base = { srcPort: 80, dstPort: c.port, seq: c.peerNxt, flags: "P.", payload: text("evil") };
  one(peer.send({ ...base, ack: tooOld }), { flags: ".", seq: c.sndNxt, ack: c.peerNxt });
  assert.equal(peer.counter("rx.ack_too_old"), 1);
  assert.equal(peer.counter("challenge_acks"), 1);
  // A blind injector guessing the ACK field: further tries are rate-limited.
  let acks = 0;
  for (let i = 1; i <= 10; i++) acks += peer.send({ ...base, ack: tooOld - i * 100_000 }).length;
  assert.equal(acks, 2);
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.recvQ, 0);
  // So is one beyond SND.NXT (data we never sent), under the same limit.
  for (let i = 1; i <= 10; i++) acks += peer.send({ ...base, ack: c.sndNxt + i * 100_000 }).length;
  assert.equal(acks, 2);
  assert.equal(peer.counter("rx.ack_unsent"), 10);
  peer.wait(1_000_000); // a new second of challenge ACKs
  one(peer.send({ ...base, ack: c.sndNxt + 1 }), { flags: ".", seq: c.sndNxt, ack: c.peerNxt });
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.recvQ, 0);
  // The edges of the acceptable range are accepted.
  peer.send({ ...base, ack: c.sndNxt - maxSndWnd, payload: text("ab") });
  peer.send({ ...base, seq: c.peerNxt + 2, ack: c.sndNxt, payload: text("cd") });
  const buf = new Uint8Array(8);
  assert.equal(await c.conn.read(buf), 4);
  assert.deepEqual(buf.subarray(0, 4), text("abcd"));
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + data past RCV.NXT + RCV.WND → dropped with an ACK, never buffered; the straddling part is trimmed", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const wnd = 65535; // what the stack advertised (no window scaling here)
  const seg = (off: number, len: number) => ({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt + off,
    ack: c.sndNxt,
    flags: ".",
    payload: pattern(len, off),
  });
  // 10,000 segments entirely past the right edge, at random offsets: each
  // is answered with an ACK for RCV.NXT and the window, none is kept.
  const r = xorshift32(3);
  for (let i = 0; i < 10_000; i++) {
    const off = wnd + (r() % (2 ** 31 - wnd - 1000));
    one(peer.send(seg(off, 1000)), { flags: ".", ack: c.peerNxt, window: wnd });
  }
  assert.equal(peer.counter("rx.out_of_window"), 10_000);
  const info = peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!;
  assert.equal(info.recvQ, 0);
  assert.equal(info.rcvWnd, wnd);
  assert.equal(peer.stack.pool.outstanding, 0, "no packet buffer held");
  // A segment straddling the right edge: the part inside is kept (and
  // SACKed), the part outside dropped.
  const edge = one(peer.send(seg(wnd - 100, 1000)), { flags: ".", ack: c.peerNxt });
  assert.deepEqual(edge.sack, [], "no SACK (not negotiated)");
  // Fill the hole below; exactly the window's worth of bytes can be read.
  for (let off = 0; off < wnd - 100; off += 1000) {
    peer.send(seg(off, Math.min(1000, wnd - 100 - off)));
  }
  const got = new Uint8Array(2 * wnd);
  let n = 0;
  while (n < wnd) n += (await c.conn.read(got.subarray(n)))!;
  assert.equal(n, wnd);
  assert.deepEqual(got.subarray(0, wnd), pattern(wnd));
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.recvQ, 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + thousands of scattered one-byte segments → at most reassemblyRanges kept, the rest dropped", async () => {
  const peer = new Peer({ plugins: { tcp: { reassemblyRanges: 32 } } });
  const c = await activeOpen(peer, 80, { mss: 1000, sackOk: true });
  for (let i = 1; i <= 5000; i++) {
    peer.send({
      srcPort: 80,
      dstPort: c.port,
      seq: c.peerNxt + 2 * i,
      ack: c.sndNxt,
      flags: ".",
      payload: pattern(1, 2 * i),
    });
  }
  assert.equal(peer.counter("rx.ooo_dropped"), 5000 - 32);
  // The last ACK reports (some of) the 32 ranges kept: 2..3, 4..5, …
  const out = peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt + 2 * 5001,
    ack: c.sndNxt,
    flags: ".",
    payload: pattern(1),
  });
  const last = one(out, { flags: ".", ack: c.peerNxt });
  assert.ok(last.sack.length >= 1 && last.sack.length <= 4, show(out));
  for (const [l, rr] of last.sack) assert.equal((rr - l) >>> 0, 1);
  // Filling the first hole delivers the bytes the first 32 ranges hold.
  peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt,
    flags: ".",
    payload: pattern(2),
  });
  peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt + 3,
    ack: c.sndNxt,
    flags: ".",
    payload: pattern(1, 3),
  });
  const buf = new Uint8Array(16);
  assert.equal(await c.conn.read(buf), 5); // 0..4: the hole, range 2..3, the byte at 3, range 4..5
  c.conn.close();
  peer.finish();
});

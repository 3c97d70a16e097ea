/**
 * Data transfer, segment by segment against the stack: in-order and
 * out-of-order delivery with reassembly and SACK blocks (RFC 2018), delayed
 * and quick ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2), Nagle and TCP_NODELAY,
 * MSS segmentation, the receive window closing and re-opening (window
 * update), zero-window probes (persist), and back-pressure on write().
 */
import assert from "node:assert/strict";
import { activeOpen, expectSeg, one, passiveOpen, pattern, Peer, show, text } from "./_tcp.ts";
import { ms } from "../_harness.ts";

async function readN(conn: { read(p: Uint8Array): Promise<number | null> }, n: number) {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) break;
    got += r;
  }
  return out.subarray(0, got);
}

Deno.test("tcp ESTABLISHED: write() goes out in MSS-sized segments with PSH on the last", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  assert.equal(await c.conn.write(pattern(2500)), 2500);
  const out = peer.take();
  assert.deepEqual(out.map((s) => [s.flags, s.payload.length]), [
    [".", 1000],
    [".", 1000],
    ["P.", 500],
  ]);
  assert.deepEqual(out[1]!.payload, pattern(1000, 1000));
  assert.equal(out[2]!.seq, (c.sndNxt + 2000) >>> 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp quick ACKs after the handshake, then one ACK per two full segments", async () => {
  const peer = new Peer({ plugins: { tcp: { quickAcks: 2 } } });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt, flags: "." };
  const acks: number[] = [];
  for (let i = 0; i < 6; i++) {
    const out = peer.send({ ...base, seq: c.peerNxt + 1000 * i, payload: pattern(1000) });
    acks.push(out.length);
  }
  // Two quick ACKs, then every second segment.
  assert.deepEqual(acks, [1, 1, 0, 1, 0, 1]);
  await readN(c.conn, 6000);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp a lone segment is acknowledged by the 40 ms delayed-ACK timer", async () => {
  const peer = new Peer({ plugins: { tcp: { quickAcks: 0 } } });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const out = peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt,
    flags: "P.",
    payload: text("ping"),
  });
  assert.deepEqual(out, []);
  assert.deepEqual(peer.wait(ms(39)), []);
  one(peer.wait(ms(1)), { flags: ".", ack: c.peerNxt + 4 });
  c.conn.close();
  peer.finish();
});

Deno.test("tcp a reply piggybacks the pending ACK", async () => {
  const peer = new Peer({ plugins: { tcp: { quickAcks: 0 } } });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt,
    flags: "P.",
    payload: text("ping"),
  });
  await readN(c.conn, 4);
  await c.conn.write(text("pong"));
  one(peer.take(), { flags: "P.", ack: c.peerNxt + 4, len: 4 });
  assert.deepEqual(peer.wait(ms(100)), []); // no separate delayed ACK
  c.conn.close();
  peer.finish();
});

Deno.test("tcp out-of-order segments are kept, SACKed, and reassembled when the hole fills", async () => {
  const peer = new Peer();
  const p = await passiveOpen(peer, 80, 40000, { mss: 1000, sackOk: true });
  const base = { srcPort: 40000, dstPort: 80, ack: p.sndNxt, flags: "." };
  const s = p.peerNxt;
  const data = pattern(4000);
  // Segments 2 and 4 arrive first: immediate duplicate ACKs with SACK blocks.
  let d = one(peer.send({ ...base, seq: s + 1000, payload: data.subarray(1000, 2000) }), {
    ack: s,
  });
  assert.deepEqual(d.sack, [[s + 1000, s + 2000]]);
  d = one(peer.send({ ...base, seq: s + 3000, payload: data.subarray(3000, 4000) }), { ack: s });
  assert.deepEqual(d.sack, [[s + 3000, s + 4000], [s + 1000, s + 2000]]); // most recent first
  // A duplicate of an out-of-order segment changes nothing.
  d = one(peer.send({ ...base, seq: s + 1000, payload: data.subarray(1000, 2000) }), { ack: s });
  // The first hole fills: ACK up to the next hole at once.
  d = one(peer.send({ ...base, seq: s, payload: data.subarray(0, 1000) }), { ack: s + 2000 });
  assert.deepEqual(d.sack, [[s + 3000, s + 4000]]);
  d = one(peer.send({ ...base, seq: s + 2000, payload: data.subarray(2000, 3000) }), {
    ack: s + 4000,
  });
  assert.deepEqual(d.sack, []);
  assert.deepEqual(await readN(p.conn, 4000), data);
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp overlapping retransmissions are trimmed, not duplicated", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt, flags: "P." };
  const data = pattern(300);
  peer.send({ ...base, seq: c.peerNxt, payload: data.subarray(0, 200) });
  // Overlaps the first 100 bytes already received.
  peer.send({ ...base, seq: c.peerNxt + 100, payload: data.subarray(100, 300) });
  assert.deepEqual(await readN(c.conn, 300), data);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp Nagle: a small write waits while data is unacknowledged; setNoDelay sends at once", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  await c.conn.write(text("a"));
  one(peer.take(), { len: 1 });
  await c.conn.write(text("b"));
  assert.deepEqual(peer.take(), []); // "a" is outstanding
  one(peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 1, flags: "." }), {
    len: 1,
    seq: c.sndNxt + 1,
  });
  c.conn.setNoDelay(true);
  await c.conn.write(text("c"));
  await c.conn.write(text("d"));
  assert.deepEqual(peer.take().map((s) => s.payload.length), [1, 1]);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp the peer's window limits what is sent; an ACK opening it releases more", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  // Shrink the window to 1500 with an ACK.
  peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt,
    flags: ".",
    window: 1500,
  });
  await c.conn.write(pattern(5000));
  const first = peer.take();
  // 500 more would fit, but a short segment that is not the end of the data
  // waits (sender SWS avoidance: below half the largest window seen).
  assert.deepEqual(first.map((s) => s.payload.length), [1000], show(first));
  const out = peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt + 1000,
    flags: ".",
    window: 3000,
  });
  assert.deepEqual(out.map((s) => s.payload.length), [1000, 1000, 1000]);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp zero window: persist probes with backoff until the window opens", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const base = { srcPort: 80, dstPort: c.port, seq: c.peerNxt, flags: "." };
  peer.send({ ...base, ack: c.sndNxt, window: 0 });
  await c.conn.write(pattern(3000));
  assert.deepEqual(peer.take(), []);
  // The first probe after one RTO (200 ms: the minimum, the RTT here is 0).
  assert.deepEqual(peer.wait(ms(199)), []);
  one(peer.wait(ms(1)), { len: 1, seq: c.sndNxt });
  peer.send({ ...base, ack: c.sndNxt, window: 0 }); // still closed
  assert.deepEqual(peer.wait(ms(399)), []);
  one(peer.wait(ms(1)), { len: 1, seq: c.sndNxt }); // backed off to 400 ms
  peer.send({ ...base, ack: c.sndNxt, window: 0 });
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.timer, "persist");
  // The window opens and the probe byte is taken: the rest flows.
  const out = peer.send({ ...base, ack: c.sndNxt + 1, window: 65535 });
  assert.deepEqual(out.map((s) => s.payload.length), [1000, 1000, 999]);
  assert.equal(out[0]!.seq, c.sndNxt + 1);
  assert.ok(peer.counter("zero_window_probes") >= 2);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp receive window closes when the reader stalls, and a window update reopens it", async () => {
  const peer = new Peer({ plugins: { tcp: { receiveBuffer: 4000, windowScaling: false } } });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt, flags: "." };
  let last;
  for (let i = 0; i < 4; i++) {
    last = peer.send({ ...base, seq: c.peerNxt + 1000 * i, payload: pattern(1000, i) }).at(-1) ??
      last;
  }
  expectSeg(last!, { ack: c.peerNxt + 4000, window: 0 });
  // Data beyond the window is refused with an ACK.
  one(peer.send({ ...base, seq: c.peerNxt + 4000, payload: pattern(10) }), {
    ack: c.peerNxt + 4000,
    window: 0,
  });
  // Reading frees the buffer: a window update goes out.
  const got = await readN(c.conn, 4000);
  assert.equal(got.length, 4000);
  const upd = peer.take();
  assert.equal(upd.length, 1, show(upd));
  expectSeg(upd[0]!, { flags: ".", ack: c.peerNxt + 4000, window: 4000 });
  c.conn.close();
  peer.finish();
});

Deno.test("tcp write() waits while the send buffer is full (back-pressure)", async () => {
  const peer = new Peer({ plugins: { tcp: { sendBuffer: 4000 } } });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const base = { srcPort: 80, dstPort: c.port, seq: c.peerNxt, flags: "." };
  peer.send({ ...base, ack: c.sndNxt, window: 0 });
  assert.equal(await c.conn.write(pattern(10_000)), 4000);
  let done = false;
  const pending = c.conn.write(pattern(100)).then((n) => {
    done = true;
    return n;
  });
  await peer.settle();
  assert.ok(!done);
  // The peer takes 2000 bytes: the writer gets room.
  peer.send({ ...base, ack: c.sndNxt, window: 2000 });
  peer.send({ ...base, ack: c.sndNxt + 2000, window: 0 });
  assert.equal(await pending, 100);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp readable/writable streams: BYOB read, pipe, and end of stream", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const w = c.conn.writable.getWriter();
  await w.write(text("stream!"));
  one(peer.take(), { len: 7 });
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt + 7 };
  peer.send({ ...base, seq: c.peerNxt, flags: "P.", payload: text("abcdef") });
  peer.send({ ...base, seq: c.peerNxt + 6, flags: "F." });
  const reader = c.conn.readable.getReader({ mode: "byob" });
  const r1 = await reader.read(new Uint8Array(4));
  assert.equal(new TextDecoder().decode(r1.value), "abcd");
  const r2 = await reader.read(new Uint8Array(4));
  assert.equal(new TextDecoder().decode(r2.value), "ef");
  const r3 = await reader.read(new Uint8Array(4));
  assert.ok(r3.done);
  await w.close(); // FIN
  one(peer.take(), { flags: "F." });
  c.conn.close();
  peer.finish();
});

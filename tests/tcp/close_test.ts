/**
 * Closing (RFC 9293 §3.6, §3.10.4, §3.10.7.4 "eighth"): active and passive
 * close, simultaneous close through CLOSING, half-close, TIME-WAIT for 2×MSL
 * and its restart, FIN out of order, the orphan FIN-WAIT-2 timeout, and
 * close() with unread data or linger 0 sending RST.
 */
import assert from "node:assert/strict";
import { activeOpen, one, passiveOpen, pattern, Peer, show, text } from "./_tcp.ts";
import { makeLink, ms } from "../_harness.ts";

const MSL2 = ms(60_000);

Deno.test("tcp ESTABLISHED + closeWrite() → FIN-WAIT-1 → (ACK) FIN-WAIT-2 → (FIN) TIME-WAIT", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  await c.conn.closeWrite();
  one(peer.take(), { flags: "F.", seq: c.sndNxt, ack: c.peerNxt });
  assert.equal(peer.state(80), "FIN-WAIT-1");
  const base = { srcPort: 80, dstPort: c.port, seq: c.peerNxt };
  assert.deepEqual(peer.send({ ...base, ack: c.sndNxt + 1, flags: "." }), []);
  assert.equal(peer.state(80), "FIN-WAIT-2");
  one(peer.send({ ...base, ack: c.sndNxt + 1, flags: "F." }), {
    flags: ".",
    seq: c.sndNxt + 1,
    ack: c.peerNxt + 1,
  });
  assert.equal(peer.state(80), "TIME-WAIT");
  assert.equal(await c.conn.read(new Uint8Array(4)), null);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp TIME-WAIT ends after 2×MSL (60 s)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  c.conn.close();
  one(peer.take(), { flags: "F." });
  const base = { srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 1 };
  peer.send({ ...base, flags: "F." });
  assert.equal(peer.state(80), "TIME-WAIT");
  peer.wait(MSL2 - 1);
  assert.equal(peer.state(80), "TIME-WAIT");
  peer.wait(1);
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp TIME-WAIT + retransmitted FIN → ACK, and 2×MSL starts again", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  c.conn.close();
  peer.take();
  const fin = { srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 1, flags: "F." };
  peer.send(fin);
  peer.wait(ms(30_000));
  one(peer.send(fin), { flags: ".", ack: c.peerNxt + 1 });
  peer.wait(MSL2 - 1);
  assert.equal(peer.state(80), "TIME-WAIT");
  peer.wait(1);
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp TIME-WAIT + RST → ignored (RFC 1337)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  c.conn.close();
  peer.take();
  const base = { srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 1 };
  peer.send({ ...base, flags: "F." });
  assert.deepEqual(peer.send({ ...base, seq: c.peerNxt + 1, flags: "R" }), []);
  assert.equal(peer.state(80), "TIME-WAIT");
  assert.equal(peer.counter("rx.time_wait_rst"), 1);
  peer.finish();
});

Deno.test("tcp TIME-WAIT + new SYN with a higher sequence number → reopened by the listener", async () => {
  const peer = new Peer();
  const p = await passiveOpen(peer, 80, 40000);
  // The stack closes first, so it holds TIME-WAIT.
  p.conn.close();
  one(peer.take(), { flags: "F." });
  const base = { srcPort: 40000, dstPort: 80, seq: p.peerNxt, ack: p.sndNxt + 1 };
  peer.send({ ...base, flags: "F." });
  assert.equal(peer.state(40000), "TIME-WAIT");
  one(peer.send({ srcPort: 40000, dstPort: 80, seq: p.peerNxt + 100_000, flags: "S" }), {
    flags: "S.",
    ack: p.peerNxt + 100_001,
  });
  assert.equal(peer.state(40000), "SYN-RECEIVED");
  p.listener.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + FIN → CLOSE-WAIT, ACK, read() ends; close() → LAST-ACK → CLOSED", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt };
  one(peer.send({ ...base, seq: c.peerNxt, flags: "F." }), { flags: ".", ack: c.peerNxt + 1 });
  assert.equal(peer.state(80), "CLOSE-WAIT");
  assert.equal(await c.conn.read(new Uint8Array(8)), null);
  c.conn.close();
  one(peer.take(), { flags: "F.", seq: c.sndNxt });
  assert.equal(peer.state(80), "LAST-ACK");
  assert.deepEqual(
    peer.send({ ...base, seq: c.peerNxt + 1, ack: c.sndNxt + 1, flags: "." }),
    [],
  );
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp CLOSE-WAIT + retransmitted FIN → ACK each time, not rate-limited like a bare ACK", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  const fin = { srcPort: 80, dstPort: c.port, ack: c.sndNxt, seq: c.peerNxt, flags: "F." };
  one(peer.send(fin), { flags: ".", ack: c.peerNxt + 1 });
  // Our ACKs were lost: each retransmission of the FIN must be answered
  // (a FIN occupies sequence space, so it cannot start an ACK loop; Linux
  // rate-limits only segments that occupy none).
  for (let i = 0; i < 3; i++) {
    one(peer.send(fin, ms(10)), { flags: ".", seq: c.sndNxt, ack: c.peerNxt + 1 });
  }
  assert.equal(peer.state(80), "CLOSE-WAIT");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp CLOSE-WAIT: data still goes out (half-close by the peer)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt, flags: "F." });
  await c.conn.write(text("late reply"));
  one(peer.take(), { flags: "P.", seq: c.sndNxt, len: 10 });
  c.conn.close();
  peer.finish();
});

Deno.test("tcp FIN-WAIT-1 + FIN (simultaneous close) → CLOSING; + ACK → TIME-WAIT", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  await c.conn.closeWrite();
  one(peer.take(), { flags: "F." });
  const base = { srcPort: 80, dstPort: c.port, seq: c.peerNxt };
  // The peer's FIN crossed ours: it does not acknowledge our FIN yet.
  one(peer.send({ ...base, ack: c.sndNxt, flags: "F." }), { flags: ".", ack: c.peerNxt + 1 });
  assert.equal(peer.state(80), "CLOSING");
  peer.send({ ...base, seq: c.peerNxt + 1, ack: c.sndNxt + 1, flags: "." });
  assert.equal(peer.state(80), "TIME-WAIT");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp FIN-WAIT-1 + FIN acknowledging our FIN → TIME-WAIT directly", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  await c.conn.closeWrite();
  peer.take();
  one(peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 1, flags: "F." }), {
    flags: ".",
  });
  assert.equal(peer.state(80), "TIME-WAIT");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp simultaneous close between two stacks: both through CLOSING to TIME-WAIT", async () => {
  const env = makeLink({ seed: 4, faults: { delay: ms(10) } });
  const l = env.b.listen({ port: 80 });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()])
  );
  await Promise.all([c.closeWrite(), s.closeWrite()]); // both FINs leave at the same instant
  env.runFor(ms(15));
  assert.equal(env.a.sockets().find((x) => x.remote === "10.0.0.2:80")?.state, "CLOSING");
  env.runFor(ms(10));
  assert.equal(env.a.sockets().find((x) => x.remote === "10.0.0.2:80")?.state, "TIME-WAIT");
  assert.equal(env.b.sockets().find((x) => x.local === "10.0.0.2:80")?.state, "TIME-WAIT");
  c.close();
  s.close();
  l.close();
  env.finish();
});

Deno.test("tcp half-close: after closeWrite() the peer's data still arrives", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  await c.conn.closeWrite();
  peer.take();
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt + 1 };
  peer.send({ ...base, seq: c.peerNxt, flags: "P.", payload: text("still here") });
  const buf = new Uint8Array(32);
  const n = await c.conn.read(buf);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "still here");
  await assert.rejects(() => c.conn.write(text("x")), Deno.errors.BrokenPipe);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp FIN that arrives before the data preceding it waits for that data", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt };
  const late = peer.send({ ...base, seq: c.peerNxt + 5, flags: "F.", payload: text("world") });
  one(late, { flags: ".", ack: c.peerNxt }); // duplicate ACK: a hole
  assert.equal(peer.state(80), "ESTABLISHED");
  one(peer.send({ ...base, seq: c.peerNxt, flags: "P.", payload: text("hello") }), {
    ack: c.peerNxt + 11,
  });
  assert.equal(peer.state(80), "CLOSE-WAIT");
  const buf = new Uint8Array(32);
  let got = "";
  for (;;) {
    const n = await c.conn.read(buf);
    if (n === null) break;
    got += new TextDecoder().decode(buf.subarray(0, n));
  }
  assert.equal(got, "helloworld");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + FIN without data past a hole → immediate duplicate ACK; the FIN waits for the hole", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt };
  // RFC 5681 §4.2: an out-of-order segment, a bare FIN included, gets an
  // immediate duplicate ACK (a lost data segment before a FIN is then
  // repaired by fast retransmit, not only by the peer's RTO).
  one(peer.send({ ...base, seq: c.peerNxt + 5, flags: "F." }), {
    flags: ".",
    ack: c.peerNxt,
  });
  assert.equal(peer.state(80), "ESTABLISHED");
  one(peer.send({ ...base, seq: c.peerNxt, flags: "P.", payload: text("hello") }), {
    flags: ".",
    ack: c.peerNxt + 6,
  });
  assert.equal(peer.state(80), "CLOSE-WAIT");
  const buf = new Uint8Array(16);
  assert.equal(await c.conn.read(buf), 5);
  assert.equal(await c.conn.read(buf), null);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp FIN-WAIT-2 after close() ends after finTimeout with RST", async () => {
  const peer = new Peer({ plugins: { tcp: { finTimeoutMs: 5000 } } });
  const c = await activeOpen(peer);
  c.conn.close();
  peer.take();
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 1, flags: "." });
  assert.equal(peer.state(80), "FIN-WAIT-2");
  one(peer.wait(ms(5000)), { flags: "R." });
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp close() with unread data → RST instead of FIN (RFC 2525 §2.17)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt,
    flags: "P.",
    payload: pattern(10),
  });
  peer.take();
  c.conn.close();
  one(peer.take(), { flags: "R.", seq: c.sndNxt });
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp setLinger(0) + close() → RST, queued data discarded", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1460 });
  c.conn.setLinger(0);
  c.conn.close();
  one(peer.take(), { flags: "R." });
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp FIN-WAIT-2 after close() + new data → RST (nobody can read it)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  c.conn.close();
  peer.take();
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt + 1 };
  peer.send({ ...base, seq: c.peerNxt, flags: "." });
  const out = peer.send({ ...base, seq: c.peerNxt, flags: "P.", payload: text("hey") });
  one(out, { flags: "R." });
  assert.equal(peer.counter("rx.data_after_close"), 1);
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp LAST-ACK + no ACK → FIN retransmitted, then given up", async () => {
  const peer = new Peer({ plugins: { tcp: { maxRetries: 2 } } });
  const c = await activeOpen(peer);
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt, flags: "F." });
  c.conn.close();
  one(peer.take(), { flags: "F." });
  const fins = [];
  for (let i = 0; i < 20 && peer.state(80) !== undefined; i++) fins.push(...peer.wait(ms(1000)));
  assert.deepEqual(fins.map((s) => s.flags), ["F.", "F."], show(fins));
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

/**
 * Resets and robustness (RFC 9293 §3.10.7.4 first/second/fourth/fifth,
 * RFC 5961, RFC 7323 PAWS): RST in each state, challenge ACKs and their rate
 * limit, unacceptable segments, ACKs of unsent data, PAWS.
 */
import assert from "node:assert/strict";
import { activeOpen, one, passiveOpen, Peer, text } from "./_tcp.ts";

Deno.test("tcp ESTABLISHED + RST at RCV.NXT → ConnectionReset, socket gone", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  assert.deepEqual(peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, flags: "R" }), []);
  assert.equal(peer.state(80), undefined);
  await assert.rejects(() => c.conn.read(new Uint8Array(1)), Deno.errors.ConnectionReset);
  await assert.rejects(() => c.conn.write(text("x")), Deno.errors.ConnectionReset);
  assert.equal(peer.counter("estab_resets"), 1);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + RST in the window but not at RCV.NXT → challenge ACK (RFC 5961 §3.2)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  one(peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt + 100, flags: "R" }), {
    flags: ".",
    seq: c.sndNxt,
    ack: c.peerNxt,
  });
  assert.equal(peer.state(80), "ESTABLISHED");
  assert.equal(peer.counter("challenge_acks"), 1);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + RST outside the window → dropped without an answer", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  assert.deepEqual(
    peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt + 10_000_000, flags: "R" }),
    [],
  );
  assert.deepEqual(peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt - 1, flags: "R" }), []);
  assert.equal(peer.state(80), "ESTABLISHED");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + SYN → challenge ACK, connection kept (RFC 5961 §4.2)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  for (const seq of [c.peerNxt, c.peerNxt + 5, c.peerNxt - 1000]) {
    // In the window or not, the same challenge ACK.
    one(peer.send({ srcPort: 80, dstPort: c.port, seq, flags: "S" }), {
      flags: ".",
      seq: c.sndNxt,
      ack: c.peerNxt,
    });
  }
  assert.equal(peer.state(80), "ESTABLISHED");
  assert.equal(peer.counter("rx.syn_challenged"), 3);
  assert.equal(peer.counter("challenge_acks"), 3);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp challenge ACKs are rate-limited per second (RFC 5961 §7)", async () => {
  const peer = new Peer({ plugins: { tcp: { challengeAckLimit: 2 } } });
  const c = await activeOpen(peer);
  let acks = 0;
  for (let i = 1; i <= 5; i++) {
    acks += peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt + i, flags: "R" }).length;
  }
  assert.equal(acks, 2);
  assert.equal(peer.counter("challenge_acks_limited"), 3);
  peer.wait(1_000_000);
  assert.equal(
    peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt + 9, flags: "R" }).length,
    1,
  );
  c.conn.close();
  peer.finish();
});

for (
  const [name, setup] of [
    ["FIN-WAIT-1", async (p: Peer, c: Awaited<ReturnType<typeof activeOpen>>) => {
      await c.conn.closeWrite();
      p.take();
    }],
    ["FIN-WAIT-2", async (p: Peer, c: Awaited<ReturnType<typeof activeOpen>>) => {
      await c.conn.closeWrite();
      p.take();
      p.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 1, flags: "." });
    }],
    ["CLOSE-WAIT", (p: Peer, c: Awaited<ReturnType<typeof activeOpen>>) => {
      p.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt, flags: "F." });
      return Promise.resolve();
    }],
  ] as const
) {
  Deno.test(`tcp ${name} + RST → ConnectionReset`, async () => {
    const peer = new Peer();
    const c = await activeOpen(peer);
    await setup(peer, c);
    assert.equal(peer.state(80), name);
    const seq = name === "CLOSE-WAIT" ? c.peerNxt + 1 : c.peerNxt;
    peer.send({ srcPort: 80, dstPort: c.port, seq, flags: "R" });
    assert.equal(peer.state(80), undefined);
    await assert.rejects(() => c.conn.write(text("x")));
    c.conn.close();
    peer.finish();
  });
}

Deno.test("tcp CLOSING + RST → closed", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  await c.conn.closeWrite();
  peer.take();
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt, flags: "F." });
  assert.equal(peer.state(80), "CLOSING");
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt + 1, flags: "R" });
  assert.equal(peer.state(80), undefined);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp LAST-ACK + RST → closed", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt, flags: "F." });
  c.conn.close();
  peer.take();
  assert.equal(peer.state(80), "LAST-ACK");
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt + 1, flags: "R" });
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp SYN-RECEIVED (passive) + RST → half-open connection removed, listener stays", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  one(peer.send({ srcPort: 9, dstPort: 80, seq: 70, flags: "S" }), { flags: "S." });
  assert.equal(peer.state(9), "SYN-RECEIVED");
  peer.send({ srcPort: 9, dstPort: 80, seq: 71, flags: "R" });
  assert.equal(peer.state(9), undefined);
  assert.deepEqual(peer.stack.sockets().map((s) => s.state), ["LISTEN"]);
  l.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + ACK of data never sent → ACK, segment dropped", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  one(
    peer.send({
      srcPort: 80,
      dstPort: c.port,
      seq: c.peerNxt,
      ack: c.sndNxt + 500,
      flags: "P.",
      payload: text("data"),
    }),
    { flags: ".", ack: c.peerNxt },
  );
  assert.equal(peer.counter("rx.ack_unsent"), 1);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + old duplicate data → ACK, not delivered again", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  const seg = {
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt,
    flags: "P.",
    payload: text("once"),
  };
  peer.send(seg, 100_000);
  one(peer.send(seg), { flags: ".", ack: c.peerNxt + 4 });
  const buf = new Uint8Array(16);
  assert.equal(await c.conn.read(buf), 4);
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.recvQ, 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + segment without ACK bit → dropped", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, flags: "P", payload: text("x") });
  assert.equal(peer.counter("rx.no_ack"), 1);
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.recvQ, 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + older timestamp (PAWS) → ACK, dropped; no timestamp → dropped", async () => {
  const peer = new Peer();
  const p = await passiveOpen(peer, 80, 40000, { mss: 1460, ts: [1000, 0] });
  const tsEcr = p.synAck.ts![0];
  const base = { srcPort: 40000, dstPort: 80, seq: p.peerNxt, ack: p.sndNxt, flags: "P." };
  peer.send({ ...base, payload: text("ab"), options: { ts: [2000, tsEcr] } });
  peer.wait(100_000);
  // A segment with TSval 1500 < TS.Recent 2000 is an old duplicate.
  one(
    peer.send({ ...base, seq: p.peerNxt + 2, payload: text("cd"), options: { ts: [1500, tsEcr] } }),
    {
      flags: ".",
      ack: p.peerNxt + 2,
    },
  );
  assert.equal(peer.counter("rx.paws"), 1);
  // RFC 7323 §3.2: timestamps were negotiated, so one without is dropped.
  assert.deepEqual(peer.send({ ...base, seq: p.peerNxt + 2, payload: text("cd") }), []);
  assert.equal(peer.counter("rx.no_timestamp"), 1);
  const buf = new Uint8Array(8);
  assert.equal(await p.conn.read(buf), 2);
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp listener close() resets connections not yet accepted", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  const sa = one(peer.send({ srcPort: 9, dstPort: 80, seq: 70, flags: "S" }), { flags: "S." });
  peer.send({ srcPort: 9, dstPort: 80, seq: 71, ack: sa.seq + 1, flags: "." });
  one(peer.send({ srcPort: 10, dstPort: 80, seq: 70, flags: "S" }), { flags: "S." });
  l.close();
  const out = peer.take();
  assert.deepEqual(out.map((s) => s.flags), ["R.", "R."]);
  assert.deepEqual(peer.stack.sockets(), []);
  peer.finish();
});

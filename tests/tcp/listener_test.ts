/**
 * Listener queues (Linux semantics): the SYN queue is bounded and answered
 * with SYN cookies when full; a full accept queue drops new SYNs and the
 * final ACK of a handshake (the SYN-ACK is retransmitted until there is
 * room); accept() and async iteration; per-connection congestion control.
 */
import assert from "node:assert/strict";
import { one, Peer, show, text } from "./_tcp.ts";
import { makeLink, ms } from "../_harness.ts";

Deno.test("tcp LISTEN + SYN while the SYN queue is full → SYN cookie; its ACK → ESTABLISHED", async () => {
  const peer = new Peer({ plugins: { tcp: { synBacklog: 2 } } });
  const l = peer.stack.listen({ port: 80 });
  one(peer.send({ srcPort: 1, dstPort: 80, seq: 10, flags: "S" }), { flags: "S." });
  one(peer.send({ srcPort: 2, dstPort: 80, seq: 10, flags: "S" }), { flags: "S." });
  // The third is answered without state.
  const sa = one(
    peer.send({
      srcPort: 3,
      dstPort: 80,
      seq: 500,
      flags: "S",
      options: { mss: 1460, sackOk: true, ts: [111, 0], wscale: 7 },
    }),
    { flags: "S.", ack: 501 },
  );
  assert.equal(peer.counter("syncookies_sent"), 1);
  assert.equal(peer.state(3), undefined); // no state kept
  assert.equal(sa.mss, 1460);
  assert.ok(sa.sackOk && sa.ts !== undefined && sa.wscale === 7);
  // The ACK carries the cookie back, and data with it.
  const out = peer.send({
    srcPort: 3,
    dstPort: 80,
    seq: 501,
    ack: sa.seq + 1,
    flags: "P.",
    payload: text("GET /"),
    options: { ts: [112, sa.ts![0]] },
  });
  assert.equal(peer.counter("syncookies_recv"), 1);
  assert.equal(peer.state(3), "ESTABLISHED");
  assert.ok(out.length <= 1, show(out));
  const conn = await l.accept();
  assert.equal(conn.remoteAddr.port, 3);
  const buf = new Uint8Array(16);
  assert.equal(new TextDecoder().decode(buf.subarray(0, (await conn.read(buf))!)), "GET /");
  const info = peer.stack.sockets().find((s) => s.remote === "10.0.0.2:3")!;
  assert.equal(info.wscale, "7,7"); // recovered from the timestamp
  assert.ok(info.sack && info.ts);
  conn.close();
  l.close();
  peer.finish();
});

Deno.test("tcp SYN cookie + timestamps: the rebuilt connection's TSvals continue the SYN-ACK's (peer PAWS), 64 server seeds", async () => {
  // Regression (#16 item 4): the cookie SYN-ACK carried the bare clock and the
  // connection rebuilt from it added its per-connection offset, so for about
  // half of the keys every later TSval was "older" than the SYN-ACK's and the
  // peer's PAWS dropped them all.
  const bad: string[] = [];
  for (let seed = 1; seed <= 64; seed++) {
    const peer = new Peer({ seed, plugins: { tcp: { synBacklog: 1 } } });
    const l = peer.stack.listen({ port: 80 });
    peer.send({ srcPort: 1, dstPort: 80, seq: 10, flags: "S" }); // fills the SYN queue
    peer.wait(ms(1000 + seed)); // a clock that is not 0 (nor a multiple of 64 ms)
    const opts = { mss: 1460, sackOk: true, ts: [111, 0] as const, wscale: 7 };
    const sa = one(peer.send({ srcPort: 3, dstPort: 80, seq: 500, flags: "S", options: opts }), {
      flags: "S.",
    });
    assert.equal(peer.counter("syncookies_sent"), 1);
    peer.send({
      srcPort: 3,
      dstPort: 80,
      seq: 501,
      ack: sa.seq + 1,
      flags: ".",
      options: { ts: [112, sa.ts![0]] },
    });
    assert.equal(peer.state(3), "ESTABLISHED");
    const conn = await l.accept();
    await conn.write(text("hello"));
    const data = one(peer.take(), { flags: "P." });
    // RFC 7323 §5.3: the peer drops a segment whose TSval is before TS.Recent (the SYN-ACK's).
    const ahead = (data.ts![0] - sa.ts![0]) | 0;
    if (ahead < 0 || ahead > 64) {
      bad.push(`seed ${seed}: SYN-ACK TSval ${sa.ts![0]}, then ${data.ts![0]}`);
    }
    conn.close();
    l.close();
    peer.finish();
  }
  assert.deepEqual(bad, []);
});

Deno.test("tcp LISTEN + ACK with a forged cookie → RST, no state", () => {
  const peer = new Peer({ plugins: { tcp: { synBacklog: 1 } } });
  const l = peer.stack.listen({ port: 80 });
  peer.send({ srcPort: 1, dstPort: 80, seq: 10, flags: "S" });
  const sa = one(peer.send({ srcPort: 2, dstPort: 80, seq: 10, flags: "S" }), { flags: "S." });
  one(peer.send({ srcPort: 2, dstPort: 80, seq: 11, ack: sa.seq + 0x5a5a5a, flags: "." }), {
    flags: "R",
  });
  assert.equal(peer.counter("rx.bad_cookie"), 1);
  assert.equal(peer.state(2), undefined);
  l.close();
  peer.finish();
});

Deno.test("tcp SYN cookies off and the SYN queue full → SYN dropped", () => {
  const peer = new Peer({ plugins: { tcp: { synBacklog: 1, syncookies: false } } });
  const l = peer.stack.listen({ port: 80 });
  peer.send({ srcPort: 1, dstPort: 80, seq: 10, flags: "S" });
  assert.deepEqual(peer.send({ srcPort: 2, dstPort: 80, seq: 10, flags: "S" }), []);
  assert.equal(peer.counter("rx.syn_queue_full"), 1);
  l.close();
  peer.finish();
});

Deno.test("tcp accept queue full → new SYNs dropped; the final ACK dropped until there is room", async () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80, backlog: 1 });
  const complete = (port: number) => {
    const sa = one(peer.send({ srcPort: port, dstPort: 80, seq: 10, flags: "S" }), {
      flags: "S.",
    });
    return { sa, ack: { srcPort: port, dstPort: 80, seq: 11, ack: sa.seq + 1, flags: "." } };
  };
  const first = complete(1);
  const second = complete(2); // half-open while the queue still has room
  peer.send(first.ack); // fills the accept queue
  assert.equal(peer.state(1), "ESTABLISHED");
  // The second handshake's ACK finds the queue full: dropped, still SYN-RECEIVED.
  assert.deepEqual(peer.send(second.ack), []);
  assert.equal(peer.state(2), "SYN-RECEIVED");
  assert.equal(peer.counter("rx.accept_queue_full"), 1);
  // And a new SYN is dropped outright (Linux ListenOverflows).
  assert.deepEqual(peer.send({ srcPort: 3, dstPort: 80, seq: 10, flags: "S" }), []);
  assert.equal(peer.counter("rx.listen_overflow"), 1);
  // accept() makes room; the SYN-ACK retransmission prompts the ACK again.
  const c1 = await l.accept();
  one(peer.wait(ms(1000)), { flags: "S.", seq: second.sa.seq });
  peer.send(second.ack);
  assert.equal(peer.state(2), "ESTABLISHED");
  const c2 = await l.accept();
  assert.equal(c2.remoteAddr.port, 2);
  c1.close();
  c2.close();
  l.close();
  peer.finish();
});

Deno.test("tcp listener async iteration yields connections until closed", async () => {
  const env = makeLink({ seed: 8, faults: { delay: ms(1) } });
  const l = env.b.listen({ port: 7 });
  const ports: number[] = [];
  await env.run(async () => {
    const server = (async () => {
      for await (const conn of l) {
        ports.push(conn.remoteAddr.port);
        conn.close();
        if (ports.length === 3) l.close();
      }
    })();
    for (let i = 0; i < 3; i++) {
      const c = await env.a.connect({ hostname: "10.0.0.2", port: 7 });
      c.close();
    }
    await server;
  });
  assert.equal(ports.length, 3);
  await assert.rejects(() => l.accept(), Deno.errors.BadResource);
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp congestion control is chosen per connection (cubic default, newreno on request)", async () => {
  const env = makeLink({ seed: 9, faults: { delay: ms(1) } });
  const l = env.b.listen({ port: 7 });
  await env.run(async () => {
    const a = await env.a.connect({ hostname: "10.0.0.2", port: 7 });
    const b = await env.a.connect({ hostname: "10.0.0.2", port: 7, congestionControl: "newreno" });
    const s1 = await l.accept();
    const s2 = await l.accept();
    const mine = env.a.sockets().filter((s) => s.state === "ESTABLISHED");
    assert.deepEqual(mine.map((s) => s.cc).sort(), ["cubic", "newreno"]);
    for (const c of [a, b, s1, s2]) c.close();
  });
  await assert.rejects(
    () => env.a.connect({ hostname: "10.0.0.2", port: 7, congestionControl: "vegas" }),
    TypeError,
  );
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});

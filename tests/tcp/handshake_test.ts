/**
 * Opening connections (RFC 9293 §3.5, §3.10.7.2-3): active and passive
 * opens, option negotiation (RFC 7323, RFC 2018), simultaneous open,
 * refusal, SYN retransmission and time-out, RFC 6528 ISNs, and the rule
 * that no state is created by anything but a valid SYN.
 */
import assert from "node:assert/strict";
import { activeOpen, one, passiveOpen, Peer, show, track } from "./_tcp.ts";
import { makeLink, ms } from "../_harness.ts";

Deno.test("tcp CLOSED + connect() → SYN with MSS from the route, SACK, TS, wscale", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80 }));
  const syn = one(peer.take(), { flags: "S", ack: 0 });
  assert.equal(syn.mss, 1460);
  assert.ok(syn.sackOk);
  assert.ok(syn.ts !== undefined && syn.ts[1] === 0);
  assert.equal(syn.wscale, 7); // the 6 MiB receiveBufferMax needs a shift of 7 (Linux: tcp_rmem[2])
  assert.deepEqual(syn.optionKinds, [2, 4, 8, 1, 3]); // Linux's layout
  assert.ok(syn.dontFragment);
  assert.ok(syn.srcPort >= 49152);
  assert.equal(peer.state(80), "SYN-SENT");
  peer.finish();
  await t.done;
  assert.ok(t.error instanceof Deno.errors.Interrupted);
});

Deno.test("tcp SYN-SENT + SYN-ACK → ESTABLISHED, ACK, connect() resolves", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1000, sackOk: true, wscale: 7, ts: [77, 0] });
  assert.equal(peer.state(80), "ESTABLISHED");
  assert.equal(c.conn.remoteAddr.port, 80);
  assert.equal(c.conn.localAddr.hostname, "10.0.0.1");
  const info = peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!;
  assert.equal(info.mss, 1000 - 12); // the peer's MSS minus the timestamps option
  assert.equal(info.wscale, "7,7");
  assert.ok(info.ts && info.sack);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp SYN-SENT + SYN-ACK without options → no TS, SACK or scaling, MSS 536 default", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, {});
  const info = peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!;
  assert.equal(info.mss, 536);
  assert.equal(info.wscale, "0,0");
  assert.ok(!info.ts && !info.sack);
  // Unscaled window: at most 65535.
  const out = peer.send({
    srcPort: 80,
    dstPort: c.port,
    seq: c.peerNxt,
    ack: c.sndNxt,
    flags: "P.",
    payload: new Uint8Array(10),
  }, ms(50));
  assert.ok(out.length >= 1 && out[0]!.window === 65535, show(out));
  assert.ok(out[0]!.ts === undefined);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp LISTEN + SYN → SYN-ACK with matching options; ACK → ESTABLISHED, accept()", async () => {
  const peer = new Peer();
  const p = await passiveOpen(peer, 80, 40000, {
    mss: 1400,
    sackOk: true,
    ts: [5, 0],
    wscale: 10,
  });
  assert.equal(p.synAck.mss, 1460);
  assert.ok(p.synAck.sackOk);
  assert.deepEqual(p.synAck.ts?.[1], 5);
  assert.equal(p.synAck.wscale, 7);
  assert.equal(p.conn.remoteAddr.port, 40000);
  assert.equal(peer.state(40000), "ESTABLISHED");
  assert.equal(peer.counter("passive_opens"), 1);
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp LISTEN + SYN without options → SYN-ACK with MSS only", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  const sa = one(peer.send({ srcPort: 1234, dstPort: 80, seq: 9, flags: "S" }), { flags: "S." });
  assert.deepEqual(sa.optionKinds, [2]);
  assert.equal(sa.window, 65535);
  l.close();
  peer.finish();
});

Deno.test("tcp CLOSED + SYN to a port nobody listens on → RST+ACK, no state", () => {
  const peer = new Peer();
  one(peer.send({ srcPort: 1234, dstPort: 81, seq: 100, flags: "S" }), {
    flags: "R.",
    seq: 0,
    ack: 101,
  });
  assert.deepEqual(peer.stack.sockets(), []);
  assert.equal(peer.counter("rx.no_socket"), 1);
  peer.finish();
});

Deno.test("tcp CLOSED + ACK → RST with SEQ = SEG.ACK; CLOSED + RST → nothing", () => {
  const peer = new Peer();
  one(peer.send({ srcPort: 1234, dstPort: 81, seq: 100, ack: 777, flags: "." }), {
    flags: "R",
    seq: 777,
  });
  assert.deepEqual(peer.send({ srcPort: 1234, dstPort: 81, seq: 100, flags: "R" }), []);
  peer.finish();
});

Deno.test("tcp LISTEN + ACK → RST, and no connection is created", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  one(peer.send({ srcPort: 1234, dstPort: 80, seq: 1, ack: 4242, flags: "." }), {
    flags: "R",
    seq: 4242,
  });
  assert.deepEqual(peer.stack.sockets().map((s) => s.state), ["LISTEN"]);
  l.close();
  peer.finish();
});

Deno.test("tcp LISTEN + RST, FIN, SYN+FIN or no flags → dropped, no state", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  for (const flags of ["R", "F", "SF", "", "P", "U"]) {
    assert.deepEqual(peer.send({ srcPort: 1234, dstPort: 80, seq: 1, flags }), [], flags);
  }
  assert.deepEqual(peer.stack.sockets().map((s) => s.state), ["LISTEN"]);
  assert.equal(peer.counter("rx.syn_fin"), 1);
  assert.equal(peer.counter("rx.rst_to_listener"), 1);
  l.close();
  peer.finish();
});

Deno.test("tcp LISTEN + SYN with a bad checksum → dropped, counted", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  assert.deepEqual(
    peer.send({ srcPort: 1, dstPort: 80, seq: 1, flags: "S", checksum: 0x1234 }),
    [],
  );
  assert.equal(peer.counter("rx.bad_checksum"), 1);
  assert.deepEqual(peer.stack.sockets().map((s) => s.state), ["LISTEN"]);
  l.close();
  peer.finish();
});

Deno.test("tcp SYN-RECEIVED + retransmitted SYN → the SYN-ACK again", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  const a = one(peer.send({ srcPort: 7, dstPort: 80, seq: 50, flags: "S" }), { flags: "S." });
  const b = one(peer.send({ srcPort: 7, dstPort: 80, seq: 50, flags: "S" }), { flags: "S." });
  assert.equal(a.seq, b.seq);
  assert.equal(peer.state(7), "SYN-RECEIVED");
  l.close();
  peer.finish();
});

Deno.test("tcp SYN-RECEIVED + ACK below ISS → RST, stays SYN-RECEIVED", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  const sa = one(peer.send({ srcPort: 7, dstPort: 80, seq: 50, flags: "S" }), { flags: "S." });
  one(peer.send({ srcPort: 7, dstPort: 80, seq: 51, ack: sa.seq, flags: "." }), {
    flags: "R",
    seq: sa.seq,
  });
  assert.equal(peer.state(7), "SYN-RECEIVED");
  assert.equal(peer.counter("rx.bad_ack"), 1);
  l.close();
  peer.finish();
});

Deno.test("tcp SYN-RECEIVED + no answer → SYN-ACK retransmitted with backoff, then dropped", () => {
  const peer = new Peer({ plugins: { tcp: { synAckRetries: 2 } } });
  const l = peer.stack.listen({ port: 80 });
  one(peer.send({ srcPort: 7, dstPort: 80, seq: 50, flags: "S" }), { flags: "S." });
  assert.equal(peer.wait(ms(999)).length, 0);
  one(peer.wait(ms(1)), { flags: "S." }); // RTO 1 s
  assert.equal(peer.wait(ms(1999)).length, 0);
  one(peer.wait(ms(1)), { flags: "S." }); // then 2 s
  peer.wait(ms(4000));
  assert.equal(peer.state(7), undefined);
  l.close();
  peer.finish();
});

Deno.test("tcp SYN-SENT + RST with an acceptable ACK → connect() rejects ConnectionRefused", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80 }));
  const syn = one(peer.take(), { flags: "S" });
  peer.send({ srcPort: 80, dstPort: syn.srcPort, seq: 0, ack: syn.seq + 1, flags: "R." });
  await t.done;
  assert.ok(t.error instanceof Deno.errors.ConnectionRefused, String(t.error));
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp SYN-SENT + RST without ACK → ignored", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80 }));
  const syn = one(peer.take(), { flags: "S" });
  assert.deepEqual(peer.send({ srcPort: 80, dstPort: syn.srcPort, seq: 0, flags: "R" }), []);
  await peer.settle();
  assert.ok(!t.settled);
  assert.equal(peer.state(80), "SYN-SENT");
  peer.finish();
  await t.done;
});

Deno.test("tcp SYN-SENT + ACK of something not sent → RST with SEQ = SEG.ACK", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80 }));
  const syn = one(peer.take(), { flags: "S" });
  one(peer.send({ srcPort: 80, dstPort: syn.srcPort, seq: 9, ack: syn.seq + 5, flags: "S." }), {
    flags: "R",
    seq: syn.seq + 5,
  });
  assert.equal(peer.state(80), "SYN-SENT");
  peer.finish();
  await t.done;
});

Deno.test("tcp SYN-SENT + SYN (simultaneous open) → SYN-RECEIVED, SYN-ACK; + ACK → ESTABLISHED", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80, localPort: 5555 }));
  const syn = one(peer.take(), { flags: "S" });
  const sa = one(
    peer.send({ srcPort: 80, dstPort: 5555, seq: 300, flags: "S", options: { mss: 1460 } }),
    { flags: "S.", seq: syn.seq, ack: 301 },
  );
  assert.equal(peer.state(80), "SYN-RECEIVED");
  // The peer's SYN-ACK acknowledges our SYN.
  const out = peer.send({ srcPort: 80, dstPort: 5555, seq: 300, ack: sa.seq + 1, flags: "S." });
  await t.done;
  assert.ok(t.value !== undefined, String(t.error));
  assert.equal(peer.state(80), "ESTABLISHED");
  assert.ok(out.length <= 1, show(out));
  t.value!.close();
  peer.finish();
});

Deno.test("tcp SYN-SENT + no answer → SYNs at 1, 3, 7 s, then TimedOut at 15 s", async () => {
  const peer = new Peer({ plugins: { tcp: { synRetries: 3 } } });
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80 }));
  const first = one(peer.take(), { flags: "S" });
  const times: number[] = [];
  for (let i = 0; i < 40 && !t.settled; i++) {
    const out = peer.wait(ms(500));
    for (const s of out) {
      assert.equal(s.seq, first.seq);
      times.push(peer.host.net.now());
    }
    await peer.settle();
  }
  assert.deepEqual(times, [ms(1000), ms(3000), ms(7000)]);
  assert.ok(t.error instanceof Deno.errors.TimedOut, String(t.error));
  assert.equal(peer.host.net.now(), ms(15000));
  assert.equal(peer.counter("attempt_fails"), 1);
  peer.finish();
});

Deno.test("tcp connect() with a timeout option rejects TimedOut at that time", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80, timeout: 2500 }));
  peer.wait(ms(2499));
  await peer.settle();
  assert.ok(!t.settled);
  peer.wait(ms(1));
  await t.done;
  assert.ok(t.error instanceof Deno.errors.TimedOut);
  peer.finish();
});

Deno.test("tcp ISNs differ per 4-tuple and advance with the 4 µs clock (RFC 6528)", () => {
  const peer = new Peer();
  const starts: number[] = [];
  for (const port of [1001, 1002]) {
    const t = track(peer.stack.connect({ hostname: "10.0.0.2", port, localPort: 6000 }));
    starts.push(one(peer.take(), { flags: "S" }).seq);
    void t;
  }
  assert.notEqual(starts[0], starts[1]);
  peer.finish();
});

Deno.test("tcp ephemeral ports are spread (RFC 6056) and never reuse a live 4-tuple", async () => {
  const peer = new Peer();
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80 }));
    ports.add(one(peer.take(), { flags: "S" }).srcPort);
    void t;
  }
  assert.equal(ports.size, 20);
  assert.ok([...ports].every((p) => p >= 49152 && p <= 65535));
  peer.finish();
  await peer.settle();
});

Deno.test("tcp connect() errors: bad host, unreachable network, local port in use", async () => {
  const peer = new Peer();
  await assert.rejects(
    () => peer.stack.connect({ hostname: "example.com", port: 80 }),
    TypeError,
  );
  await assert.rejects(
    () => peer.stack.connect({ hostname: "192.168.9.9", port: 80 }),
    Deno.errors.NetworkUnreachable,
  );
  const l = peer.stack.listen({ port: 7000 });
  await assert.rejects(
    () => peer.stack.connect({ hostname: "10.0.0.2", port: 80, localPort: 7000 }),
    Deno.errors.AddrInUse,
  );
  assert.throws(() => peer.stack.listen({ port: 7000 }), Deno.errors.AddrInUse);
  assert.throws(
    () => peer.stack.listen({ hostname: "10.0.0.1", port: 7000 }),
    Deno.errors.AddrInUse,
  );
  l.close();
  peer.finish();
});

Deno.test("tcp two stacks: connect, accept, and both see each other's addresses", async () => {
  const env = makeLink({ seed: 3, faults: { delay: ms(5) } });
  const l = env.b.listen({ port: 443 });
  const [c, s] = await env.run(() =>
    Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 443 }),
      l.accept(),
    ])
  );
  assert.deepEqual(c.remoteAddr, { transport: "tcp", hostname: "10.0.0.2", port: 443 });
  assert.deepEqual(s.remoteAddr, c.localAddr);
  c.close();
  s.close();
  l.close();
  env.finish();
});

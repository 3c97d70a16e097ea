/**
 * ECN (RFC 3168 §6.1) segment by segment, the test playing the peer:
 * negotiation on SYN / SYN-ACK (accepted by default, requested per
 * connection or by the `ecn` option), ECT(0) on new data only, CE echoed
 * with ECE until CWR, and the sender's one reduction per window with CWR on
 * the next new data.
 */
import assert from "node:assert/strict";
import { ipv4Packet, ms, track } from "../_harness.ts";
import {
  fromPeer,
  one,
  parseSegsWith,
  passiveOpen,
  Peer,
  type Seg,
  show,
  tcpSegment,
  text,
} from "./_tcp.ts";
import type { TcpFields } from "./_tcp.ts";

/** A segment the stack sent, with the ECN field of its IP header. */
interface EcnSeg extends Seg {
  readonly ecn: number;
}

function withEcn(frames: Uint8Array[]): EcnSeg[] {
  return parseSegsWith(frames, (f) => ({ ecn: f[1]! & 3 }));
}

/** Injects `f` from the peer with IP ECN field `ecn`; returns what the stack sent. */
function sendEcn(peer: Peer, f: TcpFields, ecn: number, after = 0): EcnSeg[] {
  const bytes = ipv4Packet(
    { src: peer.addr, dst: peer.stackAddr, protocol: 6, tos: ecn },
    tcpSegment(f, peer.addr, peer.stackAddr),
  );
  return withEcn(peer.host.inject(bytes, after));
}

function takeEcn(peer: Peer): EcnSeg[] {
  return withEcn(peer.takeFrames());
}

/** The peer's ECN-setup SYN (ECE+CWR) to port 80. */
const ECN_SYN: TcpFields = {
  srcPort: 40000,
  dstPort: 80,
  seq: 1,
  flags: "SEW",
  options: { mss: 1460 },
};

/** The peer's answer (port 80, ISS 1000, MSS 1460) with `flags` to the stack's `syn`. */
function answer(syn: Seg, flags: string): TcpFields {
  return {
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: 1000,
    ack: syn.seq + 1,
    flags,
    options: { mss: 1460 },
  };
}

Deno.test("tcp LISTEN + SYN with ECE and CWR → SYN-ACK with ECE (ECN accepted by default, tcp_ecn=2)", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  const out = sendEcn(peer, ECN_SYN, 0);
  const synAck = one(out, { flags: "S.E", ack: 2 });
  assert.equal((out[0] as EcnSeg).ecn, 0, "a SYN-ACK is never ECT (§6.1.1)");
  assert.ok(synAck);
  l.close();
  peer.finish();
});

Deno.test("tcp LISTEN + SYN with ECE alone → SYN-ACK without ECE (not an ECN setup SYN)", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  one(peer.send({ ...ECN_SYN, flags: "SE" }), { flags: "S." });
  l.close();
  peer.finish();
});

Deno.test("tcp LISTEN with ecn 0 + ECN-setup SYN → plain SYN-ACK", () => {
  const peer = new Peer({ plugins: { tcp: { ecn: 0 } } });
  const l = peer.stack.listen({ port: 80 });
  one(peer.send(ECN_SYN), { flags: "S." });
  l.close();
  peer.finish();
});

Deno.test("tcp connect() by default sends a plain SYN; with { ecn: true } or ecn 1 an ECN-setup SYN", async () => {
  for (const [opts, want] of [[{}, "S"], [{ ecn: true }, "SEW"]] as const) {
    const peer = new Peer();
    const t = track(peer.stack.connect({ hostname: peer.addr, port: 80, ...opts }));
    one(peer.take(), { flags: want });
    peer.stack.close();
    await t.done;
    peer.finish();
  }
  const peer = new Peer({ plugins: { tcp: { ecn: 1 } } });
  const t = track(peer.stack.connect({ hostname: peer.addr, port: 80 }));
  one(peer.take(), { flags: "SEW" });
  peer.stack.close();
  await t.done;
  peer.finish();
});

/** An ECN connection the stack opened: SYN with ECE+CWR, SYN-ACK with ECE. */
async function ecnActive(peer: Peer, synAckFlags = "S.E") {
  const t = track(peer.stack.connect({ hostname: peer.addr, port: 80, ecn: true }));
  const syn = one(peer.take(), { flags: "SEW" });
  one(peer.send(answer(syn, synAckFlags)), { flags: "." });
  await t.done;
  const port = syn.srcPort;
  return { conn: t.value!, port, peerPort: 80, sndNxt: (syn.seq + 1) >>> 0, peerNxt: 1001 };
}

Deno.test("tcp SYN-SENT (ECN) + SYN-ACK with ECE → ECN on: new data ECT(0), pure ACKs Not-ECT", async () => {
  const peer = new Peer();
  const c = await ecnActive(peer);
  assert.equal(peer.info(80)?.ecn, true);
  await c.conn.write(text("hello"));
  const data = one(takeEcn(peer), { flags: "P.", len: 5 }) as EcnSeg;
  assert.equal(data.ecn, 2, "ECT(0) on new data");
  const ack = sendEcn(
    peer,
    fromPeer(c, { ack: c.sndNxt + 5, flags: "P.", payload: text("hi") }),
    0,
    ms(50),
  );
  const pure = one(ack, { flags: "." }) as EcnSeg;
  assert.equal(pure.ecn, 0, "a pure ACK is Not-ECT (§6.1.4)");
  c.conn.close();
  peer.finish();
});

Deno.test("tcp SYN-SENT (ECN) + SYN-ACK with ECE and CWR → ECN off (§6.1.1)", async () => {
  const peer = new Peer();
  const c = await ecnActive(peer, "S.EW");
  assert.equal(peer.info(80)?.ecn, undefined);
  await c.conn.write(text("hello"));
  const data = one(takeEcn(peer), { flags: "P.", len: 5 }) as EcnSeg;
  assert.equal(data.ecn, 0);
  c.conn.close();
  peer.finish();
});

/**
 * An ECN connection the stack opened with NewReno (its reductions are easy
 * to predict), writing `segments` full segments; its socket entry at `info()`.
 */
async function ecnNewRenoWriting(segments: number) {
  const peer = new Peer({ plugins: { tcp: { congestionControl: "newreno" } } });
  const c = await ecnActive(peer);
  const info = () => peer.info(80)!;
  const w = c.conn.write(new Uint8Array(segments * 1460));
  return { peer, c, info, w };
}

/** A passive ECN connection: the peer's SYN asks (ECE+CWR), the SYN-ACK agrees. */
async function ecnPassive(peer: Peer) {
  const listener = peer.stack.listen({ port: 80 });
  const synAck = one(
    sendEcn(peer, { ...ECN_SYN, seq: 5000 }, 0),
    { flags: "S.E" },
  );
  assert.deepEqual(
    peer.send({ srcPort: 40000, dstPort: 80, seq: 5001, ack: synAck.seq + 1, flags: "." }),
    [],
  );
  const conn = await listener.accept();
  return {
    conn,
    listener,
    port: 80,
    peerPort: 40000,
    sndNxt: (synAck.seq + 1) >>> 0,
    peerNxt: 5001,
  };
}

Deno.test("tcp ESTABLISHED (ECN) + data marked CE → ACK at once with ECE, ECE on every ACK until CWR", async () => {
  const peer = new Peer();
  const p = await ecnPassive(peer);
  const base = { srcPort: 40000, dstPort: 80, ack: p.sndNxt };
  const seg = (i: number, flags = "P.") => ({
    ...base,
    seq: p.peerNxt + 100 * i,
    flags,
    payload: new Uint8Array(100),
  });
  // Quick-ACK mode acknowledges every segment after the handshake.
  one(sendEcn(peer, seg(0), 2), { flags: ".", ack: p.peerNxt + 100 });
  one(sendEcn(peer, seg(1), 3), { flags: ".E", ack: p.peerNxt + 200 });
  one(sendEcn(peer, seg(2), 2), { flags: ".E", ack: p.peerNxt + 300 });
  one(sendEcn(peer, seg(3), 2), { flags: ".E", ack: p.peerNxt + 400 });
  // CWR: the sender reduced its window; the echo stops.
  one(sendEcn(peer, seg(4, "P.W"), 2), { flags: ".", ack: p.peerNxt + 500 });
  one(sendEcn(peer, seg(5), 2), { flags: ".", ack: p.peerNxt + 600 });
  const info = peer.info(40000)!;
  assert.equal(info.ecnSeen, true);
  assert.equal(peer.counter("ecn_ce_received"), 1);
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp TIME-WAIT (ECN, CE not yet answered by CWR), socket closed → the compact record's ACKs still carry ECE", async () => {
  const peer = new Peer();
  const p = await ecnPassive(peer);
  const base = { srcPort: 40000, dstPort: 80, ack: p.sndNxt };
  one(sendEcn(peer, { ...base, seq: p.peerNxt, flags: "P.", payload: new Uint8Array(100) }, 3), {
    flags: ".E",
    ack: p.peerNxt + 100,
  });
  const read = new Uint8Array(100);
  assert.equal(await p.conn.read(read), 100);
  p.conn.close(); // the user is gone: TIME-WAIT keeps only the compact record
  one(takeEcn(peer), { flags: "F.E", seq: p.sndNxt });
  const fin = { ...base, seq: p.peerNxt + 100, ack: p.sndNxt + 1, flags: "F." };
  one(sendEcn(peer, fin, 2, ms(1)), { flags: ".E", ack: p.peerNxt + 101 });
  assert.equal(peer.state(40000), "TIME-WAIT");
  // A retransmitted FIN is answered from the record: ECE as from the endpoint.
  one(sendEcn(peer, fin, 2, ms(100)), { flags: ".E", ack: p.peerNxt + 101 });
  assert.equal(peer.state(40000), "TIME-WAIT");
  p.listener.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED without ECN + data marked CE → no ECE", async () => {
  const peer = new Peer();
  const p = await passiveOpen(peer);
  const out = sendEcn(peer, fromPeer(p, { flags: "P.", payload: new Uint8Array(10) }), 3);
  one(out, { flags: "." });
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED (ECN) + ACK with ECE → window halved once per window, CWR on the next new data", async () => {
  // Ten segments in flight (the initial window).
  const { peer, c, info, w } = await ecnNewRenoWriting(10);
  const first = takeEcn(peer);
  assert.equal(first.length, 10, show(first));
  assert.ok(first.every((s) => s.ecn === 2 && !s.flags.includes("W")));
  const cwnd0 = info().cwnd!;
  // The first ACK with ECE: one reduction (NewReno: half the flight).
  let out = sendEcn(peer, fromPeer(c, { ack: c.sndNxt + 1460, flags: ".E" }), 0);
  // Half of the nine segments still in flight after this ACK (RFC 5681 eq. 4), as for a loss.
  assert.equal(info().ssthresh, 4, `cwnd ${cwnd0} → ssthresh ${info().ssthresh}`);
  assert.equal(info().cwnd, 4);
  assert.equal(peer.counter("ecn_reductions"), 1);
  // More ECE for data sent before the reduction: the same congestion event.
  for (let i = 2; i <= 5; i++) {
    out.push(...sendEcn(peer, fromPeer(c, { ack: c.sndNxt + 1460 * i, flags: ".E" }), 0));
  }
  assert.equal(peer.counter("ecn_reductions"), 1, "once per window");
  assert.equal(info().retrans, 0, "no retransmission for ECE");
  await w;
  const more = c.conn.write(new Uint8Array(3 * 1460));
  // The rest of the first window acknowledged, without ECE: room for new data.
  out.push(...sendEcn(peer, fromPeer(c, { ack: c.sndNxt + 10 * 1460, flags: "." }), 0));
  await more;
  const data = out.filter((s) => s.payload.length > 0);
  assert.ok(data.length > 0, show(out));
  assert.ok(data[0]!.flags.includes("W"), `CWR on the first new data segment:\n${show(data)}`);
  assert.ok(data.slice(1).every((s) => !s.flags.includes("W")), "CWR once");
  // ECE acknowledging data sent after the reduction: a new congestion event.
  const last = data.at(-1)!;
  out = sendEcn(peer, fromPeer(c, { ack: (last.seq + last.payload.length) >>> 0, flags: ".E" }), 0);
  assert.equal(peer.counter("ecn_reductions"), 2);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED (ECN): a retransmission is Not-ECT (§6.1.5)", async () => {
  const peer = new Peer();
  const c = await ecnActive(peer);
  await c.conn.write(text("hello"));
  assert.equal((one(takeEcn(peer), { len: 5 }) as EcnSeg).ecn, 2);
  peer.host.runFor(ms(3100)); // past the RTO (3 s: no RTT sample from the SYN-ACK... or less)
  const rtx = takeEcn(peer);
  assert.ok(rtx.length >= 1, "retransmitted");
  for (const s of rtx) {
    assert.equal(s.seq, c.sndNxt);
    assert.equal(s.ecn, 0, "a retransmission is Not-ECT");
  }
  c.conn.close();
  peer.finish();
});

Deno.test("tcp LISTEN (SYN queue full) + ECN-setup SYN with timestamps → cookie SYN-ACK with ECE; the rebuilt connection echoes CE", async () => {
  const peer = new Peer({ plugins: { tcp: { synBacklog: 1 } } });
  const l = peer.stack.listen({ port: 80 });
  peer.send({ srcPort: 39999, dstPort: 80, seq: 1, flags: "S", options: { mss: 1460 } }); // fills the queue
  const opts = { mss: 1460, ts: [100, 0] as const };
  const synAck = one(
    sendEcn(peer, { ...ECN_SYN, seq: 5000, options: opts }, 0),
    { flags: "S.E", ack: 5001 },
  );
  assert.equal(peer.counter("syncookies_sent"), 1);
  const ack = {
    srcPort: 40000,
    dstPort: 80,
    seq: 5001,
    ack: synAck.seq + 1,
    options: { ts: [101, synAck.ts![0]] as const },
  };
  assert.deepEqual(peer.send({ ...ack, flags: "." }), []);
  const conn = await l.accept();
  assert.equal(peer.counter("syncookies_recv"), 1);
  const out = sendEcn(peer, { ...ack, flags: "P.", payload: new Uint8Array(10) }, 3);
  one(out, { flags: ".E", ack: 5011 });
  conn.close();
  l.close();
  peer.finish();
});

Deno.test("tcp SYN-SENT (ECN): a retransmitted SYN is a plain SYN (Linux tcp_ecn_fallback); an ECE SYN-ACK still enables ECN", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: peer.addr, port: 80, ecn: true }));
  const syn = one(peer.take(), { flags: "SEW" });
  // No answer: the SYN may have been dropped for its ECN bits (RFC 3168 §6.1.1.1).
  one(peer.wait(ms(1100)), { flags: "S", seq: syn.seq });
  one(peer.send(answer(syn, "S.E")), { flags: "." });
  await t.done;
  assert.equal(peer.info(80)?.ecn, true);
  t.value!.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED (ECN) + pure ACK marked CE → no ECE, no ACK (pure ACKs are never ECT: Linux checks CE on data only)", async () => {
  const peer = new Peer();
  const p = await ecnPassive(peer);
  const out = sendEcn(peer, fromPeer(p, { flags: "." }), 3);
  assert.deepEqual(out, [], show(out));
  one(sendEcn(peer, fromPeer(p, { flags: "P.", payload: new Uint8Array(10) }), 2), { flags: "." });
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp SYN-SENT (ECN, Fast Open): a SYN carrying data is Not-ECT (§6.1.1: SYNs never ECT)", async () => {
  const peer = new Peer();
  const cookie = [1, 2, 3, 4, 5, 6, 7, 8];
  // The first connection gets the server's cookie.
  const t1 = track(
    peer.stack.connect({
      hostname: peer.addr,
      port: 80,
      ecn: true,
      fastOpenData: new Uint8Array(0),
    }),
  );
  const syn1 = one(takeEcn(peer), { flags: "SEW" });
  peer.send({ ...answer(syn1, "S.E"), options: { mss: 1460, raw: [34, 10, ...cookie] } });
  await t1.done;
  t1.value!.close();
  peer.take();
  // The second carries its data in the SYN.
  const t2 = track(
    peer.stack.connect({ hostname: peer.addr, port: 80, ecn: true, fastOpenData: text("hello") }),
  );
  const syn2 = one(takeEcn(peer), { flags: "SEW", len: 5 }) as EcnSeg;
  assert.equal(syn2.ecn, 0, "a SYN is never ECT, with data or not");
  peer.stack.close();
  await t2.done.catch(() => {});
  peer.finish();
});

Deno.test("tcp SYN-SENT (ECN) + ECN-setup SYN (simultaneous open) → SYN-ACK with ECE, ECN kept (Linux tcp_ecn_rcv_syn)", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: peer.addr, port: 80, ecn: true }));
  const syn = one(peer.take(), { flags: "SEW" });
  one(
    peer.send({
      srcPort: 80,
      dstPort: syn.srcPort,
      seq: 1000,
      flags: "SEW",
      options: { mss: 1460 },
    }),
    {
      flags: "S.E",
      seq: syn.seq,
      ack: 1001,
    },
  );
  peer.send({ srcPort: 80, dstPort: syn.srcPort, seq: 1001, ack: syn.seq + 1, flags: "." });
  await t.done;
  assert.equal(peer.info(80)?.ecn, true);
  t.value!.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED (ECN): ECE for the window a loss recovery already reduced → no second reduction when recovery ends", async () => {
  const { peer, c, info, w } = await ecnNewRenoWriting(10);
  assert.equal(takeEcn(peer).length, 10);
  // The first segment lost, the fifth marked CE: three duplicate ACKs, then
  // one with ECE during the recovery.
  const out: EcnSeg[] = [];
  for (let i = 0; i < 3; i++) {
    out.push(...sendEcn(peer, fromPeer(c, { flags: "." }), 0));
  }
  out.push(...sendEcn(peer, fromPeer(c, { flags: ".E" }), 0));
  assert.ok(
    out.some((s) => s.seq === c.sndNxt && s.payload.length > 0),
    `fast retransmit:\n${show(out)}`,
  );
  const ssthresh = info().ssthresh;
  assert.equal(ssthresh, 5, "halved for the loss");
  // The retransmission fills the hole: one ACK for everything, still with ECE
  // (the receiver has not seen CWR yet). The same congestion event: no second halving.
  sendEcn(peer, fromPeer(c, { ack: c.sndNxt + 10 * 1460, flags: ".E" }), 0);
  await w;
  assert.equal(
    info().ssthresh,
    ssthresh,
    "one reduction for the loss and the CE of the same window",
  );
  assert.equal(peer.counter("ecn_reductions"), 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED (ECN): ECE ACKs during a loss recovery → CWR on one new data segment only", async () => {
  const { peer, c, w } = await ecnNewRenoWriting(30);
  assert.equal(takeEcn(peer).length, 10);
  const out: EcnSeg[] = [];
  for (let i = 0; i < 3; i++) {
    out.push(...sendEcn(peer, fromPeer(c, { flags: "." }), 0));
  }
  // Further duplicate ACKs, all with ECE (a CE arrived): NewReno's inflation sends new data.
  for (let i = 0; i < 7; i++) {
    out.push(...sendEcn(peer, fromPeer(c, { flags: ".E" }), 0));
  }
  const fresh = out.filter((s) => s.payload.length > 0 && s.seq !== c.sndNxt);
  assert.ok(fresh.length >= 2, `new data during recovery:\n${show(out)}`);
  assert.equal(fresh.filter((s) => s.flags.includes("W")).length, 1, show(fresh));
  c.conn.close();
  peer.finish();
  await w.catch(() => {});
});

Deno.test("tcp LISTEN + ECN-setup SYN that arrives ECT or CE → SYN-ACK without ECE (the path rewrites the ECN field: Linux tcp_ecn_create_request)", () => {
  for (const ecn of [1, 2, 3]) {
    const peer = new Peer();
    const l = peer.stack.listen({ port: 80 });
    const out = sendEcn(peer, ECN_SYN, ecn);
    one(out, { flags: "S.", ack: 2 });
    l.close();
    peer.finish();
  }
});

Deno.test("tcp ESTABLISHED (ECN): zero-window probes are Not-ECT (§6.1.6)", async () => {
  const peer = new Peer();
  const c = await ecnActive(peer);
  peer.send(fromPeer(c, { flags: ".", window: 0 }));
  const w = c.conn.write(text("hello"));
  const probes: EcnSeg[] = [];
  for (let i = 0; i < 4; i++) {
    peer.host.runFor(ms(1000));
    probes.push(...takeEcn(peer));
  }
  assert.ok(probes.length >= 1, "probed");
  assert.ok(probes.every((s) => s.ecn === 0), show(probes));
  peer.send(fromPeer(c, { flags: ".", window: 65535 }));
  await w;
  c.conn.close();
  peer.finish();
});

/**
 * TCP Fast Open (RFC 7413): the test plays the client against a listener
 * with `fastOpen`, then two stacks play both ends. Cookie requests and
 * answers, data in the SYN taken once across duplicated and reordered
 * SYNs, wrong cookies, key rotation (the previous key stays valid), the
 * listener's queue limit, and the client's fallback when the SYN's data is
 * not acknowledged.
 */
import assert from "node:assert/strict";
import { ipv4Packet, makeLink, ms } from "../_harness.ts";
import {
  one,
  parseSeg,
  Peer,
  type PeerOptions,
  readText,
  type Seg,
  tcpSegment,
  text,
} from "./_tcp.ts";
import type { TcpListener } from "../../stack/sockets/types.ts";
import type { TcpFields } from "./_tcp.ts";

/** A segment the stack sent and its Fast Open option's cookie (null: none; empty: a request). */
interface FoSeg extends Seg {
  readonly cookie: Uint8Array | null;
}

function fastOpenCookie(frame: Uint8Array): Uint8Array | null {
  const ihl = (frame[0]! & 15) * 4;
  const hl = (frame[ihl + 12]! >> 4) * 4;
  for (let i = ihl + 20; i < ihl + hl;) {
    const k = frame[i]!;
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    const len = frame[i + 1]!;
    if (k === 34) return frame.slice(i + 2, i + len);
    i += len;
  }
  return null;
}

function inject(peer: Peer, f: TcpFields, after = 0): FoSeg[] {
  const frames = peer.host.inject(
    ipv4Packet(
      { src: peer.addr, dst: peer.stackAddr, protocol: 6 },
      tcpSegment(f, peer.addr, peer.stackAddr),
    ),
    after,
  );
  const out: FoSeg[] = [];
  for (const fr of frames) {
    const s = parseSeg(fr);
    if (s !== undefined) out.push({ ...s, cookie: fastOpenCookie(fr) });
  }
  return out;
}

/** A SYN from the peer's `port` with a Fast Open option (`cookie` empty: a request) and `data`. */
function syn(
  port: number,
  seq: number,
  cookie: Uint8Array,
  data: Uint8Array = new Uint8Array(0),
): TcpFields {
  return {
    srcPort: port,
    dstPort: 80,
    seq,
    flags: "S",
    options: { mss: 1460, raw: [34, 2 + cookie.length, ...cookie] },
    payload: data,
  };
}

/** Asks for a cookie from `port`; returns it (the half-open child is reset afterwards). */
function getCookie(peer: Peer, port = 40000): Uint8Array {
  const synAck = one(inject(peer, syn(port, 100, new Uint8Array(0), text("ignored"))), {
    flags: "S.",
    ack: 101, // the SYN's data is not acknowledged without a cookie
  }) as FoSeg;
  assert.ok(synAck.cookie !== null && synAck.cookie.length === 8, "a cookie in the SYN-ACK");
  peer.send({ srcPort: port, dstPort: 80, seq: 101, flags: "R" }); // done with this one
  return synAck.cookie;
}

/** A fresh peer's stack listening on port 80 with `fastOpen`, and a cookie the peer got from it. */
function fastOpenListener(
  fastOpen = 16,
  options: PeerOptions = {},
): { peer: Peer; l: TcpListener; cookie: Uint8Array } {
  const peer = new Peer(options);
  const l = peer.stack.listen({ port: 80, fastOpen });
  return { peer, l, cookie: getCookie(peer) };
}

Deno.test("tcp LISTEN (fastOpen) + SYN with a cookie request → SYN-ACK with an 8-byte cookie, SYN data not acknowledged", () => {
  const { peer, l } = fastOpenListener();
  assert.equal(peer.counter("tfo_cookie_sent"), 1);
  assert.equal(peer.counter("tfo_syn_data_accepted"), 0);
  l.close();
  peer.finish();
});

Deno.test("tcp LISTEN without fastOpen + SYN with a Fast Open option → plain SYN-ACK, no cookie", () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 80 });
  const s = one(inject(peer, syn(40000, 100, new Uint8Array(0), text("x"))), {
    flags: "S.",
    ack: 101,
  }) as FoSeg;
  assert.equal(s.cookie, null);
  l.close();
  peer.finish();
});

Deno.test("tcp LISTEN (fastOpen) + SYN with a valid cookie and data → data acknowledged and read once, across duplicated and reordered SYNs", async () => {
  const { peer, l, cookie } = fastOpenListener();
  const first = syn(40001, 5000, cookie, text("GET / HTTP/1.0\r\n\r\n"));
  const synAck = one(inject(peer, first), { flags: "S.", ack: 5000 + 1 + 18 }) as FoSeg;
  assert.equal(synAck.cookie, null, "a valid cookie is not sent again");
  // A duplicate of the SYN (retransmitted, or duplicated by the network): the
  // SYN-ACK again, the data not taken twice.
  one(inject(peer, first), { flags: "S.", seq: synAck.seq, ack: 5019 });
  // The handshake's ACK, then the SYN once more, late (reordered): a challenge ACK.
  const ack = { srcPort: 40001, dstPort: 80, seq: 5019, ack: synAck.seq + 1, flags: "." };
  assert.deepEqual(peer.send(ack), []);
  const conn = await l.accept();
  one(inject(peer, first), { flags: ".", ack: 5019 });
  // More data after the handshake follows on.
  peer.send({ ...ack, flags: "P.", payload: text("more") });
  assert.equal(await readText(conn, 22), "GET / HTTP/1.0\r\n\r\nmore");
  assert.equal(peer.counter("tfo_syn_data_accepted"), 1);
  conn.close();
  l.close();
  peer.finish();
});

Deno.test("tcp LISTEN (fastOpen) + SYN with a wrong cookie and data → data not acknowledged, a fresh cookie sent", () => {
  const { peer, l, cookie: good } = fastOpenListener();
  const bad = good.slice();
  bad[0]! ^= 1;
  const s = one(inject(peer, syn(40002, 7000, bad, text("data"))), {
    flags: "S.",
    ack: 7001,
  }) as FoSeg;
  assert.deepEqual(s.cookie, good);
  assert.equal(peer.counter("tfo_cookie_invalid"), 1);
  assert.equal(peer.counter("tfo_syn_data_accepted"), 0);
  l.close();
  peer.finish();
});

Deno.test("tcp Fast Open key rotation: a cookie stays valid for one more key lifetime, then not", () => {
  const { peer, l, cookie: old } = fastOpenListener(16, {
    plugins: { tcp: { fastOpenKeyLifetimeMs: 1000 } },
  });
  peer.wait(ms(1100)); // one rotation: the old cookie is the previous key's
  const s1 = one(inject(peer, syn(40003, 100, old, text("a"))), { flags: "S.", ack: 102 }) as FoSeg;
  assert.ok(s1.cookie !== null && s1.cookie.length === 8, "the current key's cookie comes back");
  assert.notDeepEqual(s1.cookie, old);
  peer.wait(ms(1000)); // a second rotation: the old key is gone
  one(inject(peer, syn(40004, 100, old, text("a"))), { flags: "S.", ack: 101 });
  assert.equal(peer.counter("tfo_cookie_invalid"), 1);
  // The newer cookie (the previous key now) still works.
  one(inject(peer, syn(40005, 100, s1.cookie, text("b"))), { flags: "S.", ack: 102 });
  l.close();
  peer.finish();
});

Deno.test("tcp LISTEN (fastOpen 1): a second SYN with data while one is half-open → data not taken (queue full)", () => {
  const { peer, l, cookie } = fastOpenListener(1);
  one(inject(peer, syn(40006, 100, cookie, text("one"))), { flags: "S.", ack: 104 });
  one(inject(peer, syn(40007, 100, cookie, text("two"))), { flags: "S.", ack: 101 });
  assert.equal(peer.counter("tfo_queue_full"), 1);
  l.close();
  peer.finish();
});

Deno.test("tcp Fast Open between two stacks: the first connection gets a cookie, the second sends its data in the SYN", async () => {
  const env = makeLink({ seed: 2, faults: { delay: ms(5) } });
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80, fastOpen: 8 });
  const synsWithData: number[] = [];
  await env.run(async () => {
    for (let i = 0; i < 2; i++) {
      const [c, s] = await Promise.all([
        env.a.connect({ hostname: "10.0.0.2", port: 80, fastOpenData: text(`request ${i}`) }),
        l.accept(),
      ]);
      assert.equal(await readText(s, 9), `request ${i}`);
      synsWithData.push(env.b.counters.get("tcp.tfo_syn_data_accepted").value);
      c.close();
      s.close();
    }
  });
  assert.deepEqual(synsWithData, [0, 1], "the second connection's SYN carried the data");
  assert.equal(env.a.counters.get("tcp.tfo_syn_data_acked").value, 1);
  assert.equal(env.a.counters.get("tcp.tfo_fallback").value, 0);
  env.runFor(ms(70_000));
  l.close();
  env.finish();
});

Deno.test("tcp Fast Open fallback: the server no longer takes the cookie → the SYN's data is sent again after the handshake, received once", async () => {
  const env = makeLink({ seed: 4, faults: { delay: ms(5) } });
  await env.run(() => env.a.ping("10.0.0.2"));
  let l = env.b.listen({ port: 80, fastOpen: 8 });
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, fastOpenData: new Uint8Array(0) }),
      l.accept(),
    ]);
    c.close();
    s.close();
  });
  l.close();
  l = env.b.listen({ port: 80 }); // Fast Open off now: the cached cookie is ignored
  const body = text("x".repeat(300));
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, fastOpenData: body }),
      l.accept(),
    ]);
    await c.closeWrite();
    assert.equal(await readText(s, 1000), "x".repeat(300));
    c.close();
    s.close();
  });
  assert.equal(env.a.counters.get("tcp.tfo_fallback").value, 1);
  assert.equal(env.b.counters.get("tcp.tfo_syn_data_accepted").value, 0);
  env.runFor(ms(70_000));
  l.close();
  env.finish();
});

Deno.test("tcp LISTEN (fastOpen 1): a half-open Fast Open child reset or timed out frees its place in the queue", () => {
  const { peer, l, cookie } = fastOpenListener(1, { plugins: { tcp: { synAckRetries: 1 } } });
  one(inject(peer, syn(40010, 100, cookie, text("one"))), { flags: "S.", ack: 104 });
  assert.deepEqual(peer.send({ srcPort: 40010, dstPort: 80, seq: 104, flags: "R" }), []);
  one(inject(peer, syn(40011, 100, cookie, text("two"))), { flags: "S.", ack: 104 });
  peer.wait(ms(10_000)); // the SYN-ACK's retransmissions run out: the child is dropped
  assert.equal(peer.state(40011), undefined);
  one(inject(peer, syn(40012, 100, cookie, text("three"))), { flags: "S.", ack: 106 });
  assert.equal(peer.counter("tfo_queue_full"), 0);
  assert.equal(peer.counter("tfo_syn_data_accepted"), 3);
  l.close();
  peer.finish();
});

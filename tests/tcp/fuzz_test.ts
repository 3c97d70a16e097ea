/**
 * Property tests of the receive path: arbitrary segments (any flags, sequence
 * and acknowledgment numbers near the edges or anywhere, any window, random
 * option bytes, SACK blocks, payloads) thrown at an established connection
 * that has data in flight, and at a listener. The stack never faults (the
 * dispatcher would count `tcp.fault`), every segment it answers with is well
 * formed (the test's own parser checks both checksums and the options), its
 * buffers stay within their bounds, and afterwards the connection still
 * can be closed.
 *
 * `TCP_FUZZ_RUNS` (default 100) and `TCP_FUZZ_SEED` (default 77) scale and vary it.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { activeOpen, pattern, Peer, type TcpFields } from "./_tcp.ts";
import { track } from "../_harness.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** A sequence-like number: near `base` (within ±70,000) or anywhere. */
function near(base: number) {
  return fc.oneof(
    fc.integer({ min: -70_000, max: 70_000 }).map((d) => (base + d) >>> 0),
    fc.constantFrom(base >>> 0, (base - 1) >>> 0, (base + 1) >>> 0),
    u32,
  );
}

function segment(peerNxt: number, sndNxt: number, dstPort: number) {
  return fc.record({
    // Mostly ACKs; RST rarely, or the connection would seldom survive.
    flags: fc.tuple(
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
    ).map(([f, s, r, p, a, u]) =>
      (f < 10 ? 1 : 0) | (s < 8 ? 2 : 0) | (r < 3 ? 4 : 0) | (p < 50 ? 8 : 0) |
      (a < 90 ? 16 : 0) | (u < 5 ? 32 : 0)
    ),
    seq: near(peerNxt),
    ack: near(sndNxt),
    window: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65535 })),
    payload: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 1, max: 1400 }),
    ),
    options: fc.oneof(
      fc.constant(undefined),
      fc.uint8Array({ maxLength: 40 }).map((b) => ({ raw: [...b] })),
      fc.array(fc.tuple(near(sndNxt), fc.integer({ min: 0, max: 20_000 })), {
        minLength: 1,
        maxLength: 4,
      }).map((bs) => ({ sack: bs.map(([l, n]) => [l, (l + n) >>> 0] as const) })),
      fc.tuple(u32, u32).map((ts) => ({ ts })),
    ),
  }).map((r): TcpFields => {
    let flags = "";
    for (
      const [bit, ch] of [[1, "F"], [2, "S"], [4, "R"], [8, "P"], [16, "."], [32, "U"]] as const
    ) {
      if (r.flags & bit) flags += ch;
    }
    return {
      srcPort: 80,
      dstPort,
      seq: r.seq,
      ack: r.ack,
      flags,
      window: r.window,
      payload: pattern(r.payload, r.seq & 0xff),
      ...(r.options !== undefined ? { options: r.options } : {}),
    };
  });
}

const LIMIT = 262_144;
const RUNS = Number(Deno.env.get("TCP_FUZZ_RUNS") ?? 100);
const SEED = Number(Deno.env.get("TCP_FUZZ_SEED") ?? 77);

function checkInvariants(peer: Peer): void {
  assert.equal(peer.stack.counters.get("tcp.fault").value, 0, "a TCP plugin fault");
  assert.equal(peer.stack.counters.get("dispatcher.plugin_fault").value, 0, "a plugin fault");
  for (const s of peer.stack.sockets()) {
    if (s.state === "LISTEN") continue;
    assert.ok(s.recvQ >= 0 && s.recvQ <= LIMIT, `recvQ ${s.recvQ}`);
    assert.ok(s.sendQ >= 0 && s.sendQ <= LIMIT, `sendQ ${s.sendQ}`);
    assert.ok(s.cwnd! >= 1, `cwnd ${s.cwnd}`);
    assert.ok(s.rcvWnd! >= 0 && s.rcvWnd! <= LIMIT, `rcvWnd ${s.rcvWnd}`);
  }
}

Deno.test("tcp ESTABLISHED with data in flight + arbitrary segments → no fault, valid answers, bounded buffers", async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 1000 }),
      fc.boolean(),
      fc.boolean(),
      async (seed, sack, ts) => {
        const peer = new Peer({ seed });
        const c = await activeOpen(peer, 80, {
          mss: 1000,
          ...(sack ? { sackOk: true } : {}),
          ...(ts ? { ts: [100, 0] as const } : {}),
        });
        await c.conn.write(pattern(20_000));
        peer.take();
        const segs = fc.sample(segment(c.peerNxt, c.sndNxt, c.port), { numRuns: 60, seed });
        for (const s of segs) {
          peer.send(s, 50_000); // answers are parsed (and checked) by the test's own code
          checkInvariants(peer);
        }
        peer.wait(5_000_000);
        checkInvariants(peer);
        // Whatever state it reached, reads settle and close works.
        const read = track(c.conn.read(new Uint8Array(100_000)));
        c.conn.close();
        peer.wait(200_000_000);
        // A read pending at close() settles (data, EOF or an error); it never hangs.
        for (let i = 0; i < 100 && !read.settled; i++) await Promise.resolve();
        assert.ok(read.settled, "a read pending at close() never settled");
        checkInvariants(peer);
        peer.finish();
        runs++;
      },
    ),
    { numRuns: RUNS, seed: SEED },
  );
  assert.equal(runs, RUNS);
});

Deno.test("tcp LISTEN + arbitrary segments → no fault, at most SYN-RECEIVED children, valid answers", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
      const peer = new Peer({ seed, plugins: { tcp: { synBacklog: 4 } } });
      const l = peer.stack.listen({ port: 80 });
      const segs = fc.sample(segment(1000, 5000, 80), { numRuns: 100, seed })
        .map((s) => ({ ...s, srcPort: 1000 + (s.seq % 8) }));
      for (const s of segs) {
        peer.send(s);
        checkInvariants(peer);
        const states = new Set(peer.stack.sockets().map((x) => x.state));
        for (const st of states) {
          assert.ok(["LISTEN", "SYN-RECEIVED", "ESTABLISHED"].includes(st), st);
        }
      }
      l.close();
      peer.wait(100_000_000);
      assert.deepEqual(peer.stack.sockets(), []);
      peer.finish();
    }),
    { numRuns: Math.ceil(RUNS / 2), seed: SEED + 1 },
  );
});

/**
 * The stack's TCP memory limit (`stack/protocols/tcp/memory.ts`, Linux's
 * tcp_mem): connections whose applications do not read stop at
 * `memoryHigh` (plus the 4 KiB each may always hold), the data still arrives
 * byte for byte once they read, out-of-order data is pruned (reneged) under
 * the limit and the senders recover it, auto-tuning stops under pressure,
 * and a hostile peer spraying out-of-order junk over many connections gets
 * no more than the limit.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { runGcProbe } from "../_gc_probe.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { receiveAll, sendAll } from "./_transfer.ts";
import { counter, idle, openPairs, readBackAndClose } from "./_memory.ts";
import { fromPeer, passiveOpen, pattern, Peer } from "./_tcp.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
/** The store every connection may hold whatever the account says (memory.ts). */
const MIN_BUFFER = 4 * KIB;

const LIMITS = { memoryLow: 1 * MIB, memoryPressure: 3 * MIB / 2, memoryHigh: 2 * MIB };

Deno.test("tcp memory: 32 connections whose apps do not read stop at memoryHigh; read later, every byte arrives", async () => {
  const N = 32, EACH = 512 * KIB;
  const env = makeLink({ seed: 11, faults: { delay: ms(5) }, plugins: { tcp: LIMITS } });
  const pairs = await openPairs(env, N);
  // Every a side writes EACH bytes; no b side reads for 3 s.
  const sent = pairs.map(([c], i) => sendAll(c, i + 1, EACH));
  let peakB = 0;
  const sample = () => {
    peakB = Math.max(peakB, counter(env.b, "memory_allocated"));
    env.net.at(env.net.now() + ms(1), sample);
  };
  sample();
  await idle(env, 3_000_000);
  const bound = LIMITS.memoryHigh + N * MIN_BUFFER;
  assert.ok(peakB <= bound, `b held ${peakB} bytes, bound ${bound}`);
  assert.equal(
    counter(env.b, "memory_peak") <= bound,
    true,
    `peak ${counter(env.b, "memory_peak")}`,
  );
  // Without the limit each would hold its 256 KiB window: 8 MiB.
  const queued = env.b.sockets().reduce((s, i) => s + i.recvQ, 0);
  assert.ok(queued < bound && queued > MIB, `queued ${queued}`);
  assert.ok(counter(env.b, "memory_pressures") >= 1);
  assert.ok(counter(env.b, "rx.mem_dropped") > 0, "data past the limit was dropped");
  // a's send buffers are under the same limit.
  assert.ok(counter(env.a, "memory_peak") <= bound, `a peak ${counter(env.a, "memory_peak")}`);
  // Now every b side reads: all of it arrives, in order.
  await readBackAndClose(env, pairs, sent, EACH);
  await idle(env, 2_000_000);
  // Every store given back once the connections ended.
  assert.equal(counter(env.a, "memory_allocated"), 0);
  assert.equal(counter(env.b, "memory_allocated"), 0);
  env.finish();
});

Deno.test("tcp memory: out-of-order data pruned under the limit (SACK reneging) is sent again, every byte arrives", async () => {
  const N = 16, EACH = 384 * KIB;
  const env = makeLink({
    seed: 12,
    faults: { delay: ms(5) },
    directions: { "a->b": { delay: ms(5), loss: 0.03 } },
    plugins: { tcp: LIMITS },
  });
  const pairs = await openPairs(env, N);
  const sent = pairs.map(([c], i) => sendAll(c, 100 + i, EACH));
  await idle(env, 3_000_000); // nobody reads: holes and data ahead pile up
  assert.ok(counter(env.b, "ofo_pruned") > 0, "out-of-order data was pruned");
  assert.ok(counter(env.b, "prune_called") >= counter(env.b, "ofo_pruned"));
  // a saw SND.UNA reach data b had SACKed, and did not wait a whole RTO.
  assert.ok(counter(env.a, "sack_reneging") > 0, "the sender noticed the reneging");
  assert.ok(counter(env.b, "memory_peak") <= LIMITS.memoryHigh + N * MIN_BUFFER);
  await readBackAndClose(env, pairs, sent, EACH);
  await idle(env, 2_000_000);
  env.finish();
});

Deno.test("tcp memory: under pressure the window stops opening (no auto-tuning, four segments); the transfer completes", async () => {
  const TOTAL = 2 * MIB;
  const env = makeLink({
    seed: 13,
    faults: { delay: ms(50) },
    // Always under pressure (low and pressure 0), with room to spare below high.
    plugins: {
      tcp: { sendBuffer: 4 * MIB, memoryLow: 0, memoryPressure: 0, memoryHigh: 64 * MIB },
    },
  });
  const [[c, s], [pin, pinned]] = await openPairs(env, 2) as [TcpConn, TcpConn][] as [
    [TcpConn, TcpConn],
    [TcpConn, TcpConn],
  ];
  // A second connection's unread bytes keep b's account above memoryLow (0):
  // the transfer's own buffer empties whenever the reader catches up (its
  // segments held, not copied into a store), which would end the pressure.
  await env.run(() => pin.write(new Uint8Array(100)));
  await idle(env, 200_000);
  assert.ok(counter(env.b, "memory_allocated") > 0);
  const peer = `10.0.0.1:${(c.localAddr as Deno.NetAddr).port}`;
  let maxWnd = 0;
  const sample = () => {
    const i = env.b.sockets().find((x) => x.remote === peer);
    if (i !== undefined) maxWnd = Math.max(maxWnd, i.rcvWnd ?? 0);
    env.net.at(env.net.now() + ms(10), sample);
  };
  sample();
  const sending = sendAll(c, 7, TOTAL);
  const got = await env.run(() => receiveAll(s), { timeout: 600_000_000 });
  assert.equal(got.hash, await env.run(() => sending));
  // Without pressure this transfer's window grows past the 256 KiB buffer
  // (tests/tcp/rcv_autotune_test.ts); under pressure it never opens past
  // the 64 KiB of the handshake (before any store was charged) and
  // auto-tuning never grew the buffer (rcv_autotune_test.ts shows why).
  assert.ok(maxWnd <= 65_535, `window ${maxWnd}`);
  const info = env.b.sockets().find((x) => x.remote === peer)!;
  assert.ok((info.rcvSpace ?? 0) <= 10 * 1460, `rcv_space ${info.rcvSpace}`);
  assert.ok(counter(env.b, "memory_pressures") >= 1);
  assert.equal(
    counter(env.b, "rx.mem_dropped"),
    0,
    "nothing dropped: the window kept the peer within",
  );
  c.close();
  s.close();
  pin.close();
  pinned.close();
  await idle(env, 2_000_000);
  env.finish();
});

Deno.test("tcp memory: a hostile peer spraying out-of-order data over 64 connections gets no more than the limit", async () => {
  const N = 64, HIGH = 512 * KIB;
  const peer = new Peer({
    seed: 14,
    plugins: { tcp: { memoryLow: HIGH / 2, memoryPressure: HIGH * 3 / 4, memoryHigh: HIGH } },
  });
  const opts = { mss: 1460, wscale: 7, sackOk: true };
  const conns = [];
  for (let i = 0; i < N; i++) conns.push(await passiveOpen(peer, 1000 + i, 40000 + i, opts));
  // Stream bytes are pattern(…) at their offset, so whatever the stack keeps
  // of the junk is also what the in-order data says there.
  const stream = pattern(256 * KIB);
  let x = 99;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  for (let round = 0; round < 40; round++) {
    for (const c of conns) {
      const at = 1460 + rnd(250 * KIB - 2920); // past a hole at the start
      const len = 1 + rnd(1460);
      peer.send(
        fromPeer(c, {
          seq: (c.peerNxt + at) >>> 0,
          flags: "P.",
          payload: stream.subarray(at, at + len),
        }),
      );
    }
    assert.ok(
      counter(peer.stack, "memory_allocated") <= HIGH + N * MIN_BUFFER,
      `round ${round}: ${counter(peer.stack, "memory_allocated")}`,
    );
  }
  assert.ok(counter(peer.stack, "memory_peak") <= HIGH + N * MIN_BUFFER);
  assert.ok(counter(peer.stack, "memory_pressures") >= 1);
  assert.ok(counter(peer.stack, "rx.ooo_mem_dropped") > 0);
  // In-order data still moves on every connection (each may always hold its
  // 4 KiB store), and reads back exactly; junk the stack kept ahead is
  // delivered too once the stream reaches it.
  const buf = new Uint8Array(256 * KIB);
  for (const c of conns) {
    let n = 0;
    while (n < 8 * 1460) {
      const seq = (c.peerNxt + n) >>> 0;
      peer.send(fromPeer(c, { seq, flags: "P.", payload: stream.subarray(n, n + 1460) }));
      const k = await c.conn.read(buf.subarray(n));
      assert.ok(k !== null && k > 0, `port ${c.port}: read ${n}, then ${k}`);
      n += k;
    }
    assert.deepEqual(buf.subarray(0, n), stream.subarray(0, n));
  }
  for (const c of conns) {
    c.conn.close();
    c.listener.close();
  }
  peer.finish();
});

Deno.test("tcp memory: the process's ArrayBuffer bytes follow the account when 64 apps stop reading", async () => {
  type Probe = { externalAdded: number; accountA: number; accountB: number; heldBytes: number };
  const probe = new URL("./_memory_probe.ts", import.meta.url);
  const limited = await runGcProbe<Probe>(probe, "64", "limited");
  const free = await runGcProbe<Probe>(probe, "64", "default");
  const account = (p: Probe) => p.accountA + p.accountB;
  // Limited: both stacks at most memoryHigh plus 4 KiB a connection.
  assert.ok(account(limited) <= 2 * (LIMITS.memoryHigh + 64 * MIN_BUFFER), JSON.stringify(limited));
  // Without the limit the same traffic holds every window and send buffer (256 KiB each).
  assert.ok(account(free) >= 2 * 64 * 256 * KIB, JSON.stringify(free));
  // What the process allocated is what was accounted, plus packet buffers in
  // flight and the pool's spares (under 4 MiB here); held packet buffers are
  // accounted but may live in checksum arenas (wasm memory, not `external`).
  for (const p of [limited, free]) {
    assert.ok(p.externalAdded >= account(p) - p.heldBytes, JSON.stringify(p));
    assert.ok(p.externalAdded <= account(p) + 4 * MIB, JSON.stringify(p));
  }
});

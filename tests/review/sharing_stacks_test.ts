/**
 * Session 12's shared buffers across stacks in one process (review13): a
 * TCP send queue's chunks travel as themselves, and the receiving stack
 * holds the sender's own buffer until read. Every pool here poisons what
 * it takes back (0xee), so a buffer given back while anyone still used it,
 * or written after, shows up as wrong bytes. Probes: either stack closed
 * whole while the other still has its buffers, a receiver that stops
 * reading (zero window, probes, then a burst of reads), and a routed path
 * (two forwarding stacks rewriting headers in place, a lowered path MTU)
 * with loss, reordering, duplication and corruption.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { PacketPool } from "../../stack/packet_pool.ts";
import type { Stack } from "../../stack/stack.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { pattern } from "../tcp/_tcp.ts";
import { exchangeBoth, makePath, SOAK_FAULTS } from "../tcp/_transfer.ts";

const KIB = 1024;
const RUN = { timeout: 120_000_000 }; // virtual µs: a hang fails instead

function poison(pool: PacketPool): void {
  const recycle = pool.recycle.bind(pool);
  pool.recycle = (p: PacketBuffer) => {
    p.buf.fill(0xee);
    recycle(p);
  };
}

function poisonedPair() {
  const env = makeLink({ seed: 13, faults: { delay: ms(1) } });
  for (const s of [env.a, env.b]) poison(s.pool);
  poison(env.net.pool);
  return env;
}

async function connect(env: ReturnType<typeof poisonedPair>): Promise<[TcpConn, TcpConn]> {
  const l = env.b.listen({ port: 80 });
  const conns = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()])
  );
  l.close();
  return conns;
}

async function readUpTo(
  env: ReturnType<typeof poisonedPair>,
  c: TcpConn,
  n: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  await env.run(async () => {
    try {
      while (got < n) {
        const k = await c.read(out.subarray(got));
        if (k === null) break;
        got += k;
      }
    } catch {
      // a reset ends the stream; what came before must be intact
    }
  }, RUN);
  return out.subarray(0, got);
}

Deno.test("review13 sharing: the sending stack closed whole while the receiver holds its chunks unread: read intact, then all back", async () => {
  const env = poisonedPair();
  const [c, s] = await connect(env);
  const data = pattern(80 * KIB);
  await env.run(() => c.write(data), RUN);
  env.runFor(ms(50)); // acknowledged: only b's holds keep a's buffers
  assert.ok(env.a.pool.held > 0, "b holds a's buffers");
  env.a.close(); // the whole stack: its TCP, its interfaces
  env.runFor(ms(50));
  const got = await readUpTo(env, s, data.length);
  assert.equal(got.length, data.length);
  assert.deepEqual(got, data);
  assert.equal(env.a.pool.held, 0, "read: every hold of a's buffers ended");
  s.close();
  env.runFor(ms(5000));
  env.finish();
});

Deno.test("review13 sharing: the sending stack closed whole with its chunks still on the wire: the receiver takes and reads them intact", async () => {
  const env = poisonedPair();
  const [c, s] = await connect(env);
  const data = pattern(200 * KIB);
  await env.run(() => c.write(data.subarray(0, 40 * KIB)), RUN);
  env.runFor(ms(50)); // a window's worth of ACKs: the congestion window opens
  void c.write(data.subarray(40 * KIB)); // queued and sent at once
  env.runFor(200); // 0.2 ms: the segments are on the 1 ms wire, none delivered
  assert.ok(env.link.stats("a->b").delivered < env.link.stats("a->b").sent, "frames in flight");
  env.a.close(); // the chunks on the wire are the driver's now, then b's
  env.runFor(ms(10)); // delivered, and held by b
  assert.ok(env.a.pool.held > 0, "b holds buffers of the closed stack");
  // Read what arrived: a read still waiting 100 ms later has nothing more to get.
  const out = new Uint8Array(data.length);
  let n = 0;
  await env.run(async () => {
    for (;;) {
      const later = new Promise<number>((r) => env.net.at(env.net.now() + ms(100), () => r(-1)));
      const k = await Promise.race([s.read(out.subarray(n)), later]);
      if (k === null || k < 0) break;
      n += k;
    }
  }, RUN);
  const got = out.subarray(0, n);
  assert.ok(got.length > 40 * KIB, `${got.length} bytes: what was on the wire arrived`);
  assert.deepEqual(got, data.subarray(0, got.length), "intact, not poisoned");
  s.close();
  env.runFor(ms(5000));
  env.finish();
});

Deno.test("review13 sharing: the receiving stack closed whole while holding the sender's chunks gives them all back", async () => {
  const env = poisonedPair();
  const [c, s] = await connect(env);
  const data = pattern(80 * KIB);
  await env.run(() => c.write(data), RUN);
  env.runFor(ms(50));
  assert.ok(env.a.pool.held > 0, "b holds a's buffers");
  env.b.close();
  assert.equal(env.a.pool.held, 0, "b's close ended its holds of a's buffers");
  // a's connection is still there, its queue acknowledged: only the
  // emptied last chunk (never sent whole) stays, for the next write.
  assert.equal(env.a.pool.outstanding, 1, "a's buffers are all back in a's pool");
  void s;
  c.close();
  env.runFor(ms(5000));
  env.finish();
});

Deno.test("review13 sharing: a receiver that stops reading (zero window, probes) then reads in bursts gets every byte once", async () => {
  const env = poisonedPair();
  const [c, s] = await connect(env);
  const data = pattern(1536 * KIB + 333); // beyond both buffers: the window closes
  const got = new Uint8Array(data.length);
  let n = 0;
  await env.run(async () => {
    const writer = (async () => {
      for (let w = 0; w < data.length;) w += await c.write(data.subarray(w));
      await c.closeWrite();
    })();
    // Read 100 KiB, stop for 3 s (window closed, the persist timer probes), and so on.
    for (;;) {
      const stop = n + 100 * KIB;
      let end = false;
      while (n < stop) {
        const k = await s.read(got.subarray(n, Math.min(stop, got.length)));
        if (k === null) {
          end = true;
          break;
        }
        n += k;
        if (n === got.length) break;
      }
      if (end || n === got.length) break;
      await new Promise<void>((r) => env.net.at(env.net.now() + ms(3000), r));
    }
    await writer;
  }, { timeout: 600_000_000 });
  assert.equal(n, data.length);
  assert.deepEqual(got, data);
  assert.ok(env.a.counters.get("tcp.zero_window_probes").value > 0, "the window closed");
  c.close();
  s.close();
  env.runFor(ms(5000));
  env.finish();
});

Deno.test("review13 sharing: a routed, lossy path with a lowered path MTU, every pool poisoned: both directions exact (3 seeds)", async () => {
  for (const seed of [21, 22, 23]) {
    const env = makePath({ seed, midMtu: 1280, midFaults: SOAK_FAULTS });
    for (const h of env.hosts as Stack[]) poison(h.pool);
    poison(env.net.pool);
    try {
      const l = env.h2.listen({ port: 9000 });
      await env.run(async () => {
        const [c, s] = await Promise.all([
          env.h1.connect({ hostname: "10.3.0.30", port: 9000 }),
          l.accept(),
        ]);
        await exchangeBoth(c, s, seed, 384 * KIB, ["h1", "h2"]);
        c.close();
        s.close();
      }, { timeout: 3_600_000_000 });
      l.close();
      env.runFor(ms(200_000));
      assert.ok(env.h1.counters.get("tcp.pmtu_updates").value >= 1, `seed ${seed}: PMTU`);
      assert.ok(env.h1.counters.get("tcp.retrans_segs").value > 0, `seed ${seed}: retransmitted`);
      env.finish();
    } finally {
      env.close();
    }
  }
});

Deno.test("review13 sharing: MTU 1500, 9000 (medium chunks, never held) and 65535 (large, held), faults both ways, poisoned pools: both directions exact", async () => {
  const faults = { delay: ms(2), loss: 0.03, reorder: 0.03, duplicate: 0.02, corrupt: 0.01 };
  let copies = 0;
  for (const [i, mtu] of [1500, 9000, 65535].entries()) {
    for (const sack of [true, false]) {
      const seed = 40 + 2 * i + (sack ? 0 : 1);
      const env = makeLink({
        seed,
        mtu,
        faults,
        plugins: { tcp: { sack } },
      });
      for (const s of [env.a, env.b]) poison(s.pool);
      poison(env.net.pool);
      try {
        const l = env.b.listen({ port: 80 });
        await env.run(async () => {
          const [c, s] = await Promise.all([
            env.a.connect({ hostname: "10.0.0.2", port: 80 }),
            l.accept(),
          ]);
          await exchangeBoth(c, s, seed, 768 * KIB, [`a(mtu ${mtu})`, "b"]);
          c.close();
          s.close();
        }, { timeout: 3_600_000_000 });
        l.close();
        env.runFor(ms(200_000));
        assert.ok(env.a.counters.get("tcp.retrans_segs").value > 0, `mtu ${mtu}: retransmitted`);
        copies += env.a.counters.get("tcp.tx_shared_copies").value;
        env.finish();
      } finally {
        env.close();
      }
    }
  }
  assert.ok(copies > 0, "retransmissions of chunks someone still had were copied");
});

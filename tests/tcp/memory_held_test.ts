/**
 * The TCP memory account (`memory.ts`) and the receive queue's held packets
 * (`rcv_queue.ts`) together: a held pooled super-segment counts its whole
 * buffer, the account returns to exactly 0 however a connection holding
 * packets ends (close with unread data, a reset from the peer, destroyed
 * with unread data the user then gives up or reads, the stack closing), no
 * packet stays held, and stalled connections fed super-segments stop at
 * `memoryHigh` counting the held buffers, whose backing stores (what they
 * really keep alive) never exceed the account.
 */
import assert from "node:assert/strict";
import { PacketBuffer } from "../../stack/packet.ts";
import { LARGE_BUFFER_SIZE, SMALL_BUFFER_SIZE } from "../../stack/packet_pool.ts";
import { makeLink, ms } from "../_harness.ts";
import type { LinkPair } from "../_harness.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { sendAll } from "./_transfer.ts";
import { counter, idle, openPairs, readBackAndClose } from "./_memory.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
/** The store every connection may hold whatever the account says (memory.ts). */
const MIN_BUFFER = 4 * KIB;

/** Packets held past receive() in every pool of the link (the stacks' and the network's). */
function heldPackets(env: LinkPair): number {
  return env.a.pool.held + env.b.pool.held + env.net.pool.held;
}

/**
 * Records every packet held from now until `stop()`, and gives the bytes
 * of the distinct backing stores the held ones keep reachable: what they
 * really cost (a buffer carved from a shared arena keeps the whole arena).
 */
function watchHolds(): { pinned(): number; stop(): void } {
  const held = new Set<PacketBuffer>();
  const proto = PacketBuffer.prototype;
  const { hold, releaseHeld } = proto;
  proto.hold = function (this: PacketBuffer): boolean {
    const ok = hold.call(this);
    if (ok) held.add(this);
    return ok;
  };
  proto.releaseHeld = function (this: PacketBuffer): void {
    held.delete(this);
    releaseHeld.call(this);
  };
  return {
    pinned() {
      let n = 0;
      for (const b of new Set([...held].map((p) => p.buf.buffer))) n += b.byteLength;
      return n;
    },
    stop() {
      proto.hold = hold;
      proto.releaseHeld = releaseHeld;
    },
  };
}

/**
 * A link at `mtu`: 65535 (super-segments in large pooled buffers) or 1500
 * (MTU-sized segments in small ones); `n` connections a→b.
 */
async function open(
  seed: number,
  n: number,
  tcp: Record<string, number> = {},
  mtu = 65535,
): Promise<{ env: LinkPair; pairs: [TcpConn, TcpConn][] }> {
  const env = makeLink({ seed, mtu, faults: { delay: ms(1) }, plugins: { tcp } });
  return { env, pairs: await openPairs(env, n) };
}

/**
 * Every a side writes `each` bytes (not closing), nobody on b reads; after
 * 200 ms b holds packets, counted whole in its account.
 */
async function stall(env: LinkPair, pairs: [TcpConn, TcpConn][], each: number): Promise<void> {
  for (const [c] of pairs) {
    const p = new Uint8Array(each).fill(0x5a);
    // The network runs in idle() below; the write ends with the connection.
    (async () => {
      let off = 0;
      while (off < p.length) off += await c.write(p.subarray(off));
    })().catch(() => {});
  }
  await idle(env, 200_000);
  assert.ok(heldPackets(env) > 0, "b holds super-segments");
  // The held buffers count whole in b's account.
  assert.ok(
    counter(env.b, "memory_allocated") >= heldPackets(env) * LARGE_BUFFER_SIZE,
    `account ${counter(env.b, "memory_allocated")}, held ${heldPackets(env)}`,
  );
}

/** The account and the pools after everything ended. */
async function assertAllBack(env: LinkPair): Promise<void> {
  await idle(env, 2_000_000);
  assert.equal(heldPackets(env), 0, "no packet held");
  assert.equal(counter(env.a, "memory_allocated"), 0, "a's account");
  assert.equal(counter(env.b, "memory_allocated"), 0, "b's account");
}

Deno.test("tcp memory + held packets: b closes with unread held data (RST): the account returns to 0", async () => {
  const { env, pairs } = await open(31, 4);
  await stall(env, pairs, 256 * KIB);
  for (const [, s] of pairs) s.close(); // unread data: RFC 2525 §2.17 reset
  await idle(env, 100_000);
  for (const [c] of pairs) {
    try {
      c.close();
    } catch { /* already closed by the reset */ }
  }
  await assertAllBack(env);
  env.finish();
});

Deno.test("tcp memory + held packets: a reset from the peer, the user then reads what arrived or gives it up: 0", async () => {
  const { env, pairs } = await open(32, 4);
  await stall(env, pairs, 256 * KIB);
  const before = pairs.map(([, s]) => s.info().recvQ);
  for (const [c] of pairs) {
    c.setLinger(0);
    c.close(); // RST to b, whose user still has its conn
  }
  await idle(env, 100_000);
  // The held bytes were copied for the user (the connection is gone): the
  // account holds their copy, no packet stays held.
  assert.equal(heldPackets(env), 0);
  assert.ok(counter(env.b, "memory_allocated") > 0);
  // Two users read what arrived before the reset; two give it up unread.
  const buf = new Uint8Array(65536);
  for (let i = 0; i < 2; i++) {
    const s = pairs[i]![1];
    let got = 0;
    await env.run(async () => {
      for (;;) {
        try {
          const n = await s.read(buf);
          if (n === null) break;
          got += n;
        } catch {
          break; // ConnectionReset after the data
        }
      }
    });
    assert.equal(got, before[i], "every byte queued before the reset is read");
  }
  for (const [, s] of pairs) s.close();
  await assertAllBack(env);
  env.finish();
});

Deno.test("tcp memory + held packets: the stack closing with held packets and unread data: 0 once the users close", async () => {
  const { env, pairs } = await open(33, 4);
  await stall(env, pairs, 256 * KIB);
  env.b.close(); // every connection aborted ("interrupted"); held bytes copied for the users
  assert.equal(heldPackets(env), 0, "no packet held");
  for (const [, s] of pairs) {
    try {
      s.close();
    } catch { /* closed with the stack */ }
  }
  assert.equal(counter(env.b, "memory_allocated"), 0, "b's account");
  for (const [c] of pairs) c.close();
  await idle(env, 2_000_000);
  assert.equal(heldPackets(env), 0);
  assert.equal(counter(env.a, "memory_allocated"), 0, "a's account");
  env.finish();
});

for (const [mtu, size] of [[65535, LARGE_BUFFER_SIZE], [1500, SMALL_BUFFER_SIZE]] as const) {
  Deno.test(`tcp memory + held packets: stalled connections at MTU ${mtu} stop at memoryHigh, held buffers counted; then every byte arrives`, async () => {
    const N = 16, EACH = 512 * KIB;
    const LIMITS = { memoryLow: 512 * KIB, memoryPressure: 768 * KIB, memoryHigh: 1 * MIB };
    const { env, pairs } = await open(34, N, LIMITS, mtu);
    const holds = watchHolds();
    const sent = pairs.map(([c], i) => sendAll(c, 200 + i, EACH));
    let peak = 0, peakHeld = 0, peakReal = 0;
    const sample = () => {
      const account = counter(env.b, "memory_allocated");
      peak = Math.max(peak, account);
      peakHeld = Math.max(peakHeld, env.b.pool.held + env.net.pool.held + env.a.pool.held);
      // The held buffers' real bytes never exceed the account they are in:
      // a large buffer's own store; a small one is carved from the pool's
      // slabs, which the pool keeps whether or not it is held, so it costs
      // its size.
      const real = mtu === 65535 ? holds.pinned() : heldPackets(env) * size;
      peakReal = Math.max(peakReal, real - account);
      env.net.at(env.net.now() + ms(1), sample);
    };
    sample();
    try {
      await idle(env, 2_000_000);
    } finally {
      holds.stop();
    }
    const bound = LIMITS.memoryHigh + N * MIN_BUFFER;
    assert.ok(peakHeld > 0, "b held segments");
    assert.ok(peakReal <= 0, `held buffers exceeded the account by ${peakReal} bytes`);
    assert.ok(peak <= bound, `b's account reached ${peak}, bound ${bound}`);
    assert.ok(counter(env.b, "memory_peak") <= bound, `peak ${counter(env.b, "memory_peak")}`);
    assert.ok(counter(env.b, "memory_pressures") >= 1);
    // Without the limit each would hold its window: far past 1 MiB.
    const queued = env.b.sockets().reduce((s, i) => s + i.recvQ, 0);
    assert.ok(queued < bound, `queued ${queued}`);
    await readBackAndClose(env, pairs, sent, EACH);
    await assertAllBack(env);
    env.finish();
  });
}

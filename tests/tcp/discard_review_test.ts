/**
 * Review of `TcpConn.discard` (session 12): a discard must leave the
 * connection exactly as a read of the same size does. Two runs with the
 * same seed, one reading and one discarding, give byte-identical captures
 * (so the window updates, their timing and sizes, are the same), over
 * held super-segments (MTU 65535) and MTU-sized segments; the memory
 * account and the pools come back to 0. Urgent data out of line and
 * inline, EOF and a reset while parked, and the order of parked reads
 * and discards are checked against what `read` does.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { LinkPair } from "../_harness.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { counter } from "./_memory.ts";
import { ReceiveQueue } from "../../stack/protocols/tcp/rcv_queue.ts";

type Mode = "read" | "discard";
/** b's receive buffer: small enough that the window closes while b pauses, large enough to hold packets. */
const RCVBUF = 256 * 1024;

function pattern(from: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((from + i) * 7 + 3) & 0xff;
  return b;
}

async function writeAll(conn: TcpConn, p: Uint8Array): Promise<void> {
  for (let off = 0; off < p.length;) off += await conn.write(p.subarray(off));
}

/** Consumes up to `k` bytes by `mode`: the count, or null at EOF. */
function consume(conn: TcpConn, mode: Mode, k: number): Promise<number | null> {
  return mode === "read" ? conn.read(new Uint8Array(k)) : conn.discard(k);
}

function sleep(env: LinkPair, d: number): Promise<void> {
  return new Promise<void>((r) => env.net.at(env.net.now() + d, r));
}

/** Packets held past receive() in every pool of the link. */
function heldPackets(env: LinkPair): number {
  return env.a.pool.held + env.b.pool.held + env.net.pool.held;
}

async function pair(env: LinkPair, port = 9): Promise<[TcpConn, TcpConn]> {
  const l = env.b.listen({ port });
  const p = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port }), l.accept()])
  );
  l.close();
  return p;
}

/**
 * a sends `total` bytes then FIN; b consumes them by `mode` in a fixed
 * cycle of sizes with pauses (its window closes and reopens).
 * Returns the capture, the counts, and what b held while paused.
 */
async function slowSink(mode: Mode, mtu: number, total: number, tcp: Record<string, number> = {}) {
  const env = makeLink({
    seed: 11,
    mtu,
    faults: { delay: ms(1) },
    plugins: { tcp: { receiveBuffer: RCVBUF, ...tcp } },
    capture: true,
  });
  const [c, s] = await pair(env);
  const sizes = [1, 1000, 7000, 65536, 300, 20_000, 1448];
  const counts: (number | null)[] = [];
  let heldWhilePaused = 0;
  let accountWhilePaused = 0;
  await env.run(async () => {
    const sending = writeAll(c, pattern(0, total)).then(() => c.closeWrite());
    for (let i = 0;; i++) {
      if (i % 5 === 4) {
        await sleep(env, ms(3));
        heldWhilePaused = Math.max(heldWhilePaused, heldPackets(env));
        accountWhilePaused = Math.max(accountWhilePaused, counter(env.b, "memory_allocated"));
      }
      const n = await consume(s, mode, sizes[i % sizes.length]!);
      counts.push(n);
      if (n === null) break;
    }
    await sending;
  }, { timeout: 600_000_000 });
  c.close();
  s.close();
  env.runFor(ms(70_000)); // through TIME-WAIT
  const account = [counter(env.a, "memory_allocated"), counter(env.b, "memory_allocated")];
  const pressures = counter(env.b, "memory_pressures");
  const held = heldPackets(env);
  const capture = env.capture!.bytes();
  env.finish(); // no packet buffer outstanding
  return { capture, counts, heldWhilePaused, accountWhilePaused, account, held, pressures };
}

for (const mtu of [65535, 1500]) {
  Deno.test(`TcpConn.discard leaves the same capture as read of the same sizes (MTU ${mtu}, slow sink, 256 KiB buffer)`, async () => {
    const total = 1_500_000;
    const r = await slowSink("read", mtu, total);
    const d = await slowSink("discard", mtu, total);
    assert.equal(
      d.counts.reduce((a: number, n) => a + (n ?? 0), 0),
      total,
      "every byte consumed once",
    );
    assert.deepEqual(d.counts, r.counts, "the same counts, call by call");
    assert.ok(d.heldWhilePaused > 0, "b held received packets while it paused");
    assert.ok(d.accountWhilePaused > 0, "the account was charged while the sink paused");
    assert.equal(d.capture.length, r.capture.length, "capture lengths");
    assert.ok(
      d.capture.every((b, i) => b === r.capture[i]),
      "byte-identical captures (window updates included)",
    );
    assert.deepEqual(d.account, [0, 0], "memory account back to 0");
    assert.equal(d.held, 0, "no packet held");
  });
}

/** a: "abc", urgent 'X', "def", FIN; b consumes by `mode` after it all arrived. */
async function urgentRun(mode: Mode, inline: boolean) {
  const env = makeLink({ seed: 3, faults: { delay: ms(1) } });
  const [c, s] = await pair(env);
  s.setOobInline(inline);
  const seen: (number | null | string)[] = [];
  await env.run(async () => {
    await writeAll(c, new TextEncoder().encode("abc"));
    assert.equal(await c.sendUrgent(0x58), 1);
    await writeAll(c, new TextEncoder().encode("def"));
    await c.closeWrite();
    await sleep(env, ms(20));
    for (let i = 0; i < 6; i++) {
      const n = await consume(s, mode, 100);
      seen.push(n, `urgent ${s.readUrgent()}`);
      if (n === null) break;
    }
  });
  c.close();
  s.close();
  env.finish();
  return seen;
}

Deno.test("TcpConn.discard stops at an out-of-line urgent byte and skips it, as read does", async () => {
  const r = await urgentRun("read", false);
  const d = await urgentRun("discard", false);
  assert.deepEqual(d, r);
  // The stream is "abcdef": six bytes, the urgent byte out of it.
  assert.equal(d.filter((x) => typeof x === "number").reduce((a: number, n) => a + n, 0), 6);
  assert.ok(d.includes(`urgent ${0x58}`), `urgent byte seen: ${d}`);
});

Deno.test("TcpConn.discard with oobInline counts the urgent byte in the stream, as read does", async () => {
  const r = await urgentRun("read", true);
  const d = await urgentRun("discard", true);
  assert.deepEqual(d, r);
  assert.equal(d.filter((x) => typeof x === "number").reduce((a: number, n) => a + n, 0), 7);
});

Deno.test("TcpConn.discard: a parked discard resolves null at FIN, and every later one too", async () => {
  const env = makeLink({ seed: 4, faults: { delay: ms(1) } });
  const [c, s] = await pair(env);
  await env.run(async () => {
    const parked = s.discard(10);
    await writeAll(c, pattern(0, 4));
    assert.equal(await parked, 4);
    const atEof = s.discard();
    await c.closeWrite();
    assert.equal(await atEof, null);
    assert.equal(await s.discard(), null);
    assert.equal(await s.discard(0), 0);
  });
  c.close();
  s.close();
  env.finish();
});

Deno.test("TcpConn.discard: a reset while parked rejects it as it rejects a parked read", async () => {
  const outcomes: string[] = [];
  for (const mode of ["read", "discard"] as const) {
    const env = makeLink({ seed: 5, faults: { delay: ms(1) } });
    const [c, s] = await pair(env);
    await env.run(async () => {
      const parked = consume(s, mode, 10);
      c.setLinger(0);
      c.close(); // RST
      const e = await parked.then(() => null, (e: Error) => e);
      assert.ok(e !== null, `${mode} rejected`);
      outcomes.push(`${e.constructor.name}: ${e.message}`);
      // And a call after the reset, with nothing buffered.
      const after = await consume(s, mode, 10).then(() => null, (e: Error) => e);
      outcomes.push(`${after?.constructor.name}`);
    });
    s.close();
    env.finish();
  }
  assert.equal(outcomes[2], outcomes[0]);
  assert.equal(outcomes[3], outcomes[1]);
  assert.match(outcomes[0]!, /ConnectionReset/);
});

Deno.test("TcpConn.discard: parked discards and reads are served in call order", async () => {
  const env = makeLink({ seed: 6, faults: { delay: ms(1) } });
  const [c, s] = await pair(env);
  await env.run(async () => {
    const d1 = s.discard(5);
    const buf = new Uint8Array(4);
    const r1 = s.read(buf);
    const d2 = s.discard();
    const r2buf = new Uint8Array(3);
    const r2 = s.read(r2buf);
    await writeAll(c, pattern(0, 20));
    assert.equal(await d1, 5);
    assert.equal(await r1, 4);
    assert.deepEqual(buf, pattern(5, 4));
    assert.equal(await d2, 11);
    const more = writeAll(c, pattern(20, 3));
    assert.equal(await r2, 3);
    assert.deepEqual(r2buf, pattern(20, 3));
    await more;
  });
  c.close();
  s.close();
  env.finish();
});

Deno.test("TcpConn.discard rejects a bad argument as read rejects a bad buffer, before the closed state", async () => {
  const env = makeLink({ seed: 7 });
  const [c, s] = await pair(env);
  for (const bad of [Infinity, "5", null, 0.5]) {
    await assert.rejects(s.discard(bad as unknown as number), TypeError, String(bad));
  }
  await assert.rejects(s.discard(2 ** 53), RangeError);
  s.close();
  await assert.rejects(s.discard(-1), RangeError, "the argument first, then the closed state");
  await assert.rejects(s.discard(0), Deno.errors.BadResource);
  c.close();
  env.finish();
});

Deno.test("TcpConn read and discard never resolve 0 when the one byte buffered is an out-of-line urgent byte; conn.readable does not fail", async () => {
  for (const mode of ["read", "discard", "readable"] as const) {
    const env = makeLink({ seed: 8, faults: { delay: ms(1) } });
    const [c, s] = await pair(env);
    s.setOobInline(false);
    await env.run(async () => {
      assert.equal(await c.sendUrgent(0x58), 1);
      await sleep(env, ms(20)); // it arrived: s has one byte, the urgent one
      const reader = mode === "readable" ? s.readable.getReader() : null;
      const first = reader !== null
        ? reader.read().then((r) => r.value?.length ?? null)
        : consume(s, mode as Mode, 10);
      await sleep(env, ms(5));
      await writeAll(c, pattern(0, 2));
      assert.equal(await first, 2, `${mode}: waits for the next bytes`);
      assert.equal(s.readUrgent(), 0x58);
      await c.closeWrite();
      const end = reader !== null
        ? reader.read().then((r) => r.done ? null : 0)
        : consume(s, mode as Mode, 10);
      assert.equal(await end, null);
      reader?.releaseLock();
    });
    c.close();
    s.close();
    env.finish();
  }
});

Deno.test("TcpConn.discard leaves the same capture as read under memory pressure (the account past memoryPressure: windows clamp)", async () => {
  const tcp = { memoryLow: 64 * 1024, memoryPressure: 128 * 1024, memoryHigh: 384 * 1024 };
  const r = await slowSink("read", 65535, 1_000_000, tcp);
  const d = await slowSink("discard", 65535, 1_000_000, tcp);
  assert.deepEqual(d.counts, r.counts);
  assert.ok(d.pressures > 0, `pressure entered (account up to ${d.accountWhilePaused})`);
  assert.ok(
    d.capture.length === r.capture.length && d.capture.every((b, i) => b === r.capture[i]),
    "byte-identical captures",
  );
  assert.deepEqual(d.account, [0, 0]);
  assert.equal(d.held, 0);
});

Deno.test("TcpConn.discard copies nothing after an urgent byte kept inline (the default): the mark stays set, the bytes are in the stream", async () => {
  const env = makeLink({ seed: 9, faults: { delay: ms(1) } });
  const [c, s] = await pair(env);
  const proto = ReceiveQueue.prototype;
  const read = proto.read;
  let copies = 0;
  proto.read = function (this: ReceiveQueue, dst: Uint8Array): number {
    copies++;
    return read.call(this, dst);
  };
  try {
    await env.run(async () => {
      assert.equal(await c.sendUrgent(0x58), 1);
      const sending = writeAll(c, pattern(0, 200_000)).then(() => c.closeWrite());
      let got = 0;
      for (let n = await s.discard(); n !== null; n = await s.discard()) got += n;
      await sending;
      assert.equal(got, 200_001, "the urgent byte is in the stream");
    });
  } finally {
    proto.read = read;
  }
  assert.equal(copies, 0, "discard copied bytes");
  c.close();
  s.close();
  env.finish();
});

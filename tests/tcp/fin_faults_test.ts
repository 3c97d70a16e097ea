/**
 * The end of a stream under faults, between two stacks on the virtual
 * network: the sender writes everything, then `closeWrite()`; the receiver
 * reads until `read()` resolves null. Over many seeds with loss,
 * reordering and duplication, every byte and then the end of stream must
 * arrive, and both ends must close cleanly (FIN retransmitted like data,
 * FIN out of order kept until the hole fills, lost ACKs of a FIN, TIME-WAIT
 * for 2×MSL), with no packet buffer leaked.
 *
 * A reported "hang" of this pattern was the reader's loop, not TCP: reading
 * into `got.subarray(n)` once `n` reaches the buffer's length passes an
 * empty buffer, and `read()` of an empty buffer resolves 0 (as `Deno.Conn`
 * does), never null; the loop then spins on microtasks, so the virtual
 * network never runs again and not even `run()`'s timeout can fire. The
 * last test pins that behaviour down.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { Faults } from "../../drivers/loopback/faults.ts";
import { receiveAll, sendAll } from "./_transfer.ts";

const MSL2 = ms(60_000);

/** The fault mixes and sizes the seeds cycle through. */
const MIXES: readonly { readonly faults: Faults; readonly size: number }[] = [
  { faults: { delay: ms(2), loss: 0.02, reorder: 0.05 }, size: 200_000 },
  { faults: { delay: ms(2), loss: 0.05, reorder: 0.2, duplicate: 0.05 }, size: 30_000 },
  { faults: { delay: ms(1), loss: 0.05, reorder: 0.1 }, size: 1 },
  { faults: { delay: ms(3), loss: 0.03, duplicate: 0.03 }, size: 2920 },
  { faults: { delay: ms(2), loss: 0.01, reorder: 0.05, jitter: ms(1) }, size: 65_536 },
];
const SEEDS = 40;

/** Sockets other than listeners, as `state local remote`, of both stacks. */
function leftover(env: ReturnType<typeof makeLink>): string[] {
  return [...env.a.sockets(), ...env.b.sockets()]
    .filter((s) => s.state !== "LISTEN")
    .map((s) => `${s.state} ${s.local} ${s.remote}`);
}

Deno.test(`tcp write all, closeWrite(), read to EOF under loss, reordering and duplication: every byte, EOF, clean close (${SEEDS} seeds)`, async () => {
  let lost = 0, reordered = 0, duplicated = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { faults, size } = MIXES[seed % MIXES.length]!;
    const env = makeLink({ seed, faults });
    try {
      await env.run(async () => {
        const l = env.b.listen({ port: 80 });
        const [c, s] = await Promise.all([
          env.a.connect({ hostname: "10.0.0.2", port: 80 }),
          l.accept(),
        ]);
        l.close();
        const [sent, got] = await Promise.all([sendAll(c, seed, size), receiveAll(s)]);
        assert.equal(got.bytes, size, `seed ${seed}: byte count`);
        assert.equal(got.hash, sent, `seed ${seed}: SHA-256`);
        assert.equal(env.b.sockets().find((x) => x.local === "10.0.0.2:80")?.state, "CLOSE-WAIT");
        // The receiver closes in turn: the sender reads its end of stream.
        s.close();
        assert.equal(await c.read(new Uint8Array(16)), null, `seed ${seed}: EOF at the sender`);
        c.close();
      }, { timeout: ms(300_000) });
      // LAST-ACK's FIN may need retransmissions; TIME-WAIT lasts 2×MSL.
      env.runFor(MSL2 + ms(120_000));
      assert.deepEqual(leftover(env), [], `seed ${seed}: connections left`);
      for (const dir of ["a->b", "b->a"] as const) {
        const st = env.link.stats(dir);
        lost += st.dropped.loss;
        reordered += st.reordered;
        duplicated += st.duplicated;
      }
    } finally {
      env.close();
    }
    env.finish();
  }
  // The faults did happen (the seeds are not all lucky).
  assert.ok(lost > 50 && reordered > 100 && duplicated > 10, `${lost} ${reordered} ${duplicated}`);
});

Deno.test(`tcp both ends write, closeWrite() and read to EOF at once under loss and reordering (${SEEDS / 4} seeds)`, async () => {
  for (let seed = 1; seed <= SEEDS / 4; seed++) {
    const env = makeLink({ seed, faults: { delay: ms(2), loss: 0.03, reorder: 0.1 } });
    try {
      await env.run(async () => {
        const l = env.b.listen({ port: 80 });
        const [c, s] = await Promise.all([
          env.a.connect({ hostname: "10.0.0.2", port: 80 }),
          l.accept(),
        ]);
        l.close();
        const [toB, toA, atB, atA] = await Promise.all([
          sendAll(c, 2 * seed, 20_000),
          sendAll(s, 2 * seed + 1, 7_000),
          receiveAll(s),
          receiveAll(c),
        ]);
        assert.deepEqual([atB.bytes, atB.hash], [20_000, toB], `seed ${seed}: a→b`);
        assert.deepEqual([atA.bytes, atA.hash], [7_000, toA], `seed ${seed}: b→a`);
        c.close();
        s.close();
      }, { timeout: ms(300_000) });
      env.runFor(MSL2 + ms(120_000));
      assert.deepEqual(leftover(env), [], `seed ${seed}: connections left`);
    } finally {
      env.close();
    }
    env.finish();
  }
});

Deno.test("tcp CLOSE-WAIT: read() into an empty buffer resolves 0 (as Deno.Conn), the next read null", async () => {
  const env = makeLink({ seed: 3, faults: { delay: ms(1) } });
  await env.run(async () => {
    using l = env.b.listen({ port: 80 });
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    await c.write(new Uint8Array([1, 2, 3]));
    await c.closeWrite();
    await new Promise<void>((resolve) => env.net.at(env.net.now() + ms(10), resolve));
    assert.equal(env.b.sockets().find((x) => x.local === "10.0.0.2:80")?.state, "CLOSE-WAIT");
    const got = new Uint8Array(3);
    let n = 0;
    while (n < got.length) n += (await s.read(got.subarray(n)))!;
    assert.deepEqual(got, new Uint8Array([1, 2, 3]));
    // An empty buffer is not end of stream: a loop that keeps reading into
    // got.subarray(n) never sees null.
    assert.equal(await s.read(got.subarray(n)), 0);
    assert.equal(await s.read(new Uint8Array(1)), null);
    c.close();
    s.close();
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("tcp FIN lost, the ACK of each FIN lost: both FINs retransmitted until acknowledged, then CLOSED", async () => {
  const env = makeLink({ seed: 9, faults: { delay: ms(5) } });
  const sleep = (d: number) =>
    new Promise<void>((resolve) => env.net.at(env.net.now() + d, resolve));
  const state = (host: typeof env.a) => host.sockets().find((x) => x.state !== "LISTEN")?.state;
  await env.run(async () => {
    const l = env.b.listen({ port: 80 });
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    l.close();
    await c.write(new Uint8Array(3000).fill(1));
    const buf = new Uint8Array(4096);
    let n = 0;
    while (n < 3000) n += (await s.read(buf))!;
    await sleep(ms(100));
    // a's FIN and b's ACK of its first retransmission are lost.
    env.link.partition("both");
    await c.closeWrite();
    const eof = s.read(buf);
    await sleep(ms(1_500));
    assert.equal(state(env.a), "FIN-WAIT-1");
    env.link.heal("a->b");
    await sleep(ms(3_000));
    assert.equal(state(env.b), "CLOSE-WAIT");
    assert.equal(state(env.a), "FIN-WAIT-1");
    env.link.heal("b->a");
    assert.equal(await eof, null);
    await sleep(ms(10_000));
    assert.equal(state(env.a), "FIN-WAIT-2");
    // a's ACK of b's FIN is lost: b retransmits its FIN from LAST-ACK.
    env.link.partition("a->b");
    s.close();
    assert.equal(await c.read(buf), null);
    assert.equal(state(env.a), "TIME-WAIT");
    assert.equal(state(env.b), "LAST-ACK");
    await sleep(ms(1_000));
    env.link.heal("a->b");
    await sleep(ms(10_000));
    assert.equal(state(env.b), undefined);
    assert.equal(state(env.a), "TIME-WAIT");
    c.close();
  }, { timeout: ms(60_000) });
  env.runFor(MSL2);
  assert.equal(env.a.sockets().length, 0);
  assert.ok(env.a.counters.value("tcp.retrans_segs") >= 2);
  assert.ok(env.b.counters.value("tcp.retrans_segs") >= 1);
  env.finish();
});

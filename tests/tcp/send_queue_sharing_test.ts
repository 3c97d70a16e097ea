/**
 * The send queue's chunks are the segments' own buffers (send_queue.ts), and
 * in memory the receiver holds the sender's buffer: both stacks keep the
 * same bytes. Every pool here poisons what it takes back (0xee), so a buffer
 * given back while anyone still used it shows up as wrong bytes; what the
 * application reads must be exactly what was written, and nothing may leak.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { PacketPool } from "../../stack/packet_pool.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import type { Faults } from "../../drivers/loopback/faults.ts";
import { pattern } from "./_tcp.ts";

const KIB = 1024;
const RUN = { timeout: 60_000_000 }; // virtual µs: a hang fails instead

function poison(pool: PacketPool): void {
  const recycle = pool.recycle.bind(pool);
  pool.recycle = (p: PacketBuffer) => {
    p.buf.fill(0xee);
    recycle(p);
  };
}

function pair(directions: { "a->b"?: Faults; "b->a"?: Faults } = {}) {
  const env = makeLink({ seed: 5, faults: { delay: ms(1) }, directions });
  for (const s of [env.a, env.b]) poison(s.pool);
  poison(env.net.pool);
  return env;
}

async function connect(env: ReturnType<typeof pair>): Promise<[TcpConn, TcpConn]> {
  const l = env.b.listen({ port: 80 });
  const conns = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()])
  );
  l.close();
  return conns;
}

async function readAll(env: ReturnType<typeof pair>, c: TcpConn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  await env.run(async () => {
    while (got < n) {
      const k = await c.read(out.subarray(got));
      if (k === null) break;
      got += k;
    }
  }, RUN);
  return out.subarray(0, got);
}

Deno.test("tcp send queue: chunks the receiver holds unread are copied for a retransmission, and read back intact", async () => {
  // b does not read and a loses most of b's ACKs: a's retransmission timer
  // resends data b holds in a's own buffers.
  const env = pair({ "b->a": { delay: ms(1), loss: 0.6 } });
  const [c, s] = await connect(env);
  const data = pattern(96 * KIB);
  await env.run(() => c.write(data), RUN);
  env.runFor(ms(3000));
  assert.ok(env.a.counters.get("tcp.retrans_segs").value > 0, "retransmitted");
  assert.ok(env.a.counters.get("tcp.tx_shared_copies").value > 0, "copied, not rewritten");
  assert.ok(env.a.pool.held > 0, "b holds a's buffers");
  assert.deepEqual(await readAll(env, s, data.length), data);
  c.close();
  s.close();
  env.runFor(ms(5000));
  env.finish();
});

Deno.test("tcp send queue: a connection closed with its data held unread by the peer leaves the bytes to the peer", async () => {
  const env = pair();
  const [c, s] = await connect(env);
  const data = pattern(64 * KIB);
  await env.run(async () => {
    await c.write(data);
    await c.closeWrite();
  }, RUN);
  env.runFor(ms(100)); // acknowledged: a's queue lets go, b still holds
  c.close();
  env.runFor(ms(100));
  assert.ok(env.a.pool.held > 0, "b holds a's buffers");
  assert.deepEqual(await readAll(env, s, data.length + 1), data, "then the end of the stream");
  s.close();
  env.runFor(ms(5000));
  env.finish();
});

Deno.test("tcp send queue: an abort (RST) while the peer holds the data leaves what it read intact", async () => {
  const env = pair();
  const [c, s] = await connect(env);
  const data = pattern(64 * KIB);
  await env.run(() => c.write(data), RUN);
  env.runFor(ms(100));
  assert.ok(env.a.pool.held > 0, "b holds a's buffers");
  c.setLinger(0);
  c.close(); // RST: a's queue is disposed
  env.runFor(ms(100));
  // b still reads what arrived (copied out of a's buffers when the reset
  // ended the connection), exactly what a wrote, not poisoned.
  const got = new Uint8Array(data.length);
  let n = 0;
  await env.run(async () => {
    try {
      while (n < got.length) {
        const k = await s.read(got.subarray(n));
        if (k === null) break;
        n += k;
      }
    } catch {
      // the reset
    }
  }, RUN);
  assert.equal(n, data.length, "what arrived before the reset is still readable");
  assert.deepEqual(got, data);
  s.close();
  env.runFor(ms(5000));
  env.finish();
});

Deno.test("tcp send queue: SACK recovery over chunks (loss both ways) delivers every byte once", async () => {
  const env = pair({
    "a->b": { delay: ms(2), loss: 0.05, reorder: 0.05, duplicate: 0.02 },
    "b->a": { delay: ms(2), loss: 0.05 },
  });
  const [c, s] = await connect(env);
  const data = pattern(512 * KIB);
  const got = new Uint8Array(data.length + 1);
  let n = 0;
  await env.run(async () => {
    const writer = (async () => {
      for (let w = 0; w < data.length;) w += await c.write(data.subarray(w));
      await c.closeWrite();
    })();
    for (let k = await s.read(got); k !== null; k = await s.read(got.subarray(n))) n += k;
    await writer;
  }, RUN);
  assert.deepEqual(got.subarray(0, n), data);
  assert.ok(env.a.counters.get("tcp.retrans_segs").value > 0);
  c.close();
  s.close();
  env.runFor(ms(5000));
  env.finish();
});

/**
 * What a send queue's medium chunks keep alive (MTU 9000: one segment of
 * ~9 KB a chunk, in a 16 KiB buffer): TCP's account charges each chunk its
 * buffer, so the backing stores the chunks keep reachable must add up to no
 * more than that. Chunks carved from the pool's 1 MiB checksum arenas broke
 * it: one chunk kept per arena (a full segment in flight, its buffer shared
 * by the send queue and the link) kept the whole arena alive.
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "../../stack/packet.ts";
import { MEDIUM_BUFFER_SIZE } from "../../stack/packet_pool.ts";
import { makeLink, ms } from "../_harness.ts";
import { counter, idle, openPairs } from "./_memory.ts";

/** Bytes of the distinct backing stores `pkts` keep reachable. */
function pinnedBytes(pkts: readonly PacketBuffer[]): number {
  let n = 0;
  for (const b of new Set(pkts.map((p) => p.buf.buffer))) n += b.byteLength;
  return n;
}

Deno.test("tcp memory at MTU 9000: full segments in flight, one per connection among other jumbo frames, keep alive no more than the account charges", async () => {
  const N = 24, FILLER = 63;
  const env = makeLink({ seed: 41, mtu: 9000 });
  const pairs = await openPairs(env, N);
  const mss = pairs[0]![0].info().mss!;
  assert.ok(mss > 8000, `MSS ${mss}`);
  // A second of delay: every segment stays in flight (its chunk shared by
  // the send queue and the link) while the test looks.
  env.link.setFaults("a->b", { delay: ms(1000) });
  const pool = env.a.pool;
  const allocated: PacketBuffer[] = [];
  // Every buffer the pool hands out (the send queues' chunks among them).
  const { alloc, allocKept } = pool;
  pool.alloc = (length: number, headroom?: number) => {
    const p = alloc.call(pool, length, headroom);
    allocated.push(p);
    return p;
  };
  pool.allocKept = (length: number, headroom?: number) => {
    const p = allocKept.call(pool, length, headroom);
    allocated.push(p);
    return p;
  };
  const fillers: PacketBuffer[] = [];
  try {
    await env.run(async () => {
      const writes: Promise<number>[] = [];
      for (const [c] of pairs) {
        // Jumbo frames received around the write (what a busy host's pool
        // hands out meanwhile): the chunk lands beside them.
        for (let i = 0; i < FILLER; i++) fillers.push(alloc.call(pool, 9014));
        writes.push(c.write(new Uint8Array(mss).fill(0x5a)));
      }
      assert.deepEqual(await Promise.all(writes), pairs.map(() => mss));
    });
  } finally {
    pool.alloc = alloc;
    pool.allocKept = allocKept;
  }
  for (const f of fillers) f.release(); // read and let go
  await idle(env, ms(100)); // every segment is on the link, none arrived
  for (const [c] of pairs) assert.equal(c.info().sendQ, mss, "in flight, unacknowledged");
  const chunks = allocated.filter((p) => !p.released);
  assert.equal(chunks.length, N, "one chunk per connection");
  for (const p of chunks) {
    assert.equal(p.buf.length, MEDIUM_BUFFER_SIZE);
    assert.ok(p.shared, "sent whole: shared with the link");
  }
  const account = counter(env.a, "memory_allocated");
  const pinned = pinnedBytes(chunks);
  assert.ok(
    pinned <= account,
    `the chunks keep ${pinned} bytes alive, the account charges ${account}`,
  );
  for (const [c, s] of pairs) {
    c.close();
    s.close();
  }
  await idle(env, ms(5000));
  assert.equal(counter(env.a, "memory_allocated"), 0);
  assert.equal(pool.outstanding, 0);
  env.finish();
});

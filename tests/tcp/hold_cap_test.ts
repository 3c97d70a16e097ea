/**
 * The pool's cap on the slabs held segments keep alive (`PacketPool`
 * `heldSlabBytes`, `takeHold`), driven through a live connection: a
 * receiver whose application does not read yet holds the sender's small
 * segments (an in-memory link hands the receiver the sender's buffers),
 * while other traffic of the sender carves through its pool between them,
 * so each held segment would keep a slab of its own alive. Past the cap the
 * receive queue copies instead (`tcp.rcv_hold_refused`), and the stream the
 * application reads is still the one written.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createStack, VirtualNetwork } from "../../mod.ts";
import { PacketPool, SMALL_BUFFER_SIZE } from "../../stack/packet_pool.ts";
import { EnvBase, ms, pluginsWith } from "../_harness.ts";
import { followAllocations, pinnedBytes } from "../_pool_pinning.ts";

/** Connections, and segments each receives (round-robin over them). */
const CONNS = 12;
const SEGMENTS = 4;
/** Under a small buffer's MSS and over half of it: worth holding (rcv_queue.ts), and never one whole send chunk (copied into a fresh buffer). */
const WRITE = 1200;
/** Datagrams of other traffic between segments: more than one 1 MiB slab of small buffers. */
const BURST = 600;
const MAX_FREE_SMALL = 64; // the sender's pool: 32 small holds
/** The cap: what the small holds can be charged, and one 1 MiB slab. */
const CAP = (MAX_FREE_SMALL / 2) * SMALL_BUFFER_SIZE + (1 << 20);

/** The `i`th segment's bytes of connection `j`. */
function chunkOf(j: number, i: number): Uint8Array {
  return new Uint8Array(WRITE).map((_, k) => (j * 97 + i * 31 + k * 7) & 0xff);
}

Deno.test("tcp hold cap: a slow reader holding a peer's small segments scattered over its slabs keeps alive at most the cap; past it they are copied, counted, and read intact", async () => {
  const net = new VirtualNetwork({ seed: 11 });
  const env = new EnvBase(net, null);
  const plugins = pluginsWith({ tcp: { receiveBuffer: 1 << 20 } });
  const senderPool = new PacketPool({ maxFreeSmall: MAX_FREE_SMALL });
  const a = env.addStack(
    createStack({ clock: net.clock, seed: 1, strictCounters: true, plugins, pool: senderPool }),
  );
  const b = env.addStack(createStack({ clock: net.clock, seed: 2, strictCounters: true, plugins }));
  const link = net.link({ faults: { delay: ms(1) } });
  a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
  b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  const wait = (d: number) => new Promise<void>((r) => net.at(net.now() + d, r));
  try {
    const listener = b.listen({ port: 9000 });
    const noise = a.listenDatagram({ transport: "udp", port: 5000 });
    const filler = new Uint8Array(1000).fill(0x5a);
    const follow = followAllocations(senderPool);
    let pinned = -1, heldSlabs = -1, held = -1;
    const results = await net.run(async () => {
      const pairs = [];
      for (let j = 0; j < CONNS; j++) {
        const [c, s] = await Promise.all([
          a.connect({ hostname: "10.0.0.2", port: 9000 }),
          listener.accept(),
        ]);
        c.setNoDelay(true);
        pairs.push({ c, s, h: createHash("sha256") });
      }
      for (let i = 0; i < SEGMENTS; i++) {
        for (let j = 0; j < CONNS; j++) {
          // Other traffic, all in flight at once (to a port nobody listens
          // on): the sender's pool carves a slab's worth of buffers, and
          // keeps only 64 of them when they come back.
          const burst: Promise<number>[] = [];
          for (let k = 0; k < BURST; k++) {
            burst.push(noise.send(filler, { transport: "udp", hostname: "10.0.0.2", port: 7 }));
          }
          const { c, h } = pairs[j]!;
          const chunk = chunkOf(j, i);
          for (let off = 0; off < WRITE;) off += await c.write(chunk.subarray(off));
          h.update(chunk);
          await Promise.all(burst);
          await wait(ms(5));
        }
      }
      for (const { c } of pairs) await c.closeWrite();
      await wait(ms(50));
      // No reader has read yet: every buffer of the sender's pool still
      // out of it is a segment b holds (the send queues' chunks are
      // allocKept's, each in a store of its own, and all acknowledged).
      const out = follow.handedOut.filter((p) => !p.released && !p.kept);
      pinned = pinnedBytes(out);
      heldSlabs = senderPool.heldSlabBytes;
      held = senderPool.held;
      const results = [];
      for (const { c, s, h } of pairs) {
        const r = createHash("sha256");
        const buf = new Uint8Array(777);
        let bytes = 0;
        for (let n = await s.read(buf); n !== null; n = await s.read(buf)) {
          r.update(buf.subarray(0, n));
          bytes += n;
        }
        c.close();
        s.close();
        results.push({ sent: h.digest("hex"), got: r.digest("hex"), bytes });
      }
      return results;
    }, { timeout: 600_000_000 });
    follow.stop();
    noise.close();
    listener.close();
    env.runFor(ms(200_000));
    const refused = b.counters.get("tcp.rcv_hold_refused").value;
    // Without the cap: 32 held (the pool's most), 33,554,432 bytes alive.
    assert.ok(pinned <= CAP, `held segments keep ${pinned} bytes alive, the cap is ${CAP}`);
    assert.ok(held >= 1, `b held ${held} of a's segments`);
    assert.ok(senderPool.refusedHolds > 0, "the cap refused holds");
    assert.equal(pinned, heldSlabs, "the pool's account is what they keep alive");
    for (const [j, r] of results.entries()) {
      assert.equal(r.bytes, SEGMENTS * WRITE, `connection ${j}`);
      assert.equal(r.got, r.sent, `connection ${j}: the stream read is the one written`);
    }
    assert.equal(refused, senderPool.refusedHolds, "b counted each refused hold");
    assert.equal(senderPool.held + b.pool.held, 0);
    assert.equal(senderPool.heldSlabBytes, 0);
    env.finish();
  } finally {
    env.close();
  }
});

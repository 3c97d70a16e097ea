/**
 * review16, risk 3: a packet waiting for ARP resolution is kept as a copy
 * in a store of its own (`PacketPool.keep`, 28e1bd2) and the original is
 * released. A TCP segment sent uncopied is its send queue's chunk
 * (`PacketBuffer.share`): released, the chunk is the queue's alone again,
 * so a retransmission reclaims it and writes new headers into it while
 * the copy still waits. The copy must carry the bytes as first sent, and
 * every buffer and byte of the memory account must come back.
 *
 * b goes silent (its link output dropped) in the middle of a transfer: a's
 * ARP entry for b fails, and a's retransmissions wait in the neighbour
 * queue, some of them twice, until b answers again.
 */
import assert from "node:assert/strict";
import { ACCEPT, PacketBuffer, PacketPool, type ProtocolPlugin } from "../../mod.ts";
import { makeLink, ms } from "../_harness.ts";
import { poisonPool } from "../_poisoned_pool.ts";
import { receiveAll, sendAll } from "../tcp/_transfer.ts";

const PORT = 48011;
const TOTAL = 300_000;
const SECOND = 1_000_000;

/** Drops every frame host b (MAC ending in 2) sends while `state.silent`. */
function silence(state: { silent: boolean }): ProtocolPlugin {
  return {
    manifest: {
      name: "silence",
      version: "1.0.0",
      api: "^1.0.0",
      description: "drops b's frames while told to",
      layer: "middlebox",
      binds: [],
      hooks: [{ point: "egress" }],
      counters: ["egress.dropped"],
    },
    setup() {
      return {
        hook(_point, pkt) {
          if (state.silent && pkt.buf[pkt.start + 11] === 2) return "dropped";
          return ACCEPT;
        },
      };
    },
  };
}

Deno.test("review16 neighbour queue: TCP segments kept while ARP fails and resent meanwhile arrive as sent; the pools and the memory account go back to zero", async () => {
  // Counts what keep() kept, and of it what a TCP send queue shared (since
  // 7125ac0 a send queue's small chunk is a store of its own, kept as is).
  const proto = PacketPool.prototype;
  const original = proto.keep;
  let keeps = 0;
  let sharedKeeps = 0;
  proto.keep = function (this: PacketPool, pkt: PacketBuffer) {
    keeps++;
    if (pkt.shared) sharedKeeps++;
    return original.call(this, pkt);
  };
  try {
    const state = { silent: false };
    const env = makeLink({
      seed: 41,
      // 300 kB take about 3 s at 100 kB/s: b falls silent mid-transfer.
      directions: {
        "a->b": { delay: ms(5), bandwidth: 800_000, queueLimit: { bytes: 32_768 } },
        "b->a": { delay: ms(5) },
      },
      extraPlugins: [silence(state)],
      withoutPlugins: ["ndp", "mld", "slaac"],
      plugins: {
        arp: {
          reachableTime: SECOND,
          delayFirstProbeTime: 200_000,
          retransmitTime: 200_000,
          failedTime: 100_000,
        },
      },
    });
    for (const pool of [env.a.pool, env.b.pool, env.net.pool]) poisonPool(pool);
    const l = env.b.listen({ port: PORT });
    let sent = "";
    let got = { hash: "", bytes: 0 };
    let unresolvedSeen = false;
    await env.run(async () => {
      const [c, s] = await Promise.all([
        env.a.connect({ hostname: "10.0.0.2", port: PORT }),
        l.accept(),
      ]);
      const reading = receiveAll(s);
      // b falls silent 1 s in, for 8 s: a's entry goes stale, fails, and
      // the RTOs' segments wait for ARP.
      const t0 = env.net.now();
      env.net.at(t0 + ms(1_000), () => state.silent = true);
      env.net.at(t0 + ms(9_000), () => state.silent = false);
      for (let t = 100; t <= 10_000; t += 100) {
        env.net.at(t0 + ms(t), () => {
          if (env.a.neighbors().some((n) => n.state === "INCOMPLETE")) unresolvedSeen = true;
        });
      }
      sent = await sendAll(c, 41, TOTAL);
      c.close();
      got = await reading;
      s.close();
    }, { timeout: 600 * SECOND });
    env.runFor(ms(70_000));
    l.close();
    assert.ok(unresolvedSeen, "a's ARP entry for b was unresolved while data waited");
    assert.ok(sharedKeeps > 1, `keep kept send-queue segments (${sharedKeeps} of ${keeps})`);
    assert.equal(got.bytes, TOTAL);
    assert.equal(got.hash, sent);
    for (const [name, stack] of [["a", env.a], ["b", env.b]] as const) {
      assert.equal(stack.counters.value("tcp.memory_allocated"), 0, `${name}'s TCP account`);
      assert.equal(stack.pool.outstanding, 0, `${name}'s pool`);
    }
    env.finish();
  } finally {
    proto.keep = original;
  }
});

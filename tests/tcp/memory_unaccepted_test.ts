/**
 * The TCP memory account (`memory.ts`) for connections no user ever had:
 * children in a listener's accept queue that received data (held
 * super-segments and rings) when the listener closes or the stack closes,
 * and a Fast Open child whose SYN data was taken but whose handshake never
 * completes. Nobody can read those bytes any more: each way, the account
 * returns to exactly 0 and no packet stays held (session 12's audit of the
 * account added in sessions 10-11).
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { LinkPair } from "../_harness.ts";
import type { TcpConn, TcpListener } from "../../stack/sockets/types.ts";
import { counter, idle } from "./_memory.ts";
import { readText, text } from "./_tcp.ts";

const KIB = 1024;

/** Packets held past receive() in every pool of the link. */
function heldPackets(env: LinkPair): number {
  return env.a.pool.held + env.b.pool.held + env.net.pool.held;
}

/**
 * `n` connections a→b at MTU `mtu` that b's listener never accepts, each
 * writing 128 KiB: after 200 ms b's children hold the data (packets held
 * at MTU 65535, rings at 1500), charged to b's account.
 */
async function unaccepted(
  env: LinkPair,
  n: number,
): Promise<{ l: TcpListener; conns: TcpConn[] }> {
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80 });
  const conns = await env.run(() =>
    Promise.all(Array.from({ length: n }, () => env.a.connect({ hostname: "10.0.0.2", port: 80 })))
  );
  for (const c of conns) {
    const p = new Uint8Array(128 * KIB).fill(0x33);
    (async () => {
      let off = 0;
      while (off < p.length) off += await c.write(p.subarray(off));
    })().catch(() => {}); // ends with the connection
  }
  await idle(env, ms(200));
  assert.ok(counter(env.b, "memory_allocated") > n * 64 * KIB, "b's children hold the data");
  return { l, conns };
}

for (const mtu of [65535, 1500]) {
  Deno.test(`tcp memory: a listener closed with ${mtu === 65535 ? "held super-segments" : "data"} in unaccepted children gives every byte back`, async () => {
    const env = makeLink({ seed: 41, mtu, faults: { delay: ms(1) } });
    const { l, conns } = await unaccepted(env, 4);
    if (mtu === 65535) assert.ok(heldPackets(env) > 0, "b holds super-segments");
    l.close(); // the children are reset: nobody will read their data
    assert.equal(counter(env.b, "memory_allocated"), 0, "b's account");
    assert.equal(env.b.pool.held + env.net.pool.held, 0, "no packet held by b");
    await idle(env, ms(100));
    for (const c of conns) c.close();
    await idle(env, ms(2_000));
    assert.equal(heldPackets(env), 0);
    assert.equal(counter(env.a, "memory_allocated"), 0, "a's account");
    env.finish();
  });
}

Deno.test("tcp memory: the stack closing with data in unaccepted children gives every byte back at once", async () => {
  const env = makeLink({ seed: 42, mtu: 65535, faults: { delay: ms(1) } });
  const { conns } = await unaccepted(env, 4);
  env.b.close();
  assert.equal(counter(env.b, "memory_allocated"), 0, "b's account");
  assert.equal(env.b.pool.held + env.net.pool.held, 0, "no packet held by b");
  for (const c of conns) c.close();
  await idle(env, ms(2_000));
  assert.equal(counter(env.a, "memory_allocated"), 0, "a's account");
  env.finish();
});

Deno.test("tcp memory: Fast Open SYN data whose handshake never completes is given back when the child times out, and its Fast Open slot with it", async () => {
  const env = makeLink({ seed: 43, faults: { delay: ms(5) } });
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80, fastOpen: 1 });
  // A cookie request: a caches b's cookie.
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, fastOpenData: text("hi") }),
      l.accept(),
    ]);
    assert.equal(await readText(s, 2), "hi");
    c.close();
    s.close();
  });
  await idle(env, ms(100));
  assert.equal(counter(env.b, "memory_allocated"), 0);
  const data = new TextEncoder().encode("x".repeat(1000));
  // The SYN with data reaches b; the link goes down before the SYN-ACK gets back.
  let cut = false;
  const watch = () => {
    if (counter(env.b, "tfo_syn_data_accepted") === 1) {
      env.link.partition();
      cut = true;
    } else env.net.at(env.net.now() + 50, watch);
  };
  watch();
  // Driven by the idle() runs below.
  const failed = env.a.connect({ hostname: "10.0.0.2", port: 80, fastOpenData: data }).then(
    (c) => c.close(),
    () => "failed",
  );
  await idle(env, ms(20));
  assert.ok(cut, "SYN data taken");
  assert.ok(counter(env.b, "memory_allocated") >= data.length, "the child's store is charged");
  await idle(env, ms(200_000)); // b's SYN-ACK retries (5) run out
  assert.equal(counter(env.b, "memory_allocated"), 0, "given back with the child");
  assert.equal(await failed, "failed");
  env.link.heal();
  // The Fast Open queue (1) has room again: the next SYN's data is taken.
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, fastOpenData: data }),
      l.accept(),
    ]);
    c.close();
    s.close();
  });
  assert.equal(counter(env.b, "tfo_syn_data_accepted"), 2);
  l.close();
  await idle(env, ms(70_000));
  assert.equal(counter(env.b, "memory_allocated"), 0);
  env.finish();
});

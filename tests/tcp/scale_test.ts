/**
 * 10,000 concurrent connections on one stack: opened from another stack
 * over one link (all through one listener), a byte exchanged each way on
 * every one, held open and idle for ten minutes of virtual time (no
 * traffic, no buffer memory kept), then closed; TIME-WAIT drains and
 * nothing leaks. `TCP_SCALE_CONNS` changes the count (the ephemeral port
 * range allows 16,384).
 */
import assert from "node:assert/strict";
import { makeLink } from "../_harness.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";

const N = Number(Deno.env.get("TCP_SCALE_CONNS") ?? 10_000);
const SECOND = 1_000_000;

Deno.test(`tcp ${N} concurrent connections: open, one byte each way, idle 10 min, close`, async () => {
  const env = makeLink({ seed: 31 });
  const { a, b } = env;
  const l = b.listen({ port: 7, backlog: 1024 });
  const client: TcpConn[] = [];
  const server: TcpConn[] = [];
  await env.run(async () => {
    await a.ping("10.0.0.2");
    for (let i = 0; i < N; i += 100) {
      const batch: Promise<TcpConn>[] = [];
      for (let j = i; j < Math.min(N, i + 100); j++) {
        batch.push(a.connect({ hostname: "10.0.0.2", port: 7 }));
      }
      client.push(...await Promise.all(batch));
      for (let j = 0; j < batch.length; j++) server.push(await l.accept());
    }
  }, { timeout: 3600 * SECOND });
  assert.equal(a.sockets().length, N);
  assert.equal(b.sockets().length, N + 1); // and the listener
  assert.equal(new Set(client.map((c) => c.localAddr.port)).size, N, "distinct ports");
  // One byte each way on every connection, each side checking what it got.
  await env.run(async () => {
    await Promise.all(client.map((c, i) => c.write(new Uint8Array([i & 0xff]))));
    await Promise.all(server.map(async (s, i) => {
      const buf = new Uint8Array(2);
      assert.equal(await s.read(buf), 1);
      assert.equal(buf[0], i & 0xff, `connection ${i}`);
      await s.write(buf.subarray(0, 1));
    }));
    await Promise.all(client.map(async (c, i) => {
      const buf = new Uint8Array(2);
      assert.equal(await c.read(buf), 1);
      assert.equal(buf[0], i & 0xff, `connection ${i}`);
    }));
  }, { timeout: 3600 * SECOND });
  // b learned a from its ARP request (STALE, as in Linux) and confirms it
  // with one unicast probe 5 s after first use (Linux's DELAY; Linux would
  // take TCP's progress as confirmation instead), and IPv6's start-up ends
  // (up to 3 Router Solicitations 4 s apart after at most 1 s, RFC 4861
  // §6.3.7): let that settle first.
  env.runFor(12 * SECOND);
  // Idle: nothing on the wire, everything still established, nothing queued.
  const sent = env.link.stats("a->b").sent + env.link.stats("b->a").sent;
  env.runFor(600 * SECOND);
  assert.equal(env.link.stats("a->b").sent + env.link.stats("b->a").sent, sent, "idle is silent");
  const all = [...a.sockets(), ...b.sockets().filter((s) => s.state !== "LISTEN")];
  assert.equal(all.length, 2 * N);
  assert.ok(all.every((s) => s.state === "ESTABLISHED" && s.recvQ === 0 && s.sendQ === 0));
  assert.ok(all.every((s) => s.bytesAcked === 1 && s.bytesReceived === 1));
  // Close: the clients first (they keep TIME-WAIT), then the servers.
  await env.run(async () => {
    for (const c of client) c.close();
    await Promise.all(server.map(async (s) => assert.equal(await s.read(new Uint8Array(1)), null)));
    for (const s of server) s.close();
    await new Promise<void>((r) => env.net.at(env.net.now() + SECOND, r));
  }, { timeout: 3600 * SECOND });
  assert.equal(b.sockets().length, 1);
  const tw = a.sockets();
  assert.equal(tw.length, N);
  assert.ok(tw.every((s) => s.state === "TIME-WAIT"));
  env.runFor(61 * SECOND);
  assert.deepEqual(a.sockets(), []);
  l.close();
  env.finish();
});

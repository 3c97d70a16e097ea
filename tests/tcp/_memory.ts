/**
 * Shared steps of the TCP memory tests (memory_test.ts, memory_held_test.ts):
 * counters, idling the virtual network, opening pairs, reading everything back.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { LinkPair } from "../_harness.ts";
import type { Stack } from "../../mod.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { receiveAll } from "./_transfer.ts";

/** A tcp counter of `stack`. */
export function counter(stack: Stack, name: string): number {
  return stack.counters.snapshot()[`tcp.${name}`] ?? 0;
}

/** Runs the virtual network for `d` µs. */
export function idle(env: LinkPair, d: number): Promise<void> {
  return env.run(() => new Promise<void>((r) => env.net.at(env.net.now() + d, r)));
}

/** `n` connections a→b (b accepting); returns the pairs. */
export async function openPairs(env: LinkPair, n: number): Promise<[TcpConn, TcpConn][]> {
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80 });
  const pairs: [TcpConn, TcpConn][] = [];
  await env.run(async () => {
    for (let i = 0; i < n; i++) {
      pairs.push(
        await Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()]),
      );
    }
  });
  l.close();
  return pairs;
}

/**
 * A connection a→b on `port` whose b side does not read while a writes
 * 256 KiB (the writer ends with the connection): b's account fills.
 */
export async function stalledPair(env: LinkPair, port = 81): Promise<{ c: TcpConn; s: TcpConn }> {
  const l = env.b.listen({ port });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port }), l.accept()])
  );
  l.close();
  const p = new Uint8Array(256 * 1024).fill(0x5a);
  (async () => {
    let off = 0;
    while (off < p.length) off += await c.write(p.subarray(off));
  })().catch(() => {}); // ends with the connection
  return { c, s };
}
/**
 * Every b side reads to the end: each got `each` bytes with the hash its
 * sender (`sent`, from `sendAll`) reports; then every connection is closed.
 */
export async function readBackAndClose(
  env: LinkPair,
  pairs: [TcpConn, TcpConn][],
  sent: Promise<string>[],
  each: number,
): Promise<void> {
  const got = await env.run(
    () => Promise.all(pairs.map(([, s]) => receiveAll(s))),
    { timeout: 600_000_000 },
  );
  const hashes = await env.run(() => Promise.all(sent));
  for (let i = 0; i < pairs.length; i++) {
    assert.equal(got[i]!.bytes, each);
    assert.equal(got[i]!.hash, hashes[i]);
  }
  for (const [c, s] of pairs) {
    c.close();
    s.close();
  }
}

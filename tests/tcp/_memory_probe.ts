/**
 * Measures what TCP buffers cost the process when applications stop
 * reading: N connections between two stacks, every sender writing `each`
 * bytes, no receiver reading; after the senders stall, prints the
 * ArrayBuffer bytes added since the connections opened (after a full GC),
 * both stacks' `tcp.memory_allocated` and the bytes of the pool buffers
 * out (held by receive queues, kept by send queues; MTU 1500: small
 * buffers) as JSON. Argument 2 is
 * `limited` (memoryHigh 2 MiB, the test's) or `default` (the 128 MiB
 * default, far above what N connections can hold). Run with
 * `--v8-flags=--expose-gc`:
 * `deno run -A --v8-flags=--expose-gc tests/tcp/_memory_probe.ts 64 limited`.
 *
 * @module
 */
import { usedAfterGc } from "../_gc_probe.ts";
import { makeLink, ms } from "../_harness.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { pattern } from "./_tcp.ts";
import { SMALL_BUFFER_SIZE } from "../../stack/packet_pool.ts";

const n = Number(Deno.args[0] ?? 64);
const limited = (Deno.args[1] ?? "limited") === "limited";
const MIB = 1 << 20;
const env = makeLink({
  seed: 21,
  faults: { delay: ms(5) },
  plugins: limited
    ? { tcp: { memoryLow: 1 * MIB, memoryPressure: 3 * MIB / 2, memoryHigh: 2 * MIB } }
    : {},
});
await env.run(() => env.a.ping("10.0.0.2"));
const l = env.b.listen({ port: 80 });
const pairs: [TcpConn, TcpConn][] = [];
await env.run(async () => {
  for (let i = 0; i < n; i++) {
    pairs.push(await Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()]));
  }
});
const before = usedAfterGc().external;
// Each sender offers 1 MiB it never gets to finish: the writes stall.
const chunk = pattern(64 * 1024);
for (const [c] of pairs) {
  (async () => {
    for (let i = 0; i < 16; i++) await c.write(chunk);
  })().catch(() => {});
}
await env.run(() => new Promise<void>((r) => env.net.at(env.net.now() + 3_000_000, r)));
const after = usedAfterGc().external;
const account = (s: typeof env.a) => s.counters.snapshot()["tcp.memory_allocated"] ?? 0;
const out = {
  connections: n,
  limited,
  externalAdded: after - before,
  accountA: account(env.a),
  accountB: account(env.b),
  queuedB: env.b.sockets().reduce((s, i) => s + i.recvQ, 0),
  queuedA: env.a.sockets().reduce((s, i) => s + i.sendQ, 0),
  // Pool buffers held by receive queues or kept by send queues (counted
  // whole in the account; send_queue.ts), and the few in flight: most come
  // from checksum arenas, wasm memory that `external` may not show.
  heldBytes: (env.a.pool.outstanding + env.b.pool.outstanding + env.net.pool.outstanding) *
    SMALL_BUFFER_SIZE,
};
// deno-lint-ignore no-console
console.log(JSON.stringify(out));
Deno.exit(0); // the stalled writers never finish

/**
 * Measures the memory a TIME-WAIT entry costs (heap and ArrayBuffers): N connections between two
 * stacks, each opened, accepted and closed by both ends at once (so both
 * hold TIME-WAIT), measured after a full GC; prints `{ entries,
 * bytesPerEntry }` as JSON. Run with `--v8-flags=--expose-gc`:
 * `deno run --v8-flags=--expose-gc tests/tcp/_timewait_memory.ts 2000`.
 *
 * @module
 */
import { tcpPair } from "../../bench/_tcp_pair.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("Cannot measure: run with --v8-flags=--expose-gc");

/** JavaScript heap plus ArrayBuffers (the TIME-WAIT table keeps its records in typed arrays). */
function heap(): number {
  gc!();
  gc!();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

const n = Number(Deno.args[0] ?? 2000);
if (!Number.isInteger(n) || n < 1) {
  throw new RangeError(`Cannot measure: bad count ${Deno.args[0]}`);
}
const p = tcpPair({ buffer: 1 << 16 });
const churn = (count: number) =>
  p.net.run(async () => {
    for (let i = 0; i < count; i++) {
      const [c, s] = await Promise.all([
        p.a.connect({ hostname: "10.0.0.2", port: 5001 }),
        p.listener.accept(),
      ]);
      c.close();
      s.close();
    }
  }, { timeout: 3_600_000_000 });
// Warm up (code, shapes, pools), then let that TIME-WAIT end.
await churn(200);
p.net.runFor(61_000_000);
const before = heap();
await churn(n);
p.net.runFor(1_000_000);
const after = heap();
const entries = p.a.sockets().length + p.b.sockets().length - 1; // less b's listener
p.net.runFor(61_000_000);
const left = p.a.sockets().length + p.b.sockets().length - 1;
p.close();
if (left !== 0) throw new Error(`${left} sockets left after 2×MSL`);
// deno-lint-ignore no-console
console.log(JSON.stringify({ entries, bytesPerEntry: Math.round((after - before) / entries) }));

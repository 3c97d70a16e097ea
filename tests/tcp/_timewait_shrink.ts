/**
 * Measures the memory TIME-WAIT storage keeps after a burst: N connections
 * between two stacks closed at once (both ends hold TIME-WAIT), then, 30 s
 * later, a few more; once the burst's 2×MSL has ended and only the few are
 * left, prints `{ burst, left, keptBytes }` as JSON: heap and ArrayBuffers
 * beyond what the stacks held before the burst. Run with
 * `--v8-flags=--expose-gc`: `deno run --v8-flags=--expose-gc tests/tcp/_timewait_shrink.ts 2000`.
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
// Warm up (code, shapes, pools) with a few left in TIME-WAIT, as after the burst.
await churn(200);
p.net.runFor(61_000_000);
await churn(5);
p.net.runFor(1_000_000);
const before = heap();
await churn(n);
p.net.runFor(30_000_000);
await churn(5);
p.net.runFor(31_000_000); // the burst's TIME-WAIT is over; the last 5 are not
const left = p.a.sockets().length + p.b.sockets().length - 1; // less b's listener
const keptBytes = heap() - before;
p.close();
// deno-lint-ignore no-console
console.log(JSON.stringify({ burst: 2 * n, left, keptBytes }));

/**
 * Measures the memory a TIME-WAIT entry costs (heap and ArrayBuffers): N connections between two
 * stacks, each opened, accepted and closed by both ends at once (so both
 * hold TIME-WAIT), measured after a full GC; prints `{ entries,
 * bytesPerEntry, externalPerEntry }` as JSON (all bytes, and the
 * ArrayBuffers' alone: exact, where the heap moves by ±0.5 MB between runs). Run with `--v8-flags=--expose-gc`:
 * `deno run --v8-flags=--expose-gc tests/tcp/_timewait_memory.ts 2000`.
 *
 * @module
 */
import { usedAfterGc } from "../_gc_probe.ts";
import { countArg, timeWaitPair } from "./_timewait_churn.ts";
import { STORAGE_LINGER } from "../../stack/protocols/tcp/timewait_table.ts";

/** JavaScript heap plus ArrayBuffers (the TIME-WAIT table keeps its records in typed arrays). */
const heap = () => usedAfterGc();
const n = countArg();
const { p, churn, inTimeWait } = timeWaitPair();
// Warm up (code, shapes, pools), then let that TIME-WAIT end.
await churn(200);
p.net.runFor(61_000_000 + STORAGE_LINGER); // and its storage is given back
const before = heap();
await churn(n);
p.net.runFor(1_000_000);
const after = heap();
const entries = inTimeWait();
p.net.runFor(61_000_000);
const left = inTimeWait();
p.close();
if (left !== 0) throw new Error(`${left} sockets left after 2×MSL`);
// deno-lint-ignore no-console
console.log(JSON.stringify({
  entries,
  bytesPerEntry: Math.round((after.total - before.total) / entries),
  externalPerEntry: Math.round((after.external - before.external) / entries),
}));

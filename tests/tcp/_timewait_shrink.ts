/**
 * Measures the memory TIME-WAIT storage keeps after a burst: N connections
 * between two stacks closed at once (both ends hold TIME-WAIT), then, 30 s
 * later, a few more; once the burst's 2×MSL has ended and only the few are
 * left, prints `{ burst, left, heldBytes, keptBytes }` as JSON: the
 * ArrayBuffer bytes beyond what the stacks held before the burst, just
 * after it ended (the storage is kept for a next burst) and
 * `STORAGE_LINGER` later. The table's storage is all typed arrays; the
 * JavaScript heap moves by ±0.5 MB between runs, as much as the storage,
 * and is left out. Run with `--v8-flags=--expose-gc`: `deno run --v8-flags=--expose-gc tests/tcp/_timewait_shrink.ts 2000`.
 *
 * @module
 */
import { usedAfterGc } from "../_gc_probe.ts";
import { countArg, timeWaitPair } from "./_timewait_churn.ts";
import { STORAGE_LINGER } from "../../stack/protocols/tcp/timewait_table.ts";

/** ArrayBuffer bytes (the TIME-WAIT table's storage). */
const external = () => usedAfterGc().external;
const n = countArg();
const { p, churn, inTimeWait } = timeWaitPair();
// Warm up (code, shapes, pools) with a few left in TIME-WAIT, as after the burst.
await churn(200);
p.net.runFor(61_000_000);
await churn(5);
p.net.runFor(1_000_000);
const before = external();
await churn(n);
p.net.runFor(30_000_000);
await churn(5);
p.net.runFor(31_000_000); // the burst's TIME-WAIT is over; the last 5 are not
// Kept a little longer, for a next burst (STORAGE_LINGER)…
const heldBytes = external() - before;
p.net.runFor(STORAGE_LINGER);
// …then given back.
const left = inTimeWait();
const keptBytes = external() - before;
p.close();
// deno-lint-ignore no-console
console.log(JSON.stringify({ burst: 2 * n, left, heldBytes, keptBytes }));

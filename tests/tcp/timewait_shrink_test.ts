/**
 * Compact TIME-WAIT storage (`stack/protocols/tcp/timewait_table.ts`)
 * shrinks as records end: a burst of closes must not keep its storage for
 * as long as any later record lives (under steady load, for ever). Measured
 * in a child process that can force garbage collection
 * (`_timewait_shrink.ts`).
 */
import assert from "node:assert/strict";
import { runGcProbe } from "../_gc_probe.ts";

Deno.test("tcp TIME-WAIT storage is kept for a next burst, then given back while later records live (4,000 entries, 10 left)", async () => {
  const { burst, left, heldBytes, keptBytes } = await runGcProbe<
    { burst: number; left: number; heldBytes: number; keptBytes: number }
  >(
    new URL("./_timewait_shrink.ts", import.meta.url),
    "2000",
  );
  assert.equal(burst, 4000);
  assert.equal(left, 10, "the later records are still in TIME-WAIT");
  // The burst's storage was ~0.5 MB of ArrayBuffers (2,048 rows of 112 B
  // with their hash, chain and queue words, both stacks): kept for STORAGE_LINGER
  // after the burst ended (a next burst reuses it, as a benchmark's next
  // round does), then given back; what is left is other caches.
  assert.ok(
    heldBytes - keptBytes > 450_000,
    `${heldBytes} B held just after the burst ended, ${keptBytes} B after STORAGE_LINGER`,
  );
  assert.ok(keptBytes < 100_000, `${keptBytes} B kept after the burst ended`);
});

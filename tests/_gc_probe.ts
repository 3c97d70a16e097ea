/**
 * Memory measurements that need a forced garbage collection: the child
 * process side (`usedAfterGc`) and the test side (`runGcProbe`, which
 * starts a probe script with `--v8-flags=--expose-gc` and parses the JSON
 * it prints).
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * Heap plus external (ArrayBuffer backing stores) bytes after two full
 * collections. Only in a process started with `--v8-flags=--expose-gc`.
 *
 * @example
 * ```ts ignore
 * const before = usedAfterGc();
 * ```
 */
export function usedAfterGc(): { heap: number; external: number; total: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("Cannot measure: run with --v8-flags=--expose-gc");
  gc();
  gc();
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed, external: m.external, total: m.heapUsed + m.external };
}

/**
 * Runs the probe script `probe` (a URL beside the test) in a child Deno
 * with a callable GC and returns the JSON object it printed on stdout;
 * fails the test with the child's stderr if it did not succeed.
 *
 * @example
 * ```ts ignore
 * const r = await runGcProbe<{ bytesPerHost: number }>(new URL("./_idle_memory.ts", import.meta.url), "1000");
 * ```
 */
export async function runGcProbe<T>(probe: URL, ...args: string[]): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "--v8-flags=--expose-gc", probe.pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)) as T;
}

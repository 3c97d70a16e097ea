/**
 * The calling thread's CPU time, for the partitioned runner's timing: a
 * Worker is its own thread, so this tells one partition's CPU apart from the
 * others', which process-wide figures (`process.cpuUsage()`) cannot.
 *
 * Two sources: libc's `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` through FFI
 * (precise to the ns, a few µs a call: used per window when profiling), or
 * Linux's `/proc/thread-self/schedstat` (no FFI permission needed, updated at
 * the scheduler's ticks: good for totals of seconds). Neither: NaN.
 *
 * @module
 */

const CLOCK_THREAD_CPUTIME_ID = 3;

/**
 * @internal A precise thread CPU clock in ms, or null where FFI or libc is
 * not available (no `--allow-ffi`, not Linux).
 */
export function preciseThreadCpuClock(): (() => number) | null {
  if (Deno.build.os !== "linux") return null;
  try {
    const lib = Deno.dlopen("libc.so.6", {
      clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    });
    const ts = new BigInt64Array(2);
    return () => {
      lib.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts);
      return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
    };
  } catch {
    return null;
  }
}

/** @internal This thread's CPU time in ms from the scheduler's statistics, or NaN. */
export function threadCpuMs(): number {
  try {
    const text = Deno.readTextFileSync("/proc/thread-self/schedstat");
    return Number(text.slice(0, text.indexOf(" "))) / 1e6;
  } catch {
    return NaN;
  }
}

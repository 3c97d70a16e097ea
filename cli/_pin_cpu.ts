/**
 * `up --cpu N` (one interface or a gateway's several): every thread of the
 * process (the JS thread, V8's and the runtime's workers, and through them
 * every thread started later) on CPU N only, through `sched_setaffinity(2)`
 * for each task in `/proc/self/task`. {@linkcode parseCpu} checks the flag
 * for both parsers (`_up_args.ts`, `_gateway_args.ts`).
 *
 * Why: a user-space stack is one JS thread, and on a machine whose idle
 * CPUs sleep deeply (this project's 2-vCPU VM halts an idle vCPU at once)
 * the latency of an echo after a quiet spell depends on where that thread
 * and its peer run: on one CPU, no idle CPU is woken and the thread's
 * caches stay on its core; apart, each echo wakes a halted vCPU twice. Not
 * the default: a pinned stack cannot move away from a CPU other work keeps
 * busy, and the gain depends on where the peers run. Measured (session 18,
 * `bench/tun_floor.ts`, `up-cpu` against `up-block`, ping unpinned,
 * interleaved): one 3-run set gave paced p99 0.15 against 0.42 ms and
 * idle p99 0.22 against 0.49; a 5-run set an hour later 0.29 against 0.59
 * and 0.56 against 0.53, as ping landed on the stack's CPU in 2 runs of 5
 * (paced medians 28-32 µs) and on the other in 3 (70-72). `--pin same`
 * and `--pin split` pin ping too.
 *
 * @module
 */
import { UsageError } from "./_common.ts";
import { openLibc } from "../drivers/tun/_libc.ts";

const SYMBOLS = {
  sched_setaffinity: { parameters: ["i32", "u32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** `cpu_set_t`'s size in glibc: 1024 CPUs. */
const CPU_SET_BYTES = 128;

/** The `--cpu` lines of `up --help`. */
export const CPU_HELP =
  `  --cpu N                    run every thread of the stack on CPU N only (Linux;
                             N one of the CPUs the process may use; default: wherever
                             Linux schedules it). Its caches stay on one core; peers
                             that run on the same CPU get answers without waking an
                             idle one.`;

/**
 * The CPUs this process may run on (`Cpus_allowed_list` of
 * `/proc/self/status`), ascending; empty where there is no such file.
 *
 * @throws {Deno.errors.NotCapable} Without `--allow-all` (Deno's rule for `/proc/self`).
 *
 * @example
 * ```ts
 * import { allowedCpus } from "./_pin_cpu.ts";
 * import assert from "node:assert/strict";
 * if (Deno.build.os === "linux") assert.ok(allowedCpus().length >= 1);
 * ```
 */
export function allowedCpus(): number[] {
  let status: string;
  try {
    status = Deno.readTextFileSync("/proc/self/status");
  } catch (e) {
    // Deno lets only --allow-all read /proc/self: say so rather than "no CPUs".
    if (e instanceof Deno.errors.NotCapable) throw e;
    return [];
  }
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1];
  if (list === undefined) return [];
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const [from, to] = part.split("-").map(Number) as [number, number | undefined];
    for (let c = from; c <= (to ?? from); c++) cpus.push(c);
  }
  return cpus;
}

/**
 * Checks `--cpu`: a whole number naming one of {@linkcode allowedCpus}.
 *
 * @param value The flag's value, if given.
 * @param allowed The CPUs the process may use (default: {@linkcode allowedCpus}).
 * @returns The CPU, or undefined when the flag was not given.
 * @throws {UsageError} If `value` is not a whole number, or names a CPU
 * the process may not use, or the system is not Linux.
 *
 * @example
 * ```ts
 * import { parseCpu } from "./_pin_cpu.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseCpu(undefined, [0, 1]), undefined);
 * assert.equal(parseCpu("1", [0, 1]), 1);
 * assert.throws(() => parseCpu("2", [0, 1]), /--cpu 2: this process may run on CPUs 0,1/);
 * assert.throws(() => parseCpu("x", [0, 1]), /--cpu must be a whole number/);
 * ```
 */
export function parseCpu(
  value: string | undefined,
  allowed?: readonly number[],
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,4}$/.test(value)) {
    throw new UsageError(`--cpu must be a whole number, not "${value}"`);
  }
  let cpus: readonly number[];
  try {
    cpus = allowed ?? (Deno.build.os === "linux" ? allowedCpus() : []);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotCapable)) throw e;
    throw new UsageError("--cpu needs --allow-all (Deno lets only it read /proc/self/status)");
  }
  if (cpus.length === 0) throw new UsageError("--cpu needs Linux (sched_setaffinity)");
  const cpu = Number(value);
  if (!cpus.includes(cpu)) {
    throw new UsageError(`--cpu ${cpu}: this process may run on CPUs ${cpus.join(",")}`);
  }
  return cpu;
}

/**
 * Pins every thread of this process to `cpu` (threads started afterwards
 * inherit the mask of the thread that starts them). Returns how many
 * threads it pinned.
 *
 * @throws {Deno.errors.NotCapable} Without `--allow-ffi` (libc through FFI).
 * @throws {Deno.errors.NotSupported} If no libc loads.
 * @throws {Error} If Linux refused the JS thread's mask (errno named).
 *
 * @example
 * ```ts ignore
 * import { pinProcessToCpu } from "./_pin_cpu.ts";
 * pinProcessToCpu(1); // every thread now runs on CPU 1 only
 * ```
 */
export function pinProcessToCpu(cpu: number): number {
  const lib = openLibc(SYMBOLS, "--cpu", "sched_setaffinity through FFI");
  try {
    const mask = new Uint8Array(CPU_SET_BYTES);
    mask[cpu >> 3] = 1 << (cpu & 7);
    let pinned = 0;
    for (const task of Deno.readDirSync("/proc/self/task")) {
      const tid = Number(task.name);
      if (lib.symbols.sched_setaffinity(tid, CPU_SET_BYTES, mask) === 0) {
        pinned++;
      } else if (tid === Deno.pid) {
        const at = lib.symbols.__errno_location();
        const errno = at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
        throw new Error(`Cannot run on CPU ${cpu}: sched_setaffinity failed (errno ${errno})`);
      }
      // Another thread may have ended since the directory was read: nothing to pin.
    }
    return pinned;
  } finally {
    lib.close();
  }
}

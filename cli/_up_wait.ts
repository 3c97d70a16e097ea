/**
 * `cli.ts up --wait poll|block`: how a TUN or TAP device waits when it is
 * quiet (see `drivers/tun/block_wait.ts`).
 *
 * `up` waits with `"block"` by default: the JS thread itself sleeps in
 * `poll()` on the device, the stop eventfd and the event loop's epoll, so
 * the first frame after a quiet period is read in the turn that wakes it,
 * with no worker-thread hand-off. `"poll"` keeps the JS thread awake and
 * waits in a worker thread's `poll()`. Measured in session 9 on 2 loaded
 * cores, interleaved runs, median (range):
 * | | poll | block |
 * |---|---|---|
 * | ping from idle (-i 0.1), median, 3 runs, load 12-13 | 380 (365-464) µs | 271 (271-275) µs |
 * | ping from idle, p99 | 12.6 (8.3-24.2) ms | 1.5 (1.4-1.8) ms |
 * | ping paced (-i 0.002), median | 322 (277-333) µs | 181 (176-193) µs |
 * | idle CPU, CPU-s per minute, 1 run of 20 s | 0.38 | 0.83 |
 * | 64-byte TCP request/response, 4 runs, load 23-24 | 3.6 (1.4-9.5) k/s | 4.1 (2.1-7.0) k/s |
 * | 100 MB nc → discard, 2 runs, load 21 | 2.0-2.6 s | 0.6-1.0 s |
 * Request/response and iperf3 throughput (`bench/iperf_bench.ts`) were the
 * same within the machine's noise (load 13-30: 5× between runs). Block was
 * opt-in until issue #13 was found: the loop could sleep while an echo's
 * reply was still queued in promise callbacks (request/response fell to
 * 0.3 k/s, p99 40 ms); it now sleeps only once a `setImmediate` callback has
 * seen the JS thread idle (`io.ts`).
 * Nothing in `up` is late for the sleep otherwise:
 * - the stack's timers are the runner's, and the device's sleep ends at the
 *   runner's next timer (`waitBudget = runner.msUntilWake`);
 * - `up`'s own waits (DAD at start-up, the RSTs' flush at stop) are runner
 *   delays (`runner.delay`), not `setTimeout`s;
 * - signals (SIGINT, SIGTERM), sockets and child processes are event-loop
 *   I/O, which ends the sleep through the epoll descriptor;
 * - services run in the stack (its timers), and `up` reads no stdin and
 *   prints no progress.
 * What is left, JavaScript timers of code embedding `runUp` (an `onReady`
 * hook's `setTimeout`), waits at most {@linkcode UP_BLOCK_MAX} (100 ms)
 * longer; such code can pass `--wait poll`. So can code doing its own async
 * I/O beside the device (sockets, files, Workers, another device): an async
 * call that completed in the same event-loop turn as the loop's idle check,
 * or was started just before the sleep, is not seen by the sleep and
 * waits until it ends (session 9's review: a same-process TCP echo on
 * 127.0.0.1 beside an idle block-mode device had 2-3 of 400 round trips
 * held 100-109 ms; in poll mode none over 10 ms). JavaScript cannot tell
 * whether the event loop holds such a call, so this is documented, not fixed.
 *
 * @module
 */
import { blockingWaitProblem, MAX_SPIN_MICROS } from "../drivers/tun/block_wait.ts";
import { UsageError } from "./_common.ts";

/**
 * `up`'s `blockMax`, ms: the runner's own idle sleep (100 ms), so that idle
 * the device's sleep and the runner's wake-up end together. Idle, the JS
 * thread switched in 58 times/s with 50 ms (the device's default), 34-40
 * times/s with 100 ms; `--wait poll` 23-24/s (`perf stat --per-thread` over
 * 10 s of `bench/tun_bench.ts idle`, load 21-28).
 */
export const UP_BLOCK_MAX = 100;

/**
 * How `up`'s TUN/TAP device waits when quiet: `spin=N` is block with N µs
 * of busy-polling after each frame.
 */
export type UpWait = "poll" | "block" | `spin=${number}`;

/** The `--wait` lines of `up --help`. */
export const WAIT_HELP =
  `  --wait poll|block|spin=N   tun, tap: how the device waits when quiet (default block:
                             the JS thread sleeps in poll() on the device and answers
                             the first frame after a quiet period without a thread
                             hand-off; poll: a worker thread's poll(), the JS thread
                             stays free for other code's timers; spin=N: block, but
                             for N µs after each frame (1..10000) the thread busy-polls
                             instead, a core at 100%, so that a frame soon after
                             another finds it running). block and spin fall back to
                             poll, with a warning, where they cannot work.`;

/** `spin=N`: N µs (the device's `spin`, 1..MAX_SPIN_MICROS). */
const SPIN = /^spin=([1-9]\d*)$/;

function isSpin(value: string): value is `spin=${number}` {
  const n = Number(SPIN.exec(value)?.[1] ?? 0);
  return n >= 1 && n <= MAX_SPIN_MICROS;
}

/**
 * Checks `--wait`: the wait for tun and tap (default `"block"`), undefined
 * for the other drivers.
 *
 * @param value The flag's value, if given.
 * @param driver The `--driver` value.
 * @returns The wait, or undefined when the driver has none.
 * @throws {UsageError} If `value` is not poll, block or spin=N (N in
 * 1..10000), or the driver is not tun or tap.
 *
 * @example
 * ```ts
 * import { parseWait } from "./_up_wait.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseWait(undefined, "tun"), "block");
 * assert.equal(parseWait("poll", "tap"), "poll");
 * assert.equal(parseWait("spin=2500", "tun"), "spin=2500");
 * assert.equal(parseWait(undefined, "loopback"), undefined);
 * assert.throws(() => parseWait("spin", "tun"), /--wait must be poll, block or spin=N/);
 * assert.throws(() => parseWait("spin=20000", "tun"), /N in 1\.\.10000 µs/);
 * ```
 */
export function parseWait(value: string | undefined, driver: string): UpWait | undefined {
  if (value !== undefined && value !== "poll" && value !== "block" && !isSpin(value)) {
    throw new UsageError(
      `--wait must be poll, block or spin=N (N in 1..10000 µs), not "${value}"`,
    );
  }
  if (driver !== "tun" && driver !== "tap") {
    if (value !== undefined) throw new UsageError("--wait needs --driver tun or tap");
    return undefined;
  }
  return value ?? "block";
}

/**
 * The `openTun` options for `wait`: `"block"` (with `spin` for spin=N)
 * only where it works in this process; otherwise a warning line and
 * `"poll"`.
 *
 * @param wait The parsed `--wait`.
 * @param printError Where the warning goes.
 * @param problem Why block cannot work here (default: asks `blockingWaitProblem()`).
 * @returns `{ wait: "block", blockMax, spin }` or `{}` (the device's default, poll).
 *
 * @example
 * ```ts
 * import { tunWaitOptions } from "./_up_wait.ts";
 * import assert from "node:assert/strict";
 * const err: string[] = [];
 * assert.deepEqual(tunWaitOptions("block", (l) => err.push(l), () => "no epoll"), {});
 * assert.match(err[0]!, /warning: --wait block: no epoll; waiting with poll/);
 * assert.deepEqual(tunWaitOptions("spin=500", (l) => err.push(l), () => undefined), {
 *   wait: "block",
 *   blockMax: 100,
 *   spin: 500,
 * });
 * assert.deepEqual(tunWaitOptions("poll", (l) => err.push(l)), {});
 * ```
 */
export function tunWaitOptions(
  wait: UpWait | undefined,
  printError: (line: string) => void,
  problem: () => string | undefined = blockingWaitProblem,
): { wait?: "block"; blockMax?: number; spin?: number } {
  if (wait === undefined || wait === "poll") return {};
  const why = problem();
  const spin = Number(SPIN.exec(wait)?.[1] ?? 0);
  if (why === undefined) return { wait: "block", blockMax: UP_BLOCK_MAX, spin };
  printError(`cli.ts up: warning: --wait ${wait}: ${why}; waiting with poll`);
  return {};
}

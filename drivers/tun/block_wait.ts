/**
 * The blocking wait of the TUN loop (`openTun({ wait: "block" })`): when the
 * device has been quiet, the JS thread itself sleeps in `poll()` on the
 * device, so a frame arriving after a quiet period wakes one thread — the one
 * that answers it — instead of two.
 *
 * **Why.** The default wait is a `nonblocking: true` FFI `poll()`: a worker
 * thread sleeps in the kernel, and when a frame arrives Linux wakes it, it
 * returns, and the JS thread is woken in turn to resolve the promise. On a
 * busy machine each wake-up waits for a core. Measured on this project's
 * 2-core machine under load 18-23 (a ping-like client thread, 64 B over a
 * `socketpair`, 4 interleaved rounds, median of run medians):
 * | wait | 100 ms apart | 2 ms apart |
 * |---|---|---|
 * | nonblocking FFI `poll()` (default) | 247-254 µs | 114-145 µs |
 * | a Worker in `poll()`, `Atomics.waitAsync` on the JS thread | 203-232 µs | 89-126 µs |
 * | `SIGURG` to the JS thread (`F_SETOWN_EX`, `O_ASYNC` while idle) | 241-291 µs | 94-1782 µs |
 * | the JS thread in `poll()` (this file) | 95-109 µs | 37-41 µs |
 * The signal still goes through Deno's signal thread, and `Atomics.waitAsync`
 * through a task posted to the JS thread: both are two wake-ups as well.
 *
 * Over TUN with iputils ping (`deno run -A bench/tun_bench.ts ping 3
 * poll|block`, 2 × 3 runs each, interleaved, load 22-23 on 2 cores; median
 * of the runs' medians, then p99s; `wake` = ping's send → the stack has it):
 * | wait | paced 2 ms | idle 100 ms | idle p99 | wake, idle |
 * |---|---|---|---|---|
 * | `"poll"` | 189-283 µs | 352-364 µs | 3.9-12.5 ms | 252-272 µs |
 * | `"block"` | 93-170 µs | 251-254 µs | 1.4-2.1 ms | 151-154 µs |
 * What is left of `wake` is Linux's send path and the wake-up of a thread
 * asleep for 100 ms on a loaded 2-core VM; the p99s are scheduling delays
 * (`perf sched`: the JS thread's wake-up delay was 12 µs median, 3 ms p90).
 *
 * **What is left after a quiet period** (session 8, load 12-27 from other
 * work on the 2 cores). Traced with ftrace (`sched_wakeup`, `sched_switch`,
 * `net_dev_start_xmit`, the syscalls) for `cli.ts up` answering `ping -i
 * 0.1`: ping's `sendto` → the device's xmit 35 µs → our thread woken 24 µs
 * later → on a core 13 µs later → `poll()` returns 22 µs later → `read()`
 * 70-120 µs later → the reply's `write()` 200-650 µs later, the JS thread
 * running all along (no preemption). No syscall, timer or microtask hop is
 * between the wake and the `read()`; what is slow is our own JavaScript
 * running cold:
 * - The same echo through the stack in memory (no device) takes 4 µs 2 ms
 *   after the previous one but 33 µs after 50 ms, asleep or spinning,
 *   also with a frozen `ManualClock` (so no time-driven housekeeping runs):
 *   caches other processes evicted meanwhile.
 * - And it takes 99 µs after 100 ms when the stack has answered only 20
 *   echoes before (V8 has not optimised the path yet: sparse traffic keeps
 *   it in the interpreter), 36-42 µs after 2,000. Warming a throwaway stack
 *   with the same plugins first gives 75-78 µs (the real instance's own
 *   feedback is what counts).
 * A C responder (blocking `read()`, swap addresses, `write()`) on the same
 * machine at the same time: idle median 101-110 µs — the floor the ≤ 0.1 ms
 * target sits on when the machine is loaded.
 *
 * Session 9 (`performance.now()` around the loop, 220 wake-ups by a ping,
 * paced and idle, load 19): `poll()` returns → `read()` called 3.8 µs
 * median (p90 13), the `read()` 8 µs (p90 28), then the stack to the
 * reply's `write()` 49 µs (p90 113). So of an idle ping's 230-280 µs
 * (`bench/tun_bench.ts ping`: wake 150-185, stack 70-85, write 70-90 µs),
 * the loop itself adds ~12 µs; the rest is Linux waking a thread on a loaded
 * machine, our code and Linux's receive path running cold.
 *
 * **Session 10: the floor** (`bench/tun_floor.ts 3 … --rt`: responders and
 * ping under `chrt -f 50`, interleaved, load 16-28 from other work on the 2
 * cores, 04:26-04:44 UTC; median (range) of 3 runs' medians, µs):
 * | responder | paced 2 ms | idle 100 ms |
 * |---|---|---|
 * | C, blocking `read()` | 59 (56-61) | 131-140 (131-163) |
 * | Deno, synchronous FFI `read()` on the JS thread | 65-66 (62-71) | 166-179 (161-196) |
 * | `up --wait block` | 123-144 (121-159) | 275-300 (269-318) |
 * | `up --wait spin=2500` | 31 (25-40) | 308 (288-314) |
 * Every p99 is 0.4-3 ms, the C responder's too: scheduling on a loaded VM.
 * Stamps in the loop (`tun_bench.ts ping`, idle, 100 pings): ping's send →
 * `poll()` returns 160 µs (p90 640; paced 45), `poll()` returns → frame
 * read 34-38 µs (paced 7-10), the stack 70 (paced 16-43), the reply's
 * `write()` 50-60 (paced 25-32). No timer, thread hop or GC is on that
 * path, and `--v8-flags=--no-flush-bytecode` changes nothing: after 100 ms
 * of other processes, Linux's paths and ours run from cold caches. So on
 * this machine under load even C needs 130-160 µs from idle: the ≤ 0.1 ms
 * target is below the floor, and what the stack adds over Deno's floor is
 * its own cold code (~110 µs). Pings 2 ms apart are another matter: a
 * thread that has not slept answers in 31 µs (`spin`), half the C
 * responder's time with its wake-up.
 *
 * Under load 12-18 (05:00-05:26 UTC), `tests/interop/iperf3_tun_test.ts`
 * failed in 6 of 7 runs with the `setImmediate` check (tshark: Linux's TCP
 * out-of-order segments) and passed 3 of 3 before it; reverted, it failed
 * too (1 of 2), and at load 6-9 both passed: a flake of the loaded machine
 * as far as could be told, but watch it.
 *
 * **The cost.** While the JS thread sleeps here, nothing else in the process
 * runs JavaScript. So the sleep also ends when the event loop has I/O to do
 * (the poll includes the event loop's own epoll descriptor: sockets, child
 * processes, worker messages, signals, finished async calls), and it never
 * lasts longer than `blockMax` ms (other code's timers wait at most that) or
 * than the runner's next timer (`TunDevice.waitBudget`). And it starts only
 * when no promise callback is left to run: the loop sleeps only after a
 * `setImmediate` callback (Deno runs immediates once the turn's completed
 * async calls and every microtask they set off have run) saw nothing read
 * or written since the last batch (`io_wait.ts`, `idleCheck`). Once the
 * continuation of a `poll()` that returned at once was taken for "idle",
 * which Deno does not guarantee, and replies still in promise callbacks
 * waited for the next frame (issue #13). Until session 10 the check was a
 * `setTimeout(0)`, which Deno fires 1-2 ms late, followed by a 1 ms
 * worker-thread `poll()`: the sleep began 2-4 ms after the last frame, and
 * pings 2 ms apart mostly found the loop in that `poll()` (two thread
 * wake-ups). After a sleep that did not end with a frame (the event loop's
 * I/O, the budget, `stop()`), one 1 ms worker-thread `poll()` lets the
 * event loop run.
 * Meant for a process whose main work is the stack (`up`, a gateway). One
 * device per process gets it; the others wait as with `"poll"`.
 *
 * **Why no frame can wait for a later frame or a timeout** (session 14).
 * Nothing hands frames over between threads: no flag, counter, eventfd or
 * `Atomics` stands between Linux and the loop (the eventfd is `stop()`'s,
 * written once and never reset). Every wait of the loop is a `poll()` on
 * the device descriptor itself, level-triggered: the spin's `poll(0)`, the
 * sleep here, the worker-thread `poll()` (`io.ts`). The kernel's `poll()`
 * puts the caller on the device's wait queue before it looks at the
 * device's queue, and Linux wakes that wait queue after queueing a frame:
 * the "say you are going to sleep, look again, then sleep" pattern is the
 * kernel's, so a frame queued at any instant up to and during the call
 * ends it at once. And every state of the loop leads to a `read()` or such
 * a `poll()` within a bounded time: a `setImmediate` turn (the idle check,
 * then a drain), the spin (≤ `MAX_SPIN_MICROS`), a worker-thread `poll()`
 * (1 ms, or 0 when the runner is due). `io_test.ts` writes a frame in the
 * last instant before the sleep (`waitBudget`, after the spin and the drain
 * found the device empty): each such sleep ends at once with the frame.
 * The CI flake that looked like a lost frame (`up --wait spin` missing the
 * 20th of 20 pings 2 ms apart) was ping's exit rule: after its last
 * request, `ping -c` waits twice the slowest round trip so far or one
 * interval, not `-W` (`tests/interop/_netns.ts`, `deadline`). Under a
 * bursty busy loop on the stack's core (load 10-12), 3 of 150 runs lost the
 * 20th reply that way, every request was answered (capture), and `perf`'s
 * scheduler trace of the 3,000 requests showed, for the 140 replies slower
 * than 2 ms: the JS thread preempted (runnable, waiting for a core) at 121
 * requests; asleep at 19, of which 16 woken by the request itself within
 * 0.2 ms (then waiting for a core) and 3 through the worker-thread `poll()`
 * (woken by its thread 1.9-3.5 ms later); never asleep until a later frame.
 *
 * **Session 14: what the paced p99 was, and where an idle ping goes.**
 * Timestamps in the loop (a scratch copy of `io.ts`) against `ping -D`'s
 * send times, `up` in a netns with ping writing to a file:
 * - One-time costs of a fresh process were most of the paced p99s measured
 *   until then (20 warm-up pings): ~80 Maglev compilations in the next 500
 *   pings, and the first checksum arena (`checksumArena`, when the pool
 *   turns busy after 1,024 small buffers) taking 1.1 ms inside one echo's
 *   `pool.alloc`. Warmed with 2,000 pings (`bench/tun_floor.ts`,
 *   interleaved with the tree before, 3 runs each, load 0.3-0.4, 18:12
 *   UTC): paced p99 473 (300-549) µs `block`, 239 (183-304) `spin=2500`,
 *   against 1,270 (941-1,670) and 1,310 (1,020-1,610) after 20 pings.
 *   No scavenge falls in a paced run: 1.9 KB allocated per ping once warm.
 * - Event-loop I/O ends the sleep and the spin: a reply slower than 0.5 ms
 *   came in during the 1 ms worker-thread `poll()` that follows, every one
 *   (10 of 500) with ping's output piped into the stack's own process.
 * - Under load (4-5) a thread that busy-polls is preempted for whole
 *   scheduler ticks (4 ms): in a traced `spin` run (p99 4.3 ms), 21 of its
 *   30 replies slower than 0.5 ms came while `spin()` ran 4-8 ms past its
 *   deadline. Warmed, 3 runs each in the same minutes: p99 222-4,270 µs
 *   `spin`, 205-333 `block`.
 * - An idle ping (load 3-4, 58-96 pings): the sleep's `poll()` returns →
 *   the loop's top 7 µs, `beginBatch` 4, `pool.alloc` 7, the `read()` 33
 *   (3 paced), IPv4 to the ICMP handler 34-38, the reply to its `write()`
 *   22-25, the `write()` itself 83-106 (Linux's receive path to ping). So
 *   JavaScript adds ~80 µs cold over a C responder's read-swap-write, and
 *   the kernel's `read()` and `write()` run cold too.
 *
 * **Session 15: the cold echo without TUN** (`bench/cold_echo_bench.ts`:
 * `up`'s stack and plugins in memory, the TUN loop's per-frame calls, 2,000
 * echoes of warm-up, load 3-6). Warm 1.0-1.5 µs; 100 ms away (asleep in
 * `Atomics.wait`, in a `setTimeout` or spinning alike) 45-60 µs; after
 * walking 64 MiB of data instead 12-40 µs. The time away, not the sleep,
 * makes it cold (10 ms of spinning: 27-57 µs): other processes run on the
 * core meanwhile. Stamps along the path: no step dominates, each function
 * boundary costs 2-12 µs cold (alloc and copy 6, IPv4's checks 12, to the
 * ICMP handler 11, the reply's alloc and sum 5, routing to the header 4).
 * An echo through a second, warm stack right before (same code, other
 * objects) leaves 12 of the 60 µs: ~80% is code (instruction cache, TLBs,
 * branch predictors), not the stack's data. What moves it is how much of
 * the path V8 has compiled with TurboFan: 53 µs after 2,000 echoes, 46
 * after 10,000, 39 after 20,000, 32 after 50,000 (5 TurboFan compilations
 * by 2,000, 12 by 10,000, 28 by 50,000; `--invocation-count-for-turbofan
 * =500` alone did not help). Over TUN (`tun_floor.ts`, 3 runs) `up --wait
 * block` answered idle pings in 195 (194-244) µs after 50,000 warm-up pings
 * (load 9; 02138cc 197) against 224 (218-230) after 2,000 (load 5-6).
 * Per echo in memory, after 60,000: 144 bytes allocated (the ICMP copy's
 * `subarray` view is ~39 of them), one clock read (the dispatcher's
 * timestamp), no closure, no Map lookup that a last-key memo does not
 * answer. The Deno floor (`read()` and `write()` by FFI on the JS thread,
 * no stack) was 117-162 µs idle at that load, C's 81-110: the ≤ 0.1 ms
 * median is below what Deno itself
 * reaches from idle on this machine.
 *
 * **Session 16: keeping the code warm.** The in-memory echo stays at 2-4
 * µs up to 5 ms away and is cold from 50 ms (`cold_echo_bench.ts`, its
 * decay table). So while a device sleeps within 1 s of its last frame,
 * `up` wakes it every 5 ms to echo one ping through a shadow stack that
 * nothing sees (`cli/_up_keep_warm.ts`, `--keep-warm`): idle pings over
 * TUN 154 (150-160) µs against 243 (235-251) without, at load 8-12, for
 * ~1% of a core while traffic is sparse.
 *
 * @module
 */
import { acquireLibc, cString, type Libc, type LibcSymbols, POLLIN, releaseLibc } from "./_libc.ts";

/** Default of `blockMax`: longest sleep of the JS thread in `poll()`, in ms. */
export const DEFAULT_BLOCK_MAX = 50;

/** Largest `spin`: µs the JS thread may busy-poll after a frame before it sleeps. */
export const MAX_SPIN_MICROS = 10_000;

/** The link `/proc/self/fd/N` of an epoll descriptor. */
const EVENTPOLL = "anon_inode:[eventpoll]";

/**
 * The event loop's epoll descriptor: the lowest-numbered epoll fd of the
 * process (Deno's main runtime makes it first; workers' come later), or -1
 * when none is found among the first `maxFd` descriptors.
 *
 * @example
 * ```ts ignore
 * import { acquireLibc } from "./_libc.ts";
 * import { findEventLoopEpoll } from "./block_wait.ts";
 * const fd = findEventLoopEpoll(acquireLibc()); // 3 in a fresh `deno run`
 * ```
 */
export function findEventLoopEpoll(libc: Libc, maxFd = 256): number {
  const link = new Uint8Array(64);
  const decoder = new TextDecoder();
  for (let fd = 0; fd < maxFd; fd++) {
    const n = libc.sym.readlink(cString(`/proc/self/fd/${fd}`), link, link.length);
    if (n > 0 && decoder.decode(link.subarray(0, n)) === EVENTPOLL) return fd;
  }
  return -1;
}

/**
 * Why `wait: "block"` would not work as meant in this process, or undefined
 * when it would: not Linux, or the event loop's epoll descriptor not found
 * in /proc/self/fd (then a sleep would not end for the event loop's I/O —
 * signals, sockets, child processes — only at `blockMax`). `cli.ts up` asks
 * before choosing the wait, and falls back to `"poll"`, saying so.
 *
 * @example
 * ```ts ignore
 * import { blockingWaitProblem } from "./block_wait.ts";
 * const problem = blockingWaitProblem(); // undefined in a `deno run -A` on Linux
 * ```
 */
export function blockingWaitProblem(): string | undefined {
  if (Deno.build.os !== "linux") return "the blocking wait needs Linux";
  let libc: Libc;
  try {
    libc = acquireLibc();
  } catch (err) {
    return `libc could not be loaded (${(err as Error).message})`;
  }
  try {
    if (findEventLoopEpoll(libc) < 0) {
      return "the event loop's epoll descriptor is not among /proc/self/fd/0..255";
    }
    return undefined;
  } finally {
    releaseLibc();
  }
}

// The device whose loop may put the JS thread to sleep: one per process. A
// second one would sleep in a poll() that does not watch the first's fd, and
// the two would wake each other through the event loop over and over.
let claimed = false;

/** @internal Claims the process's one blocking wait; false when another device has it. */
export function claimBlockingWait(): boolean {
  if (claimed) return false;
  claimed = true;
  return true;
}

/** @internal Gives the blocking wait back (the device closed). */
export function releaseBlockingWait(): void {
  claimed = false;
}

/**
 * @internal The JS thread's sleep in `poll()` on the device, the stop eventfd
 * and the event loop's epoll; {@linkcode TunIo} uses it when the device has
 * been quiet.
 */
export class BlockingWait {
  readonly #sym: LibcSymbols;
  // struct pollfd[3]: the device, the stop eventfd, the event loop's epoll (if found).
  readonly #pollfds = new Uint8Array(24);
  readonly #view = new DataView(this.#pollfds.buffer);
  readonly #count: number;
  /** The event loop's epoll fd watched too, or -1 (then only `blockMax` bounds the sleep). */
  readonly epollFd: number;

  constructor(libc: Libc, fd: number, wakeFd: number, epollFd: number) {
    this.#sym = libc.sym;
    this.epollFd = epollFd;
    const v = this.#view;
    v.setInt32(0, fd, true);
    v.setInt16(4, POLLIN, true);
    v.setInt32(8, wakeFd, true);
    v.setInt16(12, POLLIN, true);
    v.setInt32(16, epollFd, true);
    v.setInt16(20, POLLIN, true);
    this.#count = epollFd >= 0 ? 3 : 2;
  }

  /**
   * Sleeps up to `ms` (synchronously: the JS thread stops) until the device
   * has a frame, the stop eventfd fires or the event loop has I/O. Returns
   * the device's `revents` (0 on timeout, on other wake-ups and on errors).
   */
  wait(ms: number): number {
    const r = this.#sym.pollNow(this.#pollfds, this.#count, ms);
    this.timedOut = r === 0;
    return r > 0 ? this.#view.getInt16(6, true) : 0;
  }

  /** Whether the last {@linkcode wait} ended because its time was up (nothing was ready). */
  timedOut = false;

  /**
   * Busy-polls (`poll()` with a zero timeout, over and over: a core at
   * 100%) until `until` (a `performance.now()` instant), a frame, the stop
   * eventfd or the event loop's I/O. Returns the device's `revents` (0 when
   * the time is up or something else is ready: {@linkcode wait} then
   * returns at once too).
   */
  spin(until: number): number {
    const sym = this.#sym;
    // Bounded by `until`: the caller keeps it at most MAX_SPIN_MICROS away.
    while (performance.now() < until) {
      const r = sym.pollNow(this.#pollfds, this.#count, 0);
      if (r !== 0) return r > 0 ? this.#view.getInt16(6, true) : 0;
    }
    return 0;
  }
}

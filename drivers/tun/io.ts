/**
 * The TUN/TAP I/O loop: how frames move between a Linux descriptor and the
 * stack without blocking Deno's event loop and fast enough to keep up with
 * Linux.
 *
 * **Why it is built this way** (numbers from /work/shared/PERFORMANCE.md and
 * `bench/tun_bench.ts`):
 * - A blocking `read()` would freeze the event loop. Declaring `read` as a
 *   `nonblocking: true` FFI call would run it on a worker thread, but each
 *   such call costs 9-27 µs (a thread hop and a promise): per packet, that
 *   caps us near 50 k packets/s.
 * - So the descriptor is `O_NONBLOCK` and read with *synchronous* FFI calls
 *   (~1 µs each, near C) until `EAGAIN` or `batch` frames; only then does the
 *   loop wait in one nonblocking `poll()` on a worker thread. The thread hop
 *   is paid once per batch, and under load `poll()` returns at once.
 *   Measured by `bench/tun_bench.ts` (draining 100k queued packets, 2 busy
 *   cores): the driver alone reads 0.5-0.77 M packets/s, 1.3-1.9 µs each, of
 *   which all but 0.1-0.25 µs is the kernel's `read()`; through the stack
 *   (IPv4, UDP, ICMP port unreachable) 0.4-0.48 M packets/s.
 * - Each frame is read straight into a pooled {@linkcode PacketBuffer} at its
 *   headroom offset (`pool.alloc(frameMax)`, then
 *   `read(fd, buf + start, room)`) and handed to the stack, which borrows it
 *   and releases it to the pool: no copy and, in steady state, no allocation
 *   beyond the 16-byte view passed to FFI.
 * - After each batch the loop calls `onBatch` once: the runner polls the
 *   stack (timers, deferred egress) there. The runner owns *when* the stack
 *   runs; this loop owns only the descriptor.
 * - Writes are synchronous too (~1.6 µs per 1500 B): a TUN write never
 *   blocks, and a frame given to `transmit` is out of our hands when the call
 *   returns. A TUN write carries exactly one packet (`writev` gathers one
 *   packet's pieces, it does not batch packets), and libc has no call that
 *   writes several packets to one fd, so "fewer FFI crossings" on transmit
 *   means fewer, bigger packets: with offloads (`vnet.ts`) TCP hands over
 *   64 KiB super-segments and Linux segments them. `bench/tun_tcp_bench.ts`,
 *   512 MiB stack → Linux at MTU 1500: 378,000 writes without offloads,
 *   14,300 with (10,000 of them super-segments), 0.4-0.8 → 2.7-5.7 Gbit/s.
 *   Most of a write's cost is Linux's own receive path, which runs inside
 *   the system call (the ACKs we write likewise run Linux's sender).
 * - With offloads, each frame carries a 10-byte virtio-net header, read into
 *   and written from the packet's headroom (no copy): see `vnet.ts`. UDP
 *   super-datagrams (USO) are cut up on receive (`uso.ts`).
 * - A Worker reading into a SharedArrayBuffer ring was measured slower
 *   (0.7-0.9 M packets/s) and competes with Linux for the second core.
 *
 * **Where a received super-segment's time goes** (`perf record -g` of the
 * JS thread with `--perf-basic-prof`, iperf3 → `up --driver tun` at MTU
 * 1500 with offloads, 64 KiB frames, ~25 per batch, one ACK per ~10;
 * 2026-12-06, load 8-23 on 2 cores): Linux's `read()` copying the frame
 * into the pooled buffer ~20% of the thread's samples; the copy into the
 * socket's receive ring ~12%; the application's own copy out of it
 * (`conn.read`, the benchmark's sink) 13-15%; the `poll()` hop per batch
 * 4-6%; the rest of the driver, dispatch, IPv4 and TCP ~25% (no function
 * above 2% but `#drain`'s 7%), clock reads 2-3%. The checksum
 * completion (12.5%) is gone: TCP/IPv4 partial checksums stay partial
 * (`partialTcpV4`): the process's CPU per GiB fell 7-11% (0.62 against
 * 0.69 CPU-s, median of 3 runs that switch between both ways every 250 ms
 * in one transfer, load 23-50), less than the 12.5%, probably because the
 * ring copy now takes the cache misses the sum took. Batches cut at 6 or
 * 12 frames, or a second read after each batch's ACK, did not help (more
 * ACKs and polls, or nothing) then; 16 (1 MiB) did in session 11, see
 * below.
 *
 * The ring copy is gone too (session 10): TCP's receive queue holds the
 * pooled super-segment itself (`stack/protocols/tcp/rcv_queue.ts`,
 * `PacketBuffer.hold`) until the application reads it, so the one copy in
 * user space is the application's (user memmove 18.5% → 12.7% of the
 * process's samples, in-memory MTU 65535 bulk 5.33 → 4.79 M instructions
 * per MiB). Over TUN the process's CPU per GiB did not move measurably at
 * load 13-18: 0.84 (0.78-1.05) against 0.81 (0.73-0.85) CPU-s/GiB, user
 * part 0.51 against 0.49, 4 interleaved runs of 5 s (5 more with 32 held:
 * 0.79 against 0.80). Likely why: the kernel's copy used to write into
 * the one pooled buffer just released (hot), and now writes into a
 * rotating set of up to 64 (cold); at that load the cache is everyone's.
 * Per pool at most half its large free list is held: past that, held
 * buffers released together overflowed the free list and were allocated
 * again (fresh arenas, page faults, zeroing), 2-4× the CPU.
 *
 * **What bounds it.** The kernel's part runs in our system calls: `read()`
 * copying each frame (~15% of the process's samples), and the Linux
 * sender's TCP work (each ACK we write runs its ACK processing and the
 * transmits it releases; BBR's pacing timer fires in softirq on whichever
 * thread runs, often ours: ~10-12%). A C program that reads the same TUN
 * with the same offloads, ACKs once per batch and discards (built in /tmp
 * for the measurement) spends 0.28-0.33 CPU-s/GiB, almost all in the
 * kernel: about the floor of any reader here, against the stack's
 * 0.67-0.9 (0.34-0.46 of it system). Fed by the same C writer (128 KiB
 * writes, 3 interleaved runs of 4 s at load 16), both took 4.2-5.8
 * Gbit/s: at that load the machine's share, not the reader, set the rate.
 * The machine's congestion control is BBR, which paces. The sender (iperf3 or a C writer) needs
 * 0.2-0.4 CPU-s/GiB on the other of the 2 cores, so 20 Gbit/s (2.33 GiB/s)
 * leaves the stack's user part ~0.1-0.2 CPU-s/GiB at most; it is
 * 0.33 quiet (session 9) to 0.52 at load 16 now (V8's runtime and the
 * JIT'd per-segment and per-batch work, the application's copy). A TUN
 * carries at most 64 KiB per frame (`tso_max_size` 65536: no BIG TCP).
 *
 * **Session 11's accounting** (issue #13, MTU 1500 with offloads; the
 * machine was shared with other helpers' work at load 14-17 throughout, so
 * rates are the machine's share: `bench/iperf_bench.ts` now prints the
 * cores' split, e.g. stack 0.30, client 0.09, softirq 0.03, other
 * processes 1.58, idle 0). Quiet (session 10): 15.36 Gbit/s with stack
 * 0.46 + client 0.51 + softirq ~0.1 CPU-s/GiB ≈ 1.9 of the 2 cores: the
 * machine is full, so 20 Gbit/s (2.33 GiB/s) needs the sum ≤ 0.86. The
 * client's share is not set by what we send it: every frame it writes is a
 * full 64 KiB super-segment (63.9 KB mean), and under load it needs only
 * 0.18-0.26 CPU-s/GiB (iperf3's own figure), so its quiet 0.51 probably
 * is what running in parallel with us costs it (its copy into pages our
 * reads just freed on the other core, ACK processing in its socket
 * backlog); not measured: the machine was never quiet in session 11.
 * `perf record -g` of the stack process (`--perf-basic-prof`, warm, load
 * 17): the TUN `read()` 18% (`_copy_to_iter` 11%, hardened-usercopy
 * checks 2%), syscall entry/exit and interrupt return in this PVM guest
 * ~5%, the ACK `write()` (Linux's sender) 6%, the application's copy 10%
 * (the ring copy of refused holds: 3.5% before 1 MiB batches, 1% after,
 * one profile each), JIT'd code 13% (no function above 1%), Deno's binary 18% (V8
 * builtins, FFI and ops: 4% with no JS caller, i.e. the event loop; 1.5%
 * under `#drain`, 1.1% under the clock's `now()`), and V8's background
 * threads 10-13%: JIT compilation (gone with
 * `--no-concurrent-recompilation`, not with `--single-threaded-gc`), still
 * running seconds into a transfer as functions deoptimize for
 * "insufficient type feedback" on rarely taken paths and are compiled
 * again. Garbage collection is negligible (a scavenge per 0.6-3 s, 0.5 ms).
 * What would move it: fewer system calls per byte (none left per frame but
 * the `read()`; a TUN reads one frame per call), the sender's cost (not
 * ours), and the application's copy (a read that hands out the held
 * super-segments instead of copying).
 *
 * **Session 12** (issue #13, MTU 1500 with offloads, load 10-16 with
 * other helpers running: loaded figures). Receiving, the application's
 * copy is optional now: a sink calls `TcpConn.discard`, which gives the
 * held super-segments back to their pool uncopied (the iperf3 service does
 * unless `copyReceived`). `perf record` of the process (5 s after 2 s of
 * warm-up), before → after: libc's memmove 12.3% → 0, the TUN `read()`'s
 * `_copy_to_iter` 12.4 → 13.9%, kernel 44 → 48%, JIT'd code 14 → 17%,
 * Deno's binary 24 → 28% (of it V8's compiler threads 7.3 → 9.5%). CPU per
 * GiB, set medians of interleaved runs of 3 s: 0.53 (15 sets, 0.47-0.58)
 * against 0.59-0.60 copying. V8 still compiles: `--trace-opt` shows 56
 * TurboFan and 288 Maglev compilations in 7 s, ~0.9 s of TurboFan work in
 * all (`receive`, `output`, `#drain`, …, several twice after "insufficient
 * type feedback" deopts); runs of 10 s against 3 s, 3 interleaved pairs
 * of 3 runs: 0.45, 0.43 and 0.58 against 0.49, 0.67 and 0.70 CPU-s/GiB
 * (sending 0.63, 0.66, 0.69 against 0.71, 0.99, 0.58): the first seconds
 * pay for the compiler, so a 3 s figure overstates a long transfer's
 * cost. Sending (`iperf3 -c -R`),
 * 29.5% of our TUN writes were under 4 KiB: 752 bytes at the end of each
 * 128 KiB block the service wrote (131,072 mod 1,448), sent before the next
 * write came; the service now writes ~1 MiB of whole blocks at a time
 * (19% small writes, 53 KB per write against 46, the client's CPU per GiB
 * 0.25 against 0.27-0.30 in 3 interleaved pairs; the stack's within
 * noise). The small writes left are 1,448 + 56 bytes: the send buffer's
 * tail, sent because all the data was out (`sendOne`, `len === avail`);
 * Linux holds such a tail back while earlier packets are still queued
 * (`tcp_should_autocork`). About one involuntary context switch per write
 * (15.5-16.6 k per GiB): the write wakes the client, which preempts us;
 * pinning the client to the other core ends that but halved the rate at
 * that load. What bounds the rest: the kernel's part (the read copy, the
 * system calls, Linux's sender in our ACK writes and softirqs: 0.21-0.28
 * CPU-s/GiB of system time), V8's compiler threads, and the JIT'd and
 * runtime per-segment work, no function above 1.5% of the samples.
 *
 * **Session 13** (issue #13, sending, `iperf3 -c -R` at MTU 1500 with
 * offloads; load 10-18 throughout: loaded figures). CPU per GiB between
 * session 10 (0.52) and session 11 (0.71) rose with no code change:
 * 5d1f804 and 35eb721 differ in tests and a comment only, so that step
 * was the host. Interleaved at load 5-14, 5d1f804 0.73 (0.62-0.91, 7
 * sets of 3 runs), 63c3726 (before the send queue) 0.76, 19e2a3b 0.82
 * (0.76-1.08): perhaps 10% more since, in the send queue's copy of each
 * super-segment from 45 one-MSS chunks (`perf`: memmove 10.8% of the
 * process, half of it that copy, `SendQueue.peek` 2.4%). Now a bulk write
 * to a TSO route is queued in chunks of one whole super-segment and TCP
 * ends super-segments at their ends (`sendChunkSize`, output.ts), so 78% of
 * super-segments go out as their chunk, uncopied (the rest are window-cut
 * pieces, most under 8 KB): memmove 5.1%, stack 0.60 (0.52-0.77) against
 * 0.84 (0.67-1.63) CPU-s/GiB in 12 interleaved sets of 5 runs. What is
 * left: the application's copy into the queue (memmove), ~17% of samples
 * in the hypervisor's `pvm_irq_enable` as the scheduler switches to the
 * client our write woke, and V8's runtime (Deno's binary ~30%).
 *
 * **Batches end at 1 MiB** (`batchBytes`, tun.ts's `DEFAULT_BATCH_BYTES`),
 * not only at 64 frames: 64 super-segments are 4 MiB, about Linux's whole
 * send buffer (`tcp_wmem` max 4 MiB). Whenever we fell behind, a batch ran
 * to 4 MiB with one coalesced ACK at its end, the sender sat idle until
 * then, and the application (which reads between batches) let the window
 * close: the sender's `ss -ti` said `rwnd_limited` 4-17% and
 * `sndbuf_limited` 2-18% of its busy time. At 1 MiB: `rwnd_limited`
 * 0.1-0.4%, ACKs 1.6-1.9× as many (one per ~640 segments), and 1.18-1.49×
 * the median rate in 2 sets of 3 interleaved pairs at load 15-16, at the
 * same CPU per GiB; at MTU 65535 with offloads (2 pairs, load 17) 4.70
 * and 5.46 against 2.04 and 3.24 Gbit/s, `rwnd_limited` 0.2-0.3% against
 * 18-22%; at 65535 without offloads 2.83 and 4.95 against 2.26 and 2.51.
 * Linux's queue toward us is sized for a whole 6 MiB window of full
 * segments (`txQueueForWindow`): at its default 500, iperf3 without
 * offloads lost ~1,200 frames per 6 s whenever the machine delayed us.
 *
 * **Where a ping's time goes** (`bench/tun_bench.ts ping`, load 22-23 on 2
 * cores, idle pings 100 ms apart): ping's send → the stack has the frame
 * 230-270 µs (Linux's send path, the worker thread's wake-up, the hop to the
 * JS thread), the stack's IPv4/ICMP work 60-90 µs, the reply's `write()`
 * 25-65 µs. The reply is written inside `receive()`, before `onBatch` and
 * before the loop waits again; no timer or back-off is on this path.
 *
 * **Waiting when quiet** (`wait: "block"`): see `io_wait.ts`. The counters
 * are `io_stats.ts`.
 *
 * **Stopping.** The loop polls the TUN fd and an eventfd; `stop()` writes to
 * the eventfd so a pending `poll()` returns at once, and the loop closes the
 * descriptors only after that, so no worker thread ever polls a closed (and
 * possibly reused) fd. `pollTimeout` bounds every wait anyway.
 *
 * @module
 */
import type { DriverPort } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { PacketFlags } from "../../stack/packet_flags.ts";
import {
  checksumTrusted,
  completeChecksum,
  partialChecksumPastIpHeader,
  partialTcp,
  tcpGsoMatches,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VNET_HDR_LEN,
  writeTxHeader,
} from "./vnet.ts";
import { segmentUdp } from "./uso.ts";
import { BlockingWait, claimBlockingWait, releaseBlockingWait } from "./block_wait.ts";
import { MAX_IDLE_CHECKS, QUIET_FRAME, QUIET_RUNNER_RAN, QuietWait } from "./io_wait.ts";
import {
  EAGAIN,
  EINTR,
  type Libc,
  type LibcSymbols,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
} from "./_libc.ts";
import { type IoStats, newIoStats } from "./io_stats.ts";

export type { IoStats } from "./io_stats.ts";
export { KEEP_WARM_WINDOW } from "./io_wait.ts";

/** Options of {@linkcode TunIo}. */
export interface TunIoOptions {
  /** Largest frame expected (MTU, plus link header on TAP); buffers are at least this big. */
  readonly frameMax: number;
  /** Frames read before yielding to the event loop. */
  readonly batch: number;
  /**
   * Bytes after which a batch ends even if it has fewer than `batch` frames
   * (the frame that reaches it is the batch's last). Default: no limit.
   */
  readonly batchBytes?: number;
  /** Longest `poll()` wait, in ms. */
  readonly pollTimeout: number;
  /** Frames carry a virtio-net header (`IFF_VNET_HDR`), see `vnet.ts`. Default false. */
  readonly vnet?: boolean;
  /** Bytes of link header in front of IP (TAP: 14, TUN: 0). Default 0. */
  readonly linkHeader?: number;
  /** Longest frame the link carries unsegmented (MTU + link header); default `frameMax`. */
  readonly maxFrame?: number;
  /**
   * When set, wait when quiet with the JS thread asleep in `poll()` for at
   * most this many ms (see `block_wait.ts`), watching also `epollFd`.
   */
  readonly blockMax?: number;
  /** The event loop's epoll fd for the blocking wait (-1: none). */
  readonly epollFd?: number;
  /**
   * With `blockMax`: µs after the last frame during which the quiet loop
   * busy-polls instead of sleeping (0..10000, default 0: never).
   */
  readonly spin?: number;
  /**
   * With `blockMax`: while asleep, wake every this many ms to run
   * {@linkcode TunIo.onKeepWarm} (0, the default: never).
   */
  readonly keepWarm?: number;
}

// Consecutive failing polls after which the loop gives up (a broken descriptor).
const MAX_POLL_FAILURES = 100;

/**
 * @internal The read loop and write path of one descriptor; {@linkcode
 * TunDevice} (tun.ts) wraps it. Hot path: `#drain` and `transmit`.
 */
export class TunIo {
  /** Counters. */
  readonly stats: IoStats = newIoStats();
  /** Called after each batch that delivered frames. */
  onBatch: (() => void) | null = null;
  /** The last error that stopped the loop, if any. */
  error: Error | null = null;
  /**
   * ms until the runner's next timer, which bounds a blocking wait (null:
   * `blockMax` only). When a sleep ends with it at 0, the loop calls
   * `onBatch` (the runner's `kick`) itself.
   */
  waitBudget: (() => number) | null = null;
  /**
   * With `keepWarm`: called every `keepWarm` ms of a blocking sleep, to run
   * the receive path's code on something that is not the device's (the
   * code stays in the caches, so the next frame's echo is not cold).
   */
  onKeepWarm: (() => void) | null = null;
  #fd: number;
  #wake: number;
  readonly #sym: LibcSymbols;
  readonly #libc: Libc;
  readonly #frameMax: number;
  readonly #batch: number;
  readonly #batchBytes: number;
  readonly #pollTimeout: number;
  readonly #vnet: boolean;
  readonly #linkHeader: number;
  // The longest frame the link carries without segmentation (MTU + link header).
  readonly #maxFrame: number;
  // struct pollfd[2] = { int fd; short events; short revents } × 2: the device, the eventfd.
  readonly #pollfds = new Uint8Array(16);
  readonly #pollView = new DataView(this.#pollfds.buffer);
  #closing = false;
  /** The blocking wait when quiet (`io_wait.ts`), if this loop has it. */
  readonly #wait: QuietWait | null;

  constructor(libc: Libc, fd: number, wakeFd: number, options: TunIoOptions) {
    this.#libc = libc;
    this.#sym = libc.sym;
    this.#fd = fd;
    this.#wake = wakeFd;
    this.#frameMax = options.frameMax;
    this.#batch = options.batch;
    this.#batchBytes = options.batchBytes ?? Infinity;
    this.#pollTimeout = options.pollTimeout;
    this.#vnet = options.vnet ?? false;
    this.#linkHeader = options.linkHeader ?? 0;
    this.#maxFrame = options.maxFrame ?? options.frameMax;
    const pv = this.#pollView;
    pv.setInt32(0, fd, true);
    pv.setInt16(4, POLLIN, true);
    pv.setInt32(8, wakeFd, true);
    pv.setInt16(12, POLLIN, true);
    this.#wait = (options.blockMax ?? 0) > 0 && claimBlockingWait()
      ? new QuietWait(this, new BlockingWait(libc, fd, wakeFd, options.epollFd ?? -1), options)
      : null;
  }

  /** Whether this loop has the process's blocking wait (`wait: "block"`, one device per process). */
  get blocking(): boolean {
    return this.#wait !== null;
  }

  /** The device descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Whether {@linkcode stop} was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Runs the loop until {@linkcode stop}; resolves when it has ended (never rejects). */
  async start(port: DriverPort): Promise<void> {
    const sym = this.#sym;
    const pollfds = this.#pollfds;
    const pv = this.#pollView;
    let failures = 0;
    const wait = this.#wait;
    // Blocking wait only: the last idle check saw the JS thread idle (see QuietWait.idleCheck).
    let idle = false;
    // Blocking wait only: idle checks in a row since the last worker-thread poll.
    let checks = 0;
    // A device's pool is a busy one: its checksum arena now, not ~1 ms inside
    // the 1,024th frame's alloc() (issue #13).
    port.pool.useArenaNow();
    while (!this.#closing) {
      // One batch for the stack: work it coalesces (ACKs) is done once, at the end.
      port.beginBatch?.();
      let got: number;
      try {
        got = this.#drain(port);
      } finally {
        port.endBatch?.();
      }
      if (got > 0) {
        this.stats.rxBatches++;
        if (wait !== null) wait.sawFrames();
        const cb = this.onBatch;
        if (cb !== null) {
          try {
            cb();
          } catch {
            this.stats.callbackErrors++;
          }
        }
        if (this.#closing) break;
      }
      let timeout = this.#pollTimeout;
      if (wait !== null) {
        if (got === 0 && idle) {
          // Quiet and idle: sleep right here, and read a frame in the turn it wakes us.
          idle = false;
          const q = wait.waitQuiet();
          if (q === QUIET_FRAME) continue;
          // The event loop has I/O, a timer is due, or stop(): the worker
          // poll below lets it run them (the runtime parks, so its I/O
          // driver and timers run), and returns at once for a frame.
          if (q === QUIET_RUNNER_RAN) timeout = 0;
        } else if (checks < MAX_IDLE_CHECKS) {
          checks++;
          idle = await wait.idleCheck();
          continue;
        }
        checks = 0;
        if (timeout !== 0) timeout = 1;
      }
      // One worker-thread round trip per batch; returns at once when frames
      // are already waiting, so under load this is also our yield point.
      this.stats.polls++;
      const n = await sym.poll(pollfds, 2, timeout);
      if (n < 0) {
        // EINTR and friends: try again, but a descriptor that keeps failing ends the loop.
        if (++failures >= MAX_POLL_FAILURES) {
          this.error = new Error(`poll() on the device failed ${failures} times in a row`);
          break;
        }
        continue;
      }
      failures = 0;
      const revents = pv.getInt16(6, true);
      if ((revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0 && (revents & POLLIN) === 0) {
        this.error = new Error(
          `The device descriptor failed (poll revents 0x${revents.toString(16)})`,
        );
        break;
      }
    }
    this.#closing = true;
  }

  /**
   * Reads until EAGAIN, `batch` frames or `batchBytes`, handing each to the stack.
   * Hot path: no closure, promise or allocation besides the pooled buffer and
   * the view given to FFI.
   */
  #drain(port: DriverPort): number {
    const sym = this.#sym;
    const fd = this.#fd;
    const pool = port.pool;
    const stats = this.stats;
    let n = 0;
    let bytes = 0;
    // With a virtio-net header it is read into the headroom, right in front of the frame.
    const hdr = this.#vnet ? VNET_HDR_LEN : 0;
    while (n < this.#batch && bytes < this.#batchBytes && !this.#closing) {
      const pkt = pool.alloc(this.#frameMax);
      const start = pkt.start;
      // All the tailroom: a frame a little over the MTU still fits.
      const room = pkt.buf.length - start;
      const r0 = sym.read(fd, pkt.buf.subarray(start - hdr), room + hdr);
      const r = r0 - hdr;
      if (r <= 0 && r0 > 0) {
        // A frame no longer than its virtio-net header: nothing to hand on.
        stats.rxBadVnet++;
        pkt.release();
        continue;
      }
      if (r <= 0) {
        pkt.release();
        if (r0 < 0) {
          const e = this.#libc.errno();
          if (e !== EAGAIN && e !== EINTR) {
            stats.rxErrors++;
            stats.lastErrno = e;
          }
        }
        break;
      }
      if (r > room) {
        // tun_put_user() reports the whole length even when it copied less.
        stats.rxTruncated++;
        pkt.release();
        continue;
      }
      pkt.end = start + r;
      if (hdr !== 0) {
        const buf = pkt.buf;
        const h = start - hdr;
        const gso = buf[h + 1]! & ~VIRTIO_NET_HDR_GSO_ECN;
        if (gso !== VIRTIO_NET_HDR_GSO_NONE) {
          // A UDP super-datagram (USO) stands for several datagrams: cut it up here.
          if (gso === VIRTIO_NET_HDR_GSO_UDP_L4) {
            const gsoSize = buf[h + 4]! | (buf[h + 5]! << 8);
            const k = segmentUdp(
              buf,
              start,
              start + this.#linkHeader,
              start + r,
              gsoSize,
              pool,
              port.receive.bind(port),
            );
            pkt.release();
            if (k === 0) stats.rxBadVnet++;
            stats.rxUso++;
            stats.rxPackets += k;
            stats.rxBytes += r;
            n += k;
            bytes += r;
            continue;
          }
          // A TCP super-segment is one valid segment; anything else (UFO, a type
          // that does not match the packet) is not.
          if (!tcpGsoMatches(buf, gso, start + this.#linkHeader, start + r)) {
            stats.rxBadVnet++;
            pkt.release();
            continue;
          }
          stats.rxGso++;
          // The segment size, so a forwarder can cut it up again (or pass it to a TSO link).
          pkt.gsoSize = buf[h + 4]! | (buf[h + 5]! << 8);
        }
        const l4 = buf[h] === 0
          ? -1
          : partialTcp(buf, h, start, start + this.#linkHeader, start + r);
        if (l4 >= 0) {
          // TCP left partial (IPv4 or IPv6): TCP never reads the field, so nobody sums
          // 64 KiB unless something else looks (finishPartialChecksum).
          pkt.l4 = l4;
          pkt.flags |= PacketFlags.CHECKSUM_VERIFIED | PacketFlags.CHECKSUM_PARTIAL;
          stats.rxCsumPartial++;
        } else if (buf[h] !== 0) {
          // NEEDS_CSUM: finish the checksum Linux left partial (DATA_VALID needs nothing),
          // never inside the IP header.
          if (
            !partialChecksumPastIpHeader(buf, h, start, start + this.#linkHeader) ||
            !completeChecksum(buf, h, start, start + r)
          ) {
            stats.rxBadVnet++;
            pkt.release();
            continue;
          }
          stats.rxCsumCompleted += buf[h]! & 1;
          // Completed or verified by Linux: TCP/UDP need not sum it again.
          if (checksumTrusted(buf, h, start, start + this.#linkHeader, start + r)) {
            pkt.flags |= PacketFlags.CHECKSUM_VERIFIED;
          }
        }
      }
      stats.rxPackets++;
      stats.rxBytes += r;
      n++;
      bytes += r;
      port.receive(pkt); // the stack borrows pkt and releases it
    }
    return n;
  }

  /** Writes `pkt`'s data window and releases it. Never throws. Hot path. */
  transmit(pkt: PacketBuffer): void {
    const len = pkt.end - pkt.start;
    if (this.#fd < 0) {
      this.stats.txErrors++;
      pkt.release();
      return;
    }
    let from = pkt.start;
    let want = len;
    if (this.#vnet) {
      from -= VNET_HDR_LEN;
      want += VNET_HDR_LEN;
      const ok = from >= 0 &&
        writeTxHeader(
          pkt.buf,
          pkt.start,
          pkt.start + this.#linkHeader,
          pkt.end,
          pkt.gsoSize,
          this.#maxFrame,
        );
      if (!ok) {
        this.stats.txNotSegmentable++;
        this.stats.txErrors++;
        pkt.release();
        return;
      }
      if (pkt.buf[from + 1] !== 0) this.stats.txGso++;
    }
    const r = this.#sym.write(this.#fd, pkt.buf.subarray(from, pkt.end), want);
    if (r === want) {
      this.stats.txPackets++;
      this.stats.txBytes += len;
    } else {
      this.stats.txErrors++;
      if (r < 0) this.stats.lastErrno = this.#libc.errno();
    }
    pkt.release();
  }

  /** Asks the loop to stop: wakes a pending `poll()` through the eventfd. */
  stop(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#wake >= 0) {
      const one = new Uint8Array(8);
      one[0] = 1;
      this.#sym.write(this.#wake, one, 8);
    }
  }

  /**
   * Closes both descriptors (only once the loop has ended, or was never
   * started). With `sync` false the device fd is closed on a worker thread:
   * Linux unregisters the device then, which takes ~14 ms.
   */
  async closeFds(sync: boolean): Promise<void> {
    const fd = this.#fd, wake = this.#wake;
    this.#fd = this.#wake = -1;
    if (this.#wait !== null && fd >= 0) releaseBlockingWait();
    if (wake >= 0) this.#sym.close(wake);
    if (fd < 0) return;
    if (sync) this.#sym.close(fd);
    else await this.#sym.closeAsync(fd);
  }
}

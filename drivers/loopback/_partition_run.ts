/**
 * One partition's run (in a Worker, or in this thread when there is one
 * partition): builds the scenario, then runs conservative windows, swapping
 * boundary frames with the other partitions through a SharedArrayBuffer.
 *
 * Shared memory: a control block (barrier counter, generation, abort flag),
 * then per window parity each partition's published values (next event
 * time, earliest frame sent), then per parity one ring per ordered pair of
 * partitions. Double buffering by parity means a partition writes window
 * k + 1's frames while the others may still read window k's.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { Instant } from "../../stack/clock.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { VirtualNetwork } from "./network.ts";
import { Partition } from "./partition.ts";
import type { PartitionOutput, PartitionTiming, ScenarioBuilder } from "./partition.ts";
import { wireOf } from "./_wire.ts";
import type { FrameSink } from "./_wire.ts";
import { preciseThreadCpuClock, threadCpuMs } from "./_thread_cpu.ts";
import { abortShared, crossingTo, pairSharedBytes, runPair } from "./_partition_async.ts";
import type { StepTrace } from "./_partition_replay.ts";
import { Sampler } from "./_partition_samples.ts";

/** @internal What the main thread sends each partition. */
export interface PartitionInit {
  /** When runPartitioned was called: `performance.timeOrigin + performance.now()` there, ms. */
  readonly calledAt: number;
  readonly module: string;
  readonly index: number;
  readonly count: number;
  readonly seed: number;
  readonly duration: number;
  readonly params: unknown;
  readonly assign: Readonly<Record<string, number>> | undefined;
  readonly ringBytes: number;
  readonly shared: SharedArrayBuffer | null;
  /** Measure each window's CPU time, or with two partitions each wait's (FFI clock; a few µs each). */
  readonly profile: boolean;
  /** With `profile`, two partitions: trace each step for the replay on idle cores. */
  readonly traceSteps: boolean;
  /** Barrier windows even for two partitions (for comparison). */
  readonly barrier: boolean;
  /** Two partitions: publish the bound after every step that moved it, not on demand. */
  readonly publishEveryStep: boolean;
  /** Simulated µs between progress samples (0: none). */
  readonly sampleEvery: number;
}

const ARRIVED = 0, GEN = 1, ABORT = 2;
const CTL_BYTES = 64;
/** at (f64), seq (f64), lane id, tag, length (u32 each), padding. */
const RECORD_HEADER = 32;
/** Bytes at the start of each ring: its used length. */
const RING_HEADER = 8;
/**
 * Most time (ms) to busy-wait at a barrier before sleeping: a window's work
 * is often tens of µs, less than a sleeping thread takes to wake. The spin
 * adapts (halved when the wait outlasts it, doubled when it covers it), so a
 * loaded machine, where the others are often not running, wastes little.
 */
const SPIN_MAX_MS = 0.2;
const SPIN_MIN_MS = 0.005;
/** A partition silent this long at a barrier is taken for dead. */
const BARRIER_TIMEOUT_MS = 120_000;

/** @internal Bytes of shared memory for `count` partitions with rings of `ringBytes`. */
export function sharedBytes(count: number, ringBytes: number): number {
  const windows = CTL_BYTES + valuesBytes(count) + 2 * count * count * ringBytes;
  return count === 2 ? Math.max(windows, pairSharedBytes(ringBytes)) : windows;
}

/** Per parity and partition: its next event time, and the earliest frame it sent to each partition. */
function valuesBytes(count: number): number {
  return 2 * count * (1 + count) * 8;
}

/** The shared memory as one partition sees it. */
class Channel {
  readonly #ctl: Int32Array;
  readonly #vals: Float64Array;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #index: number;
  readonly #count: number;
  readonly #ring: number;
  readonly #ringBase: number;
  readonly #cursor: number[];
  /** Time spent waiting at barriers, ms. */
  waited = 0;
  /** Of `waited`, time spent spinning, ms. */
  spun = 0;
  /** Barriers the spin did not cover (the thread slept). */
  sleeps = 0;
  #spinMs = SPIN_MAX_MS;

  constructor(shared: SharedArrayBuffer, index: number, count: number, ringBytes: number) {
    this.#ctl = new Int32Array(shared, 0, CTL_BYTES / 4);
    this.#vals = new Float64Array(shared, CTL_BYTES, valuesBytes(count) / 8);
    this.#view = new DataView(shared);
    this.#bytes = new Uint8Array(shared);
    this.#index = index;
    this.#count = count;
    this.#ring = ringBytes;
    this.#ringBase = CTL_BYTES + valuesBytes(count);
    this.#cursor = new Array(count).fill(RING_HEADER);
  }

  #region(parity: number, src: number, dst: number): number {
    return this.#ringBase + ((parity * this.#count + src) * this.#count + dst) * this.#ring;
  }

  send(
    parity: number,
    dst: number,
    at: Instant,
    seq: number,
    lane: number,
    tag: number,
    data: Uint8Array,
  ): void {
    const off = this.#cursor[dst]!;
    const need = RECORD_HEADER + ((data.length + 7) & ~7);
    if (off + need > this.#ring) {
      throw new RangeError(
        `Cannot send a frame to partition ${dst}: more than ${this.#ring} bytes crossed in one ` +
          `window; raise ringBytes`,
      );
    }
    const base = this.#region(parity, this.#index, dst) + off;
    const v = this.#view;
    v.setFloat64(base, at, true);
    v.setFloat64(base + 8, seq, true);
    v.setUint32(base + 16, lane, true);
    v.setUint32(base + 20, tag, true);
    v.setUint32(base + 24, data.length, true);
    this.#bytes.set(data, base + RECORD_HEADER);
    this.#cursor[dst] = off + need;
  }

  /**
   * Publishes this window's rings, the next event time and the earliest
   * frame sent to each partition (`minSent`, reset to Infinity here).
   */
  publish(parity: number, next: number, minSent: number[]): void {
    const n = this.#count;
    for (let dst = 0; dst < n; dst++) {
      if (dst === this.#index) continue;
      this.#view.setUint32(this.#region(parity, this.#index, dst), this.#cursor[dst]!, true);
      this.#cursor[dst] = RING_HEADER;
    }
    const at = (parity * n + this.#index) * (1 + n);
    this.#vals[at] = next;
    for (let dst = 0; dst < n; dst++) {
      this.#vals[at + 1 + dst] = minSent[dst]!;
      minSent[dst] = Infinity;
    }
  }

  /** Waits until every partition has published. */
  barrier(): void {
    const ctl = this.#ctl;
    const t0 = performance.now();
    const gen = Atomics.load(ctl, GEN);
    let spinning = true;
    if (Atomics.add(ctl, ARRIVED, 1) === this.#count - 1) {
      Atomics.store(ctl, ARRIVED, 0);
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
    } else {
      for (let spins = 1; Atomics.load(ctl, GEN) === gen; spins++) {
        if (spinning) {
          if ((spins & 63) !== 0 || performance.now() - t0 < this.#spinMs) continue;
          spinning = false;
          this.sleeps++;
          this.spun += performance.now() - t0;
          this.#spinMs = Math.max(SPIN_MIN_MS, this.#spinMs / 2);
        }
        Atomics.wait(ctl, GEN, gen, 100);
        if (Atomics.load(ctl, ABORT) !== 0) break;
        if (performance.now() - t0 > BARRIER_TIMEOUT_MS) {
          throw new Error(
            `Cannot finish a window: no word from the other partitions in ${BARRIER_TIMEOUT_MS} ms`,
          );
        }
      }
      if (spinning) this.#spinMs = Math.min(SPIN_MAX_MS, this.#spinMs * 2);
    }
    const waited = performance.now() - t0;
    this.waited += waited;
    if (spinning) this.spun += waited;
    if (Atomics.load(ctl, ABORT) !== 0) {
      throw new Error("Cannot finish a window: another partition failed");
    }
  }

  /** Hands every frame sent to this partition in window `parity` to `fn`. */
  receive(
    parity: number,
    fn: (at: Instant, seq: number, lane: number, tag: number, data: Uint8Array) => void,
  ): void {
    const v = this.#view;
    for (let src = 0; src < this.#count; src++) {
      if (src === this.#index) continue;
      const region = this.#region(parity, src, this.#index);
      const used = v.getUint32(region, true);
      for (let off = RING_HEADER; off < used;) {
        const base = region + off;
        const len = v.getUint32(base + 24, true);
        const data = this.#bytes.subarray(base + RECORD_HEADER, base + RECORD_HEADER + len);
        fn(
          v.getFloat64(base, true),
          v.getFloat64(base + 8, true),
          v.getUint32(base + 16, true),
          v.getUint32(base + 20, true),
          data,
        );
        off += RECORD_HEADER + ((len + 7) & ~7);
      }
    }
  }

  /**
   * Into `earliest`, each partition's earliest event of the coming window
   * (its next event, or a frame sent to it), as published for `parity`.
   */
  earliest(parity: number, earliest: number[]): void {
    const n = this.#count;
    for (let p = 0; p < n; p++) {
      let t = this.#vals[(parity * n + p) * (1 + n)]!;
      for (let q = 0; q < n; q++) {
        const sent = this.#vals[(parity * n + q) * (1 + n) + 1 + p]!;
        if (sent < t) t = sent;
      }
      earliest[p] = t;
    }
  }
}

function macrotask(): Promise<void> {
  return new Promise((resolve) => void setImmediate(resolve));
}

/** @internal Builds and runs one partition; returns its output. */
export async function runPartition(init: PartitionInit): Promise<PartitionOutput> {
  const b0 = performance.now(), bc0 = threadCpuMs();
  const shared = init.shared;
  try {
    const mod = await import(init.module);
    const build = mod.build as ScenarioBuilder;
    if (typeof build !== "function") {
      throw new TypeError(`Cannot run ${init.module}: it exports no build function`);
    }
    const pair = shared !== null && init.count === 2 && !init.barrier;
    const channel = shared === null || pair
      ? null
      : new Channel(shared, init.index, init.count, init.ringBytes);
    const net = new VirtualNetwork({ seed: init.seed });
    const part = new Partition(net, {
      index: init.index,
      count: init.count,
      ...(init.assign === undefined ? {} : { assign: init.assign }),
    });
    // Frames queued while building, (time, link direction id), and callbacks
    // (time, -1): the pair runner's bound needs them.
    const early: number[] = [];
    const wire = wireOf.get(net)!;
    if (pair) {
      wire.remote = (at, _pkt, sink) => (early.push(at, sink.id), false);
      wire.onCallback = (at) => void early.push(at, -1);
    }
    const scenario = await build(net, part, init.params);
    wire.remote = wire.onCallback = null;
    const t0 = performance.now(), c0 = threadCpuMs();
    const sampler = init.sampleEvery > 0 ? new Sampler(init.sampleEvery, net.now()) : null;
    let run: { windows: number; crossed: number; windowCpu: Float64Array | null };
    let waitMs = 0, spinMs = 0, sleeps = 0, publications = 0, waitCpuMs = NaN;
    let stepTrace: StepTrace | null = null, stepSends: Float64Array | null = null;
    let waitsBy: Pick<
      PartitionTiming,
      "waitCauses" | "waitLengths" | "aheadSteps" | "lateFrames"
    > = {};
    if (pair) {
      const cpu = init.profile ? preciseThreadCpuClock() : null;
      const r = await runPair(net, part, shared, init.ringBytes, init.duration, early, cpu, {
        publishEveryStep: init.publishEveryStep,
        traceSteps: init.traceSteps,
        sampler,
      });
      run = { windows: r.waits, crossed: r.crossed, windowCpu: null };
      stepTrace = r.trace;
      stepSends = r.sends;
      waitMs = r.waited;
      spinMs = r.spun;
      sleeps = r.sleeps;
      waitCpuMs = r.waitCpu;
      publications = r.publications;
      waitsBy = {
        waitCauses: r.causes,
        waitLengths: r.lengths,
        aheadSteps: r.aheadSteps,
        lateFrames: r.lateFrames,
      };
    } else {
      const cpu = init.profile && channel !== null ? preciseThreadCpuClock() : null;
      run = await runWindows(net, part, channel, init.duration, cpu, sampler);
      waitMs = channel?.waited ?? 0;
      spinMs = channel?.spun ?? 0;
      sleeps = channel?.sleeps ?? 0;
    }
    sampler?.at(net.now(), waitMs, waitCpuMs);
    const busyMs = performance.now() - t0 - waitMs;
    const timing = {
      startMs: performance.timeOrigin + t0 - init.calledAt,
      buildMs: t0 - b0,
      buildCpuMs: c0 - bc0,
      runCpuMs: threadCpuMs() - c0,
      waitMs,
      spinMs,
      sleeps,
      waitCpuMs,
      windows: run.windows,
      publications,
      ...(sampler === null ? {} : { samples: sampler.take() }),
      ...waitsBy,
    };
    const owners: Record<string, number> = {};
    for (const sw of part.switches) owners[sw.name] = part.ownerOf(sw);
    return {
      report: scenario.report(),
      ...part.collect(),
      owners,
      lookahead: part.lookahead,
      windows: run.windows,
      boundaryFrames: run.crossed,
      busyMs,
      timing,
      windowCpuMs: run.windowCpu,
      stepTrace,
      stepSends,
    };
  } catch (err) {
    if (shared !== null) abortShared(shared);
    throw err;
  }
}

async function runWindows(
  net: VirtualNetwork,
  part: Partition,
  channel: Channel | null,
  duration: number,
  cpu: (() => number) | null,
  sampler: Sampler | null,
): Promise<{ windows: number; crossed: number; windowCpu: Float64Array | null }> {
  const wire = wireOf.get(net)!;
  const me = part.index;
  const lookahead = part.lookahead;
  const end = net.now() + duration;
  const limit = end + 1;
  let windowEnd = limit, parity = 0, crossed = 0, windows = 0;
  const count = part.count;
  /** Earliest frame sent to each partition this window. */
  const minSent: number[] = new Array(count).fill(Infinity);
  /** Each partition's earliest event of the coming window, and its window's end. */
  const earliest: number[] = new Array(count).fill(Infinity);
  const ends: number[] = new Array(count).fill(limit);
  const { receiver, sender, lanes } = part.laneOwners();
  if (channel !== null) {
    wire.remote = (at: Instant, pkt: PacketBuffer, sink: FrameSink, tag: number, seq: number) => {
      const to = crossingTo(receiver, sender, me, sink);
      if (to < 0) return false;
      if (at < ends[to]!) {
        throw new Error(
          `Cannot send a frame across partitions: due at ${at} µs, before partition ${to}'s ` +
            `window ends at ${ends[to]} µs (a boundary delay fell below the lookahead of ` +
            `${lookahead} µs)`,
        );
      }
      channel.send(parity, to, at, seq, sink.id, tag, pkt.data);
      if (at < minSent[to]!) minSent[to] = at;
      crossed++;
      wire.release(pkt);
      return true;
    };
  }
  /**
   * Swaps boundary frames and next event times; returns the earliest event
   * of any partition. Every frame that can still reach partition `p` comes
   * from an event of another partition `q` (at or after its earliest, E_q)
   * or is caused by what `p` itself sends (at or after E_p plus a round
   * trip), so `p` may run up to min(E_q + lookahead, E_p + 2 lookahead): the
   * laggard runs further than one YAWNS window (min E + lookahead for all).
   */
  const exchange = (): number => {
    if (channel === null) return Infinity;
    const next = net.nextDeadline();
    channel.publish(parity, next === undefined ? Infinity : next, minSent);
    channel.barrier();
    channel.receive(parity, (at, seq, id, tag, data) => {
      wire.inject(at, net.pool.copyOf(data), lanes[id]!, tag, seq);
    });
    channel.earliest(parity, earliest);
    parity ^= 1;
    let min = Infinity;
    for (let p = 0; p < count; p++) {
      // What p sends in this window may come back, at 2 lookaheads.
      let end = earliest[p]! + 2 * lookahead;
      for (let q = 0; q < count; q++) {
        if (q !== p && earliest[q]! + lookahead < end) end = earliest[q]! + lookahead;
      }
      ends[p] = Math.min(end, limit);
      if (earliest[p]! < min) min = earliest[p]!;
    }
    return min;
  };
  /** With `cpu`: each window's CPU time between exchanges, ms (grown as needed). */
  let windowCpu = cpu === null ? null : new Float64Array(1024);
  try {
    // Let the scenario's async start-up settle, as a first run() turn would.
    await macrotask();
    let min = channel === null ? net.now() : exchange();
    while (min < limit) {
      windowEnd = channel === null ? limit : ends[me]!;
      const c0 = cpu === null ? 0 : cpu();
      for (;;) {
        const next = net.nextDeadline();
        if (next === undefined || Math.ceil(next) >= windowEnd) break;
        const target = Math.ceil(next);
        if (target > net.now()) net.clock.set(target);
        net.step();
        await macrotask();
        sampler?.at(net.now(), channel?.waited ?? 0, NaN);
      }
      if (windowCpu !== null) {
        if (windows === windowCpu.length) {
          const grown = new Float64Array(2 * windows);
          grown.set(windowCpu);
          windowCpu = grown;
        }
        windowCpu[windows] = cpu!() - c0;
      }
      windows++;
      min = exchange();
    }
    if (end > net.now()) net.clock.set(end);
    return { windows, crossed, windowCpu: windowCpu?.subarray(0, windows) ?? null };
  } finally {
    wire.remote = null;
  }
}

/**
 * Two partitions without barriers (issue 19): each runs as far as the other
 * can be shown unable to reach it, and waits only when it catches up, so the
 * busier partition never waits for the lighter one (Chandy–Misra–Bryant
 * style, with each side's bound published in shared memory instead of null
 * messages).
 *
 * Each partition publishes B, a bound on when it may next put a frame on a
 * boundary trunk, minus the lookahead L, as the least of, over its pending
 * events:
 *
 * - a frame in flight toward a switch or trunk of its own that the switch
 *   may forward across: its time (the switch forwards it at once);
 * - a host's event (its timer, a frame toward it, a callback): its time plus
 *   the smallest delay A of a host's cable toward its switch (the host's
 *   answer must cross that cable first);
 * - a frame toward a switch that will hand it to a host (its destination is
 *   learned on a host port and still fresh then): its time plus the
 *   smallest delay D of a cable from the switch to a host, plus A (the
 *   host's answer comes back through its cable first).
 *
 * A and D are 0 with a snooping switch, whose querier sends from the
 * switch. Partition p may then run every event before
 *
 *     H = min(B_q + L, U + L, B_p + 2L)
 *
 * where U bounds when a frame p sent, that q had not yet taken in when it
 * computed B_q, may leave q again: its time, or with no other trunk on the
 * switch it enters (a switch never sends a frame back out of its ingress
 * port) its time plus that switch's shortest cable to a host and the
 * shortest host cable back; and B_p + 2L covers what p will
 * send before q answers. Frames cross in one single-producer ring per
 * direction. The reader reads B_q (and how many frames q had taken in) before
 * it drains the ring, so every frame q wrote before publishing B_q is queued
 * before p runs past it, and the later ones are bounded by B_q.
 *
 * Past H, an instant with only hosts' events (no frame toward a switch) may
 * still run if it is before H + D: what the other sends enters a switch here
 * at H or later and reaches a host D later at the soonest, when that switch
 * hands what enters it only to hosts (no other trunk, no snooping) and no
 * cable is instant. Such a frame may then be taken in behind this
 * partition's time: its switch takes it late, at its own time
 * (`VirtualNetwork.stepLate`), as nothing else can be due there then (host
 * events touch no switch before a host cable later), which cuts the waits by
 * about a fifth in issue 19's scenario.
 *
 * With more than two partitions a frame waiting in one ring could reach a
 * third partition through the second, which B does not cover: those runs keep
 * the barrier windows of `_partition_run.ts`.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { Instant } from "../../stack/clock.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { VirtualNetwork } from "./network.ts";
import type { Partition } from "./partition.ts";
import { wireOf } from "./_wire.ts";
import { TraceRecorder } from "./_partition_replay.ts";
import type { StepTrace } from "./_partition_replay.ts";
import type { FrameSink } from "./_wire.ts";
import type { Sampler } from "./_partition_samples.ts";

/** Int32 words of the control block. */
const ABORT = 2;
/** Per partition p: bumped at each publication (the other waits on it). */
const BUMP = 4;
/** Per partition p: set while p sleeps waiting for the other. */
const ASLEEP = 6;
/**
 * Per partition p: bytes p has read from the ring toward it, and bytes it
 * has written into the ring toward the other, in all (low 32 bits: only
 * their difference, at most a ring, is used).
 */
const READ_TOTAL = 8, WRITE_TOTAL = 12;
/** Per partition p: bumped after each step p runs (the other spins on while it moves). */
const STEPS = 10;
/** Per partition p: set while p waits for the other's next publication. */
const WANT = 14;
/** Per partition p: which kind of pending event set its published bound (BoundKind). */
const KIND = 0;
const CTL_BYTES = 64;
/** BigInt64 words after the control block: per partition, B (µs) and frames taken in. */
const BOUND = 0, TAKEN = 2;
/** BigInt64 words: per partition, while it waits, the bound of the other that would let it go on. */
const NEED = 4;
const VALS_BYTES = 48;
/** len (u32), lane id, tag, padding, at (f64), seq (f64). */
const RECORD_HEADER = 32;
/** A record length meaning "continue at the ring's start". */
const WRAP = 0xffffffff;
/** "No bound" in the BigInt64 words. */
const NEVER = 2n ** 62n;
/**
 * Most and least time (ms) to spin on while the other takes no step: a
 * waiting partition spins as long as the other steps (it runs, and will
 * publish soon: an adaptive mutex's "spin while the owner runs"), and sleeps
 * once the other has not stepped this long (descheduled, or in a long step),
 * or after SPIN_CAP_MS in all. A sleeping thread takes tens of µs to wake,
 * more than a step, and the lead it sleeps away is at most two lookaheads of
 * simulated time. Adapted per wait as at the barrier: halved when the wait
 * outlasts the spin, doubled when the spin covers it, so a loaded machine,
 * where the other is often not running, wastes little.
 */
const SPIN_MAX_MS = 0.2, SPIN_MIN_MS = 0.005, SPIN_CAP_MS = 1;
/** Most steps a profile traces (24 bytes each; about 15 simulated minutes of issue 19's scenario). */
const TRACE_STEPS = 1 << 21;
/** A partition silent this long is taken for dead. */
const STALL_TIMEOUT_MS = 120_000;

/**
 * What set a partition's bound: a frame its switch may pass across (at its
 * time), a host's event (plus a host cable), a frame its switch hands to a
 * host (plus both cables), an event none of these saw (at its time), or
 * nothing pending.
 */
const enum BoundKind {
  Crossing = 0,
  Host = 1,
  Handed = 2,
  Unseen = 3,
  Idle = 4,
}
/**
 * Why a partition waited: the other's bound, by its kind (BoundKind, 0 to
 * 4), or a frame it sent that the other had not taken in (5).
 */
const WAIT_CAUSES = [
  "otherCrossing",
  "otherHost",
  "otherHanded",
  "otherUnseen",
  "otherIdle",
  "sentNotTaken",
  "ownBound",
] as const;
const SENT_NOT_TAKEN = 5, OWN_BOUND = 6;
/** Upper ends (µs of wall time) of the waits' length classes; the last is open. */
const WAIT_LENGTHS_US = [10, 30, 100, 300, 1000, Infinity];

/** @internal Shared bytes for two partitions with rings of `ringBytes`. */
export function pairSharedBytes(ringBytes: number): number {
  return CTL_BYTES + VALS_BYTES + 2 * ringBytes;
}

/** A min-heap of times: the frames in flight that a switch could forward across at once. */
class TimeHeap {
  #a = new Float64Array(256);
  size = 0;
  peek(): number {
    return this.size === 0 ? Infinity : this.#a[0]!;
  }
  push(t: number): void {
    if (this.size === this.#a.length) {
      const grown = new Float64Array(2 * this.size);
      grown.set(this.#a);
      this.#a = grown;
    }
    const a = this.#a;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= t) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = t;
  }
  pop(): void {
    const a = this.#a;
    const last = a[--this.size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && a[c + 1]! < a[c]!) c++;
      if (a[c]! >= last) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
  }
}

/** The shared memory of a two-partition run as partition `me` sees it. */
class PairChannel {
  readonly #ctl: Int32Array;
  readonly #vals: BigInt64Array;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #me: number;
  readonly #other: number;
  readonly #size: number;
  readonly #outBase: number;
  readonly #inBase: number;
  #spinMs = SPIN_MAX_MS;
  #writePos = 0;
  #writeTotal = 0;
  #readPos = 0;
  #readTotal = 0;
  /** Frames taken in from the other, in all (published with B). */
  taken = 0;
  /** Wall time waiting, and of it spinning, ms; times a wait began; bounds published. */
  publications = 0;
  waited = 0;
  spun = 0;
  waits = 0;
  /** Of `waits`, those the spin did not cover (the thread slept). */
  sleeps = 0;
  /** Thread CPU time inside waits (spinning, the futex calls), ms; NaN without a clock. */
  waitCpu = NaN;
  /** Waits by length class (WAIT_LENGTHS_US): those the spin covered, then those that slept. */
  readonly lengths: number[] = new Array(2 * WAIT_LENGTHS_US.length).fill(0);
  readonly #cpu: (() => number) | null;

  constructor(
    shared: SharedArrayBuffer,
    me: number,
    ringBytes: number,
    cpu: (() => number) | null,
  ) {
    this.#cpu = cpu;
    if (cpu !== null) this.waitCpu = 0;
    this.#ctl = new Int32Array(shared, 0, CTL_BYTES / 4);
    this.#vals = new BigInt64Array(shared, CTL_BYTES, VALS_BYTES / 8);
    this.#view = new DataView(shared);
    this.#bytes = new Uint8Array(shared);
    this.#me = me;
    this.#other = 1 - me;
    // Whole 8-byte words, so a record never starts in the ring's last 4 bytes.
    this.#size = ringBytes & ~7;
    const rings = CTL_BYTES + VALS_BYTES;
    this.#outBase = rings + me * ringBytes;
    this.#inBase = rings + this.#other * ringBytes;
  }

  /** Writes a frame into the ring toward the other; waits (draining its own) while full. */
  send(
    at: Instant,
    seq: number,
    lane: number,
    tag: number,
    data: Uint8Array,
    drain: () => void,
  ): void {
    const size = this.#size;
    const need = RECORD_HEADER + ((data.length + 7) & ~7);
    // At most half the ring: then an empty ring always has room, at its end or its start.
    if (2 * need > size) {
      throw new RangeError(
        `Cannot send a frame to partition ${this.#other}: ${data.length} bytes take more than ` +
          `half a ring of ${size}; raise ringBytes`,
      );
    }
    const ctl = this.#ctl;
    const t0 = performance.now();
    for (;;) {
      const readTotal = Atomics.load(ctl, READ_TOTAL + this.#other);
      const used = (this.#writeTotal - readTotal) | 0;
      const pos = this.#writePos;
      // A record does not wrap: the end's bytes are skipped (marked) when short.
      const skip = pos + need > size ? size - pos : 0;
      if (used + skip + need <= size) {
        const v = this.#view;
        if (skip > 0) v.setUint32(this.#outBase + pos, WRAP, true);
        const base = this.#outBase + (skip > 0 ? 0 : pos);
        v.setUint32(base, data.length, true);
        v.setUint32(base + 4, lane, true);
        v.setUint32(base + 8, tag, true);
        v.setFloat64(base + 16, at, true);
        v.setFloat64(base + 24, seq, true);
        this.#bytes.set(data, base + RECORD_HEADER);
        const next = (skip > 0 ? 0 : pos) + need;
        this.#writePos = next === size ? 0 : next;
        this.#writeTotal = (this.#writeTotal + skip + need) | 0;
        Atomics.store(ctl, WRITE_TOTAL + this.#me, this.#writeTotal);
        return;
      }
      // Full: wake the other to read, take in what it sent (it may be
      // waiting for room too), then wait.
      this.nudge();
      drain();
      this.#check(t0);
      Atomics.wait(ctl, READ_TOTAL + this.#other, readTotal, 1);
    }
  }

  /** Hands every frame the other wrote since the last call to `fn`; returns how many. */
  receive(
    fn: (at: Instant, seq: number, lane: number, tag: number, data: Uint8Array) => void,
  ): number {
    const ctl = this.#ctl;
    const written = Atomics.load(ctl, WRITE_TOTAL + this.#other);
    let n = 0;
    const v = this.#view, size = this.#size, base = this.#inBase;
    while (this.#readTotal !== written) {
      let pos = this.#readPos;
      if (v.getUint32(base + pos, true) === WRAP) {
        this.#readTotal = (this.#readTotal + size - pos) | 0;
        pos = 0;
      }
      const at = base + pos;
      const len = v.getUint32(at, true);
      fn(
        v.getFloat64(at + 16, true),
        v.getFloat64(at + 24, true),
        v.getUint32(at + 4, true),
        v.getUint32(at + 8, true),
        this.#bytes.subarray(at + RECORD_HEADER, at + RECORD_HEADER + len),
      );
      const need = RECORD_HEADER + ((len + 7) & ~7);
      const next = pos + need;
      this.#readPos = next === size ? 0 : next;
      this.#readTotal = (this.#readTotal + need) | 0;
      n++;
    }
    if (n > 0) {
      Atomics.store(ctl, READ_TOTAL + this.#me, this.#readTotal);
      Atomics.notify(ctl, READ_TOTAL + this.#me);
      this.taken += n;
    }
    return n;
  }

  /** Publishes this partition's bound (µs, Infinity: none), what set it, and the frames taken in. */
  publish(bound: number, kind: BoundKind): void {
    this.publications++;
    const vals = this.#vals, ctl = this.#ctl;
    Atomics.store(ctl, KIND + this.#me, kind);
    // B first: a reader that sees the new count then sees a B that covers it.
    Atomics.store(vals, BOUND + this.#me, bound === Infinity ? NEVER : BigInt(Math.floor(bound)));
    Atomics.store(vals, TAKEN + this.#me, BigInt(this.taken));
    Atomics.add(ctl, BUMP + this.#me, 1);
    if (Atomics.load(ctl, ASLEEP + this.#other) !== 0) Atomics.notify(ctl, BUMP + this.#me);
  }

  /** Tells a waiting other that this partition is running (it spins on meanwhile). */
  stepped(): void {
    Atomics.add(this.#ctl, STEPS + this.#me, 1);
  }

  /** Wakes the other if it waits for this partition, with nothing new published. */
  nudge(): void {
    Atomics.add(this.#ctl, BUMP + this.#me, 1);
    Atomics.notify(this.#ctl, BUMP + this.#me);
  }

  /** The other's published frames taken in, then its bound (in that order) and what set it. */
  other(): { taken: number; bound: number; kind: BoundKind } {
    const taken = Number(Atomics.load(this.#vals, TAKEN + this.#other));
    const b = Atomics.load(this.#vals, BOUND + this.#other);
    const kind = Atomics.load(this.#ctl, KIND + this.#other) as BoundKind;
    return { taken, bound: b === NEVER ? Infinity : Number(b), kind };
  }

  /** Whether the other waits for this partition to publish. */
  wanted(): boolean {
    return Atomics.load(this.#ctl, WANT + this.#other) !== 0;
  }

  /** Whether `bound` (µs) would let the waiting other go on. */
  enough(bound: number): boolean {
    return Math.floor(bound) >= Number(Atomics.load(this.#vals, NEED + this.#other));
  }

  /** The other's publication counter (changes when it publishes). */
  stamp(): number {
    return Atomics.load(this.#ctl, BUMP + this.#other);
  }

  /**
   * Waits until the other publishes again after `stamp` (spinning first);
   * `need`: the other's bound (µs) that would let this partition go on.
   */
  wait(stamp: number, need: number): void {
    const ctl = this.#ctl, word = BUMP + this.#other;
    const t0 = performance.now();
    const c0 = this.#cpu === null ? 0 : this.#cpu();
    this.waits++;
    Atomics.store(this.#vals, NEED + this.#me, BigInt(Math.floor(need)));
    Atomics.store(ctl, WANT + this.#me, 1);
    const steps = STEPS + this.#other;
    let spins = 0, stepped = Atomics.load(ctl, steps), moved = t0;
    while (Atomics.load(ctl, word) === stamp) {
      if ((++spins & 63) !== 0) continue;
      const now = performance.now();
      if (Atomics.load(ctl, steps) !== stepped) {
        stepped = Atomics.load(ctl, steps);
        moved = now;
      } else if (now - moved > this.#spinMs) break;
      if (now - t0 > SPIN_CAP_MS) break;
    }
    this.spun += performance.now() - t0;
    const covered = Atomics.load(ctl, word) !== stamp;
    if (!covered) this.sleeps++;
    this.#spinMs = covered
      ? Math.min(SPIN_MAX_MS, this.#spinMs * 2)
      : Math.max(SPIN_MIN_MS, this.#spinMs / 2);
    while (Atomics.load(ctl, word) === stamp) {
      Atomics.store(ctl, ASLEEP + this.#me, 1);
      Atomics.wait(ctl, word, stamp, 100);
      Atomics.store(ctl, ASLEEP + this.#me, 0);
      this.#check(t0);
    }
    Atomics.store(ctl, WANT + this.#me, 0);
    const waited = performance.now() - t0;
    this.waited += waited;
    let k = 0;
    while (waited * 1000 >= WAIT_LENGTHS_US[k]!) k++;
    this.lengths[(covered ? 0 : WAIT_LENGTHS_US.length) + k]!++;
    if (this.#cpu !== null) this.waitCpu += this.#cpu() - c0;
    this.#check(t0);
  }

  #check(t0: number): void {
    if (Atomics.load(this.#ctl, ABORT) !== 0) {
      throw new Error("Cannot go on: the other partition failed");
    }
    if (performance.now() - t0 > STALL_TIMEOUT_MS) {
      throw new Error(`Cannot go on: no word from the other partition in ${STALL_TIMEOUT_MS} ms`);
    }
  }
}

/** @internal Tells every partition sharing `shared` (either layout) that one failed. */
export function abortShared(shared: SharedArrayBuffer): void {
  const ctl = new Int32Array(shared, 0, CTL_BYTES / 4);
  Atomics.store(ctl, ABORT, 1);
  for (let i = 0; i < ctl.length; i++) {
    if (i === ABORT) continue;
    Atomics.add(ctl, i, 1);
    Atomics.notify(ctl, i);
  }
}

/** The earliest time in `heap` at or after `next` (the earlier ones are past). */
function earliest(heap: TimeHeap, next: number): number {
  while (heap.size > 0 && heap.peek() < next) heap.pop();
  return heap.peek();
}

function macrotask(): Promise<void> {
  return new Promise((resolve) => void setImmediate(resolve));
}

/** @internal What a two-partition run reports. */
export interface PairRun {
  readonly waits: number;
  readonly publications: number;
  readonly crossed: number;
  readonly waited: number;
  readonly spun: number;
  readonly sleeps: number;
  readonly waitCpu: number;
  /** Steps its hosts ran past the horizon; frames its switches took in late. */
  readonly aheadSteps: number;
  readonly lateFrames: number;
  /** Waits by cause (WAIT_CAUSES) and by length (`PartitionTiming.waitLengths`). */
  readonly causes: Record<string, number>;
  readonly lengths: { readonly spun: number[]; readonly slept: number[] };
  /** With a CPU clock: each step's time, CPU and the bound before it (null past TRACE_STEPS). */
  readonly trace: StepTrace | null;
  /** With `trace`: each frame sent across, as the index of the step that sent it and its time. */
  readonly sends: Float64Array | null;
}

/**
 * The partition a frame sent on `sink` goes to, or -1 when it stays in
 * partition `me`; throws when another partition runs the sending side (the
 * scenario made hosts or traffic on a switch `me` does not own).
 */
export function crossingTo(
  receiver: readonly (number | undefined)[],
  sender: readonly (number | undefined)[],
  me: number,
  sink: FrameSink,
): number {
  const to = receiver[sink.id] ?? -1;
  if (to >= 0 && to !== me) return to;
  const from = sender[sink.id] ?? -1;
  if (from >= 0 && from !== me) {
    throw new Error(
      `Cannot send on ${(sink as { name?: string }).name}: partition ${from} runs its sender ` +
        `(make hosts and traffic only on switches part.owns())`,
    );
  }
  return -1;
}

/**
 * @internal Runs partition `part.index` (0 or 1) of a two-partition network
 * for `duration` µs, exchanging frames with the other through `shared`;
 * `early` holds (time, link direction id) of each frame queued while the
 * scenario was built; `cpu`, a thread CPU clock (ms) to measure the waits'
 * CPU with, or null; `publishEveryStep`, publish the bound after every step
 * that moved it instead of when the other waits for it; `traceSteps`, with
 * `cpu`, trace each step for the replay on idle cores (`_partition_replay.ts`).
 */
export async function runPair(
  net: VirtualNetwork,
  part: Partition,
  shared: SharedArrayBuffer,
  ringBytes: number,
  duration: number,
  early: readonly number[],
  cpu: (() => number) | null,
  options: {
    readonly publishEveryStep: boolean;
    readonly traceSteps: boolean;
    readonly sampler?: Sampler | null;
  } = {
    publishEveryStep: false,
    traceSteps: false,
  },
): Promise<PairRun> {
  const channel = new PairChannel(shared, part.index, ringBytes, cpu);
  const traceCpu = options.traceSteps ? cpu : null;
  const sampler = options.sampler ?? null;
  return await runPairOn(
    net,
    part,
    channel,
    duration,
    early,
    options.publishEveryStep,
    traceCpu,
    sampler,
  );
}

async function runPairOn(
  net: VirtualNetwork,
  part: Partition,
  channel: PairChannel,
  duration: number,
  early: readonly number[],
  everyStep: boolean,
  cpu: (() => number) | null,
  sampler: Sampler | null,
): Promise<PairRun> {
  const wire = wireOf.get(net)!;
  const me = part.index;
  const lookahead = part.lookahead;
  const end = net.now() + duration;
  const limit = end + 1;
  const { receiver, sender, lanes } = part.laneOwners();
  const paths = part.hostPaths();
  const { hostBound, accessDelay, hostDelay, toSwitch, trunkPort, portOf, otherTrunk } = paths;
  /** Frames in flight here that a switch or trunk could pass across when they arrive. */
  const near = new TimeHeap();
  /** Frames in flight toward a host, and callbacks: a host's answer crosses its cable first. */
  const hostward = new TimeHeap(), callbacks = new TimeHeap();
  /** Frames in flight toward a switch that will hand them to a host. */
  const toHosts = new TimeHeap();
  /**
   * Files a frame due at `at` on link direction `id` under what may follow
   * from it: it leads to a host; or its switch will send it only to hosts
   * (its destination is learned on a host port and stays so by then, or it
   * floods from a switch with no trunk but the one it came in by); or else
   * it may be passed across when it arrives.
   */
  const file = (id: number, buf: Uint8Array, off: number, len: number, at: Instant): void => {
    if (hostBound[id] === true) return hostward.push(at);
    const sw = toSwitch[id];
    if (sw === undefined || len < 14) return near.push(at);
    const port = sw.plannedPort(buf, off, at);
    const crosses = port === undefined
      ? otherTrunk[id] === true
      : trunkPort.get(sw)![port] === true && port !== portOf[id];
    if (crosses) near.push(at);
    else toHosts.push(at);
  };
  /**
   * Frames sent to the other, oldest first: their number, and the earliest
   * time what they cause there may cross back (their time plus `sentBack`).
   */
  const sentNo: number[] = [], sentAt: number[] = [];
  const { sentBack } = paths;
  let sentCount = 0, crossed = 0;
  /** While tracing: (step index, time) of each frame sent across, and steps traced so far. */
  let sends: TraceRecorder | null = cpu === null ? null : new TraceRecorder(), traced = 0;
  /** This partition's bound as of the last look (nothing crosses before it plus the lookahead), and as last published. */
  let current = -Infinity, published = -Infinity;
  /**
   * How far past the horizon this partition's hosts may run, µs: a frame
   * from the other enters a switch here at or after the horizon and reaches
   * a host a host cable later at the soonest, if that switch hands what
   * enters it only to hosts (no other trunk, no snooping) and no cable is
   * instant (a host's frame then reaches its switch at a later instant).
   * Such a frame may then come in behind the hosts' time: the switch takes it
   * late, at its own time (`stepLate`), as nothing else was due there.
   */
  let hostLead = hostDelay > 0 && accessDelay > 0 ? hostDelay : 0;
  for (let id = 0; id < receiver.length; id++) {
    if (receiver[id] === me && sender[id] === 1 - me && !((paths.sentBack[id] ?? 0) > 0)) {
      hostLead = 0;
    }
  }
  /** The last instant a step that may involve a switch ran (a frame from the other must come after it). */
  let switchDone = -Infinity;
  /** Whether a frame taken in is due at or before now: the switch takes it late. */
  let late = false;
  /** Steps of hosts past the horizon, and frames taken in late. */
  let aheadSteps = 0, lateFrames = 0;
  const take = () =>
    channel.receive((at, seq, id, tag, data) => {
      // The other ran ahead of a frame this partition already passed: a bound was wrong.
      const instant = Math.ceil(at);
      if (instant <= switchDone || (instant <= net.now() && hostLead === 0)) {
        throw new Error(
          `Cannot take a frame from partition ${1 - me}: due at ${at} µs, not after ${
            Math.max(switchDone, hostLead === 0 ? net.now() : -Infinity)
          } µs, where this partition already is (a run-ahead bound was too late)`,
        );
      }
      if (instant <= net.now()) late = true, lateFrames++;
      wire.inject(at, net.pool.copyOf(data), lanes[id]!, tag, seq);
      file(id, data, 0, data.length, at);
    });
  /** Runs the frames taken in late, instant by instant (only they are due before now). */
  const takeLate = () => {
    late = false;
    for (let t = net.nextDeadline(); t !== undefined && Math.ceil(t) <= net.now();) {
      net.stepLate(Math.ceil(t));
      t = net.nextDeadline();
    }
  };
  wire.remote = (at: Instant, pkt: PacketBuffer, sink: FrameSink, tag: number, seq: number) => {
    const id = sink.id;
    const to = crossingTo(receiver, sender, me, sink);
    if (to < 0) {
      file(id, pkt.buf, pkt.start, pkt.length, at);
      return false;
    }
    if (at < current + lookahead) {
      throw new Error(
        `Cannot send a frame across partitions: due at ${at} µs, before ${
          current + lookahead
        } µs, this partition's bound (a delay fell below the lookahead of ` +
          `${lookahead} µs or the host cables' ${accessDelay} µs, or a switch forgot an address)`,
      );
    }
    // Due after the run, never delivered (as in one thread): nothing to send.
    if (at < limit) {
      channel.send(at, seq, id, tag, pkt.data, take);
      if (sends !== null) sends.add(traced), sends.add(at);
      sentNo.push(sentCount++);
      sentAt.push(at + (sentBack[id] ?? 0));
      crossed++;
    }
    wire.release(pkt);
    return true;
  };
  wire.onCallback = (at) => callbacks.push(at);
  /** What set the bound `bound` returned last. */
  let kind = BoundKind.Idle;
  const bound = (next: Instant | undefined): number => {
    kind = BoundKind.Idle;
    if (next === undefined) return Infinity;
    // Every pending event is at or after next: earlier entries were delivered.
    const crossing = earliest(near, next),
      host = Math.min(
        earliest(hostward, next),
        earliest(callbacks, next),
        wire.nextNodeDeadline() ?? Infinity,
      );
    const handed = earliest(toHosts, next);
    // Something due at next that none of these saw: as if it could cross at once.
    if (Math.min(crossing, host, handed) > next) {
      kind = BoundKind.Unseen;
      return next;
    }
    const fromHost = host + accessDelay, fromHanded = handed + hostDelay + accessDelay;
    kind = crossing <= fromHost && crossing <= fromHanded
      ? BoundKind.Crossing
      : fromHost <= fromHanded
      ? BoundKind.Host
      : BoundKind.Handed;
    return Math.min(crossing, fromHost, fromHanded);
  };
  const causes = new Array<number>(WAIT_CAUSES.length).fill(0);
  try {
    await macrotask();
    for (let i = 0; i < early.length; i += 2) {
      const at = early[i]!, id = early[i + 1]!;
      if (id < 0) callbacks.push(at);
      else if (hostBound[id] === true) hostward.push(at);
      else near.push(at);
    }
    let publishedTaken = -1, publishedSent = -1, seen = NaN;
    let trace = cpu === null ? null : new TraceRecorder();
    /** CPU time not spent waiting, at the end of the last step traced. */
    let busy = cpu === null ? 0 : cpu();
    let other = { taken: 0, bound: -Infinity, kind: BoundKind.Unseen };
    for (;;) {
      // The other's bound and frames change only when it publishes.
      const stamp = channel.stamp();
      if (stamp !== seen) {
        seen = stamp;
        other = channel.other();
        take();
        if (late) takeLate();
        while (sentNo.length > 0 && sentNo[0]! < other.taken) {
          sentNo.shift();
          sentAt.shift();
        }
      }
      const next = net.nextDeadline();
      current = bound(next);
      let horizon = other.bound + lookahead, cause: number = other.kind;
      if (current + 2 * lookahead < horizon) horizon = current + 2 * lookahead, cause = OWN_BOUND;
      if (limit < horizon) horizon = limit;
      for (const at of sentAt) {
        if (at + lookahead < horizon) horizon = at + lookahead, cause = SENT_NOT_TAKEN;
      }
      let runnable = next !== undefined && Math.ceil(next) < horizon;
      // Past the horizon, an instant with only hosts' events (no frame
      // toward a switch, nothing unseen) may run up to a host cable further.
      const hostsOnly = !runnable && hostLead > 0 && next !== undefined &&
        Math.ceil(next) < Math.min(horizon + hostLead, limit) &&
        (kind as BoundKind) !== BoundKind.Unseen &&
        Math.min(earliest(near, next), earliest(toHosts, next)) > Math.ceil(next);
      if (hostsOnly) runnable = true;
      // Publish before waiting, or when the other waits for it: a stale bound
      // is still a true one (lower), so the other needs a new one only then,
      // and only one that lets it go on, or frames taken in or sent. With
      // `everyStep`, whenever anything moved: the other need not ask.
      const changed = channel.taken !== publishedTaken || sentCount !== publishedSent;
      if (
        runnable && !everyStep
          ? channel.wanted() && (changed || (current !== published && channel.enough(current)))
          : changed || current !== published
      ) {
        published = current;
        publishedTaken = channel.taken;
        publishedSent = sentCount;
        channel.publish(current, kind);
      }
      if (runnable) {
        const target = Math.ceil(next!);
        if (target > net.now()) net.clock.set(target);
        if (!hostsOnly) switchDone = target;
        else aheadSteps++;
        net.step();
        channel.stepped();
        await macrotask();
        sampler?.at(net.now(), channel.waited, channel.waitCpu);
        if (trace !== null) {
          const now = cpu!() - channel.waitCpu;
          // The run-ahead rule the replay applies: a hosts-only step as if a host cable earlier.
          trace.add(hostsOnly ? target - hostLead : target);
          trace.add(now - busy);
          trace.add(current);
          busy = now;
          if (++traced === TRACE_STEPS) trace = sends = null;
        }
        continue;
      }
      const finished = next === undefined || Math.ceil(next) >= limit;
      if (finished && horizon >= limit) break;
      causes[cause]!++;
      // The other's bound that would let this partition step (or finish).
      channel.wait(stamp, (finished ? limit : Math.ceil(next) + 1) - lookahead);
    }
    // Nothing more will cross from here.
    channel.publish(Infinity, BoundKind.Idle);
    if (end > net.now()) net.clock.set(end);
    return {
      waits: channel.waits,
      publications: channel.publications,
      crossed,
      waited: channel.waited,
      spun: channel.spun,
      sleeps: channel.sleeps,
      waitCpu: channel.waitCpu,
      aheadSteps,
      lateFrames,
      causes: Object.fromEntries(WAIT_CAUSES.map((name, i) => [name, causes[i]!])),
      lengths: {
        spun: channel.lengths.slice(0, WAIT_LENGTHS_US.length),
        slept: channel.lengths.slice(WAIT_LENGTHS_US.length),
      },
      trace: trace === null ? null : (trace.add(Infinity), trace.take()),
      sends: trace === null ? null : sends!.take(),
    };
  } finally {
    wire.remote = wire.onCallback = null;
  }
}

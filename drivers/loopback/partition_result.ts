/**
 * What a partitioned run hands back: each partition's output, and how
 * {@linkcode mergeOutputs} joins them into one {@linkcode PartitionedResult}
 * (reports and counters summed by name, timings per partition, the
 * critical path). `partition.ts` re-exports the public types.
 *
 * @module
 */
import type { LinkStats } from "./faults.ts";
import type { SwitchStats } from "./switch.ts";
import { replayPair } from "./_partition_replay.ts";
import type { StepTrace } from "./_partition_replay.ts";

/**
 * The counters of both directions of one link.
 *
 * @example
 * ```ts
 * import type { LinkPairStats } from "./partition_result.ts";
 * import { VirtualNetwork } from "./network.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork().link();
 * const pair: LinkPairStats = { "a->b": link.stats("a->b"), "b->a": link.stats("b->a") };
 * assert.equal(pair["a->b"].sent, 0);
 * ```
 */
export interface LinkPairStats {
  /** Direction `a->b`. */
  readonly "a->b": LinkStats;
  /** Direction `b->a`. */
  readonly "b->a": LinkStats;
}

/**
 * What `runPartitioned` returns: the merged report and counters
 * (the same for any number of partitions), and how the run went.
 *
 * @example
 * ```ts
 * import type { PartitionedResult } from "./partition_result.ts";
 * import assert from "node:assert/strict";
 * const r: Pick<PartitionedResult, "partitions" | "windows"> = { partitions: 2, windows: 10 };
 * assert.equal(r.windows, 10);
 * ```
 */
export interface PartitionedResult {
  /** Scenario reports merged by key (keys sorted). */
  readonly report: Record<string, unknown>;
  /** Counters of every switch port's cable, summed over partitions (names sorted). */
  readonly links: Record<string, LinkPairStats>;
  /** Counters of every switch, summed over partitions (names sorted). */
  readonly switches: Record<string, SwitchStats>;
  /** Number of partitions. */
  readonly partitions: number;
  /** Switch name to partition. */
  readonly owners: Record<string, number>;
  /** The lookahead, µs (Infinity: no trunk between partitions). */
  readonly lookahead: number;
  /** Synchronisation windows run. */
  readonly windows: number;
  /** Frames that crossed between partitions. */
  readonly boundaryFrames: number;
  /** CPU time of each partition's thread's run, ms (user + system of the process when in one thread). */
  readonly busyMs: readonly number[];
  /** Where each partition's time went: building, running, waiting for the others. */
  readonly timing: readonly PartitionTiming[];
  /**
   * With `profile` (and for two partitions `traceSteps`): the run's length on idle cores with free
   * synchronisation, whatever the load when measured, ms: with barriers the
   * sum over windows of the busiest partition's CPU time in it; two
   * partitions without barriers replay each step's CPU time under the
   * run-ahead rule (the causal waits included; NaN without them or FFI,
   * or beyond about 2 million steps a partition).
   */
  readonly criticalCpuMs: number;
  /**
   * With `profile` and `traceSteps`, two partitions without barriers: each
   * partition's trace, three numbers a step (its simulated time, µs; its CPU
   * time, ms; the partition's bound before it, µs) and its bound after the
   * last, to replay the run under other lookaheads or from a later time.
   */
  readonly stepTraces?: readonly Float64Array[];
  /**
   * With `stepTraces`: each partition's frames sent across, two numbers
   * each (the index of the step in its trace that sent it; its time, µs),
   * for `clairvoyant()` of `_partition_replay.ts`: the same steps replayed
   * under bounds that know every future crossing.
   */
  readonly stepSends?: readonly Float64Array[];
}

/**
 * Where one partition's time went ({@linkcode PartitionedResult.timing}).
 * CPU figures are the partition's own thread's (NaN where the OS does not
 * tell); wall figures include time the thread was not running (a loaded
 * machine).
 *
 * @example
 * ```ts
 * import type { PartitionTiming } from "./partition_result.ts";
 * import assert from "node:assert/strict";
 * const t: PartitionTiming = {
 *   startMs: 700, buildMs: 300, buildCpuMs: 280, runCpuMs: 4_000, waitMs: 900, spinMs: 100,
 *   windows: 50, sleeps: 10, waitCpuMs: 120, publications: 0,
 * };
 * assert.equal(t.runCpuMs - t.spinMs, 3_900); // CPU doing the partition's own work
 * ```
 */
export interface PartitionTiming {
  /**
   * Wall time from the call of `runPartitioned` to the start of
   * this partition's run, ms: the Worker's start, its imports and the build.
   */
  readonly startMs: number;
  /** Wall time to import the scenario module and build the scenario, ms. */
  readonly buildMs: number;
  /** Thread CPU time of the build, ms. */
  readonly buildCpuMs: number;
  /** Thread CPU time of the run, spinning at barriers included, ms. */
  readonly runCpuMs: number;
  /** Wall time waiting for the other partitions (spinning, then asleep), ms. */
  readonly waitMs: number;
  /** Of `waitMs`, the time spent spinning (on the CPU), ms. */
  readonly spinMs: number;
  /** Synchronisations: barriers, or with two partitions the times it waited for the other. */
  readonly windows: number;
  /** Of `windows`, the waits that outlasted the spin: the thread slept (a wake-up's latency each). */
  readonly sleeps: number;
  /**
   * With `profile` and two partitions without barriers: of `runCpuMs`, the
   * CPU time spent waiting (spinning, and the system calls of sleeping and
   * waking), ms; NaN otherwise.
   */
  readonly waitCpuMs: number;
  /** With two partitions: bounds it published (0 with barriers). */
  readonly publications: number;
  /**
   * With `sampleEvery`: per interval of simulated time passed, five numbers
   * (simulated s, the run's thread CPU ms, waited ms of wall time, the waits'
   * CPU ms or NaN, heap used MiB), to see a partition's cost per simulated
   * minute over a long run.
   */
  readonly samples?: readonly number[];
  /**
   * Two partitions without barriers: the waits by what held this partition
   * back: the other's bound, by what set it (`otherCrossing`: a frame its
   * switch may pass across; `otherHost`: a host's event plus a host cable;
   * `otherHanded`: a frame its switch hands to a host plus both cables;
   * `otherUnseen`, `otherIdle`), a frame sent that the other had not taken
   * in (`sentNotTaken`), or this partition's own bound (`ownBound`).
   */
  readonly waitCauses?: Readonly<Record<string, number>>;
  /**
   * Two partitions without barriers: the waits by wall time, in classes up to
   * 10, 30, 100, 300 and 1,000 µs and beyond, those the spin covered
   * (`spun`) and those that slept (a wake-up each).
   */
  readonly waitLengths?: { readonly spun: readonly number[]; readonly slept: readonly number[] };
  /**
   * Two partitions without barriers: steps of only hosts' events run past
   * the run-ahead bound (up to a host cable further: what crosses reaches a
   * switch first).
   */
  readonly aheadSteps?: number;
  /**
   * Two partitions without barriers: frames from the other partition that a
   * switch here took in late, at their own time, behind its hosts' time.
   */
  readonly lateFrames?: number;
}

/** @internal What one partition's run hands back. */
export interface PartitionOutput {
  readonly report: Record<string, unknown>;
  readonly links: Record<string, LinkPairStats>;
  readonly switches: Record<string, SwitchStats>;
  readonly owners: Record<string, number>;
  readonly lookahead: number;
  readonly windows: number;
  readonly boundaryFrames: number;
  readonly busyMs: number;
  readonly timing: PartitionTiming;
  readonly windowCpuMs: Float64Array | null;
  /** Two partitions with `traceSteps`: each step's time, CPU and bound (`_partition_replay.ts`). */
  readonly stepTrace: StepTrace | null;
  /** With `stepTrace`: (step index, time) of each frame sent across. */
  readonly stepSends: Float64Array | null;
}

/** Adds `b`'s numbers into a copy of `a`, recursively. */
function addCounters<T>(a: T, b: T): T {
  if (typeof a === "number") return (a + (b as number)) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(a as object)) {
    out[k] = addCounters((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
  }
  return out as T;
}

function sortedKeys<T>(rec: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(rec).sort()) out[k] = rec[k]!;
  return out;
}

/**
 * Sum over windows of the busiest partition's CPU in it, or two partitions'
 * traces replayed on idle cores (NaN without a profile).
 */
function criticalPath(outs: readonly PartitionOutput[]): number {
  if (outs.length === 1) return outs[0]!.timing.runCpuMs;
  const traces = outs.map((o) => o.stepTrace);
  if (outs.length === 2 && traces[0] && traces[1]) {
    return replayPair(traces[0], traces[1], outs[0]!.lookahead);
  }
  const cpu = outs.map((o) => o.windowCpuMs);
  if (cpu.some((c) => c === null)) return NaN;
  let sum = 0;
  for (let w = 0; w < cpu[0]!.length; w++) {
    let max = 0;
    for (const c of cpu) if (c![w]! > max) max = c![w]!;
    sum += max;
  }
  return sum;
}

/** @internal Merges the partitions' outputs into one result. */
export function mergeOutputs(outs: readonly PartitionOutput[]): PartitionedResult {
  const report: Record<string, unknown> = {};
  const links: Record<string, LinkPairStats> = {};
  const switches: Record<string, SwitchStats> = {};
  for (const out of outs) {
    for (const [k, v] of Object.entries(out.report)) {
      if (!(k in report)) report[k] = v;
      else if (typeof v === "number" && typeof report[k] === "number") {
        report[k] = (report[k] as number) + v;
      } else {
        throw new Error(`Cannot merge reports: "${k}" comes from more than one partition`);
      }
    }
    for (const [k, v] of Object.entries(out.links)) {
      links[k] = links[k] === undefined ? v : addCounters(links[k]!, v);
    }
    for (const [k, v] of Object.entries(out.switches)) {
      switches[k] = switches[k] === undefined ? v : addCounters(switches[k]!, v);
    }
  }
  return {
    report: sortedKeys(report),
    links: sortedKeys(links),
    switches: sortedKeys(switches),
    partitions: outs.length,
    owners: outs[0]!.owners,
    lookahead: outs[0]!.lookahead,
    windows: outs[0]!.windows,
    boundaryFrames: outs.reduce((n, o) => n + o.boundaryFrames, 0),
    busyMs: outs.map((o) => o.busyMs),
    timing: outs.map((o) => o.timing),
    criticalCpuMs: criticalPath(outs),
    ...(outs.length === 2 && outs.every((o) => o.stepTrace !== null)
      ? { stepTraces: outs.map((o) => o.stepTrace!), stepSends: outs.map((o) => o.stepSends!) }
      : {}),
  };
}

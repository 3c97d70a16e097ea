/**
 * The length of a two-partition run on two idle cores with free
 * synchronisation, from each partition's trace of steps: replays both on
 * their measured CPU costs under the runner's rule (a step at simulated time
 * t runs once t < min(B_q + L, B_p + 2L), B_q the other's bound after its
 * last finished step, B_p its own before the step). What it gives beyond
 * the busier partition's CPU is the causal waiting the bounds impose; the
 * rest of a measured run's waiting is the machine (wake-ups, descheduling).
 *
 * @module
 */

/**
 * Per step, three numbers: its simulated time (µs), its CPU time (ms), and
 * the partition's bound before it (µs; the published B, Infinity: none).
 * One last bound after the last step closes the trace.
 */
export type StepTrace = Float64Array;

/** @internal Appends to a growing trace. */
export class TraceRecorder {
  #a = new Float64Array(3 * 4096);
  #n = 0;
  add(x: number): void {
    if (this.#n === this.#a.length) {
      const grown = new Float64Array(2 * this.#n);
      grown.set(this.#a);
      this.#a = grown;
    }
    this.#a[this.#n++] = x;
  }
  /** The trace so far (a copy: the recorder may go on). */
  take(): StepTrace {
    return this.#a.slice(0, this.#n);
  }
}

/**
 * @internal The wall time (ms) two partitions with traces `a` and `b` take
 * on idle cores with free synchronisation, for lookahead `lookahead` µs;
 * NaN if the traces cannot be replayed (each waits for the other: a trace
 * out of step with the rule).
 */
export function replayPair(a: StepTrace, b: StepTrace, lookahead: number): number {
  const traces = [a, b];
  const steps = [(a.length - 1) / 3, (b.length - 1) / 3];
  /** Per partition: wall time each step finished (index k: after k steps). */
  const finished = steps.map((n) => new Float64Array(n + 1));
  const done = [0, 0], wall = [0, 0];
  /** Per partition: the other's steps known finished by its own wall time. */
  const seen = [0, 0];
  /** Partition p's bound after k steps (before step k; the trace's last number after them all). */
  const bound = (p: number, k: number) => traces[p]![k === steps[p]! ? 3 * k : 3 * k + 2]!;
  let p = 0, blocked = -1;
  while (done[0]! < steps[0]! || done[1]! < steps[1]!) {
    if (done[p]! >= steps[p]!) p = 1 - p;
    const q = 1 - p, i = done[p]!, t = traces[p]![3 * i]!;
    while (seen[p]! < done[q]! && finished[q]![seen[p]! + 1]! <= wall[p]!) seen[p]!++;
    // The first of the other's finished steps after which this one may run.
    let k = seen[p]!;
    while (k <= done[q]! && !(t < bound(q, k) + lookahead && t < bound(p, i) + 2 * lookahead)) k++;
    if (k > done[q]!) {
      // Waits for steps the other has yet to run (it is not behind: the one
      // behind runs first), so run those.
      if (blocked === q || done[q]! >= steps[q]!) return NaN;
      blocked = p;
      p = q;
      continue;
    }
    blocked = -1;
    const start = Math.max(wall[p]!, finished[q]![k]!);
    wall[p] = start + traces[p]![3 * i + 1]!;
    finished[p]![++done[p]!] = wall[p]!;
    // Go on with whichever is behind.
    p = wall[0]! <= wall[1]! ? 0 : 1;
  }
  return Math.max(wall[0]!, wall[1]!);
}

/**
 * @internal `trace` with each step's bound replaced by the clairvoyant one:
 * the earliest time, less `lookahead`, of the frames the partition sent
 * across at that step or later (`sends`: step index and time, two numbers
 * each; see `PartitionedResult.stepSends`). No conservative rule
 * can publish a later bound: each is the partition's next actual crossing,
 * so replaying both partitions' clairvoyant traces gives the causal waits
 * that remain with perfect knowledge of what each will send and when (the
 * ceiling of any promise a host or a stack could make).
 */
export function clairvoyant(trace: StepTrace, sends: Float64Array, lookahead: number): StepTrace {
  const steps = (trace.length - 1) / 3;
  const out = trace.slice();
  const first = new Float64Array(steps + 1).fill(Infinity);
  for (let i = 0; i + 1 < sends.length; i += 2) {
    const k = Math.min(sends[i]!, steps);
    first[k] = Math.min(first[k]!, sends[i + 1]! - lookahead);
  }
  for (let k = steps - 1; k >= 0; k--) first[k] = Math.min(first[k]!, first[k + 1]!);
  for (let k = 0; k < steps; k++) out[3 * k + 2] = first[k]!;
  out[3 * steps] = first[steps]!;
  return out;
}

/**
 * @internal `trace` with its CPU spread evenly over simulated time: each
 * step costs the gap to the next step's time at the partition's mean CPU
 * per simulated µs (the last step nothing), its total kept. Replaying two
 * partitions' spread traces leaves out the work's clustering in simulated
 * time (one partition's events bunching where the other's do not), so
 * what remains of the causal waits is the rest: the bounds and the mean
 * rates.
 */
export function spreadEvenly(trace: StepTrace): StepTrace {
  const steps = (trace.length - 1) / 3;
  const out = trace.slice();
  if (steps < 2) return out;
  let cpu = 0;
  for (let k = 0; k < steps; k++) cpu += trace[3 * k + 1]!;
  const span = trace[3 * (steps - 1)]! - trace[0]!;
  for (let k = 0; k < steps; k++) {
    const gap = k + 1 < steps ? trace[3 * (k + 1)]! - trace[3 * k]! : 0;
    out[3 * k + 1] = span > 0 ? gap * cpu / span : cpu / steps;
  }
  return out;
}

/**
 * @internal The part of `trace` from simulated time `from` (µs) on: its
 * steps at or after it and the closing bound. Two partitions' traces cut at
 * the same time replay as if both started there together, which leaves out
 * a start-up (JIT warm-up, every host's first floods) that is not the
 * steady state.
 */
export function traceFrom(trace: StepTrace, from: number): StepTrace {
  let k = 0;
  while (k < trace.length - 1 && trace[k]! < from) k += 3;
  return trace.slice(k);
}

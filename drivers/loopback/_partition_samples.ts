/**
 * A partition's progress over a long run (`runPartitioned`'s `sampleEvery`):
 * at every multiple of the interval of simulated time, its thread's CPU, the
 * time it had waited and its heap, so that a run whose cost per simulated
 * minute grows shows where and when (a table or queue filling up, a heap that
 * the collector walks again and again) against the one-thread run's.
 *
 * @module
 */
import { threadCpuMs } from "./_thread_cpu.ts";

/** Numbers per sample: simulated s, thread CPU ms, waited ms (wall), waits' CPU ms, heap used MiB. */
export const SAMPLE_FIELDS = 5;

/** @internal Takes a sample each time the simulated time passes a multiple of `every`. */
export class Sampler {
  readonly #every: number;
  readonly #cpu0: number;
  #next: number;
  readonly #out: number[] = [];

  /** Samples every `every` µs of simulated time from `start`. */
  constructor(every: number, start: number) {
    this.#every = every;
    this.#next = start + every;
    this.#cpu0 = threadCpuMs();
  }

  /**
   * At simulated time `now` (µs): a sample per multiple passed, with the
   * waiting so far (`waited`, `waitCpu`, ms; 0 in one thread).
   */
  at(now: number, waited: number, waitCpu: number): void {
    if (now < this.#next) return;
    const cpu = threadCpuMs() - this.#cpu0;
    const heap = Deno.memoryUsage().heapUsed / 2 ** 20;
    while (this.#next <= now) {
      this.#out.push(this.#next / 1e6, cpu, waited, waitCpu, heap);
      this.#next += this.#every;
    }
  }

  /** The samples, SAMPLE_FIELDS numbers each. */
  take(): number[] {
    return this.#out;
  }
}

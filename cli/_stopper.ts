/**
 * Stopping a long-running command (`up`): SIGINT/SIGTERM, an abort signal,
 * or the device's loop ending by itself.
 *
 * @module
 */
import { signalExitCode } from "./_common.ts";

/** Where the stop requests come from. */
export interface StopperOptions {
  /** Stops the command when aborted (as SIGINT does). */
  readonly signal?: AbortSignal;
  /** Listen for SIGINT and SIGTERM (default true). */
  readonly handleSignals?: boolean;
}

/** Why a command stopped. */
export type StopReason = "stop" | "device" | "SIGINT" | "SIGTERM";

/**
 * Waits for SIGINT/SIGTERM (by name), abort ("stop"), or for the device's
 * loop to end by itself ("device").
 */
export class Stopper {
  /** Settles with the first reason to stop. */
  readonly stopped: Promise<StopReason>;
  #resolve!: (why: StopReason) => void;
  #settled = false;
  readonly #signals: ["SIGINT" | "SIGTERM", () => void][];
  readonly #abort: AbortSignal | undefined;
  readonly #onStop = (): void => this.#finish("stop");

  constructor(options: StopperOptions) {
    this.stopped = new Promise((resolve) => this.#resolve = resolve);
    this.#signals = options.handleSignals === false
      ? []
      : (["SIGINT", "SIGTERM"] as const).map((s) => [s, () => this.#finish(s)]);
    this.#abort = options.signal;
    for (const [s, fn] of this.#signals) Deno.addSignalListener(s, fn);
    if (this.#abort?.aborted) this.#finish("stop");
    else this.#abort?.addEventListener("abort", this.#onStop, { once: true });
  }

  /** Whether a stop was asked for. */
  get requested(): boolean {
    return this.#settled;
  }

  /** Also stop when `closed` resolves (the device went away). */
  watch(closed: Promise<void>): void {
    void closed.then(() => this.#finish("device"));
  }

  /** Removes the listeners. */
  dispose(): void {
    this.#finish("stop");
  }

  #finish(why: StopReason): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const [s, fn] of this.#signals) Deno.removeSignalListener(s, fn);
    this.#abort?.removeEventListener("abort", this.#onStop);
    this.#resolve(why);
  }
}

/** What {@linkcode runUntilStopped} runs. */
export interface StoppableRun<T> {
  /** Starts the command; a throw ends it with a one-line error. */
  start(): Promise<T>;
  /** Promises that settle when a device goes away. */
  devices(running: T): Iterable<Promise<void>>;
  /** Prints "ready" and runs the caller's hook (skipped if a stop came during start-up). */
  ready(running: T): Promise<void> | void;
  /** What stopped, when a device did (the rest of the one-line error). */
  deviceStopped(running: T): string;
  /** Stops the command and prints its counters. */
  stop(running: T): Promise<void>;
}

/**
 * Runs a long-running command until SIGINT/SIGTERM, an abort, or a device
 * going away, and gives its exit code: 0 for an abort, 128 + signal for a
 * signal, 1 for a device or a failure, 2 for a usage error. Listens before
 * starting: a signal during start-up, or right after "ready", must stop the
 * command cleanly, not kill the process.
 *
 * @param options where stop requests come from.
 * @param fail prints the one-line error of a throw and gives its exit code.
 * @param run the command's parts.
 * @returns the exit code.
 */
export async function runUntilStopped<T>(
  options: StopperOptions,
  fail: (err: unknown) => number,
  run: StoppableRun<T>,
): Promise<number> {
  const stopper = new Stopper(options);
  let running: T | undefined;
  let started = false;
  try {
    running = await run.start();
    started = true;
    const r = running;
    for (const closed of run.devices(r)) stopper.watch(closed);
    if (!stopper.requested) await run.ready(r);
    const why = await stopper.stopped;
    if (why === "device") return fail(new Error(run.deviceStopped(r)));
    return why === "stop" ? 0 : signalExitCode(why);
  } catch (err) {
    return fail(err);
  } finally {
    stopper.dispose();
    if (started) await run.stop(running as T);
  }
}

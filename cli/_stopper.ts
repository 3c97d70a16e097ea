/**
 * Stopping a long-running command (`up`): SIGINT/SIGTERM, an abort signal,
 * or the device's loop ending by itself.
 *
 * @module
 */

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

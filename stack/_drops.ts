/**
 * Drop accounting: a verdict that is not a pass becomes a named counter,
 * `<plugin>.<dir>.<reason>`, without letting a plugin create counters
 * without bound.
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import type { Logger } from "./log.ts";
import { MAX_REASON_LENGTH, MAX_UNDECLARED_REASONS } from "./limits.ts";
import type { PluginRecord } from "./_plugin_record.ts";

const REASON_PATTERN = /^[a-z0-9_.]+$/;

/** Counts drops for the dispatcher. */
export class DropLedger {
  readonly #counters: Counters;
  readonly #log: Logger;
  readonly #strict: boolean;

  constructor(counters: Counters, log: Logger, strict: boolean) {
    this.#counters = counters;
    this.#log = log;
    this.#strict = strict;
  }

  /**
   * Counts `<plugin>.<dir>.<reason>`; returns the reason as counted.
   *
   * Verdicts cannot create counters without bound (issue 16): a malformed
   * verdict (only a cast gets one past the closed `Verdict` type) is
   * `bad_verdict_<n>` for an integer 0..255 and `bad_verdict` for anything
   * else (any other number, a symbol, an object).
   *
   * A reason the manifest does not declare in `counters` is a plugin bug
   * (issue 9): with `strictCounters` (tests) it throws, naming the plugin and
   * the reason; otherwise it is counted under `<plugin>.undeclared` only (no
   * counter of its own, so none appears that nobody declared) and logged as
   * an error the first time, for the first
   * {@linkcode MAX_UNDECLARED_REASONS} distinct reasons of each plugin.
   */
  count(rec: PluginRecord, dir: string, reason: unknown): string {
    const key = typeof reason === "string"
      ? reason
      : typeof reason === "number" && Number.isInteger(reason) && reason >= 0 && reason <= 255
      ? `bad_verdict_${reason}`
      : "bad_verdict";
    let c = rec.drops.get(dir + key);
    if (c === undefined) {
      if (typeof reason === "string" && !rec.manifest.counters.includes(`${dir}.${key}`)) {
        return this.#undeclared(rec, dir, key);
      }
      // A malformed verdict has its own visible counter (bad_verdict_<v>).
      c = this.#counters.get(`${rec.name}.${dir}.${key}`);
      rec.drops.set(dir + key, c);
    }
    c.value++;
    return c === rec.undeclaredCounter ? "undeclared" : key;
  }

  #undeclared(rec: PluginRecord, dir: string, key: string): string {
    const shown = key.length > MAX_REASON_LENGTH ? `${key.slice(0, MAX_REASON_LENGTH)}…` : key;
    const what = `plugin "${rec.name}" dropped a packet for "${dir}.${shown}", ` +
      `which its manifest does not declare in counters`;
    if (this.#strict) throw new Error(`Undeclared drop reason: ${what}`);
    rec.undeclaredCounter.value++;
    const undeclared = rec.undeclared ??= new Set();
    if (
      undeclared.size < MAX_UNDECLARED_REASONS && key.length <= MAX_REASON_LENGTH &&
      REASON_PATTERN.test(key)
    ) {
      // Remembered (bounded): logged once, and found in `drops` next time.
      undeclared.add(dir + key);
      rec.drops.set(dir + key, rec.undeclaredCounter);
      this.#log.error(`${what}; counted as ${rec.name}.undeclared (first time; declare it)`);
    }
    return "undeclared";
  }
}

/**
 * Drop accounting: a verdict that is not a pass becomes a named counter,
 * `<plugin>.<dir>.<reason>`, without letting a plugin create counters
 * without bound.
 *
 * @module
 */
import type { Counters } from "./counters.ts";
import type { Logger } from "./log.ts";
import type { Verdict } from "./manifest.ts";
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
   * verdict is `bad_verdict_<n>` for an integer 0..255 and `bad_verdict`
   * for anything else (any other number, a symbol, an object); an undeclared
   * reason gets its own counter only for the first
   * {@linkcode MAX_UNDECLARED_REASONS} distinct well-formed ones (lowercase
   * `[a-z0-9_.]`, at most {@linkcode MAX_REASON_LENGTH} characters) of each
   * plugin, and is always counted under `<plugin>.undeclared` too. Beyond
   * that it is counted only there, as `undeclared`.
   */
  count(rec: PluginRecord, dir: string, reason: Verdict): string {
    const key = typeof reason === "string"
      ? reason
      : Number.isInteger(reason) && reason >= 0 && reason <= 255
      ? `bad_verdict_${reason}`
      : "bad_verdict";
    let c = rec.drops.get(dir + key);
    if (c === undefined) {
      // A malformed verdict has its own visible counter (bad_verdict_<v>).
      if (typeof reason === "string" && !rec.manifest.counters.includes(`${dir}.${key}`)) {
        const what = `plugin "${rec.name}" dropped a packet for "${dir}.${
          key.length > MAX_REASON_LENGTH ? `${key.slice(0, MAX_REASON_LENGTH)}…` : key
        }", which its manifest does not declare in counters`;
        if (this.#strict) throw new Error(`Undeclared drop reason: ${what}`);
        this.#counters.get(`${rec.name}.undeclared`).value++;
        if (
          rec.undeclared.size >= MAX_UNDECLARED_REASONS || key.length > MAX_REASON_LENGTH ||
          !REASON_PATTERN.test(key)
        ) {
          return "undeclared"; // counted under <plugin>.undeclared only
        }
        this.#log.warn(`${what}; counted as ${rec.name}.undeclared too`);
        rec.undeclared.add(dir + key);
        c = this.#counters.get(`${rec.name}.${dir}.${key}`);
        rec.drops.set(dir + key, c);
        c.value++;
        return key;
      }
      c = this.#counters.get(`${rec.name}.${dir}.${key}`);
      rec.drops.set(dir + key, c);
    }
    c.value++;
    if (rec.undeclared.size > 0 && rec.undeclared.has(dir + key)) {
      this.#counters.get(`${rec.name}.undeclared`).value++;
    }
    return key;
  }
}

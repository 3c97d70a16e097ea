/**
 * Drop accounting: a verdict that is not a pass becomes a named counter,
 * `<plugin>.<dir>.<reason>`, without letting a plugin create counters
 * without bound.
 *
 * @module
 */
import { counterNameIndex, type Counters } from "./counters.ts";
import type { Logger } from "./log.ts";
import { MAX_REASON_LENGTH, MAX_UNDECLARED_REASONS } from "./limits.ts";
import type { ProtocolManifest } from "./manifest.ts";
import type { PluginRecord } from "./_plugin_record.ts";

const REASON_PATTERN = /^[a-z0-9_.]+$/;

/**
 * A drop reason the plugin's manifest does not declare, thrown under
 * `strictCounters`. Fault handling passes it on instead of blaming the plugin
 * whose call it crossed (a hook's drop on transmit runs inside the sending
 * plugin's call), so it reaches the test that caused it.
 */
export class UndeclaredDropError extends Error {
  /** The error with `message`, remembered by {@linkcode isUndeclaredDrop}. */
  constructor(message: string) {
    super(message);
    undeclaredDrops.add(this);
  }
}

const undeclaredDrops = new WeakSet<object>();

/** Whether `err` is an {@linkcode UndeclaredDropError}; total (no `instanceof`: a revoked Proxy throws there). */
export function isUndeclaredDrop(err: unknown): boolean {
  return typeof err === "object" && err !== null && undeclaredDrops.has(err);
}

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
    const dirKey = dir + key;
    const i = rec.dropIndex.get(dirKey);
    if (i !== undefined) {
      this.#counters.at(i).value++;
      return key;
    }
    if (typeof reason === "string" && !rec.manifest.counters.includes(`${dir}.${key}`)) {
      if (rec.undeclared?.has(dirKey)) {
        this.#counters.get(`${rec.name}.undeclared`).value++;
        return "undeclared";
      }
      return this.#undeclared(rec, dir, key);
    }
    // A malformed verdict has its own visible counter (bad_verdict_<v>).
    const name = `${rec.name}.${dir}.${key}`;
    const j = counterNameIndex(name);
    if (j < 0) this.#counters.get(name).value++;
    else {
      rec.dropIndex.set(dirKey, j);
      this.#counters.at(j).value++;
    }
    return key;
  }

  #undeclared(rec: PluginRecord, dir: string, key: string): string {
    const shown = key.length > MAX_REASON_LENGTH ? `${key.slice(0, MAX_REASON_LENGTH)}…` : key;
    const what = `plugin "${rec.name}" dropped a packet for "${dir}.${shown}", ` +
      `which its manifest does not declare in counters`;
    if (this.#strict) throw new UndeclaredDropError(`Undeclared drop reason: ${what}`);
    this.#counters.get(`${rec.name}.undeclared`).value++;
    const undeclared = rec.undeclared ??= new Set();
    if (
      undeclared.size < MAX_UNDECLARED_REASONS && key.length <= MAX_REASON_LENGTH &&
      REASON_PATTERN.test(key)
    ) {
      // Remembered (bounded): logged once.
      undeclared.add(dir + key);
      this.#log.error(`${what}; counted as ${rec.name}.undeclared (first time; declare it)`);
    }
    return "undeclared";
  }
}

/** {@linkcode dropIndexOf}'s tables by manifest. */
const DROP_INDEX = new WeakMap<ProtocolManifest, Map<string, number>>();

/**
 * The drop counters of a manifest's plugin, `<dir><reason>` → index in the
 * process-wide counter name table, filled as drops are counted. One table
 * per manifest, shared by every stack that loads the plugin (a Map per plugin
 * per stack was 6 of an idle host's 33 Maps). Bounded: only the declared
 * reasons and the 257 malformed-verdict keys per direction get in.
 */
export function dropIndexOf(manifest: ProtocolManifest): Map<string, number> {
  let table = DROP_INDEX.get(manifest);
  if (table === undefined) DROP_INDEX.set(manifest, table = new Map());
  return table;
}

/**
 * A plugin's faults: each thrown value counted (`<plugin>.fault`,
 * `dispatcher.plugin_fault`), the first one logged, and the plugin
 * quarantined at the stack's fault limit. Private to `dispatcher.ts`; runs
 * only when a plugin has thrown.
 *
 * @module
 */
import type { Counter, Counters } from "./counters.ts";
import { describeThrown } from "./_fault.ts";
import type { Logger } from "./log.ts";
import type { StackEvent } from "./manifest.ts";
import type { PluginRecord } from "./_plugin_record.ts";
import { isUndeclaredDrop } from "./_drops.ts";

/** Counts plugin faults and quarantines a plugin at `limit` of them. */
export class PluginFaults {
  readonly #counters: Counters;
  readonly #log: Logger;
  readonly #limit: number;
  readonly #total: Counter;
  readonly #publish: (event: StackEvent) => void;

  /** `publish` announces a quarantine to the plugins. */
  constructor(
    counters: Counters,
    log: Logger,
    limit: number,
    publish: (event: StackEvent) => void,
  ) {
    this.#counters = counters;
    this.#log = log;
    this.#limit = limit;
    this.#total = counters.get("dispatcher.plugin_fault");
    this.#publish = publish;
  }

  /** Records that `rec` threw `err`; an undeclared drop (development mode) is thrown on. */
  record(rec: PluginRecord, err: unknown): void {
    // Development mode's loud failure, not this plugin's fault: passed on.
    if (isUndeclaredDrop(err)) throw err;
    rec.faults++;
    this.#counters.get(`${rec.name}.fault`).value++;
    this.#total.value++;
    if (rec.faults === 1) {
      // Total: a hostile thrown value (throwing toString, revoked Proxy)
      // must not make the fault handler itself throw.
      const detail = describeThrown(err);
      this.#log.error(
        `plugin "${rec.name}" threw (first time; later faults are only counted): ${detail}`,
      );
    }
    if (!rec.quarantined && rec.faults >= this.#limit) {
      rec.quarantined = true;
      this.#log.error(`plugin "${rec.name}" quarantined after ${rec.faults} faults`);
      this.#publish({ type: "plugin-quarantined", plugin: rec.name });
    }
  }
}

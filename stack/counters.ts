/**
 * Named counters: every drop reason and statistic of every plugin, readable
 * as a table like `netstat -s`. A {@linkcode Counter} is a plain object whose
 * `value` the hot path increments directly.
 *
 * @module
 */

/** One named counter. */
export class Counter {
  /** Full name, `<plugin>.<rx|tx>.<reason>`. */
  readonly name: string;
  /** Current value. */
  value = 0;
  /** Creates a counter named `name`. */
  constructor(name: string) {
    this.name = name;
  }
}

/**
 * The registry of a stack's counters.
 *
 * @example
 * ```ts
 * import { Counters } from "./counters.ts";
 * import assert from "node:assert/strict";
 * const counters = new Counters();
 * counters.get("ipv4.rx.bad_checksum").value++;
 * assert.equal(counters.snapshot()["ipv4.rx.bad_checksum"], 1);
 * ```
 */
export class Counters {
  readonly #byName = new Map<string, Counter>();

  /** The counter called `name`, created at zero on first use. */
  get(name: string): Counter {
    let c = this.#byName.get(name);
    if (c === undefined) {
      c = new Counter(name);
      this.#byName.set(name, c);
    }
    return c;
  }

  /** The value of `name`, 0 when it was never counted. */
  value(name: string): number {
    return this.#byName.get(name)?.value ?? 0;
  }

  /** Every counter's value by name, sorted by name; zero counters included only if `all`. */
  snapshot(all = false): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of [...this.#byName.keys()].sort()) {
      const v = this.#byName.get(name)!.value;
      if (all || v !== 0) out[name] = v;
    }
    return out;
  }

  /** Sets every counter to zero. */
  reset(): void {
    for (const c of this.#byName.values()) c.value = 0;
  }
}

/**
 * Formats counters grouped by plugin, like `netstat -s`.
 *
 * @example
 * ```ts
 * import { formatCounters } from "./counters.ts";
 * import assert from "node:assert/strict";
 * const text = formatCounters({ "ipv4.rx.delivered": 3, "arp.tx.request": 1 });
 * assert.match(text, /^arp:\n  tx\.request +1$/m);
 * ```
 */
export function formatCounters(values: Record<string, number>): string {
  const groups = new Map<string, [string, number][]>();
  for (const [name, v] of Object.entries(values)) {
    const dot = name.indexOf(".");
    const group = dot < 0 ? name : name.slice(0, dot);
    const rest = dot < 0 ? "" : name.slice(dot + 1);
    let g = groups.get(group);
    if (!g) groups.set(group, g = []);
    g.push([rest, v]);
  }
  const lines: string[] = [];
  for (const group of [...groups.keys()].sort()) {
    lines.push(`${group}:`);
    const rows = groups.get(group)!.sort((a, b) => a[0] < b[0] ? -1 : 1);
    const width = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)} ${v}`);
  }
  return lines.join("\n");
}

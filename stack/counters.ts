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
  /**
   * Counters by their name's index in the process-wide {@linkcode NAMES}
   * table: every stack of a simulation declares the same names, so each
   * keeps an array of pointers instead of a Map of its own (and one copy of
   * each name string). Names past the table's limit go to `#extra`.
   */
  readonly #byIndex: (Counter | undefined)[] = [];
  #extra: Map<string, Counter> | null = null;

  /** The counter called `name`, created at zero on first use. */
  get(name: string): Counter {
    const i = nameIndex(name);
    if (i < 0) {
      const extra = this.#extra ??= new Map();
      let c = extra.get(name);
      if (c === undefined) extra.set(name, c = new Counter(name));
      return c;
    }
    const byIndex = this.#byIndex;
    // Fill the gap up to `i` so the array stays packed (holes make it a dictionary).
    while (byIndex.length <= i) byIndex.push(undefined);
    let c = byIndex[i];
    if (c === undefined) byIndex[i] = c = new Counter(NAMES.list[i]!);
    return c;
  }

  #find(name: string): Counter | undefined {
    const i = NAMES.index.get(name);
    return i === undefined ? this.#extra?.get(name) : this.#byIndex[i];
  }

  /** The value of `name`, 0 when it was never counted. */
  value(name: string): number {
    return this.#find(name)?.value ?? 0;
  }

  #all(): Counter[] {
    const out: Counter[] = [];
    for (const c of this.#byIndex) if (c !== undefined) out.push(c);
    if (this.#extra !== null) { for (const c of this.#extra.values()) out.push(c); }
    return out;
  }

  /** Every counter's value by name, sorted by name; zero counters included only if `all`. */
  snapshot(all = false): Record<string, number> {
    const out: Record<string, number> = {};
    const list = this.#all().sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const c of list) {
      if (all || c.value !== 0) out[c.name] = c.value;
    }
    return out;
  }

  /** Sets every counter to zero. */
  reset(): void {
    for (const c of this.#all()) c.value = 0;
  }
}

/** Most distinct counter names indexed process-wide (more go to per-stack maps). */
const MAX_SHARED_NAMES = 65_536;

/** The process-wide counter name table (names are static strings of manifests). */
const NAMES = { index: new Map<string, number>(), list: [] as string[] };

function nameIndex(name: string): number {
  const i = NAMES.index.get(name);
  if (i !== undefined) return i;
  if (NAMES.list.length >= MAX_SHARED_NAMES) return -1;
  NAMES.index.set(name, NAMES.list.length);
  NAMES.list.push(name);
  return NAMES.list.length - 1;
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

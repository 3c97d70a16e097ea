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

/** A stack's counters by name index (its `#byIndex`; set by `Counters`' static block). */
let counterArrayOf: (c: Counters) => readonly (Counter | undefined)[];

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
  /**
   * Names declared with {@linkcode Counters.declare} (a manifest's drop
   * reasons): name-index lists shared by every stack declaring the same
   * names; their objects are made when first counted (most never are: an
   * idle host of a simulation declares about 60 it never uses).
   */
  #declared: (readonly number[])[] | null = null;
  /** Hooks run before each read ({@linkcode Counters.onRead}); null until one is added. */
  #readHooks: (() => void)[] | null = null;
  // True while the hooks run: a hook that reads the counters does not run them again.
  #refreshing = false;

  static {
    // Handle getters read the array directly (see counterHandles).
    counterArrayOf = (c) => c.#byIndex;
  }

  /** The counter called `name`, created at zero on first use. */
  get(name: string): Counter {
    const i = nameIndex(name);
    if (i < 0) {
      const extra = this.#extra ??= new Map();
      let c = extra.get(name);
      if (c === undefined) extra.set(name, c = new Counter(name));
      return c;
    }
    return this.at(i);
  }

  /**
   * The counter whose name has index `i` in the process-wide name table
   * ({@linkcode counterNameIndex}), created at zero on first use.
   */
  at(i: number): Counter {
    const byIndex = this.#byIndex;
    // Fill the gap up to `i` so the array stays packed (holes make it a dictionary).
    while (byIndex.length <= i) byIndex.push(undefined);
    let c = byIndex[i];
    if (c === undefined) byIndex[i] = c = new Counter(NAMES.list[i]!);
    return c;
  }

  /**
   * Declares `prefix` + each of `names` as counters at zero, listed by
   * `snapshot(true)` like counters made with {@linkcode Counters.get}, but
   * without an object each until one is counted.
   */
  declare(prefix: string, names: readonly string[]): void {
    const indices = declaredIndices(prefix, names);
    if (indices === null) {
      for (const n of names) this.get(prefix + n);
      return;
    }
    const declared = this.#declared ??= [];
    if (!declared.includes(indices)) declared.push(indices);
  }

  /**
   * Runs `hook` before every read of these counters ({@linkcode snapshot},
   * {@linkcode value}) and before {@linkcode reset}, so that a counter whose
   * value grows with time rather than with events (TCP's time under memory
   * pressure) is brought up to date when it is read, not only at its next
   * event. Counting itself runs no hook: a counter stays a plain field that
   * the hot path increments (and a `get(name).value` read directly is as
   * current as its last update). A hook must not throw (a plugin's goes through
   * `PluginContext.onCounterRead`, which isolates it); hooks run in the
   * order they were added, and a read made inside a hook runs none.
   *
   * @param hook Brings some counters up to date (e.g. adds the time elapsed since their last update).
   * @throws {TypeError} If `hook` is not a function.
   *
   * @example
   * ```ts
   * import { Counters } from "./counters.ts";
   * import assert from "node:assert/strict";
   * const counters = new Counters();
   * let now = 0, since = 0; // a state entered at 0, timed in µs
   * const time = counters.get("demo.state_us");
   * counters.onRead(() => {
   *   time.value += now - since;
   *   since = now;
   * });
   * now = 5000; // no event since: the counter itself still holds 0
   * assert.equal(counters.snapshot()["demo.state_us"], 5000);
   * ```
   */
  onRead(hook: () => void): void {
    if (typeof hook !== "function") {
      throw new TypeError(
        `Cannot add a counter read hook: expected a function, got ${typeof hook}`,
      );
    }
    (this.#readHooks ??= []).push(hook);
  }

  #refresh(): void {
    const hooks = this.#readHooks;
    if (hooks === null || this.#refreshing) return;
    this.#refreshing = true;
    try {
      for (let i = 0; i < hooks.length; i++) hooks[i]!();
    } finally {
      this.#refreshing = false;
    }
  }

  #find(name: string): Counter | undefined {
    const i = NAMES.index.get(name);
    return i === undefined ? this.#extra?.get(name) : this.#byIndex[i];
  }

  /** The value of `name`, 0 when it was never counted. */
  value(name: string): number {
    this.#refresh();
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
    this.#refresh();
    const out: Record<string, number> = {};
    const list: { name: string; value: number }[] = this.#all();
    if (all && this.#declared !== null) {
      const seen = new Set<number>();
      for (const indices of this.#declared) {
        for (const i of indices) {
          if (this.#byIndex[i] === undefined && !seen.has(i)) {
            seen.add(i);
            list.push({ name: NAMES.list[i]!, value: 0 });
          }
        }
      }
    }
    list.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const c of list) {
      if (all || c.value !== 0) out[c.name] = c.value;
    }
    return out;
  }

  /**
   * Sets every counter to zero (after the read hooks brought them up to
   * date, so time before the reset is not counted after it).
   */
  reset(): void {
    this.#refresh();
    for (const c of this.#all()) c.value = 0;
  }
}

/**
 * The index of counter name `name` in the process-wide name table, for
 * {@linkcode Counters.at}; -1 when the table is full (use `get(name)`).
 *
 * @example
 * ```ts
 * import { counterNameIndex, Counters } from "./counters.ts";
 * import assert from "node:assert/strict";
 * const counters = new Counters();
 * counters.at(counterNameIndex("udp.rx.no_port")).value++;
 * assert.equal(counters.value("udp.rx.no_port"), 1);
 * ```
 */
export function counterNameIndex(name: string): number {
  return nameIndex(name);
}

/**
 * Handles to the counters `prefix` + name, by key: given a list of names,
 * `h[name]` is `counters.get(prefix + name)`; given a record of key → name,
 * `h[key]` is `counters.get(prefix + record[key])`. Each counter is made on
 * first use; the names are declared (listed at zero). One handle class per
 * prefix and name list, shared by every stack: a stack holds one small
 * object instead of a counter object per name (TCP's 70 were 2.8 KB per
 * idle host).
 *
 * @example
 * ```ts
 * import { counterHandles, Counters } from "./counters.ts";
 * import assert from "node:assert/strict";
 * const counters = new Counters();
 * const c = counterHandles(counters, "udp.", ["rx.no_port", "tx.datagrams"] as const);
 * c["rx.no_port"].value++;
 * const arp = counterHandles(counters, "arp.", { requestsIn: "rx.requests" });
 * arp.requestsIn.value += 2;
 * assert.deepEqual(counters.snapshot(true), {
 *   "arp.rx.requests": 2,
 *   "udp.rx.no_port": 1,
 *   "udp.tx.datagrams": 0,
 * });
 * ```
 */
export function counterHandles<N extends string>(
  counters: Counters,
  prefix: string,
  names: readonly N[],
): { readonly [K in N]: Counter };
export function counterHandles<K extends string>(
  counters: Counters,
  prefix: string,
  names: Readonly<Record<K, string>>,
): { readonly [P in K]: Counter };
export function counterHandles(
  counters: Counters,
  prefix: string,
  names: readonly string[] | Readonly<Record<string, string>>,
): Record<string, Counter> {
  const keys: readonly string[] = Array.isArray(names) ? names : Object.keys(names);
  const list: readonly string[] = Array.isArray(names)
    ? names
    : Object.values(names as Record<string, string>);
  // By content, not identity: a record written inline in setup() is a new
  // object per stack and must still share one class.
  const id = `${prefix}\n${keys.join(" ")}\n${list.join(" ")}`;
  let kind = HANDLE_KINDS.get(id);
  if (kind === undefined) HANDLE_KINDS.set(id, kind = handleKind(prefix, keys, list));
  counters.declare(prefix, kind.names);
  return new kind.Handles(counters) as unknown as Record<string, Counter>;
}

/** The stack's counters, behind the name getters of a handle class. */
class CounterHandles {
  readonly counters: Counters;
  /**
   * The counters' array itself (it grows in place): a getter finds a counter
   * made before with one indexed load, as cheap as the object field it replaced.
   */
  readonly made: readonly (Counter | undefined)[];
  constructor(counters: Counters) {
    this.counters = counters;
    this.made = counterArrayOf(counters);
  }
}

interface HandleKind {
  readonly Handles: new (counters: Counters) => CounterHandles;
  /** The names, one array per kind (`declare` caches by array). */
  readonly names: readonly string[];
}

/** Handle classes by prefix and name list (static lists of plugins: a few dozen). */
const HANDLE_KINDS = new Map<string, HandleKind>();

function handleKind(prefix: string, keys: readonly string[], names: readonly string[]): HandleKind {
  class Handles extends CounterHandles {}
  keys.forEach((key, k) => {
    const full = prefix + names[k]!;
    const i = nameIndex(full);
    Object.defineProperty(Handles.prototype, key, {
      get: i >= 0
        ? function (this: CounterHandles): Counter {
          return this.made[i] ?? this.counters.at(i);
        }
        : function (this: CounterHandles): Counter {
          return this.counters.get(full);
        },
    });
  });
  return { Handles, names: [...names] };
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

/** Name-index lists of {@linkcode Counters.declare}, shared per name list and prefix. */
const DECLARED = new WeakMap<readonly string[], Map<string, readonly number[] | null>>();

function declaredIndices(prefix: string, names: readonly string[]): readonly number[] | null {
  let byPrefix = DECLARED.get(names);
  if (byPrefix === undefined) DECLARED.set(names, byPrefix = new Map());
  let indices = byPrefix.get(prefix);
  if (indices === undefined) {
    const list = names.map((n) => nameIndex(prefix + n));
    // A full name table: declared names get objects at once instead (`get`).
    indices = list.includes(-1) ? null : list;
    byPrefix.set(prefix, indices);
  }
  return indices;
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

/**
 * The dispatcher's records: a loaded plugin, a table and its bindings, and
 * the reusable receive context. Private to the core.
 *
 * @module
 */
import {
  NEXT,
  type ProtocolHandlers,
  type ProtocolManifest,
  type RxContext,
  type RxVerdict,
  type Table,
} from "./manifest.ts";
import type { NetInterface } from "./netif.ts";
import type { PacketBuffer } from "./packet.ts";

export type Receiver = (pkt: PacketBuffer, rx: RxContext) => RxVerdict;

/** Whether a plugin with `m` takes events of `type` (manifest `events`; absent: all). */
export function takesEvent(m: ProtocolManifest, type: string): boolean {
  return m.events === undefined || m.events.includes(type);
}

/** One loaded plugin. */
export interface PluginRecord {
  readonly name: string;
  readonly manifest: ProtocolManifest;
  handlers: ProtocolHandlers;
  faults: number;
  quarantined: boolean;
  /** Its drop counters, shared by every stack loading the manifest (`dropIndexOf` in `_drops.ts`). */
  readonly dropIndex: Map<string, number>;
  /** Undeclared drop keys (`<dir><reason>`) already logged (bounded; made on first use). */
  undeclared: Set<string> | null;
  /** Whether it asked for `flush()` at the end of the current batch. */
  flushRequested: boolean;
}

export interface Entry {
  readonly rec: PluginRecord;
  readonly fn: Receiver;
  readonly handlers: ProtocolHandlers;
}

export class TableImpl implements Table {
  readonly name: string;
  readonly #entries = new Map<number, Entry>();
  /**
   * The last key looked up and what it found: a run of packets of one
   * protocol (every segment of a bulk transfer) skips the map lookup.
   */
  #lastKey = -1;
  #lastEntry: Entry | undefined = undefined;
  constructor(name: string) {
    this.name = name;
  }
  /** Every binding, by key. */
  get entries(): ReadonlyMap<number, Entry> {
    return this.#entries;
  }
  /** Binds `key` to `entry` (boot). */
  bind(key: number, entry: Entry): void {
    this.#entries.set(key, entry);
    this.#lastKey = -1;
    this.#lastEntry = undefined;
  }
  /** The entry bound to `key`, if any. Hot path. */
  lookup(key: number): Entry | undefined {
    if (key === this.#lastKey) return this.#lastEntry;
    const entry = this.#entries.get(key);
    this.#lastKey = key;
    this.#lastEntry = entry;
    return entry;
  }
}

export class RxImpl implements RxContext {
  iface!: NetInterface;
  table!: Table;
  key = 0;
  nextTable: TableImpl | null = null;
  nextKey = 0;
  next(table: Table, key: number): typeof NEXT {
    // A table not made by this stack (a plugin's own object) is not followed:
    // the step ends as a bad verdict instead of throwing out of receive().
    this.nextTable = table instanceof TableImpl ? table : null;
    this.nextKey = key;
    return NEXT;
  }
}

/**
 * Building the {@linkcode PluginContext} a plugin's `setup()` receives: only
 * the tables and services its manifest declares, plus the basics. The
 * dispatcher hands in a {@linkcode ContextHost}, the narrow view of itself a
 * context needs.
 *
 * @module
 */
import type { Clock, Instant } from "./clock.ts";
import { type Counter, counterHandles, type Counters } from "./counters.ts";
import { PluginDependencyError } from "./errors.ts";
import type { HookContext } from "./hooks.ts";
import type { Logger, LogHub } from "./log.ts";
import {
  type HookPoint,
  type HookVerdict,
  LINK_TABLE,
  type PluginContext,
  requirementsOf,
  type StackEvent,
  type Table,
} from "./manifest.ts";
import type { AddressOptions, InterfaceTable, Ipv6AddressState, NetInterface } from "./netif.ts";
import type { PacketBuffer } from "./packet.ts";
import type { PacketPool } from "./packet_pool.ts";
import type { Rng } from "./rng.ts";
import type { Timer } from "./timers.ts";
import type { IpFamily, IpKey } from "./wire/ip_address.ts";
import { type PluginRecord, type TableImpl, takesEvent } from "./_plugin_record.ts";

/**
 * What a plugin context reaches of the dispatcher. The function members are
 * handed to plugins as they are (no extra call per packet), so they are
 * arrow functions bound to the dispatcher.
 */
export interface ContextHost {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly pool: PacketPool;
  readonly logs: LogHub;
  readonly interfaces: InterfaceTable;
  readonly counters: Counters;
  /** Every loaded plugin, in boot order. */
  readonly plugins: readonly PluginRecord[];
  table(name: string): TableImpl;
  service(name: string): unknown;
  queueFlush(rec: PluginRecord): void;
  timer(owner: string, callback: (now: Instant) => void): Timer;
  readonly deliver: (table: Table, key: number, pkt: PacketBuffer, iface: NetInterface) => void;
  readonly runHooks: (point: HookPoint, pkt: PacketBuffer, hctx?: HookContext) => HookVerdict;
  readonly hasHooks: (point: HookPoint) => boolean;
  readonly hooksWantDefrag: (point: HookPoint) => boolean;
  readonly transmit: (ifindex: number, pkt: PacketBuffer) => void;
  readonly linkOutput: (
    ifindex: number,
    family: IpFamily,
    nextHop: IpKey,
    pkt: PacketBuffer,
  ) => void;
  readonly publish: (event: StackEvent) => void;
  readonly addAddress: (ifindex: number, cidr: string, options?: AddressOptions) => boolean;
  readonly removeAddress: (ifindex: number, cidr: string) => boolean;
  readonly setAddressState: (
    ifindex: number,
    address: Uint8Array,
    state: Ipv6AddressState,
  ) => boolean;
  /** Counts (and logs the first) fault of plugin `rec`, as the dispatcher does for its handlers. */
  readonly fault: (rec: PluginRecord, err: unknown) => void;
}

/** The context of plugin `rec`, with its merged `options`. */
export function pluginContext(
  host: ContextHost,
  rec: PluginRecord,
  options: Readonly<Record<string, number | string | boolean>>,
): PluginContext {
  return new Context(host, rec, options);
}

/**
 * A plugin's context. Methods live on the prototype, not in per-context
 * closures: a simulation has thousands of stacks of six or more plugins each
 * (issue 19: about 600 bytes per plugin). `now` stays an own bound function
 * because plugins hand `ctx.now` to helpers as a clock.
 */
class Context implements PluginContext {
  readonly name: string;
  readonly options: Readonly<Record<string, number | string | boolean>>;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly pool: PacketPool;
  readonly log: Logger;
  readonly interfaces: InterfaceTable;
  readonly now: () => Instant;
  readonly deliver: ContextHost["deliver"];
  readonly runHooks: ContextHost["runHooks"];
  readonly hasHooks: ContextHost["hasHooks"];
  readonly hooksWantDefrag: ContextHost["hooksWantDefrag"];
  readonly transmit: ContextHost["transmit"];
  readonly linkOutput: ContextHost["linkOutput"];
  readonly publish: ContextHost["publish"];
  readonly addAddress: ContextHost["addAddress"];
  readonly removeAddress: ContextHost["removeAddress"];
  readonly setAddressState: ContextHost["setAddressState"];
  readonly #host: ContextHost;
  readonly #rec: PluginRecord;
  // hasEventListeners' answers by event type, for `listenersFor` plugins (made on first use).
  #listeners: Map<string | undefined, PluginRecord[]> | null = null;
  #listenersFor = -1;
  // The plugin's counter read hook (onCounterRead); registered with the counters on first use.
  #readHook: (() => void) | null = null;

  constructor(
    host: ContextHost,
    rec: PluginRecord,
    options: Readonly<Record<string, number | string | boolean>>,
  ) {
    this.#host = host;
    this.#rec = rec;
    this.name = rec.name;
    this.options = options;
    this.clock = host.clock;
    this.rng = host.rng;
    this.pool = host.pool;
    this.log = host.logs.logger(rec.name);
    this.interfaces = host.interfaces;
    const clock = host.clock;
    this.now = () => clock.now();
    this.deliver = host.deliver;
    this.runHooks = host.runHooks;
    this.hasHooks = host.hasHooks;
    this.hooksWantDefrag = host.hooksWantDefrag;
    this.transmit = host.transmit;
    this.linkOutput = host.linkOutput;
    this.publish = host.publish;
    this.addAddress = host.addAddress;
    this.removeAddress = host.removeAddress;
    this.setAddressState = host.setAddressState;
  }

  // Tables and services are checked against the manifest when asked for (set-up
  // time), not copied into per-stack sets: a large simulation has thousands of stacks.
  table(name: string): Table {
    const m = this.#rec.manifest;
    if (
      name !== LINK_TABLE && !(m.exposes ?? []).some((t) => t === name) &&
      !m.binds.some((b) => b.table === name)
    ) {
      throw new PluginDependencyError(
        this.#rec.name,
        `table "${name}" is not in its exposes or binds`,
      );
    }
    return this.#host.table(name);
  }

  hasBinding(table: Table, key: number): boolean {
    // lookup(), not entries.get(): its last-key memo answers IPv4's two checks
    // per delivered datagram and the dispatch that follows with one Map lookup.
    const e = (table as TableImpl).lookup(key);
    return e !== undefined && !e.rec.quarantined;
  }

  service<T>(name: string): T {
    const s = this.optionalService<T>(name);
    if (s === undefined) {
      throw new PluginDependencyError(this.#rec.name, `service "${name}" is not available`);
    }
    return s;
  }

  optionalService<T>(name: string): T | undefined {
    const m = this.#rec.manifest;
    if (
      !requirementsOf(m).some((r) => r.service === name) && !(m.provides ?? []).includes(name)
    ) {
      throw new PluginDependencyError(this.#rec.name, `service "${name}" is not in its requires`);
    }
    return this.#host.service(name) as T | undefined;
  }

  counterSnapshot(): Record<string, number> {
    return this.#host.counters.snapshot();
  }

  requestFlush(): void {
    const rec = this.#rec;
    if (rec.flushRequested) return;
    rec.flushRequested = true;
    this.#host.queueFlush(rec);
  }

  counter(name: string): Counter {
    return this.#host.counters.get(`${this.#rec.name}.${name}`);
  }
  onCounterRead(hook: () => void): void {
    if (typeof hook !== "function") {
      throw new TypeError(
        `Cannot set a counter read hook: expected a function, got ${typeof hook}`,
      );
    }
    const first = this.#readHook === null;
    this.#readHook = hook;
    if (!first) return;
    const host = this.#host, rec = this.#rec;
    host.counters.onRead(() => {
      if (rec.quarantined) return;
      try {
        this.#readHook!();
      } catch (err) {
        host.fault(rec, err);
      }
    });
  }

  counterHandles<N extends string>(names: readonly N[]): { readonly [K in N]: Counter };
  counterHandles<K extends string>(
    names: Readonly<Record<K, string>>,
  ): { readonly [P in K]: Counter };
  counterHandles(
    names: readonly string[] | Readonly<Record<string, string>>,
  ): Record<string, Counter> {
    return counterHandles(
      this.#host.counters,
      `${this.#rec.name}.`,
      names as Record<string, string>,
    );
  }

  timer(callback: (now: Instant) => void): Timer {
    return this.#host.timer(this.#rec.name, callback);
  }

  hasEventListeners(type?: string): boolean {
    const host = this.#host, rec = this.#rec;
    // TCP asks at every state change: the plugins that take `type` are
    // found once per set of plugins (a record joins the list with its
    // handlers final); only quarantine is checked each time.
    if (this.#listeners === null || this.#listenersFor !== host.plugins.length) {
      this.#listeners = new Map();
      this.#listenersFor = host.plugins.length;
    }
    let list = this.#listeners.get(type);
    if (list === undefined) {
      list = host.plugins.filter((other) =>
        other !== rec && other.handlers.onEvent !== undefined &&
        (type === undefined || takesEvent(other.manifest, type))
      );
      this.#listeners.set(type, list);
    }
    // Indexed: an iterator here was allocated at every state change.
    for (let i = 0; i < list.length; i++) if (!list[i]!.quarantined) return true;
    return false;
  }
}

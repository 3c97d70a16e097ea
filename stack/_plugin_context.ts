/**
 * Building the {@linkcode PluginContext} a plugin's `setup()` receives: only
 * the tables and services its manifest declares, plus the basics. The
 * dispatcher hands in a {@linkcode ContextHost}, the narrow view of itself a
 * context needs.
 *
 * @module
 */
import type { Clock, Instant } from "./clock.ts";
import type { Counters } from "./counters.ts";
import { PluginDependencyError } from "./errors.ts";
import type { HookContext } from "./hooks.ts";
import type { LogHub } from "./log.ts";
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
import type { PacketBuffer, PacketPool } from "./packet.ts";
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
}

/** The context of plugin `rec`, with its merged `options`. */
export function pluginContext(
  host: ContextHost,
  rec: PluginRecord,
  options: Readonly<Record<string, number | string | boolean>>,
): PluginContext {
  const m = rec.manifest;
  // Tables and services are checked against the manifest when asked for (set-up
  // time), not copied into per-stack sets: a large simulation has thousands of stacks.
  const log = host.logs.logger(rec.name);
  // hasEventListeners' answers by event type, for `listenersFor` plugins (made on first use).
  let listeners: Map<string | undefined, PluginRecord[]> | null = null;
  let listenersFor = -1;
  return {
    name: rec.name,
    options,
    clock: host.clock,
    rng: host.rng,
    pool: host.pool,
    log,
    interfaces: host.interfaces,
    now: () => host.clock.now(),
    table(name: string): Table {
      if (
        name !== LINK_TABLE && !(m.exposes ?? []).some((t) => t === name) &&
        !m.binds.some((b) => b.table === name)
      ) {
        throw new PluginDependencyError(
          rec.name,
          `table "${name}" is not in its exposes or binds`,
        );
      }
      return host.table(name);
    },
    hasBinding: (table, key) => {
      const e = (table as TableImpl).entries.get(key);
      return e !== undefined && !e.rec.quarantined;
    },
    deliver: host.deliver,
    service<T>(name: string): T {
      const s = this.optionalService<T>(name);
      if (s === undefined) {
        throw new PluginDependencyError(rec.name, `service "${name}" is not available`);
      }
      return s;
    },
    optionalService<T>(name: string): T | undefined {
      if (
        !requirementsOf(m).some((r) => r.service === name) && !(m.provides ?? []).includes(name)
      ) {
        throw new PluginDependencyError(rec.name, `service "${name}" is not in its requires`);
      }
      return host.service(name) as T | undefined;
    },
    counterSnapshot: () => host.counters.snapshot(),
    requestFlush: () => {
      if (rec.flushRequested) return;
      rec.flushRequested = true;
      host.queueFlush(rec);
    },
    counter: (name) => host.counters.get(`${rec.name}.${name}`),
    timer: (callback) => host.timer(rec.name, callback),
    runHooks: host.runHooks,
    hasHooks: host.hasHooks,
    hooksWantDefrag: host.hooksWantDefrag,
    transmit: host.transmit,
    linkOutput: host.linkOutput,
    publish: host.publish,
    addAddress: host.addAddress,
    removeAddress: host.removeAddress,
    setAddressState: host.setAddressState,
    hasEventListeners: (type?: string) => {
      // TCP asks at every state change: the plugins that take `type` are
      // found once per set of plugins (a record joins the list with its
      // handlers final); only quarantine is checked each time.
      if (listeners === null || listenersFor !== host.plugins.length) {
        listeners = new Map();
        listenersFor = host.plugins.length;
      }
      let list = listeners.get(type);
      if (list === undefined) {
        list = host.plugins.filter((other) =>
          other !== rec && other.handlers.onEvent !== undefined &&
          (type === undefined || takesEvent(other.manifest, type))
        );
        listeners.set(type, list);
      }
      for (const other of list) if (!other.quarantined) return true;
      return false;
    },
  };
}

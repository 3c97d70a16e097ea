/**
 * The options a dispatcher boots with, the options of an interface, and the
 * trace event shape.
 *
 * @module
 */
import type { Clock, Instant } from "./clock.ts";
import type { LinkDriver } from "./driver.ts";
import type { LogLevel, LogSink } from "./log.ts";
import type { ProtocolPlugin } from "./manifest.ts";
import type { PluginEntry } from "./boot.ts";
import type { PacketPool } from "./packet_pool.ts";
import type { Rng } from "./rng.ts";

/** One step of a traced packet through the plugins. */
export interface TraceEvent {
  /** Id of the packet within this stack's trace. */
  readonly packet: number;
  /** Stack time. */
  readonly time: Instant;
  /** `rx`: dispatch step; `tx`: handed to a driver; `hook`: a hook's verdict. */
  readonly direction: "rx" | "tx" | "hook";
  /** Interface index. */
  readonly ifindex: number;
  /** The plugin that decided (or `dispatcher`). */
  readonly plugin: string;
  /** The table (or hook point) and key that led there. */
  readonly table: string;
  /** The key in that table. */
  readonly key: number;
  /** `next <table> <key>`, `consumed`, `accept`, `drop <reason>`, `fault`, `sent`. */
  readonly verdict: string;
  /** Length of the packet's data at this step. */
  readonly length: number;
}

/** Options of {@linkcode Dispatcher}. */
export interface DispatcherOptions {
  /** Plugins, in the order given where dependencies allow. */
  readonly plugins: readonly (ProtocolPlugin | PluginEntry)[];
  /** The clock; default a {@linkcode ManualClock} at 0. */
  readonly clock?: Clock;
  /** The random source; default seeded from `seed`. */
  readonly rng?: Rng;
  /** Seed for the default random source (default 1). */
  readonly seed?: number;
  /** Packet buffers; default a new pool. */
  readonly pool?: PacketPool;
  /** Where log lines go; default nowhere. */
  readonly log?: LogSink;
  /** Minimum level logged (default `"info"`). */
  readonly logLevel?: LogLevel;
  /** Faults after which a plugin is quarantined (default 100). */
  readonly faultLimit?: number;
  /** A name for logs and the graph. */
  readonly name?: string;
  /**
   * Development check (default false; tests turn it on): a drop verdict
   * whose reason the plugin's manifest does not declare in `counters`
   * throws an Error naming the plugin and the reason, out of the call that
   * delivered the packet. Off, such a drop is counted under its reason and
   * under `<plugin>.undeclared`, and logged once as a warning.
   */
  readonly strictCounters?: boolean;
  /**
   * A `ready()` that throws at boot: `"isolate"` (default) counts a fault
   * and goes on; `"fail"` makes the boot throw {@linkcode PluginSetupError}
   * naming the plugin (command lines use it, so a broken plugin fails the
   * command).
   */
  readonly readyFaults?: "isolate" | "fail";
}

/** Options of {@linkcode Dispatcher.addInterface}. */
export interface InterfaceOptions {
  /** Interface name (default `ethN`/`tunN`). */
  readonly name?: string;
  /** The driver carrying its frames. */
  readonly driver: LinkDriver;
  /** MTU (default the driver's). */
  readonly mtu?: number;
  /** MAC address (default the driver's). */
  readonly mac?: Uint8Array;
  /** Addresses in CIDR form, `"10.0.0.2/24"` or `"fd00::2/64"`. */
  readonly addresses?: readonly string[];
}

/**
 * The plugin contract: a {@linkcode ProtocolManifest} says what a plugin is,
 * what it provides, requires and binds to; {@linkcode ProtocolPlugin.setup}
 * returns its {@linkcode ProtocolHandlers}. Built-in protocols and users'
 * plugins use exactly this API.
 *
 * @module
 */
import type { Clock, Instant } from "./clock.ts";
import type { Counter } from "./counters.ts";
import type { PacketBuffer } from "./packet.ts";
import type { PacketPool } from "./packet_pool.ts";
import type { Rng } from "./rng.ts";
import type { Timer } from "./timers.ts";
import type { AddressOptions, InterfaceTable, Ipv6AddressState, NetInterface } from "./netif.ts";
import type { Logger } from "./log.ts";
import type { HookContext } from "./hooks.ts";
import type { IpFamily, IpKey } from "./wire/ip_address.ts";
import { PluginManifestError } from "./errors.ts";
import { isVersion, satisfies } from "./semver.ts";
import { COUNTER_NAME_PATTERN, MAX_REASON_LENGTH } from "./limits.ts";

/** The version of the plugin API this stack implements. */
export const STACK_API_VERSION = "1.0.0";

/** The root table: keyed by an interface's pcap link type; link plugins bind it. */
export const LINK_TABLE = "link";

/**
 * Hook points, netfilter's: `ingress`/`egress` at the driver, the others at
 * the network layer (run by the IPv4 and IPv6 plugins): prerouting, then the
 * routing decision, then input or forward; output (routed again when a hook
 * changed the destination); postrouting. What each sees besides the packet
 * (in/out interface, route) is in `stack/hooks.ts`.
 *
 * **Partial checksums.** A packet flagged `PacketFlags.CHECKSUM_PARTIAL`
 * holds in its TCP or UDP checksum field only the pseudo-header sum (folded,
 * not complemented: Linux's CHECKSUM_PARTIAL); `pkt.l4` is its transport
 * header. A hook meets two kinds:
 *
 * - **Received**: a TCP segment, IPv4 or IPv6 (often a super-segment,
 *   `gsoSize` set) from a TUN/TAP device with offloads, which Linux sent
 *   with NEEDS_CSUM and the driver left partial (with `CHECKSUM_VERIFIED`),
 *   or one another stack sent over the in-memory link. `ingress` sees
 *   it partial, unless a capture tap sits in front of the driver (the tap
 *   completes it to record it). IPv4 and IPv6 complete it (`finishPartialChecksum`)
 *   before `prerouting` when any hook joined that point, before `input`
 *   when any joined that one (or when no protocol takes it, for the ICMP
 *   error's quote), and before forwarding: `prerouting`, `input`, `forward`
 *   and a forwarded packet's `postrouting` and `egress` see whole
 *   checksums. Otherwise it reaches TCP partial (TCP never reads the
 *   field). The driver completes every other partial checksum it receives
 *   (UDP, TCP/IPv6 behind extension headers), so no hook sees those partial.
 * - **Made by the stack**: a TCP super-segment (only for a link with TSO)
 *   or a UDP super-datagram (a send longer than a socket's `segmentSize`),
 *   `gsoSize` > 0. `output` and `postrouting` see it partial, and `egress`
 *   too when the link takes it whole (TSO, USO). A UDP super-datagram for a
 *   link without USO is cut into its datagrams after `postrouting`, each
 *   complete, so `egress` sees each; for this host it is cut, and a TCP
 *   super-segment completed (`finishTcpSuperSegment`), after `output`.
 *
 * A hook that rewrites an address of a partial packet adjusts the field as
 * a sum, not as a checksum (`sum + ~old + new`; ports are not in the
 * pseudo-header), as NAT does (`stack/wire/nat.ts`). The TUN driver and the
 * software segmenters (`stack/wire/tcp_gso.ts`, `udp_gso.ts`) compute each
 * segment's checksum afresh from the headers; `finishPartialChecksum` seeds
 * from the field.
 */
export const HOOK_POINTS = [
  "ingress",
  "prerouting",
  "input",
  "forward",
  "output",
  "postrouting",
  "egress",
] as const;
/** One of {@linkcode HOOK_POINTS}. */
export type HookPoint = typeof HOOK_POINTS[number];

/** An exclusive claim on one key of a dispatch table. */
export interface Binding {
  /** Table name: `"link"`, `"ethertype"`, `"ip.protocol"`, `"udp.port"`, … */
  readonly table: string;
  /** The key: an EtherType, a protocol number, a port. */
  readonly key: number;
  /**
   * When true, the binding is skipped (not an error) if no loaded plugin
   * exposes the table: e.g. UDP's `ip.error` binding without ICMP loaded.
   */
  readonly optional?: boolean;
  /**
   * In a table both IP plugins dispatch into (`ip.protocol`, `ip.error`),
   * the one IP version it takes: ICMP's protocol 1 is IPv4's, ICMPv6's 58
   * IPv6's. Omitted: both (TCP, UDP). The graph draws the binding only
   * below a plugin of that {@linkcode ProtocolManifest.family}; dispatch is
   * not filtered (the table stays one, and such plugins check the version).
   */
  readonly family?: 4 | 6;
}

/** Joining a hook chain, ordered by name rather than by number (VPP feature arcs). */
export interface HookJoin {
  /** Where in the path. */
  readonly point: HookPoint;
  /** Plugins this one must run before (if present). */
  readonly before?: readonly string[];
  /** Plugins this one must run after (if present). */
  readonly after?: readonly string[];
  /**
   * At `prerouting`: see whole datagrams (the network layer reassembles
   * fragments before the chain when any member asks, as conntrack does);
   * otherwise the chain sees each fragment. Ignored at other points.
   */
  readonly defrag?: boolean;
}

/** A required service; optional ones may be absent and do not order set-up. */
export interface Requirement {
  /** Service name, e.g. `"ipv4.send"`. */
  readonly service: string;
  /** When true, the stack boots without a provider. */
  readonly optional?: boolean;
}

/** A plugin option with its default. */
export interface OptionSpec {
  /** The value used when the stack manifest gives none. */
  readonly default: number | string | boolean;
  /** What it does. */
  readonly description: string;
}

/** What a plugin declares about itself. */
export interface ProtocolManifest {
  /** Unique, lowercase: prefixes counters and logs. */
  readonly name: string;
  /** Semver of the plugin. */
  readonly version: string;
  /** Semver range of the plugin API it targets, e.g. `"^1.0.0"`. */
  readonly api: string;
  /** One line on what it does. */
  readonly description: string;
  /** Where it sits. */
  readonly layer: "link" | "network" | "transport" | "middlebox" | "service";
  /** Plugins set up before this one. */
  readonly dependencies?: readonly string[];
  /** Table keys it claims exclusively. */
  readonly binds: readonly Binding[];
  /** Tables it dispatches into (its output ports); the stack creates them. */
  readonly exposes?: readonly string[];
  /**
   * The only keys it dispatches into a table it shares with others (raw IP
   * sends just IPv4 and IPv6 into `ethertype`); the graph shows only those.
   */
  readonly emits?: Readonly<Record<string, readonly number[]>>;
  /**
   * The IP version of the packets it dispatches (ipv4: 4, ipv6: 6): below
   * it the graph draws only bindings of that {@linkcode Binding.family}.
   */
  readonly family?: 4 | 6;
  /** Hook chains it joins. */
  readonly hooks?: readonly HookJoin[];
  /** Services it provides (returned in `handlers.services`). */
  readonly provides?: readonly string[];
  /** Services it uses: a name (required) or a {@linkcode Requirement}. */
  readonly requires?: readonly (string | Requirement)[];
  /** Every counter it may report, without the plugin prefix: `"rx.bad_checksum"`. */
  readonly counters: readonly string[];
  /** Its options and their defaults. */
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /**
   * The event types its `onEvent` takes (`"address-added"`, …); absent: every
   * type. Events of other types are not delivered to it, and a publisher
   * asking {@linkcode PluginContext.hasEventListeners} for a type nobody
   * takes can skip building the event.
   */
  readonly events?: readonly string[];
}

/** A dispatch table handle (resolved once at set-up; lookups are by key). */
export interface Table {
  /** The table's name. */
  readonly name: string;
}

/**
 * Verdict of a receive handler or a hook: the packet was handled (or kept by
 * copy, or stolen by a hook); stop.
 *
 * @example
 * ```ts
 * import { CONSUMED, type RxVerdict } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * const v: RxVerdict = CONSUMED;
 * assert.equal(v, 0);
 * ```
 */
export const CONSUMED = 0;
/**
 * Receive verdict: continue in the table and key set on the
 * {@linkcode RxContext} (what `rx.next(table, key)` returns). Not a hook
 * verdict: a hook that lets a packet pass returns {@linkcode ACCEPT}.
 *
 * @example
 * ```ts
 * import { ACCEPT, NEXT } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * assert.notEqual(NEXT as number, ACCEPT as number);
 * ```
 */
export const NEXT = 1;
/**
 * Hook verdict: let the packet go on along the path. Not a receive verdict:
 * a receive handler hands a packet on with `rx.next(table, key)`.
 *
 * @example
 * ```ts
 * import { ACCEPT, type HookVerdict } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * const v: HookVerdict = ACCEPT;
 * assert.equal(v, 2);
 * ```
 */
export const ACCEPT = 2;

/**
 * A drop reason: a lowercase name (`[a-z0-9_.]`, at most 64 characters) that
 * the plugin's manifest declares in `counters` as `rx.<reason>` (receive) or
 * `<point>.<reason>` (a hook at `point`); the dispatcher counts the drop as
 * `<plugin>.<rx|point>.<reason>`. `R` narrows it to a plugin's own reasons:
 * `DropReason<"truncated" | "bad_checksum">`.
 */
export type DropReason<R extends string = string> = R;

/**
 * What a receive handler returns: {@linkcode CONSUMED}, {@linkcode NEXT}
 * (through `rx.next(table, key)`) or a {@linkcode DropReason}. Closed: no
 * other number type-checks, and a hook's {@linkcode ACCEPT} is not one.
 *
 * @example
 * ```ts
 * import { CONSUMED, type RxVerdict } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * function receive(length: number): RxVerdict<"truncated"> {
 *   return length < 8 ? "truncated" : CONSUMED;
 * }
 * assert.equal(receive(4), "truncated");
 * ```
 */
export type RxVerdict<R extends string = string> = typeof CONSUMED | typeof NEXT | DropReason<R>;

/**
 * What a hook returns, and what running a chain gives the network layer:
 * {@linkcode ACCEPT}, {@linkcode CONSUMED} (stolen) or a
 * {@linkcode DropReason}. Closed: no other number type-checks, and a
 * receive handler's {@linkcode NEXT} is not one.
 *
 * @example
 * ```ts
 * import { ACCEPT, type HookVerdict } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * const hook = (blocked: boolean): HookVerdict<"blocked"> => blocked ? "blocked" : ACCEPT;
 * assert.equal(hook(false), ACCEPT);
 * ```
 */
export type HookVerdict<R extends string = string> =
  | typeof CONSUMED
  | typeof ACCEPT
  | DropReason<R>;

/**
 * Any verdict ({@linkcode RxVerdict} or {@linkcode HookVerdict}): for code
 * that passes either along. A value stays a small number or an interned
 * string: nothing is allocated per packet.
 */
export type Verdict<R extends string = string> = RxVerdict<R> | HookVerdict<R>;

/** Per-dispatch context handed to receive handlers. */
export interface RxContext {
  /** The interface the packet arrived on. */
  readonly iface: NetInterface;
  /** The table whose binding called this handler. */
  readonly table: Table;
  /** The key that matched. */
  readonly key: number;
  /** Continue dispatch in `table` with `key` (after moving `pkt.start` past your header). */
  next(table: Table, key: number): typeof NEXT;
}

/** What a plugin sees of the stack: only what it declared, plus the basics. */
export interface PluginContext {
  /** The plugin's name. */
  readonly name: string;
  /** Its options, defaults merged with the stack manifest's values. */
  readonly options: Readonly<Record<string, number | string | boolean>>;
  /** The injected clock. */
  readonly clock: Clock;
  /** The injected random source. */
  readonly rng: Rng;
  /** The packet buffer pool. */
  readonly pool: PacketPool;
  /** A logger whose lines carry the plugin's name. */
  readonly log: Logger;
  /** The stack's interfaces. */
  readonly interfaces: InterfaceTable;
  /** The current instant. */
  now(): Instant;
  /** A table this plugin declared in `exposes` (or binds). */
  table(name: string): Table;
  /** Whether some plugin is bound to `key` in `table` (and not quarantined). */
  hasBinding(table: Table, key: number): boolean;
  /** Dispatches `pkt` into `table` with `key` outside a receive call (e.g. reassembled data). */
  deliver(table: Table, key: number, pkt: PacketBuffer, iface: NetInterface): void;
  /** A service listed in `requires`; throws if it is not (yet) available. */
  service<T>(name: string): T;
  /** A service listed in `requires`, or undefined when no plugin provides it. */
  optionalService<T>(name: string): T | undefined;
  /**
   * Asks for one call of the plugin's `flush()` handler at the end of the
   * current batch of received frames (or of the current `receive`/`poll` when
   * the driver does not batch, or of a `deliver` made outside both, such as
   * a packet to ourselves sent from an API call). Cheap and idempotent: call
   * it per packet.
   */
  requestFlush(): void;
  /** Every non-zero counter of the stack by full name (for status pages; not for the hot path). */
  counterSnapshot(): Record<string, number>;
  /** The counter `<plugin>.<name>`. */
  counter(name: string): Counter;
  /**
   * Runs `hook` before every read of the stack's counters
   * (`stack.counters.snapshot()` and `value()`, `counterTable()`, the CLI's
   * counter output) and before a reset: for a counter that grows with time
   * rather than with events (e.g. time spent in a state), which the hook
   * brings up to date from {@linkcode PluginContext.now}. Counting runs no
   * hook. One per plugin (a second call replaces the first); a hook that
   * throws counts as the plugin's fault, as a handler's would, and the read
   * goes on; a quarantined plugin's hook is not run.
   */
  onCounterRead(hook: () => void): void;
  /**
   * Handles to the counters `<plugin>.<name>`: for a list of names, `h[name]`
   * is `counter(name)`; for a record of key → name, `h[key]` is
   * `counter(record[key])`. Each is made on first use: a plugin with many
   * counters that are rarely counted holds one object per stack instead of
   * one each.
   */
  counterHandles<N extends string>(names: readonly N[]): { readonly [K in N]: Counter };
  /** Handles by key to the counters `<plugin>.<record[key]>` (see the list form above). */
  counterHandles<K extends string>(
    names: Readonly<Record<K, string>>,
  ): { readonly [P in K]: Counter };
  /** A new re-armable timer whose callback is fault-isolated. */
  timer(callback: (now: Instant) => void): Timer;
  /**
   * Runs the hook chain at `point`: ACCEPT, CONSUMED (stolen) or a drop
   * reason (already counted). `hctx` (from a {@linkcode HookContexts} the
   * caller owns, filled for this point) is what each hook receives; without
   * it the hooks get a context with only the point set.
   */
  runHooks(point: HookPoint, pkt: PacketBuffer, hctx?: HookContext): HookVerdict;
  /** Whether any plugin joined `point` (skip the call when not). */
  hasHooks(point: HookPoint): boolean;
  /** Whether a plugin joined `point` with `defrag: true` (reassemble before running it). */
  hooksWantDefrag(point: HookPoint): boolean;
  /** Sends `pkt` out of interface `ifindex`; takes ownership. */
  transmit(ifindex: number, pkt: PacketBuffer): void;
  /**
   * Sends network-layer packet `pkt` (its header at `pkt.start`, headroom
   * for a link header) of IP `family` to `nextHop` out of interface
   * `ifindex`, through the {@linkcode LinkOutput} of the interface's link
   * type (Ethernet resolves the next hop with the family's neighbour
   * service and frames; raw IP sends as is). Takes ownership. Without a
   * link output for the link type the packet is dropped and counted as
   * `dispatcher.tx.no_link_output`. Hot path: positional.
   */
  linkOutput(ifindex: number, family: IpFamily, nextHop: IpKey, pkt: PacketBuffer): void;
  /** Publishes an event to every plugin's `onEvent`. */
  publish(event: StackEvent): void;
  /**
   * Assigns an address (CIDR) to interface `ifindex` as the stack's
   * `addAddress` does, with IPv6 `options` (state, origin, lifetimes), and
   * publishes `address-added`. False when it was already there.
   *
   * @throws {TypeError} When the interface does not exist or `cidr` is not a host address.
   */
  addAddress(ifindex: number, cidr: string, options?: AddressOptions): boolean;
  /** Removes an address (CIDR or bare) and publishes `address-removed`; false when absent. */
  removeAddress(ifindex: number, cidr: string): boolean;
  /**
   * Sets the state of IPv6 address `address` (16 bytes) on `ifindex` and
   * publishes `address-changed`; false when absent or already in `state`.
   */
  setAddressState(ifindex: number, address: Uint8Array, state: Ipv6AddressState): boolean;
  /**
   * Whether a plugin other than the caller has an `onEvent` handler that
   * takes events of `type` (every type when omitted; see the manifest's
   * `events`) and is not quarantined: skip building an event nobody would
   * see. A short walk over the plugin list; meant for rare events (state
   * changes), not per packet.
   */
  hasEventListeners(type?: string): boolean;
}

/**
 * Notifications (Rollup's "parallel" hooks): every plugin's `onEvent` sees
 * them. The core publishes the interface, address and quarantine events;
 * protocols publish their state changes with the typed shapes below
 * ({@linkcode NeighborChangedEvent}, {@linkcode ConnectionStateEvent});
 * a plugin may publish its own `type`.
 */
export type StackEvent =
  | { readonly type: "interface-added"; readonly iface: NetInterface }
  | { readonly type: "interface-removed"; readonly iface: NetInterface }
  | { readonly type: "link-changed"; readonly iface: NetInterface }
  | {
    readonly type: "address-added" | "address-removed";
    readonly iface: NetInterface;
    readonly family: 4 | 6;
    readonly address: string;
    readonly prefixLength: number;
  }
  | {
    /** An IPv6 address changed state (DAD done or failed, deprecated). */
    readonly type: "address-changed";
    readonly iface: NetInterface;
    readonly family: 6;
    readonly address: string;
    readonly prefixLength: number;
    readonly state: Ipv6AddressState;
  }
  | { readonly type: "plugin-quarantined"; readonly plugin: string }
  | NeighborChangedEvent
  | ConnectionStateEvent
  | { readonly type: string; readonly [k: string]: unknown };

/**
 * A neighbour cache entry (address resolution: ARP, NDP) changed state,
 * appeared (`previous` is `"NONE"`) or went away (`state` is `"NONE"`).
 * Published on every change, so a state that lasts a microsecond is seen.
 */
export interface NeighborChangedEvent {
  /** The event type. */
  readonly type: "neighbor-changed";
  /** The publishing plugin ("arp", "ndp"). */
  readonly plugin: string;
  /** The interface the entry belongs to. */
  readonly ifindex: number;
  /** The neighbour's network address, as text ("10.0.0.1", "fe80::1"). */
  readonly address: string;
  /**
   * The state before: "INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE",
   * "FAILED", "PERMANENT" or "NONE" (RFC 4861 §7.3.2's, with Linux's).
   */
  readonly previous: string;
  /** The state now (same names; "NONE": the entry was removed). */
  readonly state: string;
  /** The link address ("02:00:00:00:00:01"), or null while unresolved. */
  readonly mac: string | null;
}

/**
 * A connection changed state (for TCP, the RFC 9293 names: "SYN-SENT",
 * "ESTABLISHED", …, "CLOSED" when it is gone). Published on every
 * transition, in order.
 */
export interface ConnectionStateEvent {
  /** The event type. */
  readonly type: "connection-state";
  /** The publishing plugin ("tcp"). */
  readonly plugin: string;
  /** Local endpoint, family-neutral ("10.0.0.2:7", "[::1]:7"). */
  readonly local: string;
  /** Remote endpoint, same format. */
  readonly remote: string;
  /** The state before the transition. */
  readonly from: string;
  /** The state after it. */
  readonly to: string;
}

/**
 * The transmit side of a link plugin: what it does with a network-layer
 * packet for a next hop on an interface of a link type it binds in the
 * `link` table. The dispatcher finds it by the interface's link type when
 * a network layer calls `ctx.linkOutput`.
 *
 * @example
 * ```ts
 * import type { LinkOutput, ProtocolPlugin } from "./manifest.ts";
 * // A link whose frames are the IP packets themselves (as raw IP, TUN).
 * export const plugin: ProtocolPlugin = {
 *   manifest: {
 *     name: "mylink", version: "1.0.0", api: "^1.0.0", description: "raw frames",
 *     layer: "link", binds: [{ table: "link", key: 147 }], counters: ["rx.unsupported"],
 *   },
 *   setup(ctx) {
 *     const linkOutput: LinkOutput = {
 *       output(iface, _family, _nextHop, pkt) {
 *         ctx.transmit(iface.index, pkt);
 *       },
 *     };
 *     return { receive: () => "unsupported", linkOutput };
 *   },
 * };
 * ```
 */
export interface LinkOutput {
  /**
   * Sends `pkt` (an IP packet of `family`, header at `pkt.start`) to
   * `nextHop` out of `iface`: resolve the link address if the link has
   * them, prepend the link header, `ctx.transmit`. Takes ownership; never
   * throws (a drop is released and counted). Hot path: positional.
   */
  output(iface: NetInterface, family: IpFamily, nextHop: IpKey, pkt: PacketBuffer): void;
}

/** What `setup` returns. */
export interface ProtocolHandlers {
  /** Receive from a bound table; borrows `pkt` until it returns; must not throw. */
  receive?(pkt: PacketBuffer, rx: RxContext): RxVerdict;
  /** Per-table receivers when the plugin binds several tables (overrides `receive`). */
  receivers?: Readonly<Record<string, (pkt: PacketBuffer, rx: RxContext) => RxVerdict>>;
  /**
   * A hook in a chain it joined: ACCEPT, CONSUMED (stolen) or a drop reason,
   * counted as `<plugin>.<point>.<reason>`; anything else counts as
   * `bad_verdict_<v>`. Ownership: on the receive path (`ingress`,
   * `prerouting`, `input`) the hook borrows `pkt` as a receive handler does,
   * so a hook that steals it and keeps it must copy; on the send path
   * (`forward`, which sees a copy, `output`, `postrouting`, `egress`) a
   * stolen packet belongs to the hook, and a dropped one is released by the
   * caller.
   *
   * `hctx` says where the packet is: input and output interface and route
   * where they exist (see `stack/hooks.ts`); it is reused, valid only during
   * the call. A hook that rewrites addresses keeps the IP header checksum
   * (and the transport's) right itself, with `rewriteIpv4Address` of
   * `stack/wire/nat.ts`; the network layer re-reads the destination after
   * `prerouting` and `output` and routes the packet anew when it changed.
   * Handlers written as `hook(point, pkt)` keep working.
   */
  hook?(point: HookPoint, pkt: PacketBuffer, hctx: HookContext): HookVerdict;
  /**
   * A link plugin's transmit side, used for every link type it binds in the
   * `link` table (a plugin with one binds some).
   */
  linkOutput?: LinkOutput;
  /** Services named in `provides`. */
  services?: Readonly<Record<string, unknown>>;
  /** Deferred work asked for with `ctx.requestFlush()` (coalesced ACKs, say). */
  flush?(): void;
  /** Called once every plugin is set up: resolve optional services here. */
  ready?(): void;
  /**
   * Notifications ({@linkcode StackEvent}): interface and address changes,
   * quarantines, and protocols' state changes (`neighbor-changed`,
   * `connection-state`), delivered synchronously as they happen. Must not
   * call back into the publisher (it is mid-change); a throw is caught.
   */
  onEvent?(event: StackEvent): void;
  /** Releases what the plugin holds when the stack closes. */
  teardown?(): void;
}

/** A protocol (or any other) plugin. */
export interface ProtocolPlugin {
  /** Metadata checked at boot. */
  readonly manifest: ProtocolManifest;
  /** Synchronous, no I/O: wires the plugin to the stack. */
  setup(ctx: PluginContext): ProtocolHandlers;
}

/** The service names a requirement list names, split by optionality. */
export function requirementsOf(m: ProtocolManifest): { service: string; optional: boolean }[] {
  return (m.requires ?? []).map((r) =>
    typeof r === "string" ? { service: r, optional: false } : {
      service: r.service,
      optional: r.optional === true,
    }
  );
}

const NAME = /^[a-z][a-z0-9_-]*$/;

/**
 * Plugin names the stack keeps for itself: `dispatcher` prefixes the
 * dispatcher's own counters (`dispatcher.plugin_fault`, …), so a plugin of
 * that name would share and falsify them.
 *
 * @example
 * ```ts
 * import { RESERVED_PLUGIN_NAMES, validateManifest } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * assert.ok(RESERVED_PLUGIN_NAMES.includes("dispatcher"));
 * assert.throws(() => validateManifest({ name: "dispatcher" }), /reserved/);
 * ```
 */
export const RESERVED_PLUGIN_NAMES: readonly string[] = ["dispatcher"];

/**
 * Counter names a manifest may not declare: the dispatcher keeps
 * `<plugin>.fault` and `<plugin>.undeclared` for every plugin.
 *
 * @example
 * ```ts
 * import { RESERVED_COUNTER_NAMES } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...RESERVED_COUNTER_NAMES], ["fault", "undeclared"]);
 * ```
 */
export const RESERVED_COUNTER_NAMES: readonly string[] = ["fault", "undeclared"];
const LAYERS = ["link", "network", "transport", "middlebox", "service"];

/**
 * Drop reasons are known at boot (issue 9): a declared counter that is
 * malformed, whose reason is longer than {@linkcode MAX_REASON_LENGTH}, or
 * that names a hook point the plugin does not join (`input.spoofed` without
 * joining `input`: the drop it stands for would be undeclared) fails the boot.
 */
function checkDropReasons(
  counters: readonly string[],
  hooks: readonly HookJoin[],
  fail: (msg: string) => never,
): void {
  for (const c of counters) {
    if (!COUNTER_NAME_PATTERN.test(c)) {
      fail(`counter "${c}" must be lowercase words of [a-z0-9_] joined by dots`);
    }
    const dot = c.indexOf(".");
    if (dot < 0) continue;
    if (c.length - dot - 1 > MAX_REASON_LENGTH) {
      fail(`counter "${c}" has a reason longer than ${MAX_REASON_LENGTH} characters`);
    }
    const dir = c.slice(0, dot);
    if ((HOOK_POINTS as readonly string[]).includes(dir) && !hooks.some((h) => h.point === dir)) {
      fail(`counter "${c}" is a drop reason at hook point ${dir}, which it does not join`);
    }
  }
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/**
 * Checks a manifest's shape and versions; throws {@linkcode PluginManifestError}.
 *
 * @example
 * ```ts
 * import { validateManifest } from "./manifest.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => validateManifest({ name: "Bad Name" }), /Invalid manifest/);
 * ```
 */
export function validateManifest(m: unknown, position = 0): ProtocolManifest {
  if (typeof m !== "object" || m === null) {
    throw new PluginManifestError(`#${position}`, "manifest is not an object");
  }
  const r = m as Record<string, unknown>;
  const name = typeof r.name === "string" ? r.name : `#${position}`;
  const fail = (msg: string): never => {
    throw new PluginManifestError(name, msg);
  };
  if (typeof r.name !== "string" || !NAME.test(r.name)) {
    fail("name must be lowercase letters, digits, '-' or '_', starting with a letter");
  }
  if (RESERVED_PLUGIN_NAMES.includes(r.name as string)) {
    fail(`name "${r.name}" is reserved for the stack's own counters`);
  }
  if (typeof r.version !== "string" || !isVersion(r.version)) fail("version must be semver");
  if (typeof r.api !== "string") fail("api must be a semver range");
  const ok = satisfies(STACK_API_VERSION, r.api as string);
  if (ok === null) fail(`api range "${r.api}" does not parse`);
  if (ok === false) {
    fail(`targets plugin API ${r.api}, but this stack implements ${STACK_API_VERSION}`);
  }
  if (typeof r.description !== "string") fail("description must be a string");
  if (!LAYERS.includes(r.layer as string)) fail(`layer must be one of ${LAYERS.join(", ")}`);
  if (!Array.isArray(r.binds)) fail("binds must be an array");
  for (const b of r.binds as unknown[]) {
    const bb = b as Binding;
    if (
      typeof bb !== "object" || bb === null || typeof bb.table !== "string" ||
      !Number.isInteger(bb.key) || bb.key < 0
    ) fail("each binding needs a table name and a non-negative integer key");
    if (bb.family !== undefined && bb.family !== 4 && bb.family !== 6) {
      fail("a binding's family must be 4 or 6");
    }
  }
  if (r.family !== undefined && r.family !== 4 && r.family !== 6) fail("family must be 4 or 6");
  for (const k of ["dependencies", "exposes", "provides"]) {
    if (r[k] !== undefined && !isStringArray(r[k])) fail(`${k} must be an array of strings`);
  }
  if (!isStringArray(r.counters)) fail("counters must be an array of strings");
  if (r.events !== undefined && !isStringArray(r.events)) {
    fail("events must be an array of strings");
  }
  for (const c of r.counters as string[]) {
    if (RESERVED_COUNTER_NAMES.includes(c)) fail(`counter "${c}" is reserved for the dispatcher`);
  }
  if (r.emits !== undefined) {
    if (typeof r.emits !== "object" || r.emits === null) fail("emits must be an object");
    for (const [t, keys] of Object.entries(r.emits as Record<string, unknown>)) {
      if (!Array.isArray(keys) || !keys.every((k) => Number.isInteger(k))) {
        fail(`emits.${t} must be an array of integer keys`);
      }
    }
  }
  if (r.requires !== undefined) {
    if (!Array.isArray(r.requires)) fail("requires must be an array");
    for (const q of r.requires as unknown[]) {
      if (typeof q === "string") continue;
      const qq = q as Requirement;
      if (typeof qq !== "object" || qq === null || typeof qq.service !== "string") {
        fail("each requirement is a service name or { service, optional }");
      }
    }
  }
  if (r.hooks !== undefined) {
    if (!Array.isArray(r.hooks)) fail("hooks must be an array");
    for (const h of r.hooks as HookJoin[]) {
      if (!HOOK_POINTS.includes(h?.point)) fail(`unknown hook point "${h?.point}"`);
      if (h.before !== undefined && !isStringArray(h.before)) fail("hook before must be names");
      if (h.after !== undefined && !isStringArray(h.after)) fail("hook after must be names");
      if (h.defrag !== undefined && typeof h.defrag !== "boolean") {
        fail("hook defrag must be a boolean");
      }
    }
  }
  checkDropReasons(r.counters as string[], (r.hooks ?? []) as HookJoin[], fail);
  if (r.options !== undefined) {
    if (typeof r.options !== "object" || r.options === null) fail("options must be an object");
    for (const [k, spec] of Object.entries(r.options as Record<string, OptionSpec>)) {
      const t = typeof spec?.default;
      if (t !== "number" && t !== "string" && t !== "boolean") {
        fail(`option "${k}" needs a number, string or boolean default`);
      }
    }
  }
  return m as ProtocolManifest;
}

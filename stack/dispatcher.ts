/**
 * The microkernel: tables, hook chains, services, interfaces, timers,
 * counters. It knows no protocol. A frame from a driver enters the `link`
 * table keyed by the interface's link type; each plugin either consumes it,
 * drops it with a reason, or names the next table and key (`rx.next`), so
 * dispatch is a loop of map lookups and plain calls, with one `try` per step
 * to isolate faulty plugins.
 *
 * Plugins run synchronously, in-process, with no sandbox (future work): the
 * isolation is that nothing a plugin throws escapes (the fault handler
 * describes any thrown value without throwing), drop reasons cannot create
 * counters without bound, and dispatch is bounded per frame
 * ({@linkcode MAX_DISPATCH_STEPS}) and per batch ({@linkcode MAX_FLUSH_ROUNDS}).
 * A plugin that loops or blocks inside a call is not preempted.
 *
 * What is not on the packet path lives beside it: loading a plugin at boot
 * (`_plugin_setup.ts`), counting faults and quarantine
 * (`_plugin_faults.ts`), interface changes (`_interfaces.ts`), the plugin
 * context (`_plugin_context.ts`), drop accounting (`_drops.ts`).
 *
 * @module
 */
import type { Clock, Instant } from "./clock.ts";
import { ManualClock } from "./clock.ts";
import { type Counter, Counters } from "./counters.ts";
import { PluginSetupError } from "./errors.ts";
import { describeThrown } from "./_fault.ts";
import { type Logger, LogHub } from "./log.ts";
import {
  ACCEPT,
  CONSUMED,
  HOOK_POINTS,
  type HookPoint,
  type HookVerdict,
  LINK_TABLE,
  NEXT,
  type RxVerdict,
  type StackEvent,
} from "./manifest.ts";
import { checkBindings, orderHooks, resolveOrder } from "./boot.ts";
import {
  type AddressOptions,
  InterfaceTable,
  type Ipv6AddressState,
  NetInterface,
} from "./netif.ts";
import type { PacketBuffer } from "./packet.ts";
import { PacketPool } from "./packet_pool.ts";
import { finishPartialChecksum, PacketFlags } from "./packet_flags.ts";
import { isUdpSuper, segmentUdpSuper } from "./wire/udp_gso.ts";
import { type HookContext, HookContexts } from "./hooks.ts";
import type { StackDescription } from "./describe.ts";
import { type Rng, SeededRng } from "./rng.ts";
import { type Timer, TimerQueue } from "./timers.ts";
import type { IpFamily, IpKey } from "./wire/ip_address.ts";
import type { DispatcherOptions, InterfaceOptions, TraceEvent } from "./dispatcher_options.ts";
import { MAX_DISPATCH_STEPS, MAX_FLUSH_ROUNDS } from "./limits.ts";
import { type PluginRecord, RxImpl, TableImpl, takesEvent } from "./_plugin_record.ts";
import type { ContextHost } from "./_plugin_context.ts";
import { DropLedger } from "./_drops.ts";
import { describeStack } from "./_describe_stack.ts";
import { type LinkOutputEntry, type PluginRegistry, setupPlugin } from "./_plugin_setup.ts";
import { PluginFaults } from "./_plugin_faults.ts";
import { type HookPresence, hookPresent } from "./_hook_presence.ts";
import {
  addAddress,
  addInterface,
  removeAddress,
  removeInterface,
  setAddressState,
  setLinkUp,
} from "./_interfaces.ts";

export type { StackDescription } from "./describe.ts";
export type { DispatcherOptions, InterfaceOptions, TraceEvent } from "./dispatcher_options.ts";
export {
  MAX_DISPATCH_STEPS,
  MAX_FLUSH_ROUNDS,
  MAX_REASON_LENGTH,
  MAX_UNDECLARED_REASONS,
} from "./limits.ts";

/**
 * The stack core. Use `createStack` from `mod.ts`, which adds the protocol
 * API on top.
 */
export class Dispatcher {
  /** A name for logs. */
  readonly name: string;
  /** The injected clock. */
  readonly clock: Clock;
  /** The injected random source. */
  readonly rng: Rng;
  /** Packet buffers. */
  readonly pool: PacketPool;
  /** Every counter of every plugin. */
  readonly counters: Counters = new Counters();
  /** The interfaces. */
  readonly interfaces: InterfaceTable = new InterfaceTable();
  /** Log sink and level. */
  readonly logs: LogHub;
  readonly #log: Logger;
  readonly #timers = new TimerQueue();
  readonly #tables = new Map<string, TableImpl>();
  readonly #linkTable: TableImpl;
  readonly #plugins: PluginRecord[] = [];
  readonly #byName = new Map<string, PluginRecord>();
  /** Link type -> the transmit side of the link plugin bound to it. */
  readonly #linkOutputs = new Map<number, LinkOutputEntry>();
  /** The link type #linkOutput served last and its entry (a stack mostly has one), or -1. */
  #lastLinkType = -1;
  #lastLinkOutput: LinkOutputEntry | undefined = undefined;
  readonly #hooks = new Map<HookPoint, PluginRecord[]>();
  readonly #hookOrder: Map<HookPoint, string[]>;
  /**
   * Whether a point has a chain, by name: final at boot, and read through
   * {@linkcode hookPresent} on the packet path (plugins ask at every point).
   * Every field exists from the start, so the object has one shape.
   */
  readonly #hookPresent: HookPresence = {
    ingress: false,
    prerouting: false,
    input: false,
    forward: false,
    output: false,
    postrouting: false,
    egress: false,
  };
  /** The `ingress` and `egress` chains (the same arrays as in #hooks). */
  readonly #ingress: PluginRecord[] = [];
  readonly #egress: PluginRecord[] = [];
  /** Points where some plugin joined with `defrag: true`. */
  readonly #hookDefrag = new Set<HookPoint>();
  /** Contexts for chains run without one (`ingress`, `egress`, bare `runHooks`). */
  readonly #hookContexts = new HookContexts(0);
  readonly #services = new Map<string, unknown>();
  readonly #drops: DropLedger;
  readonly #host: ContextHost;
  #batchDepth = 0;
  #flushQueue: PluginRecord[] = [];
  #exposed = new Set<string>();
  readonly #rxStack: RxImpl[] = [];
  #depth = 0;
  #tracer: ((ev: TraceEvent) => void) | null = null;
  #traceSeq = 0;
  #closed = false;
  readonly #noBinding: Counter;
  readonly #quarantinedDrop: Counter;
  readonly #faults: PluginFaults;
  readonly #loopLimit: Counter;
  readonly #noLinkOutput: Counter;
  readonly #udpSegments: Counter;
  readonly #udpUnsegmentable: Counter;
  readonly #noInterface: Counter;
  readonly #rxNoInterface: Counter;
  readonly #txQuarantined: Counter;

  /**
   * Boots a stack: validates every manifest, orders plugins, creates tables,
   * checks bindings and hook orders, then calls each plugin's `setup`.
   *
   * @throws {PluginManifestError | PluginDependencyError | BindingConflictError}
   */
  constructor(options: DispatcherOptions) {
    this.name = options.name ?? "stack";
    this.clock = options.clock ?? new ManualClock();
    this.rng = options.rng ?? new SeededRng(options.seed ?? 1);
    this.pool = options.pool ?? new PacketPool();
    this.logs = new LogHub(options.log ?? null, options.logLevel ?? "info", () => this.clock.now());
    this.#log = this.logs.logger("dispatcher");
    this.#drops = new DropLedger(this.counters, this.#log, options.strictCounters ?? false);
    this.#host = this.#contextHost();
    this.#noBinding = this.counters.get("dispatcher.rx.no_binding");
    this.#quarantinedDrop = this.counters.get("dispatcher.rx.quarantined");
    this.#faults = new PluginFaults(
      this.counters,
      this.#log,
      options.faultLimit ?? 100,
      (event) => this.publish(event),
    );
    this.#loopLimit = this.counters.get("dispatcher.rx.loop_limit");
    this.#noLinkOutput = this.counters.get("dispatcher.tx.no_link_output");
    this.#udpSegments = this.counters.get("dispatcher.tx.udp_segmented");
    this.#udpUnsegmentable = this.counters.get("dispatcher.tx.udp_unsegmentable");
    this.#noInterface = this.counters.get("dispatcher.tx.no_interface");
    this.#rxNoInterface = this.counters.get("dispatcher.rx.no_interface");
    this.#txQuarantined = this.counters.get("dispatcher.tx.quarantined");
    this.#linkTable = this.#table(LINK_TABLE);

    const entries = options.plugins.map((p) =>
      typeof p === "object" && p !== null && "manifest" in p ? { plugin: p } : p
    );
    const ordered = resolveOrder(entries);
    const manifests = ordered.map((e) => e.plugin.manifest);
    this.#exposed = checkBindings(manifests);
    for (const t of this.#exposed) this.#table(t);
    const hookOrder = new Map<HookPoint, string[]>();
    for (const point of HOOK_POINTS) {
      const order = orderHooks(point, manifests);
      hookOrder.set(point, order);
      this.#hookPresent[point] = order.length > 0;
      // Empty until every plugin is set up, so that a plugin calling
      // runHooks/transmit from setup() finds a chain (and hasHooks answers
      // from the boot-time order, which is already final).
      this.#hooks.set(
        point,
        point === "ingress" ? this.#ingress : point === "egress" ? this.#egress : [],
      );
    }
    this.#hookOrder = hookOrder;
    for (const m of manifests) {
      for (const h of m.hooks ?? []) if (h.defrag === true) this.#hookDefrag.add(h.point);
    }

    const registry: PluginRegistry = {
      counters: this.counters,
      host: this.#host,
      exposed: this.#exposed,
      table: (name) => this.#table(name),
      services: this.#services,
      linkOutputs: this.#linkOutputs,
    };
    for (const e of ordered) {
      const rec = setupPlugin(registry, e);
      this.#lastLinkType = -1; // a link output may have been registered
      this.#plugins.push(rec);
      this.#byName.set(rec.name, rec);
    }
    for (const point of HOOK_POINTS) {
      this.#hooks.get(point)!.push(...hookOrder.get(point)!.map((n) => this.#byName.get(n)!));
    }
    for (const rec of this.#plugins) {
      const ready = rec.handlers.ready;
      if (ready === undefined) continue;
      if (options.readyFaults !== "fail") this.#guard(rec, () => ready.call(rec.handlers));
      else {
        try {
          ready.call(rec.handlers);
        } catch (err) {
          throw new PluginSetupError(rec.name, "ready", err);
        }
      }
    }
  }

  #table(name: string): TableImpl {
    let t = this.#tables.get(name);
    if (t === undefined) this.#tables.set(name, t = new TableImpl(name));
    return t;
  }

  /** What plugin contexts reach of this dispatcher (see `_plugin_context.ts`). */
  #contextHost(): ContextHost {
    return {
      clock: this.clock,
      rng: this.rng,
      pool: this.pool,
      logs: this.logs,
      interfaces: this.interfaces,
      counters: this.counters,
      plugins: this.#plugins,
      table: (name) => this.#table(name),
      service: (name) => this.#services.get(name),
      queueFlush: (rec) => {
        this.#flushQueue.push(rec);
      },
      timer: (owner, callback) => this.#timers.create(owner, callback),
      deliver: (table, key, pkt, iface) => {
        this.#dispatch(table as TableImpl, key, pkt, iface);
        // Delivered outside any receive or batch (a packet to ourselves sent
        // from an API call): this delivery is the "receive" whose end flushes.
        if (this.#depth === 0 && this.#batchDepth === 0 && this.#flushQueue.length > 0) {
          this.#flush();
        }
      },
      runHooks: (point, pkt, hctx) => this.runHooks(point, pkt, hctx),
      hasHooks: (point) => hookPresent(this.#hookPresent, point),
      hooksWantDefrag: (point) => this.#hookDefrag.has(point),
      transmit: (ifindex, pkt) => this.transmit(ifindex, pkt),
      linkOutput: (ifindex, family, nextHop, pkt) =>
        this.#linkOutput(ifindex, family, nextHop, pkt),
      publish: (event) => this.publish(event),
      addAddress: (ifindex, cidr, options) => this.addAddress(ifindex, cidr, options),
      removeAddress: (ifindex, cidr) => this.removeAddress(ifindex, cidr),
      setAddressState: (ifindex, address, state) => this.setAddressState(ifindex, address, state),
      fault: (rec, err) => this.#faults.record(rec, err),
    };
  }

  // ---- receive path -------------------------------------------------------

  /**
   * Takes a frame from a driver: runs ingress hooks, dispatches it from the
   * link table, then releases it. Never throws.
   */
  receive(ifindex: number, pkt: PacketBuffer): void {
    const iface = this.interfaces.get(ifindex);
    if (iface === undefined || !iface.up || this.#closed) {
      if (iface) iface.stats.rxDropped++;
      else this.#rxNoInterface.value++; // a removed interface's port, or a made-up index
      pkt.release();
      return;
    }
    iface.stats.rxPackets++;
    iface.stats.rxBytes += pkt.length;
    pkt.ifindex = ifindex;
    pkt.timestamp = this.clock.now();
    pkt.linkType = iface.linkType;
    pkt.l2 = pkt.start;
    if (this.#tracer !== null) pkt.traceId = ++this.#traceSeq;
    const ingress = this.#ingress;
    let pass = ingress.length === 0;
    if (!pass) {
      const h = this.#hookContexts.enter("ingress");
      h.inIface = iface;
      pass = this.#runHookChain(ingress, "ingress", pkt, h) === ACCEPT;
      this.#hookContexts.leave();
    }
    if (pass) this.#dispatch(this.#linkTable, iface.linkType, pkt, iface);
    pkt.release();
    if (this.#batchDepth === 0 && this.#flushQueue.length > 0) this.#flush();
  }

  /**
   * Starts a batch of received frames (NAPI-style): work that plugins defer
   * with `ctx.requestFlush()` (an ACK for several segments, say) is done once
   * at {@linkcode endBatch} instead of after every frame. Drivers that read
   * in batches call these through their `DriverPort`; batches may nest.
   */
  beginBatch(): void {
    this.#batchDepth++;
  }

  /** Ends a batch started with {@linkcode beginBatch}, flushing deferred work. */
  endBatch(): void {
    if (this.#batchDepth > 0) this.#batchDepth--;
    if (this.#batchDepth === 0 && this.#flushQueue.length > 0) this.#flush();
  }

  #flush(): void {
    // A flush may send, and sending may queue more work: bounded rounds.
    for (let round = 0; round < MAX_FLUSH_ROUNDS && this.#flushQueue.length > 0; round++) {
      const queue = this.#flushQueue;
      this.#flushQueue = [];
      for (const rec of queue) {
        rec.flushRequested = false;
        const h = rec.handlers.flush;
        if (h !== undefined && !rec.quarantined) this.#guard(rec, () => h.call(rec.handlers));
      }
    }
  }

  /**
   * Copies `bytes` into a pooled buffer and receives it on interface
   * `ifindex`, as if a driver had delivered it.
   */
  inject(ifindex: number, bytes: Uint8Array): void {
    this.receive(ifindex, this.pool.copyOf(bytes));
  }

  #dispatch(table: TableImpl, key: number, pkt: PacketBuffer, iface: NetInterface): void {
    const depth = this.#depth++;
    const rx = this.#rxStack[depth] ?? (this.#rxStack[depth] = new RxImpl());
    rx.iface = iface;
    try {
      for (let step = 0; step < MAX_DISPATCH_STEPS; step++) {
        const entry = table.lookup(key);
        if (entry === undefined) {
          this.#noBinding.value++;
          if (this.#tracer !== null) {
            this.#trace("rx", pkt, "dispatcher", table.name, key, "drop no_binding");
          }
          return;
        }
        const rec = entry.rec;
        if (rec.quarantined) {
          this.#quarantinedDrop.value++;
          if (this.#tracer !== null) {
            this.#trace("rx", pkt, "dispatcher", table.name, key, "drop quarantined");
          }
          return;
        }
        rx.table = table;
        rx.key = key;
        // Cleared before every call: a NEXT without rx.next() must not follow
        // a table left over from an earlier step.
        rx.nextTable = null;
        let v: RxVerdict;
        try {
          v = entry.fn.call(entry.handlers, pkt, rx);
        } catch (err) {
          this.#faults.record(rec, err);
          if (this.#tracer !== null) this.#trace("rx", pkt, rec.name, table.name, key, "fault");
          return;
        }
        const nextTable = rx.nextTable as TableImpl | null; // set by rx.next() during the call
        if (v === NEXT && nextTable !== null) {
          if (this.#tracer !== null) {
            this.#trace(
              "rx",
              pkt,
              rec.name,
              table.name,
              key,
              `next ${nextTable.name} ${rx.nextKey}`,
            );
          }
          table = nextTable;
          key = rx.nextKey;
          continue;
        }
        if (v === CONSUMED) {
          if (this.#tracer !== null) this.#trace("rx", pkt, rec.name, table.name, key, "consumed");
          return;
        }
        const reason = this.#drops.count(rec, "rx", v);
        if (this.#tracer !== null) {
          this.#trace("rx", pkt, rec.name, table.name, key, `drop ${reason}`);
        }
        return;
      }
      this.#loopLimit.value++;
      if (this.#tracer !== null) {
        this.#trace("rx", pkt, "dispatcher", table.name, key, "drop loop_limit");
      }
    } finally {
      this.#depth--;
    }
  }

  // ---- hooks ---------------------------------------------------------------

  /** Runs the hook chain at `point`: ACCEPT, CONSUMED, or the (counted) drop reason. */
  runHooks(point: HookPoint, pkt: PacketBuffer, hctx?: HookContext): HookVerdict {
    const chain = this.#hooks.get(point)!;
    if (chain.length === 0) return ACCEPT;
    if (hctx !== undefined) return this.#runHookChain(chain, point, pkt, hctx);
    const h = this.#hookContexts.enter(point);
    const v = this.#runHookChain(chain, point, pkt, h);
    this.#hookContexts.leave();
    return v;
  }

  #runHookChain(
    chain: PluginRecord[],
    point: HookPoint,
    pkt: PacketBuffer,
    hctx: HookContext,
  ): HookVerdict {
    for (const rec of chain) {
      if (rec.quarantined) {
        // Fail closed: a quarantined filter no longer vouches for packets.
        this.#quarantinedDrop.value++;
        if (this.#tracer !== null) this.#trace("hook", pkt, rec.name, point, 0, "drop quarantined");
        return "quarantined";
      }
      let v: HookVerdict;
      try {
        v = rec.handlers.hook!(point, pkt, hctx);
      } catch (err) {
        this.#faults.record(rec, err);
        if (this.#tracer !== null) this.#trace("hook", pkt, rec.name, point, 0, "fault");
        return "fault";
      }
      if (v === ACCEPT) continue;
      if (v === CONSUMED) {
        if (this.#tracer !== null) this.#trace("hook", pkt, rec.name, point, 0, "stolen");
        return CONSUMED;
      }
      // Always a string to the caller, even for a malformed verdict.
      const reason = this.#drops.count(rec, point, v);
      if (this.#tracer !== null) this.#trace("hook", pkt, rec.name, point, 0, `drop ${reason}`);
      return reason;
    }
    return ACCEPT;
  }

  // ---- transmit path -------------------------------------------------------

  /** Sends `pkt` out of interface `ifindex` (egress hooks first); takes ownership. */
  transmit(ifindex: number, pkt: PacketBuffer): void {
    const iface = this.interfaces.get(ifindex);
    if (iface === undefined || !iface.up || this.#closed) {
      if (iface) iface.stats.txDropped++;
      pkt.release();
      return;
    }
    pkt.ifindex = ifindex;
    const egress = this.#egress;
    // A partial TCP checksum (not a super-segment's) leaves complete unless
    // the driver takes it so (LinkDriver.partialChecksum) and no hook reads it.
    if (
      (pkt.flags & PacketFlags.CHECKSUM_PARTIAL) !== 0 && pkt.gsoSize === 0 &&
      (egress.length > 0 || !iface.partialChecksum)
    ) finishPartialChecksum(pkt);
    if (egress.length > 0) {
      const h = this.#hookContexts.enter("egress");
      h.outIface = iface;
      const v = this.#runHookChain(egress, "egress", pkt, h);
      this.#hookContexts.leave();
      if (v !== ACCEPT) {
        if (v !== CONSUMED) pkt.release();
        return;
      }
    }
    iface.stats.txPackets++;
    iface.stats.txBytes += pkt.length;
    if (this.#tracer !== null) this.#trace("tx", pkt, "dispatcher", iface.name, ifindex, "sent");
    iface.driver.transmit(pkt);
  }

  /**
   * The network layer's way out (`ctx.linkOutput`): the link output of the
   * interface's link type sends `pkt` to `nextHop`. Takes ownership; a drop
   * is counted (`dispatcher.tx.no_link_output`, `no_interface`,
   * `quarantined`, `udp_unsegmentable`); a throw is the link plugin's
   * fault. A UDP super-datagram for a link without USO goes out as its
   * datagrams (`dispatcher.tx.udp_segmented` counts them).
   */
  #linkOutput(ifindex: number, family: IpFamily, nextHop: IpKey, pkt: PacketBuffer): void {
    const iface = this.interfaces.get(ifindex);
    if (iface === undefined) return this.#dropOutput(pkt, this.#noInterface, -1);
    const linkType = iface.linkType;
    let entry = linkType === this.#lastLinkType ? this.#lastLinkOutput : undefined;
    if (entry === undefined) {
      entry = this.#linkOutputs.get(linkType);
      if (entry === undefined) return this.#dropOutput(pkt, this.#noLinkOutput, linkType);
      this.#lastLinkType = linkType;
      this.#lastLinkOutput = entry;
    }
    if (entry.rec.quarantined) return this.#dropOutput(pkt, this.#txQuarantined, iface.linkType);
    // A UDP super-datagram (a socket's segmentSize) for a link without USO:
    // cut here, after the hooks, as Linux's GSO does before the device.
    if (pkt.gsoSize > 0 && iface.usoMaxSize < pkt.length && isUdpSuper(pkt)) {
      const out = (d: PacketBuffer) => this.#linkOutput(ifindex, family, nextHop, d);
      const n = segmentUdpSuper(pkt, this.pool, out);
      if (n === 0) return this.#dropOutput(pkt, this.#udpUnsegmentable, iface.linkType);
      this.#udpSegments.value += n;
      return;
    }
    try {
      entry.out.output(iface, family, nextHop, pkt);
    } catch (err) {
      // Whether the plugin still holds `pkt` is unknown: not released.
      this.#faults.record(entry.rec, err);
    }
  }

  /** Counts a packet the link output could not take (`c`), traces it, releases it. */
  #dropOutput(pkt: PacketBuffer, c: Counter, linkType: number): void {
    c.value++;
    if (this.#tracer !== null) {
      const why = c.name.slice("dispatcher.tx.".length);
      this.#trace("tx", pkt, "dispatcher", "link.output", linkType, `drop ${why}`);
    }
    pkt.release();
  }

  // ---- faults (`_plugin_faults.ts`), events, timers ----------------------

  #guard(rec: PluginRecord, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#faults.record(rec, err);
    }
  }

  /** Delivers `event` to every plugin's `onEvent`, in boot order. */
  publish(event: StackEvent): void {
    for (const rec of this.#plugins) {
      const h = rec.handlers.onEvent;
      if (h && !rec.quarantined && takesEvent(rec.manifest, event.type)) {
        this.#guard(rec, () => h.call(rec.handlers, event));
      }
    }
  }

  /** The next instant at which {@linkcode poll} has work, if any. */
  pollAt(_now?: Instant): Instant | undefined {
    return this.#closed ? undefined : this.#timers.nextDeadline();
  }

  /**
   * Calls `listener` whenever a timer becomes the earliest, i.e. when
   * {@linkcode pollAt} may have moved earlier (null: stop).
   */
  watchPollAt(listener: (() => void) | null): void {
    this.#timers.onEarliest = listener;
  }

  /** The plugin whose timer {@linkcode pollAt} reports, if any. */
  pollAtOwner(): string | undefined {
    return this.#closed ? undefined : this.#timers.nextOwner();
  }

  /** Runs every timer due at `now` (default the clock's now); nothing once closed. */
  poll(now: Instant = this.clock.now()): void {
    if (this.#closed) return; // plugins are torn down: their timers must not fire
    this.#timers.runDue(now, this.#fire);
    if (this.#batchDepth === 0 && this.#flushQueue.length > 0) this.#flush();
  }

  readonly #fire = (t: Timer, now: Instant): void => {
    const rec = this.#byName.get(t.owner);
    if (rec?.quarantined) return;
    try {
      t.callback(now);
    } catch (err) {
      if (rec) this.#faults.record(rec, err);
    }
  };

  /** Number of armed timers (for tests and `ss`-style reports). */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  // ---- interfaces ------------------------------------------------------------

  /** Adds an interface on `driver` and attaches the driver (`_interfaces.ts`). */
  addInterface(options: InterfaceOptions): NetInterface {
    return addInterface(this, options);
  }

  /**
   * Assigns an address in CIDR form (`"10.0.0.2/24"`, `"fd00::2/64"`) to an
   * interface; false when it was already there.
   */
  addAddress(ifname: string | number, cidr: string, options?: AddressOptions): boolean {
    return addAddress(this, ifname, cidr, options);
  }

  /** Removes an address given in CIDR form or bare; false when it was not there. */
  removeAddress(ifname: string | number, cidr: string): boolean {
    return removeAddress(this, ifname, cidr);
  }

  /** Takes an interface out: down, addresses, `interface-removed`, driver closed (`_interfaces.ts`). */
  removeInterface(ifname: string | number): void {
    removeInterface(this, ifname);
  }

  /** Sets an IPv6 address's state (DAD, deprecation); false when absent or unchanged. */
  setAddressState(ifname: string | number, address: Uint8Array, state: Ipv6AddressState): boolean {
    return setAddressState(this, ifname, address, state);
  }

  /** Brings an interface up or down. */
  setLinkUp(ifname: string | number, up: boolean): void {
    setLinkUp(this, ifname, up);
  }

  // ---- services, tracing, description ---------------------------------------

  /** A service by name (e.g. `"icmp.ping"`), or undefined. */
  service<T>(name: string): T | undefined {
    return this.#services.get(name) as T | undefined;
  }

  /** Names of the loaded plugins, in boot order. */
  get pluginNames(): string[] {
    return this.#plugins.map((p) => p.name);
  }

  /** Whether plugin `name` is quarantined. */
  isQuarantined(name: string): boolean {
    return this.#byName.get(name)?.quarantined ?? false;
  }

  /**
   * Follows packets through the plugins: every dispatch step, hook verdict and
   * transmit goes to `sink` until called with null. Off by default (free then).
   */
  trace(sink: ((ev: TraceEvent) => void) | null): void {
    this.#tracer = sink;
  }

  #trace(
    direction: TraceEvent["direction"],
    pkt: PacketBuffer,
    plugin: string,
    table: string,
    key: number,
    verdict: string,
  ): void {
    if (pkt.traceId === 0) pkt.traceId = ++this.#traceSeq;
    const sink = this.#tracer!;
    try {
      sink({
        packet: pkt.traceId,
        time: this.clock.now(),
        direction,
        ifindex: pkt.ifindex,
        plugin,
        table,
        key,
        verdict,
        length: pkt.length,
      });
    } catch (err) {
      // The packet path never throws, not even for a broken trace sink: turn
      // tracing off and say so once.
      if (this.#tracer === sink) this.#tracer = null;
      this.#log.error(`trace sink threw, tracing stopped: ${describeThrown(err)}`);
    }
  }

  /** The plugin graph: plugins, tables and bindings, hook chains, interfaces, counters. */
  describe(): StackDescription {
    return describeStack({
      name: this.name,
      plugins: this.#plugins,
      tables: this.#tables.values(),
      hooks: this.#hooks,
      hookDefrag: this.#hookDefrag,
      linkOutputs: this.#linkOutputs,
      interfaces: this.interfaces,
      counters: this.counters,
    });
  }

  /** Stops every plugin and closes every driver. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const rec of [...this.#plugins].reverse()) {
      if (rec.handlers.teardown) this.#guard(rec, () => rec.handlers.teardown!());
    }
    for (const iface of this.interfaces.list()) iface.driver.close();
  }
}

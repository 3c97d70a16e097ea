/**
 * {@linkcode Stack}: the dispatcher plus the protocol API users call (ping,
 * routes, neighbours; datagrams and streams once UDP and TCP are loaded). It
 * reaches protocols only through services, so a stack without a protocol
 * still boots and the matching methods throw `Deno.errors.NotSupported`.
 *
 * This file is the documented façade; the work is in private helpers, one
 * concern each: `_stack_sockets.ts` (UDP/TCP entry points), `_stack_probes.ts`
 * (ping, traceroute, raw IPv4), `_stack_routes.ts` (routes, forwarding),
 * `_stack_tables.ts` (neighbours, conntrack, multicast groups),
 * `_stack_need.ts` (the service lookup they share), and `http/_support.ts`.
 *
 * @module
 */
import type { Clock, Instant } from "./clock.ts";
import { type Counters, formatCounters } from "./counters.ts";
import { formatGraph, type StackDescription } from "./describe.ts";
import { Dispatcher } from "./dispatcher.ts";
import type { DispatcherOptions, InterfaceOptions, TraceEvent } from "./dispatcher_options.ts";
import type { LogHub } from "./log.ts";
import type { InterfaceTable, NetInterface } from "./netif.ts";
import type { PacketPool } from "./packet_pool.ts";
import type { Rng } from "./rng.ts";
import type {
  DatagramConn,
  ListenDatagramOptions,
  TcpConn,
  TcpConnectOptions,
  TcpListener,
  TcpListenOptions,
} from "./sockets/mod.ts";
import type { ConntrackRow, MulticastGroupRow, NeighborEntry } from "./services.ts";
import type { TcpSocketInfo } from "./stream.ts";
import { earliest, HttpSupport } from "./http/_support.ts";
import type { FetchInit, HttpServer, ServeHandler, ServeOptions } from "./http/types.ts";
import { sendRawIpv4, StackProbes } from "./_stack_probes.ts";
import {
  addRoute,
  deleteRoute,
  isForwarding,
  listRoutes,
  routeGet,
  setForwarding,
} from "./_stack_routes.ts";
import { StackSockets } from "./_stack_sockets.ts";
import { shownText, stackClosedError } from "./sockets/errors.ts";
import { listConntrack, listMulticastGroups, listNeighbors } from "./_stack_tables.ts";

export type {
  AddRouteOptions,
  PingOptions,
  PingReply,
  RouteGetResult,
  RouteInfo,
  TracerouteHop,
  TracerouteOptions,
} from "./_stack_types.ts";
import type {
  AddRouteOptions,
  PingOptions,
  PingReply,
  RouteGetResult,
  RouteInfo,
  TracerouteHop,
  TracerouteOptions,
} from "./_stack_types.ts";

let kernelAccess: (stack: Stack) => Dispatcher;

/**
 * The dispatcher behind `stack`: receive, transmit, hook chains, events and
 * tables, none of which a user of the stack calls. **Internal**: not exported
 * from `mod.ts`; for the core's own tests and benchmarks that drive a
 * stack below its API (injecting frames, running hook chains). Drivers do
 * not need it: they get a `DriverPort` from `addInterface`.
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import { kernelOf } from "./stack.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * assert.equal(typeof kernelOf(stack).receive, "function");
 * assert.equal("receive" in stack, false);
 * stack.close();
 * ```
 */
export function kernelOf(stack: Stack): Dispatcher {
  return kernelAccess(stack);
}

/**
 * A network stack: interfaces, plugins and the user-facing API.
 *
 * It is a façade over the dispatcher (the kernel): what a user of the stack
 * needs (interfaces, addresses, routes, sockets, ping, counters, the graph,
 * `poll`/`pollAt` for a runner, `service` for a plugin's own API) and none
 * of the kernel's operations (`receive`, `transmit`, `runHooks`, `publish`,
 * tables), which belong to drivers (through their `DriverPort`)
 * and plugins (through their `PluginContext`).
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const a = createStack({ clock: net.clock, seed: 1 });
 * const b = createStack({ clock: net.clock, seed: 2 });
 * net.addNode(a);
 * net.addNode(b);
 * a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
 * b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
 * const reply = await net.run(() => a.ping("10.0.0.2"));
 * assert.equal(reply.from, "10.0.0.2");
 * ```
 */
export class Stack {
  /** The kernel: tables, hook chains, services; reached only through this façade. */
  readonly #kernel: Dispatcher;

  static {
    kernelAccess = (stack) => stack.#kernel;
  }

  /**
   * Boots a stack from `options` (see {@linkcode DispatcherOptions}):
   * validates every plugin manifest, then sets each plugin up.
   *
   * @throws {PluginManifestError | PluginDependencyError | BindingConflictError} On a bad plugin set.
   */
  constructor(options: DispatcherOptions) {
    this.#kernel = new Dispatcher(options);
  }

  #hosts: Map<string, string> | null = null;
  /** HTTP state, made by the first `fetch` or `serve` (an idle host of a large simulation has none). */
  #httpState: HttpSupport | null = null;
  #pollWatcher: (() => void) | null = null;
  /** Socket entry points and probes, made on first use (as the HTTP state). */
  #socketsState: StackSockets | null = null;
  #probesState: StackProbes | null = null;
  /** Set by {@linkcode Stack.close}: new sockets, probes and servers are refused from then on. */
  #closed = false;

  /** `Deno.errors.BadResource` for `what` once the stack is closed, else undefined. */
  #closedError(what: string): Error | undefined {
    return this.#closed ? stackClosedError(`Cannot ${what}`, false) : undefined;
  }

  /** Names to addresses for {@linkcode Stack.fetch}, like `/etc/hosts`: `hosts.set("api", "10.0.0.2")`. */
  get hosts(): Map<string, string> {
    return this.#hosts ??= new Map();
  }

  get #http(): HttpSupport {
    if (this.#httpState === null) {
      this.#httpState = new HttpSupport(this);
      this.#httpState.watch(this.#pollWatcher);
    }
    return this.#httpState;
  }

  get #sockets(): StackSockets {
    return this.#socketsState ??= new StackSockets(this.#kernel);
  }

  get #probes(): StackProbes {
    return this.#probesState ??= new StackProbes(this.#kernel);
  }

  // ---- what the stack is -----------------------------------------------------

  /** A name for logs and the graph. */
  get name(): string {
    return this.#kernel.name;
  }

  /** The injected clock. */
  get clock(): Clock {
    return this.#kernel.clock;
  }

  /**
   * The injected random source (drawing from it changes what the stack
   * draws next: the same seed then gives other bytes).
   */
  get rng(): Rng {
    return this.#kernel.rng;
  }

  /**
   * Packet buffers: `outstanding` for leak checks, `alloc`/`copyOf` for a
   * packet handed to a plugin's service.
   */
  get pool(): PacketPool {
    return this.#kernel.pool;
  }

  /** Every counter of every plugin, by full name (`ipv4.rx.bad_checksum`). */
  get counters(): Counters {
    return this.#kernel.counters;
  }

  /** The interfaces. */
  get interfaces(): InterfaceTable {
    return this.#kernel.interfaces;
  }

  /** Log sink and level. */
  get logs(): LogHub {
    return this.#kernel.logs;
  }

  /** Names of the loaded plugins, in boot order. */
  get pluginNames(): string[] {
    return this.#kernel.pluginNames;
  }

  /** Whether plugin `name` is quarantined (it faulted `faultLimit` times). */
  isQuarantined(name: string): boolean {
    return this.#kernel.isQuarantined(name);
  }

  /**
   * A service a plugin provides, by name (`"icmp.echo"`, or your plugin's
   * own), or undefined when no loaded plugin provides it: how a plugin's
   * author offers an API beyond this class's methods.
   *
   * @example
   * ```ts
   * import { createStack, type IcmpEchoService } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * assert.ok(stack.service<IcmpEchoService>("icmp.echo") !== undefined);
   * assert.equal(stack.service("no.such"), undefined);
   * stack.close();
   * ```
   */
  service<T>(name: string): T | undefined {
    return this.#kernel.service<T>(name);
  }

  /** The plugin graph: plugins, tables and bindings, hook chains, interfaces, counters. */
  describe(): StackDescription {
    return this.#kernel.describe();
  }

  /**
   * Follows packets through the plugins: every dispatch step, hook verdict and
   * transmit goes to `sink` until called with null. Off by default (free then).
   */
  trace(sink: ((ev: TraceEvent) => void) | null): void {
    this.#kernel.trace(sink);
  }

  // ---- interfaces ------------------------------------------------------------

  /**
   * Adds an interface on `driver` and attaches the driver (the driver gets
   * its `DriverPort`: the only way frames enter the stack). Indexes count
   * up from 0 and are never reused (`InterfaceTable`).
   *
   * @throws {TypeError} When the name is taken or an address does not parse.
   * @throws {RangeError} An address, MTU or MAC out of range; or every index
   * up to `MAX_INTERFACE_INDEX` (2^31 - 1) was used.
   * @throws {Deno.errors.BadResource} When the stack is closed (the driver is
   * not attached: close() has closed every driver and would not close it).
   */
  addInterface(options: InterfaceOptions): NetInterface {
    const closed = this.#closedError("add an interface");
    if (closed !== undefined) throw closed;
    return this.#kernel.addInterface(options);
  }

  /** Assigns an address in CIDR form (`"10.0.0.2/24"`, `"fd00::2/64"`) to an interface. */
  addAddress(ifname: string | number, cidr: string): void {
    this.#kernel.addAddress(ifname, cidr);
  }

  /** Removes an address given in CIDR form or bare. */
  removeAddress(ifname: string | number, cidr: string): void {
    this.#kernel.removeAddress(ifname, cidr);
  }

  /**
   * Takes an interface out of the running stack, as `ip link del` (a USB
   * NIC unplugged, a TAP device closed): the link goes down, its addresses
   * are removed (each an `address-removed` event, as
   * {@linkcode Stack.removeAddress}), then `interface-removed` has every
   * plugin forget it (routes via it, neighbours and their queued packets,
   * path MTUs, multicast groups with no leave sent, SLAAC, NAT mappings
   * through it), then its driver is closed. Sockets stay as on Linux: a
   * TCP connection keeps its state and fails on its own timers or finds
   * another route; a listener stays open. The index is not reused: what
   * still names it never reaches an interface added later.
   *
   * @throws {TypeError} When there is no such interface (also when removed
   * already), as {@linkcode Stack.addAddress} for an unknown interface.
   * @throws {Deno.errors.BadResource} When the stack is closed.
   *
   * @example
   * ```ts
   * import { createStack, VirtualNetwork } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const net = new VirtualNetwork({ seed: 1 });
   * const stack = createStack({ clock: net.clock, seed: 1 });
   * const link = net.link();
   * stack.addInterface({ name: "usb0", driver: link.a, addresses: ["10.0.0.1/24"] });
   * stack.removeInterface("usb0");
   * assert.equal(stack.interfaces.byName("usb0"), undefined);
   * assert.equal(stack.routes().some((r) => r.interface === "usb0"), false);
   * assert.throws(() => stack.removeInterface("usb0"), TypeError);
   * stack.close();
   * ```
   */
  removeInterface(ifname: string | number): void {
    const closed = this.#closedError("remove an interface");
    if (closed !== undefined) throw closed;
    this.#kernel.removeInterface(ifname);
  }

  /** Brings an interface up or down. */
  setLinkUp(ifname: string | number, up: boolean): void {
    this.#kernel.setLinkUp(ifname, up);
  }

  // ---- time ------------------------------------------------------------------

  /** The next instant at which {@linkcode poll} has work, if any. */
  pollAt(now?: Instant): Instant | undefined {
    const http = this.#httpState;
    return http === null
      ? this.#kernel.pollAt(now)
      : earliest(this.#kernel.pollAt(now), http.pollAt());
  }

  /** Runs every timer due at `now` (default the clock's now); nothing once closed. */
  poll(now?: Instant): void {
    this.#kernel.poll(now);
    this.#httpState?.poll(now ?? this.clock.now());
  }

  /**
   * Calls `listener` whenever {@linkcode pollAt} may have moved earlier (a
   * timer became the earliest); null stops. A runner such as the virtual
   * network caches deadlines with it instead of asking every stack each step.
   *
   * @example
   * ```ts
   * import { createStack, VirtualNetwork } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const net = new VirtualNetwork();
   * const stack = createStack({ clock: net.clock, seed: 1 });
   * const seen: (number | undefined)[] = [];
   * stack.watchPollAt(() => seen.push(stack.pollAt()));
   * // An interface with IPv6 starts timers (duplicate address detection, solicitations).
   * stack.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24"] });
   * assert.ok(seen.length > 0);
   * stack.watchPollAt(null);
   * ```
   */
  watchPollAt(listener: (() => void) | null): void {
    this.#pollWatcher = listener;
    this.#kernel.watchPollAt(listener);
    this.#httpState?.watch(listener); // HTTP's timers move pollAt too
  }

  /** The plugin whose timer {@linkcode pollAt} reports (for livelock reports), if any. */
  pollAtOwner(): string | undefined {
    return this.#kernel.pollAtOwner();
  }

  /** Number of armed timers (for tests and `ss`-style reports). */
  get pendingTimers(): number {
    return this.#kernel.pendingTimers;
  }

  /**
   * Stops every plugin and closes every driver. Open sockets' pending and
   * later calls fail, as do pings and traceroutes under way
   * (`Deno.errors.Interrupted`); `listen`, `connect`, `listenDatagram`, `ping`,
   * `traceroute`, `serve`, `fetch` and `addInterface` fail with `Deno.errors.BadResource`
   * (`fetch`: a `TypeError` with it as `cause`). Closing again does nothing.
   */
  close(): void {
    this.#closed = true;
    this.#httpState?.close();
    this.#kernel.close();
    this.#probesState?.close(); // its timers stopped: waiting pings and traceroutes never end else
  }

  /**
   * Sends one ICMP echo request and resolves with the reply. Times in
   * milliseconds of this stack's clock, as `ping` shows them: `timeout`
   * (default 1000) and the reply's `rtt`.
   *
   * A reply matches by identifier and sequence whoever sends it, as
   * Linux's ping, and `from` says who answered: an anycast address
   * (a router's `fd00::`) answers from a unicast one (RFC 4443 §4.2), and a
   * group (`ff02::1%eth0`, `224.0.0.1`; a broadcast address with
   * `broadcast: true`, as `ping -b`) resolves with its first member's reply;
   * the others find nothing waiting (counted in `rx.unmatched_reply`: ping's
   * DUP!). An error must quote the request as sent to `host`.
   *
   * @throws {TypeError | RangeError} Bad options (`timeout` NaN, negative or infinite, as everywhere).
   * @throws {Deno.errors.TimedOut} when no reply comes within `timeout` ms.
   * @throws {Deno.errors.NetworkUnreachable} when there is no route or an error came back.
   * @throws {Deno.errors.AddrNotAvailable} when a route exists but no source address is usable
   *   (an IPv6 address still tentative: Duplicate Address Detection runs).
   * @throws {Deno.errors.PermissionDenied} to a broadcast address without `broadcast: true`.
   * @throws {Deno.errors.BadResource} when the stack is closed.
   *
   * @example
   * ```ts
   * import { createStack, MILLISECOND, VirtualNetwork } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const net = new VirtualNetwork({ seed: 1 });
   * const link = net.link({ faults: { delay: 2.5 * MILLISECOND } }); // the network's clock: µs
   * const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
   * const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
   * a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
   * b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
   * await net.run(() => a.ping("10.0.0.2")); // resolves ARP first
   * const reply = await net.run(() => a.ping("10.0.0.2", { timeout: 500 })); // 500 ms
   * assert.equal(reply.rtt, 5); // ms, as ping(8) prints it
   * await assert.rejects(a.ping("10.0.0.2", { timeout: -1 }), RangeError);
   * // To a group: the first member's reply, from its own address.
   * net.runFor(3_000_000); // µs: IPv6's duplicate address detection first
   * assert.match((await net.run(() => a.ping("ff02::1%eth0"))).from, /^fe80::/);
   * await assert.rejects(a.ping("10.0.0.255"), Deno.errors.PermissionDenied);
   * net.close();
   * ```
   */
  ping(host: string, options: PingOptions = {}): Promise<PingReply> {
    const closed = this.#closedError(`ping ${shownText(host)}`); // as a ping under way says
    if (closed !== undefined) return Promise.reject(closed);
    return this.#probes.ping(host, options);
  }

  /**
   * Opens a UDP socket, like `Deno.listenDatagram`: bound to `hostname`
   * (default 0.0.0.0) and `port` (default 0: ephemeral). See
   * {@linkcode DatagramConn} for `receive`, `send`, `connect`, async
   * iteration and the errors.
   *
   * @throws {Deno.errors.NotSupported} When no loaded plugin provides `udp.sockets`.
   * @throws {Deno.errors.BadResource} When the stack is closed.
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   * @throws {Deno.errors.AddrNotAvailable} When `hostname` is not an address of this stack.
   *
   * @example
   * ```ts
   * import { createStack } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp", port: 5353 });
   * assert.throws(() => stack.listenDatagram({ transport: "udp", port: 5353 }), Deno.errors.AddrInUse);
   * conn.close();
   * stack.close();
   * ```
   */
  listenDatagram(options: ListenDatagramOptions): DatagramConn {
    const closed = this.#closedError("listen");
    if (closed !== undefined) throw closed;
    return this.#sockets.listenDatagram(options);
  }

  /**
   * Opens a TCP connection, like `Deno.connect`: resolves once the
   * handshake completes.
   *
   * @throws {Deno.errors.ConnectionRefused} The peer answered RST (or ICMP port unreachable).
   * @throws {Deno.errors.TimedOut} No answer after the SYN retries (or `timeout`).
   * @throws {Deno.errors.NetworkUnreachable} No route to the host.
   * @throws {Deno.errors.AddrNotAvailable} A route but no usable source address (an IPv6
   *   address still tentative).
   * @throws {Deno.errors.AddrInUse} `localPort` is taken.
   * @throws {Deno.errors.NotSupported} No loaded plugin provides `tcp.sockets`.
   * @throws {Deno.errors.BadResource} The stack is closed.
   *
   * @example
   * ```ts
   * import { createStack, VirtualNetwork } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const net = new VirtualNetwork({ seed: 1 });
   * const link = net.link();
   * const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
   * const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
   * a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
   * b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
   * const listener = b.listen({ port: 80 });
   * const reply = await net.run(async () => {
   *   const [client, server] = await Promise.all([
   *     a.connect({ hostname: "10.0.0.2", port: 80 }),
   *     listener.accept(),
   *   ]);
   *   await client.write(new TextEncoder().encode("hi"));
   *   const buf = new Uint8Array(2);
   *   await server.read(buf);
   *   client.close();
   *   server.close();
   *   return new TextDecoder().decode(buf);
   * });
   * assert.equal(reply, "hi");
   * listener.close();
   * a.close();
   * b.close();
   * net.close();
   * ```
   */
  connect(options: TcpConnectOptions): Promise<TcpConn> {
    const closed = this.#closedError("connect");
    if (closed !== undefined) return Promise.reject(closed);
    return this.#sockets.connect(options);
  }

  /**
   * Listens for TCP connections, like `Deno.listen`.
   *
   * @throws {Deno.errors.AddrInUse} The address and port are taken.
   * @throws {Deno.errors.NotSupported} No loaded plugin provides `tcp.sockets`.
   * @throws {Deno.errors.BadResource} The stack is closed.
   *
   * @example
   * ```ts
   * import { createStack } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const listener = stack.listen({ port: 8080 });
   * assert.equal(listener.addr.port, 8080);
   * assert.throws(() => stack.listen({ port: 8080 }), Deno.errors.AddrInUse);
   * listener.close();
   * stack.close();
   * ```
   */
  listen(options: TcpListenOptions): TcpListener {
    const closed = this.#closedError("listen");
    if (closed !== undefined) throw closed;
    return this.#sockets.listen(options);
  }

  /**
   * The Web `fetch` over this stack's TCP, HTTP/1.1 (`stack/http/`, with a
   * worked example there): keep-alive per origin, redirects, `AbortSignal`,
   * `timeout` (ms, this stack's clock), names from {@linkcode Stack.hosts}.
   * Errors are `TypeError`s whose `cause` is the `Deno.errors` one. No TLS.
   *
   * @example
   * ```ts
   * import { createStack } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const err = await stack.fetch("http://api/").catch((e) => e); // not in stack.hosts
   * assert.ok(err instanceof TypeError && err.cause instanceof Deno.errors.NotFound);
   * stack.close();
   * ```
   */
  fetch(input: RequestInfo | URL, init?: FetchInit): Promise<Response> {
    const closed = this.#closedError("fetch");
    if (closed !== undefined) {
      return Promise.reject(new TypeError(closed.message, { cause: closed }));
    }
    return this.#http.fetch(input, init);
  }

  /**
   * Serves HTTP/1.1 on this stack's TCP like `Deno.serve` (`stack/http/`):
   * keep-alive, pipelining, streamed bodies, `Expect: 100-continue`, limits
   * (413/414/431), graceful `shutdown()`; timeouts on this stack's clock.
   *
   * @throws {TypeError | RangeError} Bad options.
   * @throws {Deno.errors.AddrInUse} The port is taken.
   * @example
   * ```ts
   * import { createStack } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const server = stack.serve({ port: 8080 }, () => new Response("hi"));
   * assert.equal(server.addr.port, 8080);
   * await server.shutdown();
   * stack.close();
   * ```
   */
  serve(options: ServeOptions, handler: ServeHandler): HttpServer {
    const closed = this.#closedError("serve");
    if (closed !== undefined) throw closed;
    return this.#http.serve(options, handler);
  }

  /**
   * TCP sockets like `ss -tani`, listeners first (`formatSockets` prints them).
   *
   * @example
   * ```ts
   * import { createStack } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const listener = stack.listen({ port: 22 });
   * assert.equal(stack.sockets()[0]!.state, "LISTEN");
   * listener.close();
   * stack.close();
   * ```
   */
  sockets(): TcpSocketInfo[] {
    return this.#sockets.sockets();
  }

  /**
   * Adds a route: `addRoute("0.0.0.0/0", { gateway: "10.0.0.1" })`, or for
   * IPv6 `addRoute("::/0", { gateway: "fe80::1%eth0" })` (`default` is
   * IPv4's unless the gateway is IPv6).
   */
  addRoute(destination: string, options: AddRouteOptions = {}): void {
    addRoute(this.#kernel, destination, options);
  }

  /** Removes routes to `destination` (CIDR), only via `gateway` if given; returns how many. */
  deleteRoute(destination: string, gateway?: string): number {
    return deleteRoute(this.#kernel, destination, gateway);
  }

  /** The routing tables, like `ip route` then `ip -6 route`. */
  routes(): RouteInfo[] {
    return listRoutes(this.#kernel);
  }

  /**
   * Which route `dst` takes, like `ip route get`, with the path MTU (and when
   * a learned one expires); undefined when unreachable. Without `source`
   * while no address can be one (IPv6 ones still tentative), as Linux's
   * `from ::`.
   */
  routeGet(dst: string): RouteGetResult | undefined {
    return routeGet(this.#kernel, dst);
  }

  /**
   * Turns forwarding between interfaces on or off (RFC 1812, RFC 8200; off
   * by default, or as the IPv4 and IPv6 plugins' `forwarding` options say),
   * for both families, or only `family`.
   *
   * @example
   * ```ts
   * import { createStack } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const router = createStack({ seed: 1 });
   * assert.equal(router.forwarding, false);
   * router.setForwarding(true);
   * assert.equal(router.forwarding, true);
   * ```
   */
  setForwarding(on: boolean, family?: 4 | 6): void {
    setForwarding(this.#kernel, on, family);
  }

  /** Whether this stack forwards datagrams between interfaces (IPv4's switch, else IPv6's). */
  get forwarding(): boolean {
    return isForwarding(this.#kernel);
  }

  /**
   * Traces the path to `host` like traceroute(8): one probe per TTL from
   * `firstHop` up, each answered by the router where the TTL ran out (ICMP
   * time exceeded), until the destination answers (port or protocol
   * unreachable to a UDP probe, echo reply to an ICMP one) or another
   * unreachable ends it, or `maxHops` is reached. A hop nobody answered has
   * no `from`. Times in milliseconds: `timeout` per probe (default 1000),
   * each hop's `rtt`.
   *
   * @throws {TypeError | RangeError} Bad options.
   * @throws {Deno.errors.NetworkUnreachable} When a probe cannot be sent (no route).
   * @throws {Deno.errors.AddrNotAvailable} A route but no usable source address (an IPv6
   *   address still tentative).
   *
   * @example
   * ```ts
   * import { createStack, VirtualNetwork } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const net = new VirtualNetwork({ seed: 1 });
   * const link = net.link();
   * const a = createStack({ clock: net.clock, seed: 1 });
   * const b = createStack({ clock: net.clock, seed: 2 });
   * net.addNode(a);
   * net.addNode(b);
   * a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
   * b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
   * const hops = await net.run(() => a.traceroute("10.0.0.2", { protocol: "icmp" }));
   * assert.deepEqual(hops.map((h) => [h.ttl, h.from, h.reached]), [[1, "10.0.0.2", true]]);
   * ```
   */
  async traceroute(host: string, options: TracerouteOptions = {}): Promise<TracerouteHop[]> {
    const closed = this.#closedError(`traceroute ${shownText(host)}`);
    if (closed !== undefined) throw closed;
    return await this.#probes.traceroute(host, options);
  }

  /**
   * Sends `packet`, a whole IPv4 datagram (header, options, payload), as a
   * raw socket with IP_HDRINCL does (raw(7)): the stack always fills in the
   * total length and header checksum, the source address and identification
   * when they are zero, routes by the header's destination, and never
   * fragments. The bytes are copied.
   *
   * @throws {TypeError} If `packet` is not a Uint8Array.
   * @throws {RangeError} If the header is malformed (under 20 bytes, not
   * version 4, IHL below 5 or past the end).
   * @throws {Deno.errors.NetworkUnreachable} If it was not sent (no route,
   * larger than the path MTU, ...).
   *
   * @example
   * ```ts
   * import { createStack } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * assert.throws(() => stack.sendRawIpv4(new Uint8Array(10)), RangeError);
   * stack.close();
   * ```
   */
  sendRawIpv4(packet: Uint8Array): void {
    sendRawIpv4(this.#kernel, packet);
  }

  /** The neighbour caches (ARP, then NDP when loaded), like `ip neigh`. */
  neighbors(): NeighborEntry[] {
    return listNeighbors(this.#kernel);
  }

  /**
   * Tracked connections, like `conntrack -L` (the `conntrack` plugin's
   * table; `formatConntrack` prints them).
   *
   * @throws {Deno.errors.NotSupported} When the conntrack plugin is not loaded.
   * @example
   * ```ts
   * import { conntrackPlugin, createStack, DEFAULT_PLUGINS } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1, plugins: [...DEFAULT_PLUGINS, conntrackPlugin] });
   * assert.deepEqual(stack.conntrack(), []);
   * stack.close();
   * ```
   */
  conntrack(): ConntrackRow[] {
    return listConntrack(this.#kernel);
  }

  /**
   * The multicast groups every interface listens to, like `ip maddr`:
   * IPv4 rows (`igmp.groups`) then IPv6 rows (`mld.groups`), each family's
   * by interface then join order, with the merged source filter (RFC 3376
   * §3.2) and how many holders keep it. A family whose plugin is not
   * loaded has no rows.
   *
   * @returns One row per group and interface.
   * @example
   * ```ts
   * import { createStack, VirtualNetwork } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const net = new VirtualNetwork({ seed: 1 });
   * const stack = net.addNode(createStack({ clock: net.clock, seed: 1 }));
   * stack.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24", "fd00::1/64"] });
   * const rows = stack.multicastGroups().map((g) => `${g.ifname} ${g.group} ${g.mode}`);
   * assert.ok(rows.includes("eth0 224.0.0.1 exclude"));
   * assert.ok(rows.includes("eth0 ff02::1 exclude"));
   * stack.close();
   * net.close();
   * ```
   */
  multicastGroups(): MulticastGroupRow[] {
    return listMulticastGroups(this.#kernel);
  }

  /** Counters as a `netstat -s`-style text table (non-zero ones). */
  counterTable(): string {
    return formatCounters(this.counters.snapshot());
  }

  /** The data path as text, Click-style (what `deno task graph` prints). */
  graph(): string {
    return formatGraph(this.describe());
  }
}

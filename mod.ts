/**
 * deno-netstack: a TCP/IP stack in TypeScript for Deno, in user space.
 *
 * A stack is a small dispatcher plus protocol plugins (Ethernet, ARP, IPv4,
 * ICMP, …) on link drivers (an in-memory virtual network, TUN/TAP, pcap
 * files). The same seed on the virtual network gives the same bytes every
 * time: `docs/TESTING.md` shows how to test networked code so, with faults
 * and captures (`CaptureTap`, `PcapngWriter`, `parseCapture`: exported here).
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 7 });
 * const sw = net.switch();
 * const alice = createStack({ clock: net.clock, seed: 1 });
 * const bob = createStack({ clock: net.clock, seed: 2 });
 * net.addNode(alice);
 * net.addNode(bob);
 * alice.addInterface({ driver: sw.port(), addresses: ["192.168.1.1/24"] });
 * bob.addInterface({ driver: sw.port(), addresses: ["192.168.1.2/24"] });
 *
 * const reply = await net.run(() => alice.ping("192.168.1.2"));
 * assert.equal(reply.from, "192.168.1.2");
 * ```
 *
 * Past one process, a VXLAN device ({@linkcode openVxlan}, RFC 7348 over
 * the host's UDP sockets, no root) links stacks — or, through
 * {@linkcode bridgeToDevice}, whole virtual networks — in different
 * processes or machines; {@linkcode openPacket} puts a stack on an existing
 * Linux Ethernet interface through an AF_PACKET socket.
 *
 * @example
 * ```ts
 * import { createStack, openVxlan, SystemClock } from "./mod.ts";
 * import { RealTimeRunner } from "./drivers/tun/mod.ts";
 * import assert from "node:assert/strict";
 *
 * // Two stacks, each on a VXLAN device (VNI 5) on 127.0.0.1, in real time.
 * const clock = new SystemClock();
 * const a = await openVxlan({ vni: 5, local: "127.0.0.1:0" });
 * const b = await openVxlan({ vni: 5, local: "127.0.0.1:0", remotes: [a.local] });
 * a.addRemote(b.local);
 * const alice = createStack({ clock, seed: 1 });
 * const bob = createStack({ clock, seed: 2 });
 * alice.addInterface({ driver: a, addresses: ["10.5.0.1/24"] });
 * bob.addInterface({ driver: b, addresses: ["10.5.0.2/24"] });
 * const runners = [new RealTimeRunner(alice, { clock }), new RealTimeRunner(bob, { clock })];
 * a.onBatch = runners[0]!.kick;
 * b.onBatch = runners[1]!.kick;
 * runners.forEach((r) => r.start());
 * const reply = bob.ping("10.5.0.1");
 * runners[1]!.kick();
 * assert.equal((await reply).from, "10.5.0.1");
 * runners.forEach((r) => r.stop());
 * alice.close();
 * bob.close();
 * await Promise.all([a.closed, b.closed]);
 * ```
 *
 * @module
 */
import { Stack } from "./stack/stack.ts";
import type { DispatcherOptions } from "./stack/dispatcher_options.ts";
import type { PluginEntry } from "./stack/boot.ts";
import type { ProtocolPlugin } from "./stack/manifest.ts";
import { readManifestFile, resolveManifest, type StackManifest } from "./stack/loader.ts";
import { BUILTIN_PLUGINS, DEFAULT_PLUGINS } from "./stack/protocols/mod.ts";

export { Stack } from "./stack/stack.ts";
export type { AddRouteOptions, RouteInfo } from "./stack/stack.ts";
export type {
  PingOptions,
  PingReply,
  RouteGetResult,
  TracerouteHop,
  TracerouteOptions,
} from "./stack/stack.ts";
export {
  checkHostname,
  checkPort,
  connectTcp,
  DatagramConn,
  listenTcp,
  MulticastMembership,
  netAddr,
  parseHostname,
  socketErrorToException,
  socketErrorToException as udpErrorToException,
} from "./stack/sockets/mod.ts";
export type {
  DatagramAddr,
  ListenDatagramOptions,
  MulticastInterfaces,
  MulticastJoinOptions,
  NetAddr,
  TcpConn,
  TcpConnectOptions,
  TcpListener,
  TcpListenOptions,
  ZoneResolver,
} from "./stack/sockets/mod.ts";
export type {
  DispatcherOptions,
  InterfaceOptions,
  TraceEvent,
} from "./stack/dispatcher_options.ts";
export type { StackDescription } from "./stack/describe.ts";
export { formatGraph, formatHookPath } from "./stack/describe.ts";
export { ManualClock, MILLISECOND, SECOND, SystemClock } from "./stack/clock.ts";
export type { Clock, Duration, Instant } from "./stack/clock.ts";
export { SeededRng } from "./stack/rng.ts";
export type { Rng } from "./stack/rng.ts";
export { PacketBuffer, type PacketSharer } from "./stack/packet.ts";
export { DEFAULT_HEADROOM, PacketPool } from "./stack/packet_pool.ts";
export { PacketFlags } from "./stack/packet_flags.ts";
export { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_RAW } from "./stack/driver.ts";
export {
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_ICMPV6,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
} from "./stack/wire/numbers.ts";
export type { DriverPort, LinkDriver, LinkType } from "./stack/driver.ts";
export { Counter, Counters, formatCounters } from "./stack/counters.ts";
export { Timer, TimerQueue } from "./stack/timers.ts";
export { InterfaceTable, isUsableIpv6, NetInterface } from "./stack/netif.ts";
export type {
  AddressChange,
  AddressOptions,
  AddressOrigin,
  InterfaceStats,
  Ipv4IfAddress,
  Ipv6AddressState,
  Ipv6IfAddress,
} from "./stack/netif.ts";
export { LogHub } from "./stack/log.ts";
export type { Logger, LogLevel, LogRecord, LogSink } from "./stack/log.ts";
export {
  ACCEPT,
  CONSUMED,
  HOOK_POINTS,
  LINK_TABLE,
  NEXT,
  STACK_API_VERSION,
  validateManifest,
} from "./stack/manifest.ts";
export type {
  Binding,
  ConnectionStateEvent,
  DropReason,
  HookJoin,
  HookPoint,
  HookVerdict,
  LinkOutput,
  NeighborChangedEvent,
  OptionSpec,
  PluginContext,
  ProtocolHandlers,
  ProtocolManifest,
  ProtocolPlugin,
  Requirement,
  RxContext,
  RxVerdict,
  StackEvent,
  Table,
  Verdict,
} from "./stack/manifest.ts";
export type { PluginEntry } from "./stack/boot.ts";
export type { PluginRef, StackManifest } from "./stack/loader.ts";
export {
  BindingConflictError,
  DriverError,
  PluginDependencyError,
  PluginManifestError,
  PluginSetupError,
  StackError,
} from "./stack/errors.ts";
export { Ipv4SendFlags } from "./stack/services.ts";
export type {
  StreamConnectOptions,
  StreamError,
  StreamEvents,
  StreamListener,
  StreamListenerEvents,
  StreamListenOptions,
  StreamService,
  StreamService as TcpSocketsService,
  StreamSocket,
  TcpSocketInfo,
} from "./stack/stream.ts";
export { formatSockets } from "./stack/protocols/tcp/mod.ts";
export {
  defineService,
  MAX_SERVICE_CONNECTIONS,
  SERVICE_HOST_COUNTERS,
  SERVICE_HOST_OPTIONS,
  writeAll,
} from "./stack/service/mod.ts";
export type {
  ConnHandler,
  DatagramHandler,
  ServiceHandlers,
  ServiceHost,
  ServiceSpec,
  ServiceTransport,
  UdpQueueOptions,
} from "./stack/service/mod.ts";
export { createConnectionServer, HttpParser } from "./stack/http/mod.ts";
export type {
  ConnectionServer,
  FeedResult,
  FetchInit,
  HeadLimits,
  HttpServer,
  HttpTimer,
  MessageHead,
  ParseError,
  ParserEvent,
  ServeHandler,
  ServeHandlerInfo,
  ServeOptions,
  ServerClock,
  ServerHooks,
} from "./stack/http/mod.ts";
export type {
  CongestionControl,
  CongestionFactory,
  CongestionOptions,
  CongestionRegistry,
  RateSample,
} from "./stack/protocols/tcp/mod.ts";
export { conntrackPlugin, formatConntrack } from "./stack/protocols/conntrack/mod.ts";
export { formatNatRule, NAT_SERVICE, natPlugin, parseNatRule } from "./stack/protocols/nat/mod.ts";
export type {
  NatAction,
  NatFiltering,
  NatMappingRow,
  NatProtocol,
  NatRule,
  NatService,
} from "./stack/protocols/nat/mod.ts";
export { CONNTRACK_SERVICE, CT_ORIGINAL, CT_REPLY } from "./stack/services.ts";
export type {
  ConntrackDirection,
  ConntrackEntry,
  ConntrackRef,
  ConntrackRow,
  ConntrackService,
  ConntrackTuple,
} from "./stack/services.ts";
export type {
  ArpService,
  EchoOptions,
  EchoReply,
  EthernetService,
  IcmpEchoService,
  IcmpErrorService,
  Icmpv6EchoService,
  Icmpv6ProbeOptions,
  Ipv4PmtuEntry,
  Ipv4Route,
  Ipv4RouteResult,
  Ipv4RoutesService,
  Ipv4Service,
  Ipv6LinkParameters,
  Ipv6Route,
  Ipv6RouteInput,
  Ipv6RouteResult,
  Ipv6RoutesService,
  MulticastFilter,
  MulticastFilterMode,
  MulticastGroupRow,
  MulticastGroupsService,
  NdpLinkTimers,
  NdpService,
  NeighborEntry,
  NeighborResolver,
  ProbeOptions,
  ProbeResult,
  Route,
  RouteOptions,
  RouterDiscoverySender,
  RouteService,
  UdpError,
  UdpOpenOptions,
  UdpService,
  UdpSocket,
  UdpSocketInfo,
} from "./stack/services.ts";
export {
  errorServiceName,
  neighborServiceName,
  RouteSendFlags,
  routeServiceName,
} from "./stack/services.ts";
export { packetPseudoHeaderSum, pseudoHeaderSum } from "./stack/ip/pseudo_header.ts";
export { TransportErrorKind, transportErrorName } from "./stack/ip/transport_error.ts";
export * from "./stack/wire/address.ts";
export {
  finishChecksum,
  internetChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumBytes,
  updateChecksum16,
  updateChecksum32,
} from "./stack/wire/checksum.ts";
export { type Ipv4AddressField, rewriteIpv4Address } from "./stack/wire/nat.ts";
// A hook finds an IPv6 packet's transport header after its extension headers with these.
export {
  Ipv6Chain,
  type Ipv6ChainOptions,
  type Ipv6ChainProblem,
  walkIpv6Chain,
} from "./stack/wire/ipv6_chain.ts";
export { HookContext, HookContexts, type HookRoute } from "./stack/hooks.ts";
export { BUILTIN_PLUGINS, DEFAULT_PLUGINS } from "./stack/protocols/mod.ts";
export { mcproxyPlugin } from "./stack/protocols/mod.ts";
export {
  arpPlugin,
  ethernetPlugin,
  icmpPlugin,
  icmpv6Plugin,
  ipv4Plugin,
  ipv6Plugin,
  mldPlugin,
  mssClampPlugin,
  ndpPlugin,
  nptv6Plugin,
  rawIpPlugin,
  slaacPlugin,
  tcpPlugin,
  udpPlugin,
} from "./stack/protocols/mod.ts";
export { type NptDirection, NptMapping } from "./stack/protocols/nptv6/mod.ts";
export { type ClampResult, clampSynMss } from "./stack/protocols/mssclamp/mod.ts";
export type {
  SlaacPrefixInfo,
  SlaacRouterInfo,
  SlaacService,
} from "./stack/protocols/slaac/mod.ts";
export { InjectDriver } from "./drivers/inject/mod.ts";
export type { InjectDriverOptions } from "./drivers/inject/mod.ts";
export {
  checkFaults,
  DeadlockError,
  DEFAULT_REORDER_DELAY,
  Link,
  LinkEnd,
  Snooping,
  Switch,
  VirtualNetwork,
  VirtualTimeoutError,
} from "./drivers/loopback/mod.ts";
export type {
  Direction,
  Directions,
  DropCounts,
  Faults,
  LinkOptions,
  LinkStats,
  MacEntry,
  NetworkNode,
  QueueLimit,
  RunOptions,
  RunUntilIdleOptions,
  SnoopedGroup,
  SnoopingOptions,
  SnoopingStats,
  SwitchOptions,
  SwitchPortOptions,
  SwitchStats,
  VirtualNetworkOptions,
} from "./drivers/loopback/mod.ts";
export { Bridge, bridgeToDevice, realTimeNetwork } from "./drivers/loopback/mod.ts";
export type { BridgeStats } from "./drivers/loopback/mod.ts";
export { buildLan, requestResponse, runWithProgress } from "./drivers/loopback/mod.ts";
export type { Lan, LanOptions, RequestResponseOptions } from "./drivers/loopback/mod.ts";
export { Partition, runPartitioned } from "./drivers/loopback/mod.ts";
export type {
  LinkPairStats,
  PartitionedResult,
  PartitionedRunOptions,
  PartitionedScenario,
  PartitionTiming,
  ScenarioBuilder,
  Trunk,
} from "./drivers/loopback/mod.ts";
export { bulk, reportProgress } from "./drivers/loopback/mod.ts";
export type { BulkFlow, BulkOptions } from "./drivers/loopback/mod.ts";
export { Fdb, openVxlan, parseEndpoint, VxlanDevice } from "./drivers/vxlan/mod.ts";
export type {
  FdbStats,
  VxlanEndpoint,
  VxlanOptions,
  VxlanStats,
  VxlanTransport,
} from "./drivers/vxlan/mod.ts";
// Capture files: read, write, tap a running driver, replay into a stack.
export * from "./drivers/pcapfile/mod.ts";
// The FFI drivers (drivers/tun, drivers/packet) are imported from their own
// mod.ts, so importing the library loads no FFI code.
export type { IoStats } from "./drivers/tun/mod.ts";

/** Options of {@linkcode createStack}. */
export interface CreateStackOptions extends Omit<DispatcherOptions, "plugins"> {
  /**
   * Plugins to load instead of the built-in defaults: plugin objects
   * (`ethernetPlugin`, …) or `{ plugin, options }`; for names, paths and
   * URLs use {@linkcode loadStack}.
   */
  readonly plugins?: readonly (ProtocolPlugin | PluginEntry)[];
  /** Plugins to load after the defaults (your own), as objects or `{ plugin, options }`. */
  readonly extraPlugins?: readonly (ProtocolPlugin | PluginEntry)[];
}

/**
 * Creates a stack with the built-in protocols (or the plugins you give).
 * On the virtual network give it the network's clock and a seed of its own:
 * the same seeds give the same bytes (`docs/TESTING.md`). `strictCounters:
 * true` makes a drop for an undeclared reason throw: use it in tests.
 *
 * @example
 * ```ts
 * import { createStack } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * assert.ok(stack.pluginNames.includes("ipv4"));
 * stack.close();
 * ```
 *
 * @example Your own plugin after the defaults, with an option
 * ```ts
 * import { createStack } from "./mod.ts";
 * import { plugin as blockSource } from "./plugins/block_source/mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({
 *   seed: 1,
 *   strictCounters: true,
 *   extraPlugins: [{ plugin: blockSource, options: { sources: "192.0.2.0/24" } }],
 * });
 * assert.deepEqual(stack.describe().hooks.prerouting, ["block_source"]);
 * stack.close();
 * ```
 */
export function createStack(options: CreateStackOptions = {}): Stack {
  const { plugins, extraPlugins, ...rest } = options;
  return new Stack({
    ...rest,
    plugins: [...(plugins ?? DEFAULT_PLUGINS), ...(extraPlugins ?? [])],
  });
}

/**
 * Creates a stack from a stack manifest: an object, or the path of a JSON
 * file. Plugins are named by built-in name, file path or URL.
 *
 * @example
 * ```ts
 * import { loadStack } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const stack = await loadStack({ plugins: ["ethernet", "arp", "ipv4", "icmp"] });
 * assert.deepEqual(stack.pluginNames, ["ethernet", "arp", "ipv4", "icmp"]);
 * ```
 */
export async function loadStack(
  manifest: StackManifest | string,
  options: Omit<DispatcherOptions, "plugins"> & { base?: URL | string } = {},
): Promise<Stack> {
  let m: StackManifest;
  let base = options.base;
  if (typeof manifest === "string") {
    const read = await readManifestFile(manifest);
    m = read.manifest;
    base ??= read.base;
  } else m = manifest;
  const { base: _b, ...rest } = options;
  const entries = await resolveManifest(m, {
    builtins: BUILTIN_PLUGINS,
    ...(base ? { base } : {}),
  });
  return new Stack({ ...rest, ...(m.name ? { name: m.name } : {}), plugins: entries });
}

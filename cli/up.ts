/**
 * `cli.ts up`: runs a stack on a TUN or TAP device (or on an in-memory
 * network with a virtual peer) in real time until SIGINT/SIGTERM, then prints
 * its counters. {@linkcode runUp} is the whole command; {@linkcode UP_HELP}
 * documents it.
 *
 * How it runs: the stack uses a `SystemClock`; a `RealTimeRunner` polls it on
 * its deadlines, and the device kicks the runner after every batch of
 * received frames (see drivers/tun/io.ts for why the read loop is batched).
 *
 * `--netns NAME`: the device is created (or attached to) inside the existing
 * namespace NAME: the driver `setns()`s its thread into it just long enough to
 * open `/dev/net/tun` and configure the device, so the device never shows up
 * outside NAME, and `--peer-address` is applied there with `ip -n NAME`. The
 * stack itself does no host networking, so the process stays where it is.
 *
 * Services (`--serve`) come from a registry the caller passes (cli.ts passes
 * the plugins of plugins/services/), or from modules a word names by path or
 * URL (`defineService` plugins, see cli/_serve.ts); each may add plugins to
 * the stack and start once it is up.
 *
 * @module
 */
import {
  bootChecks,
  errorLine,
  failCommand,
  helpWithServices,
  logLines,
  openCaptureWriter,
  type PluginLike,
  servicePluginList,
  UsageError,
  withIpv6,
  writeLine,
} from "./_common.ts";
import { chosenServices, serveProblem, withServiceModules } from "./_serve.ts";
import { addDefaultRoute } from "./_common.ts";
import { createStack, DEFAULT_PLUGINS, type Stack } from "../mod.ts";
import { type Clock, SystemClock } from "../stack/clock.ts";
import type { LinkDriver } from "../stack/driver.ts";
import type { StreamService } from "../stack/stream.ts";
import { formatMac } from "../stack/wire/address.ts";
import { realTimeNetwork, VirtualNetwork } from "../drivers/loopback/mod.ts";
import { CaptureTap, type PcapngWriter, type PcapWriter } from "../drivers/pcapfile/mod.ts";
import {
  openTun,
  type Pollable,
  randomMac,
  RealTimeRunner,
  type TunDevice,
  txQueueForWindow,
} from "../drivers/tun/mod.ts";
import { TCP_OPTIONS } from "../stack/protocols/tcp/config.ts";
import { openPacket, type PacketDevice } from "../drivers/packet/mod.ts";
import { openVxlan, type VxlanDevice } from "../drivers/vxlan/mod.ts";
import { configurePeer, waitPeersIpv6Ready } from "./_netns.ts";
import { checkPeer, waitForAddresses } from "./_up_ready.ts";
import { bindingLines, debugPlugin } from "./_debug.ts";
import { runUntilStopped } from "./_stopper.ts";
import { isGatewayArgs } from "./_gateway_args.ts";
import { runGateway } from "./gateway.ts";
import { checkLinkPlugin } from "./_link_plugin.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../stack/wire/numbers.ts";
import { joinGroups } from "./_join.ts";
import { tunWaitOptions, WAIT_HELP } from "./_up_wait.ts";
import { EchoWarmer, KEEP_WARM_HELP } from "./_up_keep_warm.ts";
import { CPU_HELP, pinProcessToCpu } from "./_pin_cpu.ts";
import { parseUpArgs, type UpArgs } from "./_up_args.ts";

/** A stopper returned by a service's `start`. */
export interface RunningService {
  /** Stops the service. */
  close(): void | Promise<void>;
}

/**
 * A service `up --serve NAME` can run: plugins to load into the stack, and/or
 * code to start once the stack is up.
 *
 * @example
 * ```ts
 * import type { UpService } from "./up.ts";
 * import assert from "node:assert/strict";
 * const hello: UpService = {
 *   description: "says hello in the log",
 *   start(stack) {
 *     assert.ok(stack.pluginNames.length > 0);
 *   },
 * };
 * assert.equal(typeof hello.start, "function");
 * ```
 */
export interface UpService {
  /** One line for `--help`. */
  readonly description: string;
  /** Plugins the service needs in the stack (added after the others, duplicates skipped). */
  readonly plugins?: readonly PluginLike[];
  /** Starts the service on the running stack. */
  start?(stack: Stack): RunningService | void | Promise<RunningService | void>;
}

/** Services by `--serve` name. */
export type ServiceRegistry = Readonly<Record<string, UpService>>;

/**
 * Options of {@linkcode runUp}.
 *
 * @example
 * ```ts
 * import type { UpOptions } from "./up.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const options: UpOptions = { print: (l) => lines.push(l), handleSignals: false };
 * assert.equal(options.handleSignals, false);
 * ```
 */
export interface UpOptions {
  /** Services `--serve` may name (default none). */
  readonly services?: ServiceRegistry;
  /** Stops the command when aborted (as SIGINT does). */
  readonly signal?: AbortSignal;
  /** Listen for SIGINT and SIGTERM (default true). */
  readonly handleSignals?: boolean;
  /** Where output lines go (default standard output). */
  readonly print?: (line: string) => void;
  /** Where errors, warnings and logs go (default standard error). */
  readonly printError?: (line: string) => void;
  /** Called once ready, with the running stack (tests, embedding) and, in gateway mode, the --lan hosts. */
  readonly onReady?: (stack: Stack, hosts?: readonly Stack[]) => void | Promise<void>;
}

/** `up --help`. */
export const UP_HELP =
  `Usage: deno run --allow-ffi --allow-run --allow-read --allow-write cli.ts up [options]

Runs the stack on a network interface in real time. Prints one line
"ready <ifname> <addresses>" once the stack answers; SIGINT or SIGTERM stop
it cleanly and print its counters. tun and tap need Linux, root (or
CAP_NET_ADMIN) and --allow-ffi; --peer-address and --netns need --allow-run
and the ip command (iproute2).

Options:
  --driver tun|tap|packet|vxlan|loopback  Link driver (default tun).
                               tun: raw IP packets on a Linux TUN device;
                               tap: Ethernet frames on a TAP device (the stack answers ARP);
                               packet: an AF_PACKET socket on the existing Ethernet
                               interface --ifname (needs CAP_NET_RAW; the interface
                               needs no address; it is set up, and put in promiscuous
                               mode while the stack runs);
                               vxlan: Ethernet frames in UDP (RFC 7348) over this host's
                               sockets (no root; needs --vni and --local; inner MTU 1450
                               by default: the outer headers take 50 bytes);
                               loopback: an in-memory network whose other host is a
                               second virtual stack at --peer-address.
  --ifname NAME              Device to create, or attach to if it exists
                             (default: Linux picks tunN/tapN; eth0 for loopback).
  --address CIDR             The stack's address, IPv4 or IPv6 (fd00::2/64), repeatable
                             (required for tun and tap; default 10.0.0.2/24 for loopback).
  --gateway IP               Add a default route via IP (IPv4, or IPv6: ::/0 via e.g.
                             fe80::1 on the interface); repeatable, one per family.
  --mtu N                    Link MTU, 68..65535 (tun/tap: also set on the Linux side).
  --mac MAC                  tap, packet: the stack's MAC (default random, locally administered).
  --no-offload               tun: no virtio-net header (checksum offload and TSO are on by
                             default: Linux hands the stack 64 KiB TCP super-segments
                             and segments the stack's own).
${WAIT_HELP}
${KEEP_WARM_HELP}
${CPU_HELP}
  --ring                     packet: receive through a TPACKET_V3 mmap ring (fewer system
                             calls under load; up to ~1 ms more latency for a lone frame).
  --vni N                    vxlan: the VXLAN Network Identifier, 0..16777215.
  --local ADDR[:PORT]        vxlan: the local address to bind (port default 4789).
  --remote ADDR[:PORT]       vxlan: a remote VTEP for broadcast, multicast and unknown
                             unicast (head-end replication), repeatable.
  --peer-address CIDR        The other end's address, IPv4 or IPv6, repeatable. tun/tap:
                             given to the Linux side of the device with ip, which is then
                             set up with its IPv6 link-local address (tap: not when a
                             manifest leaves out the ndp plugin); loopback:
                             the virtual peer's address (default: the first other host of
                             the first --address subnet); packet, vxlan: only pinged at start
                             (the interface is left as it is).
  --serve LIST               Services to run, comma separated (echo, discard, chargen,
                             daytime, http, … as the registry provides them); NAME:PORT
                             runs one on another port, beside its default one
                             (iperf3,iperf3:5202: two iperf3 servers; counters
                             iperf3.* and iperf3-5202.*). A path (./my_service.ts,
                             relative to the working directory) or URL runs a service
                             of your own: a module exporting, as default or "plugin",
                             what defineService() of mod.ts returns (./x.ts:PORT too).
  --join GROUP               Join multicast GROUP (IPv4 or IPv6) on the interface, repeatable:
                             services on the wildcard address (echo) answer datagrams to it.
  --capture FILE             Record every frame sent and received to FILE: pcapng
                             when the name ends in .pcapng, else pcap; "-" writes
                             it to standard output (the text lines then go to
                             standard error).
  --format pcap|pcapng       The --capture format, whatever the name.
  --plugin PATH|URL          Load an extra protocol plugin, repeatable.
  --manifest FILE            A stack manifest (JSON) replacing the default plugin list
                             ("-": standard input).
  --log-level LEVEL          debug, info, warn or error (default warn); logs go to stderr.
                             debug adds each plugin's bindings at boot, then
                             neighbour and TCP connection state changes (at most
                             50 lines a second).
  --netns NAME               tun/tap/packet: create (packet: find) the device inside the existing network
                             namespace NAME (ip netns add NAME); --peer-address is then
                             applied inside it too.
  -h, --help                 Show this text.

Several interfaces (a gateway): each --tun NAME, --tap NAME or --lan NAME
starts an interface, and the interface flags after it (--address,
--peer-address, --gateway, --netns, --mtu, --mac, --hosts, --hosts-serve,
--npt, --no-offload) are its own; the others (--forward, --mss-clamp, the NAT flags,
--serve, --plugin, --manifest, --log-level, --capture, --cpu) are the
gateway's wherever they stand.
--driver, --ifname and the vxlan/packet flags are for one interface only.
  --tun NAME                 A TUN device (raw IP) named NAME, offloads on as for
                             --driver tun (--no-offload after it: off).
  --tap NAME                 A TAP device (Ethernet) named NAME.
  --lan NAME                 An in-memory switch with --hosts N virtual hosts (1..64,
                             default 1), numbered after the gateway's --address on it
                             (10.3.0.1/24: hosts 10.3.0.2, 10.3.0.3, …; IPv6 likewise),
                             each routing through the gateway.
  --hosts N                  --lan: how many virtual hosts.
  --hosts-serve LIST         --lan: services every virtual host runs (as --serve).
  --npt INSIDE=OUTSIDE       NPTv6 (RFC 6296) on this, the outside interface: the IPv6
                             prefix INSIDE leaves as OUTSIDE (same length, 1..64), e.g.
                             fd01:203:405::/48=2001:db8:1::/48.
  --forward                  Forward IPv4 and IPv6 between the interfaces.
  --mss-clamp                Lower the MSS of forwarded TCP SYNs to what the path MTU
                             takes (iptables TCPMSS --clamp-mss-to-pmtu).
NAT (IPv4; any of these loads the conntrack and nat plugins; rules apply in
the order given; a flow's first packet picks the first that matches):
  --masquerade IF            Flows leaving by IF take IF's address (iptables MASQUERADE).
  --snat IF=ADDR[-ADDR]      Flows leaving by IF take ADDR (a range: paired pooling).
  --forward-port PROTO:PORT=ADDR[:PORT][@IF]
                             Port forwarding (DNAT): PROTO (tcp, udp) to PORT goes to
                             ADDR:PORT; with @IF only when arriving by IF, else by any
                             interface (and from the gateway itself), e.g.
                             --forward-port tcp:8080=10.1.0.2:80@tun2.
  --redirect PROTO:PORT=PORT[@IF]
                             To the gateway itself on another port (iptables REDIRECT).
  --nat RULE                 Any rule in the nat plugin's one-line form, e.g.
                             "snat -s 10.1.0.0/24 -o tun2 --to 10.2.0.1".
With --serve http the status page lists the tracked connections (conntrack -L).
The ready line lists every interface: "ready tun1 10.1.0.1/24, tun2 10.2.0.1/24".
--capture writes pcapng with one interface block per interface.

Every value is checked before anything is opened. Stopping (SIGINT, SIGTERM)
resets every open TCP connection, so peers see RST at once.
Exit status: 0 stopped by the caller; 1 a failure; 2 bad options; 130 SIGINT;
143 SIGTERM.

Examples:
  ip netns add demo
  deno run -A cli.ts up --driver tun --ifname tun0 --netns demo \\
      --address 10.0.0.2/24 --peer-address 10.0.0.1/24
  ip netns exec demo ping -c 3 10.0.0.2

  deno run -A cli.ts up --driver tap --ifname tap0 --address 192.168.7.2/24 \\
      --peer-address 192.168.7.1/24 --capture tap0.pcap --log-level info

  deno run -A cli.ts up --driver loopback --address 10.0.0.2/24 --capture demo.pcap

  deno run -A cli.ts up --driver packet --ifname veth1 --address 10.0.0.2/24

  deno run -A cli.ts up --driver vxlan --vni 42 --local 192.168.1.10 \\
      --remote 192.168.1.11 --address 10.0.0.2/24

  ip netns add inside; ip netns add outside
  deno run -A cli.ts up --forward \\
      --tun tun1 --netns inside --address 10.1.0.1/24 --peer-address 10.1.0.2/24 \\
      --tun tun2 --netns outside --address 10.2.0.1/24 --peer-address 10.2.0.2/24
  ip -n inside route add default via 10.1.0.1
  ip -n outside route add default via 10.2.0.1
  ip netns exec inside ping -c 3 10.2.0.2

  # The same as a NAT gateway: the outside sees only 10.2.0.1 (it needs no
  # route back), and its port 8080 reaches the inside host's port 80:
  deno run -A cli.ts up --forward --masquerade tun2 \\
      --forward-port tcp:8080=10.1.0.2:80@tun2 \\
      --tun tun1 --netns inside --address 10.1.0.1/24 --peer-address 10.1.0.2/24 \\
      --tun tun2 --netns outside --address 10.2.0.1/24 --peer-address 10.2.0.2/24
  ip netns exec outside curl http://10.2.0.1:8080/

  deno run -A cli.ts up --forward --tun tun1 --address 10.1.0.1/24 \\
      --peer-address 10.1.0.2/24 --lan lan0 --hosts 3 --address 10.3.0.1/24
`;

/**
 * Gives every plugin that declares an `epoch` option (daytime, http) the
 * wall-clock time at stack time 0, in µs since 1970, unless it is set: the
 * plugins never read the wall clock themselves.
 */
export function withEpoch(list: PluginLike[], epoch: number): PluginLike[] {
  return list.map((p) => {
    const e = "plugin" in p ? p : { plugin: p };
    if (e.plugin.manifest.options?.epoch === undefined || e.options?.epoch !== undefined) return p;
    return { plugin: e.plugin, options: { ...e.options, epoch: Math.round(epoch) } };
  });
}

/** What the command built and must tear down. */
interface Running {
  stack: Stack;
  runner: RealTimeRunner;
  ifname: string;
  tun: TunDevice | PacketDevice | null;
  vx: VxlanDevice | null;
  net: VirtualNetwork | null;
  peerStack: Stack | null;
  writer: PcapWriter | PcapngWriter | null;
  services: RunningService[];
  warmer: EchoWarmer | null;
}

/**
 * Runs `up` with command-line `args` (the words after `up`) until a signal
 * or `options.signal`; returns the exit code (0 stopped by `options.signal`,
 * 1 failure, 2 usage, 130 SIGINT, 143 SIGTERM).
 *
 * @param args Command-line arguments after `up`.
 * @param options Service registry, output, stopping.
 * @returns The exit code.
 *
 * @example
 * ```ts
 * import { runUp } from "./up.ts";
 * import assert from "node:assert/strict";
 * const out: string[] = [];
 * const stop = new AbortController();
 * const code = await runUp(["--driver", "loopback", "--address", "10.9.0.2/24"], {
 *   handleSignals: false,
 *   signal: stop.signal,
 *   print: (line) => out.push(line),
 *   printError: () => {},
 *   onReady: () => stop.abort(),
 * });
 * assert.equal(code, 0);
 * assert.equal(out[0], "ready eth0 10.9.0.2/24");
 * ```
 */
export async function runUp(args: string[], options: UpOptions = {}): Promise<number> {
  const printError = options.printError ?? ((l: string) => writeLine(Deno.stderr, l));
  let registry: ServiceRegistry = options.services ?? {};
  // Several interfaces (--tun NAME, --tap NAME, --lan NAME): a gateway.
  if (isGatewayArgs(args)) {
    if (!args.includes("-h") && !args.includes("--help")) return runGateway(args, options);
    (options.print ?? ((l: string) => writeLine(Deno.stdout, l)))(
      helpWithServices(UP_HELP, registry),
    );
    return 0;
  }
  let a: UpArgs;
  try {
    const parsed = parseUpArgs(args);
    if (parsed === "help") {
      (options.print ?? ((l: string) => writeLine(Deno.stdout, l)))(
        helpWithServices(UP_HELP, registry),
      );
      return 0;
    }
    a = parsed;
    registry = await withServiceModules(a.serve, registry);
    const unknown = serveProblem(a.serve, registry);
    if (unknown !== undefined) throw new UsageError(unknown);
  } catch (err) {
    return failCommand("up", printError, err);
  }
  // With the capture on standard output, the text goes to standard error.
  const print = options.print ??
    (a.capture === "-" ? printError : (l: string) => writeLine(Deno.stdout, l));
  return await runUntilStopped(options, (err) => failCommand("up", printError, err), {
    start: () => start(a, registry, printError),
    devices: (r) => r.tun === null ? [] : [r.tun.closed],
    async ready(r) {
      print(`ready ${r.ifname} ${a.addresses.join(" ")}`);
      await options.onReady?.(r.stack);
    },
    deviceStopped: (r) =>
      `${r.ifname} stopped: ${r.tun?.error?.message ?? "the device was closed"}`,
    stop: (r) => stop(r, print, printError),
  });
}

async function start(
  a: UpArgs,
  registry: ServiceRegistry,
  printError: (l: string) => void,
): Promise<Running> {
  // Before any device or timer: the threads started later inherit the mask.
  if (a.cpu !== undefined) pinProcessToCpu(a.cpu);
  const services = chosenServices(a.serve, registry);
  const clock = new SystemClock();
  const log = logLines(printError);
  // IPv6 and ICMPv6 too, unless a manifest chose the plugins.
  const base = await servicePluginList(a, services);
  const list = a.manifest === undefined ? withIpv6(base) : base;
  if (a.logLevel === "debug") {
    // State changes as they happen, from the stack's events.
    list.push(
      debugPlugin((time, source, message) => log({ time, level: "debug", source, message })),
    );
  }
  const plugins = withEpoch(list, Date.now() * 1000 - clock.now());
  const seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
  const onError = (e: unknown) => printError(errorLine("up", `stack poll failed: ${String(e)}`));
  let net: VirtualNetwork | null = null;
  let peerStack: Stack | null = null;
  let tun: TunDevice | PacketDevice | null = null;
  let vx: VxlanDevice | null = null;
  let driver: LinkDriver;
  let stack: Stack;
  let node: Pollable;
  const bootStack = (on: Clock): Stack => {
    const s = createStack({
      ...bootChecks(),
      plugins,
      clock: on,
      seed,
      log,
      logLevel: a.logLevel,
      name: "up",
    });
    // Before a device is opened: a manifest without the link's plugin fails here.
    try {
      const device = a.driver === "loopback" ? "the loopback link" : `the ${a.driver} device`;
      checkLinkPlugin(s, a.driver === "tun" ? LINKTYPE_RAW : LINKTYPE_ETHERNET, device);
    } catch (err) {
      s.close();
      throw err;
    }
    return s;
  };
  if (a.driver === "loopback") {
    net = new VirtualNetwork({ seed, start: clock.now() });
    stack = bootStack(net.clock);
    peerStack = createStack({
      clock: net.clock,
      seed: seed ^ 0x5eed,
      name: "peer",
      plugins: withIpv6(DEFAULT_PLUGINS),
    });
    const link = net.link(a.mtu === undefined ? {} : { mtu: a.mtu });
    driver = link.a;
    net.addNode(stack);
    net.addNode(peerStack);
    peerStack.addInterface({
      driver: link.b,
      name: "peer0",
      addresses: a.peers,
    });
    node = realTimeNetwork(net, clock);
  } else if (a.driver === "vxlan") {
    stack = bootStack(clock);
    try {
      vx = await openVxlan({
        vni: a.vni!,
        local: a.local!,
        remotes: a.remotes,
        mac: a.mac ?? randomMac(stack.rng),
        ...(a.mtu !== undefined ? { mtu: a.mtu } : {}),
      });
    } catch (err) {
      stack.close();
      throw err;
    }
    driver = vx;
    node = stack;
  } else {
    stack = bootStack(clock);
    try {
      tun = a.driver === "packet"
        ? openPacket({
          ifname: a.ifname!,
          mac: a.mac ?? randomMac(stack.rng),
          up: true,
          ring: a.ring,
          ...(a.netns !== undefined ? { netns: a.netns } : {}),
        })
        : openTun({
          mode: a.driver,
          ...(a.ifname !== undefined ? { name: a.ifname } : {}),
          ...(a.mtu !== undefined ? { mtu: a.mtu } : {}),
          // Room for a whole default TCP window of full segments, so a busy
          // machine that delays our reads costs Linux no drops.
          txQueueLength: txQueueForWindow(
            Number(TCP_OPTIONS.receiveBufferMax!.default),
            a.mtu ?? 1500,
          ),
          ...(a.driver === "tap" ? { mac: a.mac ?? randomMac(stack.rng) } : {}),
          ...(a.netns !== undefined ? { netns: a.netns } : {}),
          ...(a.offload ? { offload: true } : {}),
          ...tunWaitOptions(a.wait, printError),
          ...(a.keepWarm > 0 ? { keepWarm: a.keepWarm } : {}),
        });
    } catch (err) {
      stack.close();
      throw err;
    }
    if (
      tun.mac !== undefined && tun.linuxMac !== null && a.logLevel !== "warn" &&
      a.logLevel !== "error"
    ) {
      printError(
        `${tun.name}: stack MAC ${formatMac(tun.mac)}, Linux MAC ${formatMac(tun.linuxMac)}`,
      );
    }
    driver = tun;
    node = stack;
  }
  const runner = new RealTimeRunner(node, { clock, onError });
  // A blocking wait ends no later than the runner's next timer.
  if (tun !== null && "waitBudget" in tun) tun.waitBudget = runner.msUntilWake;
  // The keep-warm's shadow stack (only a device that sleeps ever calls it).
  let warmer: EchoWarmer | null = null;
  if (tun !== null && "onKeepWarm" in tun && a.keepWarm > 0 && tun.blocking) {
    const frameMax = tun.offload > 0 ? Math.max(tun.mtu, 65535) : tun.mtu;
    // The real stack's plugins (a manifest's firewall hook too), less its services.
    warmer = new EchoWarmer(tun, frameMax, plugins);
    tun.onKeepWarm = warmer.warm;
  }
  const r: Running = {
    stack,
    runner,
    ifname: "",
    tun,
    vx,
    net,
    peerStack,
    writer: null,
    services: [],
    warmer,
  };
  try {
    if (a.capture !== undefined) {
      r.writer = openCaptureWriter(a.capture, a.format, [
        {
          linkType: driver.linkType,
          name: tun?.name ?? a.ifname ?? (vx !== null ? `vxlan${vx.vni}` : "eth0"),
        },
      ]);
      driver = new CaptureTap(driver, { writer: r.writer, epochOffset: "wall" });
    }
    const ifname = tun?.name ?? a.ifname ?? (vx !== null ? `vxlan${vx.vni}` : "eth0");
    r.ifname = ifname;
    if (tun !== null && a.driver !== "packet" && a.peers.length > 0) {
      // Linux side first, so the stack's first frames (a gratuitous ARP on
      // TAP) find the link up instead of failing with EIO.
      await configurePeer(tun.name, {
        addresses: a.peers,
        // Linux speaks IPv6 on the device: on TUN (raw IP) nothing needs
        // Neighbor Discovery; on TAP the ndp plugin (a default) answers it,
        // unless a manifest left it out.
        quietIpv6: a.driver === "tap" && stack.service("neighbor.ipv6") === undefined,
        ...(a.netns !== undefined ? { netns: a.netns } : {}),
      });
    }
    stack.addInterface({ driver, name: ifname, addresses: a.addresses });
    if (tun !== null) tun.onBatch = runner.kick;
    if (vx !== null) vx.onBatch = runner.kick;
    runner.start();
    // DAD first: a tentative address is neither a source nor a destination yet.
    await waitForAddresses(peerStack === null ? [stack] : [stack, peerStack], runner, printError);
    // Linux's side too: its IPv6 addresses receive only once their local routes exist.
    if (tun !== null && a.driver !== "packet") await waitPeersIpv6Ready(tun.name, a.peers, a.netns);
    for (const g of a.gateways) addDefaultRoute(stack, g, ifname);
    for (const line of joinGroups(stack, ifname, a.joins)) {
      log({ time: stack.clock.now(), level: "info", source: "up", message: line });
    }
    for (const s of services) {
      const handle = await s.start?.(stack);
      if (handle) r.services.push(handle);
    }
    if (a.logLevel === "debug") {
      const time = stack.clock.now();
      for (const l of bindingLines(stack)) {
        const colon = l.indexOf(":");
        log({ time, level: "debug", source: l.slice(0, colon), message: l.slice(colon + 2) });
      }
    }
    // Every peer address, IPv4 and IPv6: each family's path is checked before "ready".
    for (const peer of a.peers) await checkPeer(stack, runner, peer.split("/")[0]!, printError);
    return r;
  } catch (err) {
    await stop(r, () => {}, printError);
    throw err;
  }
}

async function stop(
  r: Running,
  print: (l: string) => void,
  printError: (l: string) => void,
): Promise<void> {
  // Reset every TCP connection first, while the device still carries the
  // RSTs: a peer must not wait on a connection nobody will ever answer.
  const reset = abortConnections(r.stack);
  if (reset > 0) {
    r.runner.kick();
    await r.runner.delay(20); // let the driver write them (a runner timer: the device's sleep ends for it)
  }
  for (const s of r.services.splice(0).reverse()) {
    try {
      await s.close();
    } catch (err) {
      printError(`cli.ts up: warning: a service failed to stop: ${(err as Error).message}`);
    }
  }
  r.runner.stop();
  if (r.tun !== null && "onKeepWarm" in r.tun) r.tun.onKeepWarm = null;
  r.warmer?.close();
  r.stack.close();
  r.peerStack?.close();
  r.net?.close();
  if (r.vx !== null) {
    if (r.stack.interfaces.byName(r.ifname) === undefined) r.vx.close();
    await r.vx.closed;
  }
  if (r.tun !== null) {
    // Not attached when start-up failed before addInterface: close it here.
    if (r.stack.interfaces.byName(r.ifname) === undefined) r.tun.close();
    await r.tun.closed;
  }
  r.writer?.close();
  const table = r.stack.counterTable();
  const iface = r.stack.interfaces.byName(r.ifname);
  if (iface !== undefined) {
    const s = iface.stats;
    print(
      `${r.ifname}: rx ${s.rxPackets} packets ${s.rxBytes} bytes, ` +
        `tx ${s.txPackets} packets ${s.txBytes} bytes` +
        (r.tun !== null ? `, tx errors ${r.tun.stats.txErrors}` : "") +
        (r.vx !== null ? `, tx errors ${r.vx.stats.txErrors}` : "") +
        (r.tun !== null && "rxKernelDrops" in r.tun.stats
          ? `, rx kernel drops ${r.tun.stats.rxKernelDrops}`
          : ""),
    );
  }
  if (reset > 0) print(`reset ${reset} TCP connection${reset === 1 ? "" : "s"}`);
  if (table !== "") print(table);
}

/** Resets every TCP connection of `stack` (and closes its listeners); returns how many. */
function abortConnections(stack: Stack): number {
  const tcp = stack.service<StreamService>("tcp.sockets");
  return tcp?.abortAll?.() ?? 0;
}

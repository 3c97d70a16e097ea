/**
 * `cli.ts up` with several interfaces in one process: a virtual host that
 * routes between TUN/TAP devices (each perhaps in its own Linux namespace)
 * and in-memory LANs of virtual hosts, with IPv4 and IPv6 forwarding
 * (`--forward`), NPTv6 on an outside interface (`--npt`) and TCP MSS
 * clamping (`--mss-clamp`), and NAT (`--masquerade`, `--snat`,
 * `--forward-port`, `--redirect`, `--nat`: conntrack and nat plugins with
 * those rules, in order; see stack/protocols/nat), every thread on one CPU
 * (`--cpu`, as `up`'s). The flags are parsed by `_gateway_args.ts`;
 * {@linkcode runGateway} is the whole command once `up` sees `--tun`,
 * `--tap` or `--lan`.
 *
 * Time: with a `--lan`, the stack and the LAN's hosts share a
 * VirtualNetwork whose clock follows the wall clock (`realTimeNetwork`);
 * without, the stack runs on the SystemClock. Either way one
 * RealTimeRunner drives it, kicked by every device after a batch.
 *
 * @module
 */
import {
  bootChecks,
  errorLine,
  failCommand,
  logLines,
  openCaptureWriter,
  type PluginLike,
  servicePluginList,
  UsageError,
  withIpv6,
  writeLine,
} from "./_common.ts";
import { chosenServices, serveProblem, withServiceModules } from "./_serve.ts";
import { addDefaultRoute, pluginOf } from "./_common.ts";
import { type GatewayArgs, type GatewayInterface, parseGatewayArgs } from "./_gateway_args.ts";
import { runUntilStopped } from "./_stopper.ts";
import { configurePeer, waitPeersIpv6Ready } from "./_netns.ts";
import { checkPeer, waitForAddresses } from "./_up_ready.ts";
import { debugPlugin } from "./_debug.ts";
import { pinProcessToCpu } from "./_pin_cpu.ts";
import type { RunningService, ServiceRegistry, UpOptions } from "./up.ts";
import { withEpoch } from "./up.ts";
import { createStack, type Stack } from "../mod.ts";
import { checkLinkPlugin } from "./_link_plugin.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../stack/wire/numbers.ts";
import { type Clock, SystemClock } from "../stack/clock.ts";
import type { LinkDriver } from "../stack/driver.ts";
import type { StreamService } from "../stack/stream.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";
import { formatIpv4Address, ipv4BroadcastAddress, parseIpv4Cidr } from "../stack/wire/address.ts";
import { realTimeNetwork, VirtualNetwork } from "../drivers/loopback/mod.ts";
import { CaptureTap, type PcapngWriter, type PcapWriter } from "../drivers/pcapfile/mod.ts";
import {
  openTun,
  type Pollable,
  randomMac,
  RealTimeRunner,
  type TunDevice,
} from "../drivers/tun/mod.ts";
import { nptv6Plugin } from "../stack/protocols/nptv6/mod.ts";
import { mssClampPlugin } from "../stack/protocols/mssclamp/mod.ts";
import { conntrackPlugin } from "../stack/protocols/conntrack/mod.ts";
import { formatNatRule, natPlugin } from "../stack/protocols/nat/mod.ts";

/** What the command built and must tear down. */
interface Gateway {
  stack: Stack;
  runner: RealTimeRunner | null;
  devices: Map<string, TunDevice>;
  net: VirtualNetwork | null;
  hosts: Stack[];
  writer: PcapWriter | PcapngWriter | null;
  services: RunningService[];
}

/**
 * The addresses of host `k` (1-based) of a LAN whose gateway has
 * `addresses`: the gateway's IPv4 address plus k (within its subnet), and
 * for each IPv6 address the same plus k in the last word.
 *
 * @throws {UsageError} When the subnet has no room for host `k`.
 *
 * @example
 * ```ts
 * import { lanHostAddresses } from "./gateway.ts";
 * import { parseGatewayArgs } from "./_gateway_args.ts";
 * import assert from "node:assert/strict";
 * const lan = parseGatewayArgs(["--lan", "l0", "--address", "10.3.0.1/24", "--address", "fd03::1/64"])
 *   .interfaces[0]!;
 * assert.deepEqual(lanHostAddresses(lan, 2), ["10.3.0.3/24", "fd03::3/64"]);
 * ```
 */
export function lanHostAddresses(iface: GatewayInterface, k: number): string[] {
  const out: string[] = [];
  for (const a of iface.addresses) {
    const [addr, len] = a.split("/") as [string, string];
    const ip = IpAddress.parse(addr)!;
    if (ip.family === 4) {
      const c = parseIpv4Cidr(a)!;
      const host = (c.address + k) >>> 0;
      if (host >= ipv4BroadcastAddress(c)) {
        throw new UsageError(`--lan ${iface.name}: no room for ${k} hosts after ${a}`);
      }
      out.push(`${formatIpv4Address(host)}/${len}`);
    } else {
      const b = ip.bytes();
      const last = ((b[14]! << 8) | b[15]!) + k;
      if (last > 0xffff) throw new UsageError(`--lan ${iface.name}: no room for hosts after ${a}`);
      b[14] = last >> 8;
      b[15] = last & 0xff;
      out.push(`${IpAddress.v6(b).toString()}/${len}`);
    }
  }
  return out;
}

/**
 * Runs `up` in gateway mode with `args` until a signal or
 * `options.signal`; returns the exit code (as `runUp`).
 *
 * @param args The words after `up`.
 * @param options As `runUp`'s.
 * @returns The exit code.
 *
 * @example
 * ```ts
 * import { runGateway } from "./gateway.ts";
 * import assert from "node:assert/strict";
 * const errors: string[] = [];
 * const code = await runGateway(["--tun", "tun1"], { printError: (l) => errors.push(l) });
 * assert.equal(code, 2);
 * assert.match(errors[0]!, /--tun tun1 needs an --address/);
 * ```
 */
export async function runGateway(args: string[], options: UpOptions = {}): Promise<number> {
  const printError = options.printError ?? ((l: string) => writeLine(Deno.stderr, l));
  const print = options.print ?? ((l: string) => writeLine(Deno.stdout, l));
  let registry: ServiceRegistry = options.services ?? {};
  let a: GatewayArgs;
  try {
    a = parseGatewayArgs(args);
    const lists = [a.serve, ...a.interfaces.map((i) => i.hostServices)];
    registry = await withServiceModules(lists.flat(), registry);
    for (const list of lists) {
      const unknown = serveProblem(list, registry);
      if (unknown !== undefined) throw new UsageError(unknown);
    }
  } catch (err) {
    return failCommand("up", printError, err);
  }
  return await runUntilStopped(options, (err) => failCommand("up", printError, err), {
    start: () => start(a, registry, printError),
    devices: (gw) => [...gw.devices.values()].map((d) => d.closed),
    async ready(gw) {
      print(`ready ${a.interfaces.map((i) => `${i.name} ${i.addresses.join(" ")}`).join(", ")}`);
      await options.onReady?.(gw.stack, gw.hosts);
    },
    deviceStopped(gw) {
      const dead = [...gw.devices.values()].find((d) => d.error !== null);
      return `a device stopped: ${dead?.error?.message ?? "it was closed"}`;
    },
    stop: (gw) => stop(gw, print, printError),
  });
}

/** The gateway stack's plugins: defaults (or the manifest's), services, NPTv6, MSS clamping, NAT. */
async function gatewayPlugins(
  a: GatewayArgs,
  registry: ServiceRegistry,
  clock: Clock,
  printError: (l: string) => void,
): Promise<PluginLike[]> {
  const base = await servicePluginList(a, chosenServices(a.serve, registry));
  const list = a.manifest === undefined ? withIpv6(base) : base;
  const outside = a.interfaces.find((i) => i.npt !== undefined);
  if (outside !== undefined) {
    list.push({
      plugin: nptv6Plugin,
      options: { ...outside.npt!, interface: outside.name },
    });
  }
  if (a.mssClamp) {
    list.push(mssClampPlugin);
  }
  if (a.nat.length > 0) {
    const names = new Set(list.map((p) => pluginOf(p).manifest.name));
    if (!names.has("conntrack")) list.push(conntrackPlugin);
    if (names.has("nat")) {
      throw new UsageError("NAT flags and a manifest with nat: give the rules in one place");
    }
    list.push({ plugin: natPlugin, options: { rules: a.nat.map(formatNatRule).join(";") } });
  }
  if (a.logLevel === "debug") {
    const log = logLines(printError);
    list.push(
      debugPlugin((time, source, message) => log({ time, level: "debug", source, message })),
    );
  }
  return withEpoch(list, Date.now() * 1000 - clock.now());
}

async function start(
  a: GatewayArgs,
  registry: ServiceRegistry,
  printError: (l: string) => void,
): Promise<Gateway> {
  // Before any device or timer, as up's: the threads started later inherit the mask.
  if (a.cpu !== undefined) pinProcessToCpu(a.cpu);
  const clock = new SystemClock();
  const seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
  const plugins = await gatewayPlugins(a, registry, clock, printError);
  const lans = a.interfaces.filter((i) => i.kind === "lan");
  const net = lans.length === 0 ? null : new VirtualNetwork({ seed, start: clock.now() });
  const stack = createStack({
    ...bootChecks(),
    plugins,
    clock: net?.clock ?? clock,
    seed,
    log: logLines(printError),
    logLevel: a.logLevel,
    name: "gateway",
  });
  try {
    for (const i of a.interfaces) {
      checkLinkPlugin(
        stack,
        i.kind === "tun" ? LINKTYPE_RAW : LINKTYPE_ETHERNET,
        `${i.name} (${i.kind})`,
      );
    }
  } catch (err) {
    stack.close();
    throw err;
  }
  const g: Gateway = {
    stack,
    runner: null,
    devices: new Map(),
    net,
    hosts: [],
    writer: null,
    services: [],
  };
  try {
    if (a.capture !== undefined) {
      g.writer = openCaptureWriter(
        a.capture,
        "pcapng",
        a.interfaces.map((i) => ({ linkType: i.kind === "tun" ? 101 : 1, name: i.name })),
      );
    }
    const drivers: LinkDriver[] = [];
    for (const i of a.interfaces) {
      if (i.kind === "lan") {
        const sw = net!.switch({ name: i.name });
        drivers.push(sw.port());
        const hostPlugins = withEpoch(
          withIpv6(
            await servicePluginList({ plugins: [] }, chosenServices(i.hostServices, registry)),
          ),
          Date.now() * 1000 - clock.now(),
        );
        for (let k = 1; k <= (i.hosts ?? 1); k++) {
          const host = createStack({
            clock: net!.clock,
            seed: (seed + k * 7919) >>> 0,
            name: `${i.name}-host${k}`,
            plugins: hostPlugins,
          });
          net!.addNode(host);
          g.hosts.push(host);
          host.addInterface({ driver: sw.port(), name: "eth0", addresses: lanHostAddresses(i, k) });
          for (const own of i.addresses) addDefaultRoute(host, own.split("/")[0]!, "eth0");
        }
        continue;
      }
      const dev = openTun({
        mode: i.kind,
        name: i.name,
        ...(i.mtu !== undefined ? { mtu: i.mtu } : {}),
        ...(i.kind === "tap" ? { mac: i.mac ?? randomMac(stack.rng) } : {}),
        ...(i.netns !== undefined ? { netns: i.netns } : {}),
        ...(i.offload ? { offload: true } : {}),
      });
      g.devices.set(i.name, dev);
      drivers.push(dev);
      if (i.peers.length > 0) {
        await configurePeer(dev.name, {
          addresses: i.peers,
          quietIpv6: i.kind === "tap" && stack.service("neighbor.ipv6") === undefined,
          ...(i.netns !== undefined ? { netns: i.netns } : {}),
        });
      }
    }
    if (net !== null) net.addNode(stack);
    const node: Pollable = net === null ? stack : realTimeNetwork(net, clock);
    const runner = new RealTimeRunner(node, {
      clock,
      onError: (e) => printError(errorLine("up", `stack poll failed: ${String(e)}`)),
    });
    g.runner = runner;
    a.interfaces.forEach((i, n) => {
      const d = drivers[n]!;
      const driver = g.writer === null
        ? d
        : new CaptureTap(d, { writer: g.writer, epochOffset: "wall", interfaceId: n });
      stack.addInterface({
        driver,
        name: i.name,
        addresses: i.addresses,
        ...(i.kind === "lan" && i.mtu !== undefined ? { mtu: i.mtu } : {}),
      });
    });
    for (const dev of g.devices.values()) dev.onBatch = runner.kick;
    if (a.forward) {
      stack.setForwarding(true, 4);
      if (stack.service("ipv6.route") !== undefined) stack.setForwarding(true, 6);
    }
    runner.start();
    await waitForAddresses([stack, ...g.hosts], runner, printError);
    // Linux's side too: its IPv6 addresses receive only once their local routes exist.
    for (const i of a.interfaces) {
      const dev = g.devices.get(i.name);
      if (dev !== undefined) await waitPeersIpv6Ready(dev.name, i.peers, i.netns);
    }
    for (const i of a.interfaces) for (const gw of i.gateways) addDefaultRoute(stack, gw, i.name);
    for (const s of chosenServices(a.serve, registry)) {
      const handle = await s.start?.(stack);
      if (handle) g.services.push(handle);
    }
    for (const i of a.interfaces) {
      const hosts = g.hosts.filter((h) => h.name.startsWith(`${i.name}-host`));
      for (const s of chosenServices(i.hostServices, registry)) {
        for (const h of hosts) {
          const handle = await s.start?.(h);
          if (handle) g.services.push(handle);
        }
      }
    }
    for (const i of a.interfaces) {
      const peers = i.kind === "lan" ? lanHostAddresses(i, 1) : i.peers;
      for (const p of peers) await checkPeer(stack, runner, p.split("/")[0]!, printError);
    }
    return g;
  } catch (err) {
    await stop(g, () => {}, printError);
    throw err;
  }
}

async function stop(
  g: Gateway,
  print: (l: string) => void,
  printError: (l: string) => void,
): Promise<void> {
  // Reset every TCP connection while the devices still carry the RSTs.
  const reset = g.stack.service<StreamService>("tcp.sockets")?.abortAll?.() ?? 0;
  if (reset > 0 && g.runner !== null) {
    g.runner.kick();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const s of g.services.splice(0).reverse()) {
    try {
      await s.close();
    } catch (err) {
      printError(`cli.ts up: warning: a service failed to stop: ${(err as Error).message}`);
    }
  }
  g.runner?.stop();
  const stats = g.stack.interfaces.list().map((i) => ({ name: i.name, s: { ...i.stats } }));
  g.stack.close();
  for (const h of g.hosts) h.close();
  g.net?.close();
  for (const [name, dev] of g.devices) {
    // Not attached when start-up failed before addInterface: close it here.
    if (!stats.some((x) => x.name === name)) dev.close();
    await dev.closed;
  }
  g.writer?.close();
  for (const { name, s } of stats) {
    const dev = g.devices.get(name);
    print(
      `${name}: rx ${s.rxPackets} packets ${s.rxBytes} bytes, ` +
        `tx ${s.txPackets} packets ${s.txBytes} bytes` +
        (dev !== undefined ? `, tx errors ${dev.stats.txErrors}` : "") +
        (dev !== undefined && dev.offload > 0
          ? `, super-segments rx ${dev.stats.rxGso} tx ${dev.stats.txGso}`
          : ""),
    );
  }
  if (reset > 0) print(`reset ${reset} TCP connection${reset === 1 ? "" : "s"}`);
  const table = g.stack.counterTable();
  if (table !== "") print(table);
}

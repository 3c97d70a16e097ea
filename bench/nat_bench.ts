/**
 * A router between two in-memory links, with NAT (conntrack + nat,
 * `masquerade -o wan`) and without (plain forwarding), measured the same
 * way (issue #12 §Performance):
 *
 * - UDP echo of 64-byte payloads from a client behind the router to a
 *   server beyond it, driven synchronously as in `udp_bench.ts` (window of
 *   64): datagrams/s through the router (each echo is two);
 * - TCP bulk from the client to the server at MTU 1500 (Gbit/s of payload).
 *
 * ```
 *  client 10.1.0.2 ── lan 10.1.0.1 [router] 10.2.0.1 wan ── server 10.2.0.2
 * ```
 *
 * `deno run --allow-all bench/nat_bench.ts` runs `NAT_BENCH_RUNS` (default
 * 5) rounds, each measuring both routers in alternating order after one
 * unrecorded warm-up round, and prints the medians, ranges, the NAT/plain
 * ratio and `uptime` before and after (the machine is shared).
 * `NAT_BENCH_MIB` sets the TCP size (default 128). `nat_bench.ts udp nat
 * 100000` (or `tcp plain 64`) makes one measurement, for cachegrind. `deno bench
 * --allow-all bench/nat_bench.ts` times a batch of UDP echoes through each.
 *
 * @module
 */
import { median } from "./_stats.ts";
import {
  type ArpService,
  conntrackPlugin,
  createStack,
  DEFAULT_PLUGINS,
  IpAddress,
  natPlugin,
  type PluginEntry,
  type Stack,
  type UdpService,
  type UdpSocket,
  VirtualNetwork,
} from "../mod.ts";

/**
 * Which router: plain forwarding, conntrack + nat masquerading the lan, or
 * (single measurements only, to split the cost) conntrack alone.
 */
type Mode = "plain" | "nat" | "conntrack";

interface Routed {
  readonly net: VirtualNetwork;
  readonly client: Stack;
  readonly router: Stack;
  readonly server: Stack;
  close(): void;
}

const CLIENT = IpAddress.parse("10.1.0.2")!;
const ROUTER_LAN = IpAddress.parse("10.1.0.1")!;
const ROUTER_WAN = IpAddress.parse("10.2.0.1")!;
const SERVER = IpAddress.parse("10.2.0.2")!;

/** The three stacks with static neighbours (the data path only: no ARP, DAD or RS). */
function routed(mode: Mode, mtu = 1500): Routed {
  const net = new VirtualNetwork({ seed: 1 });
  const lan = net.link({ mtu });
  const wan = net.link({ mtu });
  const base: PluginEntry[] = DEFAULT_PLUGINS.map((plugin) =>
    plugin.manifest.name === "ndp"
      ? { plugin, options: { dadTransmits: 0 } }
      : plugin.manifest.name === "slaac"
      ? { plugin, options: { routerSolicitations: 0 } }
      : { plugin }
  );
  const nat: PluginEntry[] = mode === "nat"
    ? [{ plugin: conntrackPlugin }, { plugin: natPlugin, options: { rules: "masquerade -o wan" } }]
    : mode === "conntrack"
    ? [{ plugin: conntrackPlugin }]
    : [];
  const make = (seed: number, plugins: PluginEntry[]) =>
    net.addNode(createStack({ clock: net.clock, seed, plugins }));
  const client = make(1, base);
  const router = make(2, [...base, ...nat]);
  const server = make(3, base);
  const ic = client.addInterface({ driver: lan.a, addresses: ["10.1.0.2/24"], mtu });
  const il = router.addInterface({ name: "lan", driver: lan.b, addresses: ["10.1.0.1/24"], mtu });
  const iw = router.addInterface({ name: "wan", driver: wan.a, addresses: ["10.2.0.1/24"], mtu });
  const is = server.addInterface({ driver: wan.b, addresses: ["10.2.0.2/24"], mtu });
  const arp = (s: Stack) => s.service<ArpService>("arp.resolve")!;
  arp(client).addStatic(ic.index, ROUTER_LAN.key as number, il.mac!);
  arp(router).addStatic(il.index, CLIENT.key as number, ic.mac!);
  arp(router).addStatic(iw.index, SERVER.key as number, is.mac!);
  arp(server).addStatic(is.index, ROUTER_WAN.key as number, iw.mac!);
  client.addRoute("default", { gateway: "10.1.0.1" });
  // Both modes get the route back, so they differ only in conntrack + nat.
  server.addRoute("10.1.0.0/24", { gateway: "10.2.0.1" });
  router.setForwarding(true, 4);
  return {
    net,
    client,
    router,
    server,
    close() {
      for (const s of [client, router, server]) s.close();
      net.close();
    },
  };
}

function open(stack: Stack, port: number): UdpSocket {
  const s = stack.service<UdpService>("udp.sockets")!.open({
    port,
    receiveQueueLimit: 4096,
    receiveQueueBytes: 64 << 20,
  });
  if (typeof s === "string") throw new Error(`Cannot open a UDP socket: ${s}`);
  return s;
}

const WINDOW = 64;

/** A synchronous UDP echo through the router; `run` returns the echoes seen. */
function udpEcho(r: Routed): (roundTrips: number) => number {
  const server = open(r.server, 7);
  const client = open(r.client, 40000);
  const sbuf = new Uint8Array(2048);
  server.onReadable = () => {
    for (let n = server.recv(sbuf); n >= 0; n = server.recv(sbuf)) {
      server.send(sbuf.subarray(0, n), server.peerAddress, server.peerPort);
    }
  };
  const data = new Uint8Array(64).fill(0x5a);
  const cbuf = new Uint8Array(2048);
  let toSend = 0;
  let seen = 0;
  client.onReadable = () => {
    while (client.recv(cbuf) >= 0) {
      seen++;
      if (toSend > 0) {
        toSend--;
        client.send(data, SERVER, 7);
      }
    }
  };
  return (roundTrips) => {
    seen = 0;
    const first = Math.min(WINDOW, roundTrips);
    toSend = roundTrips - first;
    for (let i = 0; i < first; i++) client.send(data, SERVER, 7);
    r.net.runUntilIdle();
    return seen;
  };
}

/** Datagrams/s through the router (64 B payload). */
function udpRate(mode: Mode, roundTrips: number): number {
  const r = routed(mode);
  try {
    const run = udpEcho(r);
    run(20_000); // warm up this topology's paths
    const t0 = performance.now();
    const got = run(roundTrips);
    const secs = (performance.now() - t0) / 1000;
    if (got !== roundTrips) throw new Error(`${mode}: echoed ${got} of ${roundTrips}`);
    return 2 * roundTrips / secs;
  } finally {
    r.close();
  }
}

/** Gbit/s of payload, client → server over one connection at MTU 1500. */
async function tcpRate(mode: Mode, bytes: number): Promise<number> {
  const r = routed(mode);
  const listener = r.server.listen({ port: 5001 });
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i * 31;
  try {
    return await r.net.run(async () => {
      const [c, s] = await Promise.all([
        r.client.connect({ hostname: "10.2.0.2", port: 5001 }),
        listener.accept(),
      ]);
      if (mode === "nat" && s.remoteAddr.hostname !== "10.2.0.1") {
        throw new Error(`nat: the server sees ${s.remoteAddr.hostname}, not the router`);
      }
      const t0 = performance.now();
      const writer = (async () => {
        for (let left = bytes; left > 0;) {
          left -= await c.write(chunk.subarray(0, Math.min(chunk.length, left)));
        }
        await c.closeWrite();
      })();
      const buf = new Uint8Array(1 << 20);
      let got = 0;
      for (let n = await s.read(buf); n !== null; n = await s.read(buf)) got += n;
      await writer;
      const secs = (performance.now() - t0) / 1000;
      if (got !== bytes) throw new Error(`${mode}: received ${got} of ${bytes} bytes`);
      c.close();
      s.close();
      return bytes * 8 / secs / 1e9;
    });
  } finally {
    listener.close();
    r.close();
  }
}

function summary(xs: readonly number[], scale: number, digits: number): string {
  const f = (x: number) => (x / scale).toFixed(digits);
  return `median ${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

function uptime(): string {
  try {
    const out = new Deno.Command("uptime", { stdout: "piped", stderr: "null" }).outputSync();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "(uptime not available)";
  }
}

async function report(): Promise<void> {
  const line = (t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));
  const runs = Number(Deno.env.get("NAT_BENCH_RUNS") ?? "5");
  const mib = Number(Deno.env.get("NAT_BENCH_MIB") ?? "128");
  const trips = 200_000;
  line(`uptime before: ${uptime()}`);
  const udp: Record<Mode, number[]> = { plain: [], nat: [], conntrack: [] };
  const tcp: Record<Mode, number[]> = { plain: [], nat: [], conntrack: [] };
  for (let round = 0; round <= runs; round++) {
    const order: Mode[] = round % 2 === 0 ? ["plain", "nat"] : ["nat", "plain"];
    for (const mode of order) {
      const u = udpRate(mode, trips);
      const t = await tcpRate(mode, mib << 20);
      if (round === 0) continue; // warm-up round
      udp[mode].push(u);
      tcp[mode].push(t);
      line(
        `round ${round} ${mode.padEnd(5)}: UDP 64 B ${(u / 1e3).toFixed(0)} k datagrams/s, ` +
          `TCP MTU 1500 ${t.toFixed(2)} Gbit/s`,
      );
    }
  }
  line(`uptime after: ${uptime()}`);
  for (const mode of ["plain", "nat"] as const) {
    line(
      `${mode.padEnd(5)}: UDP 64 B ${summary(udp[mode], 1e6, 3)} M datagrams/s; ` +
        `TCP MTU 1500 ${summary(tcp[mode], 1, 2)} Gbit/s`,
    );
  }
  line(
    `nat/plain (medians): UDP ${(median(udp.nat) / median(udp.plain)).toFixed(2)}, ` +
      `TCP ${(median(tcp.nat) / median(tcp.plain)).toFixed(2)}`,
  );
  // Each round's two runs are neighbours in time: their ratio cancels most of the load.
  const paired = (xs: Record<Mode, number[]>) => xs.nat.map((x, i) => x / xs.plain[i]!);
  line(
    `nat/plain per round: UDP ${summary(paired(udp), 1, 2)}, TCP ${summary(paired(tcp), 1, 2)}`,
  );
}

/**
 * One measurement, for instruction counts and profiles: `udp MODE N` (N
 * echo round trips after the warm-up) or `tcp MODE MIB`. Under cachegrind
 * run two sizes and divide the difference, as `instructions.ts` explains;
 * take 60000 and 100000 (at 20000 the count moved by 1 G between runs).
 */
async function single(kind: string, mode: string, n: number): Promise<void> {
  if (
    (mode !== "plain" && mode !== "nat" && mode !== "conntrack") || !Number.isInteger(n) || n < 1
  ) {
    throw new TypeError("Usage: nat_bench.ts [udp|tcp plain|nat|conntrack N]");
  }
  const rate = kind === "udp" ? udpRate(mode, n) : await tcpRate(mode, n << 20);
  Deno.stdout.writeSync(new TextEncoder().encode(`${kind} ${mode} ${n}: ${rate.toFixed(3)}\n`));
}

if (import.meta.main) {
  if (Deno.args.length > 0) await single(Deno.args[0]!, Deno.args[1] ?? "", Number(Deno.args[2]));
  else await report();
} else {
  for (const mode of ["plain", "nat"] as const) {
    const r = routed(mode);
    const run = udpEcho(r);
    globalThis.addEventListener("unload", () => r.close());
    Deno.bench({
      name: `udp echo 64 B through a ${mode} router, 1024 round trips, window ${WINDOW}`,
      group: "nat router",
      baseline: mode === "plain",
      fn() {
        const got = run(1024);
        if (got !== 1024) throw new Error(`echoed ${got} of 1024`);
      },
    });
  }
}

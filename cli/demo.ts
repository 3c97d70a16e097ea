// deno-lint-ignore-file no-console -- the command line prints
/**
 * `cli.ts demo`: a small internet in memory, no privileges needed. Hosts on
 * a switched LAN resolve each other with ARP and ping; a UDP echo service
 * answers; a traceroute crosses two routers (one link with a small MTU) to a
 * remote LAN, and a TCP echo crosses them. The LAN is behind a NAT: r1
 * masquerades it as its WAN address 10.1.0.1 (conntrack and nat plugins),
 * and r2 has no route back to 10.0.0.0/24; the capture records both sides
 * of r1, so each IPv4 flow out shows before and after translation
 * (traceroute's ICMP errors too, their quoted headers rewritten). Then IPv6
 * on the same LAN (not translated): r1
 * advertises a prefix, the hosts configure themselves (SLAAC), ping6 and a
 * TCP echo over IPv6 between h1 and h2. Everything on the LAN is written to a
 * pcap Wireshark opens. It runs on virtual time, and the same seed gives the
 * same bytes.
 *
 * Topology:
 *
 * ```
 * h1 .1 ─┐                  NAT                      ┌─ far .10
 * h2 .2 ─┼─ switch ─ .254 r1 ═(10.1.0.0/30, MTU 1400)═ r2 .254 ─ 10.2.0.0/24
 * h3 .3 ─┘  10.0.0.0/24
 * ```
 *
 * @module
 */
import { captureFormat, checkOutputPath, parseOptions, UsageError } from "./_common.ts";
import {
  conntrackPlugin,
  createStack,
  formatConntrack,
  formatCounters,
  type LinkDriver,
  MILLISECOND,
  natPlugin,
  type PluginEntry,
  type ProtocolPlugin,
  type Stack,
  VirtualNetwork,
} from "../mod.ts";
import { CaptureTap, parseCapture, PcapngWriter, PcapWriter } from "../drivers/pcapfile/mod.ts";
import { DEMO_PREFIX, type Ipv6DemoResult, runIpv6Exchange } from "./_demo_ipv6.ts";
import { type MulticastDemoResult, runMulticastExchange } from "./_demo_multicast.ts";

/** Help text of `demo`. */
export const DEMO_HELP = `Usage: deno run --allow-read=. --allow-write=. cli.ts demo [options]

Runs a small internet in memory on virtual time and prints what happened:
ARP and ping on a switched LAN, a UDP echo exchange, a TCP echo of 256 KiB
and a traceroute across two routers to a remote LAN, the LAN masqueraded
by the first router (NAT: the capture shows both sides); then IPv6 on the LAN:
the router advertises ${DEMO_PREFIX}, the hosts configure themselves (SLAAC,
DAD), ping6 and a TCP echo of 64 KiB over IPv6; then the other hosts join a
multicast group (IGMPv3) and h1 sends to it. The capture opens in Wireshark.

Options:
  --out FILE    capture file to write (default demo.pcap): pcapng when the
                name ends in .pcapng, else pcap; "-" writes it to standard
                output (the text then goes to standard error). Checked
                (folder, permission) before the demo runs.
  --format pcap|pcapng  the --out format, whatever the name
  --no-capture  write no capture file
  --seed N      random seed (default 1): the same seed gives the same bytes
  --hosts N     hosts on the LAN, 2..50 (default 3)
  -h, --help    this text

Exit status: 0; 1 when an exchange failed or the file cannot be written;
2 for bad options.

Example:
  deno run --allow-read=. --allow-write=. cli.ts demo --seed 7 --out lan.pcap
`;

/** What the demo did, for tests. */
export interface DemoResult {
  /** Exit code: 0 when every exchange succeeded. */
  readonly code: number;
  /** Ping round trips that succeeded. */
  readonly replies: number;
  /** Ping round trips attempted. */
  readonly attempts: number;
  /** UDP datagrams echoed back. */
  readonly udpEchoes: number;
  /** Whether 256 KiB came back identical through TCP echo across the routers. */
  readonly tcpOk: boolean;
  /** Traceroute hops, in order (`*` for no answer). */
  readonly hops: readonly string[];
  /** The IPv6 exchange: hosts configured by SLAAC, ping6 replies, TCP over IPv6. */
  readonly ipv6: Ipv6DemoResult;
  /** The multicast exchange (absent with --help). */
  readonly multicast?: MulticastDemoResult | undefined;
  /** The capture bytes (pcapng, whatever --out says). */
  readonly capture: Uint8Array;
}

const EPOCH = Date.UTC(2026, 0, 1) * 1000; // capture timestamps start at 2026-01-01

/**
 * Runs the demo; `print` receives each output line (default standard
 * output, or standard error when the capture goes to standard output).
 *
 * @throws {UsageError} For bad options, before anything runs.
 */
export async function runDemo(
  args: string[],
  print?: (line: string) => void,
): Promise<DemoResult> {
  const { values } = parseOptions({
    args,
    options: {
      out: { type: "string", default: "demo.pcap" },
      format: { type: "string" },
      "no-capture": { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      hosts: { type: "string", default: "3" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  print ??= values.out === "-" && !values["no-capture"] ? console.error : console.log;
  if (values.help) {
    print(DEMO_HELP);
    return {
      code: 0,
      replies: 0,
      attempts: 0,
      udpEchoes: 0,
      tcpOk: false,
      hops: [],
      ipv6: { configured: 0, replies: 0, attempts: 0, tcpOk: false },
      capture: new Uint8Array(),
    };
  }
  const seed = Number(values.seed);
  const count = Number(values.hosts);
  if (!Number.isInteger(seed)) {
    throw new UsageError(`--seed must be an integer, not "${values.seed}"`);
  }
  if (!(Number.isInteger(count) && count >= 2 && count <= 50)) {
    throw new UsageError(`--hosts must be 2..50, not "${values.hosts}"`);
  }
  const out = values["no-capture"] ? null : values.out!;
  // Before the demo runs: a file it could not write must not cost the whole run.
  if (out !== null) checkOutputPath("--out", out);
  const format = captureFormat(out ?? "", values.format);

  const net = new VirtualNetwork({ seed });
  const writer = new PcapngWriter();
  // Record only what each interface sends: every frame appears once.
  const tap = (driver: LinkDriver, name: string): LinkDriver =>
    new CaptureTap(driver, {
      writer,
      epochOffset: EPOCH,
      receive: false,
      interfaceId: writer.addInterface({ linkType: driver.linkType, name }),
    });
  const node = (name: string, extraPlugins: (ProtocolPlugin | PluginEntry)[] = []): Stack =>
    net.addNode(createStack({ clock: net.clock, rng: net.rng.fork(), name, extraPlugins }));

  // The LAN: hosts and r1 on a switch, with a little jittery wire delay.
  const sw = net.switch();
  const hosts: Stack[] = [];
  for (let i = 1; i <= count; i++) {
    const h = node(`h${i}`);
    const port = sw.port({ faults: { delay: 150 + 50 * i, jitter: 40 } });
    h.addInterface({ name: "eth0", driver: tap(port, `h${i}`), addresses: [`10.0.0.${i}/24`] });
    h.addRoute("default", { gateway: "10.0.0.254" });
    hosts.push(h);
  }
  // r1 is the LAN's NAT router: what leaves by its WAN takes its WAN address.
  const r1 = node("r1", [conntrackPlugin, {
    plugin: natPlugin,
    options: { rules: "masquerade -o wan" },
  }]);
  const r2 = node("r2");
  const far = node("far");
  r1.addInterface({ name: "lan", driver: tap(sw.port(), "r1.lan"), addresses: ["10.0.0.254/24"] });
  // The routers' link: 2 ms each way and a smaller MTU, so big packets are fragmented.
  const wan = net.link({ mtu: 1400, faults: { delay: 2 * MILLISECOND } });
  // The LAN and the WAN are captured (the NAT's two sides; translated, a
  // flow's copies differ in address, so Wireshark sees no duplicates); the
  // remote LAN is not: a copy there would be the WAN's again.
  r1.addInterface({ name: "wan", driver: tap(wan.a, "r1.wan"), addresses: ["10.1.0.1/30"] });
  r2.addInterface({ name: "wan", driver: tap(wan.b, "r2.wan"), addresses: ["10.1.0.2/30"] });
  const remote = net.link({ faults: { delay: 300 } });
  r2.addInterface({ name: "lan", driver: remote.a, addresses: ["10.2.0.254/24"] });
  far.addInterface({ name: "eth0", driver: remote.b, addresses: ["10.2.0.10/24"] });
  far.addRoute("default", { gateway: "10.2.0.254" });
  r1.addRoute("10.2.0.0/24", { gateway: "10.1.0.2" });
  // r2 needs no route to 10.0.0.0/24: it only ever sees r1's 10.1.0.1.
  r1.setForwarding(true);
  r2.setForwarding(true);
  const all = [...hosts, r1, r2, far];

  print(`deno-netstack demo: ${count} hosts on a LAN, two routers, a remote host; seed ${seed}`);
  print("");
  print("Data path of h1:");
  print(
    hosts[0]!.graph().split("\n").filter((l) => l.startsWith("eth0")).map((l) => `  ${l}`).join(
      "\n",
    ),
  );
  print("");

  let replies = 0;
  let attempts = 0;
  let udpEchoes = 0;
  let tcpOk = false;
  const hops: string[] = [];
  let ipv6: Ipv6DemoResult = { configured: 0, replies: 0, attempts: 0, tcpOk: false };
  let multicast: MulticastDemoResult | undefined;
  const t0 = performance.now();
  await net.run(async () => {
    // 1. ARP and ping across the LAN.
    const h1 = hosts[0]!;
    for (let i = 1; i < count; i++) {
      const to = `10.0.0.${i + 1}`;
      const rtts: string[] = [];
      for (let seq = 0; seq < 4; seq++) {
        attempts++;
        try {
          const r = await h1.ping(to, { timeout: 500 });
          rtts.push(r.rtt.toFixed(3));
          replies++;
        } catch (err) {
          rtts.push(`(${(err as Error).message})`);
        }
      }
      print(`ping h1 -> ${to}: ${rtts.length} sent, rtt ms ${rtts.join(" ")}`);
    }

    // 2. A UDP echo service on h2 (RFC 862), and three datagrams from h1.
    const server = hosts[1]!.listenDatagram({ transport: "udp", port: 7 });
    const serving = (async () => {
      for await (const [data, from] of server) await server.send(data, from);
    })();
    const client = h1.listenDatagram({ transport: "udp" });
    for (const text of ["hello", "from", "deno-netstack"]) {
      await client.send(new TextEncoder().encode(text), { hostname: "10.0.0.2", port: 7 });
      const [data, from] = await client.receive();
      udpEchoes++;
      print(
        `udp h1:${client.addr.port} -> ${from.hostname}:${from.port} echo: "${
          new TextDecoder().decode(data)
        }"`,
      );
    }
    client.close();
    server.close();
    await serving.catch(() => {});

    // 3. Across the routers: a big ping (fragmented on the 1400-byte link) and a traceroute.
    attempts++;
    const big = await h1.ping("10.2.0.10", { size: 3000, timeout: 500 });
    replies++;
    print(
      `ping h1 -> 10.2.0.10 with 3000 bytes: reply in ${big.rtt.toFixed(3)} ms (fragmented)`,
    );
    // 4. TCP across the routers: 256 KiB through an echo service on the remote host.
    const listener = far.listen({ port: 7 });
    const echoing = (async () => {
      for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {});
    })();
    const t = net.now();
    const conn = await h1.connect({ hostname: "10.2.0.10", port: 7 });
    const payload = new Uint8Array(256 * 1024).map((_, i) => (i * 31) & 0xff);
    const writing = (async () => {
      for (let off = 0; off < payload.length;) off += await conn.write(payload.subarray(off));
      await conn.closeWrite();
    })();
    const back = new Uint8Array(payload.length);
    for (let got = 0; got < back.length;) {
      const n = await conn.read(back.subarray(got));
      if (n === null) break;
      got += n;
    }
    await writing;
    const same = back.every((b, i) => b === payload[i]);
    tcpOk = same;
    const info = h1.sockets().find((x) => x.remote === "10.2.0.10:7");
    const secs = (net.now() - t) / 1e6;
    print(
      `tcp h1 -> 10.2.0.10:7 echo of 256 KiB: ${same ? "identical" : "DIFFERENT"}, ` +
        `${(2 * payload.length * 8 / secs / 1e6).toFixed(1)} Mbit/s of virtual time` +
        (info ? `, mss ${info.mss}, cwnd ${info.cwnd}, rtt ${info.rtt} ms` : ""),
    );
    conn.close();
    listener.close();
    await echoing.catch(() => {});
    print("traceroute h1 -> 10.2.0.10 (UDP probes):");
    for (
      const hop of await h1.traceroute("10.2.0.10", { maxHops: 8, timeout: 300 })
    ) {
      hops.push(hop.from ?? "*");
      const rtt = hop.rtt === undefined ? "*" : `${hop.rtt.toFixed(3)} ms`;
      print(`  ${hop.ttl}  ${(hop.from ?? "*").padEnd(12)} ${rtt}`);
    }

    // 5. IPv6 on the LAN: SLAAC from r1, ping6 and TCP over IPv6.
    ipv6 = await runIpv6Exchange(net, hosts, r1, print);
    // 6. Multicast on the LAN: the other hosts join a group with sockets, h1 sends to it.
    multicast = await runMulticastExchange(net, hosts, print);
  });
  const wall = performance.now() - t0;
  print("");
  print("Neighbours of h1 (ARP, then NDP):");
  for (const n of hosts[0]!.neighbors()) {
    print(`  ${n.address.padEnd(31)} ${n.mac}  ${n.state}${n.router ? "  router" : ""}`);
  }
  print("");
  print("Counters of h1:");
  print(formatCounters(hosts[0]!.counters.snapshot()).replace(/^/gm, "  "));
  print("Connections r1 tracked (NAT: masquerade -o wan; the reply side is what r2 saw):");
  print(formatConntrack(r1.conntrack()).replace(/^/gm, "  "));
  print("Counters of r1 (forwarding, NAT):");
  const fwd = Object.entries(r1.counters.snapshot()).filter(([k]) =>
    k.startsWith("ipv4.") || k.startsWith("nat.")
  );
  print(formatCounters(Object.fromEntries(fwd)).replace(/^/gm, "  "));
  print("");
  print(
    `${(net.now() / 1000).toFixed(1)} ms of virtual time in ${wall.toFixed(1)} ms of real time; ` +
      `${writer.count} frames captured`,
  );
  const capture = writer.bytes();
  if (out !== null) {
    const bytes = format === "pcapng" ? capture : toPcap(capture);
    if (out === "-") {
      for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
    } else {
      await Deno.writeFile(out, bytes);
      print(`capture written to ${out} (${format}; open it with Wireshark, or: tshark -r ${out})`);
    }
  }
  for (const s of all) s.close();
  net.close();
  const ok = replies === attempts && udpEchoes === 3 && tcpOk &&
    hops[hops.length - 1] === "10.2.0.10" && ipv6.configured === count &&
    ipv6.attempts > 0 && ipv6.replies === ipv6.attempts && ipv6.tcpOk &&
    multicast !== undefined && multicast.received === multicast.expected;
  return { code: ok ? 0 : 1, replies, attempts, udpEchoes, tcpOk, hops, ipv6, multicast, capture };
}

/** The pcapng `bytes` (one link type) as classic pcap. */
function toPcap(bytes: Uint8Array): Uint8Array {
  const { records, interfaces } = parseCapture(bytes);
  const w = new PcapWriter({ linkType: interfaces[0]?.linkType ?? 1 });
  for (const r of records) {
    w.write({ timestamp: r.timestamp, data: r.data, originalLength: r.originalLength });
  }
  return w.bytes();
}

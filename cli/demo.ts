// deno-lint-ignore-file no-console -- the command line prints
/**
 * `cli.ts demo`: a virtual LAN on the loopback driver, no privileges needed.
 * Hosts on a switch resolve each other with ARP and ping, and the run is
 * written to a pcap that Wireshark opens. The same seed gives the same bytes.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createStack, formatCounters, MILLISECOND, type Stack, VirtualNetwork } from "../mod.ts";
import { CaptureTap, PcapWriter } from "../drivers/pcapfile/mod.ts";

/** Help text of `demo`. */
export const DEMO_HELP = `Usage: deno run --allow-read=. --allow-write=. cli.ts demo [options]

Runs a virtual LAN in memory on virtual time and prints what happened.

Options:
  --out FILE    capture file to write (default demo.pcap; "-" for none)
  --seed N      random seed (default 1): the same seed gives the same bytes
  --hosts N     hosts on the switch, 2..50 (default 3)
  --help        this text

Example:
  deno run --allow-read=. --allow-write=. cli.ts demo --seed 7 --out lan.pcap
`;

/** What the demo did, for tests. */
export interface DemoResult {
  /** Exit code. */
  readonly code: number;
  /** Ping round trips that succeeded. */
  readonly replies: number;
  /** Ping round trips attempted. */
  readonly attempts: number;
  /** The capture bytes (empty when not written). */
  readonly capture: Uint8Array;
}

const EPOCH = Date.UTC(2026, 0, 1) * 1000; // capture timestamps start at 2026-01-01

/** Runs the demo; `print` receives each output line. */
export async function runDemo(
  args: string[],
  print: (line: string) => void = console.log,
): Promise<DemoResult> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string", default: "demo.pcap" },
      seed: { type: "string", default: "1" },
      hosts: { type: "string", default: "3" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    print(DEMO_HELP);
    return { code: 0, replies: 0, attempts: 0, capture: new Uint8Array() };
  }
  const seed = Number(values.seed);
  const count = Number(values.hosts);
  if (!Number.isInteger(seed)) {
    throw new TypeError(`--seed must be an integer, got "${values.seed}"`);
  }
  if (!(Number.isInteger(count) && count >= 2 && count <= 50)) {
    throw new RangeError(`--hosts must be 2..50, got "${values.hosts}"`);
  }

  const net = new VirtualNetwork({ seed });
  const sw = net.switch();
  const writer = new PcapWriter({ linkType: 1 });
  const hosts: Stack[] = [];
  for (let i = 1; i <= count; i++) {
    const stack = net.addNode(
      createStack({ clock: net.clock, rng: net.rng.fork(), name: `h${i}` }),
    );
    // A little wire delay with jitter so round-trip times mean something.
    const port = sw.port({ faults: { delay: 150 + 50 * i, jitter: 40 } });
    // Record only what each host sends: every frame appears once in the capture.
    const driver = new CaptureTap(port, { writer, epochOffset: EPOCH, receive: false });
    stack.addInterface({ name: "eth0", driver, addresses: [`10.0.0.${i}/24`] });
    hosts.push(stack);
  }

  print(`deno-netstack demo: ${count} hosts on a virtual switch, seed ${seed}`);
  print("");
  print(hosts[0]!.graph().split("\n").filter((l) => l.startsWith("eth0")).join("\n"));
  print("");
  let replies = 0;
  let attempts = 0;
  const t0 = performance.now();
  await net.run(async () => {
    for (let i = 1; i < count; i++) {
      const from = hosts[0]!;
      const to = `10.0.0.${i + 1}`;
      const rtts: number[] = [];
      for (let seq = 0; seq < 4; seq++) {
        attempts++;
        try {
          const r = await from.ping(to, { timeout: 500 * MILLISECOND });
          rtts.push(r.rtt);
          replies++;
        } catch (err) {
          print(`  ping ${to}: ${(err as Error).message}`);
        }
      }
      const ms = rtts.map((r) => (r / 1000).toFixed(3));
      print(`ping 10.0.0.1 -> ${to}: ${rtts.length}/4 replies, rtt ms ${ms.join(" ")}`);
    }
  });
  const wall = performance.now() - t0;
  print("");
  print("ARP cache of h1:");
  for (const n of hosts[0]!.neighbors()) print(`  ${n.address.padEnd(12)} ${n.mac}  ${n.state}`);
  print("");
  print("Counters of h1:");
  print(formatCounters(hosts[0]!.counters.snapshot()).replace(/^/gm, "  "));
  print("");
  print(
    `${(net.now() / 1000).toFixed(1)} ms of virtual time in ${wall.toFixed(1)} ms of real time; ` +
      `${writer.count} frames captured`,
  );
  const capture = writer.bytes();
  if (values.out !== "-") {
    await Deno.writeFile(values.out!, capture);
    print(`capture written to ${values.out} (open it with Wireshark or tshark -r ${values.out})`);
  }
  for (const h of hosts) h.close();
  net.close();
  return { code: replies === attempts ? 0 : 1, replies, attempts, capture };
}

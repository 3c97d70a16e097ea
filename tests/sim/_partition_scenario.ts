/**
 * A scenario module for `runPartitioned` (drivers/loopback/partition.ts),
 * used by tests/sim/partition_test.ts and `bench/sim_bench.ts --workers`:
 * access switches of hosts, joined in a line or through a core switch by
 * trunks with a delay, and TCP request/response pairs, some of them across
 * a trunk. Reports the number of completed requests and, on request, each
 * host's capture and counters.
 *
 * @module
 */
import {
  createStack,
  DEFAULT_PLUGINS,
  type Faults,
  type Partition,
  type PartitionedScenario,
  type ProtocolPlugin,
  SECOND,
  type Stack,
  type Switch,
  type VirtualNetwork,
} from "../../mod.ts";
import { Capture } from "../_capture.ts";
import { readFull } from "../../drivers/loopback/scenario.ts";

/** Parameters of {@linkcode build}. */
export interface SimParams {
  /** Access switches. */
  readonly switches: number;
  /** Join the access switches through a core switch (a star) instead of in a line. */
  readonly core?: boolean;
  /** Hosts per access switch (even: half clients, half servers). */
  readonly hostsPerSwitch: number;
  /** Every `crossEvery`-th pair of each switch has its server on the next access switch (0: none). */
  readonly crossEvery?: number;
  /** Faults of every host's cable. */
  readonly portFaults?: Faults;
  /** Faults of every trunk (its delay is the lookahead). */
  readonly trunkFaults: Faults;
  /** Request and response bytes (default 1024). */
  readonly size?: number;
  /** Time between a client's requests, µs (default 1 s). */
  readonly interval?: number;
  /** When clients stop, µs. */
  readonly until: number;
  /** Seed base of the hosts. */
  readonly hostSeed: number;
  /** Every client starts at 0 (many frames due at the same instants) instead of at a seeded time. */
  readonly together?: boolean;
  /** Report each host's pcap and counters (tests; large). */
  readonly detail?: boolean;
  /** Switches forget addresses not seen this long, µs (default: the switch's 300 s). */
  readonly ageing?: number;
  /** Partition whose build throws once the partitioning is decided (tests of failure). */
  readonly failIn?: number;
}

const V4 = new Set(["ethernet", "arp", "ipv4", "icmp", "udp", "tcp"]);
const PLUGINS: readonly ProtocolPlugin[] = DEFAULT_PLUGINS.filter((p) => V4.has(p.manifest.name));

function address(i: number): string {
  const n = i + 1;
  return `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** Builds the topology in every partition, and hosts and traffic where `part` owns the switch. */
export function build(net: VirtualNetwork, part: Partition, p: SimParams): PartitionedScenario {
  const m = p.switches, per = p.hostsPerSwitch, half = per >> 1;
  const table = Math.max(1024, 2 * m * per + 16);
  const access: Switch[] = [];
  const switchOptions = {
    macTableSize: table,
    ...(p.ageing === undefined ? {} : { ageing: p.ageing }),
  };
  for (let s = 0; s < m; s++) access.push(part.switch(switchOptions));
  if (p.core === true) {
    const core = part.switch(switchOptions);
    for (const sw of access) part.trunk(sw, core, { faults: p.trunkFaults });
  } else {
    for (let s = 1; s < m; s++) part.trunk(access[s - 1]!, access[s]!, { faults: p.trunkFaults });
  }
  // Every port in every partition: the MACs and link ids must not depend on ownership.
  const port = p.portFaults === undefined ? {} : { faults: p.portFaults };
  const ends = Array.from({ length: m * per }, (_, i) => access[Math.floor(i / per)]!.port(port));
  // After the partitioning is decided (the others go on to run and must be told).
  if (part.owns(access[0]!) !== undefined && part.index === p.failIn) {
    throw new Error(`partition ${p.failIn} fails on purpose`);
  }
  const hosts: (Stack | undefined)[] = [];
  const captures = new Map<number, Capture>();
  for (let i = 0; i < m * per; i++) {
    if (!part.owns(access[Math.floor(i / per)]!)) {
      hosts.push(undefined);
      continue;
    }
    const stack = net.addNode(
      createStack({ clock: net.clock, seed: p.hostSeed * 100_003 + i, plugins: PLUGINS }),
    );
    let driver = ends[i]!;
    if (p.detail === true) {
      const cap = new Capture();
      captures.set(i, cap);
      driver = cap.tap(driver) as unknown as typeof driver;
    }
    stack.addInterface({ driver, addresses: [`${address(i)}/8`] });
    hosts.push(stack);
  }
  const size = p.size ?? 1024, interval = p.interval ?? SECOND;
  let requests = 0;
  for (let s = 0; s < m; s++) {
    for (let j = 0; j < half; j++) {
      const pair = s * half + j;
      // By j alone, so the pairs that cross rotate servers one switch along.
      const crosses = m > 1 && (p.crossEvery ?? 0) > 0 && j % p.crossEvery! === 0;
      const c = s * per + j;
      const srv = ((crosses ? s + 1 : s) % m) * per + half + j;
      // Drawn for every pair in every partition, so the stream is the same everywhere.
      const drawn = net.rng.range(0, interval - 1);
      const start = p.together === true ? 0 : drawn;
      const server = hosts[srv], client = hosts[c];
      if (server !== undefined) {
        const listener = server.listen({ port: 80 });
        void (async () => {
          const conn = await listener.accept();
          listener.close();
          const buf = new Uint8Array(size);
          while (await readFull(conn, buf)) await conn.write(buf);
          conn.close();
        })();
      }
      if (client === undefined) continue;
      void (async () => {
        await new Promise<void>((r) => net.at(start, r));
        const conn = await client.connect({ hostname: address(srv), port: 80 });
        const req = new Uint8Array(size), res = new Uint8Array(size);
        for (let next = start; next + interval <= p.until; next += interval) {
          if (net.now() < next) await new Promise<void>((r) => net.at(next, r));
          req[0] = pair & 0xff;
          await conn.write(req);
          if (!await readFull(conn, res)) break;
          requests++;
        }
        conn.close();
      })();
    }
  }
  return {
    report() {
      const out: Record<string, unknown> = { requests };
      if (p.detail === true) {
        for (const [i, cap] of captures) {
          out[`host${i}.pcap`] = cap.bytes();
          out[`host${i}.counters`] = hosts[i]!.counters.snapshot();
        }
      }
      return out;
    },
  };
}

/**
 * A scenario module for `runPartitioned` (tests/sim/partition_test.ts):
 * frames that cross a trunk at the last instant the sending partition's
 * run-ahead bound allows, against a partition with an event at exactly that
 * instant.
 *
 * Switches s0 and s1 joined by a trunk of 1 ms; every cable 1 ms, no loss,
 * no jitter. On s0, host A sends a UDP datagram to host B every `interval`;
 * B sends each one on at once to host C on s1, and C sends it back to A at
 * once. A datagram A sends at t reaches s0 at t + 1 ms, B at t + 2 ms, s0
 * again at t + 3 ms (when it crosses: the bound of a frame toward a switch
 * that hands it to a host is its time plus both cables), s1 at t + 4 ms,
 * where the partition owning s1 has a callback due at that very instant, C
 * at t + 5 ms, s1 at t + 6 ms and s0 at t + 7 ms (s1 has no other trunk: a
 * frame sent into it comes back at the earliest through a host, two cables
 * later), where the partition owning s0 has a callback due too. A bound one
 * µs too late lets a partition run its callback first, and it then takes
 * the frame in its past (an error), or the bytes differ from one thread's.
 *
 * @module
 */
import {
  createStack,
  DEFAULT_PLUGINS,
  MILLISECOND,
  type Partition,
  type PartitionedScenario,
  type ProtocolPlugin,
  type Stack,
  type VirtualNetwork,
} from "../../mod.ts";
import { Capture } from "../_capture.ts";

/** Parameters of {@linkcode build}. */
export interface RelayParams {
  /** Time between A's datagrams, µs. */
  readonly interval: number;
  /** When A stops, µs. */
  readonly until: number;
}

const V4 = new Set(["ethernet", "arp", "ipv4", "icmp", "udp", "tcp"]);
const PLUGINS: readonly ProtocolPlugin[] = DEFAULT_PLUGINS.filter((p) => V4.has(p.manifest.name));
const CABLE = { faults: { delay: MILLISECOND } };
const NAMES = ["a", "b", "c"] as const;
const ADDRESSES = ["10.0.0.1", "10.0.0.2", "10.0.0.3"] as const;
const PORT = 9000;

/** Builds s0 (A, B) and s1 (C), and the hosts and traffic where `part` owns their switch. */
export function build(net: VirtualNetwork, part: Partition, p: RelayParams): PartitionedScenario {
  const s0 = part.switch(), s1 = part.switch();
  part.trunk(s0, s1, CABLE);
  const ends = [s0.port(CABLE), s0.port(CABLE), s1.port(CABLE)];
  const switchOf = [s0, s0, s1];
  const hosts: (Stack | undefined)[] = [];
  const captures = new Map<number, Capture>();
  for (let i = 0; i < 3; i++) {
    if (!part.owns(switchOf[i]!)) {
      hosts.push(undefined);
      continue;
    }
    const stack = net.addNode(createStack({ clock: net.clock, seed: 70 + i, plugins: PLUGINS }));
    const cap = new Capture();
    captures.set(i, cap);
    stack.addInterface({
      driver: cap.tap(ends[i]!) as unknown as typeof ends[0],
      addresses: [`${ADDRESSES[i]}/24`],
    });
    hosts.push(stack);
  }
  const [a, b, c] = hosts;
  let sent = 0, received = 0, echoed = 0, ticks = 0;
  const sends: number[] = [];
  for (let t = p.interval; t < p.until; t += p.interval) sends.push(t);
  if (a !== undefined) {
    const conn = a.listenDatagram({ transport: "udp", port: PORT });
    void (async () => {
      for (;;) {
        await conn.receive();
        echoed++;
      }
    })().catch(() => {});
    for (const t of sends.slice(2)) net.at(t + 7 * MILLISECOND, () => void ticks++);
    for (const t of sends) {
      net.at(t, () => {
        sent++;
        const data = new Uint8Array([sent & 0xff, sent >> 8]);
        void conn.send(data, { transport: "udp", hostname: ADDRESSES[1], port: PORT });
      });
    }
  }
  if (b !== undefined) {
    const conn = b.listenDatagram({ transport: "udp", port: PORT });
    void (async () => {
      for (;;) {
        const [data] = await conn.receive();
        await conn.send(data, { transport: "udp", hostname: ADDRESSES[2], port: PORT });
      }
    })().catch(() => {});
  }
  if (c !== undefined) {
    const conn = c.listenDatagram({ transport: "udp", port: PORT });
    void (async () => {
      for (;;) {
        const [data] = await conn.receive();
        received++;
        await conn.send(data, { transport: "udp", hostname: ADDRESSES[0], port: PORT });
      }
    })().catch(() => {});
    // An event at the instant every other relayed datagram reaches s1 (after
    // the first two, which wait for ARP): the partition must not run it
    // before taking the datagram. Without one, the partition owning s0 runs
    // ahead of the echo on what it sent alone (U in _partition_async.ts).
    for (const [k, t] of sends.entries()) {
      if (k >= 2 && k % 2 === 0) net.at(t + 4 * MILLISECOND, () => void ticks++);
    }
  }
  return {
    report() {
      const out: Record<string, unknown> = { sent, received, echoed, ticks };
      for (const [i, cap] of captures) {
        out[`${NAMES[i]}.pcap`] = cap.bytes();
        out[`${NAMES[i]}.counters`] = hosts[i]!.counters.snapshot();
      }
      return out;
    },
  };
}

/**
 * What the per-host memory probes (`_idle_memory.ts`, `_pair_memory.ts`)
 * share: hosts with one interface and ARP, IPv4, ICMP, UDP and TCP on one
 * switch, numbered into 10.0.0.0/8, and the memory per host between two
 * measurements after a full GC (`usedAfterGc`).
 *
 * @module
 */
import { createStack, DEFAULT_PLUGINS, type Stack, type VirtualNetwork } from "../../mod.ts";
import type { usedAfterGc } from "../_gc_probe.ts";

const IPV4_PLUGINS = DEFAULT_PLUGINS.filter((p) =>
  ["ethernet", "arp", "ipv4", "icmp", "udp", "tcp"].includes(p.manifest.name)
);

/** The address of host number `n` (from 1) in 10.0.0.0/8. */
export function hostAddress(n: number): string {
  return `10.${n >> 16}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/**
 * Adds `count` hosts to `net`, each on a port of `sw`: host `i` (from 0) is
 * seeded `seed + i` and numbered `first + i` ({@linkcode hostAddress}, /8).
 */
export function addHosts(
  net: VirtualNetwork,
  sw: ReturnType<VirtualNetwork["switch"]>,
  options: { count: number; seed: number; first?: number },
): Stack[] {
  const stacks: Stack[] = [];
  const first = options.first ?? 1;
  for (let i = 0; i < options.count; i++) {
    const s = net.addNode(
      createStack({ clock: net.clock, seed: options.seed + i, plugins: IPV4_PLUGINS }),
    );
    s.addInterface({ driver: sw.port(), addresses: [`${hostAddress(first + i)}/8`] });
    stacks.push(s);
  }
  return stacks;
}

type Used = ReturnType<typeof usedAfterGc>;

/** Heap and external bytes per host that `hosts` hosts added between `before` and `after`. */
export function perHost(
  before: Used,
  after: Used,
  hosts: number,
): { heap: number; external: number } {
  return {
    heap: Math.round((after.heap - before.heap) / hosts),
    external: Math.round((after.external - before.external) / hosts),
  };
}

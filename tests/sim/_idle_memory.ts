/**
 * Measures the heap an idle virtual host costs (issue 19): N hosts with one
 * interface and ARP, IPv4, ICMP, UDP and TCP, no sockets, on one switch;
 * prints `{ hosts, bytesPerHost, heap, external }` as JSON, where
 * `bytesPerHost` is the heap plus external memory (packet-pool ArrayBuffers,
 * which `heapUsed` does not count). Run with `--v8-flags=--expose-gc`:
 * `deno run --v8-flags=--expose-gc tests/sim/_idle_memory.ts 2000`.
 *
 * @module
 */
import { createStack, DEFAULT_PLUGINS, type Stack, VirtualNetwork } from "../../mod.ts";
import { usedAfterGc } from "../_gc_probe.ts";

const IPV4_PLUGINS = DEFAULT_PLUGINS.filter((p) =>
  ["ethernet", "arp", "ipv4", "icmp", "udp", "tcp"].includes(p.manifest.name)
);

/** Heap and external (ArrayBuffer backing stores: packet pool slabs) bytes after a full GC. */
const heap = (): { heap: number; external: number } => usedAfterGc();

/** Heap bytes per idle host, measured over `hosts` hosts after start-up traffic settles. */
export function idleBytesPerHost(hosts: number): { heap: number; external: number } {
  const net = new VirtualNetwork({ seed: 1 });
  const sw = net.switch({ macTableSize: hosts + 16 });
  // Warm up: code, shapes and the network's own pools are not the hosts' cost.
  const warm: Stack[] = [];
  for (let i = 0; i < 8; i++) {
    const s = net.addNode(createStack({ clock: net.clock, seed: i, plugins: IPV4_PLUGINS }));
    s.addInterface({ driver: sw.port(), addresses: [`10.255.0.${i + 1}/8`] });
    warm.push(s);
  }
  net.runFor(5_000_000);
  const before = heap();
  const stacks: Stack[] = [];
  for (let i = 0; i < hosts; i++) {
    const s = net.addNode(createStack({ clock: net.clock, seed: 100 + i, plugins: IPV4_PLUGINS }));
    const n = i + 1;
    s.addInterface({
      driver: sw.port(),
      addresses: [`10.${n >> 16}.${(n >> 8) & 0xff}.${n & 0xff}/8`],
    });
    stacks.push(s);
  }
  net.runFor(5_000_000); // gratuitous ARP and whatever else starts
  const after = heap();
  if (stacks.length !== hosts || warm.length !== 8) throw new Error("unreachable");
  return {
    heap: Math.round((after.heap - before.heap) / hosts),
    external: Math.round((after.external - before.external) / hosts),
  };
}

if (import.meta.main) {
  const hosts = Number(Deno.args[0] ?? "1000");
  const { heap, external } = idleBytesPerHost(hosts);
  // deno-lint-ignore no-console
  console.log(JSON.stringify({ hosts, bytesPerHost: heap + external, heap, external }));
}

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
import { VirtualNetwork } from "../../mod.ts";
import { usedAfterGc } from "../_gc_probe.ts";
import { addHosts, perHost } from "./_host_memory.ts";

/** Heap bytes per idle host, measured over `hosts` hosts after start-up traffic settles. */
export function idleBytesPerHost(hosts: number): { heap: number; external: number } {
  const net = new VirtualNetwork({ seed: 1 });
  const sw = net.switch({ macTableSize: hosts + 16 });
  // Warm up: code, shapes and the network's own pools are not the hosts' cost.
  const warm = addHosts(net, sw, { count: 8, seed: 0, first: (255 << 16) + 1 }); // 10.255.0.1-8
  net.runFor(5_000_000);
  const before = usedAfterGc();
  const stacks = addHosts(net, sw, { count: hosts, seed: 100 });
  net.runFor(5_000_000); // gratuitous ARP and whatever else starts
  const after = usedAfterGc();
  if (stacks.length !== hosts || warm.length !== 8) throw new Error("unreachable");
  return perHost(before, after, hosts);
}

if (import.meta.main) {
  const hosts = Number(Deno.args[0] ?? "1000");
  const { heap, external } = idleBytesPerHost(hosts);
  // deno-lint-ignore no-console
  console.log(JSON.stringify({ hosts, bytesPerHost: heap + external, heap, external }));
}

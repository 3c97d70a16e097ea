/**
 * Measures what a virtual host costs while it runs sim_bench's traffic
 * (issue 19): N hosts on one switch, half of them clients sending a 1 KiB
 * request a second over one TCP connection to a partner answering 1 KiB.
 * Prints `{ hosts, requests, bytesPerHost, heap, external }` as JSON, per
 * host, after a full GC half-way between two requests (connections open,
 * buffers kept between requests). Run with `--v8-flags=--expose-gc`:
 * `deno run --v8-flags=--expose-gc tests/sim/_pair_memory.ts 1000`.
 *
 * @module
 */
import { SECOND, VirtualNetwork } from "../../mod.ts";
import { usedAfterGc } from "../_gc_probe.ts";
import { readFull } from "../../drivers/loopback/scenario.ts";
import { addHosts, hostAddress, perHost } from "./_host_memory.ts";

const REQUEST = new Uint8Array(1024);
const SCRATCH = new Uint8Array(1024);
/** Requests each client sends; memory is measured half a second before the last. */
const ROUNDS = 5;

/** Heap and external bytes per host with the pairs running, and the requests answered. */
export async function pairBytesPerHost(
  hosts: number,
): Promise<{ heap: number; external: number; requests: number }> {
  const net = new VirtualNetwork({ seed: 1 });
  const sw = net.switch({ macTableSize: hosts + 16 });
  const before = usedAfterGc();
  const stacks = addHosts(net, sw, { count: hosts, seed: 100 });
  const pairs = hosts >> 1;
  let after = before;
  let requests = 0;
  // Every client starts within the first second: half a second before the
  // last round, each connection is open and between two requests.
  net.at((ROUNDS - 0.5) * SECOND, () => after = usedAfterGc());
  await net.run(async () => {
    const work: Promise<void>[] = [];
    for (let p = 0; p < pairs; p++) {
      const listener = stacks[pairs + p]!.listen({ port: 80 });
      work.push((async () => {
        const conn = await listener.accept();
        listener.close();
        while (await readFull(conn, SCRATCH)) await conn.write(REQUEST);
        conn.close();
      })());
      const start = net.rng.range(0, SECOND - 1);
      work.push((async () => {
        await new Promise<void>((r) => net.at(start, r));
        const conn = await stacks[p]!.connect({ hostname: hostAddress(pairs + p + 1), port: 80 });
        for (let round = 0; round < ROUNDS; round++) {
          const due = start + round * SECOND;
          if (net.now() < due) await new Promise<void>((r) => net.at(due, r));
          await conn.write(REQUEST);
          if (!await readFull(conn, SCRATCH)) break;
          requests++;
        }
        conn.close();
      })());
    }
    await Promise.all(work);
  }, { timeout: (ROUNDS + 60) * SECOND });
  for (const s of stacks) s.close();
  net.close();
  return { ...perHost(before, after, hosts), requests };
}

if (import.meta.main) {
  const hosts = Number(Deno.args[0] ?? "1000");
  // Warm up: code, shapes and shared spares are not the hosts' cost.
  await pairBytesPerHost(8);
  const { heap, external, requests } = await pairBytesPerHost(hosts);
  // deno-lint-ignore no-console
  console.log(JSON.stringify({ hosts, requests, bytesPerHost: heap + external, heap, external }));
}

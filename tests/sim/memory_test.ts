/**
 * Memory per idle virtual host (issue 19): one interface, ARP, IPv4, ICMP,
 * UDP and TCP, no sockets, at most 42 KiB (issue 19 asks for 64) of heap plus packet-pool
 * ArrayBuffers, and independent of the network's size (measured in a child
 * process that can force garbage collection: `_idle_memory.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildLan,
  createStack,
  MILLISECOND,
  requestResponse,
  SECOND,
  VirtualNetwork,
} from "../../mod.ts";
import { EMPTY_MAP, EMPTY_SET } from "../../stack/_shared_empty.ts";
import { CongestionRegistry } from "../../stack/protocols/tcp/congestion/registry.ts";
import { NewReno } from "../../stack/protocols/tcp/congestion/newreno.ts";
import { runGcProbe } from "../_gc_probe.ts";

/**
 * Issue 19 asks for 64 KiB; session 9 measured 39.4 KB at 250 hosts and
 * 37.3 KB at 1,000 (counters made on first use, shared empty tables): this
 * leaves about 9% for noise, so a regression of a few hundred bytes per
 * host in what every stack holds fails here.
 */
const LIMIT = 42 * 1024;

function bytesPerHost(hosts: number): Promise<{ bytesPerHost: number; heap: number }> {
  return runGcProbe(new URL("./_idle_memory.ts", import.meta.url), String(hosts));
}

Deno.test("an idle virtual host costs at most 42 KiB (heap + pool buffers), the same at 250 and 1,000 hosts on one switch", async () => {
  const small = await bytesPerHost(250);
  const large = await bytesPerHost(1000);
  for (const m of [small, large]) {
    assert.ok(m.heap > 1024, `implausibly small: ${m.heap} B of heap`);
    assert.ok(m.bytesPerHost <= LIMIT, `${m.bytesPerHost} B per idle host`);
  }
  // Per-host cost must not grow with the network (flooded ARP learned into
  // every cache, per-port arrays, ...): 4× the hosts, at most 2% more each.
  assert.ok(
    large.bytesPerHost <= small.bytesPerHost * 1.02,
    `per-host cost grows with the network: ${small.bytesPerHost} B at 250, ${large.bytesPerHost} B at 1,000`,
  );
});

/**
 * A host of sim_bench's traffic (a 1 KiB request and answer a second over
 * one connection), measured between two requests with its own packet pool:
 * session 10 measured 10.7 KB of buffers (packet pool slabs, about 6 KB;
 * TCP rings sized to the 1 KiB they hold; one store per rate sampler and
 * RACK ring) and 56.4 KB in all at 500 hosts, against 15.3 and 61.5 KB
 * before (rings of 4 KiB from the first byte, seven stores per rate
 * sampler, five per RACK ring). The bounds leave about 17% and 9%: rings
 * that start at 4 KiB again fail here.
 */
const PAIR_EXTERNAL_LIMIT = 12.5 * 1024;
const PAIR_LIMIT = 60 * 1024;

Deno.test("a host running a 1 KiB request/response a second holds at most 12.5 KiB of buffers and 60 KiB in all", async () => {
  type Pair = { hosts: number; requests: number; bytesPerHost: number; external: number };
  const m = await runGcProbe<Pair>(new URL("./_pair_memory.ts", import.meta.url), "500");
  // Every client's five requests answered: the traffic really ran.
  assert.equal(m.requests, 250 * 5);
  assert.ok(m.external > 1024, `implausibly small: ${m.external} B of buffers`);
  assert.ok(m.external <= PAIR_EXTERNAL_LIMIT, `${m.external} B of buffers per host`);
  assert.ok(m.bytesPerHost <= PAIR_LIMIT, `${m.bytesPerHost} B per host`);
});

Deno.test("a flood in flight costs one queue entry, not one per port: at most 20 B per delivery, the same at 200 and 400 ports", async () => {
  type Flood = { deliveries: number; pending: number; bytesPerDelivery: number; received: number };
  const probe = new URL("./_flood_memory.ts", import.meta.url);
  const small = await runGcProbe<Flood>(probe, "200");
  const large = await runGcProbe<Flood>(probe, "400");
  for (const m of [small, large]) {
    // Every delivery is still counted as pending and still arrives.
    assert.equal(m.pending, m.deliveries);
    assert.equal(m.received, m.deliveries);
    // One entry object per delivery (as before one per flood) was ~90 B.
    assert.ok(m.bytesPerDelivery <= 20, `${m.bytesPerDelivery} B per flooded delivery in flight`);
  }
  assert.ok(
    large.bytesPerDelivery <= small.bytesPerDelivery + 4,
    `per-delivery cost grows with the port count: ${small.bytesPerDelivery} B at 200, ${large.bytesPerDelivery} B at 400`,
  );
});

Deno.test("the shared empty Map and Set stay empty through TCP, UDP, ping, fragments, ICMP errors, ARP queues and a registered congestion control", async () => {
  // Any write, even one undone later (a connection closed, a datagram
  // reassembled), would have leaked into every other stack's table meanwhile.
  const writes: string[] = [];
  const spy = (what: string) => (key: unknown) => {
    writes.push(`${what}(${String(key)})`);
    throw new Error(`${what} on a shared empty table`);
  };
  Object.assign(EMPTY_MAP, { set: spy("Map.set") });
  Object.assign(EMPTY_SET, { add: spy("Set.add") });
  try {
    await sharedEmptyTraffic();
  } finally {
    delete (EMPTY_MAP as { set?: unknown }).set;
    delete (EMPTY_SET as { add?: unknown }).add;
  }
  assert.deepEqual(writes, []);
  assert.equal(EMPTY_MAP.size + EMPTY_SET.size, 0);
});

async function sharedEmptyTraffic(): Promise<void> {
  const net = new VirtualNetwork({ seed: 3 });
  const lan = buildLan(
    net,
    {
      hosts: 4,
      switches: 2,
      portFaults: { delay: MILLISECOND },
      router: (s) => createStack({ clock: net.clock, seed: 90 + s }),
    },
    (i) => createStack({ clock: net.clock, seed: 10 + i }),
  );
  const [a, b] = [lan.hosts[0]!, lan.hosts[1]!];
  const done = await net.run(async () => {
    // TCP: listeners and connections (ConnTable, ListenTable).
    const tcp = requestResponse(net, lan, [[0, 1], [2, 3]], { until: 4 * SECOND });
    // UDP: sockets (SocketTable), a datagram in fragments (both reassembly tables).
    const server = b.listenDatagram({ transport: "udp", port: 7 });
    const client = a.listenDatagram({ transport: "udp", port: 7000 });
    await client.send(new Uint8Array(4000), {
      transport: "udp",
      hostname: lan.address(1),
      port: 7,
    });
    const [got] = await server.receive();
    // ICMP: echo probes, and errors (the rate limiter) for a port nobody has.
    await a.ping(lan.address(1));
    await client.send(new Uint8Array(8), { transport: "udp", hostname: lan.address(1), port: 9 });
    server.close();
    client.close();
    return [await tcp, got.length] as const;
  });
  assert.ok(done[0] > 0 && done[1] === 4000, `tcp ${done[0]}, udp ${done[1]}`);
  for (const h of [...lan.hosts, ...lan.routers]) h.close();
  net.close();
  const registry = new CongestionRegistry();
  registry.register("fixed", (mss, iw) => new NewReno(mss, iw));
  assert.ok(registry.has("fixed"));
}

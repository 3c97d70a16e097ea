/**
 * The process's side of `queue_pinning_test.ts`: a hostile sender's small
 * datagrams queued one per slab on a socket nobody reads, each among 511
 * datagrams to a socket that is then read empty, and prints as JSON the
 * heap plus external memory the queue keeps alive after a full GC (its
 * sockets closed: the difference), with what the queue charges. Run in a
 * subprocess with `--v8-flags=--expose-gc`.
 *
 * @module
 */
import type { UdpService } from "../../mod.ts";
import { makeHost } from "../_harness.ts";
import { udpFrame } from "./_udp.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

/** Resident memory after a full GC: checksum arenas (WebAssembly memories) are not in `external`. */
function used(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().rss;
}

const ROUNDS = 32, OTHERS = 511;
// The stack's queues may hold more than the pool's free list keeps (8,192
// small buffers), so the other traffic's slabs are not all kept by it.
const h = makeHost({ plugins: { udp: { totalQueueBytes: 64 << 20 } } });
const udp = h.stack.service<UdpService>("udp.sockets")!;
const victim = udp.open({ port: 9, receiveQueueLimit: 1024 });
const bulk = udp.open({ port: 10, receiveQueueLimit: 65536, receiveQueueBytes: 64 << 20 });
if (typeof victim !== "object" || typeof bulk !== "object") throw new Error("cannot open");
const frame = (port: number) =>
  udpFrame({
    srcMac: "02:00:00:00:00:fe",
    dstMac: "02:00:00:00:00:01",
    src: "10.0.0.9",
    dst: "10.0.0.1",
    srcPort: 4000,
    dstPort: port,
    data: new Uint8Array(40),
  });
const toVictim = frame(9), toBulk = frame(10);
for (let i = 0; i < ROUNDS; i++) {
  for (let k = 0; k < OTHERS; k++) h.inject(toBulk);
  h.inject(toVictim);
}
const into = new Uint8Array(64);
while (bulk.recv(into) >= 0) { /* the other traffic is read */ }
bulk.close();
const charged = udp.list().find((s) => s.local === "0.0.0.0:9")!.queuedMemory;
const queued = victim.queued;
const withQueue = used();
victim.close();
const kept = withQueue - used();
Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify({ queued, charged, kept }) + "\n"));
h.finish();

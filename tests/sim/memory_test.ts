/**
 * Memory per idle virtual host (issue 19): one interface, ARP, IPv4, ICMP,
 * UDP and TCP, no sockets, at most 64 KiB of heap plus packet-pool
 * ArrayBuffers, and independent of the network's size (measured in a child
 * process that can force garbage collection: `_idle_memory.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { runGcProbe } from "../_gc_probe.ts";

const LIMIT = 64 * 1024;

function bytesPerHost(hosts: number): Promise<{ bytesPerHost: number; heap: number }> {
  return runGcProbe(new URL("./_idle_memory.ts", import.meta.url), String(hosts));
}

Deno.test("an idle virtual host costs at most 64 KiB (heap + pool buffers), the same at 250 and 1,000 hosts on one switch", async () => {
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

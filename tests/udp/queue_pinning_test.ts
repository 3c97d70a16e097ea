/**
 * What a UDP receive queue keeps alive: each queued datagram is charged its
 * pooled buffer (`queuedMemory`), so the backing stores the queued copies
 * keep reachable must add up to no more than that. A copy carved from the
 * pool's shared slabs or checksum arenas (up to 1 MiB, 512 small or 64
 * medium buffers each) keeps the whole slab alive: a hostile sender whose
 * datagrams each land in a slab that other traffic then gives back pins a
 * slab per datagram while the queue charges 2 KiB (session 14's audit).
 */
import assert from "node:assert/strict";
import type { UdpService } from "../../mod.ts";
import { makeHost } from "../_harness.ts";
import { pooledBufferSize } from "../../stack/packet_pool.ts";
import { followAllocations, pinnedBytes } from "../_pool_pinning.ts";
import { udpFrame } from "./_udp.ts";

/**
 * `rounds` datagrams of `size` bytes to a victim socket, each after
 * `others` datagrams to a bulk socket that keeps them queued, so the
 * victim's copies fall one per slab; then the bulk socket is read empty.
 * Returns what the victim's queue charges and what its copies keep alive.
 */
function hostileRun(
  mtu: number,
  size: number,
  others: number,
  rounds: number,
): { charged: number; pinned: number; queued: number } {
  const h = makeHost({ mtu });
  const udp = h.stack.service<UdpService>("udp.sockets")!;
  const victim = udp.open({ port: 9, receiveQueueLimit: 1024 });
  const bulk = udp.open({ port: 10, receiveQueueLimit: 65536, receiveQueueBytes: 64 << 20 });
  assert.ok(typeof victim === "object" && typeof bulk === "object");
  const pool = h.stack.pool;
  // Every buffer the stack's pool hands out (the queued copies among them).
  const follow = followAllocations(pool);
  const frame = (port: number, i: number) =>
    udpFrame({
      srcMac: "02:00:00:00:00:fe",
      dstMac: "02:00:00:00:00:01",
      src: "10.0.0.9",
      dst: "10.0.0.1",
      srcPort: 4000,
      dstPort: port,
      data: new Uint8Array(size).fill(i),
    });
  const bulkFrame = frame(10, 0xbb);
  try {
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < others; k++) h.inject(bulkFrame);
      h.inject(frame(9, i));
    }
  } finally {
    follow.stop();
  }
  const into = new Uint8Array(size);
  assert.equal(bulk.queued, rounds * others, "the bulk socket kept every datagram");
  while (bulk.recv(into) >= 0) { /* the other traffic is read */ }
  const kept = follow.handedOut.filter((p) => !p.released);
  const charged = udp.list().find((s) => s.local === "0.0.0.0:9")!.queuedMemory;
  const result = { charged, pinned: pinnedBytes(kept), queued: victim.queued };
  assert.equal(kept.length, victim.queued, "only the victim's copies are still out");
  victim.close();
  bulk.close();
  assert.equal(pool.outstanding, 0);
  h.finish();
  return result;
}

Deno.test("udp receive queue of small datagrams, one per slab among other traffic: keeps alive no more than it charges", () => {
  const rounds = 12, size = 40;
  const r = hostileRun(1500, size, 511, rounds);
  assert.equal(r.queued, rounds);
  assert.equal(r.charged, rounds * pooledBufferSize(size));
  assert.ok(
    r.pinned <= r.charged,
    `the copies keep ${r.pinned} bytes alive, the queue charges ${r.charged}`,
  );
});

Deno.test("udp receive queue of jumbo datagrams, one per arena among other traffic: keeps alive no more than it charges", () => {
  const rounds = 12, size = 8000;
  const r = hostileRun(9000, size, 63, rounds);
  assert.equal(r.queued, rounds);
  assert.equal(r.charged, rounds * pooledBufferSize(size));
  assert.ok(
    r.pinned <= r.charged,
    `the copies keep ${r.pinned} bytes alive, the queue charges ${r.charged}`,
  );
});

Deno.test("udp receive queue of small datagrams, one per slab among other traffic: the process keeps no more than the queue charges", async () => {
  // A subprocess with a GC it can call; resident memory, as checksum arenas are not `external`.
  const probe = new URL("./_pinning_probe.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "--v8-flags=--expose-gc", probe.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, number>;
  assert.equal(r.queued, 32, JSON.stringify(r));
  // 1 MiB of slack for the resident set's noise; one slab per datagram was 15.7 MB.
  assert.ok(
    r.kept! <= r.charged! + (1 << 20),
    `closing the queue freed ${r.kept} bytes: ${JSON.stringify(r)}`,
  );
});

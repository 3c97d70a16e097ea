/**
 * What datagrams in reassembly keep alive: each is charged its buffer
 * (`Reassembler.memory`), so the backing stores its buffers keep reachable
 * must add up to no more. A small assembly buffer carved from the pool's
 * shared slabs (up to 1 MiB, 512 buffers) kept a slab per datagram: first
 * fragments that never complete, each among traffic the pool then gets
 * back, kept 64 slabs alive against 64 small buffers charged.
 */
import assert from "node:assert/strict";
import { Reassembler } from "./reassembly.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketPool } from "../../packet_pool.ts";
import { emitIpv4 } from "../../wire/ipv4.ts";
import { assertKeepsWhatItCharges, followAllocations } from "../../../tests/_pool_pinning.ts";

Deno.test("ipv4 reassembly: incomplete datagrams, one per slab among other traffic, keep alive no more than they charge", () => {
  const pool = new PacketPool();
  const reasm = new Reassembler(pool, () => 0);
  const follow = followAllocations(pool);
  const others: PacketBuffer[] = [];
  const N = 64; // the default most datagrams in progress
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < 511; k++) others.push(pool.alloc(1500)); // other traffic, in flight
    // A first fragment (more fragments, offset 0) of a datagram that never completes.
    const f = pool.alloc(20 + 1000);
    emitIpv4({
      src: 0x0a000100 + i, // one source each: the per-source cap is 16
      dst: 0x0a000001,
      protocol: 17,
      ttl: 64,
      payloadLength: 1000,
      identification: i,
      moreFragments: true,
    }, f.data);
    assert.equal(reasm.add(f), null);
    f.release();
  }
  follow.stop();
  for (const p of others) p.release();
  const kept = follow.handedOut.filter((p) => !p.released);
  assert.equal(reasm.size, N);
  assert.equal(kept.length, N, "one assembly buffer per datagram");
  assertKeepsWhatItCharges(kept, reasm.memory, "reassembly");
});

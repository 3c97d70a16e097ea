/**
 * What datagrams in IPv6 reassembly keep alive: each is charged its buffer
 * (`Ipv6Reassembler.memory`), so the backing stores its buffers keep
 * reachable must add up to no more. A small assembly buffer carved from the
 * pool's shared slabs (up to 1 MiB, 512 buffers) kept a slab per datagram:
 * first fragments that never complete, each among traffic the pool then
 * gets back, kept 64 slabs alive against 64 small buffers charged.
 */
import assert from "node:assert/strict";
import { Ipv6Reassembler } from "./reassembly.ts";
import { fragmentIpv6 } from "./fragment.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketPool } from "../../packet_pool.ts";
import { IpAddress } from "../../wire/ip_address.ts";
import { writeIpv6Header } from "../../wire/ipv6.ts";
import { Ipv6Chain, walkIpv6Chain } from "../../wire/ipv6_chain.ts";
import { assertKeepsWhatItCharges, followAllocations } from "../../../tests/_pool_pinning.ts";

Deno.test("ipv6 reassembly: incomplete datagrams, one per slab among other traffic, keep alive no more than they charge", () => {
  const pool = new PacketPool();
  const reasm = new Ipv6Reassembler(pool, () => 0);
  const handedOut: PacketBuffer[] = [];
  const chain = new Ipv6Chain();
  const dst = IpAddress.parse("2001:db8::1")!.key;
  const others: PacketBuffer[] = [];
  const N = 64; // the default most datagrams in progress
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < 511; k++) others.push(pool.alloc(1500)); // other traffic, in flight
    // The first of three fragments of a datagram that never completes, one source each.
    const whole = pool.alloc(40 + 3000);
    const src = IpAddress.parse(`2001:db8::1:${i.toString(16)}`)!.key;
    writeIpv6Header(whole.buf, whole.start, 3000, 17, 64, src, dst);
    const frags: PacketBuffer[] = [];
    fragmentIpv6(whole, 1280, i, pool, frags);
    whole.release();
    const first = frags[0]!;
    walkIpv6Chain(first.buf, first.start, first.end, chain);
    const follow = followAllocations(pool);
    assert.equal(reasm.add(first, chain), null);
    follow.stop();
    handedOut.push(...follow.handedOut);
    for (const f of frags) f.release();
  }
  for (const p of others) p.release();
  const kept = handedOut.filter((p) => !p.released);
  assert.equal(reasm.size, N);
  assert.equal(kept.length, N, "one assembly buffer per datagram");
  assertKeepsWhatItCharges(kept, reasm.memory, "reassembly");
});

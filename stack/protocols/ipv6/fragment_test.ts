import assert from "node:assert/strict";
import type { PacketBuffer } from "../../packet.ts";
import { PacketPool } from "../../packet_pool.ts";
import { IpAddress } from "../../wire/ip_address.ts";
import { ipv6PayloadLength, writeIpv6Header } from "../../wire/ipv6.ts";
import { Ipv6Chain, walkIpv6Chain } from "../../wire/ipv6_chain.ts";
import { fragmentIpv6 } from "./fragment.ts";

const SRC = IpAddress.parse("2001:db8::1")!.key;
const DST = IpAddress.parse("2001:db8::2")!.key;

/** A packet: fixed header (first next header `first`), extension bytes `ext`, `payload` ramp bytes. */
function make(pool: PacketPool, payload: number, first = 17, ext: number[] = []): PacketBuffer {
  const pkt = pool.alloc(40 + ext.length + payload);
  const s = pkt.start;
  writeIpv6Header(pkt.buf, s, ext.length + payload, first, 64, SRC, DST);
  pkt.buf.set(ext, s + 40);
  for (let i = 0; i < payload; i++) pkt.buf[s + 40 + ext.length + i] = (i * 7 + 3) & 0xff;
  pkt.proto = 17;
  pkt.mark = 9;
  return pkt;
}

Deno.test("fragmentIpv6: 8-byte aligned pieces under the MTU, one Identification, M on all but the last (RFC 8200 §4.5)", () => {
  const pool = new PacketPool();
  const pkt = make(pool, 3000);
  const out: PacketBuffer[] = [];
  assert.equal(fragmentIpv6(pkt, 1280, 0xcafef00d, pool, out), 3);
  assert.equal(out[0], pkt);
  const chain = new Ipv6Chain();
  let expectOffset = 0;
  out.forEach((f, i) => {
    assert.ok(f.length <= 1280);
    assert.equal(ipv6PayloadLength(f.buf, f.start), f.length - 40);
    assert.equal(walkIpv6Chain(f.buf, f.start, f.end, chain), null);
    assert.ok(chain.isFragment);
    assert.equal(chain.fragmentAt, f.start + 40);
    assert.equal(chain.identification, 0xcafef00d);
    assert.equal(chain.fragmentOffset, expectOffset);
    assert.equal(chain.moreFragments, i < 2);
    assert.equal(f.buf[chain.fragmentAt], 17);
    if (i < 2) assert.equal((f.length - 48) % 8, 0);
    expectOffset += f.length - 48;
    assert.equal(f.l3, f.start);
    assert.equal(f.srcAt, f.start + 8);
    assert.equal(f.mark, 9);
  });
  assert.equal(expectOffset, 3000);
  assert.equal(out[2]!.buf[out[2]!.end - 1], (2999 * 7 + 3) & 0xff);
  for (const f of out) f.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("fragmentIpv6: a packet that fits is sent whole, never as an atomic fragment (RFC 8021)", () => {
  const pool = new PacketPool();
  const pkt = make(pool, 1240);
  const before = pkt.data.slice();
  const out: PacketBuffer[] = [];
  assert.equal(fragmentIpv6(pkt, 1280, 1, pool, out), 1);
  assert.deepEqual(pkt.data, before);
  pkt.release();
});

Deno.test("fragmentIpv6: Hop-by-Hop and Routing stay in every fragment, later Destination Options only in the first", () => {
  const pool = new PacketPool();
  // HBH (PadN) → Routing (segments left 0) → Destination Options (PadN) → UDP
  const ext = [43, 0, 1, 4, 0, 0, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0];
  const pkt = make(pool, 2000, 0, ext);
  const out: PacketBuffer[] = [];
  assert.equal(fragmentIpv6(pkt, 1280, 5, pool, out), 2);
  const chain = new Ipv6Chain();
  for (const f of out) {
    assert.equal(walkIpv6Chain(f.buf, f.start, f.end, chain), null);
    assert.equal(chain.fragmentAt, f.start + 56); // after HBH and Routing
    assert.equal(chain.fragmentNamedAt, f.start + 48); // the Routing header names it
    assert.equal(f.buf[chain.fragmentAt], 60);
  }
  walkIpv6Chain(out[0]!.buf, out[0]!.start, out[0]!.end, chain);
  assert.equal(chain.protocol, 17);
  assert.equal(chain.upperAt, out[0]!.start + 72);
  for (const f of out) f.release();
});

Deno.test("fragmentIpv6: an MTU too small for one 8-byte piece is refused and the packet untouched", () => {
  const pool = new PacketPool();
  const pkt = make(pool, 100);
  const before = pkt.data.slice();
  const out: PacketBuffer[] = [];
  assert.equal(fragmentIpv6(pkt, 60, 1, pool, out), "fragment_mtu_too_small");
  assert.deepEqual(pkt.data, before);
  assert.equal(out.length, 0);
  pkt.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("fragmentIpv6: the first fragment must hold the chain and the upper-layer header (RFC 7112)", () => {
  const pool = new PacketPool();
  // A 64-byte Destination Options header before TCP, MTU leaving 64 bytes per piece.
  const ext = [6, 7, 1, 62, ...new Array(60).fill(0)];
  const pkt = make(pool, 200, 60, ext);
  const out: PacketBuffer[] = [];
  assert.equal(fragmentIpv6(pkt, 40 + 8 + 64, 1, pool, out), "fragment_mtu_too_small");
  assert.equal(fragmentIpv6(pkt, 40 + 8 + 88, 1, pool, out), 3); // 64 + 200 bytes in 88s
  for (const f of out) f.release();
});

Deno.test("fragmentIpv6: a packet that already has a Fragment header is not fragmented again", () => {
  const pool = new PacketPool();
  const pkt = make(pool, 2000, 44, [17, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(fragmentIpv6(pkt, 1280, 1, pool, []), "fragment_bad_header");
  pkt.release();
});

import assert from "node:assert/strict";
import type { PacketBuffer } from "../../packet.ts";
import { PacketPool } from "../../packet_pool.ts";
import { emitIpv4, type Ipv4Repr } from "../../wire/ipv4.ts";
import { internetChecksum } from "../../wire/checksum.ts";
import { fragmentIpv4, ipv4HeaderChecksum } from "./fragment.ts";

/** A datagram with a byte ramp as payload, in a pooled buffer. */
function datagram(pool: PacketPool, payload: number, extra: Partial<Ipv4Repr> = {}): PacketBuffer {
  const repr: Ipv4Repr = {
    src: 0x0a000001,
    dst: 0x0a000002,
    protocol: 17,
    ttl: 33,
    payloadLength: payload,
    identification: 0x1234,
    ...extra,
  };
  const hlen = 20 + (((extra.options?.length ?? 0) + 3) & ~3);
  const pkt = pool.alloc(hlen + payload);
  emitIpv4(repr, pkt.data);
  for (let i = 0; i < payload; i++) pkt.buf[pkt.start + hlen + i] = i & 0xff;
  return pkt;
}

interface Frag {
  hlen: number;
  total: number;
  id: number;
  mf: boolean;
  df: boolean;
  offset: number;
  ttl: number;
  payload: Uint8Array;
  header: Uint8Array;
}

function read(f: PacketBuffer): Frag {
  const b = f.data;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const hlen = (b[0]! & 0x0f) * 4;
  const word = dv.getUint16(6);
  assert.equal(internetChecksum(b.subarray(0, hlen)), 0, "header checksum");
  assert.equal(f.l3, f.start);
  return {
    hlen,
    total: dv.getUint16(2),
    id: dv.getUint16(4),
    mf: (word & 0x2000) !== 0,
    df: (word & 0x4000) !== 0,
    offset: (word & 0x1fff) * 8,
    ttl: b[8]!,
    payload: b.slice(hlen, dv.getUint16(2)),
    header: b.slice(0, hlen),
  };
}

function release(list: PacketBuffer[]): void {
  for (const f of list) f.release();
}

Deno.test("fragmentIpv4() splits 3000 bytes at MTU 1500 into 1480 + 1480 + 40 with MF and offsets", () => {
  const pool = new PacketPool();
  const out: PacketBuffer[] = [];
  const pkt = datagram(pool, 3000);
  assert.equal(fragmentIpv4(pkt, 1500, pool, out), 3);
  assert.equal(out[0], pkt, "the original buffer becomes the first fragment");
  const f = out.map(read);
  assert.deepEqual(f.map((x) => x.total), [1500, 1500, 60]);
  assert.deepEqual(f.map((x) => x.offset), [0, 1480, 2960]);
  assert.deepEqual(f.map((x) => x.mf), [true, true, false]);
  assert.ok(f.every((x) => x.id === 0x1234 && x.ttl === 33 && !x.df));
  const joined = new Uint8Array(3000);
  for (const x of f) joined.set(x.payload, x.offset);
  assert.deepEqual(joined, Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff));
  release(out);
  assert.equal(pool.outstanding, 0);
});

Deno.test("fragmentIpv4() payloads of all but the last fragment are multiples of 8 bytes", () => {
  const pool = new PacketPool();
  const out: PacketBuffer[] = [];
  for (const mtu of [68, 69, 75, 99, 576, 1006, 1499, 1501]) {
    const n = fragmentIpv4(datagram(pool, 4321), mtu, pool, out);
    assert.equal(typeof n, "number");
    const f = out.map(read);
    for (const x of f.slice(0, -1)) {
      assert.equal(x.payload.length % 8, 0, `mtu ${mtu}`);
      assert.ok(x.total <= mtu, `mtu ${mtu}: ${x.total}`);
    }
    assert.equal(f.reduce((a, x) => a + x.payload.length, 0), 4321);
    assert.equal(f.at(-1)!.offset + f.at(-1)!.payload.length, 4321);
    release(out);
  }
  assert.equal(pool.outstanding, 0);
});

Deno.test("fragmentIpv4() copies only options with the copy flag into later fragments", () => {
  const pool = new PacketPool();
  const out: PacketBuffer[] = [];
  // Record Route (7, not copied, 7 bytes), NOP, Router Alert (148, copied, 4 bytes): 12 bytes.
  const options = new Uint8Array([7, 7, 4, 0, 0, 0, 0, 1, 148, 4, 0, 0]);
  const pkt = datagram(pool, 200, { options });
  assert.equal(fragmentIpv4(pkt, 100, pool, out), 3);
  const f = out.map(read);
  assert.equal(f[0]!.hlen, 32, "the first fragment keeps every option");
  assert.deepEqual([...f[0]!.header.subarray(20, 32)], [...options]);
  for (const x of f.slice(1)) {
    assert.equal(x.hlen, 24);
    assert.deepEqual([...x.header.subarray(20, 24)], [148, 4, 0, 0]);
  }
  // 100 - 32 = 68 -> 64 bytes first; 100 - 24 = 76 -> 72 bytes then.
  assert.deepEqual(f.map((x) => x.payload.length), [64, 72, 64]);
  assert.deepEqual(f.map((x) => x.offset), [0, 64, 136]);
  release(out);
});

Deno.test("fragmentIpv4() re-fragmenting a fragment keeps its offset base and its MF bit", () => {
  const pool = new PacketPool();
  const out: PacketBuffer[] = [];
  // A middle fragment: offset 1480, MF set, 1480 bytes.
  const pkt = datagram(pool, 1480, { fragmentOffset: 1480, moreFragments: true });
  assert.equal(fragmentIpv4(pkt, 576, pool, out), 3);
  const f = out.map(read);
  assert.deepEqual(f.map((x) => x.offset), [1480, 1480 + 552, 1480 + 1104]);
  assert.deepEqual(f.map((x) => x.mf), [true, true, true], "the original MF is kept on the last");
  release(out);
  // The last fragment of a datagram: the last piece has MF clear.
  const last = datagram(pool, 1000, { fragmentOffset: 2960 });
  assert.equal(fragmentIpv4(last, 576, pool, out), 2);
  assert.deepEqual(out.map(read).map((x) => x.mf), [true, false]);
  release(out);
  assert.equal(pool.outstanding, 0);
});

Deno.test("fragmentIpv4() refuses an MTU that leaves fewer than 8 payload bytes", () => {
  const pool = new PacketPool();
  const out: PacketBuffer[] = [];
  const pkt = datagram(pool, 100);
  assert.equal(fragmentIpv4(pkt, 27, pool, out), "fragment_mtu_too_small");
  assert.equal(pkt.length, 120, "untouched on failure");
  assert.equal(fragmentIpv4(pkt, 28, pool, out), 13);
  release(out);
  assert.equal(pool.outstanding, 0);
});

Deno.test("fragmentIpv4() returns the datagram itself when it already fits", () => {
  const pool = new PacketPool();
  const out: PacketBuffer[] = [];
  const pkt = datagram(pool, 100);
  const before = pkt.data.slice();
  assert.equal(fragmentIpv4(pkt, 1500, pool, out), 1);
  assert.deepEqual(pkt.data, before);
  pkt.release();
});

Deno.test("fragmentIpv4() rejects a header whose lengths do not hold", () => {
  const pool = new PacketPool();
  const out: PacketBuffer[] = [];
  const pkt = datagram(pool, 100);
  pkt.buf[pkt.start] = 0x44; // IHL 4
  assert.equal(fragmentIpv4(pkt, 68, pool, out), "fragment_bad_header");
  pkt.release();
});

Deno.test("ipv4HeaderChecksum() matches internetChecksum() over a header with options", () => {
  const h = new Uint8Array(24);
  emitIpv4({
    src: 1,
    dst: 2,
    protocol: 2,
    ttl: 1,
    payloadLength: 0,
    options: new Uint8Array([148, 4, 0, 0]),
  }, h);
  const dv = new DataView(h.buffer);
  const want = dv.getUint16(10);
  dv.setUint16(10, 0);
  assert.equal(ipv4HeaderChecksum(dv, 0, 24), want);
  assert.equal(ipv4HeaderChecksum(dv, 0, 24), internetChecksum(h));
});

Deno.test("fragmentIpv4 gives every fragment the datagram's hook state (mark, ct)", () => {
  const pool = new PacketPool();
  const pkt = datagram(pool, 3000);
  const flow = { id: 1 };
  pkt.mark = 7;
  pkt.ct = flow;
  const list: PacketBuffer[] = [];
  const n = fragmentIpv4(pkt, 1500, pool, list);
  assert.equal(n, 3);
  for (const f of list) {
    assert.equal(f.mark, 7);
    assert.equal(f.ct, flow);
  }
  for (const f of list) f.release();
});

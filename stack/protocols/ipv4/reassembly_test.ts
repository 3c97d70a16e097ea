import assert from "node:assert/strict";
import { PacketBuffer } from "../../packet.ts";
import { LARGE_BUFFER_SIZE, PacketPool, SMALL_BUFFER_SIZE } from "../../packet_pool.ts";
import { emitIpv4, type Ipv4Repr } from "../../wire/ipv4.ts";
import { internetChecksum } from "../../wire/checksum.ts";
import { fragmentIpv4 } from "./fragment.ts";
import { Reassembler, REASSEMBLY_FRAGMENT_COST, type ReassemblyOptions } from "./reassembly.ts";

const SRC = 0x0a000001;
const DST = 0x0a000002;

/** The fragments (as standalone byte arrays) of a datagram with `payload` ramp bytes. */
function fragments(
  payload: number,
  mtu: number,
  extra: Partial<Ipv4Repr> = {},
): { whole: Uint8Array; frags: Uint8Array[] } {
  const pool = new PacketPool();
  const pkt = pool.alloc(20 + payload);
  emitIpv4({
    src: SRC,
    dst: DST,
    protocol: 17,
    ttl: 64,
    payloadLength: payload,
    identification: 77,
    ...extra,
  }, pkt.data);
  for (let i = 0; i < payload; i++) pkt.buf[pkt.start + 20 + i] = (i * 7 + 3) & 0xff;
  const whole = pkt.data.slice();
  const out: PacketBuffer[] = [];
  fragmentIpv4(pkt, mtu, pool, out);
  const frags = out.map((f) => f.data.slice());
  for (const f of out) f.release();
  return { whole, frags };
}

/** A hand-made fragment: `len` bytes of `fill` at byte offset `off`. */
function frag(off: number, len: number, mf: boolean, fill = 0xaa, id = 5): Uint8Array {
  const b = new Uint8Array(20 + len);
  emitIpv4({
    src: SRC,
    dst: DST,
    protocol: 17,
    ttl: 64,
    payloadLength: len,
    identification: id,
    fragmentOffset: off,
    moreFragments: mf,
  }, b);
  b.fill(fill, 20);
  return b;
}

function make(options: ReassemblyOptions = {}, now = { t: 0 }) {
  const pool = new PacketPool();
  const timedOut = { value: 0 };
  const evicted = { value: 0 };
  const armed: (number | undefined)[] = [];
  const r = new Reassembler(pool, () => now.t, {
    timedOut,
    evicted,
    schedule: (at) => armed.push(at),
    ...options,
  });
  return { pool, r, timedOut, evicted, armed, now };
}

function add(r: Reassembler, bytes: Uint8Array): PacketBuffer | null | string {
  return r.add(PacketBuffer.wrap(bytes));
}

Deno.test("Reassembler rebuilds a datagram from fragments in order, header fixed up", () => {
  const { pool, r } = make();
  const { whole, frags } = fragments(4000, 1500);
  let out: PacketBuffer | null | string = null;
  for (const f of frags) out = add(r, f);
  assert.ok(out instanceof PacketBuffer);
  assert.deepEqual(out.data, whole);
  assert.equal(out.l3, out.start);
  assert.equal(out.l4, out.start + 20);
  assert.equal(out.proto, 17);
  assert.equal(out.srcKey(), SRC);
  assert.equal(internetChecksum(out.data.subarray(0, 20)), 0);
  assert.equal(r.size, 0);
  assert.equal(r.memory, 0);
  out.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler rebuilds a datagram from fragments in reverse and shuffled order", () => {
  const { pool, r } = make();
  const { whole, frags } = fragments(10_000, 1500);
  const orders = [[...frags].reverse(), [
    frags[3]!,
    frags[0]!,
    frags[6]!,
    ...frags.slice(1, 3),
    ...frags.slice(4, 6),
  ]];
  for (const order of orders) {
    let out: PacketBuffer | null | string = null;
    for (const f of order) {
      assert.equal(out, null);
      out = add(r, f);
    }
    assert.ok(out instanceof PacketBuffer);
    assert.deepEqual(out.data, whole);
    out.release();
  }
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler keeps a small datagram in a small buffer and moves to a large one when needed", () => {
  const { pool, r } = make();
  assert.equal(add(r, frag(0, 800, true)), null);
  assert.equal(r.memory, SMALL_BUFFER_SIZE + REASSEMBLY_FRAGMENT_COST);
  assert.equal(add(r, frag(800, 1600, true)), null);
  assert.equal(r.memory, LARGE_BUFFER_SIZE + 2 * REASSEMBLY_FRAGMENT_COST);
  const out = add(r, frag(2400, 10, false));
  assert.ok(out instanceof PacketBuffer);
  assert.equal(out.length, 20 + 2410);
  out.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler drops an exact duplicate fragment and keeps the datagram", () => {
  const { pool, r } = make();
  const { whole, frags } = fragments(3000, 1500);
  assert.equal(add(r, frags[0]!), null);
  assert.equal(add(r, frags[0]!), "reasm_duplicate");
  assert.equal(add(r, frags[2]!), null);
  assert.equal(add(r, frags[2]!), "reasm_duplicate");
  const out = add(r, frags[1]!);
  assert.ok(out instanceof PacketBuffer);
  assert.deepEqual(out.data, whole);
  out.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler discards the whole datagram on an overlap (RFC 5722 rule)", () => {
  const { pool, r } = make();
  assert.equal(add(r, frag(0, 24, true)), null);
  assert.equal(add(r, frag(16, 24, false)), "reasm_overlap");
  assert.equal(r.size, 0);
  // The rest of that datagram starts afresh and never completes on its own.
  assert.equal(add(r, frag(8, 16, true)), null);
  assert.equal(r.size, 1);
  r.clear();
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler treats same offsets with different bytes as an overlap", () => {
  const { pool, r } = make();
  assert.equal(add(r, frag(0, 16, true, 1)), null);
  assert.equal(add(r, frag(0, 16, true, 2)), "reasm_overlap");
  assert.equal(add(r, frag(0, 16, true, 1)), null);
  assert.equal(add(r, frag(0, 8, true, 1)), "reasm_overlap", "a contained fragment is an overlap");
  assert.equal(r.size, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler discards a datagram whose last fragments disagree on its length", () => {
  const { r } = make();
  assert.equal(add(r, frag(0, 16, true)), null);
  assert.equal(add(r, frag(32, 16, false)), null);
  assert.equal(add(r, frag(48, 8, false)), "reasm_inconsistent");
  assert.equal(r.size, 0);
  assert.equal(add(r, frag(64, 8, true)), null);
  assert.equal(add(r, frag(16, 8, false)), "reasm_inconsistent", "data already past the end");
  assert.equal(add(r, frag(8, 8, false, 0xaa, 6)), null);
  assert.equal(add(r, frag(16, 8, true, 0xaa, 6)), "reasm_inconsistent", "data past a known end");
});

Deno.test("Reassembler drops a datagram that would exceed 65,535 bytes (ping of death)", () => {
  const { r } = make();
  assert.equal(add(r, frag(0, 1480, true)), null);
  assert.equal(add(r, frag(65528, 16, false)), "reasm_too_big");
  assert.equal(r.size, 0);
  // 65,515 payload bytes fit exactly behind a 20-byte header.
  assert.equal(add(r, frag(65512, 3, false)), null);
  r.clear();
});

Deno.test("Reassembler drops an empty fragment or a non-last one not a multiple of 8", () => {
  const { r } = make();
  assert.equal(add(r, frag(0, 12, true)), "fragment_bad_length");
  assert.equal(add(r, frag(8, 0, true)), "fragment_bad_length");
  assert.equal(r.size, 0);
});

Deno.test("Reassembler times out after 30 s, reporting only datagrams whose first fragment came", () => {
  const now = { t: 1_000 };
  const reported: string[] = [];
  const { pool, r, timedOut, armed } = make({
    onTimeout: (p) => {
      assert.equal(internetChecksum(p.buf.subarray(p.l3, p.l3 + 20)), 0);
      reported.push(`${p.dv.getUint16(p.l3 + 4)}:${p.length}`);
    },
  }, now);
  assert.equal(add(r, frag(0, 16, true, 0xaa, 1)), null); // first fragment: reported
  assert.deepEqual(armed, [30_001_000]);
  now.t = 2_000;
  assert.equal(add(r, frag(16, 16, true, 0xaa, 2)), null); // no first fragment: silent
  now.t = 30_000_999;
  r.expire(now.t);
  assert.equal(r.size, 2);
  now.t = 30_001_000;
  r.expire(now.t);
  assert.deepEqual(reported, ["1:36"], "header + the 16 bytes received");
  assert.equal(armed.at(-1), 30_002_000);
  now.t = 31_000_000;
  r.expire(now.t);
  assert.equal(armed.at(-1), undefined);
  assert.equal(timedOut.value, 2);
  assert.equal(r.size, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler evicts the oldest datagram beyond maxDatagrams", () => {
  const { pool, r, evicted } = make({ maxDatagrams: 3 });
  for (let id = 1; id <= 5; id++) assert.equal(add(r, frag(0, 8, true, 0, id)), null);
  assert.equal(r.size, 3);
  assert.equal(evicted.value, 2);
  // Datagram 1 is gone: its last fragment alone does not complete it.
  assert.equal(add(r, frag(8, 8, false, 0, 1)), null);
  // Datagram 5 survives: it completes.
  const out = add(r, frag(8, 8, false, 0, 5));
  assert.ok(out instanceof PacketBuffer);
  out.release();
  r.clear();
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler evicts the oldest datagrams to stay within maxBytes", () => {
  const maxBytes = 3 * LARGE_BUFFER_SIZE;
  const { pool, r, evicted } = make({ maxBytes });
  for (let id = 1; id <= 6; id++) {
    assert.equal(add(r, frag(8000, 8, true, 0, id)), null); // needs a large buffer
    assert.ok(r.memory <= maxBytes);
  }
  assert.equal(r.size, 2);
  assert.equal(evicted.value, 4);
  r.clear();
  assert.equal(r.memory, 0);
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler keys datagrams by source, destination, identification and protocol", () => {
  const { pool, r } = make();
  const a = frag(0, 8, true, 1, 9);
  const b = frag(0, 8, true, 2, 9);
  b[9] = 6; // another protocol
  new DataView(b.buffer).setUint16(10, 0);
  new DataView(b.buffer).setUint16(10, internetChecksum(b.subarray(0, 20)));
  assert.equal(add(r, a), null);
  assert.equal(add(r, b), null, "not a duplicate nor an overlap: another datagram");
  assert.equal(r.size, 2);
  r.clear();
  assert.equal(pool.outstanding, 0);
});

/** A first fragment from `src` with identification `id`: `len` bytes at `off`, MF set. */
function spoofed(src: number, id: number, off: number, len: number): Uint8Array {
  const b = frag(off, len, true, 0x55, id);
  const dv = new DataView(b.buffer);
  dv.setUint32(12, src);
  dv.setUint16(10, 0);
  dv.setUint16(10, internetChecksum(b.subarray(0, 20)));
  return b;
}

/** mulberry32: a small seeded generator for the trials. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("Reassembler delivers a real datagram in 100 of 100 trials with 200 spoofed fragments between its fragments", () => {
  const { whole, frags } = fragments(4000, 1500); // 3 fragments from SRC
  let delivered = 0;
  for (let trial = 0; trial < 100; trial++) {
    const rand = prng(trial + 1);
    const { pool, r } = make();
    // 1 to 4 attacker sources (spoofed, not SRC), 200 first fragments with
    // fresh identifications, small ones and ones that need a 64 KiB buffer.
    const sources = 1 + Math.floor(rand() * 4);
    const attack: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) {
      const src = 0xc0a80000 + 1 + Math.floor(rand() * sources);
      const big = rand() < 0.5;
      attack.push(spoofed(src, 1000 + i, big ? 60000 : 0, big ? 8 : 1480));
    }
    // The real fragments go first, somewhere in the middle, and last.
    const middle = 1 + Math.floor(rand() * 198);
    const sequence = [frags[0]!, ...attack.slice(0, middle), frags[1]!, ...attack.slice(middle)];
    sequence.push(frags[2]!);
    let out: PacketBuffer | null | string = null;
    for (const f of sequence) {
      const res = add(r, f);
      if (res instanceof PacketBuffer) out = res;
    }
    if (out instanceof PacketBuffer) {
      assert.deepEqual(out.data, whole);
      delivered++;
      out.release();
    }
    assert.ok(r.memory <= r.maxBytes);
    assert.ok(r.size <= r.maxDatagrams);
    r.clear();
    assert.equal(pool.outstanding, 0);
  }
  assert.equal(delivered, 100);
});

Deno.test("Reassembler caps datagrams per source: a source over maxPerSource evicts its own oldest", () => {
  const { pool, r, evicted } = make({ maxPerSource: 2 });
  assert.equal(add(r, spoofed(0x0b000001, 1, 0, 8)), null);
  assert.equal(add(r, spoofed(0x0b000002, 2, 0, 8)), null);
  assert.equal(add(r, spoofed(0x0b000002, 3, 0, 8)), null);
  assert.equal(add(r, spoofed(0x0b000002, 4, 0, 8)), null); // evicts id 2, not id 1
  assert.equal(r.size, 3);
  assert.equal(evicted.value, 1);
  const last = frag(8, 8, false, 0x55, 1);
  const dv = new DataView(last.buffer);
  dv.setUint32(12, 0x0b000001);
  dv.setUint16(10, 0);
  dv.setUint16(10, internetChecksum(last.subarray(0, 20)));
  const out = add(r, last);
  assert.ok(out instanceof PacketBuffer, "the quiet source's datagram completes");
  out.release();
  r.clear();
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler at maxDatagrams evicts from the busiest source, not the oldest datagram", () => {
  const { pool, r } = make({ maxDatagrams: 4, maxPerSource: 4 });
  assert.equal(add(r, frag(0, 8, true, 0, 1)), null); // SRC, oldest
  for (let id = 2; id <= 6; id++) assert.equal(add(r, spoofed(0x0b000009, id, 0, 8)), null);
  assert.equal(r.size, 4);
  const out = add(r, frag(8, 8, false, 0, 1));
  assert.ok(out instanceof PacketBuffer, "SRC's datagram survived");
  out.release();
  r.clear();
  assert.equal(pool.outstanding, 0);
});

Deno.test("Reassembler: a fragment marked CE marks the datagram CE (RFC 3168 §5.3), checksum fixed", () => {
  const { pool, r } = make();
  const { frags } = fragments(4000, 1500, { ecn: 2 }); // ECT(0)
  const mid = frags[1]!;
  mid[1] = mid[1]! | 3; // a router marked this fragment CE
  mid[10] = mid[11] = 0;
  const sum = internetChecksum(mid.subarray(0, 20));
  mid[10] = sum >> 8;
  mid[11] = sum & 255;
  let out: PacketBuffer | null | string = null;
  for (const f of frags) out = add(r, f);
  assert.ok(out instanceof PacketBuffer);
  assert.equal(out.data[1]! & 3, 3, "CE");
  assert.equal(internetChecksum(out.data.subarray(0, 20)), 0);
  out.release();
  // Without a CE fragment the codepoint is the first fragment's.
  const clean = fragments(4000, 1500, { ecn: 2 }).frags;
  let whole: PacketBuffer | null | string = null;
  for (const f of clean) whole = add(r, f);
  assert.ok(whole instanceof PacketBuffer);
  assert.equal(whole.data[1]! & 3, 2, "ECT(0)");
  whole.release();
  assert.equal(pool.outstanding, 0);
});

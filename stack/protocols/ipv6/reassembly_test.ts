import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import type { PacketBuffer } from "../../packet.ts";
import { PacketPool } from "../../packet_pool.ts";
import { IpAddress, type IpKey } from "../../wire/ip_address.ts";
import { ipv6PayloadLength, writeIpv6Header } from "../../wire/ipv6.ts";
import { Ipv6Chain, walkIpv6Chain } from "../../wire/ipv6_chain.ts";
import { fragmentIpv6 } from "./fragment.ts";
import {
  Ipv6Reassembler,
  type Ipv6ReassemblyOptions,
  REASSEMBLY_FRAGMENT_COST,
  REASSEMBLY_TIMEOUT,
} from "./reassembly.ts";

const A = IpAddress.parse("2001:db8::a")!.key;
const B = IpAddress.parse("2001:db8::b")!.key;
const DST = IpAddress.parse("2001:db8::2")!.key;

/** The fragments (standalone byte arrays) of a UDP packet with `payload` ramp bytes. */
function fragments(payload: number, mtu: number, id = 77, ext: number[] = []) {
  const pool = new PacketPool();
  const pkt = pool.alloc(40 + ext.length + payload);
  const s = pkt.start;
  writeIpv6Header(pkt.buf, s, ext.length + payload, ext.length ? 0 : 17, 64, A, DST);
  pkt.buf.set(ext, s + 40);
  for (let i = 0; i < payload; i++) pkt.buf[s + 40 + ext.length + i] = (i * 7 + 3) & 0xff;
  const whole = pkt.data.slice();
  const out: PacketBuffer[] = [];
  fragmentIpv6(pkt, mtu, id, pool, out);
  const frags = out.map((f) => f.data.slice());
  for (const f of out) f.release();
  return { whole, frags };
}

/** A hand-made fragment from `src`: `len` bytes of `fill` at byte offset `off`. */
function frag(
  off: number,
  len: number,
  more: boolean,
  fill = 0xaa,
  id = 5,
  src: IpKey = A,
  next = 17,
) {
  const b = new Uint8Array(48 + len);
  writeIpv6Header(b, 0, 8 + len, 44, 64, src, DST);
  b[40] = next;
  b[42] = off >>> 8;
  b[43] = (off & 0xf8) | (more ? 1 : 0);
  b[44] = id >>> 24;
  b[45] = id >>> 16;
  b[46] = id >>> 8;
  b[47] = id;
  b.fill(fill, 48);
  return b;
}

function make(options: Ipv6ReassemblyOptions = {}, now = { t: 0 }) {
  const pool = new PacketPool();
  const timedOut = { value: 0 };
  const evicted = { value: 0 };
  const armed: (number | undefined)[] = [];
  const expired: Uint8Array[] = [];
  const r = new Ipv6Reassembler(pool, () => now.t, {
    timedOut,
    evicted,
    schedule: (at) => armed.push(at),
    onTimeout: (p) => expired.push(p.data.slice()),
    ...options,
  });
  const chain = new Ipv6Chain();
  /** Feeds one fragment's bytes; returns the reassembled bytes (released), null, or the reason. */
  function add(bytes: Uint8Array): Uint8Array | null | string {
    const pkt = pool.copyOf(bytes);
    const problem = walkIpv6Chain(pkt.buf, pkt.start, pkt.end, chain);
    assert.equal(problem, null);
    assert.ok(chain.isFragment);
    const res = r.add(pkt, chain);
    pkt.release();
    if (res === null || typeof res === "string") return res;
    assert.equal(res.family, 6);
    assert.equal(res.l3, res.start);
    assert.equal(res.srcAt, res.start + 8);
    const out = res.data.slice();
    res.release();
    return out;
  }
  return { r, pool, add, timedOut, evicted, armed, expired, now };
}

Deno.test("ipv6 reassembly: fragments in any order, with exact duplicates, rebuild the packet byte for byte", () => {
  const { whole, frags } = fragments(5000, 1280);
  assert.equal(frags.length, 5);
  fc.assert(
    fc.property(
      fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }),
      fc.array(fc.nat(4), { maxLength: 3 }),
      (order, dups) => {
        const t = make();
        let result: Uint8Array | null | string = null;
        const seq = [...order];
        const last = seq[seq.length - 1];
        // A copy right after the original (none of the completing fragment: it would start anew).
        for (const d of dups) if (d !== last) seq.splice(seq.indexOf(d) + 1, 0, d);
        for (const i of seq) {
          const got = t.add(frags[i]!);
          if (got instanceof Uint8Array) result = got;
          else if (got !== null) assert.equal(got, "reasm_duplicate");
        }
        assert.ok(result instanceof Uint8Array);
        assert.deepEqual(result, whole);
        assert.equal(t.r.size, 0);
        assert.equal(t.r.memory, 0);
        assert.equal(t.pool.outstanding, 0);
      },
    ),
    { numRuns: 60, seed: 8200 },
  );
});

Deno.test("ipv6 reassembly: the Unfragmentable Part of the first fragment is kept, its last Next Header restored", () => {
  const ext = [43, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0]; // HBH, Routing (segments left 0)
  const { whole, frags } = fragments(3000, 1280, 9, ext);
  const t = make();
  let result: Uint8Array | null | string = null;
  for (const f of frags.reverse()) result = t.add(f);
  assert.ok(result instanceof Uint8Array);
  assert.deepEqual(result, whole);
  assert.equal(ipv6PayloadLength(result, 0), 3016);
  const chain = new Ipv6Chain();
  assert.equal(walkIpv6Chain(result, 0, result.length, chain), null);
  assert.equal(chain.protocol, 17);
  assert.equal(chain.upperAt, 56);
});

Deno.test("ipv6 reassembly: any overlap abandons the whole datagram silently (RFC 5722 §4)", () => {
  const t = make();
  assert.equal(t.add(frag(0, 16, true)), null);
  assert.equal(t.add(frag(32, 16, true)), null);
  assert.equal(t.add(frag(8, 16, true, 0xbb)), "reasm_overlap");
  assert.equal(t.r.size, 0);
  assert.equal(t.pool.outstanding, 0);
  // What comes later starts afresh, and nothing is reported on timeout.
  assert.equal(t.add(frag(48, 8, false)), null);
  t.now.t = REASSEMBLY_TIMEOUT;
  t.r.expire(t.now.t);
  assert.equal(t.expired.length, 0);
});

Deno.test("ipv6 reassembly: a duplicate offset with different bytes is an overlap, not a duplicate", () => {
  const t = make();
  assert.equal(t.add(frag(0, 16, true)), null);
  assert.equal(t.add(frag(0, 16, true, 0xcc)), "reasm_overlap");
});

Deno.test("ipv6 reassembly: an exact duplicate is dropped and the datagram kept (RFC 8200 §4.5)", () => {
  const t = make();
  assert.equal(t.add(frag(0, 16, true)), null);
  assert.equal(t.add(frag(0, 16, true)), "reasm_duplicate");
  const done = t.add(frag(16, 5, false));
  assert.ok(done instanceof Uint8Array);
  assert.equal(done.length, 40 + 21);
  assert.equal(done[6], 17);
});

Deno.test("ipv6 reassembly: only the offset-0 fragment's Next Header counts (RFC 8200 §4.5)", () => {
  const t = make();
  assert.equal(t.add(frag(16, 8, false, 1, 5, A, 6)), null);
  const done = t.add(frag(0, 16, true, 2, 5, A, 58));
  assert.ok(done instanceof Uint8Array);
  assert.equal(done[6], 58);
});

Deno.test("ipv6 reassembly: two last fragments disagreeing, or data past the last, discard the datagram", () => {
  const t = make();
  assert.equal(t.add(frag(0, 16, true)), null);
  assert.equal(t.add(frag(32, 8, false)), null);
  assert.equal(t.add(frag(48, 8, false)), "reasm_inconsistent");
  assert.equal(t.r.size, 0);
  assert.equal(t.add(frag(32, 8, false, 1, 6)), null);
  assert.equal(t.add(frag(40, 8, true, 1, 6)), "reasm_inconsistent");
});

Deno.test("ipv6 reassembly: a datagram passing 65,535 bytes of payload is discarded", () => {
  const t = make();
  assert.equal(t.add(frag(0, 16, true)), null);
  // The chain walk refuses such a fragment itself; the reassembler double-checks.
  const big = frag(65520, 8, true);
  const chain = new Ipv6Chain();
  walkIpv6Chain(big, 0, big.length, chain);
  assert.equal(chain.problem, null);
  const huge = frag(65528, 16, false);
  walkIpv6Chain(huge, 0, huge.length, chain);
  assert.equal(chain.problem, "fragment_too_big");
  const pkt = t.pool.copyOf(huge);
  chain.problem = null;
  chain.fragmentAt = pkt.start + 40;
  chain.fragmentOffset = 65528;
  chain.moreFragments = false;
  chain.identification = 5;
  chain.fragmentNamedAt = pkt.start + 6;
  assert.equal(t.r.add(pkt, chain), "reasm_too_big");
  pkt.release();
  assert.equal(t.r.size, 0);
});

Deno.test("ipv6 reassembly: an empty fragment is dropped on its own", () => {
  const t = make();
  assert.equal(t.add(frag(0, 16, true)), null);
  assert.equal(t.add(frag(16, 0, false)), "fragment_bad_length");
  assert.equal(t.r.size, 1);
});

Deno.test("ipv6 reassembly: an Unfragmentable Part over 256 bytes is refused", () => {
  const t = make();
  // Hop-by-Hop of 232 bytes (hdr ext len 28), then the Fragment header: 280 bytes before the data.
  const hbhLen = 232;
  const b = new Uint8Array(40 + hbhLen + 8 + 16);
  writeIpv6Header(b, 0, b.length - 40, 0, 64, A, DST);
  b[40] = 44;
  b[41] = hbhLen / 8 - 1;
  b.set([0x1e, hbhLen - 4], 42); // one skipped option filling the header
  const fh = 40 + hbhLen;
  b.set([17, 0, 0, 1, 0, 0, 0, 5], fh);
  assert.equal(t.add(b), "reasm_header_too_long");
});

Deno.test("ipv6 reassembly: the key is source, destination and Identification", () => {
  const t = make();
  assert.equal(t.add(frag(0, 16, true, 1, 5, A)), null);
  assert.equal(t.add(frag(0, 16, true, 1, 5, B)), null);
  assert.equal(t.add(frag(0, 16, true, 1, 6, A)), null);
  assert.equal(t.r.size, 3);
  assert.ok(t.add(frag(16, 8, false, 1, 5, B)) instanceof Uint8Array);
  assert.equal(t.r.size, 2);
});

Deno.test("ipv6 reassembly: after 60 s the datagram is given up and its first fragment handed back for Time Exceeded code 1 (RFC 8200 §4.5)", () => {
  const t = make();
  const first = frag(0, 16, true, 0x11);
  assert.equal(t.add(first), null);
  t.now.t = 1_000_000;
  assert.equal(t.add(frag(32, 8, false, 0x22)), null);
  assert.deepEqual(t.armed, [REASSEMBLY_TIMEOUT]);
  t.r.expire(REASSEMBLY_TIMEOUT - 1);
  assert.equal(t.timedOut.value, 0);
  t.r.expire(REASSEMBLY_TIMEOUT);
  assert.equal(t.timedOut.value, 1);
  assert.equal(t.r.size, 0);
  assert.deepEqual(t.expired, [first]); // header, Fragment header and the data from offset 0
  assert.equal(t.pool.outstanding, 0);
});

Deno.test("ipv6 reassembly: a datagram whose first fragment never came times out without a report", () => {
  const t = make();
  assert.equal(t.add(frag(16, 16, true)), null);
  t.r.expire(REASSEMBLY_TIMEOUT);
  assert.equal(t.timedOut.value, 1);
  assert.equal(t.expired.length, 0);
});

Deno.test("ipv6 reassembly: a source at its per-source cap evicts its own oldest datagram, not another source's", () => {
  const t = make({ maxPerSource: 2 });
  assert.equal(t.add(frag(0, 16, true, 1, 1, B)), null);
  for (let id = 10; id < 13; id++) assert.equal(t.add(frag(0, 16, true, 1, id, A)), null);
  assert.equal(t.evicted.value, 1);
  assert.equal(t.r.size, 3);
  assert.ok(t.add(frag(16, 8, false, 1, 1, B)) instanceof Uint8Array); // B's survived
  assert.equal(t.add(frag(16, 8, false, 1, 10, A)), null); // A's oldest is gone: a new one
});

Deno.test("ipv6 reassembly: at the datagram cap the heaviest source loses its oldest", () => {
  const t = make({ maxDatagrams: 4, maxPerSource: 4 });
  assert.equal(t.add(frag(0, 16, true, 1, 1, B)), null);
  for (let id = 10; id < 13; id++) assert.equal(t.add(frag(0, 16, true, 1, id, A)), null);
  assert.equal(t.add(frag(0, 16, true, 1, 2, B)), null);
  assert.equal(t.r.size, 4);
  assert.equal(t.evicted.value, 1);
  assert.ok(t.add(frag(16, 8, false, 1, 1, B)) instanceof Uint8Array);
});

Deno.test("ipv6 reassembly: memory never passes maxBytes, counted in real bytes", () => {
  const maxBytes = 65536 + 512 + 8192 * REASSEMBLY_FRAGMENT_COST + 4096;
  const t = make({ maxBytes });
  for (let id = 0; id < 40; id++) {
    assert.equal(t.add(frag(0, 1232, true, 1, id, id % 2 ? A : B)), null);
    assert.ok(t.r.memory <= maxBytes);
  }
  assert.ok(t.evicted.value > 0);
  assert.ok(t.r.peakMemory <= maxBytes);
  // A large datagram still fits: the caps make room.
  assert.equal(t.add(frag(20000, 1232, false, 1, 999)), null);
  assert.ok(t.r.memory <= maxBytes);
  t.r.clear();
  assert.equal(t.r.memory, 0);
  assert.equal(t.pool.outstanding, 0);
});

Deno.test("ipv6 reassembly: the constructor refuses caps below one datagram", () => {
  const pool = new PacketPool();
  assert.throws(() => new Ipv6Reassembler(pool, () => 0, { maxDatagrams: 0 }), RangeError);
  assert.throws(() => new Ipv6Reassembler(pool, () => 0, { maxBytes: 1000 }), RangeError);
  assert.throws(() => new Ipv6Reassembler(pool, () => 0, { maxPerSource: 0 }), RangeError);
});

/**
 * Property tests of fragmentation and reassembly (fast-check, fixed seeds):
 * any datagram, any MTU, any order, duplication and loss of its fragments
 * gives back exactly the datagram or nothing; adversarial streams never push
 * the reassembler past its caps.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { PacketBuffer } from "../../stack/packet.ts";
import { LARGE_BUFFER_SIZE, PacketPool } from "../../stack/packet_pool.ts";
import { SeededRng } from "../../stack/rng.ts";
import { emitIpv4 } from "../../stack/wire/ipv4.ts";
import { internetChecksum } from "../../stack/wire/checksum.ts";
import { fragmentIpv4 } from "../../stack/protocols/ipv4/fragment.ts";
import {
  Reassembler,
  REASSEMBLY_MAX_BYTES,
  REASSEMBLY_MAX_DATAGRAMS,
  REASSEMBLY_MIN_PER_SOURCE,
} from "../../stack/protocols/ipv4/reassembly.ts";

const SRC = 0x0a000009;
const DST = 0x0a000001;

/** A datagram of `size` payload bytes (a pattern from `seed`), as bytes. */
function datagram(size: number, seed: number, id: number): Uint8Array {
  const b = new Uint8Array(20 + size);
  emitIpv4(
    { src: SRC, dst: DST, protocol: 17, ttl: 64, payloadLength: size, identification: id },
    b,
  );
  let x = seed | 1;
  for (let i = 20; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Its fragments at `mtu`, each a standalone copy. */
function split(bytes: Uint8Array, mtu: number): Uint8Array[] {
  const pool = new PacketPool();
  const pkt = pool.copyOf(bytes);
  const out: PacketBuffer[] = [];
  const n = fragmentIpv4(pkt, mtu, pool, out);
  assert.equal(typeof n, "number");
  const frags = out.map((f) => f.data.slice());
  for (const f of out) f.release();
  assert.equal(pool.outstanding, 0);
  return frags;
}

function checkCaps(r: Reassembler): void {
  assert.ok(r.size <= r.maxDatagrams, `${r.size} datagrams > ${r.maxDatagrams}`);
  assert.ok(r.memory <= r.maxBytes, `${r.memory} bytes > ${r.maxBytes}`);
}

Deno.test("reassembly property: any size, MTU, order, duplication and loss gives the datagram or nothing", () => {
  let fragmented = 0;
  let rebuilt = 0;
  fc.assert(
    fc.property(
      fc.record({
        size: fc.oneof(
          fc.integer({ min: 1, max: 65507 }).noBias(),
          fc.constantFrom(1, 7, 8, 1472, 65507),
        ),
        mtu: fc.oneof(
          fc.integer({ min: 68, max: 9000 }).noBias(),
          fc.constantFrom(68, 576, 1500, 9000),
        ),
        seed: fc.integer({ min: 1, max: 0x7fffffff }),
        duplicate: fc.constantFrom(0, 0.1, 0.5),
        loss: fc.constantFrom(0, 0, 0.05, 0.3),
      }),
      ({ size, mtu, seed, duplicate, loss }) => {
        const whole = datagram(size, seed, seed & 0xffff);
        const frags = whole.length <= mtu ? [] : split(whole, mtu);
        if (frags.length === 0) return; // fits: nothing to reassemble
        fragmented++;
        const rng = new SeededRng(seed);
        const stream: Uint8Array[] = [];
        const arrived = new Set<number>();
        frags.forEach((f, i) => {
          if (rng.nextFloat() < loss) return;
          arrived.add(i);
          stream.push(f);
          if (rng.nextFloat() < duplicate) stream.push(f);
        });
        for (let i = stream.length - 1; i > 0; i--) { // Fisher-Yates, seeded
          const j = rng.nextU32() % (i + 1);
          [stream[i], stream[j]] = [stream[j]!, stream[i]!];
        }
        const pool = new PacketPool();
        const r = new Reassembler(pool, () => 0);
        let completions = 0;
        for (const f of stream) {
          const out = r.add(PacketBuffer.wrap(f));
          checkCaps(r);
          if (out instanceof PacketBuffer) {
            completions++;
            assert.deepEqual(out.data, whole);
            out.release();
          } else if (typeof out === "string") {
            assert.equal(out, "reasm_duplicate", "only duplicates are refused");
          }
        }
        if (completions > 0) rebuilt++;
        if (arrived.size === frags.length) assert.ok(completions >= 1, "complete set, no datagram");
        else assert.equal(completions, 0, "a fragment was lost, yet a datagram came out");
        r.clear();
        assert.equal(pool.outstanding, 0);
      },
    ),
    { seed: 0x5eed, numRuns: 200 },
  );
  // The generators must exercise the interesting cases, not just datagrams that fit.
  assert.ok(fragmented >= 100, `only ${fragmented} runs fragmented`);
  assert.ok(rebuilt >= 50 && rebuilt < fragmented, `${rebuilt} of ${fragmented} rebuilt`);
});

Deno.test("reassembly property: adversarial fragment streams never exceed the caps", () => {
  const fragment = fc.record({
    id: fc.integer({ min: 0, max: 7 }),
    src: fc.constantFrom(SRC, SRC + 1),
    offset: fc.oneof(fc.integer({ min: 0, max: 8191 }), fc.integer({ min: 0, max: 40 })),
    length: fc.oneof(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 3000 })),
    mf: fc.boolean(),
    fill: fc.integer({ min: 0, max: 3 }),
    wait: fc.constantFrom(0, 0, 0, 1_000_000, 29_000_000),
  });
  fc.assert(
    fc.property(
      fc.array(fragment, { minLength: 1, maxLength: 300 }),
      fc.record({
        maxDatagrams: fc.constantFrom(1, 4, REASSEMBLY_MAX_DATAGRAMS),
        maxBytes: fc.constantFrom(LARGE_BUFFER_SIZE + 131_072, 300_000, REASSEMBLY_MAX_BYTES),
      }),
      (stream, caps) => {
        const pool = new PacketPool();
        let now = 0;
        let timeouts = 0;
        const r = new Reassembler(pool, () => now, { ...caps, onTimeout: () => timeouts++ });
        for (const f of stream) {
          now += f.wait;
          r.expire(now);
          const b = new Uint8Array(20 + f.length);
          emitIpv4({
            src: f.src,
            dst: DST,
            protocol: 6,
            ttl: 64,
            payloadLength: f.length,
            identification: f.id,
            fragmentOffset: f.offset * 8,
            moreFragments: f.mf || f.offset === 0,
          }, b);
          b.fill(f.fill, 20);
          const out = r.add(PacketBuffer.wrap(b));
          checkCaps(r);
          if (out instanceof PacketBuffer) {
            const total = new DataView(out.buf.buffer, out.buf.byteOffset + out.start).getUint16(2);
            assert.equal(total, out.length);
            assert.ok(total <= 65535);
            assert.equal(internetChecksum(out.data.subarray(0, 20)), 0);
            out.release();
          }
        }
        r.clear();
        assert.equal(pool.outstanding, 0);
        // Each expiry drops a datagram holding at least one of the fragments.
        assert.ok(
          timeouts <= stream.length,
          `${timeouts} timeouts from ${stream.length} fragments`,
        );
      },
    ),
    { seed: 0xbad, numRuns: 300 },
  );
});

Deno.test("reassembly property: a flood of tiny first fragments keeps eviction bounded, per source", () => {
  const pool = new PacketPool();
  const r = new Reassembler(pool, () => 0);
  let peak = 0;
  for (let id = 0; id < 100_000; id++) {
    const b = new Uint8Array(28);
    emitIpv4({
      src: SRC,
      dst: DST,
      protocol: 17,
      ttl: 64,
      payloadLength: 8,
      identification: id & 0xffff,
      moreFragments: true,
    }, b);
    const p = PacketBuffer.wrap(b);
    new DataView(b.buffer).setUint32(12, SRC + (id >>> 16)); // fresh keys past 65,535
    new DataView(b.buffer).setUint16(10, 0);
    new DataView(b.buffer).setUint16(10, internetChecksum(b.subarray(0, 20)));
    assert.equal(r.add(p), null);
    peak = Math.max(peak, r.memory);
  }
  // Two sources (SRC, SRC + 1), each held to its own share (issue 16).
  assert.equal(r.size, 2 * REASSEMBLY_MIN_PER_SOURCE);
  assert.ok(r.size <= REASSEMBLY_MAX_DATAGRAMS);
  assert.ok(peak <= REASSEMBLY_MAX_BYTES);
  r.clear();
  assert.equal(pool.outstanding, 0);
});

import assert from "node:assert/strict";
import { CountingHash } from "../../../tests/_counting_hash.ts";
import type { Rng } from "../../rng.ts";
import { SeededRng } from "../../rng.ts";
import { IpAddress, type IpKey, ipKeyHash } from "../../wire/ip_address.ts";
import {
  EphemeralPorts,
  initialSequenceNumber,
  KeyedHash,
  timestampOffset,
  TimestampOffsets,
} from "./isn.ts";
import { checkCookie, cookieMssIndex, makeCookie } from "./syncookie.ts";

/** An Rng that yields the given words, for a known key. */
function fixedRng(...words: number[]): Rng {
  let i = 0;
  const next = () => words[i++]! >>> 0;
  return {
    nextU32: next,
    nextFloat: () => next() / 2 ** 32,
    range: (lo) => lo,
    fill() {},
    fork() {
      return this;
    },
  };
}

Deno.test("KeyedHash is HalfSipHash-2-4: the reference vector for 16 bytes 00..0f, key 00..07", () => {
  // From the reference algorithm (Aumasson), output read as a little-endian word;
  // the same implementation gives the published vectors a9359f5b ("") and 27475ab8 ("00").
  const h = new KeyedHash(fixedRng(0x03020100, 0x07060504));
  assert.equal(h.hash(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c), 0x84acb5d9);
});

Deno.test("initialSequenceNumber() differs per tuple and per key (RFC 6528)", () => {
  const a = new KeyedHash(new SeededRng(1)), b = new KeyedHash(new SeededRng(2));
  assert.notEqual(initialSequenceNumber(a, 1, 2, 3, 4, 0), initialSequenceNumber(a, 1, 2, 3, 5, 0));
  assert.notEqual(initialSequenceNumber(a, 1, 2, 3, 4, 0), initialSequenceNumber(b, 1, 2, 3, 4, 0));
  // It wraps like a 32-bit counter.
  const x = initialSequenceNumber(a, 1, 2, 3, 4, 4 * 2 ** 32);
  assert.equal(x, initialSequenceNumber(a, 1, 2, 3, 4, 0));
});

Deno.test("KeyedHash over IPv4 keys is the four-word hash it always was (no IPv4 value changed)", () => {
  const h = new KeyedHash(new SeededRng(3));
  assert.equal(
    h.begin().address(0x0a000001).word(80).address(0xc0a80001).word(9).end(),
    h.hash(0x0a000001, 80, 0xc0a80001, 9),
  );
  assert.equal(
    initialSequenceNumber(h, 0x0a000001, 80, 0xc0a80001, 9, 0),
    h.hash(0x0a000001, 80, 0xc0a80001, 9),
  );
  // The timestamp offset too (isn.ts takes the four-word hash for IPv4 tuples).
  assert.equal(
    timestampOffset(h, 0x0a000001, 80, 0xc0a80001, 9),
    (h.begin().address(0x0a000001).word(80).address(0xc0a80001).word(0).end() ^ 9) >>> 0,
  );
});

/**
 * Two IPv6 addresses that differ only in their high 96 bits (the low 32 are
 * `::1`) and whose unkeyed 32-bit fold (`ipKeyHash`, what TCP hashed before)
 * is the same: an attacker can compute such pairs, so only a hash of the
 * whole address keeps their ISNs, ports, offsets and cookies apart.
 */
const V6_A = IpAddress.parse("2001:db8:cead:7bb7:38c3::1")!.key;
const V6_B = IpAddress.parse("2001:db8:e5be:19f5:dd36::1")!.key;
const V6_LOCAL = IpAddress.parse("2001:db8::80")!.key;

Deno.test("ISN, timestamp offset, ephemeral port and SYN cookie hash all 128 bits of IPv6 addresses", () => {
  assert.equal(ipKeyHash(V6_A), ipKeyHash(V6_B), "the pair folds to the same 32 bits");
  const rng = new SeededRng(11);
  const h = new KeyedHash(rng);
  const isn = (ra: IpKey) => initialSequenceNumber(h, V6_LOCAL, 80, ra, 40000, 0);
  assert.notEqual(isn(V6_A), isn(V6_B));
  const off = (ra: IpKey) => timestampOffset(h, V6_LOCAL, 80, ra, 40000);
  assert.notEqual(off(V6_A), off(V6_B));
  // The same remote, ports picked for each local address: different starting points.
  const picks = (la: IpKey) => {
    const ports = new EphemeralPorts(
      new KeyedHash(new SeededRng(4)),
      new KeyedHash(new SeededRng(5)),
      1024,
      65535,
    );
    return [0, 1, 2].map(() => ports.pick(la, V6_LOCAL, 443, () => true));
  };
  assert.notDeepEqual(picks(V6_A), picks(V6_B));
  const cookie = (ra: IpKey) => makeCookie(h, { la: V6_LOCAL, lp: 80, ra, rp: 40000 }, 7, 1, 0);
  assert.notEqual(cookie(V6_A), cookie(V6_B));
  // A cookie made for one address does not validate for the other.
  assert.equal(
    checkCookie(h, { la: V6_LOCAL, lp: 80, ra: V6_A, rp: 40000 }, 7, cookie(V6_A), 0),
    1,
  );
  assert.equal(
    checkCookie(h, { la: V6_LOCAL, lp: 80, ra: V6_B, rp: 40000 }, 7, cookie(V6_A), 0),
    -1,
  );
});

Deno.test("EphemeralPorts skips busy ports and spreads across the range", () => {
  const rng = new SeededRng(5);
  const ports = new EphemeralPorts(new KeyedHash(rng), new KeyedHash(rng), 1000, 1009);
  const used = new Set<number>();
  for (let i = 0; i < 10; i++) {
    const p = ports.pick(1, 2, 80, (x) => !used.has(x));
    assert.ok(p >= 1000 && p <= 1009 && !used.has(p));
    used.add(p);
  }
  assert.equal(ports.pick(1, 2, 80, (x) => !used.has(x)), -1);
  assert.throws(
    () => new EphemeralPorts(new KeyedHash(rng), new KeyedHash(rng), 10, 5),
    RangeError,
  );
});

Deno.test("EphemeralPorts: 1,000 picks for one service hash once per key; another service hashes anew; the ports follow RFC 6056's offset", () => {
  const rng = new SeededRng(6);
  const f = new CountingHash(rng), g = new CountingHash(rng);
  const ports = new EphemeralPorts(f, g, 49152, 65535);
  const F = KeyedHash.prototype.hash.call(f, 0x0a000001, 0x0a000002, 80, 0);
  f.runs = 0;
  for (let k = 0; k < 1000; k++) {
    // Every port free: the k-th pick is the k-th after F (the table slot advances by one).
    assert.equal(ports.pick(0x0a000001, 0x0a000002, 80, () => true), 49152 + (F + k) % 16384);
  }
  assert.deepEqual([f.runs, g.runs], [1, 1]);
  ports.pick(0x0a000001, 0x0a000002, 81, () => true);
  ports.pick(0x0a000001, 0x0a000003, 81, () => true);
  ports.pick(0x0a000001, 0x0a000002, 80, () => true);
  assert.deepEqual([f.runs, g.runs], [4, 4]);
});

Deno.test("TimestampOffsets: 1,000 connections from one client's ports hash once, each offset timestampOffset()'s", () => {
  const h = new CountingHash(new SeededRng(8));
  const offsets = new TimestampOffsets(h);
  for (let port = 1000; port < 2000; port++) {
    const want = KeyedHash.prototype.hash.call(h, 0x0a000002, 80, 0x0a000001, 0) ^ port;
    assert.equal(offsets.of(0x0a000002, 80, 0x0a000001, port), want >>> 0);
  }
  assert.equal(h.runs, 1);
  assert.equal(
    offsets.of(0x0a000002, 81, 0x0a000001, 5),
    timestampOffset(h, 0x0a000002, 81, 0x0a000001, 5),
  );
  assert.equal(
    offsets.of(0x0a000003, 81, 0x0a000001, 5),
    timestampOffset(h, 0x0a000003, 81, 0x0a000001, 5),
  );
  assert.equal(h.runs, 5); // the first, two misses and their two references
});

Deno.test("SYN cookies round-trip every MSS index and reject other tuples", () => {
  const h = new KeyedHash(new SeededRng(9));
  const t = { la: 0x0a000001, lp: 443, ra: 0xc0a80001, rp: 55555 };
  for (let idx = 0; idx < 4; idx++) {
    const c = makeCookie(h, t, 0xfffffff0, idx, 1_000_000_000);
    assert.equal(checkCookie(h, t, 0xfffffff0, c, 1_000_000_000 + 127_000_000), idx);
    assert.equal(checkCookie(h, { ...t, rp: 55556 }, 0xfffffff0, c, 1_000_000_000), -1);
  }
  assert.equal(cookieMssIndex(1460), 3);
  assert.equal(cookieMssIndex(1400), 1);
  assert.equal(cookieMssIndex(100), 0);
});

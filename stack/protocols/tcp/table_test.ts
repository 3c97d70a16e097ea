import assert from "node:assert/strict";
import { CountingHash } from "../../../tests/_counting_hash.ts";
import { ConnTable, tupleHash, TupleHasher, tupleHashKey } from "./table.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { KeyedHash } from "../../ip/keyed_hash.ts";
import { IpAddress, type IpKey, ipKeyHash } from "../../wire/ip_address.ts";

const KEY = KeyedHash.withKey(0x01234567, 0x89abcdef);

/** A stand-in endpoint 10.0.0.2:`lp` ↔ 10.0.0.1:40000, with the fields the table reads and writes. */
function fakeEndpoint(lp: number, rp = 40000): TcpEndpoint {
  return {
    localAddr: 0x0a000002,
    localPort: lp,
    remoteAddr: 0x0a000001,
    remotePort: rp,
    hashNext: undefined,
  } as unknown as TcpEndpoint;
}

Deno.test("tupleHash() stays within 30 bits (a small integer: no heap number per lookup)", () => {
  let seen = 0;
  for (let i = 0; i < 20_000; i++) {
    const la = Math.imul(i, 0x9e3779b1) >>> 0;
    const ra = Math.imul(i + 7, 0x85ebca6b) >>> 0;
    const h = tupleHash(KEY, la, (i * 31) & 0xffff, ra, (i * 17 + 1) & 0xffff);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 30, `hash ${h}`);
    seen |= h;
  }
  // All 30 bits are used.
  assert.equal(seen, 2 ** 30 - 1);
});

Deno.test("tupleHash() of IPv6 keys stays within 30 bits", () => {
  const a = "\u2001\u0db8\u0000\u0000\u0000\u0000\u0000\u0001";
  const b = "\u2001\u0db8\u0000\u0000\u0000\u0000\u0000\u0002";
  for (let p = 1; p < 2000; p++) {
    const h = tupleHash(KEY, a, p, b, 65535 - p);
    assert.ok(h >= 0 && h < 2 ** 30);
  }
});

Deno.test("ConnTable: a removed connection is not found again, even right after a lookup found it", () => {
  const table = new ConnTable(new TupleHasher(KEY));
  const ep = fakeEndpoint;
  const a = ep(80), b = ep(81);
  table.insert(a);
  table.insert(b);
  assert.equal(table.lookup(0x0a000002, 80, 0x0a000001, 40000), a);
  assert.equal(table.lookup(0x0a000002, 80, 0x0a000001, 40000), a); // the remembered one
  assert.equal(table.lookup(0x0a000002, 81, 0x0a000001, 40000), b);
  assert.equal(table.lookup(0x0a000002, 82, 0x0a000001, 40000), undefined);
  table.lookup(0x0a000002, 80, 0x0a000001, 40000);
  table.remove(a);
  assert.equal(table.lookup(0x0a000002, 80, 0x0a000001, 40000), undefined);
  assert.equal(table.lookup(0x0a000002, 81, 0x0a000001, 40000), b);
  assert.equal(table.size, 1);
});

Deno.test("ConnTable: every connection is found while the buckets grow and shrink, and none after removal", () => {
  const table = new ConnTable(new TupleHasher(KEY));
  const ep = fakeEndpoint;
  const eps = Array.from({ length: 1000 }, (_, i) => ep(1000 + i));
  for (const e of eps) table.insert(e); // 16 buckets, doubled to 1024
  assert.equal(table.size, 1000);
  for (const e of eps) assert.equal(table.lookup(0x0a000002, e.localPort, 0x0a000001, 40000), e);
  assert.equal(new Set(table).size, 1000); // iteration sees each once
  for (const e of eps.slice(0, 990)) table.remove(e); // halved at each eighth, down to 16
  assert.equal(table.size, 10);
  for (const e of eps.slice(0, 990)) {
    assert.equal(table.lookup(0x0a000002, e.localPort, 0x0a000001, 40000), undefined);
  }
  for (const e of eps.slice(990)) {
    assert.equal(table.lookup(0x0a000002, e.localPort, 0x0a000001, 40000), e);
  }
  assert.deepEqual([...table].sort((x, y) => x.localPort - y.localPort), eps.slice(990));
  for (const e of eps.slice(990)) table.remove(e);
  assert.equal(table.size, 0);
  assert.deepEqual([...table], []);
});

Deno.test("ConnTable: each connection's tuple is hashed once, at insert (stored in the endpoint): regrowth and removal hash nothing", () => {
  const words = [0x01234567, 0x89abcdef];
  const key = new CountingHash({ nextU32: () => words.shift()! >>> 0 });
  const table = new ConnTable(new TupleHasher(key));
  const eps = Array.from({ length: 1000 }, (_, i) => fakeEndpoint(1000 + i));
  for (const e of eps) table.insert(e); // the buckets double six times
  assert.equal(key.runs, 1000);
  for (const e of eps) {
    assert.equal(e.tupleHash, tupleHash(KEY, 0x0a000002, e.localPort, 0x0a000001, 40000));
  }
  for (const e of eps) table.remove(e); // and halve back
  assert.equal(key.runs, 1000);
  assert.equal(table.size, 0);
  assert.equal(table.lookup(0x0a000002, 1000, 0x0a000001, 40000), undefined);
});

/**
 * Pairs of (local port, remote port) whose tuples 10.0.0.2 ↔ 10.0.0.1 have
 * the same 30-bit hash under `key`: a birthday search over local ports
 * 80–83 and remote ports 1024–65535 (258,048 tuples, about 15 pairs).
 */
function collidingPairs(key: KeyedHash): [[number, number], [number, number]][] {
  const seen = new Map<number, number>();
  const out: [[number, number], [number, number]][] = [];
  for (let lp = 80; lp < 84; lp++) {
    for (let rp = 1024; rp < 65536; rp++) {
      const h = tupleHash(key, 0x0a000002, lp, 0x0a000001, rp);
      const before = seen.get(h);
      if (before === undefined) seen.set(h, (lp << 16) | rp);
      else out.push([[before >>> 16, before & 0xffff], [lp, rp]]);
    }
  }
  return out;
}

Deno.test("ConnTable: connections whose tuples have the same 30-bit hash are each found as themselves, across growth and removal", () => {
  const pairs = collidingPairs(KEY);
  assert.ok(pairs.length >= 4, `${pairs.length} colliding pairs`);
  for (const [[lp1, rp1], [lp2, rp2]] of pairs) {
    assert.notDeepEqual([lp1, rp1], [lp2, rp2]);
    assert.equal(
      tupleHash(KEY, 0x0a000002, lp1, 0x0a000001, rp1),
      tupleHash(KEY, 0x0a000002, lp2, 0x0a000001, rp2),
    );
  }
  const table = new ConnTable(new TupleHasher(KEY));
  const colliding = pairs.flat().map(([lp, rp]) => fakeEndpoint(lp, rp));
  // The colliding ones into 16 buckets, then 500 more: the buckets double five times.
  for (const e of colliding) table.insert(e);
  const others = Array.from({ length: 500 }, (_, i) => fakeEndpoint(1000 + i, 7));
  for (const e of others) table.insert(e);
  const find = (e: TcpEndpoint) => table.lookup(0x0a000002, e.localPort, 0x0a000001, e.remotePort);
  for (const e of [...colliding, ...[...colliding].reverse(), ...others]) assert.equal(find(e), e);
  // Each pair's first leaves: its partner, same hash, is still found; the first is not.
  for (let i = 0; i < colliding.length; i += 2) table.remove(colliding[i]!);
  for (const e of others) table.remove(e); // the buckets halve back
  for (let i = 0; i < colliding.length; i += 2) {
    assert.equal(find(colliding[i]!), undefined);
    assert.equal(find(colliding[i + 1]!), colliding[i + 1]);
  }
  assert.equal(table.size, colliding.length / 2);
});

/** The unkeyed mix `tupleHash` was until session 12 (review12's attack inverted it). */
function unkeyedMix(la: number, lp: number, ra: number, rp: number): number {
  let h = Math.imul(ipKeyHash(ra) ^ ((rp << 16) | lp), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h ^ ipKeyHash(la), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** The inverse of odd `c` modulo 2^32 (Newton's iteration). */
function inverse(c: number): number {
  let x = c;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(c, x));
  return x;
}

/** The inverse of `y = x ^ (x >>> s)`. */
function unshift(y: number, s: number): number {
  let x = y;
  for (let i = 0; i < 32; i += s) x = y ^ (x >>> s);
  return x >>> 0;
}

/**
 * Review12's attack: the port words whose tuples from `ra` to `la` have
 * `full`'s low 30 bits under the unkeyed mix, computed offline by
 * inverting it (one per choice of the two top bits).
 */
function invertedPorts(la: number, ra: number, full: number): [number, number][] {
  const out: [number, number][] = [];
  for (const top of [0, 1, 2, 3]) {
    const target = ((full & 0x3fffffff) | (top << 30)) >>> 0;
    let x = unshift(target, 13);
    x = Math.imul(x, inverse(0x85ebca6b)) ^ ipKeyHash(la);
    x = unshift(x >>> 0, 15);
    const word = (Math.imul(x, inverse(0x9e3779b1)) ^ ipKeyHash(ra)) >>> 0;
    out.push([word & 0xffff, word >>> 16]);
  }
  return out;
}

Deno.test("tupleHash(): the tuples review12 made collide by inverting the old mix hash apart under the keyed hash", () => {
  const la = 0x0a000002, ra = 0x0a000001;
  const keys = [KEY, tupleHashKey(KeyedHash.withKey(1, 2)), tupleHashKey(KeyedHash.withKey(3, 4))];
  let tuples = 0;
  for (let i = 0; i < 50; i++) {
    const lp = 80 + i, rp = 40000 + i;
    const same = invertedPorts(la, ra, unkeyedMix(la, lp, ra, rp));
    // The attack works on the old mix: four tuples, one 30-bit hash, the original among them.
    assert.ok(same.some(([a, b]) => a === lp && b === rp));
    const old = new Set(same.map(([a, b]) => unkeyedMix(la, a, ra, b) & 0x3fffffff));
    assert.equal(old.size, 1);
    // The keyed hash spreads them: no two of the four share a hash (a chance
    // collision has probability 6 / 2^30 per group).
    for (const key of keys) {
      const keyed = new Set(same.map(([a, b]) => tupleHash(key, la, a, ra, b)));
      assert.equal(keyed.size, same.length, `group ${i}`);
    }
    tuples += same.length;
  }
  assert.equal(tuples, 200);
});

Deno.test("tupleHashKey(): derived from the ISN secret, a different secret gives a different key", () => {
  const a = tupleHashKey(KeyedHash.withKey(5, 6));
  const again = tupleHashKey(KeyedHash.withKey(5, 6));
  const b = tupleHashKey(KeyedHash.withKey(5, 7));
  let differ = 0;
  for (let p = 1; p <= 100; p++) {
    const t = [0x0a000002, 80, 0x0a000001, p] as const;
    assert.equal(tupleHash(a, ...t), tupleHash(again, ...t));
    if (tupleHash(a, ...t) !== tupleHash(b, ...t)) differ++;
    // Not the ISN hash itself: the table's hashes reveal nothing an ISN shows.
    assert.notEqual(tupleHash(a, ...t), KeyedHash.withKey(5, 6).hash(...t) & 0x3fffffff);
  }
  assert.equal(differ, 100);
});

Deno.test("tupleHash() hashes all 128 bits of IPv6 addresses: a pair the old 32-bit fold merged hashes apart", () => {
  // Differ only in their high 96 bits; their fold (ipKeyHash, which the old mix used) is equal.
  const a = IpAddress.parse("2001:db8:cead:7bb7:38c3::1")!.key;
  const b = IpAddress.parse("2001:db8:e5be:19f5:dd36::1")!.key;
  const local = IpAddress.parse("2001:db8::80")!.key;
  assert.equal(ipKeyHash(a), ipKeyHash(b));
  for (let p = 1; p <= 20; p++) {
    assert.notEqual(tupleHash(KEY, local, 80, a, p), tupleHash(KEY, local, 80, b, p));
    // Local and remote are not interchangeable, nor the two ports.
    assert.notEqual(tupleHash(KEY, local, 80, a, p), tupleHash(KEY, a, 80, local, p));
    assert.notEqual(tupleHash(KEY, local, 80, a, p), tupleHash(KEY, local, p, a, 80));
  }
});

Deno.test("TupleHasher: the remembered tuple's hash is returned only for that tuple, any field changed hashes anew", () => {
  const hasher = new TupleHasher(KEY);
  const v6a = IpAddress.parse("2001:db8::1")!.key, v6b = IpAddress.parse("2001:db8::2")!.key;
  const tuples: [IpKey, number, IpKey, number][] = [
    [0x0a000002, 80, 0x0a000001, 40000],
    [0x0a000003, 80, 0x0a000001, 40000],
    [0x0a000002, 81, 0x0a000001, 40000],
    [0x0a000002, 80, 0x0a000004, 40000],
    [0x0a000002, 80, 0x0a000001, 40001],
    [v6a, 80, v6b, 40000],
    [v6b, 80, v6a, 40000],
    [0, 0, 0, 0], // the fields' initial values, but ports -1 match nothing
  ];
  // Each tuple twice in a row (the second remembered), then all in turn, twice.
  for (const t of [...tuples.flatMap((t) => [t, t]), ...tuples, ...tuples]) {
    assert.equal(hasher.hash(...t), tupleHash(KEY, ...t), JSON.stringify(t));
  }
});

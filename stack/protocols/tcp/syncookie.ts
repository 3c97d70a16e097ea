/**
 * SYN cookies (Bernstein; RFC 4987 §3.6), Linux's encoding: when a
 * listener's SYN queue is full, the SYN-ACK's sequence number carries
 * everything needed to build the connection from the final ACK, and no state
 * is kept:
 *
 * `ISN = H(tuple) + peerISN + (t << 24) + ((H(tuple, t) + mssIndex) mod 2^24)`
 *
 * with `t` a counter of 64-second periods; a cookie is valid for two
 * periods. The MSS is one of four table values. With timestamps, the low 6
 * bits of our TSval carry the window scale (4 bits, 0xf = none) and
 * SACK-permitted, and come back in the peer's TSecr (Linux
 * `cookie_init_timestamp`).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { KeyedHash } from "./isn.ts";

/** MSS values a cookie can encode (Linux `msstab`). */
export const COOKIE_MSS = [536, 1300, 1440, 1460] as const;
/** Length of a cookie period, µs. */
const PERIOD = 64_000_000;
/** Periods a cookie stays valid. */
const MAX_AGE = 2;
/** TSval low bits: window scale (4 bits) and SACK (bit 4). */
export const TS_OPT_MASK = 0x3f;

function counter(now: Instant): number {
  return Math.floor(now / PERIOD);
}

/** The MSS-table index for a peer MSS: the largest entry not above it. */
export function cookieMssIndex(peerMss: number): number {
  for (let i = COOKIE_MSS.length - 1; i > 0; i--) if (COOKIE_MSS[i]! <= peerMss) return i;
  return 0;
}

/**
 * The cookie (our ISN) for a SYN.
 *
 * @example
 * ```ts
 * import { checkCookie, makeCookie } from "./syncookie.ts";
 * import { KeyedHash } from "./isn.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const h = new KeyedHash(new SeededRng(1));
 * const t = { la: 0x0a000001, lp: 80, ra: 0x0a000002, rp: 40000 };
 * const cookie = makeCookie(h, t, 12345, 2, 0);
 * assert.equal(checkCookie(h, t, 12345, cookie, 100_000_000), 2); // 100 s later: still valid
 * assert.equal(checkCookie(h, t, 12345, cookie, 400_000_000), -1); // too old
 * assert.equal(checkCookie(h, t, 987654321, cookie, 0), -1); // another peer ISN
 * ```
 */
export function makeCookie(
  hash: KeyedHash,
  t: { la: number; lp: number; ra: number; rp: number },
  peerIsn: number,
  mssIndex: number,
  now: Instant,
): number {
  const ports = ((t.lp << 16) | t.rp) >>> 0;
  const c = counter(now);
  const h1 = hash.hash(t.la, t.ra, ports, 0x80000000);
  const h2 = hash.hash(t.la, t.ra, ports, c);
  return (h1 + peerIsn + ((c & 0xff) << 24) + ((h2 + mssIndex) & 0xffffff)) >>> 0;
}

/** The MSS index a valid cookie encodes, or -1 (forged, or older than two periods). */
export function checkCookie(
  hash: KeyedHash,
  t: { la: number; lp: number; ra: number; rp: number },
  peerIsn: number,
  cookie: number,
  now: Instant,
): number {
  const ports = ((t.lp << 16) | t.rp) >>> 0;
  const h1 = hash.hash(t.la, t.ra, ports, 0x80000000);
  const diff = (cookie - h1 - peerIsn) >>> 0;
  const nowC = counter(now);
  const age = (nowC - (diff >>> 24)) & 0xff;
  if (age > MAX_AGE) return -1;
  const c = nowC - age;
  const idx = (diff - hash.hash(t.la, t.ra, ports, c)) & 0xffffff;
  return idx < COOKIE_MSS.length ? idx : -1;
}

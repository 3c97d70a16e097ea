/**
 * SYN cookies (Bernstein; RFC 4987 §3.6), Linux's encoding: when a
 * listener's SYN queue is full, the SYN-ACK's sequence number carries
 * everything needed to build the connection from the final ACK, and no state
 * is kept:
 *
 * `ISN = H(tuple) + peerISN + (t << 24) + ((H(tuple, t) + mssIndex) mod 2^24)`
 *
 * with `t` a counter of 64-second periods; a cookie is valid for two
 * periods. The MSS is one of four table values per IP version. `H` covers
 * the full addresses of either family.
 *
 * With timestamps, the low 6 bits of our TSval carry the window scale (4
 * bits, 0xf = none) and SACK-permitted, and come back in the peer's TSecr
 * (Linux `cookie_init_timestamp`). That TSval is the connection's own
 * timestamp clock (milliseconds plus the per-connection offset, a pure
 * function of the tuple), rounded down to a 64 ms step so the option bits
 * never put it ahead of that clock: the connection rebuilt from the cookie
 * recomputes the same offset and its TSvals continue from the SYN-ACK's, so
 * the peer's PAWS (RFC 7323 §5) accepts them. (A bare-clock TSval in the
 * SYN-ACK followed by offset TSvals looks, to about half of the peers, like
 * a jump backwards: PAWS drops every later segment.)
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import type { KeyedHash } from "./isn.ts";

/** MSS values an IPv4 cookie can encode (Linux `msstab`). */
export const COOKIE_MSS = [536, 1300, 1440, 1460] as const;
/**
 * MSS values an IPv6 cookie can encode (Linux `msstab` of IPv6: MTUs 1280,
 * 1480, 1500 and 9000, less 60 bytes of headers).
 */
export const COOKIE_MSS6 = [1220, 1420, 1440, 8940] as const;

/** A connection's addresses (either family, the same for both) and ports. */
export interface CookieTuple {
  /** Our address. */
  readonly la: IpKey;
  /** Our port. */
  readonly lp: number;
  /** The peer's address. */
  readonly ra: IpKey;
  /** The peer's port. */
  readonly rp: number;
}
/** Length of a cookie period, µs. */
const PERIOD = 64_000_000;
/** Periods a cookie stays valid. */
const MAX_AGE = 2;
/** TSval low bits: window scale (4 bits) and SACK (bit 4). */
export const TS_OPT_MASK = 0x3f;

function counter(now: Instant): number {
  return Math.floor(now / PERIOD);
}

/** The MSS table of the address family of `addr`. */
export function cookieMssTable(addr: IpKey): readonly number[] {
  return typeof addr === "number" ? COOKIE_MSS : COOKIE_MSS6;
}

/**
 * The MSS-table index for a peer MSS: the largest entry not above it (the
 * IPv4 table unless another is given).
 */
export function cookieMssIndex(peerMss: number, table: readonly number[] = COOKIE_MSS): number {
  for (let i = table.length - 1; i > 0; i--) if (table[i]! <= peerMss) return i;
  return 0;
}

/**
 * The TSval of a cookie SYN-ACK: `clock` (the connection's timestamp clock,
 * offset included) with its low 6 bits replaced by `options`
 * ({@linkcode TS_OPT_MASK}), one 64 ms step back when that would be ahead of
 * `clock`, so the connection's later TSvals never go below it (Linux does
 * the same).
 *
 * @example
 * ```ts
 * import { cookieTimestamp } from "./syncookie.ts";
 * import assert from "node:assert/strict";
 * // 1000 = 15·64 + 40: 15·64 + 47 would be ahead of the clock, so 14·64 + 47.
 * assert.equal(cookieTimestamp(1000, 0x2f), 943);
 * assert.equal(cookieTimestamp(1000, 0x05), 965);
 * assert.equal(cookieTimestamp(0x20, 0x3f), 0xffffffff); // wraps like the clock
 * ```
 */
export function cookieTimestamp(clock: number, options: number): number {
  const ts = ((clock & ~TS_OPT_MASK) | (options & TS_OPT_MASK)) >>> 0;
  // Serial-number comparison: ahead of the clock by 1..63.
  return ((ts - clock) | 0) > 0 ? (ts - (TS_OPT_MASK + 1)) >>> 0 : ts;
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
  t: CookieTuple,
  peerIsn: number,
  mssIndex: number,
  now: Instant,
): number {
  const ports = ((t.lp << 16) | t.rp) >>> 0;
  const c = counter(now);
  const h1 = hash.begin().address(t.la).address(t.ra).word(ports).word(0x80000000).end();
  const h2 = hash.begin().address(t.la).address(t.ra).word(ports).word(c).end();
  return (h1 + peerIsn + ((c & 0xff) << 24) + ((h2 + mssIndex) & 0xffffff)) >>> 0;
}

/** The MSS index a valid cookie encodes, or -1 (forged, or older than two periods). */
export function checkCookie(
  hash: KeyedHash,
  t: CookieTuple,
  peerIsn: number,
  cookie: number,
  now: Instant,
): number {
  const ports = ((t.lp << 16) | t.rp) >>> 0;
  const h1 = hash.begin().address(t.la).address(t.ra).word(ports).word(0x80000000).end();
  const diff = (cookie - h1 - peerIsn) >>> 0;
  const nowC = counter(now);
  const age = (nowC - (diff >>> 24)) & 0xff;
  if (age > MAX_AGE) return -1;
  const c = nowC - age;
  const h2 = hash.begin().address(t.la).address(t.ra).word(ports).word(c).end();
  const idx = (diff - h2) & 0xffffff;
  return idx < COOKIE_MSS.length ? idx : -1;
}

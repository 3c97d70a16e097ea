/**
 * TCP Fast Open (RFC 7413): data in the SYN, for a client that holds a
 * cookie from an earlier connection to the same server.
 *
 * - **Server** (a listener with `fastOpen: queueLength`, Linux's
 *   `TCP_FASTOPEN`): the cookie is a keyed hash of the client's address
 *   (§4.1.2), 8 bytes, from a key drawn from the stack's RNG on first use
 *   and rotated every `fastOpenKeyLifetimeMs`; the previous key stays valid,
 *   so a rotation does not throw every client back to a full handshake. A
 *   cookie request (an empty option) or an invalid cookie gets a cookie in
 *   the SYN-ACK and the SYN's data is not acknowledged; a valid cookie
 *   (with fewer than `queueLength` such children still half-open, and the
 *   stack's TCP memory not under pressure: `admitSynData` in `memory.ts`)
 *   has the SYN's data taken into the receive buffer and acknowledged by
 *   the SYN-ACK. The child is accepted once the handshake's ACK arrives, its
 *   data readable at once; a duplicated SYN is answered with the SYN-ACK
 *   again and never delivers its data twice.
 * - **Client** (`connect({ fastOpenData })`, Linux's `MSG_FASTOPEN`): the
 *   data is queued; with a cookie cached for the server the SYN carries the
 *   cookie and as much of the data as the cached MSS allows, else an empty
 *   cookie request. What the SYN-ACK does not acknowledge is sent again
 *   after the handshake (§4.2.2 fallback), and a retransmitted SYN carries
 *   no data. The cache is per server address, bounded (oldest evicted).
 *
 * Sent: option kind 34. Accepted: kind 34 and the experimental kind 254
 * with ExID 0xF989 (RFC 6994), as Linux accepts both.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Rng } from "../../rng.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { KeyedHash } from "../../ip/keyed_hash.ts";
import { TCP_OPT_FAST_OPEN, TCP_OPT_NOP } from "../../wire/tcp_options.ts";
import type { Segment, TcpCore } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import type { ListenSocket } from "./listener.ts";
import { admitSynData } from "./memory.ts";
import { seqAdd, seqDiff, seqLt } from "./seq.ts";

/** Length of the cookies this stack makes, bytes (RFC 7413 allows 4..16). */
export const FAST_OPEN_COOKIE_LEN = 8;
/** Most servers whose cookies a client stack remembers. */
export const FAST_OPEN_CACHE_ENTRIES = 1024;
/** SYN option bytes besides the cookie (MSS, SACK-permitted/timestamps, window scale). */
const SYN_OPTION_ROOM = 20;

/** A cookie request: an empty Fast Open option. */
const REQUEST = new Uint8Array(0);

/** What a client remembers of a server. */
interface CachedCookie {
  readonly cookie: Uint8Array;
  /** The server's MSS option, which bounds the data a SYN may carry. */
  readonly mss: number;
}

/**
 * The Fast Open state of one stack: the server keys and the client's cookie
 * cache. Keys are drawn on first use, so a stack that never uses Fast Open
 * draws nothing from its RNG.
 *
 * @example
 * ```ts
 * import { FastOpenState } from "./fastopen.ts";
 * import { SeededRng } from "../../rng.ts";
 * import assert from "node:assert/strict";
 * const tfo = new FastOpenState(new SeededRng(1), 60_000_000);
 * const c = new Uint8Array(8);
 * tfo.cookie(0x0a000002, 0, c);
 * assert.ok(tfo.valid(0x0a000002, 30_000_000, c, 0, 8));
 * assert.ok(tfo.valid(0x0a000002, 90_000_000, c, 0, 8)); // one rotation: the previous key
 * assert.ok(!tfo.valid(0x0a000002, 150_000_000, c, 0, 8)); // two: gone
 * assert.ok(!tfo.valid(0x0a000003, 0, c, 0, 8));
 * ```
 */
export class FastOpenState {
  readonly #rng: Pick<Rng, "nextU32">;
  readonly #lifetime: number;
  #current: KeyedHash | null = null;
  #previous: KeyedHash | null = null;
  #born: Instant = 0;
  readonly #scratch = new Uint8Array(FAST_OPEN_COOKIE_LEN);
  /** Client side: cookies by server address, oldest first. */
  readonly cache: Map<IpKey, CachedCookie> = new Map();

  /** `lifetime`: µs a key makes cookies before the next takes over (0: never rotated). */
  constructor(rng: Pick<Rng, "nextU32">, lifetime: number) {
    this.#rng = rng;
    this.#lifetime = lifetime;
  }

  /** The current key at `now`, rotating (the current one becomes the previous) when due. */
  #key(now: Instant): KeyedHash {
    if (this.#current === null) {
      this.#current = new KeyedHash(this.#rng);
      this.#born = now;
    }
    const life = this.#lifetime;
    if (life > 0 && now - this.#born >= life) {
      // Two lifetimes or more: the previous key is too old to keep either.
      this.#previous = now - this.#born >= 2 * life ? null : this.#current;
      this.#current = new KeyedHash(this.#rng);
      this.#born = now - ((now - this.#born) % life);
    }
    return this.#current;
  }

  /** Writes the cookie for `client` at `now` (the current key) into `out[0..8)`. */
  cookie(client: IpKey, now: Instant, out: Uint8Array): void {
    write(this.#key(now), client, out);
  }

  /** Whether `buf[at..at+len)` is the cookie of `client` under the current or previous key. */
  valid(client: IpKey, now: Instant, buf: Uint8Array, at: number, len: number): boolean {
    if (len !== FAST_OPEN_COOKIE_LEN) return false;
    const cur = this.#key(now);
    for (const key of [cur, this.#previous]) {
      if (key === null) continue;
      write(key, client, this.#scratch);
      let same = true;
      for (let i = 0; i < FAST_OPEN_COOKIE_LEN; i++) {
        if (this.#scratch[i] !== buf[at + i]) same = false;
      }
      if (same) return true;
    }
    return false;
  }
}

function write(key: KeyedHash, client: IpKey, out: Uint8Array): void {
  const a = key.begin().address(client).word(0x7f0).end();
  const b = key.begin().address(client).word(0x7f1).end();
  out[0] = a >>> 24, out[1] = a >>> 16, out[2] = a >>> 8, out[3] = a;
  out[4] = b >>> 24, out[5] = b >>> 16, out[6] = b >>> 8, out[7] = b;
}

// ---- server ---------------------------------------------------------------

/**
 * A SYN for a listener with Fast Open on (RFC 7413 §4.2.2), after the child
 * `ep` took its sequence numbers (RCV.NXT = SEG.SEQ + 1): answers a cookie
 * request or a wrong cookie with a cookie in the SYN-ACK, and with a valid
 * cookie takes the SYN's data (copied into the receive buffer) so the
 * SYN-ACK acknowledges it, unless the listener's Fast Open queue is full or
 * the stack's TCP memory refuses it (`admitSynData`).
 */
export function fastOpenSyn(core: TcpCore, ls: ListenSocket, ep: TcpEndpoint, seg: Segment): void {
  const opts = seg.opts;
  if (ls.fastOpen === 0 || opts.fastOpenLen < 0) return;
  const tfo = core.fastOpen;
  const now = core.now();
  const fresh = new Uint8Array(FAST_OPEN_COOKIE_LEN);
  tfo.cookie(seg.src, now, fresh);
  const valid = opts.fastOpenLen > 0 &&
    tfo.valid(seg.src, now, seg.buf, opts.fastOpenAt, opts.fastOpenLen);
  if (!valid || !sameBytes(fresh, seg.buf, opts.fastOpenAt, opts.fastOpenLen)) {
    // A request, a wrong cookie, or one from the previous key: send the current one.
    ep.tfoCookie = fresh;
    core.c.tfo_cookie_sent.value++;
  }
  if (opts.fastOpenLen > 0 && !valid) core.c.tfo_cookie_invalid.value++;
  if (!valid || seg.dataLen === 0) return;
  if (ls.tfoPending >= ls.fastOpen) {
    core.c.tfo_queue_full.value++;
    return;
  }
  if (!admitSynData(ep, seg.dataLen)) return; // memory: the client sends it again
  // copy: retained past receive() (into the receive buffer)
  const n = ep.rcvBuffer().write(seg.buf.subarray(seg.dataAt, seg.dataAt + seg.dataLen));
  ep.rcvNxt = seqAdd(ep.rcvNxt, n);
  ep.bytesReceived += n;
  ep.tfoChild = true;
  ls.tfoPending++;
  core.c.tfo_syn_data_accepted.value++;
}

/** The child `ep` of `ls` left the SYN queue (established or gone): one Fast Open child fewer. */
export function fastOpenChildDone(ls: ListenSocket, ep: TcpEndpoint): void {
  if (!ep.tfoChild) return;
  ep.tfoChild = false;
  ls.tfoPending--;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, at: number, len: number): boolean {
  if (len !== a.length) return false;
  for (let i = 0; i < len; i++) if (a[i] !== buf[at + i]) return false;
  return true;
}

/**
 * Writes the Fast Open option (kind 34) with `cookie` (empty: a request) at
 * `o`, NOP-padded in front to a 4-byte multiple; returns the offset after.
 * Hot path: positional.
 */
export function writeFastOpenOption(buf: Uint8Array, o: number, cookie: Uint8Array): number {
  const len = 2 + cookie.length;
  for (let pad = ((len + 3) & ~3) - len; pad > 0; pad--) buf[o++] = TCP_OPT_NOP;
  buf[o] = TCP_OPT_FAST_OPEN;
  buf[o + 1] = len;
  buf.set(cookie, o + 2);
  return o + len;
}

// ---- client ---------------------------------------------------------------

/**
 * `connect({ fastOpenData })`: queues the data and decides what the SYN
 * carries: the cached cookie and the data that fits, or a cookie request.
 * Call before the first `sendSyn`.
 */
export function fastOpenConnect(ep: TcpEndpoint, data: Uint8Array): void {
  const core = ep.core;
  const queued = data.length > 0 ? ep.sndBuffer().write(data) : 0;
  const cached = core.fastOpen.cache.get(ep.remoteAddr);
  if (cached === undefined) {
    ep.tfoCookie = REQUEST;
    return;
  }
  ep.tfoCookie = cached.cookie;
  const optLen = (2 + cached.cookie.length + 3) & ~3;
  const room = Math.min(ep.advMss, cached.mss) - SYN_OPTION_ROOM - optLen;
  ep.tfoSynLen = Math.max(0, Math.min(queued, room));
}

/** Data bytes our SYN carries now: none on a retransmitted SYN. */
export function synDataLength(ep: TcpEndpoint): number {
  return ep.retries === 0 ? ep.tfoSynLen : 0;
}

/**
 * SYN-SENT + SYN-ACK (SND.UNA already moved to SEG.ACK): remembers the
 * server's cookie, releases the SYN data it acknowledged, and sends again
 * (after the handshake) what it did not.
 */
export function fastOpenSynAcked(ep: TcpEndpoint, seg: Segment): void {
  const core = ep.core;
  const opts = seg.opts;
  if (opts.fastOpenLen > 0) {
    const at = opts.fastOpenAt;
    const cookie = seg.buf.slice(at, at + opts.fastOpenLen); // copy: retained past receive()
    const cache = core.fastOpen.cache;
    cache.delete(ep.remoteAddr);
    if (cache.size >= FAST_OPEN_CACHE_ENTRIES) {
      cache.delete(cache.keys().next().value!);
      core.c.tfo_cache_evicted.value++;
    }
    cache.set(ep.remoteAddr, { cookie, mss: ep.peerMss });
  }
  ep.tfoCookie = null;
  if (ep.tfoSynLen === 0) return;
  const acked = seqDiff(seg.ack, ep.sndBufStart);
  if (acked > 0 && ep.sndBuf !== null) {
    ep.sndBuf.discard(acked);
    ep.sndBufStart = seqAdd(ep.sndBufStart, acked);
    ep.bytesAcked += acked;
    core.c.tfo_syn_data_acked.value++;
  }
  if (seqLt(ep.sndUna, ep.sndNxt)) {
    ep.sndNxt = ep.sndUna; // fallback (§4.2.2): the rest goes after the handshake
    core.c.tfo_fallback.value++;
  }
  ep.tfoSynLen = 0;
}

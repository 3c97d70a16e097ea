/**
 * TCP options (RFC 9293 §3.2, §3.7.1; RFC 7323; RFC 2018): parsing into a
 * reusable allocation-free {@linkcode TcpOptionSet}, iteration with
 * {@linkcode readTcpOption}, tcpdump-style printing, and emission in Linux's
 * layout. Re-exported by `tcp.ts`.
 *
 * Options never make a parser throw. Following Linux (`tcp_parse_options`),
 * a known option with the wrong length is ignored, an unknown kind is
 * skipped by its length, and a length below 2 or running past the end stops
 * parsing there (the options read so far are kept and `malformed` is set).
 *
 * @module
 */
import type { TcpRepr } from "./tcp.ts";
import { readU16, readU32, writeU32 } from "./bytes.ts";

/** Option kind: end of option list. */
export const TCP_OPT_EOL = 0;
/** Option kind: no operation (padding). */
export const TCP_OPT_NOP = 1;
/** Option kind: maximum segment size (length 4, SYN only). */
export const TCP_OPT_MSS = 2;
/** Option kind: window scale (length 3, SYN only; RFC 7323 §2). */
export const TCP_OPT_WSCALE = 3;
/** Option kind: SACK permitted (length 2, SYN only; RFC 2018). */
export const TCP_OPT_SACK_PERMITTED = 4;
/** Option kind: SACK blocks (length 2 + 8n; RFC 2018). */
export const TCP_OPT_SACK = 5;
/** Option kind: timestamps (length 10; RFC 7323 §3). */
export const TCP_OPT_TIMESTAMP = 8;
/** Option kind: TCP Fast Open cookie (length 2, a request, or 6..18; RFC 7413 §4.1.1). */
export const TCP_OPT_FAST_OPEN = 34;
/** Option kind: experimental (RFC 6994); with magic 0xF989, the pre-RFC Fast Open cookie. */
export const TCP_OPT_EXPERIMENTAL = 254;
/** The RFC 6994 ExID of the experimental Fast Open option. */
export const TCP_FAST_OPEN_EXID = 0xf989;
/**
 * The first word of the usual timestamps layout (NOP, NOP, kind 8, length
 * 10: RFC 7323 Appendix A), which receivers test for before a full parse.
 */
export const TCP_OPT_NOP_NOP_TIMESTAMP = 0x0101080a;
/** Largest window-scale shift (RFC 7323 §2.3); larger values are used as 14. */
export const TCP_MAX_WSCALE = 14;
/** Most SACK blocks an option can hold (4 without timestamps, 3 with). */
export const TCP_MAX_SACK_BLOCKS = 4;

/**
 * Options parsed into plain fields, reusable across segments so the receive
 * path allocates nothing: call {@linkcode TcpOptionSet.parse} on each
 * segment's options. Absent values are `-1` (`mss`, `windowScale`) or
 * `false`.
 *
 * @example
 * ```ts
 * import { TcpOptionSet } from "./tcp_options.ts";
 * import assert from "node:assert/strict";
 *
 * const set = new TcpOptionSet();
 * // mss 1460, sackOK, TS val 7 ecr 0, nop, wscale 7
 * set.parse(new Uint8Array([2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0, 1, 3, 3, 7]));
 * assert.equal(set.mss, 1460);
 * assert.ok(set.sackPermitted);
 * assert.equal(set.tsVal, 7);
 * assert.equal(set.windowScale, 7);
 * assert.ok(!set.malformed);
 * ```
 */
export class TcpOptionSet {
  /** MSS option value, or -1. */
  mss = -1;
  /** Window-scale shift as sent (not clamped), or -1. */
  windowScale = -1;
  /** SACK-permitted option present. */
  sackPermitted = false;
  /** Timestamps option present. */
  hasTimestamp = false;
  /** TSval, unsigned 32-bit (valid when `hasTimestamp`). */
  tsVal = 0;
  /** TSecr, unsigned 32-bit (valid when `hasTimestamp`). */
  tsEcr = 0;
  /** Number of SACK blocks read (0..4; the blocks of a longer option past the fourth are ignored). */
  sackCount = 0;
  /** SACK block edges: left at `2i`, right at `2i + 1`, unsigned 32-bit. */
  readonly sackBlocks: Uint32Array = new Uint32Array(2 * TCP_MAX_SACK_BLOCKS);
  /**
   * Fast Open cookie (RFC 7413, kind 34, or kind 254 with ExID 0xF989):
   * its length in bytes (0: a cookie request), or -1 when absent.
   */
  fastOpenLen = -1;
  /** Offset of the Fast Open cookie in the parsed buffer (valid when `fastOpenLen > 0`). */
  fastOpenAt = 0;
  /** Options of a kind this parser does not know, skipped. */
  unknown = 0;
  /** A length octet was missing, below 2 or ran past the end; parsing stopped there. */
  malformed = false;

  /** Clears every field. */
  reset(): void {
    this.mss = this.windowScale = this.fastOpenLen = -1;
    this.sackPermitted = this.hasTimestamp = this.malformed = false;
    this.tsVal =
      this.tsEcr =
      this.sackCount =
      this.unknown =
        0;
  }

  /**
   * Parses an options area (the bytes after the fixed header, up to the data
   * offset) into the fields, after clearing them. Never throws, never
   * allocates.
   *
   * @param bytes The buffer holding the options.
   * @param start Offset of the first option byte (default 0).
   * @param end Offset just past the options (default `bytes.length`).
   * @returns `false` when parsing stopped on a malformed length, else `true`.
   */
  parse(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    this.reset();
    if (end > bytes.length) end = bytes.length;
    let i = start;
    while (i < end) {
      const kind = bytes[i]!;
      if (kind === TCP_OPT_EOL) break;
      if (kind === TCP_OPT_NOP) {
        i++;
        continue;
      }
      if (i + 1 >= end) {
        this.malformed = true;
        return false;
      }
      const len = bytes[i + 1]!;
      if (len < 2 || i + len > end) {
        this.malformed = true;
        return false;
      }
      switch (kind) {
        case TCP_OPT_MSS:
          if (len === 4) this.mss = readU16(bytes, i + 2);
          break;
        case TCP_OPT_WSCALE:
          if (len === 3) this.windowScale = bytes[i + 2]!;
          break;
        case TCP_OPT_SACK_PERMITTED:
          if (len === 2) this.sackPermitted = true;
          break;
        case TCP_OPT_TIMESTAMP:
          if (len === 10) {
            this.hasTimestamp = true;
            this.tsVal = readU32(bytes, i + 2);
            this.tsEcr = readU32(bytes, i + 6);
          }
          break;
        case TCP_OPT_SACK:
          if (len >= 10 && ((len - 2) & 7) === 0) {
            // At most 4 blocks fit in 40 option bytes; a longer option (from
            // an options area a caller did not bound to 40) is read up to 4
            // blocks, as Linux reads at most 4 (`TCP_NUM_SACKS`).
            let n = (len - 2) >>> 3;
            if (n > TCP_MAX_SACK_BLOCKS) n = TCP_MAX_SACK_BLOCKS;
            this.sackCount = n;
            for (let b = 0; b < n; b++) {
              this.sackBlocks[2 * b] = readU32(bytes, i + 2 + 8 * b);
              this.sackBlocks[2 * b + 1] = readU32(bytes, i + 6 + 8 * b);
            }
          }
          break;
        case TCP_OPT_FAST_OPEN:
          // RFC 7413 §4.1.1: a request (length 2) or a cookie of 4..16 bytes, even.
          if (len === 2 || (len >= 6 && len <= 18 && (len & 1) === 0)) {
            this.fastOpenLen = len - 2;
            this.fastOpenAt = i + 2;
          }
          break;
        case TCP_OPT_EXPERIMENTAL:
          if (len >= 4 && readU16(bytes, i + 2) === TCP_FAST_OPEN_EXID) {
            const n = len - 4;
            if (n === 0 || (n >= 4 && n <= 16 && (n & 1) === 0)) {
              this.fastOpenLen = n;
              this.fastOpenAt = i + 4;
            }
          } else this.unknown++;
          break;
        default:
          this.unknown++;
      }
      i += len;
    }
    return true;
  }
}

/** One option from {@linkcode readTcpOption}. */
export interface TcpOption {
  /** Option kind (`TCP_OPT_*`, or another number). */
  readonly kind: number;
  /** The option data after the kind and length octets (empty for NOP); a subarray. */
  readonly data: Uint8Array;
  /** Offset of the next option in the options bytes. */
  readonly next: number;
}

/**
 * Reads the option at `offset` of an options area, bounds-checked. Iterate
 * with `next` until a string comes back. Never throws.
 *
 * @param options The options bytes ({@linkcode TcpPacket.options}).
 * @param offset Where the option starts.
 * @returns The option, `"end"` at the end of the list (EOL or no bytes
 * left), or `"bad_option"` if a length octet is missing, below 2 or runs past
 * the end.
 *
 * @example
 * ```ts
 * import { readTcpOption, TCP_OPT_MSS } from "./tcp_options.ts";
 * import assert from "node:assert/strict";
 *
 * const options = new Uint8Array([1, 2, 4, 5, 180, 0]); // NOP, MSS 1460, EOL
 * const kinds: number[] = [];
 * for (let o = readTcpOption(options, 0); typeof o !== "string"; o = readTcpOption(options, o.next)) {
 *   kinds.push(o.kind);
 * }
 * assert.deepEqual(kinds, [1, TCP_OPT_MSS]);
 * assert.equal(readTcpOption(new Uint8Array([2, 9, 0]), 0), "bad_option");
 * ```
 */
export function readTcpOption(
  options: Uint8Array,
  offset: number,
): TcpOption | "end" | "bad_option" {
  if (!(offset >= 0) || offset >= options.length) return "end";
  const kind = options[offset]!;
  if (kind === TCP_OPT_EOL) return "end";
  if (kind === TCP_OPT_NOP) {
    return { kind, data: options.subarray(offset + 1, offset + 1), next: offset + 1 };
  }
  if (offset + 1 >= options.length) return "bad_option";
  const length = options[offset + 1]!;
  if (length < 2 || offset + length > options.length) return "bad_option";
  return { kind, data: options.subarray(offset + 2, offset + length), next: offset + length };
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * The options area as tcpdump prints it, in wire order:
 * `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`; `sack 2 {a:b}{c:d}`; an
 * unknown kind as `opt-N:hex`; a bad length ends with `[bad opt]`. Never
 * throws.
 *
 * @param options The options bytes.
 * @returns The comma-separated list (empty when there are no options).
 *
 * @example
 * ```ts
 * import { formatTcpOptions } from "./tcp_options.ts";
 * import assert from "node:assert/strict";
 * const sack = new Uint8Array([1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20]);
 * assert.equal(formatTcpOptions(sack), "nop,nop,sack 1 {10:20}");
 * ```
 */
export function formatTcpOptions(options: Uint8Array): string {
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    const o = readTcpOption(options, at);
    if (o === "end") {
      if (at < options.length) parts.push("eol"); // an explicit end-of-list option
      break;
    }
    if (o === "bad_option") {
      parts.push("[bad opt]");
      break;
    }
    at = o.next;
    const d = o.data;
    switch (o.kind) {
      case TCP_OPT_NOP:
        parts.push("nop");
        break;
      case TCP_OPT_MSS:
        parts.push(d.length === 2 ? `mss ${(d[0]! << 8) | d[1]!}` : `mss [bad len ${d.length}]`);
        break;
      case TCP_OPT_WSCALE:
        parts.push(d.length === 1 ? `wscale ${d[0]}` : `wscale [bad len ${d.length}]`);
        break;
      case TCP_OPT_SACK_PERMITTED:
        parts.push(d.length === 0 ? "sackOK" : `sackOK [bad len ${d.length}]`);
        break;
      case TCP_OPT_TIMESTAMP:
        parts.push(
          d.length === 8
            ? `TS val ${readU32(d, 0)} ecr ${readU32(d, 4)}`
            : `TS [bad len ${d.length}]`,
        );
        break;
      case TCP_OPT_SACK: {
        if (d.length % 8 !== 0) {
          parts.push(`sack [bad len ${d.length}]`);
          break;
        }
        let s = `sack ${d.length / 8} `;
        for (let i = 0; i < d.length; i += 8) s += `{${readU32(d, i)}:${readU32(d, i + 4)}}`;
        parts.push(s);
        break;
      }
      default:
        parts.push(`opt-${o.kind}:${hex(d)}`);
    }
  }
  return parts.join(",");
}

/**
 * Writes `repr`'s options in Linux's order and padding
 * (`tcp_options_write`): MSS; then `sackOK,TS` (or `nop,nop,TS`, or
 * `nop,nop,sackOK`); then `nop,wscale`; then `nop,nop,sack`. Every part is a
 * multiple of 4 bytes. Returns the bytes written.
 *
 * @param repr The header whose options to write.
 * @param bytes The buffer.
 * @param at Where the options start (after the fixed header).
 * @returns The number of bytes written.
 *
 * @example
 * ```ts
 * import { emitTcpOptions, formatTcpOptions } from "./tcp_options.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(40);
 * const n = emitTcpOptions(
 *   { srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 2, window: 0, payloadLength: 0, mss: 1460, windowScale: 7 },
 *   b,
 *   0,
 * );
 * assert.equal(formatTcpOptions(b.subarray(0, n)), "mss 1460,nop,wscale 7");
 * ```
 */
export function emitTcpOptions(repr: TcpRepr, bytes: Uint8Array, at: number): number {
  const start = at;
  if (repr.mss !== undefined) {
    bytes[at] = TCP_OPT_MSS;
    bytes[at + 1] = 4;
    bytes[at + 2] = (repr.mss >>> 8) & 0xff;
    bytes[at + 3] = repr.mss & 0xff;
    at += 4;
  }
  if (repr.timestamp !== undefined) {
    if (repr.sackPermitted === true) {
      bytes[at] = TCP_OPT_SACK_PERMITTED;
      bytes[at + 1] = 2;
    } else {
      bytes[at] = TCP_OPT_NOP;
      bytes[at + 1] = TCP_OPT_NOP;
    }
    bytes[at + 2] = TCP_OPT_TIMESTAMP;
    bytes[at + 3] = 10;
    writeU32(bytes, at + 4, repr.timestamp.value);
    writeU32(bytes, at + 8, repr.timestamp.echo);
    at += 12;
  } else if (repr.sackPermitted === true) {
    bytes[at] = TCP_OPT_NOP;
    bytes[at + 1] = TCP_OPT_NOP;
    bytes[at + 2] = TCP_OPT_SACK_PERMITTED;
    bytes[at + 3] = 2;
    at += 4;
  }
  if (repr.windowScale !== undefined) {
    bytes[at] = TCP_OPT_NOP;
    bytes[at + 1] = TCP_OPT_WSCALE;
    bytes[at + 2] = 3;
    bytes[at + 3] = repr.windowScale;
    at += 4;
  }
  const blocks = repr.sackBlocks;
  if (blocks !== undefined && blocks.length > 0) {
    bytes[at] = TCP_OPT_NOP;
    bytes[at + 1] = TCP_OPT_NOP;
    bytes[at + 2] = TCP_OPT_SACK;
    bytes[at + 3] = 2 + 8 * blocks.length;
    at += 4;
    for (const [l, r] of blocks) {
      writeU32(bytes, at, l);
      writeU32(bytes, at + 4, r);
      at += 8;
    }
  }
  return at - start;
}

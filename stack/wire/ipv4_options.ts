/**
 * IPv4 options (RFC 791 §3.1): an allocation-free validating walk over the
 * options area, a Repr for tools and tests (parse / emit), tcpdump-style
 * text, and the in-place updates a host or router makes to Record Route and
 * Timestamp.
 *
 * Contract: every function takes the bytes and bounds explicitly and never
 * reads outside `[at, at + len)`; none throws. {@linkcode checkIpv4Options}
 * returns the offset of the first bad byte (add 20 for the ICMP Parameter
 * Problem pointer, RFC 792, which counts from the start of the IP header).
 *
 * Validation, as Linux's `ip_options_compile()` except where noted:
 * - a length octet missing (option type in the last byte): the type byte;
 * - length below 2, or running past the options area: the length byte
 *   (Linux points at the type byte; the length is the byte that is wrong);
 * - Record Route / source routes (7, 131, 137): length below 3 → length
 *   byte; pointer below 4, or pointing into the data without room for a
 *   whole address → pointer byte; a pointer past the length means "full"
 *   and is valid;
 * - Timestamp (68): length below 4 → length byte; pointer below 5, or
 *   without room for a whole entry (4 bytes, 8 with addresses) → pointer
 *   byte; a flag other than 0, 1, 3 → flag byte. (A full Timestamp whose
 *   overflow counter is already 15 is valid here: only a hop that must
 *   count itself rejects it, see {@linkcode ipv4TimestampOverflowed};
 *   a sender may send it.)
 * - Router Alert (148, RFC 2113): length other than 4 → length byte (any
 *   value is accepted; RFC 2113 reserves non-zero values);
 * - a second Record Route, Timestamp, Router Alert or source route (either
 *   kind) → its type byte.
 * Other options (Security 130, Stream ID 136, unknown) are skipped by length.
 *
 * @module
 */
import { formatIpv4Address } from "./address.ts";

/** End of Option List. */
export const IPV4_OPT_EOL = 0;
/** No Operation. */
export const IPV4_OPT_NOP = 1;
/** Record Route. */
export const IPV4_OPT_RR = 7;
/** Internet Timestamp. */
export const IPV4_OPT_TS = 68;
/** Security (RFC 1108), skipped by length. */
export const IPV4_OPT_SECURITY = 130;
/** Loose Source and Record Route. */
export const IPV4_OPT_LSRR = 131;
/** Strict Source and Record Route. */
export const IPV4_OPT_SSRR = 137;
/** Router Alert (RFC 2113). */
export const IPV4_OPT_RA = 148;
/** Timestamp flag: timestamps only. */
export const IPV4_TS_ONLY = 0;
/** Timestamp flag: each entry is an address then a timestamp. */
export const IPV4_TS_AND_ADDR = 1;
/** Timestamp flag: addresses prespecified by the sender. */
export const IPV4_TS_PRESPEC = 3;
/** Most option bytes a header can carry (60 - 20). */
export const IPV4_MAX_OPTIONS_LEN = 40;

/** Why an options area is malformed. */
export type Ipv4OptionError =
  | "option_truncated"
  | "option_bad_length"
  | "option_bad_pointer"
  | "option_bad_flag"
  | "option_duplicate";

/**
 * Where {@linkcode checkIpv4Options} found the options it interprets:
 * offsets from the start of the options area, -1 when absent. Reused
 * between packets (no allocation per packet).
 */
export class Ipv4OptionOffsets {
  /** Record Route. */
  rr = -1;
  /** Timestamp. */
  ts = -1;
  /** Loose or Strict Source Route (see the type byte). */
  srr = -1;
  /** Router Alert. */
  ra = -1;
  /** Why the last check failed ("" when it passed). */
  error: Ipv4OptionError | "" = "";

  /** Clears every field. */
  reset(): void {
    this.rr =
      this.ts =
      this.srr =
      this.ra =
        -1;
    this.error = "";
  }
}

function fail(out: Ipv4OptionOffsets, why: Ipv4OptionError, at: number): number {
  out.error = why;
  return at;
}

/**
 * Validates the options area `b[at .. at+len)` and records where the
 * interpreted options are in `out` (see the module doc for the rules).
 *
 * Hot path: positional arguments; allocates nothing.
 *
 * @returns -1 when valid, else the offset of the bad byte from `at`
 * (`out.error` says why).
 *
 * @example
 * ```ts
 * import { checkIpv4Options, Ipv4OptionOffsets } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * const out = new Ipv4OptionOffsets();
 * // NOP, then Record Route with room for one address (pointer 4).
 * assert.equal(checkIpv4Options(new Uint8Array([1, 7, 7, 4, 0, 0, 0, 0]), 0, 8, out), -1);
 * assert.equal(out.rr, 1);
 * // Record Route with pointer 3: the pointer byte (offset 2) is bad.
 * assert.equal(checkIpv4Options(new Uint8Array([7, 7, 3, 0, 0, 0, 0, 0]), 0, 8, out), 2);
 * assert.equal(out.error, "option_bad_pointer");
 * ```
 */
export function checkIpv4Options(
  b: Uint8Array,
  at: number,
  len: number,
  out: Ipv4OptionOffsets,
): number {
  out.reset();
  if (at < 0 || len < 0 || at + len > b.length) return fail(out, "option_truncated", 0);
  let i = 0;
  while (i < len) {
    const t = b[at + i]!;
    if (t === IPV4_OPT_EOL) break;
    if (t === IPV4_OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= len) return fail(out, "option_truncated", i);
    const l = b[at + i + 1]!;
    if (l < 2 || i + l > len) return fail(out, "option_bad_length", i + 1);
    switch (t) {
      case IPV4_OPT_RR:
      case IPV4_OPT_LSRR:
      case IPV4_OPT_SSRR: {
        if (l < 3) return fail(out, "option_bad_length", i + 1);
        const p = b[at + i + 2]!;
        if (p < 4 || (p <= l && p + 3 > l)) return fail(out, "option_bad_pointer", i + 2);
        if (t === IPV4_OPT_RR) {
          if (out.rr >= 0) return fail(out, "option_duplicate", i);
          out.rr = i;
        } else {
          if (out.srr >= 0) return fail(out, "option_duplicate", i);
          out.srr = i;
        }
        break;
      }
      case IPV4_OPT_TS: {
        if (l < 4) return fail(out, "option_bad_length", i + 1);
        const p = b[at + i + 2]!;
        const of = b[at + i + 3]!;
        const flag = of & 0x0f;
        if (p < 5) return fail(out, "option_bad_pointer", i + 2);
        if (flag !== IPV4_TS_ONLY && flag !== IPV4_TS_AND_ADDR && flag !== IPV4_TS_PRESPEC) {
          return fail(out, "option_bad_flag", i + 3);
        }
        if (p <= l && p + (flag === IPV4_TS_ONLY ? 3 : 7) > l) {
          return fail(out, "option_bad_pointer", i + 2);
        }
        if (out.ts >= 0) return fail(out, "option_duplicate", i);
        out.ts = i;
        break;
      }
      case IPV4_OPT_RA:
        if (l !== 4) return fail(out, "option_bad_length", i + 1);
        if (out.ra >= 0) return fail(out, "option_duplicate", i);
        out.ra = i;
        break;
    }
    i += l;
  }
  return -1;
}

/**
 * Whether the Timestamp option at `b[at..]` (checked) is full and its
 * overflow counter can count no further hop (15; flags 0 and 1): a host or
 * router receiving it answers Parameter Problem pointing at the
 * overflow/flag byte, `at + 3` (Linux `ip_options_compile()`).
 *
 * @example
 * ```ts
 * import { ipv4TimestampOverflowed } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * assert.ok(ipv4TimestampOverflowed(new Uint8Array([68, 8, 9, 0xf0, 0, 0, 0, 0]), 0));
 * assert.ok(!ipv4TimestampOverflowed(new Uint8Array([68, 8, 9, 0xe0, 0, 0, 0, 0]), 0));
 * assert.ok(!ipv4TimestampOverflowed(new Uint8Array([68, 8, 5, 0xf0, 0, 0, 0, 0]), 0)); // room left
 * ```
 */
export function ipv4TimestampOverflowed(b: Uint8Array, at: number): boolean {
  const of = b[at + 3]!;
  return b[at + 2]! > b[at + 1]! && (of & 0x0f) !== IPV4_TS_PRESPEC && (of >> 4) === 15;
}

/**
 * Records `addr` and `ms` (milliseconds since midnight UT) in the Record
 * Route and Timestamp options of the header at `b[s .. s+hlen)`, as a host
 * that receives or sends the datagram, or a router that forwards it, does
 * (RFC 791 §3.1; Linux `ip_options_compile()` + `ip_options_build()`):
 * - Record Route with room: `addr` at the pointer, pointer += 4; full: unchanged.
 * - Timestamp flag 0: `ms`, pointer += 4; flag 1: `addr` and `ms`, pointer
 *   += 8; flag 3: `ms` only when the next prespecified address is `addr`,
 *   then pointer += 8; full (flags 0 and 1): overflow += 1 (saturating at
 *   15) when `overflow` is set (a hop that receives or forwards it; Linux
 *   does not count the sender's own entry).
 * The options must have passed {@linkcode checkIpv4Options}. The header
 * checksum is not updated.
 *
 * Hot path: positional arguments; allocates nothing.
 *
 * @returns Whether a byte changed.
 *
 * @example
 * ```ts
 * import { recordIpv4Options } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * const h = new Uint8Array(28);
 * h[0] = 0x47; // IHL 7
 * h.set([7, 7, 4, 0, 0, 0, 0, 0], 20); // RR, one empty slot
 * assert.ok(recordIpv4Options(h, 0, 28, 0x0a000002, 0, true));
 * assert.deepEqual([...h.subarray(20)], [7, 7, 8, 10, 0, 0, 2, 0]);
 * assert.ok(!recordIpv4Options(h, 0, 28, 0x0a000002, 0, true)); // full now
 * ```
 */
export function recordIpv4Options(
  b: Uint8Array,
  s: number,
  hlen: number,
  addr: number,
  ms: number,
  overflow: boolean,
): boolean {
  let changed = false;
  let i = 20;
  while (i < hlen) {
    const o = s + i;
    const t = b[o]!;
    if (t === IPV4_OPT_EOL) break;
    if (t === IPV4_OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= hlen) break;
    const l = b[o + 1]!;
    if (l < 2 || i + l > hlen) break;
    if (t === IPV4_OPT_RR && l >= 3) {
      const p = b[o + 2]!;
      if (p >= 4 && p + 3 <= l) {
        put32(b, o + p - 1, addr);
        b[o + 2] = p + 4;
        changed = true;
      }
    } else if (t === IPV4_OPT_TS && l >= 4) {
      const p = b[o + 2]!;
      const flag = b[o + 3]! & 0x0f;
      if (p >= 5 && p <= l) {
        if (flag === IPV4_TS_ONLY && p + 3 <= l) {
          put32(b, o + p - 1, ms);
          b[o + 2] = p + 4;
          changed = true;
        } else if (flag === IPV4_TS_AND_ADDR && p + 7 <= l) {
          put32(b, o + p - 1, addr);
          put32(b, o + p + 3, ms);
          b[o + 2] = p + 8;
          changed = true;
        } else if (flag === IPV4_TS_PRESPEC && p + 7 <= l && get32(b, o + p - 1) === addr) {
          put32(b, o + p + 3, ms);
          b[o + 2] = p + 8;
          changed = true;
        }
      } else if (overflow && p > l && flag !== IPV4_TS_PRESPEC && (b[o + 3]! >> 4) < 15) {
        b[o + 3] = b[o + 3]! + 0x10;
        changed = true;
      }
    }
    i += l;
  }
  return changed;
}

/**
 * Copies the Record Route and Timestamp options of the header at
 * `b[s .. s+hlen)` into `out` (in the order they appear), padded with
 * End-of-Options to a multiple of 4: the options an echo reply reflects
 * (RFC 1122 §3.2.2.6; Linux `ip_options_echo()` copies these two, and
 * reverses a source route, which this stack does not accept by default).
 *
 * Hot path: positional arguments; allocates nothing.
 *
 * @param out At least 40 bytes.
 * @returns The number of bytes written (0: nothing to reflect).
 *
 * @example
 * ```ts
 * import { copyEchoIpv4Options } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * const h = new Uint8Array(32);
 * h[0] = 0x48;
 * h.set([148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0], 20); // Router Alert, RR
 * const out = new Uint8Array(40);
 * assert.equal(copyEchoIpv4Options(h, 0, 32, out), 8);
 * assert.deepEqual([...out.subarray(0, 8)], [7, 7, 4, 0, 0, 0, 0, 0]);
 * ```
 */
export function copyEchoIpv4Options(
  b: Uint8Array,
  s: number,
  hlen: number,
  out: Uint8Array,
): number {
  let n = 0;
  let i = 20;
  while (i < hlen) {
    const t = b[s + i]!;
    if (t === IPV4_OPT_EOL) break;
    if (t === IPV4_OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= hlen) break;
    const l = b[s + i + 1]!;
    if (l < 2 || i + l > hlen) break;
    if ((t === IPV4_OPT_RR || t === IPV4_OPT_TS) && n + l <= out.length) {
      out.set(b.subarray(s + i, s + i + l), n);
      n += l;
    }
    i += l;
  }
  const padded = (n + 3) & ~3;
  out.fill(IPV4_OPT_EOL, n, Math.min(padded, out.length));
  return padded;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function get32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

// ---- Repr -------------------------------------------------------------------

/** One option, parsed. Route and timestamp data keep every slot (filled or not). */
export type Ipv4OptionRepr =
  | { readonly kind: "end" }
  | { readonly kind: "nop" }
  | {
    readonly kind: "record_route" | "loose_source_route" | "strict_source_route";
    /** The pointer octet (4 = nothing recorded yet). */
    readonly pointer: number;
    /** Every address slot, in order. */
    readonly addresses: readonly number[];
  }
  | {
    readonly kind: "timestamp";
    readonly pointer: number;
    /** Overflow counter, 0..15. */
    readonly overflow: number;
    /** 0 timestamps only, 1 address + timestamp, 3 prespecified addresses. */
    readonly flag: number;
    /** Every 32-bit word of the data area, in order. */
    readonly words: readonly number[];
  }
  | { readonly kind: "router_alert"; readonly value: number }
  | { readonly kind: "unknown"; readonly type: number; readonly data: Uint8Array };

/** A malformed options area: why, and the offset of the bad byte in it. */
export interface Ipv4OptionsFault {
  /** Why. */
  readonly error: Ipv4OptionError;
  /** Offset of the bad byte from the start of the options area. */
  readonly offset: number;
}

const KIND_TYPE = {
  record_route: IPV4_OPT_RR,
  loose_source_route: IPV4_OPT_LSRR,
  strict_source_route: IPV4_OPT_SSRR,
} as const;

function words(b: Uint8Array, from: number, to: number): number[] {
  const w: number[] = [];
  for (let j = from; j + 4 <= to; j += 4) w.push(get32(b, j));
  return w;
}

/**
 * Parses an options area (the bytes after the fixed header). Stops after
 * End of Option List (padding is not reported). Never throws; `unknown`
 * data is a subarray.
 *
 * @example
 * ```ts
 * import { parseIpv4Options } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseIpv4Options(new Uint8Array([148, 4, 0, 0])), [
 *   { kind: "router_alert", value: 0 },
 * ]);
 * assert.deepEqual(parseIpv4Options(new Uint8Array([7, 9])), {
 *   error: "option_bad_length",
 *   offset: 1,
 * });
 * ```
 */
export function parseIpv4Options(bytes: Uint8Array): Ipv4OptionRepr[] | Ipv4OptionsFault {
  const offsets = new Ipv4OptionOffsets();
  const bad = checkIpv4Options(bytes, 0, bytes.length, offsets);
  if (bad >= 0) return { error: offsets.error as Ipv4OptionError, offset: bad };
  const out: Ipv4OptionRepr[] = [];
  for (let i = 0; i < bytes.length;) {
    const t = bytes[i]!;
    if (t === IPV4_OPT_EOL) {
      out.push({ kind: "end" });
      break;
    }
    if (t === IPV4_OPT_NOP) {
      out.push({ kind: "nop" });
      i++;
      continue;
    }
    const l = bytes[i + 1]!;
    if (t === IPV4_OPT_RR || t === IPV4_OPT_LSRR || t === IPV4_OPT_SSRR) {
      out.push({
        kind: t === IPV4_OPT_RR
          ? "record_route"
          : t === IPV4_OPT_LSRR
          ? "loose_source_route"
          : "strict_source_route",
        pointer: bytes[i + 2]!,
        addresses: words(bytes, i + 3, i + l),
      });
    } else if (t === IPV4_OPT_TS) {
      out.push({
        kind: "timestamp",
        pointer: bytes[i + 2]!,
        overflow: bytes[i + 3]! >> 4,
        flag: bytes[i + 3]! & 0x0f,
        words: words(bytes, i + 4, i + l),
      });
    } else if (t === IPV4_OPT_RA) {
      out.push({ kind: "router_alert", value: (bytes[i + 2]! << 8) | bytes[i + 3]! });
    } else {
      out.push({ kind: "unknown", type: t, data: bytes.subarray(i + 2, i + l) });
    }
    i += l;
  }
  return out;
}

/** Bytes one option takes on the wire. */
function reprLength(r: Ipv4OptionRepr): number {
  switch (r.kind) {
    case "end":
    case "nop":
      return 1;
    case "router_alert":
      return 4;
    case "timestamp":
      return 4 + 4 * r.words.length;
    case "unknown":
      return 2 + r.data.length;
    default:
      return 3 + 4 * r.addresses.length;
  }
}

/**
 * Bytes {@linkcode emitIpv4Options} writes for `reprs` (not padded).
 *
 * @example
 * ```ts
 * import { ipv4OptionsLength } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv4OptionsLength([{ kind: "nop" }, { kind: "router_alert", value: 0 }]), 5);
 * ```
 */
export function ipv4OptionsLength(reprs: readonly Ipv4OptionRepr[]): number {
  let n = 0;
  for (const r of reprs) n += reprLength(r);
  return n;
}

/**
 * Writes `reprs` at the start of `bytes`, which must hold
 * {@linkcode ipv4OptionsLength} bytes; pads with End of Option List up to
 * the next multiple of 4 where `bytes` has room. Never throws (writes past
 * `bytes` are dropped by the typed array).
 *
 * @returns The padded length.
 *
 * @example
 * ```ts
 * import { emitIpv4Options } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8).fill(0xff);
 * assert.equal(emitIpv4Options([{ kind: "nop" }, { kind: "router_alert", value: 0 }], b), 8);
 * assert.deepEqual([...b], [1, 148, 4, 0, 0, 0, 0, 0]);
 * ```
 */
export function emitIpv4Options(reprs: readonly Ipv4OptionRepr[], bytes: Uint8Array): number {
  let i = 0;
  for (const r of reprs) {
    switch (r.kind) {
      case "end":
        bytes[i++] = IPV4_OPT_EOL;
        break;
      case "nop":
        bytes[i++] = IPV4_OPT_NOP;
        break;
      case "router_alert":
        bytes[i] = IPV4_OPT_RA;
        bytes[i + 1] = 4;
        bytes[i + 2] = r.value >> 8;
        bytes[i + 3] = r.value & 0xff;
        i += 4;
        break;
      case "timestamp":
        bytes[i] = IPV4_OPT_TS;
        bytes[i + 1] = 4 + 4 * r.words.length;
        bytes[i + 2] = r.pointer;
        bytes[i + 3] = ((r.overflow & 0x0f) << 4) | (r.flag & 0x0f);
        for (let j = 0; j < r.words.length; j++) put32(bytes, i + 4 + 4 * j, r.words[j]!);
        i += 4 + 4 * r.words.length;
        break;
      case "unknown":
        bytes[i] = r.type;
        bytes[i + 1] = 2 + r.data.length;
        bytes.set(r.data.subarray(0, Math.max(0, bytes.length - i - 2)), i + 2);
        i += 2 + r.data.length;
        break;
      default:
        bytes[i] = KIND_TYPE[r.kind];
        bytes[i + 1] = 3 + 4 * r.addresses.length;
        bytes[i + 2] = r.pointer;
        for (let j = 0; j < r.addresses.length; j++) {
          put32(bytes, i + 3 + 4 * j, r.addresses[j]!);
        }
        i += 3 + 4 * r.addresses.length;
    }
  }
  const padded = (i + 3) & ~3;
  for (let j = i; j < padded && j < bytes.length; j++) bytes[j] = IPV4_OPT_EOL;
  return padded;
}

const ROUTE_NAME = {
  record_route: "RR",
  loose_source_route: "LSRR",
  strict_source_route: "SSRR",
} as const;

/**
 * One option as tcpdump prints it (`RR 10.0.0.1, 10.0.0.2,` ...), with the
 * slot the pointer designates marked `^` (an unfilled tail shows `0.0.0.0`).
 *
 * @example
 * ```ts
 * import { formatIpv4OptionRepr } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatIpv4OptionRepr({ kind: "record_route", pointer: 8, addresses: [0x0a000001, 0] }),
 *   "RR 10.0.0.1 ^0.0.0.0",
 * );
 * assert.equal(formatIpv4OptionRepr({ kind: "router_alert", value: 0 }), "RA value 0");
 * ```
 */
export function formatIpv4OptionRepr(r: Ipv4OptionRepr): string {
  switch (r.kind) {
    case "end":
      return "EOL";
    case "nop":
      return "NOP";
    case "router_alert":
      return `RA value ${r.value}`;
    case "unknown":
      return `opt-${r.type} len ${r.data.length + 2}`;
    case "timestamp": {
      const flag = r.flag === 0 ? "TSONLY" : r.flag === 1 ? "TS+ADDR" : "PRESPEC";
      const step = r.flag === 0 ? 1 : 2;
      const parts: string[] = [];
      for (let j = 0; j < r.words.length; j += step) {
        const mark = 4 + 4 * j + 1 === r.pointer ? "^" : "";
        parts.push(
          step === 1
            ? `${mark}${r.words[j]}`
            : `${mark}${formatIpv4Address(r.words[j]!)}@${r.words[j + 1] ?? 0}`,
        );
      }
      const over = r.overflow !== 0 ? ` [${r.overflow} hops not recorded]` : "";
      return `TS{${flag}${parts.length ? " " + parts.join(" ") : ""}}${over}`;
    }
    default: {
      const parts = r.addresses.map((a, j) =>
        `${3 + 4 * j + 1 === r.pointer ? "^" : ""}${formatIpv4Address(a)}`
      );
      return `${ROUTE_NAME[r.kind]} ${parts.join(" ")}`.trimEnd();
    }
  }
}

/**
 * The options area as tcpdump's `options (...)` clause, or `[bad options:
 * <why> at <offset>]` when malformed. Never throws.
 *
 * @example
 * ```ts
 * import { formatIpv4Options } from "./ipv4_options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatIpv4Options(new Uint8Array([1, 148, 4, 0, 0, 0, 0, 0])), "options (NOP,RA value 0,EOL)");
 * assert.equal(formatIpv4Options(new Uint8Array([7, 1, 0, 0])), "[bad options: option_bad_length at 1]");
 * ```
 */
export function formatIpv4Options(bytes: Uint8Array): string {
  const r = parseIpv4Options(bytes);
  if (!Array.isArray(r)) {
    const f = r as Ipv4OptionsFault;
    return `[bad options: ${f.error} at ${f.offset}]`;
  }
  return `options (${r.map(formatIpv4OptionRepr).join(",")})`;
}

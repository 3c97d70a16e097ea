/**
 * The receive-side walk of the IPv6 extension header chain (RFC 8200 §4),
 * with the decisions a destination host makes on the way:
 *
 * - **Hop-by-Hop Options** only right after the fixed header (§4.3); found
 *   anywhere else it is an unrecognized next header: Parameter Problem code 1.
 * - **Options** (Hop-by-Hop and Destination Options, §4.2): Pad1 and PadN
 *   are skipped (more than 7 bytes of padding in a row, or a PadN not all zeros, is malformed, as
 *   Linux and RFC 8504 §5.3 advise); Router Alert (RFC 2711) is recorded
 *   from Hop-by-Hop; any other option is acted on by the two high bits of
 *   its type: 00 skip, 01 discard, 10 discard and Parameter Problem code 2
 *   pointing at the option, 11 the same only when the destination is not
 *   multicast. An option running past its header is malformed (discarded).
 * - **Routing** (§4.4): ignored when Segments Left is 0; otherwise no type
 *   is followed by this host (type 0 is deprecated, RFC 5095 §3), so
 *   Parameter Problem code 0 pointing at the Routing Type.
 * - **Fragment** (§4.5): an atomic fragment (offset 0, M clear) is
 *   processed in isolation as an unfragmented packet (RFC 6946 §4); a
 *   non-last fragment whose data is not a multiple of 8 bytes gives
 *   Parameter Problem code 0 at the Payload Length; one that would make a
 *   datagram over 65,535 bytes, code 0 at the Fragment Offset; the first
 *   fragment must hold the whole chain and the upper-layer header (RFC 7112
 *   §5: else code 3, pointer 0). A later fragment stops the walk: what
 *   follows is data until reassembly.
 * - **Bounds**: at most `maxHeaders` extension headers
 *   ({@linkcode IPV6_CHAIN_MAX_HEADERS}) and `maxOptions` non-padding options
 *   per header ({@linkcode IPV6_CHAIN_MAX_OPTIONS}, Linux's
 *   `max_hbh_opts_number`); beyond them the packet is dropped
 *   (`chain_too_long`, `too_many_options`).
 *
 * The walker knows extension headers, not transports: whether the
 * upper-layer protocol it stops at is known is for the caller's protocol
 * table, which calls {@linkcode Ipv6Chain.unknownNextHeader} to make the
 * Parameter Problem code 1 (RFC 8200 §4).
 *
 * {@linkcode findIpv6Upper} is the other walk, the one hook points make
 * (netfilter's `ipv6_find_hdr()`): it skips every extension header by its
 * length, judging nothing, to tell a filter which upper layer a packet
 * carries and where its header starts.
 *
 * Hot path: {@linkcode walkIpv6Chain} and {@linkcode findIpv6Upper} write
 * into a reused {@linkcode Ipv6Chain}, allocate nothing, and never throw.
 *
 * @module
 */
import {
  IPV6_AUTH,
  IPV6_DESTINATION_OPTIONS,
  IPV6_FRAGMENT,
  IPV6_HEADER_LEN,
  IPV6_HOP_BY_HOP,
  IPV6_ROUTING,
  isIpv6ExtensionHeader,
} from "./ipv6_ext.ts";
import { IP_PROTOCOL_ICMPV6, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from "./ipv4.ts";
import { Icmpv6ParameterProblemCode } from "./icmpv6.ts";

/**
 * Default bound on extension headers in one packet.
 *
 * @example
 * ```ts
 * import { IPV6_CHAIN_MAX_HEADERS } from "./ipv6_chain.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_CHAIN_MAX_HEADERS, 8);
 * ```
 */
export const IPV6_CHAIN_MAX_HEADERS = 8;
/**
 * Default bound on non-padding options in one options header (Linux's
 * `max_hbh_opts_number` and `max_dst_opts_number`).
 *
 * @example
 * ```ts
 * import { IPV6_CHAIN_MAX_OPTIONS } from "./ipv6_chain.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_CHAIN_MAX_OPTIONS, 8);
 * ```
 */
export const IPV6_CHAIN_MAX_OPTIONS = 8;
/**
 * The Router Alert option type (RFC 2711).
 *
 * @example
 * ```ts
 * import { IPV6_OPTION_ROUTER_ALERT } from "./ipv6_chain.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_OPTION_ROUTER_ALERT, 5);
 * ```
 */
export const IPV6_OPTION_ROUTER_ALERT = 5;

const PAD1 = 0;
const PADN = 1;
const MAX_PADDING = 7;
const MAX_DATAGRAM = 65535;

/**
 * Why {@linkcode walkIpv6Chain} stopped a packet: the drop reason, counted
 * by the IPv6 plugin as `rx.<reason>`.
 */
export type Ipv6ChainProblem =
  | "chain_truncated"
  | "chain_too_long"
  | "hop_by_hop_not_first"
  | "unknown_next_header"
  | "bad_option"
  | "too_many_options"
  | "unknown_option"
  | "unknown_routing_type"
  | "fragment_bad_length"
  | "fragment_too_big"
  | "first_fragment_incomplete"
  | "nested_fragment";

/**
 * Every {@linkcode Ipv6ChainProblem}, for a manifest's counters.
 *
 * @example
 * ```ts
 * import { IPV6_CHAIN_PROBLEMS } from "./ipv6_chain.ts";
 * import assert from "node:assert/strict";
 * assert.ok(IPV6_CHAIN_PROBLEMS.includes("chain_too_long"));
 * ```
 */
export const IPV6_CHAIN_PROBLEMS: readonly Ipv6ChainProblem[] = [
  "chain_truncated",
  "chain_too_long",
  "hop_by_hop_not_first",
  "unknown_next_header",
  "bad_option",
  "too_many_options",
  "unknown_option",
  "unknown_routing_type",
  "fragment_bad_length",
  "fragment_too_big",
  "first_fragment_incomplete",
  "nested_fragment",
];

/** Options of {@linkcode Ipv6Chain}. */
export interface Ipv6ChainOptions {
  /** Most extension headers accepted (default {@linkcode IPV6_CHAIN_MAX_HEADERS}). */
  readonly maxHeaders?: number;
  /** Most non-padding options per options header (default {@linkcode IPV6_CHAIN_MAX_OPTIONS}). */
  readonly maxOptions?: number;
}

/**
 * The result of one {@linkcode walkIpv6Chain} (or
 * {@linkcode findIpv6Upper}), reused from packet to packet (every field is
 * rewritten by each walk). Offsets are absolute (into the
 * bytes walked) except {@linkcode icmpPointer}, which is relative to the
 * IPv6 header as RFC 4443 §3.4 wants it.
 *
 * @example
 * ```ts
 * import { Ipv6Chain, walkIpv6Chain } from "./ipv6_chain.ts";
 * import assert from "node:assert/strict";
 * const chain = new Ipv6Chain();
 * const p = new Uint8Array(48);
 * p[0] = 0x60;
 * p[5] = 8;
 * p[6] = 17; // UDP right after the fixed header
 * assert.equal(walkIpv6Chain(p, 0, 48, chain), null);
 * assert.equal(chain.protocol, 17);
 * assert.equal(chain.upperAt, 40);
 * ```
 */
export class Ipv6Chain {
  /** Bound on extension headers. */
  readonly maxHeaders: number;
  /** Bound on non-padding options per options header. */
  readonly maxOptions: number;
  /** Why the packet is dropped, or null. */
  problem: Ipv6ChainProblem | null = null;
  /** The Parameter Problem code to send (RFC 4443 §3.4), or -1 to send nothing. */
  icmpCode: number = -1;
  /** Its pointer: offset of the offending byte from the start of the IPv6 header. */
  icmpPointer = 0;
  /** Offset of the IPv6 header walked. */
  start = 0;
  /** The upper-layer protocol (or 59, No Next Header). */
  protocol = 0;
  /** Offset of the byte that names {@linkcode protocol} (for Parameter Problem code 1). */
  protocolAt = 0;
  /** Offset of the upper-layer header (of the fragment data, in a non-first fragment). */
  upperAt = 0;
  /** Extension headers walked. */
  headers = 0;
  /** Offset of the Fragment header, or -1. */
  fragmentAt: number = -1;
  /**
   * Offset of the Next Header byte that names the Fragment header (the end
   * of the Unfragmentable Part's chain, rewritten by reassembly), or -1.
   */
  fragmentNamedAt: number = -1;
  /** Fragment Offset in bytes. */
  fragmentOffset = 0;
  /** The M flag. */
  moreFragments = false;
  /** Identification of the fragment. */
  identification = 0;
  /** Value of a Hop-by-Hop Router Alert option (0: MLD), or -1. */
  routerAlert: number = -1;

  /** A result to reuse. */
  constructor(options: Ipv6ChainOptions = {}) {
    this.maxHeaders = options.maxHeaders ?? IPV6_CHAIN_MAX_HEADERS;
    this.maxOptions = options.maxOptions ?? IPV6_CHAIN_MAX_OPTIONS;
    if (!(this.maxHeaders >= 1) || !(this.maxOptions >= 1)) {
      throw new RangeError(
        `Cannot walk IPv6 chains with maxHeaders ${this.maxHeaders}, maxOptions ${this.maxOptions}`,
      );
    }
  }

  /**
   * Whether the packet is a fragment to reassemble: a Fragment header that
   * is not atomic (RFC 6946).
   */
  get isFragment(): boolean {
    return this.fragmentAt >= 0 && (this.fragmentOffset !== 0 || this.moreFragments);
  }

  /**
   * Marks {@linkcode protocol} as unrecognized (nothing handles it): RFC 8200
   * §4, Parameter Problem code 1 pointing at the Next Header byte that
   * names it. Returns the problem.
   */
  unknownNextHeader(): Ipv6ChainProblem {
    return this.fail(
      "unknown_next_header",
      Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER,
      this.protocolAt - this.start,
    );
  }

  /**
   * Records a problem with its Parameter Problem `code` (-1: send nothing)
   * and `pointer`; returns it. Hot path: positional.
   */
  fail<P extends Ipv6ChainProblem>(problem: P, code: number, pointer: number): P {
    this.problem = problem;
    this.icmpCode = code;
    this.icmpPointer = pointer;
    return problem;
  }
}

/** Clears every field a walk of the packet at `off` sets. */
function resetChain(out: Ipv6Chain, off: number): void {
  out.problem = null;
  out.icmpCode = -1;
  out.icmpPointer = 0;
  out.start = off;
  out.headers = 0;
  out.fragmentAt = -1;
  out.fragmentNamedAt = -1;
  out.fragmentOffset = 0;
  out.moreFragments = false;
  out.identification = 0;
  out.routerAlert = -1;
}

/** Records the Fragment header at `at`, named by the Next Header byte at `nhAt`. */
function readFragmentHeader(b: Uint8Array, at: number, nhAt: number, out: Ipv6Chain): void {
  const word = (b[at + 2]! << 8) | b[at + 3]!;
  out.fragmentAt = at;
  out.fragmentNamedAt = nhAt;
  out.fragmentOffset = word & 0xfff8;
  out.moreFragments = (word & 1) !== 0;
  out.identification = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) |
    b[at + 7]!) >>> 0;
}

/** Bytes of the upper-layer header a first fragment must hold (RFC 7112 §5), as Linux asks. */
function upperHeaderNeed(protocol: number): number {
  if (protocol === IP_PROTOCOL_TCP) return 20;
  if (protocol === IP_PROTOCOL_UDP || protocol === IP_PROTOCOL_ICMPV6) return 8;
  return 0;
}

/**
 * Walks the options of the Hop-by-Hop or Destination Options header at
 * `at`, `len` bytes long (RFC 8200 §4.2). Returns the problem or null.
 */
function walkOptions(
  b: Uint8Array,
  at: number,
  len: number,
  hopByHop: boolean,
  out: Ipv6Chain,
): Ipv6ChainProblem | null {
  const end = at + len;
  let i = at + 2;
  let padding = 0;
  let options = 0;
  while (i < end) {
    const type = b[i]!;
    if (type === PAD1) {
      if (++padding > MAX_PADDING) return out.fail("bad_option", -1, 0);
      i++;
      continue;
    }
    if (i + 2 > end) return out.fail("bad_option", -1, 0);
    const optLen = b[i + 1]!;
    if (i + 2 + optLen > end) return out.fail("bad_option", -1, 0);
    if (type === PADN) {
      padding += 2 + optLen;
      if (padding > MAX_PADDING) return out.fail("bad_option", -1, 0);
      // Padding carries zeros only: anything else is a covert channel (RFC 4942 §2.1.9.5), as Linux drops it.
      for (let j = i + 2; j < i + 2 + optLen; j++) {
        if (b[j] !== 0) return out.fail("bad_option", -1, 0);
      }
      i += 2 + optLen;
      continue;
    }
    padding = 0;
    if (++options > out.maxOptions) return out.fail("too_many_options", -1, 0);
    if (hopByHop && type === IPV6_OPTION_ROUTER_ALERT) {
      if (optLen !== 2) return out.fail("bad_option", -1, 0);
      out.routerAlert = (b[i + 2]! << 8) | b[i + 3]!;
    } else {
      switch (type >>> 6) {
        case 0: // skip over it
          break;
        case 1: // discard silently
          return out.fail("unknown_option", -1, 0);
        case 2: // discard, Parameter Problem even to multicast (RFC 4443 §2.4 e.3)
          return out.fail(
            "unknown_option",
            Icmpv6ParameterProblemCode.UNRECOGNIZED_OPTION,
            i - out.start,
          );
        default: // discard, Parameter Problem unless multicast
          return out.fail(
            "unknown_option",
            b[out.start + 24] === 0xff ? -1 : Icmpv6ParameterProblemCode.UNRECOGNIZED_OPTION,
            i - out.start,
          );
      }
    }
    i += 2 + optLen;
  }
  return null;
}

/**
 * Walks the extension header chain of the IPv6 packet in `bytes[off..end)`
 * (fixed header already checked, `end` cut to its payload length) into
 * `out`. See the module doc for the rules.
 *
 * Hot path: four positional arguments, no allocation, never throws.
 *
 * @returns null when the packet goes on (to `out.protocol` at
 * `out.upperAt`, or to reassembly when `out.isFragment`), else the drop
 * reason (also in `out.problem`, with `out.icmpCode`/`out.icmpPointer`).
 *
 * @example
 * ```ts
 * import { Ipv6Chain, walkIpv6Chain } from "./ipv6_chain.ts";
 * import assert from "node:assert/strict";
 * const chain = new Ipv6Chain();
 * const p = new Uint8Array(56);
 * p[0] = 0x60;
 * p[5] = 16;
 * p[6] = 43; // a Routing header ...
 * p[40] = 59; // ... then No Next Header
 * p[42] = 0; // type 0
 * p[43] = 1; // one segment left: RFC 5095
 * assert.equal(walkIpv6Chain(p, 0, 56, chain), "unknown_routing_type");
 * assert.equal(chain.icmpCode, 0);
 * assert.equal(chain.icmpPointer, 42);
 * p[43] = 0; // nothing left to route: ignored (RFC 8200 §4.4)
 * assert.equal(walkIpv6Chain(p, 0, 56, chain), null);
 * assert.equal(chain.protocol, 59);
 * ```
 */
export function walkIpv6Chain(
  bytes: Uint8Array,
  off: number,
  end: number,
  out: Ipv6Chain,
): Ipv6ChainProblem | null {
  resetChain(out, off);
  const b = bytes;
  if (end > b.length) end = b.length;
  let nhAt = off + 6;
  let nh = b[nhAt]!;
  let at = off + IPV6_HEADER_LEN;
  // In a first fragment a short chain is RFC 7112's code 3, not plain truncation.
  let firstFragment = false;
  while (true) {
    if (
      nh !== IPV6_HOP_BY_HOP && nh !== IPV6_DESTINATION_OPTIONS && nh !== IPV6_ROUTING &&
      nh !== IPV6_FRAGMENT
    ) break;
    if (nh === IPV6_HOP_BY_HOP && at !== off + IPV6_HEADER_LEN) {
      return out.fail(
        "hop_by_hop_not_first",
        Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER,
        nhAt - off,
      );
    }
    if (out.headers >= out.maxHeaders) return out.fail("chain_too_long", -1, 0);
    if (end - at < 8) {
      return firstFragment
        ? out.fail("first_fragment_incomplete", Icmpv6ParameterProblemCode.INCOMPLETE_CHAIN, 0)
        : out.fail("chain_truncated", -1, 0);
    }
    out.headers++;
    if (nh === IPV6_FRAGMENT) {
      if (out.fragmentAt >= 0) return out.fail("nested_fragment", -1, 0);
      readFragmentHeader(b, at, nhAt, out);
      const dataLength = end - at - 8;
      if (out.moreFragments && (dataLength & 7) !== 0) {
        return out.fail("fragment_bad_length", Icmpv6ParameterProblemCode.ERRONEOUS_HEADER, 4);
      }
      if (at - off - IPV6_HEADER_LEN + out.fragmentOffset + dataLength > MAX_DATAGRAM) {
        return out.fail(
          "fragment_too_big",
          Icmpv6ParameterProblemCode.ERRONEOUS_HEADER,
          at + 2 - off,
        );
      }
      nhAt = at;
      nh = b[at]!;
      at += 8;
      if (out.fragmentOffset !== 0) break; // data, until reassembled
      if (out.moreFragments) firstFragment = true;
      continue;
    }
    const len = (b[at + 1]! + 1) << 3;
    if (end - at < len) {
      return firstFragment
        ? out.fail("first_fragment_incomplete", Icmpv6ParameterProblemCode.INCOMPLETE_CHAIN, 0)
        : out.fail("chain_truncated", -1, 0);
    }
    if (nh === IPV6_ROUTING) {
      if (b[at + 3] !== 0) {
        return out.fail(
          "unknown_routing_type",
          Icmpv6ParameterProblemCode.ERRONEOUS_HEADER,
          at + 2 - off,
        );
      }
    } else if (walkOptions(b, at, len, nh === IPV6_HOP_BY_HOP, out) !== null) {
      return out.problem;
    }
    nhAt = at;
    nh = b[at]!;
    at += len;
  }
  out.protocol = nh;
  out.protocolAt = nhAt;
  out.upperAt = at;
  if (firstFragment && end - at < upperHeaderNeed(nh)) {
    return out.fail("first_fragment_incomplete", Icmpv6ParameterProblemCode.INCOMPLETE_CHAIN, 0);
  }
  return null;
}

/**
 * Finds the upper-layer header of the IPv6 packet in `bytes[off..end)`
 * into `out` as Linux's `ipv6_find_hdr()` finds it for netfilter
 * (`ip6tables -p tcp`): what the hook points tell their hooks
 * (`pkt.proto`, `pkt.l4`). Unlike {@linkcode walkIpv6Chain} it judges
 * nothing, as a router or a filter must not: each Hop-by-Hop, Routing,
 * Fragment, Destination Options or Authentication header (RFC 4302 §2.2:
 * its length counts 4-byte words, minus 2) is skipped by its length
 * whatever it holds. It stops at any other Next Header (a transport, ESP,
 * No Next Header), or after the Fragment header of a non-first fragment
 * (`out.fragmentOffset` ≠ 0), whose data holds no header: `out.protocol`
 * is then what the Fragment header names, `out.upperAt` its data.
 *
 * Bounded by `out.maxHeaders` and the bytes: `chain_too_long` or
 * `chain_truncated` (in `out.problem` too) when the upper layer is not
 * found within them. Sets `protocol`, `protocolAt`, `upperAt`, `headers`
 * and the Fragment fields.
 *
 * Hot path: four positional arguments, no allocation, never throws.
 *
 * @example
 * ```ts
 * import { findIpv6Upper, Ipv6Chain } from "./ipv6_chain.ts";
 * import assert from "node:assert/strict";
 * const chain = new Ipv6Chain();
 * const p = new Uint8Array(68);
 * p[0] = 0x60;
 * p[5] = 28;
 * p[6] = 60; // Destination Options ...
 * p[40] = 6; // ... then TCP
 * p[42] = 0x81; // an unknown option that a destination would refuse
 * p[43] = 4;
 * assert.equal(findIpv6Upper(p, 0, 68, chain), null);
 * assert.equal(chain.protocol, 6);
 * assert.equal(chain.upperAt, 48);
 * assert.equal(findIpv6Upper(p, 0, 47, chain), "chain_truncated");
 * ```
 */
export function findIpv6Upper(
  bytes: Uint8Array,
  off: number,
  end: number,
  out: Ipv6Chain,
): "chain_truncated" | "chain_too_long" | null {
  resetChain(out, off);
  const b = bytes;
  if (end > b.length) end = b.length;
  let nhAt = off + 6;
  let nh = b[nhAt]!;
  let at = off + IPV6_HEADER_LEN;
  while (isIpv6ExtensionHeader(nh)) {
    if (out.headers >= out.maxHeaders) return out.fail("chain_too_long", -1, 0);
    if (end - at < 8) return out.fail("chain_truncated", -1, 0);
    out.headers++;
    let len = 8;
    if (nh === IPV6_FRAGMENT) readFragmentHeader(b, at, nhAt, out);
    else len = nh === IPV6_AUTH ? (b[at + 1]! + 2) << 2 : (b[at + 1]! + 1) << 3;
    if (end - at < len) return out.fail("chain_truncated", -1, 0);
    nhAt = at;
    nh = b[at]!;
    at += len;
    if (out.fragmentOffset !== 0) break; // data, until reassembled
  }
  out.protocol = nh;
  out.protocolAt = nhAt;
  out.upperAt = at;
  return null;
}

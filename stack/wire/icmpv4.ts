/**
 * ICMP for IPv4 (RFC 792, RFC 1122 §3.2.2, RFC 1191 for the next-hop MTU).
 * The view covers the whole ICMP message (the IPv4 payload): the checksum is
 * computed over all of it.
 *
 * View contract: after {@linkcode Icmpv4Packet.check} returns a view, no
 * accessor reads out of bounds (all fixed fields are in the 8-byte header).
 * The view never owns or copies bytes: `payload` is a subarray, and the Reprs
 * from {@linkcode parseIcmpv4} borrow their `data`/`quoted` bytes.
 *
 * Not supported: RFC 4884 extension structures (the length field in an error
 * is ignored and emitted as 0), address mask and information messages (they
 * parse as `"other"`).
 *
 * @module
 */
import { formatIpv4Address } from "./address.ts";
import { internetChecksum, sumBytes } from "./checksum.ts";
import {
  icmpv4ChecksumField,
  icmpv4Code,
  icmpv4Gateway,
  icmpv4Identifier,
  icmpv4NextHopMtu,
  icmpv4Pointer,
  icmpv4RestOfHeader,
  icmpv4Sequence,
  icmpv4Type,
  setIcmpv4ChecksumField,
  setIcmpv4Code,
  setIcmpv4Identifier,
  setIcmpv4NextHopMtu,
  setIcmpv4Pointer,
  setIcmpv4RestOfHeader,
  setIcmpv4Sequence,
  setIcmpv4Type,
} from "./icmpv4_fields.ts";
import { IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from "./numbers.ts";

/** Length of the ICMP header: type, code, checksum, rest of header. */
export const ICMPV4_HEADER_LEN = 8;
/**
 * Largest IPv4 datagram carrying an ICMP error (RFC 1812 §4.3.2.3): quote as
 * much of the offending datagram as fits.
 */
export const ICMPV4_MAX_ERROR_DATAGRAM_LEN = 576;

/** Type: echo reply. */
export const ICMP_ECHO_REPLY = 0;
/** Type: destination unreachable. */
export const ICMP_DEST_UNREACHABLE = 3;
/** Type: source quench (deprecated, RFC 6633). */
export const ICMP_SOURCE_QUENCH = 4;
/** Type: redirect. */
export const ICMP_REDIRECT = 5;
/** Type: echo request. */
export const ICMP_ECHO_REQUEST = 8;
/** Type: router advertisement (RFC 1256). */
export const ICMP_ROUTER_ADVERTISEMENT = 9;
/** Type: router solicitation (RFC 1256). */
export const ICMP_ROUTER_SOLICITATION = 10;
/** Type: time exceeded. */
export const ICMP_TIME_EXCEEDED = 11;
/** Type: parameter problem. */
export const ICMP_PARAMETER_PROBLEM = 12;
/** Type: timestamp request. */
export const ICMP_TIMESTAMP_REQUEST = 13;
/** Type: timestamp reply. */
export const ICMP_TIMESTAMP_REPLY = 14;

/** Destination unreachable code: network unreachable. */
export const ICMP_NET_UNREACHABLE = 0;
/** Destination unreachable code: host unreachable. */
export const ICMP_HOST_UNREACHABLE = 1;
/** Destination unreachable code: protocol unreachable. */
export const ICMP_PROTOCOL_UNREACHABLE = 2;
/** Destination unreachable code: port unreachable. */
export const ICMP_PORT_UNREACHABLE = 3;
/** Destination unreachable code: fragmentation needed and DF set (RFC 1191). */
export const ICMP_FRAG_NEEDED = 4;
/** Destination unreachable code: source route failed. */
export const ICMP_SOURCE_ROUTE_FAILED = 5;
/** Destination unreachable code: communication administratively prohibited (RFC 1812). */
export const ICMP_ADMIN_PROHIBITED = 13;
/** Time exceeded code: TTL exceeded in transit. */
export const ICMP_TTL_EXCEEDED = 0;
/** Time exceeded code: fragment reassembly time exceeded. */
export const ICMP_REASSEMBLY_TIME_EXCEEDED = 1;

/** Why {@linkcode Icmpv4Packet.check} refused a message. */
export type Icmpv4DropReason = "truncated";
/** Why {@linkcode parseIcmpv4} refused a checked message. */
export type Icmpv4ParseDropReason = "bad_checksum";

/** Echo request or reply. */
export interface Icmpv4EchoRepr {
  /** Discriminant. */
  readonly kind: "echo";
  /** {@linkcode ICMP_ECHO_REQUEST} or {@linkcode ICMP_ECHO_REPLY}. */
  readonly type: 0 | 8;
  /** Code (0). */
  readonly code: number;
  /** Identifier. */
  readonly identifier: number;
  /** Sequence number. */
  readonly sequence: number;
  /** Echo data. */
  readonly data: Uint8Array;
}

/** Destination unreachable (type 3). */
export interface Icmpv4DestUnreachableRepr {
  /** Discriminant. */
  readonly kind: "dest_unreachable";
  /** Code, e.g. {@linkcode ICMP_PORT_UNREACHABLE}. */
  readonly code: number;
  /** Next-hop MTU, present exactly for code {@linkcode ICMP_FRAG_NEEDED} (may be 0: RFC 1191 §5). */
  readonly nextHopMtu?: number;
  /** The quoted datagram: its IP header and at least 8 bytes of payload. */
  readonly quoted: Uint8Array;
}

/** Time exceeded (type 11). */
export interface Icmpv4TimeExceededRepr {
  /** Discriminant. */
  readonly kind: "time_exceeded";
  /** {@linkcode ICMP_TTL_EXCEEDED} or {@linkcode ICMP_REASSEMBLY_TIME_EXCEEDED}. */
  readonly code: number;
  /** The quoted datagram. */
  readonly quoted: Uint8Array;
}

/** Parameter problem (type 12). */
export interface Icmpv4ParameterProblemRepr {
  /** Discriminant. */
  readonly kind: "parameter_problem";
  /** Code (0: the pointer indicates the error). */
  readonly code: number;
  /** Offset of the offending octet in the quoted datagram. */
  readonly pointer: number;
  /** The quoted datagram. */
  readonly quoted: Uint8Array;
}

/** Any other message, kept generic. */
export interface Icmpv4OtherRepr {
  /** Discriminant. */
  readonly kind: "other";
  /** Type. */
  readonly type: number;
  /** Code. */
  readonly code: number;
  /** The 32-bit rest of the header. */
  readonly rest: number;
  /** Everything after the 8-byte header. */
  readonly data: Uint8Array;
}

/** A parsed ICMPv4 message, discriminated by `kind`. */
export type Icmpv4Repr =
  | Icmpv4EchoRepr
  | Icmpv4DestUnreachableRepr
  | Icmpv4TimeExceededRepr
  | Icmpv4ParameterProblemRepr
  | Icmpv4OtherRepr;

const UNREACHABLE_NAMES: Readonly<Record<number, string>> = {
  5: "source route failed",
  6: "net unknown",
  7: "host unknown",
  8: "source host isolated",
  9: "net prohibited",
  10: "host prohibited",
  11: "net unreachable for tos",
  12: "host unreachable for tos",
  13: "admin prohibited filter",
  14: "host precedence violation",
  15: "precedence cutoff",
};

const REDIRECT_NAMES: Readonly<Record<number, string>> = {
  0: "net",
  1: "host",
  2: "tos-net",
  3: "tos-host",
};

/**
 * The destination-unreachable text tcpdump prints, from the quoted datagram:
 * `D udp port N unreachable`, `D unreachable - need to frag (mtu M)`, ...
 */
function describeUnreachable(code: number, mtu: number, quoted: Uint8Array): string {
  // The quote must hold a plausible IPv4 header to name the destination.
  if (quoted.length < 20 || quoted[0]! >>> 4 !== 4) return `dest unreachable, code ${code}`;
  const dst = formatIpv4Address(
    ((quoted[16]! << 24) | (quoted[17]! << 16) | (quoted[18]! << 8) | quoted[19]!) >>> 0,
  );
  const protocol = quoted[9]!;
  const ihl = (quoted[0]! & 0x0f) << 2;
  switch (code) {
    case ICMP_NET_UNREACHABLE:
      return `net ${dst} unreachable`;
    case ICMP_HOST_UNREACHABLE:
      return `host ${dst} unreachable`;
    case ICMP_PROTOCOL_UNREACHABLE:
      return `${dst} protocol ${protocol} unreachable`;
    case ICMP_PORT_UNREACHABLE: {
      if (ihl < 20 || quoted.length < ihl + 4) return `${dst} port unreachable`;
      const port = (quoted[ihl + 2]! << 8) | quoted[ihl + 3]!;
      const name = protocol === IP_PROTOCOL_UDP
        ? "udp"
        : protocol === IP_PROTOCOL_TCP
        ? "tcp"
        : `proto ${protocol}`;
      return `${dst} ${name} port ${port} unreachable`;
    }
    case ICMP_FRAG_NEEDED:
      return `${dst} unreachable - need to frag (mtu ${mtu})`;
    default:
      return `${dst} unreachable - ${UNREACHABLE_NAMES[code] ?? `code ${code}`}`;
  }
}

/** The tcpdump text shared by the view and the Repr (internal: four positional arguments). */
function describe(type: number, code: number, rest: number, payload: Uint8Array): string {
  const length = ICMPV4_HEADER_LEN + payload.length;
  const id = rest >>> 16;
  const seq = rest & 0xffff;
  let text: string;
  switch (type) {
    case ICMP_ECHO_REPLY:
      text = `echo reply, id ${id}, seq ${seq}`;
      break;
    case ICMP_ECHO_REQUEST:
      text = `echo request, id ${id}, seq ${seq}`;
      break;
    case ICMP_DEST_UNREACHABLE:
      text = describeUnreachable(code, rest & 0xffff, payload);
      break;
    case ICMP_SOURCE_QUENCH:
      text = "source quench";
      break;
    case ICMP_REDIRECT: {
      const dst = payload.length >= 20
        ? formatIpv4Address(
          ((payload[16]! << 24) | (payload[17]! << 16) | (payload[18]! << 8) | payload[19]!) >>> 0,
        )
        : "?";
      text = `redirect ${dst} to ${REDIRECT_NAMES[code] ?? `code-${code}`} ${
        formatIpv4Address(rest)
      }`;
      break;
    }
    case ICMP_ROUTER_ADVERTISEMENT:
      text = "router advertisement";
      break;
    case ICMP_ROUTER_SOLICITATION:
      text = "router solicitation";
      break;
    case ICMP_TIME_EXCEEDED:
      text = code === ICMP_TTL_EXCEEDED
        ? "time exceeded in-transit"
        : code === ICMP_REASSEMBLY_TIME_EXCEEDED
        ? "ip reassembly time exceeded"
        : `time exceeded, code ${code}`;
      break;
    case ICMP_PARAMETER_PROBLEM:
      text = `parameter problem - octet ${rest >>> 24}`;
      break;
    case ICMP_TIMESTAMP_REQUEST:
      text = `time stamp query id ${id} seq ${seq}`;
      break;
    case ICMP_TIMESTAMP_REPLY:
      text = `time stamp reply id ${id} seq ${seq}`;
      break;
    default:
      text = code === 0 ? `type-#${type}` : `type-#${type} code ${code}`;
  }
  return `ICMP ${text}, length ${length}`;
}

/**
 * A zero-copy view of an ICMPv4 message.
 *
 * @example
 * ```ts
 * import { ICMP_ECHO_REQUEST, Icmpv4Packet } from "./icmpv4.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(12);
 * const icmp = Icmpv4Packet.unchecked(bytes);
 * icmp.type = ICMP_ECHO_REQUEST;
 * icmp.identifier = 1;
 * icmp.sequence = 2;
 * icmp.fillChecksum();
 * const checked = Icmpv4Packet.check(bytes);
 * assert.ok(typeof checked !== "string" && checked.verifyChecksum());
 * assert.equal(checked.toString(), "ICMP echo request, id 1, seq 2, length 12");
 * ```
 */
export class Icmpv4Packet {
  /** The whole message (the IPv4 payload). */
  readonly bytes: Uint8Array;
  readonly #dv: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Validates that the 8-byte header is present.
   *
   * @param bytes The message: the IPv4 payload, cut at the total length.
   * @returns A view, or `"truncated"`.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "./icmpv4.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(Icmpv4Packet.check(new Uint8Array(7)), "truncated");
   * ```
   */
  static check(bytes: Uint8Array): Icmpv4Packet | Icmpv4DropReason {
    if (bytes.length < ICMPV4_HEADER_LEN) return "truncated";
    return new Icmpv4Packet(bytes);
  }

  /**
   * A view without validation, for writing into a buffer sized with
   * {@linkcode icmpv4BufferLen}.
   *
   * @param bytes The buffer.
   * @returns The view.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "./icmpv4.ts";
   * import assert from "node:assert/strict";
   *
   * const icmp = Icmpv4Packet.unchecked(new Uint8Array(8));
   * icmp.type = 8;
   * assert.equal(icmp.bytes[0], 8);
   * ```
   */
  static unchecked(bytes: Uint8Array): Icmpv4Packet {
    return new Icmpv4Packet(bytes);
  }

  /** Type. */
  get type(): number {
    return icmpv4Type(this.#dv, 0);
  }
  set type(value: number) {
    setIcmpv4Type(this.#dv, 0, value);
  }

  /** Code. */
  get code(): number {
    return icmpv4Code(this.#dv, 0);
  }
  set code(value: number) {
    setIcmpv4Code(this.#dv, 0, value);
  }

  /** Checksum field. */
  get checksum(): number {
    return icmpv4ChecksumField(this.#dv, 0);
  }
  set checksum(value: number) {
    setIcmpv4ChecksumField(this.#dv, 0, value);
  }

  /** The 32-bit rest of the header (bytes 4..8), whatever the type. */
  get restOfHeader(): number {
    return icmpv4RestOfHeader(this.#dv, 0);
  }
  set restOfHeader(value: number) {
    setIcmpv4RestOfHeader(this.#dv, 0, value);
  }

  /** Identifier of an echo or timestamp message (bytes 4..6). */
  get identifier(): number {
    return icmpv4Identifier(this.#dv, 0);
  }
  set identifier(value: number) {
    setIcmpv4Identifier(this.#dv, 0, value);
  }

  /** Sequence number of an echo or timestamp message (bytes 6..8). */
  get sequence(): number {
    return icmpv4Sequence(this.#dv, 0);
  }
  set sequence(value: number) {
    setIcmpv4Sequence(this.#dv, 0, value);
  }

  /** Next-hop MTU of a fragmentation-needed message (bytes 6..8, RFC 1191). */
  get nextHopMtu(): number {
    return icmpv4NextHopMtu(this.#dv, 0);
  }
  set nextHopMtu(value: number) {
    setIcmpv4NextHopMtu(this.#dv, 0, value);
  }

  /** Pointer of a parameter problem (byte 4). */
  get pointer(): number {
    return icmpv4Pointer(this.#dv, 0);
  }
  set pointer(value: number) {
    setIcmpv4Pointer(this.#dv, 0, value);
  }

  /** Gateway address of a redirect (bytes 4..8). */
  get gateway(): number {
    return icmpv4Gateway(this.#dv, 0);
  }
  set gateway(value: number) {
    setIcmpv4RestOfHeader(this.#dv, 0, value);
  }

  /** Everything after the 8-byte header: echo data, or the quoted datagram of an error. */
  get payload(): Uint8Array {
    return this.bytes.subarray(ICMPV4_HEADER_LEN);
  }

  /**
   * Whether this is an error message (unreachable, source quench, redirect,
   * time exceeded, parameter problem): RFC 1122 §3.2.2 forbids answering one
   * with another error.
   */
  get isError(): boolean {
    const t = this.type;
    return t === ICMP_DEST_UNREACHABLE || t === ICMP_SOURCE_QUENCH || t === ICMP_REDIRECT ||
      t === ICMP_TIME_EXCEEDED || t === ICMP_PARAMETER_PROBLEM;
  }

  /**
   * Whether the checksum over the whole message is correct. No allocation.
   *
   * @returns `true` if the message sums to `0xffff`.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "./icmpv4.ts";
   * import assert from "node:assert/strict";
   *
   * const icmp = Icmpv4Packet.unchecked(new Uint8Array([8, 0, 0xf7, 0xff, 0, 0, 0, 0]));
   * assert.ok(icmp.verifyChecksum());
   * ```
   */
  verifyChecksum(): boolean {
    return internetChecksum(this.bytes) === 0;
  }

  /**
   * Computes the checksum over the whole message and writes it.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "./icmpv4.ts";
   * import assert from "node:assert/strict";
   *
   * const icmp = Icmpv4Packet.unchecked(new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0]));
   * icmp.fillChecksum();
   * assert.equal(icmp.checksum, 0xf7ff);
   * ```
   */
  fillChecksum(): void {
    setIcmpv4ChecksumField(this.#dv, 0, 0);
    setIcmpv4ChecksumField(this.#dv, 0, internetChecksum(this.bytes));
  }

  /**
   * tcpdump style, e.g. `ICMP echo request, id 1, seq 2, length 64` or
   * `ICMP 10.0.0.2 udp port 53 unreachable, length 36`.
   *
   * @returns One line.
   *
   * @example
   * ```ts
   * import { Icmpv4Packet } from "./icmpv4.ts";
   * import assert from "node:assert/strict";
   *
   * const icmp = Icmpv4Packet.unchecked(new Uint8Array([11, 0, 0, 0, 0, 0, 0, 0]));
   * assert.equal(icmp.toString(), "ICMP time exceeded in-transit, length 8");
   * ```
   */
  toString(): string {
    return describe(this.type, this.code, this.restOfHeader, this.payload);
  }
}

/** Options of {@linkcode parseIcmpv4}. */
export interface ParseIcmpv4Options {
  /** Verify the checksum (RFC 1122 §3.2.2: discard on failure). Defaults to `true`. */
  readonly verifyChecksum?: boolean;
}

/**
 * Reads a checked message. Never throws. `data` and `quoted` are subarrays
 * of the message (borrowed).
 *
 * @param p A view from {@linkcode Icmpv4Packet.check}.
 * @param options `verifyChecksum` (default `true`).
 * @returns The message, or `"bad_checksum"`.
 *
 * @example
 * ```ts
 * import { Icmpv4Packet, parseIcmpv4 } from "./icmpv4.ts";
 * import assert from "node:assert/strict";
 *
 * const p = Icmpv4Packet.check(new Uint8Array([8, 0, 0xf7, 0xfc, 0, 1, 0, 2]));
 * assert.ok(typeof p !== "string");
 * const repr = parseIcmpv4(p);
 * assert.ok(typeof repr !== "string" && repr.kind === "echo");
 * assert.equal(repr.sequence, 2);
 * ```
 */
export function parseIcmpv4(
  p: Icmpv4Packet,
  options?: ParseIcmpv4Options,
): Icmpv4Repr | Icmpv4ParseDropReason {
  if (options?.verifyChecksum !== false && !p.verifyChecksum()) return "bad_checksum";
  const type = p.type;
  const code = p.code;
  switch (type) {
    case ICMP_ECHO_REPLY:
    case ICMP_ECHO_REQUEST:
      return {
        kind: "echo",
        type,
        code,
        identifier: p.identifier,
        sequence: p.sequence,
        data: p.payload,
      };
    case ICMP_DEST_UNREACHABLE:
      return code === ICMP_FRAG_NEEDED
        ? { kind: "dest_unreachable", code, nextHopMtu: p.nextHopMtu, quoted: p.payload }
        : { kind: "dest_unreachable", code, quoted: p.payload };
    case ICMP_TIME_EXCEEDED:
      return { kind: "time_exceeded", code, quoted: p.payload };
    case ICMP_PARAMETER_PROBLEM:
      return { kind: "parameter_problem", code, pointer: p.pointer, quoted: p.payload };
    default:
      return { kind: "other", type, code, rest: p.restOfHeader, data: p.payload };
  }
}

/** The type, code, 32-bit rest of header and body of a Repr. */
function fieldsOf(repr: Icmpv4Repr): [number, number, number, Uint8Array] {
  switch (repr.kind) {
    case "echo":
      return [
        repr.type,
        repr.code,
        ((repr.identifier << 16) | (repr.sequence & 0xffff)) >>> 0,
        repr.data,
      ];
    case "dest_unreachable":
      return [ICMP_DEST_UNREACHABLE, repr.code, (repr.nextHopMtu ?? 0) & 0xffff, repr.quoted];
    case "time_exceeded":
      return [ICMP_TIME_EXCEEDED, repr.code, 0, repr.quoted];
    case "parameter_problem":
      return [ICMP_PARAMETER_PROBLEM, repr.code, ((repr.pointer & 0xff) << 24) >>> 0, repr.quoted];
    case "other":
      return [repr.type, repr.code, repr.rest >>> 0, repr.data];
  }
}

function bodyOf(repr: Icmpv4Repr): Uint8Array {
  return repr.kind === "echo" || repr.kind === "other" ? repr.data : repr.quoted;
}

/**
 * Length of the message {@linkcode emitIcmpv4} writes: 8 plus the data or
 * quote.
 *
 * @param repr The message.
 * @returns The length in bytes.
 *
 * @example
 * ```ts
 * import { icmpv4BufferLen } from "./icmpv4.ts";
 * import assert from "node:assert/strict";
 *
 * const repr = { kind: "echo", type: 8, code: 0, identifier: 1, sequence: 1, data: new Uint8Array(56) } as const;
 * assert.equal(icmpv4BufferLen(repr), 64);
 * ```
 */
export function icmpv4BufferLen(repr: Icmpv4Repr): number {
  return ICMPV4_HEADER_LEN + bodyOf(repr).length;
}

/**
 * Writes the message into the first {@linkcode icmpv4BufferLen}`(repr)`
 * bytes of `bytes`, with the checksum computed over all of them. The data or
 * quote is copied after the header unless it already sits there (build it in
 * place with `bytes.subarray(8)` to avoid the copy). Never throws for a
 * buffer at least that long (a shorter one is a caller bug: `RangeError`).
 *
 * @param repr The message.
 * @param bytes The buffer: the IPv4 payload being built.
 *
 * @example
 * ```ts
 * import { emitIcmpv4, ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, Icmpv4Packet } from "./icmpv4.ts";
 * import assert from "node:assert/strict";
 *
 * const quoted = new Uint8Array(28); // the offending IP header + 8 bytes
 * const bytes = new Uint8Array(36);
 * emitIcmpv4({ kind: "dest_unreachable", code: ICMP_PORT_UNREACHABLE, quoted }, bytes);
 * const p = Icmpv4Packet.unchecked(bytes);
 * assert.equal(p.type, ICMP_DEST_UNREACHABLE);
 * assert.ok(p.verifyChecksum());
 * ```
 */
export function emitIcmpv4(repr: Icmpv4Repr, bytes: Uint8Array): void {
  const [type, code, rest, body] = fieldsOf(repr);
  const length = ICMPV4_HEADER_LEN + body.length;
  if (bytes.length < length) {
    throw new RangeError(`Cannot emit a ${length}-byte ICMP message into ${bytes.length} bytes`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  setIcmpv4Type(dv, 0, type);
  setIcmpv4Code(dv, 0, code);
  setIcmpv4ChecksumField(dv, 0, 0);
  setIcmpv4RestOfHeader(dv, 0, rest);
  if (body.buffer !== bytes.buffer || body.byteOffset !== bytes.byteOffset + ICMPV4_HEADER_LEN) {
    bytes.set(body, ICMPV4_HEADER_LEN);
  }
  setIcmpv4ChecksumField(dv, 0, ~sumBytes(bytes.subarray(0, length)) & 0xffff);
}

/**
 * The tcpdump-style line of {@linkcode Icmpv4Packet.toString} for a Repr.
 *
 * @param repr The message.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { formatIcmpv4Repr } from "./icmpv4.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatIcmpv4Repr({ kind: "echo", type: 8, code: 0, identifier: 1, sequence: 2, data: new Uint8Array(56) }),
 *   "ICMP echo request, id 1, seq 2, length 64",
 * );
 * ```
 */
export function formatIcmpv4Repr(repr: Icmpv4Repr): string {
  const [type, code, rest, body] = fieldsOf(repr);
  return describe(type, code, rest, body);
}

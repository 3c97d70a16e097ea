/**
 * The connection tracker's contract (issue #12): `conntrack.table`, what a
 * NAT (or a stateful filter) asks about a packet's flow, and the rows of
 * `stack.conntrack()`, like `conntrack -L`.
 *
 * The tracker attaches a {@linkcode ConntrackRef} to `pkt.ct` at
 * `prerouting` and `output` (new entries are *unconfirmed* until the packet
 * leaves `postrouting` or reaches `input`, as Linux's, so a packet dropped
 * on the way leaves nothing behind). A NAT reads the ref and may, before
 * confirmation, change the entry's reply tuple (the tuple replies will
 * carry): Linux's `nf_nat_setup_info`.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { PacketBuffer } from "./packet.ts";
import type { IpKey } from "./wire/ip_address.ts";

/** The service name of the connection table. */
export const CONNTRACK_SERVICE = "conntrack.table";

/** Direction of a packet in its flow: as the first packet went. */
export const CT_ORIGINAL = 0;
/** Direction of a packet in its flow: the other way. */
export const CT_REPLY = 1;
/** {@linkcode CT_ORIGINAL} or {@linkcode CT_REPLY}. */
export type ConntrackDirection = typeof CT_ORIGINAL | typeof CT_REPLY;

/**
 * One direction of a flow. Ports are the TCP/UDP ports; for ICMP and ICMPv6
 * echo the identifier is the requester's "port" (`srcPort` of a request,
 * `dstPort` of a reply) and the other is 0; 0 and 0 for other protocols.
 *
 * @example
 * ```ts
 * import type { ConntrackTuple } from "./services.ts";
 * const t: ConntrackTuple = { src: 0x0a000001, srcPort: 5000, dst: 0x0a000002, dstPort: 53 };
 * console.log(t.dstPort);
 * ```
 */
export interface ConntrackTuple {
  /** Source address (IPv4: unsigned 32-bit number; IPv6: 8-character key). */
  readonly src: IpKey;
  /** Source port or echo identifier. */
  readonly srcPort: number;
  /** Destination address. */
  readonly dst: IpKey;
  /** Destination port or echo identifier. */
  readonly dstPort: number;
}

/** A tracked flow, as the tracker shares it (read-only except {@linkcode ConntrackEntry.nat}). */
export interface ConntrackEntry {
  /** A number unique in this table's lifetime. */
  readonly id: number;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** IP protocol number (6, 17, 1, 58, or another tracked generically). */
  readonly protocol: number;
  /** The tuple of the first packet. */
  readonly original: ConntrackTuple;
  /** The tuple replies carry: the inverse of `original` unless a NAT changed it. */
  readonly reply: ConntrackTuple;
  /** TCP: Linux's state names (`SYN_SENT`, `ESTABLISHED`, …); others: `""`. */
  readonly state: string;
  /** Whether a packet went the reply way. */
  readonly seenReply: boolean;
  /** Whether the flow is established enough not to be dropped early under pressure. */
  readonly assured: boolean;
  /** Whether the entry is in the table (false while its first packet is on the way). */
  readonly confirmed: boolean;
  /** When it expires without traffic, on the stack's clock. */
  readonly expires: Instant;
  /** Free for a NAT's per-flow data (Linux's `nf_conn` extension). */
  nat: unknown;
  /**
   * µs the flow lasts idle at least, whatever its state's timeout (0: the
   * state's own); TIME_WAIT keeps its own. A NAT raises it for the TCP
   * flows it translates (RFC 5382 REQ-5: 4 minutes for transitory
   * connections). Applies from the next packet (or confirmation).
   */
  minTimeout: number;
}

/**
 * What the tracker puts in `pkt.ct`: the entry, the direction the packet
 * travels, and whether it is an ICMP error about the flow (RELATED) rather
 * than a packet of it.
 */
export interface ConntrackRef {
  /** The flow. */
  readonly entry: ConntrackEntry;
  /** The way this packet goes. */
  readonly direction: ConntrackDirection;
  /** An ICMP/ICMPv6 error quoting a packet of the flow. */
  readonly related: boolean;
}

/** One row of `stack.conntrack()`, as `conntrack -L` prints it. */
export interface ConntrackRow {
  /** "tcp", "udp", "icmp", "icmpv6" or the protocol number as text. */
  readonly protocol: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** Seconds until it expires without traffic. */
  readonly timeout: number;
  /** TCP state, else "". */
  readonly state: string;
  /** Original tuple: addresses as text. */
  readonly original: {
    readonly src: string;
    readonly dst: string;
    readonly srcPort: number;
    readonly dstPort: number;
  };
  /** Reply tuple. */
  readonly reply: {
    readonly src: string;
    readonly dst: string;
    readonly srcPort: number;
    readonly dstPort: number;
  };
  /** "[UNREPLIED]", "[ASSURED]" or "". */
  readonly flags: string;
}

/**
 * `conntrack.table`: the tracker's table. Argument checks follow
 * stack/validate.ts.
 *
 * @example
 * ```ts
 * import type { ConntrackService } from "./services.ts";
 * import type { PacketBuffer } from "./packet.ts";
 * // A NAT asks which flow a packet belongs to, and which way it goes.
 * function isReply(table: ConntrackService, pkt: PacketBuffer): boolean {
 *   return table.refOf(pkt)?.direction === 1;
 * }
 * console.log(typeof isReply);
 * ```
 */
export interface ConntrackService {
  /** The ref the tracker attached to `pkt` (after its prerouting/output hook), or null. Hot path. */
  refOf(pkt: PacketBuffer): ConntrackRef | null;
  /**
   * The confirmed flow one of whose tuples (either direction) is `tuple` for
   * `protocol`, or null: a NAT asks before it hands out a mapping.
   */
  find(family: 4 | 6, protocol: number, tuple: ConntrackTuple): ConntrackRef | null;
  /**
   * Sets the reply tuple of an unconfirmed entry (a NAT's translation).
   * False when another flow already uses that tuple.
   *
   * @throws {RangeError} When the entry is already confirmed.
   */
  changeReply(entry: ConntrackEntry, tuple: ConntrackTuple): boolean;
  /** Removes a flow now (as `conntrack -D`); false when it was not in the table. */
  remove(entry: ConntrackEntry): boolean;
  /**
   * Calls `listener` with each entry that leaves the table (expired,
   * evicted, removed), and with each new entry whose first packet could not
   * be confirmed (table full, or the flow confirmed meanwhile): whatever a
   * NAT prepared for it can go.
   */
  onRemove(listener: (entry: ConntrackEntry) => void): void;
  /** The table, like `conntrack -L`. */
  list(): ConntrackRow[];
  /** Confirmed entries. */
  readonly size: number;
  /** Estimated bytes the entries hold. */
  readonly bytes: number;
}

/**
 * The contract between the stack and a link driver (loopback, TUN/TAP, pcap
 * replay). Drivers import only this file and `clock.ts` types.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { PacketBuffer } from "./packet.ts";
import type { PacketPool } from "./packet_pool.ts";

export { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_RAW } from "./wire/numbers.ts";

/** A pcap link type the stack understands. */
export type LinkType = number;

/** What the stack gives a driver when it attaches it to an interface. */
export interface DriverPort {
  /** Hands a received frame to the stack; ownership passes with it. */
  receive(pkt: PacketBuffer): void;
  /** The pool to take receive buffers from. */
  readonly pool: PacketPool;
  /** The stack's clock. */
  now(): Instant;
  /** Index of the interface this driver serves. */
  readonly ifindex: number;
  /**
   * Marks the start of a batch of frames read together (optional: drivers
   * that read in batches call it, so the stack can coalesce work such as ACKs
   * until {@linkcode DriverPort.endBatch}).
   */
  beginBatch?(): void;
  /**
   * The receiver takes a frame whose TCP checksum is partial and vouched for
   * (`PacketFlags.CHECKSUM_PARTIAL | CHECKSUM_VERIFIED`, `l4` set) as it is:
   * a stack's port does (whatever reads the bytes completes it first). Absent
   * or false: a driver hands over complete frames only.
   */
  readonly partialChecksum?: boolean;
  /** Marks the end of a batch started with {@linkcode DriverPort.beginBatch}. */
  endBatch?(): void;
}

/**
 * A link driver. The stack calls {@linkcode LinkDriver.attach} once, then
 * {@linkcode LinkDriver.transmit} for every frame it sends.
 */
export interface LinkDriver {
  /** LINKTYPE_* of the frames this driver carries. */
  readonly linkType: LinkType;
  /** Largest frame payload (IP packet) the link carries. */
  readonly mtu: number;
  /** The link-layer address, for Ethernet links. */
  readonly mac?: Uint8Array;
  /**
   * Largest IP packet the link takes as a TCP super-segment and cuts into
   * MTU-sized segments itself (TSO/GSO, e.g. a TUN device with
   * `IFF_VNET_HDR`); absent or 0: none. Family-independent. TCP builds
   * segments up to this size, marked with `PacketBuffer.gsoSize`.
   */
  readonly tsoMaxSize?: number;
  /**
   * Largest IP packet the link takes as a UDP super-datagram and cuts into
   * datagrams itself (USO, e.g. a TUN device with `TUN_F_USO4/6`); absent
   * or 0: none, and the stack cuts a socket's `segmentSize` sends right
   * before the link instead.
   */
  readonly usoMaxSize?: number;
  /**
   * The link takes a TCP segment (IPv4 or IPv6) whose checksum is partial
   * (`PacketFlags.CHECKSUM_PARTIAL`: the pseudo-header sum in the field) and
   * completes it wherever its bytes are read or leave the process (the
   * in-memory link hands it to a stack's port as it is, Linux's loopback
   * and veth do the same). Absent or false: the stack sends complete ones.
   */
  readonly partialChecksum?: boolean;
  /** Connects the driver to the stack; received frames go to `port.receive`. */
  attach(port: DriverPort): void;
  /** Sends the data window of `pkt`; takes ownership (the driver releases it). */
  transmit(pkt: PacketBuffer): void;
  /** Stops the driver and frees what it holds. */
  close(): void;
}

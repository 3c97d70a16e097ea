/**
 * The libc symbols the AF_PACKET driver needs beyond those the TUN driver
 * already loads (drivers/tun/_libc.ts: `read`, `write`, `poll`, `eventfd`,
 * `close`, `socket`, `ioctl`, errno), and the Linux constants and structures
 * of packet sockets (linux/if_packet.h, linux/filter.h).
 *
 * Lengths are declared `u32` and results `i32` as in the TUN file (see
 * /work/shared/PERFORMANCE.md: a `usize` given a plain number costs
 * 190-320 ns per call); pointers to kernel structures are `"buffer"`.
 *
 * @module
 */
import { acquireLibc, type Libc, releaseLibc } from "../tun/_libc.ts";

/** Address family of packet sockets. */
export const AF_PACKET = 17;
/** Raw frames, link header included. */
export const SOCK_RAW = 3;
/** Socket type flag: non-blocking. */
export const SOCK_NONBLOCK = 0x800;
/** Every protocol (linux/if_ether.h), host byte order. */
export const ETH_P_ALL = 0x0003;
/** `setsockopt` level of packet sockets. */
export const SOL_PACKET = 263;
/** `setsockopt` level of sockets. */
export const SOL_SOCKET = 1;
/** Joins a membership (promiscuous, multicast, all-multicast). */
export const PACKET_ADD_MEMBERSHIP = 1;
/** Membership type: promiscuous mode. */
export const PACKET_MR_PROMISC = 1;
/** Reads `struct tpacket_stats` (and resets it). */
export const PACKET_STATISTICS = 6;
/** Linux 4.20+: do not deliver frames this host sends. */
export const PACKET_IGNORE_OUTGOING = 23;
/** Receive buffer size (capped by `net.core.rmem_max`). */
export const SO_RCVBUF = 8;
/** Receive buffer size, past `rmem_max` (needs CAP_NET_ADMIN). */
export const SO_RCVBUFFORCE = 33;
/** Attaches a classic BPF program. */
export const SO_ATTACH_FILTER = 26;
/** `sll_pkttype` of frames this host sends. */
export const PACKET_OUTGOING = 4;
/** `recvfrom` flag: return the real length of a longer frame. */
export const MSG_TRUNC = 0x20;
/** Selects the ring layout (`TPACKET_V3`). */
export const PACKET_VERSION = 10;
/** Sets up the mmap receive ring. */
export const PACKET_RX_RING = 5;
/** Ring layout version 3: variable-size frames packed into blocks. */
export const TPACKET_V3 = 2;
/** mmap(2) protection: readable. */
export const PROT_READ = 1;
/** mmap(2) protection: writable. */
export const PROT_WRITE = 2;
/** mmap(2): shared with the kernel. */
export const MAP_SHARED = 1;
/** `SIOCGIFINDEX`: interface index by name. */
export const SIOCGIFINDEX = 0x8933;
/** Operation not permitted by the protocol (`ENOPROTOOPT`). */
export const ENOPROTOOPT = 92;
/** `sizeof(struct sockaddr_ll)`. */
export const SOCKADDR_LL_SIZE = 20;

const SYMBOLS = {
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  recvfrom: {
    parameters: ["i32", "buffer", "u32", "i32", "buffer", "buffer"],
    result: "i32",
  },
} as const;

/** The packet-socket symbols. */
export type PacketSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** libc for the packet driver: the TUN driver's shared handle plus {@linkcode PacketSymbols}. */
export interface PacketLibc {
  /** The shared libc of drivers/tun (errno, read, write, poll, …). */
  readonly libc: Libc;
  /** The packet-socket symbols. */
  readonly sym: PacketSymbols;
}

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;
let users = 0;

/**
 * Loads libc for the packet driver (reference-counted, like the TUN one).
 *
 * @throws {Deno.errors.NotSupported} when not on Linux.
 * @throws {Deno.errors.NotCapable} without `--allow-ffi`.
 */
export function acquirePacketLibc(): PacketLibc {
  const libc = acquireLibc();
  if (lib === null) {
    try {
      lib = Deno.dlopen("libc.so.6", SYMBOLS);
    } catch (err) {
      releaseLibc();
      throw err;
    }
  }
  users++;
  return { libc, sym: lib.symbols };
}

/** Drops one reference; the last one unloads the extra symbols. */
export function releasePacketLibc(): void {
  if (users === 0) return;
  if (--users === 0) {
    lib?.close();
    lib = null;
  }
  releaseLibc();
}

/** `htons`. */
export function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** A `struct sockaddr_ll` binding to `ifindex` for every protocol. */
export function sockaddrLl(ifindex: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(SOCKADDR_LL_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_PACKET, true);
  dv.setUint16(2, htons(ETH_P_ALL), true);
  dv.setInt32(4, ifindex, true);
  return b;
}

/** A `struct packet_mreq` for promiscuous mode on `ifindex`. */
export function promiscMreq(ifindex: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, ifindex, true);
  dv.setUint16(4, PACKET_MR_PROMISC, true);
  return b;
}

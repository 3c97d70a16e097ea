/**
 * Opening an AF_PACKET socket on an existing Linux interface through
 * `Deno.dlopen`, as a `LinkDriver` carrying Ethernet frames:
 *
 * 1. `socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, 0)`: protocol 0 receives
 *    nothing yet, so no frame of another interface slips in before step 5
 *    (binding with `htons(ETH_P_ALL)` directly would queue frames from every
 *    interface until `bind`);
 * 2. `SIOCGIFINDEX`, `SIOCGIFMTU`, `SIOCGIFHWADDR` (the interface must be
 *    Ethernet), and optionally `SIOCSIFFLAGS` to set it up;
 * 3. `SO_ATTACH_FILTER` with the classic BPF program of `bpf.ts` (frames for
 *    the stack's MAC, broadcast, multicast; not this host's own);
 * 4. `PACKET_IGNORE_OUTGOING` (Linux 4.20+); when the kernel refuses it, each
 *    frame is read with `recvfrom` and one with `sll_pkttype ==
 *    PACKET_OUTGOING` is dropped and counted (`rxOutgoing`);
 *    `PACKET_ADD_MEMBERSHIP` with `PACKET_MR_PROMISC` when `promisc`
 *    (default true: a NIC filters unicast for MACs other than its own);
 * 5. `bind` to the interface index with `htons(ETH_P_ALL)`.
 *
 * Receiving and sending reuse the TUN driver's loop (`drivers/tun/io.ts`):
 * synchronous reads until EAGAIN, one nonblocking `poll()` per batch, an
 * eventfd to stop. Reads go through `recvfrom(..., MSG_TRUNC)` so a frame
 * longer than the buffer is counted (`rxTruncated`), not silently cut.
 *
 * **Offloads.** A packet socket sees frames as the kernel holds them. On a
 * veth, frames the peer sends carry `CHECKSUM_PARTIAL` (the TCP/UDP checksum
 * is not filled in) and, with TSO/GSO on, up to 64 KiB; a NIC with GRO/LRO
 * merges received segments. The stack drops such frames (bad checksum, or
 * `rxTruncated`), so turn these off on the interface and on a veth peer:
 * `ethtool -K PEER tx off tso off gso off` and `ethtool -K IF gro off lro off`.
 *
 * **Receive ring:** with `ring: true` frames come through a `TPACKET_V3`
 * mmap ring (`ring.ts`) instead of one `recvfrom` each.
 *
 * **Not supported:** a `TPACKET` transmit ring (sending is one `write` per
 * frame), `PACKET_VNET_HDR` (offload metadata), VLAN tag
 * reconstruction (`PACKET_AUXDATA`: tags stripped by the NIC are lost),
 * non-Ethernet interfaces.
 *
 * @module
 */
import { LINKTYPE_ETHERNET } from "../../stack/driver.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import {
  checkIfname,
  EACCES,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EINVAL,
  ENODEV,
  EPERM,
  IFF_UP,
  ifreq,
  type Libc,
  SIOCGIFFLAGS,
  SIOCGIFHWADDR,
  SIOCGIFMTU,
  SIOCSIFFLAGS,
  SOCK_CLOEXEC,
} from "../tun/_libc.ts";
import { type IoStats, TunIo } from "../tun/io.ts";
import { DEFAULT_BATCH, DEFAULT_POLL_TIMEOUT, inNetns, randomMac } from "../tun/tun.ts";
import {
  acquirePacketLibc,
  AF_PACKET,
  ENOPROTOOPT,
  MSG_TRUNC,
  PACKET_ADD_MEMBERSHIP,
  PACKET_IGNORE_OUTGOING,
  PACKET_OUTGOING,
  PACKET_STATISTICS,
  type PacketLibc,
  promiscMreq,
  releasePacketLibc,
  SIOCGIFINDEX,
  SO_ATTACH_FILTER,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCKADDR_LL_SIZE,
  sockaddrLl,
  SOL_PACKET,
  SOL_SOCKET,
} from "./_libc.ts";
import { encodeBpf, macFilter } from "./bpf.ts";
import { releaseRing, type Ring, runRing, setupRing } from "./ring.ts";

/** Default socket receive buffer: 4 MiB. */
export const DEFAULT_RCVBUF = 4 * 1024 * 1024;

/** `ARPHRD_ETHER`: the hardware type of Ethernet interfaces. */
const ARPHRD_ETHER = 1;

/**
 * Options of {@linkcode openPacket}.
 *
 * @example
 * ```ts
 * import type { PacketOptions } from "./packet.ts";
 * import assert from "node:assert/strict";
 * const options: PacketOptions = { ifname: "veth1", netns: "lab", promisc: false };
 * assert.equal(options.ifname, "veth1");
 * ```
 */
export interface PacketOptions {
  /** The existing interface to bind to (it needs no address). */
  readonly ifname: string;
  /** The stack's MAC; default random, locally administered, unicast. */
  readonly mac?: Uint8Array;
  /** The network namespace the interface lives in (a name from `ip netns add`). */
  readonly netns?: string;
  /** Join promiscuous mode (`PACKET_MR_PROMISC`) while open; default true. */
  readonly promisc?: boolean;
  /** Set the interface administratively up; default false. */
  readonly up?: boolean;
  /**
   * Socket receive buffer in bytes, 65536..268435456 (default 4 MiB): what
   * absorbs a burst while the event loop is busy. Set with `SO_RCVBUFFORCE`
   * (CAP_NET_ADMIN), else `SO_RCVBUF` (capped by `net.core.rmem_max`).
   */
  readonly rcvbuf?: number;
  /**
   * Receive through a `TPACKET_V3` mmap ring (16 MiB) instead of one
   * `recvfrom` per frame; default false. See `ring.ts` (up to ~1 ms more
   * latency for a lone frame).
   */
  readonly ring?: boolean;
  /** Frames read per batch, 1..4096 (default 64). */
  readonly batch?: number;
  /** Longest `poll()` wait in ms, 1..60000 (default 1000). */
  readonly pollTimeout?: number;
  /** Called after every batch of received frames (a runner's `kick`). */
  readonly onBatch?: () => void;
}

/**
 * Counters of a {@linkcode PacketDevice}: the I/O loop's, plus the drops
 * particular to packet sockets.
 */
export interface PacketStats extends IoStats {
  /** Frames this host sent, seen and dropped in user space (kernels without `PACKET_IGNORE_OUTGOING`). */
  rxOutgoing: number;
  /** Frames the kernel dropped because the socket's receive queue was full (`PACKET_STATISTICS`). */
  rxKernelDrops: number;
}

function checkOptions(options: PacketOptions): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError("Cannot open packet socket: options must be an object");
  }
  const { ifname, mac, batch, pollTimeout, netns, rcvbuf } = options;
  if (typeof ifname !== "string") {
    throw new TypeError("Cannot open packet socket: ifname is required");
  }
  checkIfname(ifname);
  if (
    mac !== undefined && (!(mac instanceof Uint8Array) || mac.length !== 6 || (mac[0]! & 1) !== 0)
  ) {
    throw new TypeError("Cannot open packet socket: the MAC must be 6 bytes and unicast");
  }
  if (netns !== undefined && (netns === "" || /[/\s\0]/.test(netns))) {
    throw new TypeError(`Cannot open packet socket: invalid network namespace name "${netns}"`);
  }
  if (
    rcvbuf !== undefined && !(Number.isInteger(rcvbuf) && rcvbuf >= 65536 && rcvbuf <= 268435456)
  ) {
    throw new RangeError(`Cannot open packet socket: rcvbuf ${rcvbuf} is not in 65536..268435456`);
  }
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= 4096)) {
    throw new RangeError(`Cannot open packet socket: batch ${batch} is not in 1..4096`);
  }
  if (
    pollTimeout !== undefined &&
    !(Number.isInteger(pollTimeout) && pollTimeout >= 1 && pollTimeout <= 60000)
  ) {
    throw new RangeError(
      `Cannot open packet socket: pollTimeout ${pollTimeout} is not in 1..60000`,
    );
  }
}

function sysError(libc: Libc, action: string, errno: number): Error {
  const text = `${libc.strerror(errno)} (errno ${errno})`;
  if (errno === EPERM || errno === EACCES) {
    return new Deno.errors.PermissionDenied(
      `Cannot ${action}: ${text}; needs root or CAP_NET_RAW, and deno run --allow-ffi`,
    );
  }
  if (errno === ENODEV) {
    return new Deno.errors.NotFound(`Cannot ${action}: no such interface`);
  }
  return new Error(`Cannot ${action}: ${text}`);
}

interface Opened {
  fd: number;
  ifindex: number;
  mtu: number;
  linuxMac: Uint8Array;
  ignoresOutgoing: boolean;
  ring: Ring | null;
}

function openInCurrentNs(p: PacketLibc, options: PacketOptions, mac: Uint8Array): Opened {
  const { libc } = p;
  const { sym } = libc;
  const name = options.ifname;
  const fd = sym.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sysError(libc, "open an AF_PACKET socket", libc.errno());
  try {
    const req = ifreq(name);
    const dv = new DataView(req.buffer);
    const ioctl = (request: number, what: string): void => {
      if (sym.ioctl(fd, BigInt(request), req) < 0) {
        throw sysError(libc, `${what} of interface "${name}"`, libc.errno());
      }
    };
    ioctl(SIOCGIFINDEX, "read the index");
    const ifindex = dv.getInt32(16, true);
    ioctl(SIOCGIFMTU, "read the MTU");
    const mtu = dv.getInt32(16, true);
    ioctl(SIOCGIFHWADDR, "read the hardware address");
    if (dv.getUint16(16, true) !== ARPHRD_ETHER) {
      throw new TypeError(
        `Cannot open packet socket: "${name}" is not an Ethernet interface ` +
          `(hardware type ${dv.getUint16(16, true)})`,
      );
    }
    const linuxMac = req.slice(18, 24);
    if (options.up) {
      ioctl(SIOCGIFFLAGS, "read the flags");
      dv.setUint16(16, dv.getUint16(16, true) | IFF_UP, true);
      ioctl(SIOCSIFFLAGS, "set up");
    }
    const filter = encodeBpf(macFilter(mac));
    const fprog = new Uint8Array(16);
    const fv = new DataView(fprog.buffer);
    fv.setUint16(0, filter.length / 8, true);
    fv.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))), true);
    if (p.sym.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16) < 0) {
      throw sysError(libc, `attach the BPF filter on "${name}"`, libc.errno());
    }
    const one = new Uint8Array(new Int32Array([1]).buffer);
    let ignoresOutgoing = true;
    if (p.sym.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one, 4) < 0) {
      const e = libc.errno();
      if (e !== ENOPROTOOPT && e !== EINVAL) {
        throw sysError(libc, `set PACKET_IGNORE_OUTGOING on "${name}"`, e);
      }
      ignoresOutgoing = false; // before Linux 4.20: checked per frame
    }
    const size = new Uint8Array(new Int32Array([options.rcvbuf ?? DEFAULT_RCVBUF]).buffer);
    if (
      p.sym.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) < 0 &&
      p.sym.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4) < 0
    ) {
      throw sysError(libc, `set the receive buffer of the socket on "${name}"`, libc.errno());
    }
    if (options.promisc ?? true) {
      if (p.sym.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, promiscMreq(ifindex), 16) < 0) {
        throw sysError(libc, `put "${name}" in promiscuous mode`, libc.errno());
      }
    }
    let ring: Ring | null = null;
    if (options.ring) {
      const r = setupRing(p, fd);
      if (typeof r === "number") throw sysError(libc, `set up the TPACKET_V3 ring on "${name}"`, r);
      ring = r;
    }
    if (p.sym.bind(fd, sockaddrLl(ifindex), SOCKADDR_LL_SIZE) < 0) {
      if (ring !== null) releaseRing(p, ring);
      throw sysError(libc, `bind to interface "${name}"`, libc.errno());
    }
    return { fd, ifindex, mtu, linuxMac, ignoresOutgoing, ring };
  } catch (err) {
    sym.close(fd);
    throw err;
  }
}

/**
 * Opens an AF_PACKET socket on the existing Ethernet interface
 * `options.ifname` and returns it as a {@linkcode LinkDriver}: the stack
 * becomes one more host on that interface's LAN, with its own MAC. The
 * interface needs no address (and should have none in the stack's subnet).
 *
 * @param options Interface, MAC, namespace, promiscuous mode.
 * @returns The open device.
 * @throws {TypeError | RangeError} For bad options (before anything is opened), or a non-Ethernet interface.
 * @throws {Deno.errors.PermissionDenied} Without root or CAP_NET_RAW.
 * @throws {Deno.errors.NotFound} When the interface or the namespace does not exist.
 * @throws {Deno.errors.NotCapable} Without `--allow-ffi`.
 *
 * @example
 * ```ts ignore
 * // Needs root (or CAP_NET_RAW) and --allow-ffi; the runnable version is tests/interop/packet_test.ts.
 * import { openPacket } from "./packet.ts";
 * import { RealTimeRunner } from "../tun/mod.ts";
 * import { createStack, SystemClock } from "../../mod.ts";
 * const clock = new SystemClock();
 * const stack = createStack({ clock });
 * const dev = openPacket({ ifname: "veth1", netns: "lab" });
 * stack.addInterface({ driver: dev, addresses: ["10.0.0.2/24"] });
 * const runner = new RealTimeRunner(stack, { clock });
 * dev.onBatch = runner.kick;
 * runner.start();
 * ```
 */
export function openPacket(options: PacketOptions): PacketDevice {
  checkOptions(options);
  const mac = options.mac?.slice() ?? randomMac();
  const p = acquirePacketLibc();
  let opened: Opened | null = null;
  try {
    opened = inNetns(p.libc, options.netns, () => openInCurrentNs(p, options, mac));
    const wake = p.libc.sym.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) throw sysError(p.libc, "create an eventfd", p.libc.errno());
    return new PacketDevice(p, opened, wake, mac, options);
  } catch (err) {
    if (opened !== null) p.libc.sym.close(opened.fd);
    releasePacketLibc();
    throw err;
  }
}

/**
 * An AF_PACKET socket bound to one interface: a {@linkcode LinkDriver} of
 * Ethernet frames (LINKTYPE_ETHERNET) with the stack's own MAC
 * ({@linkcode PacketDevice.mac}). Receiving starts on `attach`;
 * `transmit` writes synchronously; `close()` stops the loop and
 * {@linkcode PacketDevice.closed} resolves once the socket is closed.
 */
export class PacketDevice implements LinkDriver {
  /** The interface name. */
  readonly name: string;
  /** The interface index (in its namespace). */
  readonly ifindex: number;
  /** LINKTYPE_ETHERNET. */
  readonly linkType: number = LINKTYPE_ETHERNET;
  /** The interface's MTU when opened. */
  readonly mtu: number;
  /** The stack's MAC. */
  readonly mac: Uint8Array;
  /** The interface's own (Linux) MAC. */
  readonly linuxMac: Uint8Array;
  /** Whether frames are received through the `TPACKET_V3` ring. */
  get ring(): boolean {
    return this.#ring !== null;
  }
  /** Whether the kernel drops this host's own frames (`PACKET_IGNORE_OUTGOING`). */
  readonly ignoresOutgoing: boolean;
  /** The namespace, if one was given. */
  readonly netns: string | undefined;
  /** Resolves when the socket is closed and libc released. */
  readonly closed: Promise<void>;
  readonly #io: TunIo;
  readonly #p: PacketLibc;
  readonly #ring: Ring | null;
  readonly #wake: number;
  readonly #frameMax: number;
  readonly #pollTimeout: number;
  readonly #extra = { rxOutgoing: 0, rxKernelDrops: 0 };
  readonly #tpStats = new Uint8Array(8);
  readonly #tpLen = new Uint8Array(4);
  #attached = false;
  #released = false;
  readonly #resolveClosed: () => void;
  readonly #onUnload = (): void => this.#forceClose();

  /** @internal Use {@linkcode openPacket}. */
  constructor(
    p: PacketLibc,
    opened: Opened,
    wakeFd: number,
    mac: Uint8Array,
    options: PacketOptions,
  ) {
    this.name = options.ifname;
    this.ifindex = opened.ifindex;
    this.mtu = opened.mtu;
    this.mac = mac;
    this.linuxMac = opened.linuxMac;
    this.ignoresOutgoing = opened.ignoresOutgoing;
    this.netns = options.netns;
    this.#p = p;
    this.#ring = opened.ring;
    this.#wake = wakeFd;
    this.#frameMax = opened.mtu + 18;
    this.#pollTimeout = options.pollTimeout ?? DEFAULT_POLL_TIMEOUT;
    const extra = this.#extra;
    const recvfrom = p.sym.recvfrom;
    const addr = new Uint8Array(SOCKADDR_LL_SIZE);
    const addrLen = new Uint8Array(4);
    const addrLenView = new DataView(addrLen.buffer);
    const check = !opened.ignoresOutgoing;
    // read() for the shared loop: recvfrom with MSG_TRUNC (the real length of
    // a longer frame, which the loop counts as truncated), and on old kernels
    // the sll_pkttype check. Hot path.
    const read = check
      ? (fd: number, buf: AllowSharedBufferSource | null, len: number): number => {
        for (;;) {
          addrLenView.setUint32(0, SOCKADDR_LL_SIZE, true);
          const r = recvfrom(fd, buf, len, MSG_TRUNC, addr, addrLen);
          if (r >= 0 && addr[10] === PACKET_OUTGOING) {
            extra.rxOutgoing++;
            continue;
          }
          return r;
        }
      }
      : (fd: number, buf: AllowSharedBufferSource | null, len: number): number =>
        recvfrom(fd, buf, len, MSG_TRUNC, null, null);
    const libc = p.libc;
    const shim: Libc = {
      sym: { ...libc.sym, read },
      errno: libc.errno,
      strerror: libc.strerror,
    };
    this.#io = new TunIo(shim, opened.fd, wakeFd, {
      frameMax: opened.mtu + 18, // Ethernet header and one VLAN tag
      batch: options.batch ?? DEFAULT_BATCH,
      pollTimeout: options.pollTimeout ?? DEFAULT_POLL_TIMEOUT,
    });
    this.#io.onBatch = options.onBatch ?? null;
    let resolve!: () => void;
    this.closed = new Promise<void>((r) => resolve = r);
    this.#resolveClosed = resolve;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /** Called after each batch of received frames (point it at a runner's `kick`). */
  get onBatch(): (() => void) | null {
    return this.#io.onBatch;
  }
  set onBatch(fn: (() => void) | null) {
    this.#io.onBatch = fn;
  }

  /**
   * Traffic and drop counters. Reading them also collects the kernel's
   * receive-queue drops (`PACKET_STATISTICS`, which the kernel resets on
   * each read) into `rxKernelDrops`.
   */
  get stats(): Readonly<PacketStats> {
    this.#collectKernelStats();
    return { ...this.#io.stats, ...this.#extra };
  }

  #collectKernelStats(): void {
    const fd = this.#io.fd;
    if (fd < 0) return;
    new DataView(this.#tpLen.buffer).setUint32(0, 8, true);
    const r = this.#p.sym.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, this.#tpStats, this.#tpLen);
    if (r === 0) this.#extra.rxKernelDrops += new DataView(this.#tpStats.buffer).getUint32(4, true);
  }

  /** Why the receive loop ended by itself (the interface went away), or null. */
  get error(): Error | null {
    return this.#io.error;
  }

  /** Starts the receive loop, delivering to `port`. Attaching twice throws. */
  attach(port: DriverPort): void {
    if (this.#attached) throw new Error(`Cannot attach ${this.name}: already attached`);
    if (this.#io.closing) throw new Error(`Cannot attach ${this.name}: closed`);
    this.#attached = true;
    const loop = this.#ring === null ? this.#io.start(port) : runRing(
      this.#io,
      this.#p.libc.sym,
      this.#ring,
      this.#wake,
      port,
      { frameMax: this.#frameMax, pollTimeout: this.#pollTimeout },
    );
    loop.then(() => this.#release());
  }

  /** Writes the frame (synchronously) and releases `pkt`. Never throws. */
  transmit(pkt: PacketBuffer): void {
    this.#io.transmit(pkt);
  }

  /** Stops receiving; {@linkcode closed} resolves once the socket is closed. */
  close(): void {
    if (this.#io.closing) return;
    this.#collectKernelStats(); // the last look: the socket goes with the loop
    this.#io.stop();
    if (!this.#attached) void this.#release();
  }

  async #release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    globalThis.removeEventListener("unload", this.#onUnload);
    await this.#io.closeFds(true);
    if (this.#ring !== null) releaseRing(this.#p, this.#ring);
    releasePacketLibc();
    this.#resolveClosed();
  }

  #forceClose(): void {
    this.#io.stop();
    void this.#release();
  }
}

/**
 * Opening and configuring a Linux TUN/TAP device through `Deno.dlopen`:
 * `open("/dev/net/tun")`, `ioctl(TUNSETIFF)` with `IFF_TUN | IFF_NO_PI` or
 * `IFF_TAP | IFF_NO_PI`, `fcntl(O_NONBLOCK)`, and the interface ioctls
 * (`SIOCSIFMTU`, `SIOCGIFFLAGS`/`SIOCSIFFLAGS`, `SIOCGIFHWADDR`) on an
 * `AF_INET` datagram socket.
 *
 * **Namespaces.** With `netns`, the device is created directly inside
 * `/run/netns/<name>` (made by `ip netns add`): the JS thread `setns()`s into
 * the namespace, opens `/dev/net/tun` (a TUN file belongs to the namespace of
 * the thread that opened it) and creates its configuration socket there, then
 * `setns()`s back, all synchronously so no other JS runs in between. The
 * device never appears in the caller's namespace. Moving a device afterwards
 * (`ip link set DEV netns NS`) also works — the fd keeps carrying frames, as
 * `tests/interop/tun_test.ts` checks — but Linux downs the link and flushes
 * its addresses on the move, and the device is briefly visible outside.
 *
 * @module
 */
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../stack/driver.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import {
  acquireLibc,
  AF_INET,
  checkIfname,
  CLONE_NEWNET,
  cString,
  EACCES,
  EBUSY,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EINVAL,
  ENODEV,
  ENOENT,
  ENXIO,
  EPERM,
  F_GETFL,
  F_SETFL,
  IFF_NO_PI,
  IFF_TAP,
  IFF_TUN,
  IFF_UP,
  IFF_VNET_HDR,
  ifreq,
  ifreqName,
  type Libc,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  releaseLibc,
  SIOCGIFFLAGS,
  SIOCGIFHWADDR,
  SIOCGIFMTU,
  SIOCGIFTXQLEN,
  SIOCSIFFLAGS,
  SIOCSIFMTU,
  SIOCSIFTXQLEN,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  TUNSETIFF,
  TUNSETOFFLOAD,
  TUNSETVNETHDRSZ,
} from "./_libc.ts";
import { type IoStats, TunIo } from "./io.ts";
import { DEFAULT_BLOCK_MAX, findEventLoopEpoll, MAX_SPIN_MICROS } from "./block_wait.ts";
import {
  DEFAULT_OFFLOAD,
  offloadLadder,
  TUN_F_TSO4,
  TUN_F_TSO6,
  TUN_F_USO4,
  TUN_F_USO6,
  VNET_HDR_LEN,
} from "./vnet.ts";

/** `"tun"`: raw IP packets (LINKTYPE_RAW); `"tap"`: Ethernet frames (LINKTYPE_ETHERNET). */
export type TunMode = "tun" | "tap";

/** The path of the TUN/TAP clone device. */
export const TUN_DEVICE_PATH = "/dev/net/tun";

/** Frames read per batch before the loop yields to the event loop (default of `batch`). */
export const DEFAULT_BATCH = 64;

/**
 * Bytes after which a batch ends early (default of `batchBytes`): 16 TCP
 * super-segments of 64 KiB. Each batch ends with the stack's coalesced ACK
 * and a turn of the event loop where the application reads, so a sender
 * whose whole send buffer (Linux: up to 4 MiB) fits in one 64-frame batch is
 * not left waiting for a single ACK per 4 MiB, and the receive window opens
 * again between batches (issue #13: iperf3 over TUN at MTU 1500 with
 * offloads, 3 interleaved pairs at load 15: 3.39 against 2.27 Gbit/s, the
 * sender's `rwnd_limited` 0.1-0.3% against 3.6-16.4% of its busy time).
 * Frames of an MTU of 1500 without offloads (64 × 1.5 KB) never reach it.
 */
export const DEFAULT_BATCH_BYTES = 1 << 20;

/** Linux's transmit queue of a new TUN/TAP device, in frames (`TUN_READQ_SIZE`). */
export const LINUX_TX_QUEUE_LENGTH = 500;

/** Largest {@linkcode TunOptions.txQueueLength} accepted. */
export const MAX_TX_QUEUE_LENGTH = 65536;

/**
 * A transmit queue (frames) that holds one whole TCP window of `windowBytes`
 * sent in the smallest full segments an `mtu` allows (IPv4, no options), and
 * never less than Linux's own 500: one connection whose window is open that
 * far then loses nothing when our thread is descheduled for a while (on a
 * busy machine, Linux dropped 1,158-1,261 frames of a 6 s `iperf3` at MTU
 * 1500 without offloads at 500, none at 4,000). Frames with offloads are
 * mostly 64 KiB, so the queue is then rarely more than a few percent full.
 *
 * @param windowBytes The largest receive window the stack advertises.
 * @param mtu The link's MTU (68..65535).
 * @returns Frames, in 500..{@linkcode MAX_TX_QUEUE_LENGTH}.
 *
 * @example
 * ```ts
 * import { txQueueForWindow } from "./tun.ts";
 * import assert from "node:assert/strict";
 * assert.equal(txQueueForWindow(6 * 1024 * 1024, 1500), 4310); // 6 MiB in 1460-byte segments
 * assert.equal(txQueueForWindow(6 * 1024 * 1024, 65535), 500); // never below Linux's default
 * ```
 */
export function txQueueForWindow(windowBytes: number, mtu: number): number {
  if (!(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535)) {
    throw new RangeError(`txQueueForWindow: MTU ${mtu} is not an integer in 68..65535`);
  }
  if (!(windowBytes >= 0)) {
    throw new RangeError(`txQueueForWindow: window ${windowBytes} is not a byte count`);
  }
  const frames = Math.ceil(windowBytes / (mtu - 40));
  return Math.min(MAX_TX_QUEUE_LENGTH, Math.max(LINUX_TX_QUEUE_LENGTH, frames));
}

/** Longest wait in `poll()` before the loop looks around again, in ms (default of `pollTimeout`). */
export const DEFAULT_POLL_TIMEOUT = 1000;

/**
 * Options of {@linkcode openTun}.
 *
 * @example
 * ```ts
 * import type { TunOptions } from "./tun.ts";
 * import assert from "node:assert/strict";
 * const options: TunOptions = { mode: "tap", name: "tap0", mtu: 1500, netns: "test1", up: true };
 * assert.equal(options.mode, "tap");
 * ```
 */
export interface TunOptions {
  /** `"tun"` (default) or `"tap"`. */
  readonly mode?: TunMode;
  /**
   * Device name: an existing device is attached to, a new one is created;
   * a template such as `"tun%d"` lets Linux number it. Default: Linux picks
   * (`tun0`, `tap0`, …).
   */
  readonly name?: string;
  /** Sets the Linux MTU of the device (68..65535); default: keep it (1500 for a new one). */
  readonly mtu?: number;
  /**
   * Sets Linux's transmit queue of the device (`txqueuelen`: frames Linux
   * holds for us to read before it drops), 1..{@linkcode MAX_TX_QUEUE_LENGTH};
   * default: keep it (500 for a new one). See {@linkcode txQueueForWindow}.
   */
  readonly txQueueLength?: number;
  /**
   * TAP only: the stack side's MAC address (the device's own MAC is Linux's).
   * Default: random, locally administered, unicast.
   */
  readonly mac?: Uint8Array;
  /** Create or attach inside this network namespace (a name from `ip netns add`). */
  readonly netns?: string;
  /** Set the Linux side administratively up (`IFF_UP`); default false (use `ip`). */
  readonly up?: boolean;
  /** Frames read per batch, 1..4096 (default {@linkcode DEFAULT_BATCH}). */
  readonly batch?: number;
  /**
   * Bytes after which a batch ends even with fewer frames, 1..2^30
   * (default {@linkcode DEFAULT_BATCH_BYTES}).
   */
  readonly batchBytes?: number;
  /** Longest `poll()` wait in ms, 1..60000 (default {@linkcode DEFAULT_POLL_TIMEOUT}). */
  readonly pollTimeout?: number;
  /** Called after every batch of received frames (see {@linkcode TunDevice.onBatch}). */
  readonly onBatch?: () => void;
  /**
   * Offloads (`IFF_VNET_HDR` + `TUNSETOFFLOAD`, see `vnet.ts`): `true` asks
   * for {@linkcode DEFAULT_OFFLOAD} (checksum, TSO4/6, TSO_ECN, USO4/6), a
   * number for those TUN_F_* bits; what the kernel refuses is dropped step
   * by step ({@linkcode TunDevice.offload} says what it took). Default
   * false: no virtio-net header, as before.
   */
  readonly offload?: boolean | number;
  /**
   * How the loop waits when the device is quiet: `"poll"` (default) on a
   * worker thread; `"block"` with the JS thread itself asleep in `poll()`
   * (one wake-up per frame after a quiet period instead of two; other
   * JavaScript waits meanwhile, see `block_wait.ts`). Set
   * {@linkcode TunDevice.waitBudget} to the runner's `msUntilWake` with it.
   * One device per process gets it ({@linkcode TunDevice.blocking}); the
   * others wait as with `"poll"`. Use it only in a process whose other work
   * is the stack's: an unrelated async call (a socket, a file, a Worker's
   * message) that completes just as the loop decides to sleep can wait up
   * to `blockMax` ms (`cli/_up_wait.ts`).
   */
  readonly wait?: "poll" | "block";
  /** With `wait: "block"`: longest sleep of the JS thread, 1..1000 ms (default 50). */
  readonly blockMax?: number;
  /**
   * With `wait: "block"`: µs after the last frame during which the quiet
   * loop busy-polls (a core at 100%) before it sleeps, 0..10000 (default 0).
   */
  readonly spin?: number;
  /**
   * With `wait: "block"`: while asleep, up to 1 s after the last frame
   * (`KEEP_WARM_WINDOW`), wake every this many ms (0..1000, default 0:
   * never) and call {@linkcode TunDevice.onKeepWarm}, which runs the
   * receive path's code on something other than the device (`up`'s:
   * `cli/_up_keep_warm.ts`), so that the first frame after a quiet spell
   * finds that code in the caches.
   */
  readonly keepWarm?: number;
}

/**
 * Random locally administered unicast MAC (`x2:…`, `x6:…`, `xa:…`, `xe:…`)
 * from `rng` (the stack's seeded generator, for reproducible addresses).
 *
 * @param rng Anything with `fill(bytes)`; default real entropy.
 * @returns Six bytes.
 *
 * @example
 * ```ts
 * import { randomMac } from "./tun.ts";
 * import assert from "node:assert/strict";
 * const mac = randomMac({ fill: (b: Uint8Array) => b.fill(0xff) });
 * assert.deepEqual([...mac], [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff]);
 * ```
 */
export function randomMac(rng?: { fill(bytes: Uint8Array): void }): Uint8Array {
  const mac = new Uint8Array(6);
  if (rng) rng.fill(mac);
  else crypto.getRandomValues(mac);
  mac[0] = (mac[0]! & 0xfc) | 0x02; // IEEE 802: bit 1 = locally administered, bit 0 = group
  return mac;
}

function permissionHint(): string {
  return "needs root or CAP_NET_ADMIN, and deno run --allow-ffi";
}

/** Turns a failed call's errno into the error callers see. */
function sysError(
  libc: Libc,
  action: string,
  errno: number,
  what: "open" | "iff" | "ns" | "other",
) {
  const text = `${libc.strerror(errno)} (errno ${errno})`;
  if (errno === EPERM || errno === EACCES) {
    return new Deno.errors.PermissionDenied(`Cannot ${action}: ${text}; ${permissionHint()}`);
  }
  if (what === "open" && (errno === ENOENT || errno === ENODEV || errno === ENXIO)) {
    return new Deno.errors.NotFound(
      `Cannot ${action}: ${text}; the tun module is missing: load it (modprobe tun) ` +
        `or create the node (mkdir -p /dev/net && mknod ${TUN_DEVICE_PATH} c 10 200)`,
    );
  }
  if (what === "iff" && errno === EBUSY) {
    return new Deno.errors.Busy(
      `Cannot ${action}: the device is busy (another process has it open)`,
    );
  }
  if (what === "iff" && errno === EINVAL) {
    return new TypeError(
      `Cannot ${action}: ${text}; a device with this name exists and is not of this kind`,
    );
  }
  if (what === "ns" && errno === ENOENT) {
    return new Deno.errors.NotFound(
      `Cannot ${action}: no such namespace (create it: ip netns add)`,
    );
  }
  return new Error(`Cannot ${action}: ${text}`);
}

/**
 * @internal Runs `fn` with the JS thread inside network namespace `ns` (or
 * where it is, if undefined). Shared with drivers/packet.
 */
export function inNetns<T>(libc: Libc, ns: string | undefined, fn: () => T): T {
  if (ns === undefined) return fn();
  if (ns === "" || /[/\s\0]/.test(ns) || ns === "." || ns === "..") {
    throw new TypeError(`Invalid network namespace name "${ns}"`);
  }
  const { sym } = libc;
  const self = sym.open(cString("/proc/thread-self/ns/net"), O_RDONLY | O_CLOEXEC, 0);
  if (self < 0) throw sysError(libc, "open /proc/thread-self/ns/net", libc.errno(), "other");
  try {
    const target = sym.open(cString(`/run/netns/${ns}`), O_RDONLY | O_CLOEXEC, 0);
    if (target < 0) {
      throw sysError(libc, `enter network namespace "${ns}"`, libc.errno(), "ns");
    }
    try {
      if (sym.setns(target, CLONE_NEWNET) < 0) {
        throw sysError(libc, `enter network namespace "${ns}"`, libc.errno(), "ns");
      }
      const back = (): void => {
        if (sym.setns(self, CLONE_NEWNET) < 0) {
          // Cannot happen with the rights we just used; if it does, staying in the
          // wrong namespace silently would be worse than stopping.
          throw new Error("Cannot return to the original network namespace after setns()");
        }
      };
      let out: T;
      try {
        out = fn();
      } catch (err) {
        back();
        throw err;
      }
      back();
      return out;
    } finally {
      sym.close(target);
    }
  } finally {
    sym.close(self);
  }
}

interface Opened {
  fd: number;
  name: string;
  mtu: number;
  linuxMac: Uint8Array | null;
  /** TUN_F_* bits the kernel took, or -1 without a virtio-net header. */
  offload: number;
  txQueueLength: number;
}

/**
 * Sets the virtio-net header size and the offloads on `fd`: the first of
 * {@linkcode offloadLadder}(`want`) the kernel accepts (it answers EINVAL
 * for bits it does not know). `setOffload` is the ioctl (injectable for
 * tests): it returns 0 or an errno. Returns the bits accepted.
 *
 * @internal
 */
export function negotiateOffload(want: number, setOffload: (flags: number) => number): number {
  for (const flags of offloadLadder(want)) {
    if (setOffload(flags) === 0) return flags;
  }
  return -1;
}

function ioctlIf(libc: Libc, sock: number, request: number, req: Uint8Array<ArrayBuffer>): number {
  return libc.sym.ioctl(sock, BigInt(request), req) < 0 ? libc.errno() : 0;
}

function openInCurrentNs(libc: Libc, mode: TunMode, options: TunOptions): Opened {
  const { sym } = libc;
  const fd = sym.open(cString(TUN_DEVICE_PATH), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) throw sysError(libc, `open ${TUN_DEVICE_PATH}`, libc.errno(), "open");
  let sock = -1;
  try {
    const req = ifreq(options.name ?? (mode === "tun" ? "tun%d" : "tap%d"));
    const want = options.offload === true ? DEFAULT_OFFLOAD : (options.offload || 0);
    const vnet = options.offload !== undefined && options.offload !== false;
    new DataView(req.buffer).setUint16(
      16,
      (mode === "tun" ? IFF_TUN : IFF_TAP) | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0),
      true,
    );
    if (sym.ioctl(fd, BigInt(TUNSETIFF), req) < 0) {
      const what = options.name === undefined
        ? `create a ${mode} device`
        : `attach ${mode} device "${options.name}"`;
      throw sysError(libc, what, libc.errno(), "iff");
    }
    const name = ifreqName(req);
    let offload = -1;
    if (vnet) {
      const size = new Int32Array([VNET_HDR_LEN]);
      if (sym.ioctl(fd, BigInt(TUNSETVNETHDRSZ), new Uint8Array(size.buffer)) < 0) {
        throw sysError(libc, `set the virtio-net header size of ${name}`, libc.errno(), "other");
      }
      offload = negotiateOffload(
        want,
        (flags) => sym.ioctlValue(fd, BigInt(TUNSETOFFLOAD), BigInt(flags)) < 0 ? libc.errno() : 0,
      );
      // Even "none" failing leaves a working device: frames still carry the header.
      if (offload < 0) offload = 0;
    }
    const fl = sym.fcntl(fd, F_GETFL, 0);
    if (fl < 0 || sym.fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
      throw sysError(libc, `make ${name} non-blocking`, libc.errno(), "other");
    }
    sock = sym.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) throw sysError(libc, "open a configuration socket", libc.errno(), "other");
    const r = ifreq(name);
    const dv = new DataView(r.buffer);
    let e: number;
    if (options.mtu !== undefined) {
      dv.setInt32(16, options.mtu, true);
      if ((e = ioctlIf(libc, sock, SIOCSIFMTU, r)) !== 0) {
        throw sysError(libc, `set the MTU of ${name} to ${options.mtu}`, e, "other");
      }
    }
    if ((e = ioctlIf(libc, sock, SIOCGIFMTU, r)) !== 0) {
      throw sysError(libc, `read the MTU of ${name}`, e, "other");
    }
    const mtu = dv.getInt32(16, true);
    if (options.txQueueLength !== undefined) {
      dv.setInt32(16, options.txQueueLength, true);
      if ((e = ioctlIf(libc, sock, SIOCSIFTXQLEN, r)) !== 0) {
        throw sysError(
          libc,
          `set the transmit queue of ${name} to ${options.txQueueLength}`,
          e,
          "other",
        );
      }
    }
    if ((e = ioctlIf(libc, sock, SIOCGIFTXQLEN, r)) !== 0) {
      throw sysError(libc, `read the transmit queue of ${name}`, e, "other");
    }
    const txQueueLength = dv.getInt32(16, true);
    let linuxMac: Uint8Array | null = null;
    if (mode === "tap") {
      if ((e = ioctlIf(libc, sock, SIOCGIFHWADDR, r)) !== 0) {
        throw sysError(libc, `read the MAC of ${name}`, e, "other");
      }
      linuxMac = r.slice(18, 24); // sockaddr: family (2 bytes), then sa_data
    }
    if (options.up) {
      if ((e = ioctlIf(libc, sock, SIOCGIFFLAGS, r)) !== 0) {
        throw sysError(libc, `read the flags of ${name}`, e, "other");
      }
      dv.setUint16(16, dv.getUint16(16, true) | IFF_UP, true);
      if ((e = ioctlIf(libc, sock, SIOCSIFFLAGS, r)) !== 0) {
        throw sysError(libc, `set ${name} up`, e, "other");
      }
    }
    return { fd, name, mtu, linuxMac, offload, txQueueLength };
  } catch (err) {
    sym.close(fd);
    throw err;
  } finally {
    if (sock >= 0) sym.close(sock);
  }
}

function checkOptions(options: TunOptions): void {
  const { mode, mtu, mac, batch, pollTimeout, offload } = options;
  if (offload !== undefined && typeof offload !== "boolean") {
    if (!Number.isInteger(offload)) {
      throw new TypeError(
        `Cannot open TUN/TAP device: offload must be a boolean or TUN_F_* bits, not ${offload}`,
      );
    }
    if (offload < 0 || offload > 0xffff) {
      throw new RangeError(
        `Cannot open TUN/TAP device: offload bits ${offload} are not in 0..0xffff`,
      );
    }
  }
  if (mode !== undefined && mode !== "tun" && mode !== "tap") {
    throw new TypeError(`Cannot open TUN/TAP device: mode must be "tun" or "tap", not "${mode}"`);
  }
  if (options.name !== undefined) checkIfname(options.name);
  if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535)) {
    throw new RangeError(`Cannot open TUN/TAP device: MTU ${mtu} is not an integer in 68..65535`);
  }
  if (mac !== undefined) {
    if (mode !== "tap") throw new TypeError('Cannot open TUN device: a MAC needs mode "tap"');
    if (mac.length !== 6 || (mac[0]! & 1) !== 0) {
      throw new TypeError("Cannot open TAP device: the MAC must be 6 bytes and unicast");
    }
  }
  const bb = options.batchBytes;
  if (bb !== undefined && !(Number.isInteger(bb) && bb >= 1 && bb <= 2 ** 30)) {
    throw new RangeError(`Cannot open TUN/TAP device: batchBytes ${bb} is not in 1..2^30`);
  }
  const q = options.txQueueLength;
  if (q !== undefined && !(Number.isInteger(q) && q >= 1 && q <= MAX_TX_QUEUE_LENGTH)) {
    throw new RangeError(
      `Cannot open TUN/TAP device: txQueueLength ${q} is not in 1..${MAX_TX_QUEUE_LENGTH}`,
    );
  }
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= 4096)) {
    throw new RangeError(`Cannot open TUN/TAP device: batch ${batch} is not in 1..4096`);
  }
  if (
    pollTimeout !== undefined &&
    !(Number.isInteger(pollTimeout) && pollTimeout >= 1 && pollTimeout <= 60000)
  ) {
    throw new RangeError(
      `Cannot open TUN/TAP device: pollTimeout ${pollTimeout} is not in 1..60000`,
    );
  }
  checkWaitOptions(options);
}

function checkWaitOptions({ wait, blockMax, spin, keepWarm }: TunOptions): void {
  if (wait !== undefined && wait !== "poll" && wait !== "block") {
    throw new TypeError(
      `Cannot open TUN/TAP device: wait must be "poll" or "block", not "${wait}"`,
    );
  }
  if (spin !== undefined) {
    if (typeof spin !== "number" || !Number.isInteger(spin)) {
      throw new TypeError(`Cannot open TUN/TAP device: spin ${spin} is not a whole number`);
    }
    if (spin < 0 || spin > MAX_SPIN_MICROS) {
      throw new RangeError(
        `Cannot open TUN/TAP device: spin ${spin} is not in 0..${MAX_SPIN_MICROS} µs`,
      );
    }
  }
  if (keepWarm !== undefined) {
    if (typeof keepWarm !== "number" || !Number.isInteger(keepWarm)) {
      throw new TypeError(`Cannot open TUN/TAP device: keepWarm ${keepWarm} is not a whole number`);
    }
    if (keepWarm < 0 || keepWarm > 1000) {
      throw new RangeError(`Cannot open TUN/TAP device: keepWarm ${keepWarm} is not in 0..1000`);
    }
  }
  if (blockMax === undefined) return;
  if (typeof blockMax !== "number" || !Number.isInteger(blockMax)) {
    throw new TypeError(`Cannot open TUN/TAP device: blockMax ${blockMax} is not a whole number`);
  }
  if (blockMax < 1 || blockMax > 1000) {
    throw new RangeError(`Cannot open TUN/TAP device: blockMax ${blockMax} is not in 1..1000`);
  }
}

/**
 * Opens (creates, or attaches to) a TUN or TAP device and returns it as a
 * {@linkcode LinkDriver}. Frames flow once a stack attaches it
 * (`stack.addInterface({ driver })`).
 *
 * @param options Mode, name, MTU, MAC, namespace.
 * @returns The open device.
 * @throws {Deno.errors.PermissionDenied} without root/CAP_NET_ADMIN (EPERM, EACCES).
 * @throws {Deno.errors.NotCapable} without `--allow-ffi`.
 * @throws {Deno.errors.NotFound} when `/dev/net/tun` or the namespace is missing.
 * @throws {Deno.errors.Busy} when another process holds the device.
 * @throws {TypeError | RangeError} for bad options, or a name taken by another kind of device.
 *
 * @example
 * ```ts ignore
 * // Needs root (or CAP_NET_ADMIN) and --allow-ffi; see tests/interop/.
 * import { openTun } from "./tun.ts";
 * import { createStack } from "../../mod.ts";
 * const tun = openTun({ mode: "tun", name: "tun0", netns: "demo" });
 * const stack = createStack();
 * stack.addInterface({ driver: tun, addresses: ["10.0.0.2/24"] });
 * stack.close();
 * await tun.closed;
 * ```
 */
export function openTun(options: TunOptions = {}): TunDevice {
  checkOptions(options);
  const mode = options.mode ?? "tun";
  const libc = acquireLibc();
  let opened: Opened | null = null;
  try {
    opened = inNetns(libc, options.netns, () => openInCurrentNs(libc, mode, options));
    const wake = libc.sym.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) throw sysError(libc, "create an eventfd", libc.errno(), "other");
    return new TunDevice(libc, opened, wake, mode, options);
  } catch (err) {
    if (opened !== null) libc.sym.close(opened.fd);
    releaseLibc();
    throw err;
  }
}

/**
 * An open TUN/TAP device: a {@linkcode LinkDriver} whose frames come from and
 * go to the Linux kernel. TUN carries bare IP packets (LINKTYPE_RAW, the
 * version nibble says v4 or v6); TAP carries Ethernet II frames without FCS
 * (LINKTYPE_ETHERNET), and {@linkcode TunDevice.mac} is the stack side's MAC.
 *
 * Receiving starts on `attach` (see `io.ts` for how the loop works) and never
 * blocks the event loop. `transmit` writes synchronously (~1.6 µs per
 * 1500-byte frame). `close()` stops the loop; the descriptors are closed and
 * libc unloaded once a pending `poll()` returns, which {@linkcode closed}
 * reports. A device still open when the process unloads is closed then.
 *
 * @example
 * ```ts ignore
 * // Needs root (or CAP_NET_ADMIN) and --allow-ffi; see tests/interop/.
 * import { openTun } from "./tun.ts";
 * const tap = openTun({ mode: "tap", name: "tap0" });
 * console.log(tap.name, tap.linkType, tap.mac, tap.linuxMac);
 * tap.close();
 * await tap.closed;
 * ```
 */
export class TunDevice implements LinkDriver {
  /** The Linux interface name (`tun0`). */
  readonly name: string;
  /** `"tun"` or `"tap"`. */
  readonly mode: TunMode;
  /** LINKTYPE_RAW (TUN) or LINKTYPE_ETHERNET (TAP). */
  readonly linkType: number;
  /** The device's MTU when it was opened. */
  readonly mtu: number;
  /** Linux's transmit queue toward us (`txqueuelen`, frames) when it was opened. */
  readonly txQueueLength: number;
  /** TAP: the stack side's MAC (absent for TUN). */
  declare readonly mac?: Uint8Array;
  /** TAP: the Linux side's MAC (the device's own address), else null. */
  readonly linuxMac: Uint8Array | null;
  /** The namespace the device lives in, if one was given. */
  readonly netns: string | undefined;
  /**
   * The TUN_F_* offloads the kernel accepted (see `vnet.ts`), 0 when it took
   * none, -1 when the device was opened without a virtio-net header.
   */
  readonly offload: number;
  /**
   * Largest TCP super-segment the stack may hand over for Linux to segment
   * (TSO4 and TSO6 accepted: 65535), else 0 (see `LinkDriver.tsoMaxSize`).
   */
  readonly tsoMaxSize: number;
  /**
   * Largest UDP super-datagram the stack may hand over for Linux to cut into
   * datagrams (USO4 and USO6 accepted, Linux 6.2+: 65535), else 0 (see
   * `LinkDriver.usoMaxSize`; the stack then cuts a `segmentSize` send itself).
   */
  readonly usoMaxSize: number;
  /** Resolves when the descriptors are closed and libc is released. */
  readonly closed: Promise<void>;
  readonly #io: TunIo;
  #attached = false;
  #released = false;
  readonly #resolveClosed: () => void;
  readonly #onUnload = (): void => this.#forceClose();

  /** @internal Use {@linkcode openTun}. */
  constructor(libc: Libc, opened: Opened, wakeFd: number, mode: TunMode, options: TunOptions) {
    this.name = opened.name;
    this.mode = mode;
    this.linkType = mode === "tun" ? LINKTYPE_RAW : LINKTYPE_ETHERNET;
    this.mtu = opened.mtu;
    this.txQueueLength = opened.txQueueLength;
    if (mode === "tap") this.mac = options.mac?.slice() ?? randomMac();
    this.linuxMac = opened.linuxMac;
    this.netns = options.netns;
    this.offload = opened.offload;
    const tso = TUN_F_TSO4 | TUN_F_TSO6;
    this.tsoMaxSize = opened.offload > 0 && (opened.offload & tso) === tso ? 65535 : 0;
    const uso = TUN_F_USO4 | TUN_F_USO6;
    this.usoMaxSize = opened.offload > 0 && (opened.offload & uso) === uso ? 65535 : 0;
    // Largest frame we expect: the MTU (or, with offloads, a 64 KiB
    // super-segment), plus Ethernet (14) and one VLAN tag (4) on TAP.
    const frameMax = (opened.offload > 0 ? Math.max(opened.mtu, 65535) : opened.mtu) +
      (mode === "tap" ? 18 : 0);
    this.#io = new TunIo(libc, opened.fd, wakeFd, {
      vnet: opened.offload >= 0,
      linkHeader: mode === "tap" ? 14 : 0,
      maxFrame: opened.mtu + (mode === "tap" ? 18 : 0),
      frameMax,
      batch: options.batch ?? DEFAULT_BATCH,
      batchBytes: options.batchBytes ?? DEFAULT_BATCH_BYTES,
      pollTimeout: options.pollTimeout ?? DEFAULT_POLL_TIMEOUT,
      ...(options.wait === "block"
        ? {
          blockMax: options.blockMax ?? DEFAULT_BLOCK_MAX,
          epollFd: findEventLoopEpoll(libc),
          spin: options.spin ?? 0,
          keepWarm: options.keepWarm ?? 0,
        }
        : {}),
    });
    this.#io.onBatch = options.onBatch ?? null;
    let resolve!: () => void;
    this.closed = new Promise<void>((r) => resolve = r);
    this.#resolveClosed = resolve;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /**
   * Called after each batch of received frames has gone through the stack:
   * the place for the runner to call `stack.poll(now)` and re-arm its timer
   * (see `RealTimeRunner`). Exceptions are caught and counted in
   * `stats.callbackErrors`.
   */
  get onBatch(): (() => void) | null {
    return this.#io.onBatch;
  }
  set onBatch(fn: (() => void) | null) {
    this.#io.onBatch = fn;
  }

  /**
   * With `wait: "block"`: ms until the runner needs the event loop (its
   * timer), which bounds each sleep of the JS thread; give it
   * `runner.msUntilWake`. Null: only `blockMax` bounds it.
   */
  get waitBudget(): (() => number) | null {
    return this.#io.waitBudget;
  }
  set waitBudget(fn: (() => number) | null) {
    this.#io.waitBudget = fn;
  }

  /**
   * With `keepWarm`: what runs every `keepWarm` ms of a blocking sleep
   * (exceptions are counted in `stats.callbackErrors`). It must touch
   * nothing a user can see: it runs between frames, not on them.
   */
  get onKeepWarm(): (() => void) | null {
    return this.#io.onKeepWarm;
  }
  set onKeepWarm(fn: (() => void) | null) {
    this.#io.onKeepWarm = fn;
  }

  /** Whether this device waits with the JS thread asleep (`wait: "block"` and no other device has it). */
  get blocking(): boolean {
    return this.#io.blocking;
  }

  /** Traffic and loop counters. */
  get stats(): Readonly<IoStats> {
    return this.#io.stats;
  }

  /**
   * Why the receive loop ended by itself (the device was deleted, its
   * namespace went away, the descriptor failed), or null.
   */
  get error(): Error | null {
    return this.#io.error;
  }

  /** The file descriptor (for diagnostics), or -1 once closed. */
  get fd(): number {
    return this.#io.fd;
  }

  /** Whether {@linkcode close} was called. */
  get closing(): boolean {
    return this.#io.closing;
  }

  /** Starts the receive loop, delivering to `port`. Attaching twice throws. */
  attach(port: DriverPort): void {
    if (this.#attached) throw new Error(`Cannot attach ${this.name}: already attached`);
    if (this.#io.closing) throw new Error(`Cannot attach ${this.name}: closed`);
    this.#attached = true;
    this.#io.start(port).then(() => this.#release(false));
  }

  /** Writes the frame (synchronously) and releases `pkt`. Never throws. */
  transmit(pkt: PacketBuffer): void {
    this.#io.transmit(pkt);
  }

  /**
   * Stops receiving; the device disappears once {@linkcode closed} resolves
   * (unless Linux keeps it: persistent devices, other queues).
   */
  close(): void {
    if (this.#io.closing) return;
    this.#io.stop();
    if (!this.#attached) void this.#release(false);
  }

  async #release(sync: boolean): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    globalThis.removeEventListener("unload", this.#onUnload);
    await this.#io.closeFds(sync);
    releaseLibc();
    this.#resolveClosed();
  }

  #forceClose(): void {
    // Process exit: the loop will not run again, so close the descriptors now.
    this.#io.stop();
    void this.#release(true);
  }
}

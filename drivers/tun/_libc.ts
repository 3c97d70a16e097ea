/**
 * The libc symbols the TUN/TAP driver calls through `Deno.dlopen`, the Linux
 * constants it needs, and `errno`.
 *
 * Declarations follow /work/shared/PERFORMANCE.md:
 * - `read`/`write` lengths and results are declared 32-bit (`u32`/`i32`)
 *   although C says `size_t`/`ssize_t`: a `usize` parameter given a plain
 *   number costs 190-320 ns per call, a `u32` 7-13 ns. A frame is at most
 *   64 KiB, and on x86-64 and aarch64 a 32-bit argument travels zero-extended
 *   in a 64-bit register and a 32-bit result is the low half of the 64-bit
 *   one, so nothing is lost.
 * - Only `poll` is `nonblocking: true` (it runs on a worker thread and
 *   returns a promise, 9-27 µs per call): it is paid once per batch, never
 *   per packet.
 *
 * `errno` is thread-local; synchronous FFI calls run on the JS thread, so
 * reading `*__errno_location()` of that thread right after a failed call gives
 * its error. The nonblocking `poll` runs elsewhere and its errno is lost (we
 * only need to know that it failed).
 *
 * The library is reference-counted ({@linkcode acquireLibc} /
 * {@linkcode releaseLibc}) so that closing the last device unloads it and
 * `Deno.test`'s resource sanitizer stays quiet.
 *
 * @module
 */

/** open(2) flags. */
export const O_RDWR = 0x2;
/** Non-blocking I/O. */
export const O_NONBLOCK = 0x800;
/** Close on exec. */
export const O_CLOEXEC = 0x80000;
/** Read-only. */
export const O_RDONLY = 0x0;
/** fcntl(2) commands. */
export const F_GETFL = 3;
/** Sets the file status flags. */
export const F_SETFL = 4;

/** `_IOW('T', 202, int)`: create or attach a TUN/TAP device. */
export const TUNSETIFF = 0x400454ca;
/** `_IOR('T', 210, unsigned int)`: the device name and flags of an attached fd. */
export const TUNGETIFF = 0x800454d2;
/** TUN device (raw IP). */
export const IFF_TUN = 0x0001;
/** TAP device (Ethernet). */
export const IFF_TAP = 0x0002;
/** No 4-byte packet-information header in front of each frame. */
export const IFF_NO_PI = 0x1000;
/** A `struct virtio_net_hdr` in front of each frame, both directions (offloads). */
export const IFF_VNET_HDR = 0x4000;
/** `_IOW('T', 208, unsigned int)`: TUN_F_* offloads the reader can take (argument by value). */
export const TUNSETOFFLOAD = 0x400454d0;
/** `_IOW('T', 216, int)`: size of the virtio-net header (pointer to int). */
export const TUNSETVNETHDRSZ = 0x400454d8;

/** Interface ioctls (linux/sockios.h). */
export const SIOCGIFFLAGS = 0x8913;
/** Sets interface flags. */
export const SIOCSIFFLAGS = 0x8914;
/** Gets the MTU. */
export const SIOCGIFMTU = 0x8921;
/** Sets the MTU. */
export const SIOCSIFMTU = 0x8922;
/** Gets the hardware address. */
export const SIOCGIFHWADDR = 0x8927;
/** Gets the transmit queue length (`ifr_qlen`, frames). */
export const SIOCGIFTXQLEN = 0x8942;
/** Sets the transmit queue length. */
export const SIOCSIFTXQLEN = 0x8943;
/** Interface is administratively up. */
export const IFF_UP = 0x1;

/** Socket constants. */
export const AF_INET = 2;
/** Datagram socket. */
export const SOCK_DGRAM = 2;
/** Close on exec (socket type flag). */
export const SOCK_CLOEXEC = 0x80000;

/** eventfd(2) flags. */
export const EFD_NONBLOCK = 0x800;
/** Close on exec. */
export const EFD_CLOEXEC = 0x80000;

/** setns(2) namespace type. */
export const CLONE_NEWNET = 0x40000000;

/** poll(2) events. */
export const POLLIN = 0x1;
/** Error condition. */
export const POLLERR = 0x8;
/** Hang up. */
export const POLLHUP = 0x10;
/** Invalid descriptor. */
export const POLLNVAL = 0x20;

/** errno values (asm-generic/errno-base.h). */
export const EPERM = 1;
/** No such file or directory. */
export const ENOENT = 2;
/** Interrupted system call. */
export const EINTR = 4;
/** I/O error. */
export const EIO = 5;
/** Bad file descriptor. */
export const EBADF = 9;
/** Try again (would block). */
export const EAGAIN = 11;
/** Permission denied. */
export const EACCES = 13;
/** Device or resource busy. */
export const EBUSY = 16;
/** No such device. */
export const ENODEV = 19;
/** Invalid argument. */
export const EINVAL = 22;
/** No such device or address. */
export const ENXIO = 6;

/** `struct ifreq` is 40 bytes on 64-bit Linux: a 16-byte name, then a 24-byte union. */
export const IFREQ_SIZE = 40;
/** Longest interface name, without the terminating NUL. */
export const IFNAMSIZ_MAX = 15;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // Closing a TUN fd unregisters the device: ~14 ms of RCU waits in the kernel,
  // too long to block the event loop for.
  closeAsync: { name: "close", parameters: ["i32"], result: "i32", nonblocking: true },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  // TUNSETOFFLOAD takes its argument by value, not through a pointer.
  ioctlValue: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  poll: { parameters: ["buffer", "u32", "i32"], result: "i32", nonblocking: true },
  pollNow: { name: "poll", parameters: ["buffer", "u32", "i32"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The loaded symbols. */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** libc, loaded: its symbols and the JS thread's `errno`. */
export interface Libc {
  /** The symbols. */
  readonly sym: LibcSymbols;
  /** `errno` of the JS thread, as left by the last failed synchronous call. */
  errno(): number;
  /** `strerror(code)`. */
  strerror(code: number): string;
}

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;
let api: Libc | null = null;
let users = 0;

/** The library names tried, in order (glibc, then others such as musl). */
const LIBC_NAMES = ["libc.so.6", "libc.so"];

/**
 * Opens libc with `symbols` under the first of {@linkcode LIBC_NAMES} that
 * loads: for the TUN driver and for anything else of this project that
 * calls libc (`up --cpu`).
 *
 * @param symbols The symbols to bind.
 * @param user Who needs it, for the errors ("the TUN/TAP driver").
 * @param why Why FFI, for the error without `--allow-ffi`.
 * @throws {Deno.errors.NotCapable} Without `--allow-ffi`.
 * @throws {Deno.errors.NotSupported} When no name loads.
 *
 * @example
 * ```ts ignore
 * import { openLibc } from "./_libc.ts";
 * const lib = openLibc({ getpid: { parameters: [], result: "i32" } }, "a test", "getpid");
 * lib.close();
 * ```
 */
export function openLibc<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  user: string,
  why: string,
): Deno.DynamicLibrary<S> {
  let last: unknown;
  for (const name of LIBC_NAMES) {
    try {
      return Deno.dlopen(name, symbols);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) {
        throw new Deno.errors.NotCapable(
          `Cannot load libc for ${user}: run deno with --allow-ffi (${why})`,
          { cause: e },
        );
      }
      last = e;
    }
  }
  throw new Deno.errors.NotSupported(`Cannot load libc (${LIBC_NAMES.join(", ")}) for ${user}`, {
    cause: last,
  });
}

/**
 * Loads libc (once; reference-counted).
 *
 * @throws {Deno.errors.NotSupported} when not on Linux.
 * @throws {Deno.errors.NotCapable} without `--allow-ffi`.
 */
export function acquireLibc(): Libc {
  if (api !== null) {
    users++;
    return api;
  }
  if (Deno.build.os !== "linux") {
    throw new Deno.errors.NotSupported(
      `Cannot open a TUN/TAP device: the driver needs Linux, not ${Deno.build.os}`,
    );
  }
  lib = openLibc(
    SYMBOLS,
    "the TUN/TAP driver",
    "the driver opens /dev/net/tun through FFI",
  );
  const sym = lib.symbols;
  const errnoView = new Deno.UnsafePointerView(sym.__errno_location()!);
  api = {
    sym,
    errno: () => errnoView.getInt32(0),
    strerror(code: number): string {
      const p = sym.strerror(code);
      return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
    },
  };
  users = 1;
  return api;
}

/** Drops one reference; the last one unloads libc. */
export function releaseLibc(): void {
  if (users === 0) return;
  if (--users === 0) {
    lib?.close();
    lib = null;
    api = null;
  }
}

const encoder = new TextEncoder();

/** `s` as a NUL-terminated C string. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * A `struct ifreq` with `name` in `ifr_name`.
 *
 * @throws {TypeError} when the name is empty, too long or contains `/`, NUL or white space.
 */
export function ifreq(name: string): Uint8Array<ArrayBuffer> {
  checkIfname(name);
  const req = new Uint8Array(IFREQ_SIZE);
  req.set(encoder.encode(name));
  return req;
}

/** The name in a `struct ifreq`. */
export function ifreqName(req: Uint8Array): string {
  const end = req.indexOf(0);
  return new TextDecoder().decode(req.subarray(0, end < 0 || end > 16 ? 16 : end));
}

/**
 * Checks an interface name as Linux does (`dev_valid_name`).
 *
 * @throws {TypeError} when it is invalid.
 */
export function checkIfname(name: string): void {
  const len = encoder.encode(name).length;
  if (len === 0 || len > IFNAMSIZ_MAX || name === "." || name === ".." || /[/:\s\0]/.test(name)) {
    throw new TypeError(
      `Invalid interface name "${name}": 1-${IFNAMSIZ_MAX} bytes, no "/", ":" or white space`,
    );
  }
}

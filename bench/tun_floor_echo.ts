/**
 * The Deno floor of an ICMP echo responder over TUN (issue #13): what
 * `tun_floor_echo.c` does (IPv4 and ICMPv6 echo), in a tiny Deno script with synchronous FFI calls
 * on the main thread, so that `bench/tun_floor.ts` separates what Deno and
 * V8 add (an FFI call, a JIT'd function gone cold, the runtime's own
 * threads) from the kernel. No stack, no pool, no event loop turn.
 *
 * `ip netns exec NS deno run -A bench/tun_floor_echo.ts NAME read|poll|spin SECONDS`
 * - `read`: blocking `read()` (`nonblocking: false`: the JS thread sleeps in it);
 * - `poll`: `O_NONBLOCK`, a synchronous `poll()`, then `read()` until EAGAIN;
 * - `spin`: `O_NONBLOCK`, `read()` in a loop that never sleeps.
 * Prints `ready`, then answers for SECONDS (checked after each frame or
 * poll timeout; the event loop never runs meanwhile, so the benchmark
 * kills it with SIGTERM when done).
 *
 * @module
 */

const O_RDWR = 0x2;
const O_NONBLOCK = 0x800;
const O_CLOEXEC = 0x80000;
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const POLLIN = 0x1;

const lib = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  poll: { parameters: ["buffer", "u32", "i32"], result: "i32" },
});
const sym = lib.symbols;

/** RFC 1624 eqn. 3: the checksum `hc` after one 16-bit word changed from `m` to `m2`. */
function checksumUpdate(hc: number, m: number, m2: number): number {
  let sum = (~hc & 0xffff) + (~m & 0xffff) + m2;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An ICMPv6 echo request right after the fixed header into its reply (type 128 → 129). */
function echo6(buf: Uint8Array, n: number): boolean {
  if (n < 48 || buf[6] !== 58 || buf[40] !== 128 || buf[41] !== 0) return false;
  for (let i = 8; i < 24; i++) {
    const t = buf[i]!;
    buf[i] = buf[i + 16]!;
    buf[i + 16] = t;
  }
  buf[40] = 129;
  // Swapping the addresses leaves the pseudo-header's sum as it was.
  const hc = checksumUpdate((buf[42]! << 8) | buf[43]!, 0x8000, 0x8100);
  buf[42] = hc >> 8;
  buf[43] = hc & 0xff;
  return true;
}

/** Turns the echo request in `buf[0..n)` into its reply; false if it is not one. */
function echo(buf: Uint8Array, n: number): boolean {
  if (n >= 40 && buf[0]! >> 4 === 6) return echo6(buf, n);
  if (n < 28 || buf[0]! >> 4 !== 4 || buf[9] !== 1) return false;
  const icmp = (buf[0]! & 15) * 4;
  if (icmp < 20 || icmp + 8 > n || buf[icmp] !== 8 || buf[icmp + 1] !== 0) return false;
  for (let i = 12; i < 16; i++) {
    const t = buf[i]!;
    buf[i] = buf[i + 4]!;
    buf[i + 4] = t;
  }
  buf[icmp] = 0;
  const hc = checksumUpdate((buf[icmp + 2]! << 8) | buf[icmp + 3]!, 0x0800, 0);
  buf[icmp + 2] = hc >> 8;
  buf[icmp + 3] = hc & 0xff;
  return true;
}

function main(): void {
  const [name, mode, seconds] = Deno.args;
  if (name === undefined || (mode !== "read" && mode !== "poll" && mode !== "spin")) {
    throw new TypeError("usage: tun_floor_echo.ts NAME read|poll|spin SECONDS");
  }
  const end = performance.now() + Number(seconds ?? 600) * 1000;
  const path = new TextEncoder().encode("/dev/net/tun\0");
  const fd = sym.open(path, O_RDWR | O_CLOEXEC | (mode === "read" ? 0 : O_NONBLOCK), 0);
  if (fd < 0) throw new Error("cannot open /dev/net/tun");
  const ifr = new Uint8Array(40);
  ifr.set(new TextEncoder().encode(name));
  new DataView(ifr.buffer).setInt16(16, IFF_TUN | IFF_NO_PI, true);
  if (sym.ioctl(fd, BigInt(TUNSETIFF), ifr) < 0) throw new Error("TUNSETIFF failed");
  Deno.stdout.writeSync(new TextEncoder().encode("ready\n"));
  const buf = new Uint8Array(65536);
  const pollfd = new Uint8Array(8);
  const pv = new DataView(pollfd.buffer);
  pv.setInt32(0, fd, true);
  pv.setInt16(4, POLLIN, true);
  const poll = mode === "poll";
  while (performance.now() < end) {
    if (poll && sym.poll(pollfd, 1, 1000) <= 0) continue;
    const n = sym.read(fd, buf, buf.length);
    if (n > 0 && echo(buf, n)) sym.write(fd, buf, n);
  }
}

main();

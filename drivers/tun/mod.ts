/**
 * The TUN/TAP driver: a Linux TUN (raw IP, LINKTYPE_RAW) or TAP (Ethernet,
 * LINKTYPE_ETHERNET) device opened through `Deno.dlopen` on libc, as a
 * `LinkDriver`, and {@linkcode RealTimeRunner}, which drives a stack on the
 * real clock.
 *
 * - {@linkcode openTun} creates or attaches to a device (optionally inside a
 *   network namespace) and sets it non-blocking; `tun.ts` explains the
 *   namespace handling.
 * - Receiving reads synchronously until EAGAIN into pooled buffers, then waits
 *   in one nonblocking `poll()` per batch; `io.ts` explains why.
 * - After each batch the device calls `onBatch`; point it at a runner's
 *   `kick` so timers and deferred work run.
 * - With `wait: "block"`, a quiet device waits with the JS thread itself
 *   asleep in `poll()`: one wake-up per frame after a quiet period instead
 *   of two (idle ping median 350 → 250 µs on a loaded 2-core machine), at
 *   the price of other JavaScript waiting up to `blockMax` ms; set
 *   `tun.waitBudget = runner.msUntilWake`. `block_wait.ts` explains.
 *
 * Needs Linux, `--allow-ffi`, and root or CAP_NET_ADMIN (to create a device
 * or enter a namespace). Errors say which is missing.
 *
 * - With `offload`, frames carry a virtio-net header (`IFF_VNET_HDR`):
 *   checksum offload and TSO both ways, so Linux hands the stack 64 KiB TCP
 *   super-segments and takes super-segments from it; USO both ways (UDP
 *   super-datagrams from Linux are cut by the driver, a socket's
 *   `segmentSize` sends go to Linux whole, `usoMaxSize`); `vnet.ts` explains.
 *
 * **Not supported:** multi-queue devices (`IFF_MULTI_QUEUE`), the
 * packet-information header (we always set `IFF_NO_PI`), persistent devices
 * (`TUNSETPERSIST`), other operating systems.
 *
 * @example
 * ```ts ignore
 * // Needs root and --allow-ffi; the runnable version is tests/interop/tun_test.ts.
 * import { openTun, RealTimeRunner } from "./mod.ts";
 * import { createStack, SystemClock } from "../../mod.ts";
 * const clock = new SystemClock();
 * const stack = createStack({ clock });
 * const tun = openTun({ mode: "tun", netns: "demo" });
 * stack.addInterface({ driver: tun, addresses: ["10.0.0.2/24"] });
 * const runner = new RealTimeRunner(stack, { clock });
 * tun.onBatch = runner.kick;
 * runner.start();
 * // … `ip netns exec demo ping 10.0.0.2` now gets answers …
 * runner.stop();
 * stack.close();
 * await tun.closed;
 * ```
 *
 * @module
 */
export {
  DEFAULT_BATCH,
  DEFAULT_BATCH_BYTES,
  DEFAULT_POLL_TIMEOUT,
  LINUX_TX_QUEUE_LENGTH,
  MAX_TX_QUEUE_LENGTH,
  openTun,
  randomMac,
  TUN_DEVICE_PATH,
  TunDevice,
  txQueueForWindow,
} from "./tun.ts";
export type { TunMode, TunOptions } from "./tun.ts";
export type { IoStats } from "./io.ts";
export {
  DEFAULT_OFFLOAD,
  offloadNames,
  TUN_F_CSUM,
  TUN_F_TSO4,
  TUN_F_TSO6,
  TUN_F_TSO_ECN,
  TUN_F_USO4,
  TUN_F_USO6,
} from "./vnet.ts";
export { RealTimeRunner } from "./runner.ts";
export type { Pollable, RealTimeRunnerOptions } from "./runner.ts";

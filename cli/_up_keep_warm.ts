/**
 * `up --keep-warm`: what a TUN device's blocking sleep runs every few ms so
 * that the first ping after a quiet period is not answered by cold code
 * (issue #13).
 *
 * **Why.** After 50-100 ms away, the in-memory echo through `up`'s stack
 * costs 45-65 µs instead of 1-4 µs (`bench/cold_echo_bench.ts`), asleep or
 * spinning alike: other processes on the core evict our compiled code
 * (~80% of the cost) and data meanwhile. The cost grows with the time away:
 * 2-4 µs up to 5 ms, then 6-40 µs at 10-20 ms, full at 50 ms.
 *
 * **How, without side effects.** A second stack, the *shadow*, with the
 * default protocol plugins and its own pool, behind a sink driver with the
 * device's link type, MTU and offload flags: every tick one ICMP echo
 * request is allocated from the shadow's pool as the device loop allocates
 * a frame, goes through the shadow's dispatch, IPv4 and ICMP, and the reply
 * ends in the sink, which releases it. The code is the real stack's (the
 * same classes and functions); the objects are not, so nothing reaches the
 * device, the real stack's counters, tables or captures, and the loopback
 * driver's determinism is untouched (only `up --driver tun` has it).
 * The device slices its sleep only within `KEEP_WARM_WINDOW` (1 s) of its
 * last frame (`drivers/tun/io.ts`): a device with no traffic sleeps as
 * before.
 *
 * **Measured** (session 16, 2 cores shared with other helpers' work).
 * Idle ping over TUN (`bench/tun_floor.ts 5 up-block,up-cold,base-block,
 * deno-read,c-read --idle 200`, interleaved, 22:48-22:58 UTC, load 7.5-12;
 * median (range) of 5 runs' medians, then p99s, µs):
 * | responder | idle 100 ms | idle p99 | paced 2 ms |
 * |---|---|---|---|
 * | `up`, `--keep-warm 5` (default) | 154 (150-160) | 388 (312-10,000) | 29 (25-44) |
 * | `up`, `--keep-warm 0` | 243 (235-251) | 4,160 (401-9,540) | 26 (22-69) |
 * | 6ff9f4c's `up` | 249 (229-256) | 4,130 (2,800-28,100) | 23 (20-27) |
 * | Deno FFI `read()`, no stack | 114 (111-121) | 3,980 (219-7,360) | 11 |
 * | C, blocking `read()` | 77 (75-78) | 4,000 (290-4,170) | 9 |
 * At that load the p99s are the scheduler's (4 ms ticks, the C responder's
 * too). Slices of 10 ms gave 183 (154-201), of 20 ms 244 (203-257), 5 ms
 * 148 (140-151), no keep-warm 230 (221-237) (5 runs, load 10-30). CPU of
 * `up` over 60 s (`/proc/PID/stat`, 3 rounds, load 8-15): no traffic 300-320
 * ms without, 360-380 with (+0.1% of a core: Linux's own occasional frames
 * open the window); pinged every 100 ms 500-530 ms without, 1,170-1,240
 * with (+1.1% of a core: ~200 wake-ups a second at ~60 µs each, of which a
 * C program's bare timer wake-up is 23 µs on this VM).
 *
 * **The paced p99** (00:37-00:56 UTC, load 0.1-1.9). After 2,000 warm-up
 * pings, three `tun_floor.ts` sets of five had paced pings' p99 worse with
 * the keep-warm (672-1,140 µs against 231-527), though no tick can fire
 * between pings 2 ms apart, and V8 was still compiling then (30-40 TurboFan
 * compilations inside the paced phase); four pairs by hand showed no
 * difference. After 50,000 warm-up pings (V8 done) it is gone: paced p99 233
 * (136-806) µs against 245 (141-368), while idle pings take **85 (72-150)
 * µs** against 175 (145-226), a C responder 91 (58-93): under the 0.1 ms
 * target (5 runs, load 0.5). So it stays on by default.
 *
 * @module
 */
import { createStack, DEFAULT_PLUGINS, type Stack, SystemClock } from "../mod.ts";
import type { DriverPort, LinkDriver } from "../stack/driver.ts";
import type { PacketBuffer } from "../stack/packet.ts";
import { internetChecksum } from "../stack/wire/checksum.ts";
import { UsageError } from "./_common.ts";
import type { UpWait } from "./_up_wait.ts";

/** `--keep-warm` default, ms: the in-memory echo stays warm at 5 ms away. */
export const DEFAULT_KEEP_WARM = 5;

/** Longest `--keep-warm`, ms (past 50 ms the echo is cold anyway). */
const MAX_KEEP_WARM = 1000;

/** The `--keep-warm` lines of `up --help`. */
export const KEEP_WARM_HELP =
  `  --keep-warm MS             tun with --wait block or spin=N: while the device sleeps,
                             up to 1 s after its last frame, wake every MS ms (default
                             ${DEFAULT_KEEP_WARM}; 0 turns it off) and run one echo through a private
                             copy of the stack that nothing sees, so that a ping after
                             a quiet spell finds the code in the caches (costs ~1% of a
                             core while traffic is sparse, nothing when there is none).`;

/**
 * Checks `--keep-warm`: ms between warm-ups (0: none). Default
 * {@linkcode DEFAULT_KEEP_WARM} with `--driver tun` and a blocking wait,
 * else 0.
 *
 * @param value The flag's value, if given.
 * @param driver The `--driver` value.
 * @param wait The checked `--wait` (undefined for drivers without one).
 * @throws {UsageError} If `value` is not a whole number 0..1000, or is given
 * without `--driver tun` and a blocking wait.
 *
 * @example
 * ```ts
 * import { parseKeepWarm } from "./_up_keep_warm.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseKeepWarm(undefined, "tun", "block"), 5);
 * assert.equal(parseKeepWarm("0", "tun", "block"), 0);
 * assert.equal(parseKeepWarm(undefined, "tun", "poll"), 0);
 * assert.throws(() => parseKeepWarm("2.5", "tun", "block"), /--keep-warm must be/);
 * assert.throws(() => parseKeepWarm("5", "tap", "block"), /--keep-warm needs --driver tun/);
 * ```
 */
export function parseKeepWarm(
  value: string | undefined,
  driver: string,
  wait: UpWait | undefined,
): number {
  const ms = value === undefined ? DEFAULT_KEEP_WARM : Number(value);
  if (value !== undefined && (!/^\d+$/.test(value) || ms > MAX_KEEP_WARM)) {
    throw new UsageError(
      `--keep-warm must be a whole number of ms in 0..${MAX_KEEP_WARM}, not "${value}"`,
    );
  }
  const blocking = driver === "tun" && wait !== undefined && wait !== "poll";
  if (blocking) return ms;
  if (value === undefined || ms === 0) return 0;
  throw new UsageError("--keep-warm needs --driver tun with --wait block or spin=N");
}

/** What the device the warmer imitates offers (a `TunDevice`'s properties). */
export interface WarmedLink {
  readonly linkType: number;
  readonly mtu: number;
  readonly tsoMaxSize?: number;
  readonly usoMaxSize?: number;
  readonly partialChecksum?: boolean;
}

// The shadow's addresses: TEST-NET-1 (RFC 5737), seen by no one.
const SHADOW_ADDRESS = "192.0.2.2/24";

/** The sink behind the shadow stack: counts the replies and releases them. */
class SinkDriver implements LinkDriver {
  readonly linkType: number;
  readonly mtu: number;
  readonly tsoMaxSize?: number;
  readonly usoMaxSize?: number;
  readonly partialChecksum?: boolean;
  port: DriverPort | null = null;
  replies = 0;
  constructor(link: WarmedLink) {
    this.linkType = link.linkType;
    this.mtu = link.mtu;
    if (link.tsoMaxSize !== undefined) this.tsoMaxSize = link.tsoMaxSize;
    if (link.usoMaxSize !== undefined) this.usoMaxSize = link.usoMaxSize;
    if (link.partialChecksum !== undefined) this.partialChecksum = link.partialChecksum;
  }
  attach(port: DriverPort): void {
    this.port = port;
  }
  transmit(pkt: PacketBuffer): void {
    this.replies++;
    pkt.release();
  }
  close(): void {
    this.port = null;
  }
}

/** An IPv4 ICMP echo request 192.0.2.1 → 192.0.2.2, 56 data bytes (as ping sends). */
function echoRequest(): Uint8Array {
  const f = new Uint8Array(84);
  f.set([0x45, 0, 0, 84, 0, 1, 0x40, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
  f.set([8, 0, 0, 0, 0x77, 0x61, 0, 1], 20);
  for (let i = 28; i < 84; i++) f[i] = i;
  const view = new DataView(f.buffer);
  view.setUint16(10, internetChecksum(f.subarray(0, 20)));
  view.setUint16(22, internetChecksum(f.subarray(20)));
  return f;
}

/**
 * The keep-warm of `up --driver tun`: {@linkcode warm} echoes one ping
 * through a shadow stack (see the module's comment).
 *
 * @example
 * ```ts
 * import { EchoWarmer } from "./_up_keep_warm.ts";
 * import assert from "node:assert/strict";
 * const warmer = new EchoWarmer({ linkType: 101, mtu: 1500 }, 1514);
 * warmer.warm();
 * assert.equal(warmer.replies, 1);
 * warmer.close();
 * ```
 */
export class EchoWarmer {
  readonly #stack: Stack;
  readonly #sink: SinkDriver;
  readonly #frame = echoRequest();
  readonly #frameMax: number;

  /**
   * @param link The device imitated: link type (raw IP), MTU, offload flags.
   * @param frameMax The size the device loop allocates its buffers with.
   */
  constructor(link: WarmedLink, frameMax: number) {
    this.#frameMax = frameMax;
    this.#sink = new SinkDriver(link);
    this.#stack = createStack({
      plugins: DEFAULT_PLUGINS,
      clock: new SystemClock(),
      seed: 0x77a2,
      name: "keep-warm",
    });
    this.#stack.addInterface({ driver: this.#sink, name: "warm0", addresses: [SHADOW_ADDRESS] });
  }

  /** Echo replies the shadow has sent (one per {@linkcode warm} when all is well). */
  get replies(): number {
    return this.#sink.replies;
  }

  /** Buffers of the shadow's pool not given back (0 between warm-ups). */
  get outstanding(): number {
    return this.#sink.port?.pool.outstanding ?? 0;
  }

  /** One echo through the shadow stack, as the device loop hands a frame over. */
  readonly warm = (): void => {
    const port = this.#sink.port;
    if (port === null) return;
    const frame = this.#frame;
    port.beginBatch?.();
    try {
      const pkt = port.pool.alloc(this.#frameMax);
      pkt.buf.set(frame, pkt.start);
      pkt.end = pkt.start + frame.length;
      port.receive(pkt);
    } finally {
      port.endBatch?.();
    }
  };

  /** Closes the shadow stack. */
  close(): void {
    this.#stack.close();
  }
}

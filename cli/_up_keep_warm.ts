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
 * **How, without side effects.** A second stack, the *shadow*, with its
 * own pool, behind a sink driver with the device's link type (raw IP only),
 * MTU and offload flags: every tick one ICMP echo request 192.0.2.1 →
 * 192.0.2.2 and one ICMPv6 echo request 2001:db8::1 → 2001:db8::2
 * (documentation prefixes, RFC 5737 and RFC 3849) are allocated from the
 * shadow's pool as the device loop allocates a frame, go through the
 * shadow's dispatch, IPv4 and ICMP or IPv6 and ICMPv6, and the replies end
 * in the sink, which releases them. The code is the real stack's (the same
 * classes and functions); the objects are not, so nothing reaches the
 * device, the real stack's counters, tables, captures or trace, and the
 * loopback driver's determinism is untouched (only `up --driver tun` has
 * it). Nothing polls the shadow, so none of its timers fires (no MLD
 * report, DAD probe or router solicitation), and on a raw IP link no reply
 * waits for a neighbour: each tick sends its two echo replies and nothing
 * else. The device slices its sleep only within `KEEP_WARM_WINDOW` (1 s) of
 * its last frame (`drivers/tun/io_wait.ts`): a device with no traffic sleeps as
 * before.
 *
 * **Which plugins.** The shadow boots the real stack's plugin list (a
 * `--manifest`'s, `--plugin`'s), less every plugin of layer `service` and
 * whatever needed one ({@linkcode shadowPlugins}): the protocol layers
 * (link, network, transport, middlebox) are what an echo runs through, and
 * a user's firewall hook there is code the first ping meets too; a service
 * (`--serve`'s servers, `--log-level debug`'s logger, a user's service
 * plugin) may write files or talk to the host, and runs on no echo path.
 * A protocol plugin's own setup runs twice (once per stack), so one that
 * keeps state outside its context (a module-level variable, a file) sees
 * the shadow's echoes too: the layer is the manifest's promise.
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
 * **IPv6** (session 17, `tun_floor.ts 5 up-block,alt-block,base-block,
 * up-cold --family 4,6 --warmup 10000`, interleaved, two sets 01:32-01:37
 * and 01:54-01:59 UTC, load 7.7-11 and 15.8-16.6; median (range) of 5
 * runs' medians of 50 idle pings, µs): an IPv4-only shadow left `ping -6`
 * half cold, 190 (187-224) / 215 (206-221) against 259 (238-278) / 280
 * (273-296) with no keep-warm; an IPv6 echo each tick too brings it to
 * **150 (141-165) / 177 (162-181)**, IPv4 unchanged (125 (119-138) / 147
 * (138-151) against 135 (116-151) / 150 (142-157)). One echo a tick,
 * alternating versions (each warmed every 10 ms), did as well (IPv6 157 /
 * 171, IPv4 135 / 146) for no less CPU: pinged every 100 ms, 60 s of
 * `/proc/PID/stat`, 2 rounds at load 7-21: both each tick 1,270 / 1,380
 * ms, alternating 1,180 / 1,290, IPv4 only 1,030 / 1,240, none 340 / 430;
 * no traffic 270-330 ms for all. The wake-ups cost, not the echoes, so
 * each tick echoes both.
 *
 * @module
 */
import { createStack, DEFAULT_PLUGINS, type Stack, SystemClock } from "../mod.ts";
import { type DriverPort, type LinkDriver, LINKTYPE_RAW } from "../stack/driver.ts";
import { requirementsOf } from "../stack/manifest.ts";
import type { PacketBuffer } from "../stack/packet.ts";
import {
  finishChecksum,
  internetChecksum,
  pseudoHeaderSumV6,
  sumBytes,
} from "../stack/wire/checksum.ts";
import { type PluginLike, pluginOf, UsageError } from "./_common.ts";
import type { UpWait } from "./_up_wait.ts";

/** `--keep-warm` default, ms: the in-memory echo stays warm at 5 ms away. */
export const DEFAULT_KEEP_WARM = 5;

/** Longest `--keep-warm`, ms (past 50 ms the echo is cold anyway). */
const MAX_KEEP_WARM = 1000;

/** The `--keep-warm` lines of `up --help`. */
export const KEEP_WARM_HELP =
  `  --keep-warm MS             tun with --wait block or spin=N: while the device sleeps,
                             up to 1 s after its last frame, wake every MS ms (default
                             ${DEFAULT_KEEP_WARM}; 0 turns it off) and run one IPv4 and one IPv6 echo
                             through a private copy of the stack that nothing sees (its
                             protocol plugins, a --manifest's too, never its services),
                             so that a ping after a quiet spell finds the code in the
                             caches (costs 1-2% of a core while traffic is sparse,
                             nothing when there is none).`;

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

// The shadow's addresses, in documentation prefixes seen by no one: TEST-NET-1
// (RFC 5737) and 2001:db8::/32 (RFC 3849). The echoes come from ::1 / .1.
const SHADOW_V4 = "192.0.2.2/24";
const SHADOW_V6 = "2001:db8::2/64";

/**
 * The sink behind the shadow stack: counts the echo replies and anything
 * else (`stray`: a solicitation, a report), and releases them.
 */
class SinkDriver implements LinkDriver {
  readonly linkType: number;
  readonly mtu: number;
  readonly tsoMaxSize?: number;
  readonly usoMaxSize?: number;
  readonly partialChecksum?: boolean;
  port: DriverPort | null = null;
  replies = 0;
  stray = 0;
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
    if (isEchoReply(pkt.buf, pkt.start, pkt.end)) this.replies++;
    else this.stray++;
    pkt.release();
  }
  close(): void {
    this.port = null;
  }
}

/** Whether `b[start..end)` is a raw IP ICMP echo reply (IPv4 type 0, IPv6 type 129). */
function isEchoReply(b: Uint8Array, start: number, end: number): boolean {
  const version = b[start]! >> 4;
  if (version === 4) {
    const ihl = (b[start]! & 15) * 4;
    return end - start > ihl && b[start + 9] === 1 && b[start + ihl] === 0;
  }
  return version === 6 && end - start > 40 && b[start + 6] === 58 && b[start + 40] === 129;
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

/** An ICMPv6 echo request 2001:db8::1 → 2001:db8::2, 56 data bytes (as ping -6 sends). */
function echoRequest6(): Uint8Array {
  const f = new Uint8Array(104);
  f.set([0x60, 0, 0, 0, 0, 64, 58, 64, 0x20, 0x01, 0x0d, 0xb8]);
  f[23] = 1;
  f.set([0x20, 0x01, 0x0d, 0xb8], 24);
  f[39] = 2;
  f.set([128, 0, 0, 0, 0x77, 0x61, 0, 1], 40);
  for (let i = 48; i < 104; i++) f[i] = i;
  const pseudo = pseudoHeaderSumV6(f.subarray(8, 24), f.subarray(24, 40), 58, 64);
  new DataView(f.buffer).setUint16(42, finishChecksum(sumBytes(f.subarray(40), pseudo)));
  return f;
}

/**
 * The shadow's plugins out of the real stack's `list`: every protocol
 * plugin (layers link, network, transport, middlebox: a user's firewall hook
 * on the echo path is warmed too), never a `service`-layer one (`--serve`'s
 * servers, `--log-level debug`'s logger, a user's service plugin: they may
 * write files or talk to the host). A plugin left needing what was taken
 * out (a dependency, a required service) is left out too.
 *
 * @param list The real stack's plugin list.
 * @returns The shadow's, in the same order.
 *
 * @example
 * ```ts
 * import { shadowPlugins } from "./_up_keep_warm.ts";
 * import { DEFAULT_PLUGINS } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const names = shadowPlugins(DEFAULT_PLUGINS).map((p) => ("plugin" in p ? p.plugin : p).manifest.name);
 * assert.ok(names.includes("icmp") && names.includes("icmpv6"));
 * assert.ok(!names.includes("slaac")); // a service: it would solicit routers
 * ```
 */
export function shadowPlugins(list: readonly PluginLike[]): PluginLike[] {
  const manifest = (p: PluginLike) => pluginOf(p).manifest;
  let kept = list.filter((p) => manifest(p).layer !== "service");
  for (let changed = true; changed;) {
    const names = new Set(kept.map((p) => manifest(p).name));
    const provided = new Set(kept.flatMap((p) => manifest(p).provides ?? []));
    const next = kept.filter((p) => {
      const m = manifest(p);
      return (m.dependencies ?? []).every((d) => names.has(d)) &&
        requirementsOf(m).every((r) => r.optional || provided.has(r.service));
    });
    changed = next.length !== kept.length;
    kept = next;
  }
  return kept;
}

/**
 * The keep-warm of `up --driver tun`: {@linkcode warm} echoes one ping of
 * each IP version the plugins speak through a shadow stack (see the
 * module's comment).
 *
 * @example
 * ```ts
 * import { EchoWarmer } from "./_up_keep_warm.ts";
 * import assert from "node:assert/strict";
 * const warmer = new EchoWarmer({ linkType: 101, mtu: 1500 }, 1514);
 * warmer.warm();
 * assert.equal(warmer.replies, 2); // IPv4 and IPv6
 * assert.equal(warmer.stray, 0);
 * warmer.close();
 * ```
 */
export class EchoWarmer {
  readonly #stack: Stack;
  readonly #sink: SinkDriver;
  readonly #frames: Uint8Array[] = [];
  readonly #frameMax: number;

  /**
   * @param link The device imitated: link type (raw IP), MTU, offload flags.
   * @param frameMax The size the device loop allocates its buffers with.
   * @param plugins The real stack's plugin list (default: the defaults);
   * the shadow takes its {@linkcode shadowPlugins}.
   * @throws {TypeError} If the link is not raw IP (a TUN device's): on
   * another, each echo reply would need neighbour resolution first.
   */
  constructor(
    link: WarmedLink,
    frameMax: number,
    plugins: readonly PluginLike[] = DEFAULT_PLUGINS,
  ) {
    if (link.linkType !== LINKTYPE_RAW) {
      throw new TypeError(`keep-warm needs a raw IP link (${LINKTYPE_RAW}), not ${link.linkType}`);
    }
    this.#frameMax = frameMax;
    this.#sink = new SinkDriver(link);
    this.#stack = createStack({
      plugins: shadowPlugins(plugins),
      clock: new SystemClock(),
      seed: 0x77a2,
      name: "keep-warm",
    });
    // Each version the plugins route. Nothing polls the shadow, so no timer
    // of it ever fires: no MLD report, no DAD or router solicitation; and a
    // raw IP link resolves no neighbours: each tick is its echoes only.
    const addresses: string[] = [];
    if (this.#stack.service("ipv4.routes") !== undefined) {
      addresses.push(SHADOW_V4);
      this.#frames.push(echoRequest());
    }
    if (this.#stack.service("ipv6.routes") !== undefined) {
      addresses.push(SHADOW_V6);
      this.#frames.push(echoRequest6());
    }
    this.#stack.addInterface({ driver: this.#sink, name: "warm0", addresses });
  }

  /** Echo replies the shadow has sent (one per version per {@linkcode warm} when all is well). */
  get replies(): number {
    return this.#sink.replies;
  }

  /** Frames the shadow sent that are not echo replies (0 when all is well). */
  get stray(): number {
    return this.#sink.stray;
  }

  /** The shadow's nonzero counters by full name (`Counters.snapshot`), for tests. */
  counters(): Record<string, number> {
    return this.#stack.counters.snapshot();
  }

  /** Buffers of the shadow's pool not given back (0 between warm-ups). */
  get outstanding(): number {
    return this.#sink.port?.pool.outstanding ?? 0;
  }

  /** One echo per version through the shadow stack, as the device loop hands frames over. */
  readonly warm = (): void => {
    const port = this.#sink.port;
    if (port === null) return;
    port.beginBatch?.();
    try {
      for (const frame of this.#frames) {
        const pkt = port.pool.alloc(this.#frameMax);
        pkt.buf.set(frame, pkt.start);
        pkt.end = pkt.start + frame.length;
        port.receive(pkt);
      }
    } finally {
      port.endBatch?.();
    }
  };

  /** Closes the shadow stack. */
  close(): void {
    this.#stack.close();
  }
}

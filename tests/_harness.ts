/**
 * The integration-test harness: stacks on the loopback {@linkcode VirtualNetwork}
 * (a `ManualClock`, fixed seeds), pcap capture through `CaptureTap`, frame
 * builders, and gVisor-style composable frame checkers.
 *
 * - {@linkcode makeLan}: N hosts `10.0.0.1..N/24` on one learning switch.
 * - {@linkcode makeLink}: two hosts on one point-to-point link.
 * - {@linkcode makeHost}: one stack whose peer is the test: {@linkcode Host.inject}
 *   real frames, read what the stack sent back.
 * - {@linkcode Capture}: a pcap writer plus taps for any driver.
 * - Builders ({@linkcode ethernetFrame}, {@linkcode arpPacket},
 *   {@linkcode ipv4Packet}, {@linkcode icmpEcho}) compute their own
 *   checksums, independent of the stack's code.
 * - Checkers ({@linkcode checkEthernet}, {@linkcode checkArp},
 *   {@linkcode checkIpv4}, {@linkcode checkIcmp}) nest like gVisor's
 *   `checker.IPv4(t, b, checker.ICMPv4(...))`: each validates its header
 *   (lengths, checksums), then runs the inner checkers on its payload.
 *
 * Every environment has `close()` (idempotent: stacks, then the network) and
 * `finish()` (close, then assert that no packet buffer leaked).
 * {@linkcode withEnv} runs a test body and always closes.
 *
 * @example
 * ```ts
 * import { checkEthernet, checkIcmp, checkIpv4, makeLink, withEnv } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * await withEnv(makeLink({ seed: 1, capture: true }), async (env) => {
 *   const reply = await env.run(() => env.a.ping("10.0.0.2"));
 *   assert.equal(reply.from, "10.0.0.2");
 *   const echo = env.capture!.frames().filter((f) =>
 *     checkEthernet({ etherType: 0x0800 }, checkIpv4({ src: "10.0.0.2" }, checkIcmp({ type: 0 })))
 *       .matches(f)
 *   );
 *   assert.equal(echo.length, 1);
 * });
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, DEFAULT_PLUGINS, type Stack } from "../mod.ts";
import type { PingOptions, PingReply } from "../stack/services.ts";
import type { PluginEntry } from "../stack/boot.ts";
import type { Duration, Instant } from "../stack/clock.ts";
import type { LinkDriver } from "../stack/driver.ts";
import {
  CONSUMED,
  type PluginContext,
  type ProtocolHandlers,
  type ProtocolManifest,
  type ProtocolPlugin,
} from "../stack/manifest.ts";
import type { NetInterface } from "../stack/netif.ts";
import type { PacketBuffer, PacketPool } from "../stack/packet.ts";
export { PacketFlags } from "../stack/packet.ts";
import {
  formatIpKey,
  formatIpv4Address,
  formatMac,
  parseIpv4Address,
  parseMac,
} from "../stack/wire/address.ts";
import { VirtualNetwork } from "../drivers/loopback/network.ts";
import type { RunOptions } from "../drivers/loopback/network.ts";
import type { Link, LinkEnd } from "../drivers/loopback/link.ts";
import type { Switch } from "../drivers/loopback/switch.ts";
import type { Faults } from "../drivers/loopback/faults.ts";
import { CaptureTap, parseCapture, PcapngWriter, PcapWriter } from "../drivers/pcapfile/mod.ts";
import type { CaptureRecord } from "../drivers/pcapfile/mod.ts";
import { FIXTURE_PCAPS, fixtureCaptures, pcapPath } from "./_fixtures.ts";
export { FIXTURE_PCAPS, pcapPath } from "./_fixtures.ts";

// ---- small conversions -------------------------------------------------------

/**
 * Milliseconds of virtual time, in µs.
 *
 * @example
 * ```ts
 * import { ms } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ms(2.5), 2500);
 * ```
 */
export function ms(n: number): Duration {
  return Math.round(n * 1000);
}

/**
 * An IPv4 address from text, as an unsigned 32-bit number.
 *
 * @throws {TypeError} On a malformed address.
 * @example
 * ```ts
 * import { ip } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ip("10.0.0.1"), 0x0a000001);
 * ```
 */
export function ip(s: string): number {
  const a = parseIpv4Address(s);
  if (a === null) throw new TypeError(`Cannot parse IPv4 address "${s}"`);
  return a;
}

/**
 * A MAC address from text (or passed through when already bytes).
 *
 * @throws {TypeError} On a malformed address.
 * @example
 * ```ts
 * import { mac } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(mac("02:00:00:00:00:01"), new Uint8Array([2, 0, 0, 0, 0, 1]));
 * ```
 */
export function mac(s: string | Uint8Array): Uint8Array {
  if (typeof s !== "string") return s;
  const m = parseMac(s);
  if (m === null) throw new TypeError(`Cannot parse MAC address "${s}"`);
  return m;
}

/**
 * The harness's MAC for host number `n` (1-based): `02:00:00:00:HH:LL`.
 *
 * @example
 * ```ts
 * import { hostMac } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hostMac(3), "02:00:00:00:00:03");
 * ```
 */
export function hostMac(n: number): string {
  return formatMac(new Uint8Array([2, 0, 0, 0, (n >> 8) & 0xff, n & 0xff]));
}

/**
 * Lowercase hex of `bytes`, for readable assertion messages.
 *
 * @example
 * ```ts
 * import { hex } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hex(new Uint8Array([1, 0xab])), "01ab");
 * ```
 */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * The Internet checksum (RFC 1071) of `bytes`, written here rather than taken
 * from `stack/wire/checksum.ts` so that tests do not check the stack with its
 * own code. Returns the value to store (0 when `bytes` already sums to 0xffff).
 *
 * @example
 * ```ts
 * import { checksum } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * // RFC 1071's example words 0001 f203 f4f5 f6f7 sum to ddf2.
 * assert.equal(checksum(new Uint8Array([0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7])), 0x220d);
 * ```
 */
export function checksum(bytes: Uint8Array): number {
  return ~onesSum(bytes) & 0xffff;
}

/**
 * The one's-complement sum of `bytes` (odd length padded with a zero byte)
 * added to `initial`, folded to 16 bits, not complemented: the part of
 * {@linkcode checksum} a pseudo-header sum can be added to.
 *
 * @example
 * ```ts
 * import { onesSum } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(onesSum(new Uint8Array([0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7])), 0xddf2);
 * assert.equal(onesSum(new Uint8Array([0xff, 0xff]), 1), 1);
 * ```
 */
export function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

// ---- plugins -------------------------------------------------------------------

/** Option overrides per built-in plugin name: `{ arp: { retries: 5 } }`. */
export type PluginOptions = Readonly<
  Record<string, Readonly<Record<string, number | string | boolean>>>
>;

/**
 * The default plugin list with `options` applied, plus `extra` plugins.
 *
 * @throws {TypeError} When `options` names a plugin that is not loaded.
 * @example
 * ```ts
 * import { pluginsWith } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const entries = pluginsWith({ icmp: { echoIgnoreBroadcasts: false } });
 * assert.deepEqual(entries.find((e) => e.plugin.manifest.name === "icmp")?.options, {
 *   echoIgnoreBroadcasts: false,
 * });
 * ```
 */
export function pluginsWith(
  options: PluginOptions = {},
  extra: readonly ProtocolPlugin[] = [],
): PluginEntry[] {
  const all = [...DEFAULT_PLUGINS, ...extra];
  for (const name of Object.keys(options)) {
    if (!all.some((p) => p.manifest.name === name)) {
      throw new TypeError(`Cannot set options of plugin "${name}": it is not loaded`);
    }
  }
  return all.map((plugin) => {
    const o = options[plugin.manifest.name];
    return o === undefined ? { plugin } : { plugin, options: o };
  });
}

/** What {@linkcode testPlugin} takes: a name and any manifest fields. */
export type TestManifest = Partial<ProtocolManifest> & { readonly name: string };

/**
 * A plugin with a valid default manifest (version 1.0.0, api ^1.0.0, layer
 * "service", no bindings, no counters, description `test plugin <name>`)
 * overridden by `manifest`; `setup` defaults to one whose `receive`
 * consumes everything.
 *
 * @example
 * ```ts
 * import { testPlugin } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const p = testPlugin({ name: "x", layer: "transport" });
 * assert.equal(p.manifest.description, "test plugin x");
 * assert.equal(p.manifest.layer, "transport");
 * assert.equal(p.manifest.api, "^1.0.0");
 * ```
 */
export function testPlugin(
  manifest: TestManifest,
  setup: (ctx: PluginContext) => ProtocolHandlers = () => ({ receive: () => CONSUMED }),
): ProtocolPlugin {
  return {
    manifest: {
      version: "1.0.0",
      api: "^1.0.0",
      description: `test plugin ${manifest.name}`,
      layer: "service",
      binds: [],
      counters: [],
      ...manifest,
    },
    setup,
  };
}

// ---- capture ---------------------------------------------------------------------

/** Capture timestamps are stack time plus this (2023-11-14T22:13:20Z), so files look real. */
export const CAPTURE_EPOCH = 1_700_000_000_000_000;

/** Options of {@linkcode Capture}. */
export interface CaptureOptions {
  /**
   * `pcap` (default): one link type, no directions. `pcapng`: one interface
   * per tap (named after it), and each frame's direction (`epb_flags`).
   */
  readonly format?: "pcap" | "pcapng";
  /** LINKTYPE_* of every tapped driver, for `pcap` (default 1, Ethernet). */
  readonly linkType?: number;
  /** µs added to stack time for timestamps (default {@linkcode CAPTURE_EPOCH}). */
  readonly epochOffset?: number;
}

/** Which directions a tap records (default both). */
export interface TapOptions {
  /** Record frames the driver delivers to the stack. */
  readonly receive?: boolean;
  /** Record frames the stack transmits. */
  readonly transmit?: boolean;
  /** pcapng interface name (default `tapN`). */
  readonly name?: string;
}

/**
 * An in-memory capture fed by {@linkcode CaptureTap}s; one file, frames in
 * the order they were recorded.
 *
 * @example
 * ```ts
 * import { Capture } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const cap = new Capture();
 * cap.writer.write({ timestamp: 0, data: new Uint8Array(60) });
 * assert.equal(cap.frames().length, 1);
 * assert.equal(cap.bytes().length, 24 + 16 + 60);
 * ```
 */
export class Capture {
  /** The writer; its bytes are the file. */
  readonly writer: PcapWriter | PcapngWriter;
  readonly #offset: number;
  readonly #taps: CaptureTap[] = [];

  /** An empty capture. */
  constructor(options: CaptureOptions = {}) {
    this.writer = options.format === "pcapng"
      ? new PcapngWriter()
      : new PcapWriter({ linkType: options.linkType ?? 1 });
    this.#offset = options.epochOffset ?? CAPTURE_EPOCH;
  }

  /** Wraps `driver` so that what it carries is recorded here (pcapng: as a new interface). */
  tap(driver: LinkDriver, options: TapOptions = {}): CaptureTap {
    const w = this.writer;
    const interfaceId = w instanceof PcapngWriter
      ? w.addInterface({
        linkType: driver.linkType,
        name: options.name ?? `tap${this.#taps.length}`,
      })
      : 0;
    const t = new CaptureTap(driver, {
      writer: w,
      epochOffset: this.#offset,
      interfaceId,
      receive: options.receive ?? true,
      transmit: options.transmit ?? true,
    });
    this.#taps.push(t);
    return t;
  }

  /** Frames recorded. */
  get count(): number {
    return this.writer.count;
  }

  /** The pcap file. */
  bytes(): Uint8Array {
    return this.writer.bytes();
  }

  /** The records, parsed back from the file. */
  records(): CaptureRecord[] {
    const r = parseCapture(this.bytes());
    if (r.error !== null) throw r.error;
    return r.records;
  }

  /** The frames' bytes, in order. */
  frames(): Uint8Array[] {
    return this.records().map((r) => r.data);
  }

  /** Writes the file to `path`. */
  writeFile(path: string | URL): void {
    Deno.writeFileSync(path, this.bytes());
  }
}

// ---- environments -------------------------------------------------------------------

/** What every environment offers. */
export interface Env {
  /** The virtual network. */
  readonly net: VirtualNetwork;
  /** The stacks, in creation order. */
  readonly hosts: readonly Stack[];
  /** The capture, when asked for. */
  readonly capture: Capture | null;
  /** `net.run(fn, options)`: async code on virtual time. */
  run<T>(fn: () => Promise<T>, options?: RunOptions): Promise<T>;
  /** `net.runFor(duration)`. */
  runFor(duration: Duration): void;
  /** Closes every stack, then the network (idempotent). */
  close(): void;
  /** Closes, then asserts that no pool has a buffer outstanding. */
  finish(): void;
}

/**
 * What the environments below are built on (and other helpers' environments
 * too): the network, its stacks, the capture, and `close`/`finish` with the
 * packet-buffer leak check over the network's pool and every stack's.
 *
 * @example
 * ```ts
 * import { EnvBase } from "./_harness.ts";
 * import { VirtualNetwork } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const env = new EnvBase(new VirtualNetwork({ seed: 1 }), null);
 * const s = env.newStack("h1");
 * assert.deepEqual(env.hosts, [s]);
 * env.finish();
 * ```
 */
export class EnvBase implements Env {
  /** The virtual network. */
  readonly net: VirtualNetwork;
  /** The stacks, in creation order. */
  readonly hosts: Stack[] = [];
  /** The capture, if any. */
  readonly capture: Capture | null;
  readonly #pools: PacketPool[] = [];
  #closed = false;

  /** An environment on `net` with no stacks yet. */
  constructor(net: VirtualNetwork, capture: Capture | null) {
    this.net = net;
    this.capture = capture;
    this.#pools.push(net.pool);
  }

  /** Adds `stack` to the network and to the environment (closed and leak-checked with it). */
  addStack(stack: Stack): Stack {
    this.hosts.push(stack);
    this.#pools.push(stack.pool);
    this.net.addNode(stack);
    return stack;
  }

  /**
   * Creates a stack on the network's clock with an RNG forked from the
   * network's, named `name`, with `plugins` (default the built-in list), and
   * adds it ({@linkcode addStack}).
   */
  newStack(name: string, plugins?: readonly PluginEntry[]): Stack {
    return this.addStack(
      createStack({
        clock: this.net.clock,
        rng: this.net.rng.fork(),
        name,
        // Dev mode: a drop reason a plugin's manifest does not declare throws.
        strictCounters: true,
        ...(plugins !== undefined ? { plugins } : {}),
      }),
    );
  }

  /** `net.run(fn, options)`. */
  run<T>(fn: () => Promise<T>, options?: RunOptions): Promise<T> {
    return this.net.run(fn, options);
  }

  /** `net.runFor(duration)`. */
  runFor(duration: Duration): void {
    this.net.runFor(duration);
  }

  /** Closes every stack, then the network (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.hosts) s.close();
    this.net.close();
  }

  /** Closes, then asserts that no pool has a buffer outstanding. */
  finish(): void {
    this.close();
    const leaks = this.#pools.map((p, i) =>
      p.outstanding === 0
        ? ""
        : `${i === 0 ? "network" : this.hosts[i - 1]!.name}: ${p.outstanding}`
    ).filter((s) => s !== "");
    assert.deepEqual(leaks, [], `packet buffers leaked: ${leaks.join(", ")}`);
  }
}

/**
 * Runs `body` with `env`; on success calls `env.finish()` (close and leak
 * check), on failure only `env.close()` so the original error shows.
 *
 * @example
 * ```ts
 * import { makeLan, withEnv } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * await withEnv(makeLan({ hosts: 2 }), async (lan) => {
 *   assert.equal((await lan.run(() => lan.hosts[0]!.ping("10.0.0.2"))).from, "10.0.0.2");
 * });
 * ```
 */
export async function withEnv<E extends Env>(
  env: E,
  body: (env: E) => void | Promise<void>,
): Promise<void> {
  try {
    await body(env);
  } catch (e) {
    env.close();
    throw e;
  }
  env.finish();
}

/** Options of {@linkcode makeLan}. */
export interface LanOptions {
  /** Number of hosts (host i, 1-based, is `<subnet>.i`, MAC {@linkcode hostMac}(i)). */
  readonly hosts: number;
  /** Seed of the network; stacks fork their RNGs from it (default 1). */
  readonly seed?: number;
  /** Faults of every switch-port cable, both directions (a frame crosses two cables). */
  readonly faults?: Faults;
  /** Faults of host i's cable (0-based), overriding `faults`. */
  readonly portFaults?: (index: number) => Faults | undefined;
  /** First three octets (default "10.0.0"). */
  readonly subnet?: string;
  /** Prefix length (default 24). */
  readonly prefixLength?: number;
  /** Per-plugin options for every host. */
  readonly plugins?: PluginOptions;
  /**
   * Record a pcap: `true` taps every host's transmit side (each frame once,
   * as sent); or name the 0-based hosts to tap and the directions.
   */
  readonly capture?:
    | boolean
    | ({ readonly hosts?: readonly number[]; readonly format?: "pcap" | "pcapng" } & TapOptions);
}

/** What {@linkcode makeLan} returns. */
export interface Lan extends Env {
  /** The switch. */
  readonly sw: Switch;
  /** Host i's end of its switch cable (`ports[i].link.partition()` cuts it off). */
  readonly ports: readonly LinkEnd[];
  /** Host i's address, e.g. "10.0.0.1". */
  readonly addresses: readonly string[];
  /** Host i's MAC, e.g. "02:00:00:00:00:01". */
  readonly macs: readonly string[];
}

/**
 * N hosts on one learning switch, `10.0.0.N/24`, each polled by the network.
 *
 * @throws {RangeError} For fewer than 1 or more than 254 hosts.
 * @example
 * ```ts
 * import { makeLan } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const lan = makeLan({ hosts: 3, seed: 7 });
 * const r = await lan.run(() => lan.hosts[2]!.ping(lan.addresses[0]!));
 * assert.equal(r.from, "10.0.0.1");
 * lan.finish();
 * ```
 */
export function makeLan(options: LanOptions): Lan {
  const n = options.hosts;
  if (!(Number.isInteger(n) && n >= 1 && n <= 254)) {
    throw new RangeError(`Cannot make a LAN of ${n} hosts: 1..254`);
  }
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const spec = typeof options.capture === "object" ? options.capture : {};
  const capture = options.capture ? new Capture({ format: spec.format ?? "pcap" }) : null;
  const tapped = new Set(spec.hosts ?? [...Array(n).keys()]);
  const tapOptions: TapOptions = typeof options.capture === "object"
    ? { receive: spec.receive ?? true, transmit: spec.transmit ?? true }
    : { receive: false, transmit: true };
  const base = new EnvBase(net, capture);
  const sw = net.switch();
  const ports: LinkEnd[] = [];
  const addresses: string[] = [];
  const macs: string[] = [];
  const subnet = options.subnet ?? "10.0.0";
  const plen = options.prefixLength ?? 24;
  const plugins = pluginsWith(options.plugins);
  for (let i = 0; i < n; i++) {
    const faults = options.portFaults?.(i) ?? options.faults;
    const m = hostMac(i + 1);
    const end = sw.port({ mac: mac(m), ...(faults ? { faults } : {}) });
    const stack = base.newStack(`h${i + 1}`, plugins);
    const driver = capture && tapped.has(i)
      ? capture.tap(end, { ...tapOptions, name: `h${i + 1}` })
      : end;
    const address = `${subnet}.${i + 1}`;
    stack.addInterface({ driver, addresses: [`${address}/${plen}`] });
    ports.push(end);
    addresses.push(address);
    macs.push(m);
  }
  return Object.assign(base, { sw, ports, addresses, macs });
}

/** The start of {@linkcode makeLink} and {@linkcode makeHost}: network, link type, capture. */
function linkEnv(
  options: {
    readonly seed?: number;
    readonly linkType?: number;
    readonly capture?: boolean | "pcapng";
  },
): { net: VirtualNetwork; linkType: number; capture: Capture | null; base: EnvBase } {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const linkType = options.linkType ?? 1;
  const capture = options.capture
    ? new Capture({ linkType, format: options.capture === "pcapng" ? "pcapng" : "pcap" })
    : null;
  return { net, linkType, capture, base: new EnvBase(net, capture) };
}

/** Options of {@linkcode makeLink}. */
export interface LinkPairOptions {
  /** Seed of the network (default 1). */
  readonly seed?: number;
  /** Faults of both directions. */
  readonly faults?: Faults;
  /** Faults of one direction (`a->b`: from host a). */
  readonly directions?: { readonly "a->b"?: Faults; readonly "b->a"?: Faults };
  /** Addresses of a and b (default `10.0.0.1/24`, `10.0.0.2/24`). */
  readonly addresses?: readonly [readonly string[], readonly string[]];
  /** LINKTYPE_* (default 1, Ethernet; 101 for raw IP). */
  readonly linkType?: number;
  /** MTU (default 1500). */
  readonly mtu?: number;
  /** Per-plugin options of both hosts. */
  readonly plugins?: PluginOptions;
  /** Plugins both hosts load after the defaults (each host sets them up anew). */
  readonly extraPlugins?: readonly ProtocolPlugin[];
  /** Record host a's interface, both directions (`"pcapng"`: with directions). */
  readonly capture?: boolean | "pcapng";
}

/** What {@linkcode makeLink} returns. */
export interface LinkPair extends Env {
  /** The link (`link.partition()`, `link.setFaults()`, `link.stats()`). */
  readonly link: Link;
  /** Host a (on `link.a`). */
  readonly a: Stack;
  /** Host b (on `link.b`). */
  readonly b: Stack;
}

/**
 * Two hosts on one link; a's MAC is 02:00:00:00:00:01, b's …:02.
 *
 * @example
 * ```ts
 * import { makeLink, ms } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const env = makeLink({ faults: { delay: ms(5) } });
 * await env.run(() => env.a.ping("10.0.0.2")); // resolves ARP first
 * const r = await env.run(() => env.a.ping("10.0.0.2"));
 * assert.equal(r.rtt, ms(10));
 * env.finish();
 * ```
 */
export function makeLink(options: LinkPairOptions = {}): LinkPair {
  const { net, linkType, capture, base } = linkEnv(options);
  const link = net.link({
    linkType,
    ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
    ...(linkType === 1 ? { macA: mac(hostMac(1)), macB: mac(hostMac(2)) } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.directions ? { directions: options.directions } : {}),
  });
  const plugins = pluginsWith(options.plugins, options.extraPlugins);
  const [aAddr, bAddr] = options.addresses ?? [["10.0.0.1/24"], ["10.0.0.2/24"]];
  const a = base.newStack("a", plugins);
  const b = base.newStack("b", plugins);
  a.addInterface({
    driver: capture ? capture.tap(link.a, { name: "a" }) : link.a,
    addresses: aAddr,
  });
  b.addInterface({ driver: link.b, addresses: bAddr });
  return Object.assign(base, { link, a, b });
}

/** Options of {@linkcode makeHost}. */
export interface HostOptions {
  /** Seed of the network (default 1). */
  readonly seed?: number;
  /** LINKTYPE_* (default 1, Ethernet; 101 for raw IP). */
  readonly linkType?: number;
  /** The stack's MAC on Ethernet (default 02:00:00:00:00:01). */
  readonly mac?: string;
  /** Addresses in CIDR form (default `10.0.0.1/24`). */
  readonly addresses?: readonly string[];
  /** MTU (default 1500). */
  readonly mtu?: number;
  /** Per-plugin options. */
  readonly plugins?: PluginOptions;
  /** Plugins loaded after the defaults. */
  readonly extraPlugins?: readonly ProtocolPlugin[];
  /** Record the interface, both directions (`"pcapng"`: with directions). */
  readonly capture?: boolean | "pcapng";
}

/** What {@linkcode makeHost} returns. */
export interface Host extends Env {
  /** The stack. */
  readonly stack: Stack;
  /** Its interface. */
  readonly iface: NetInterface;
  /** Frames sent while the interface was set up (gratuitous ARP). */
  readonly boot: readonly Uint8Array[];
  /** Every frame the stack sent since set-up, oldest first (copies). */
  readonly sent: Uint8Array[];
  /** Every frame the stack ever sent (set-up included) with its send time; never drained. */
  readonly history: readonly { readonly at: Instant; readonly bytes: Uint8Array }[];
  /** Returns and forgets the frames in {@linkcode sent}. */
  take(): Uint8Array[];
  /**
   * Hands `bytes` to the stack as if received (`stack.inject`), runs the
   * network for `after` µs (default 0: just this instant), and returns the
   * frames sent meanwhile (taking them out of {@linkcode Host.sent}).
   */
  inject(bytes: Uint8Array, after?: Duration): Uint8Array[];
  /** `stack.counters.get(name).value`. */
  counter(name: string): number;
}

/**
 * One stack whose peer is the test: inject frames, read what it sends.
 *
 * @example
 * ```ts
 * import { arpPacket, checkArp, checkEthernet, ethernetFrame, makeHost } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const h = makeHost({ addresses: ["10.0.0.1/24"] });
 * const peer = "02:00:00:00:00:99";
 * const req = arpPacket({ operation: 1, senderMac: peer, senderIp: "10.0.0.9", targetIp: "10.0.0.1" });
 * const out = h.inject(ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: peer, etherType: 0x0806 }, req));
 * assert.equal(out.length, 1);
 * checkEthernet({ dst: peer }, checkArp({ operation: 2, senderIp: "10.0.0.1" }))(out[0]!);
 * h.finish();
 * ```
 */
export function makeHost(options: HostOptions = {}): Host {
  const { net, linkType, capture, base } = linkEnv(options);
  const link = net.link({
    linkType,
    ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
    ...(linkType === 1 ? { macA: mac(options.mac ?? hostMac(1)), macB: mac(hostMac(0xfe)) } : {}),
  });
  const sent: Uint8Array[] = [];
  const history: { at: Instant; bytes: Uint8Array }[] = [];
  link.b.attach({
    pool: net.pool,
    ifindex: 0,
    now: () => net.now(),
    receive(pkt: PacketBuffer): void {
      const bytes = pkt.data.slice(); // copy: kept after the buffer is released
      sent.push(bytes);
      history.push({ at: net.now(), bytes });
      pkt.release();
    },
  });
  const stack = base.newStack("host", pluginsWith(options.plugins, options.extraPlugins));
  const iface = stack.addInterface({
    driver: capture ? capture.tap(link.a, { name: "host" }) : link.a,
    addresses: options.addresses ?? ["10.0.0.1/24"],
  });
  net.runFor(0);
  const boot = sent.splice(0);
  return Object.assign(base, {
    stack,
    iface,
    boot,
    sent,
    history,
    take: () => sent.splice(0),
    inject(bytes: Uint8Array, after: Duration = 0): Uint8Array[] {
      const before = sent.length;
      stack.inject(iface.index, bytes);
      net.runFor(after);
      return sent.splice(before);
    },
    counter: (name: string) => stack.counters.get(name).value,
  });
}

// ---- frame builders ------------------------------------------------------------------

/** An 802.1Q / 802.1ad tag. */
export interface VlanTag {
  /** TPID (default 0x8100). */
  readonly tpid?: number;
  /** VLAN id 0..4095. */
  readonly vid: number;
  /** Priority code point 0..7 (default 0). */
  readonly pcp?: number;
}

/** Header fields of {@linkcode ethernetFrame}. */
export interface EthernetFields {
  /** Destination MAC. */
  readonly dst: string | Uint8Array;
  /** Source MAC. */
  readonly src: string | Uint8Array;
  /** EtherType (or an 802.3 length). */
  readonly etherType: number;
  /** Tags, outermost first. */
  readonly tags?: readonly VlanTag[];
  /** Pad with zeros to this many bytes (e.g. 60). */
  readonly padTo?: number;
}

/**
 * An Ethernet II frame (no FCS).
 *
 * @example
 * ```ts
 * import { ethernetFrame } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const f = ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:01", etherType: 0x0806, tags: [{ vid: 0, pcp: 5 }] }, new Uint8Array(28));
 * assert.equal(f.length, 14 + 4 + 28);
 * assert.equal(f[14], 0xa0); // PCP 5, DEI 0, VID 0
 * ```
 */
export function ethernetFrame(h: EthernetFields, payload: Uint8Array): Uint8Array {
  const tags = h.tags ?? [];
  const len = Math.max(14 + 4 * tags.length + payload.length, h.padTo ?? 0);
  const f = new Uint8Array(len);
  const dv = new DataView(f.buffer);
  f.set(mac(h.dst), 0);
  f.set(mac(h.src), 6);
  let off = 12;
  for (const t of tags) {
    dv.setUint16(off, t.tpid ?? 0x8100);
    dv.setUint16(off + 2, ((t.pcp ?? 0) << 13) | (t.vid & 0x0fff));
    off += 4;
  }
  dv.setUint16(off, h.etherType);
  f.set(payload, off + 2);
  return f;
}

/** Fields of {@linkcode arpPacket}. */
export interface ArpFields {
  /** 1 request, 2 reply. */
  readonly operation: number;
  /** Sender hardware address. */
  readonly senderMac: string | Uint8Array;
  /** Sender protocol address. */
  readonly senderIp: string;
  /** Target hardware address (default zeros). */
  readonly targetMac?: string | Uint8Array;
  /** Target protocol address. */
  readonly targetIp: string;
}

/**
 * A 28-byte ARP packet for IPv4 over Ethernet.
 *
 * @example
 * ```ts
 * import { arpPacket } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const p = arpPacket({ operation: 1, senderMac: "02:00:00:00:00:01", senderIp: "10.0.0.1", targetIp: "10.0.0.2" });
 * assert.equal(p.length, 28);
 * assert.equal(p[7], 1);
 * ```
 */
export function arpPacket(a: ArpFields): Uint8Array {
  const p = new Uint8Array(28);
  const dv = new DataView(p.buffer);
  dv.setUint16(0, 1);
  dv.setUint16(2, 0x0800);
  p[4] = 6;
  p[5] = 4;
  dv.setUint16(6, a.operation);
  p.set(mac(a.senderMac), 8);
  dv.setUint32(14, ip(a.senderIp));
  p.set(a.targetMac === undefined ? new Uint8Array(6) : mac(a.targetMac), 18);
  dv.setUint32(24, ip(a.targetIp));
  return p;
}

/** Fields of {@linkcode ipv4Packet}; the overrides make malformed packets. */
export interface Ipv4Fields {
  /** Source address. */
  readonly src: string;
  /** Destination address. */
  readonly dst: string;
  /** Protocol number. */
  readonly protocol: number;
  /** TTL (default 64). */
  readonly ttl?: number;
  /** Identification (default 0). */
  readonly id?: number;
  /** Set DF. */
  readonly dontFragment?: boolean;
  /** Set MF. */
  readonly moreFragments?: boolean;
  /** Fragment offset in 8-byte units. */
  readonly fragmentOffset?: number;
  /** Options, padded with zeros (End of Options List) to a multiple of 4. */
  readonly options?: Uint8Array;
  /** Override: version nibble. */
  readonly version?: number;
  /** Override: IHL nibble. */
  readonly ihl?: number;
  /** Override: total length field. */
  readonly totalLength?: number;
  /** Override: checksum field (else computed). */
  readonly checksum?: number;
}

/**
 * An IPv4 packet with a correct header checksum unless overridden.
 *
 * @example
 * ```ts
 * import { checksum, ipv4Packet } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const p = ipv4Packet({ src: "10.0.0.2", dst: "10.0.0.1", protocol: 1 }, new Uint8Array(8));
 * assert.equal(p.length, 28);
 * assert.equal(checksum(p.subarray(0, 20)), 0);
 * ```
 */
export function ipv4Packet(h: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const optLen = h.options ? (h.options.length + 3) & ~3 : 0;
  const hlen = 20 + optLen;
  const p = new Uint8Array(hlen + payload.length);
  const dv = new DataView(p.buffer);
  p[0] = ((h.version ?? 4) << 4) | (h.ihl ?? hlen / 4);
  dv.setUint16(2, h.totalLength ?? p.length);
  dv.setUint16(4, h.id ?? 0);
  dv.setUint16(
    6,
    (h.dontFragment ? 0x4000 : 0) | (h.moreFragments ? 0x2000 : 0) | (h.fragmentOffset ?? 0),
  );
  p[8] = h.ttl ?? 64;
  p[9] = h.protocol;
  dv.setUint32(12, ip(h.src));
  dv.setUint32(16, ip(h.dst));
  if (h.options) p.set(h.options, 20);
  dv.setUint16(10, h.checksum ?? checksum(p.subarray(0, hlen)));
  p.set(payload, hlen);
  return p;
}

/** Fields of {@linkcode icmpEcho}. */
export interface IcmpEchoFields {
  /** 8 request (default), 0 reply. */
  readonly type?: number;
  /** Code (default 0). */
  readonly code?: number;
  /** Identifier. */
  readonly identifier: number;
  /** Sequence number. */
  readonly sequence: number;
  /** Data (default 56 bytes 0x08, 0x09, … like ping). */
  readonly data?: Uint8Array;
  /** Override: checksum field (else computed). */
  readonly checksum?: number;
}

/**
 * An ICMP echo message with a correct checksum unless overridden.
 *
 * @example
 * ```ts
 * import { checksum, icmpEcho } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const m = icmpEcho({ identifier: 1, sequence: 2 });
 * assert.equal(m.length, 64);
 * assert.equal(checksum(m), 0);
 * ```
 */
export function icmpEcho(e: IcmpEchoFields): Uint8Array {
  const data = e.data ?? Uint8Array.from({ length: 56 }, (_, i) => (i + 8) & 0xff);
  const m = new Uint8Array(8 + data.length);
  const dv = new DataView(m.buffer);
  m[0] = e.type ?? 8;
  m[1] = e.code ?? 0;
  dv.setUint16(4, e.identifier);
  dv.setUint16(6, e.sequence);
  m.set(data, 8);
  dv.setUint16(2, e.checksum ?? checksum(m));
  return m;
}

// ---- checkers ---------------------------------------------------------------------------

/**
 * Checks one layer of a frame and hands its payload to inner checkers;
 * throws an `AssertionError` naming the layer and field. `matches(bytes)`
 * is the same check as a boolean, for filtering captures: a well-formed
 * frame whose fields differ from the wanted ones does not match (false), but
 * a malformed one (too short, bad length field, bad checksum: a
 * {@linkcode MalformedFrameError}) still throws, so "no frame matches"
 * checks cannot hide a broken frame.
 */
export interface Checker {
  /** Asserts; throws on the first mismatch. */
  (bytes: Uint8Array): void;
  /** Whether `bytes` passes; throws {@linkcode MalformedFrameError} for a malformed frame. */
  matches(bytes: Uint8Array): boolean;
}

/**
 * A frame that cannot be parsed as the layer a checker expects (as opposed
 * to a field that differs): {@linkcode Checker.matches} lets it through.
 *
 * @example
 * ```ts
 * import { checkIpv4, MalformedFrameError } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const truncated = new Uint8Array([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17]);
 * assert.throws(() => checkIpv4({ dst: "10.0.0.9" }).matches(truncated), MalformedFrameError);
 * ```
 */
export class MalformedFrameError extends assert.AssertionError {
  /** @param message What is wrong, naming the layer. */
  constructor(message: string) {
    super({ message });
    this.name = "MalformedFrameError";
  }
}

/**
 * Makes a {@linkcode Checker} of an asserting function: `matches` is false
 * on an `AssertionError` (a field differs) and rethrows a
 * {@linkcode MalformedFrameError} or anything else.
 *
 * @example
 * ```ts
 * import { makeChecker, malformed } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const even = makeChecker((b) => {
 *   if (b.length === 0) malformed("empty");
 *   assert.equal(b[0]! % 2, 0);
 * });
 * assert.equal(even.matches(new Uint8Array([1])), false);
 * assert.throws(() => even.matches(new Uint8Array(0)));
 * ```
 */
export function makeChecker(fn: (bytes: Uint8Array) => void): Checker {
  const c = fn as Checker;
  c.matches = (bytes) => {
    try {
      fn(bytes);
      return true;
    } catch (e) {
      if (e instanceof assert.AssertionError && !(e instanceof MalformedFrameError)) return false;
      throw e;
    }
  };
  return c;
}

const checker = makeChecker;

function expect(layer: string, field: string, got: unknown, want: unknown): void {
  if (want === undefined) return;
  if (got !== want) {
    throw new assert.AssertionError({
      message: `${layer}.${field} is ${String(got)}, expected ${String(want)}`,
      actual: got,
      expected: want,
      operator: "strictEqual",
    });
  }
}

/**
 * Throws a {@linkcode MalformedFrameError}: the bytes cannot be the layer
 * being checked (for checkers built with {@linkcode makeChecker}).
 *
 * @throws {MalformedFrameError} Always.
 */
export function malformed(message: string): never {
  throw new MalformedFrameError(message);
}

const fail = malformed;

function macText(m: string | Uint8Array | undefined): string | undefined {
  return m === undefined ? undefined : formatMac(mac(m));
}

/** Expected Ethernet fields (each optional). */
export interface EthernetCheck {
  /** Destination MAC. */
  readonly dst?: string | Uint8Array;
  /** Source MAC. */
  readonly src?: string | Uint8Array;
  /** Innermost EtherType. */
  readonly etherType?: number;
  /** VLAN ids of the tags, outermost first (`[]`: untagged). */
  readonly vids?: readonly number[];
  /** Exact frame length. */
  readonly length?: number;
  /** Smallest frame length (60 for a padded frame). */
  readonly minLength?: number;
}

/**
 * Checks an Ethernet II frame (tags skipped) and runs `inner` on its payload.
 *
 * @example
 * ```ts
 * import { checkEthernet, ethernetFrame } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const f = ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:01", etherType: 0x0806 }, new Uint8Array(46));
 * checkEthernet({ dst: "ff:ff:ff:ff:ff:ff", etherType: 0x0806, length: 60 })(f);
 * assert.equal(checkEthernet({ etherType: 0x0800 }).matches(f), false);
 * ```
 */
export function checkEthernet(want: EthernetCheck, ...inner: Checker[]): Checker {
  return checker((f) => {
    if (f.length < 14) fail(`ethernet: frame of ${f.length} bytes is shorter than a header`);
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    expect("ethernet", "dst", formatMac(f, 0), macText(want.dst));
    expect("ethernet", "src", formatMac(f, 6), macText(want.src));
    expect("ethernet", "length", f.length, want.length);
    if (want.minLength !== undefined && f.length < want.minLength) {
      fail(`ethernet.length is ${f.length}, expected at least ${want.minLength}`);
    }
    let off = 12;
    const vids: number[] = [];
    let type = dv.getUint16(off);
    while ((type === 0x8100 || type === 0x88a8) && off + 6 <= f.length) {
      vids.push(dv.getUint16(off + 2) & 0x0fff);
      off += 4;
      type = dv.getUint16(off);
    }
    if (want.vids !== undefined) expect("ethernet", "vids", vids.join(","), want.vids.join(","));
    expect(
      "ethernet",
      "etherType",
      `0x${type.toString(16)}`,
      want.etherType === undefined ? undefined : `0x${want.etherType.toString(16)}`,
    );
    const payload = f.subarray(off + 2);
    for (const c of inner) c(payload);
  });
}

/** Expected ARP fields (each optional). */
export interface ArpCheck {
  /** 1 request, 2 reply. */
  readonly operation?: number;
  /** Sender MAC. */
  readonly senderMac?: string | Uint8Array;
  /** Sender IP. */
  readonly senderIp?: string;
  /** Target MAC. */
  readonly targetMac?: string | Uint8Array;
  /** Target IP. */
  readonly targetIp?: string;
}

/**
 * Checks an ARP packet for IPv4 over Ethernet (hardware 1, protocol 0x0800,
 * lengths 6 and 4); trailing padding is allowed.
 *
 * @example
 * ```ts
 * import { arpPacket, checkArp } from "./_harness.ts";
 * const p = arpPacket({ operation: 2, senderMac: "02:00:00:00:00:02", senderIp: "10.0.0.2", targetIp: "10.0.0.1" });
 * checkArp({ operation: 2, senderIp: "10.0.0.2", targetIp: "10.0.0.1" })(p);
 * ```
 */
export function checkArp(want: ArpCheck): Checker {
  return checker((p) => {
    if (p.length < 28) fail(`arp: ${p.length} bytes is shorter than 28`);
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    expect("arp", "hardware", dv.getUint16(0), 1);
    expect("arp", "protocol", dv.getUint16(2), 0x0800);
    expect("arp", "hlen", p[4], 6);
    expect("arp", "plen", p[5], 4);
    expect("arp", "operation", dv.getUint16(6), want.operation);
    expect("arp", "senderMac", formatMac(p, 8), macText(want.senderMac));
    expect("arp", "senderIp", formatIpv4Address(dv.getUint32(14)), want.senderIp);
    expect("arp", "targetMac", formatMac(p, 18), macText(want.targetMac));
    expect("arp", "targetIp", formatIpv4Address(dv.getUint32(24)), want.targetIp);
  });
}

/** Expected IPv4 fields (each optional). */
export interface Ipv4Check {
  /** Source address. */
  readonly src?: string;
  /** Destination address. */
  readonly dst?: string;
  /** TTL. */
  readonly ttl?: number;
  /** Protocol number. */
  readonly protocol?: number;
  /** Total length. */
  readonly totalLength?: number;
  /** Header length in bytes. */
  readonly headerLength?: number;
  /** DF bit. */
  readonly dontFragment?: boolean;
  /** Identification. */
  readonly id?: number;
}

/**
 * Checks an IPv4 header (version 4, IHL ≥ 5, total length within the bytes,
 * valid header checksum) and runs `inner` on the payload as the total length
 * bounds it (link padding excluded).
 *
 * @example
 * ```ts
 * import { checkIpv4, ipv4Packet } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const p = ipv4Packet({ src: "10.0.0.2", dst: "10.0.0.1", protocol: 1, ttl: 9 }, new Uint8Array(8));
 * checkIpv4({ src: "10.0.0.2", ttl: 9, protocol: 1 })(p);
 * assert.equal(checkIpv4({ ttl: 10 }).matches(p), false); // well formed, another TTL
 * p[10]! ^= 1; // break the checksum: malformed, so even `matches` throws
 * assert.throws(() => checkIpv4({}).matches(p));
 * ```
 */
export function checkIpv4(want: Ipv4Check, ...inner: Checker[]): Checker {
  return checker((p) => {
    // Another version is a different packet, not a broken one (raw-IP links carry both).
    if (p.length > 0) expect("ipv4", "version", p[0]! >> 4, 4);
    if (p.length < 20) fail(`ipv4: ${p.length} bytes is shorter than a header`);
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const hlen = (p[0]! & 0x0f) * 4;
    if (hlen < 20) fail(`ipv4.headerLength is ${hlen}, below 20`);
    const total = dv.getUint16(2);
    if (total < hlen || total > p.length) {
      fail(`ipv4.totalLength is ${total}: header ${hlen}, ${p.length} bytes present`);
    }
    if (checksum(p.subarray(0, hlen)) !== 0) {
      fail(`ipv4.checksum 0x${dv.getUint16(10).toString(16)} is wrong`);
    }
    expect("ipv4", "headerLength", hlen, want.headerLength);
    expect("ipv4", "totalLength", total, want.totalLength);
    expect("ipv4", "src", formatIpv4Address(dv.getUint32(12)), want.src);
    expect("ipv4", "dst", formatIpv4Address(dv.getUint32(16)), want.dst);
    expect("ipv4", "ttl", p[8], want.ttl);
    expect("ipv4", "protocol", p[9], want.protocol);
    expect("ipv4", "id", dv.getUint16(4), want.id);
    expect("ipv4", "dontFragment", (p[6]! & 0x40) !== 0, want.dontFragment);
    const payload = p.subarray(hlen, total);
    for (const c of inner) c(payload);
  });
}

/** Expected ICMP fields (each optional). */
export interface IcmpCheck {
  /** Type. */
  readonly type?: number;
  /** Code. */
  readonly code?: number;
  /** Echo identifier. */
  readonly identifier?: number;
  /** Echo sequence number. */
  readonly sequence?: number;
  /** The data after the 8-byte header, exactly. */
  readonly data?: Uint8Array;
}

/**
 * Checks an ICMP message (checksum over all of it) and its fields.
 *
 * @example
 * ```ts
 * import { checkIcmp, icmpEcho } from "./_harness.ts";
 * const data = new Uint8Array([1, 2, 3]);
 * checkIcmp({ type: 8, code: 0, identifier: 7, sequence: 1, data })(
 *   icmpEcho({ identifier: 7, sequence: 1, data }),
 * );
 * ```
 */
export function checkIcmp(want: IcmpCheck, ...inner: Checker[]): Checker {
  return checker((m) => {
    if (m.length < 8) fail(`icmp: ${m.length} bytes is shorter than a header`);
    const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
    if (checksum(m) !== 0) fail(`icmp.checksum 0x${dv.getUint16(2).toString(16)} is wrong`);
    expect("icmp", "type", m[0], want.type);
    expect("icmp", "code", m[1], want.code);
    expect("icmp", "identifier", dv.getUint16(4), want.identifier);
    expect("icmp", "sequence", dv.getUint16(6), want.sequence);
    if (want.data !== undefined) expect("icmp", "data", hex(m.subarray(8)), hex(want.data));
    for (const c of inner) c(m.subarray(8));
  });
}

/**
 * The frames among `frames` that pass `check`.
 *
 * @example
 * ```ts
 * import { checkEthernet, ethernetFrame, framesMatching } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const arp = ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:01", etherType: 0x0806 }, new Uint8Array(28));
 * assert.equal(framesMatching([arp, arp], checkEthernet({ etherType: 0x0806 })).length, 2);
 * ```
 */
export function framesMatching(frames: readonly Uint8Array[], check: Checker): Uint8Array[] {
  return frames.filter((f) => check.matches(f));
}

// ---- probe plugin -------------------------------------------------------------------------

/** What a {@linkcode probePlugin} saw of one packet. */
export interface ProbeRecord {
  /** The table and key that reached the probe. */
  readonly table: string;
  /** The key. */
  readonly key: number;
  /** The data window (from `pkt.start`), copied. */
  readonly data: Uint8Array;
  /** `pkt.flags` ({@linkcode PacketFlags} bits). */
  readonly flags: number;
  /** `pkt.etherType`. */
  readonly etherType: number;
  /** The network-layer source (`pkt.srcKey()`), text; 0.0.0.0 when unset. */
  readonly src: string;
  /** The network-layer destination (`pkt.dstKey()`), text; 0.0.0.0 when unset. */
  readonly dst: string;
  /** `pkt.ttl`. */
  readonly ttl: number;
  /** Interface index. */
  readonly ifindex: number;
}

/** A plugin that consumes and records what reaches its bindings. */
export interface Probe {
  /** Load it with `extraPlugins`. */
  readonly plugin: ProtocolPlugin;
  /** Packets seen, oldest first. */
  readonly seen: ProbeRecord[];
}

/**
 * A plugin bound to `bindings` (e.g. `{ table: "ip.protocol", key: 253 }`)
 * that records every packet reaching it and consumes it.
 *
 * @example
 * ```ts
 * import { ethernetFrame, makeHost, probePlugin } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const probe = probePlugin([{ table: "ethertype", key: 0x88b5 }]);
 * const h = makeHost({ extraPlugins: [probe.plugin] });
 * h.inject(ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:09", etherType: 0x88b5 }, new Uint8Array([1, 2])));
 * assert.deepEqual(probe.seen[0]!.data, new Uint8Array([1, 2]));
 * h.finish();
 * ```
 */
export function probePlugin(
  bindings: readonly { readonly table: string; readonly key: number }[],
  name = "probe",
): Probe {
  const seen: ProbeRecord[] = [];
  const plugin: ProtocolPlugin = {
    manifest: {
      name,
      version: "1.0.0",
      api: "^1.0.0",
      description: "test probe: records and consumes",
      layer: "service",
      binds: bindings.map((b) => ({ table: b.table, key: b.key })),
      counters: [],
    },
    setup() {
      return {
        receive(pkt, rx) {
          seen.push({
            table: rx.table.name,
            key: rx.key,
            data: pkt.data.slice(), // copy: kept after receive()
            flags: pkt.flags,
            etherType: pkt.etherType,
            src: pkt.srcAt < 0 ? "0.0.0.0" : formatIpKey(pkt.srcKey()),
            dst: pkt.dstAt < 0 ? "0.0.0.0" : formatIpKey(pkt.dstKey()),
            ttl: pkt.ttl,
            ifindex: pkt.ifindex,
          });
          return 0; // CONSUMED
        },
      };
    },
  };
  return { plugin, seen };
}

// ---- promises and captures on disk ------------------------------------------------------

/** A promise's outcome, readable synchronously. */
export interface Tracked<T> {
  /** Whether it settled. */
  readonly settled: boolean;
  /** The value, once fulfilled. */
  readonly value: T | undefined;
  /** The reason, once rejected. */
  readonly error: unknown;
  /** The promise itself (never rejects: it resolves when `p` settles). */
  readonly done: Promise<void>;
}

/**
 * Watches `p` without awaiting it, so a test can start a ping, run the
 * network by hand (`runFor`, `inject`), and look at the outcome later. A
 * rejection is captured, never unhandled.
 *
 * @example
 * ```ts
 * import { track } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const t = track(Promise.reject(new Error("boom")));
 * await t.done;
 * assert.ok(t.settled && t.error instanceof Error);
 * ```
 */
export function track<T>(p: Promise<T>): Tracked<T> {
  const t = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  const done = p.then(
    (v) => {
      t.settled = true;
      t.value = v;
    },
    (e) => {
      t.settled = true;
      t.error = e;
    },
  );
  return Object.assign(t, { done });
}

/**
 * Where the reference captures live: the repository's fixture folder
 * `tests/fixtures/pcaps` (see {@linkcode FIXTURE_PCAPS}; kept under this name
 * for the tests that import it).
 */
export const SHARED_PCAPS: string = FIXTURE_PCAPS;

/**
 * Whether the capture fixture `name` (relative to {@linkcode SHARED_PCAPS})
 * exists. The fixtures are part of the repository, so tests should not
 * skip on it: a missing file is a broken checkout and must fail.
 *
 * @example
 * ```ts
 * import { hasPcap } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hasPcap("no/such/file.pcap"), false);
 * assert.equal(hasPcap("linux-probes/tun-ping4.pcap"), true);
 * ```
 */
export function hasPcap(name: string): boolean {
  try {
    return Deno.statSync(pcapPath(name)).isFile;
  } catch {
    return false;
  }
}

/**
 * The corpus: paths of every pcap and pcapng file in {@linkcode SHARED_PCAPS}
 * and its `linux-probes/`, sorted.
 *
 * @throws {Deno.errors.NotFound} When the fixture folder is missing.
 * @example
 * ```ts
 * import { SHARED_PCAPS, sharedCaptures } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const files = sharedCaptures();
 * assert.equal(files.length, 44);
 * assert.ok(files.every((f) => f.startsWith(`${SHARED_PCAPS}/`) && /\.pcap(ng)?$/.test(f)));
 * assert.deepEqual(files, [...files].sort());
 * ```
 */
export function sharedCaptures(): string[] {
  return fixtureCaptures();
}

/**
 * The records of the capture fixture `name` (pcap or pcapng).
 *
 * @throws The capture's format error, if it is corrupt.
 * @example
 * ```ts
 * import { pcapRecords } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pcapRecords("arp_gratuitous.pcapng").length, 1);
 * ```
 */
export function pcapRecords(name: string): CaptureRecord[] {
  const r = parseCapture(Deno.readFileSync(pcapPath(name)));
  if (r.error !== null) throw r.error;
  return r.records;
}

// ---- pinging with retries ----------------------------------------------------------------

/** What {@linkcode pingRetry} found. */
export interface PingOutcome {
  /** The reply, when one came. */
  readonly reply: PingReply | undefined;
  /** Echo requests sent (1..attempts). */
  readonly attempts: number;
  /** Why each failed attempt failed (error class names). */
  readonly failures: readonly string[];
}

/**
 * Pings `host` until a reply comes or `attempts` run out (default 3 tries of
 * `timeout` µs, default 500 ms). Timeouts and unreachable errors are
 * retried; other errors propagate. Call it inside `env.run(...)`.
 *
 * @example
 * ```ts
 * import { makeLink, ms, pingRetry } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const env = makeLink({ seed: 2 });
 * env.link.partition();
 * const out = await env.run(() => pingRetry(env.a, "10.0.0.2", { attempts: 2, timeout: ms(100) }));
 * assert.deepEqual([out.reply, out.attempts, out.failures], [undefined, 2, ["TimedOut", "TimedOut"]]);
 * env.finish();
 * ```
 */
export async function pingRetry(
  stack: Stack,
  host: string,
  options: PingOptions & { readonly attempts?: number } = {},
): Promise<PingOutcome> {
  const { attempts = 3, ...ping } = options;
  const failures: string[] = [];
  for (let i = 1; i <= attempts; i++) {
    try {
      const reply = await stack.ping(host, { timeout: ms(500), ...ping });
      return { reply, attempts: i, failures };
    } catch (e) {
      if (!(e instanceof Deno.errors.TimedOut || e instanceof Deno.errors.NetworkUnreachable)) {
        throw e;
      }
      failures.push(e.name);
    }
  }
  return { reply: undefined, attempts, failures };
}

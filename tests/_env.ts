/**
 * Test environments on the loopback virtual network: a LAN, a point-to-point link, and one host whose peer is the test.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, type Stack } from "../mod.ts";
import type { PluginEntry } from "../stack/boot.ts";
import type { Duration, Instant } from "../stack/clock.ts";
import type { ProtocolPlugin } from "../stack/manifest.ts";
import type { NetInterface } from "../stack/netif.ts";
import type { PacketBuffer } from "../stack/packet.ts";
import type { PacketPool } from "../stack/packet_pool.ts";
import { type RunOptions, VirtualNetwork } from "../drivers/loopback/network.ts";
import type { Link, LinkEnd } from "../drivers/loopback/link.ts";
import type { Switch, SwitchOptions } from "../drivers/loopback/switch.ts";
import type { Faults } from "../drivers/loopback/faults.ts";
import { hostMac, mac } from "./_convert.ts";
import { type PluginOptions, pluginsWith } from "./_test_plugins.ts";
import { Capture, type TapOptions } from "./_capture.ts";
import { kernelOf } from "../stack/stack.ts";

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
  /** Options of the switch (e.g. `snooping`; default a plain learning switch). */
  readonly switch?: SwitchOptions;
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
  const sw = net.switch(options.switch ?? {});
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
  /**
   * Default plugins both hosts leave out, by name: e.g. `["ndp", "mld",
   * "slaac"]` for an IPv4 scenario whose lossy link must not spend its fault
   * draws on IPv6's start-up frames.
   */
  readonly withoutPlugins?: readonly string[];
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
 * assert.equal(r.rtt, 10); // ms, as Stack.ping reports
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
  const without = options.withoutPlugins ?? [];
  const plugins = pluginsWith(options.plugins, options.extraPlugins)
    .filter((e) => !without.includes(e.plugin.manifest.name));
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

/** The EtherType of an Ethernet frame (behind one 802.1Q tag if there is one). */
function etherTypeOf(frame: Uint8Array): number {
  const t = frame.length >= 14 ? (frame[12]! << 8) | frame[13]! : -1;
  return t === 0x8100 && frame.length >= 18 ? (frame[16]! << 8) | frame[17]! : t;
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
  /** Default plugins left out, by name (as {@linkcode LinkPairOptions.withoutPlugins}). */
  readonly withoutPlugins?: readonly string[];
  /**
   * Ethernet only: keep in `boot`, `sent` and `history` only frames of these
   * EtherTypes (e.g. `[0x0806, 0x0800]` for an ARP test that the default
   * IPv6 autoconfiguration frames, DAD, RS and MLD, would disturb). Default:
   * every frame.
   */
  readonly etherTypes?: readonly number[];
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
  const etherTypes = linkType === 1 ? options.etherTypes : undefined;
  link.b.attach({
    pool: net.pool,
    ifindex: 0,
    now: () => net.now(),
    receive(pkt: PacketBuffer): void {
      const bytes = pkt.data.slice(); // copy: kept after the buffer is released
      pkt.release();
      if (etherTypes !== undefined && !etherTypes.includes(etherTypeOf(bytes))) return;
      sent.push(bytes);
      history.push({ at: net.now(), bytes });
    },
  });
  const without = options.withoutPlugins ?? [];
  const stack = base.newStack(
    "host",
    pluginsWith(options.plugins, options.extraPlugins)
      .filter((e) => !without.includes(e.plugin.manifest.name)),
  );
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
      kernelOf(stack).inject(iface.index, bytes);
      net.runFor(after);
      return sent.splice(before);
    },
    counter: (name: string) => stack.counters.get(name).value,
  });
}

/**
 * Parallel simulation (issue 19): one virtual network split into partitions,
 * each run by its own Worker, with the same result as running it in one
 * thread, byte for byte.
 *
 * How: stacks are JavaScript objects, so each Worker builds the network
 * itself by running the same scenario module (`build(net, part, params)`).
 * Every Worker makes every switch, trunk and switch port (cheap, and it keeps
 * MAC addresses, link directions' ids and their random streams the same
 * everywhere), but makes hosts and their traffic only on the switches it owns
 * ({@linkcode Partition.owns}). A trunk between switches of two partitions is
 * a boundary: a frame sent into it is copied into a shared-memory ring with
 * its delivery time and key and queued by the receiving partition.
 *
 * Synchronisation is conservative. Two partitions run without barriers
 * (`_partition_async.ts`): each publishes a bound on its next boundary send
 * (a frame its switch may pass across, or any other event plus the delay of
 * a host's cable), and runs until the other's bound plus the lookahead (the
 * smallest delay of a boundary trunk), so the busier one never waits for the
 * lighter. More partitions run YAWNS windows: up to the earliest pending
 * event of all partitions plus the lookahead, then all meet at a barrier and
 * exchange what crossed. Events due at one instant run in a canonical order
 * (callbacks, then frames by link direction id and per-direction sequence),
 * so a partition sees its events in the order the one-thread run would.
 *
 * Rules for a scenario module: draw from `net.rng` the same way whatever
 * the partition (before asking `owns`); make every switch, trunk and port in
 * every partition, in the same order; give each host its own seed; make the
 * hosts and their traffic only where `owns` says so; cutting a boundary
 * trunk (`Link.partition`) is not supported.
 *
 * @module
 */
import type { Duration } from "../../stack/clock.ts";
import type { Faults } from "./faults.ts";
import type { Link, LinkEnd } from "./link.ts";
import type { Lane } from "./_lane.ts";
import { runPartition, sharedBytes } from "./_partition_run.ts";
import type { PartitionInit } from "./_partition_run.ts";
import type { VirtualNetwork } from "./network.ts";
import { mergeOutputs } from "./partition_result.ts";
import type {
  LinkPairStats,
  PartitionedResult,
  PartitionOutput,
  PartitionTiming,
} from "./partition_result.ts";
export type { LinkPairStats, PartitionedResult, PartitionOutput, PartitionTiming };
import type { Switch, SwitchOptions, SwitchPortOptions, SwitchStats } from "./switch.ts";

/**
 * What a scenario's `build` returns: a report of the partition's own part
 * (captures of its hosts, their counters), merged over partitions by key.
 *
 * @example
 * ```ts
 * import type { PartitionedScenario } from "./partition.ts";
 * import assert from "node:assert/strict";
 * const scenario: PartitionedScenario = { report: () => ({ "host0.requests": 3 }) };
 * assert.deepEqual(scenario.report(), { "host0.requests": 3 });
 * ```
 */
export interface PartitionedScenario {
  /**
   * Called once the run is over. Keys must be stable names (a host's);
   * numbers under the same key in several partitions are added, any other
   * value must come from one partition only. Values must be structured-cloneable.
   */
  report(): Record<string, unknown>;
}

/**
 * The `build` function a scenario module exports for
 * {@linkcode runPartitioned}.
 *
 * @example
 * ```ts
 * import type { ScenarioBuilder } from "./partition.ts";
 * import assert from "node:assert/strict";
 * const build: ScenarioBuilder<{ hosts: number }> = (net, part, params) => {
 *   const sw = part.switch({ name: "sw0" });
 *   for (let i = 0; i < params.hosts; i++) sw.port();
 *   return { report: () => ({ ports: part.owns(sw) ? sw.ports.length : 0 }) };
 * };
 * assert.equal(typeof build, "function");
 * ```
 */
export type ScenarioBuilder<P = unknown> = (
  net: VirtualNetwork,
  part: Partition,
  params: P,
) => PartitionedScenario | Promise<PartitionedScenario>;

/**
 * A trunk made by {@linkcode Partition.trunk}: two switches joined by a cable.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { Partition } from "./partition.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const part = new Partition(net);
 * const t = part.trunk(part.switch(), part.switch(), { faults: { delay: 1_000 } });
 * assert.equal(t.link.faults("a->b").delay, 1_000);
 * ```
 */
export interface Trunk {
  /** The switch whose port carries the cable's faults. */
  readonly a: Switch;
  /** The other switch. */
  readonly b: Switch;
  /** The cable with the faults (its end `b` is `a`'s port); its delay is the boundary's lookahead. */
  readonly link: Link;
}

/** Which partition receives and which sends on each link direction, by id. */
interface LaneOwners {
  readonly lanes: readonly (Lane | undefined)[];
  readonly receiver: readonly (number | undefined)[];
  readonly sender: readonly (number | undefined)[];
}

/**
 * One partition of a network being built: which switches it owns, and the
 * topology (switches and trunks) it needs to decide. A scenario gets one in
 * its `build`; `new Partition(net)` makes the single partition of a network
 * run in one thread.
 *
 * Automatic partitioning: switches are weighted by their port count, put in
 * breadth-first order over the trunks from the first switch, and cut into
 * `count` runs of about equal weight (neighbours stay together, so few
 * trunks cross). Or give `assign` (switch name to partition).
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { Partition } from "./partition.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const part = new Partition(net, { index: 1, count: 2 });
 * const [s0, s1] = [part.switch(), part.switch()];
 * part.trunk(s0, s1, { faults: { delay: 2_000 } });
 * for (let i = 0; i < 4; i++) { s0.port(); s1.port(); }
 * assert.equal(part.owns(s0), false);
 * assert.equal(part.owns(s1), true);
 * assert.equal(part.lookahead, 2_000);
 * ```
 */
export class Partition {
  /** This partition's index, 0 to `count - 1`. */
  readonly index: number;
  /** Number of partitions. */
  readonly count: number;
  readonly #net: VirtualNetwork;
  readonly #assign: Readonly<Record<string, number>> | undefined;
  readonly #switches: Switch[] = [];
  readonly #trunks: Trunk[] = [];
  /** Both cables of every trunk (the faulty one and the zero-delay one). */
  readonly #trunkLinks = new Set<Link>();
  /** Each trunk's zero-delay cable into its switch b. */
  readonly #downLink = new Map<Trunk, Link>();
  #owners: Map<Switch, number> | null = null;
  #lookahead = Infinity;

  /**
   * Partition `index` of `count` of `net` (default: the only one);
   * `assign` maps switch names to partitions (default: automatic).
   *
   * @throws {TypeError} If `index` or `count` is not a whole number.
   * @throws {RangeError} If `count` < 1 or `index` is outside [0, count).
   */
  constructor(
    net: VirtualNetwork,
    options: {
      readonly index?: number;
      readonly count?: number;
      readonly assign?: Readonly<Record<string, number>>;
    } = {},
  ) {
    const count = options.count ?? 1, index = options.index ?? 0;
    for (const [name, v] of [["count", count], ["index", index]] as const) {
      if (typeof v !== "number" || !Number.isInteger(v)) {
        throw new TypeError(`Cannot make partition: ${name} must be a whole number, got ${v}`);
      }
    }
    if (count < 1 || count > 64) {
      throw new RangeError(`Cannot make partition: count must be 1 to 64, got ${count}`);
    }
    if (index < 0 || index >= count) {
      throw new RangeError(`Cannot make partition: index must be 0 to ${count - 1}, got ${index}`);
    }
    this.#net = net;
    this.index = index;
    this.count = count;
    this.#assign = options.assign;
  }

  /**
   * A new switch of the partitioned topology (made in every partition).
   *
   * @throws {Error} If the partitioning is already decided.
   */
  switch(options: SwitchOptions = {}): Switch {
    this.#open("make a switch");
    const sw = this.#net.switch(options);
    this.#switches.push(sw);
    return sw;
  }

  /**
   * Joins switches `a` and `b` with a cable with `options` (faults, MTU) on
   * a port of `a`, and a zero-delay port of `b`. When `a` and `b` fall in
   * different partitions, the cable's smallest delay is the lookahead.
   *
   * @throws {Error} If the partitioning is already decided or a switch was
   * not made by {@linkcode Partition.switch}.
   */
  trunk(a: Switch, b: Switch, options: SwitchPortOptions = {}): Trunk {
    this.#open("make a trunk");
    for (const sw of [a, b]) {
      if (!this.#switches.includes(sw)) {
        throw new Error(
          `Cannot make a trunk: ${sw.name} was not made by this partition's switch()`,
        );
      }
    }
    const net = this.#net;
    const up = a.port(options);
    const down = b.port();
    const forward = (to: LinkEnd) => ({
      pool: net.pool,
      ifindex: 0,
      now: () => net.now(),
      receive: (p: Parameters<LinkEnd["transmit"]>[0]) => to.transmit(p),
    });
    up.attach(forward(down));
    down.attach(forward(up));
    const trunk: Trunk = { a, b, link: up.link };
    this.#trunkLinks.add(up.link).add(down.link);
    this.#downLink.set(trunk, down.link);
    this.#trunks.push(trunk);
    return trunk;
  }

  /** Every switch made by {@linkcode Partition.switch}, in order. */
  get switches(): readonly Switch[] {
    return this.#switches;
  }

  /**
   * Whether this partition runs `sw` and the hosts on its ports. The first
   * call decides the partitioning from the switches, trunks and ports made
   * so far; no switch or trunk may be made after it.
   *
   * @throws {Error} If `sw` was not made by {@linkcode Partition.switch}, or
   * the partitioning is impossible (see {@linkcode Partition.ownerOf}).
   */
  owns(sw: Switch): boolean {
    return this.ownerOf(sw) === this.index;
  }

  /**
   * The partition that runs `sw`.
   *
   * @throws {Error} If `sw` is unknown, `assign` misses a switch or names a
   * partition out of range, or a trunk between two partitions has no delay.
   */
  ownerOf(sw: Switch): number {
    const owner = this.#decide().get(sw);
    if (owner === undefined) {
      throw new Error(`Cannot tell the owner of ${sw.name}: not made by this partition's switch()`);
    }
    return owner;
  }

  /**
   * The smallest delay of a trunk between two partitions in µs (Infinity
   * if none): how far every partition may run ahead of the others.
   */
  get lookahead(): number {
    this.#decide();
    return this.#lookahead;
  }

  #open(what: string): void {
    if (this.#owners !== null) {
      throw new Error(`Cannot ${what}: the partitioning was decided by the first owns()`);
    }
  }

  #decide(): Map<Switch, number> {
    if (this.#owners !== null) return this.#owners;
    const owners = this.#assign === undefined ? this.#auto() : this.#given(this.#assign);
    let lookahead = Infinity;
    for (const t of this.#trunks) {
      const pa = owners.get(t.a)!, pb = owners.get(t.b)!;
      if (pa === pb) continue;
      for (const dir of ["a->b", "b->a"] as const) {
        const f = t.link.faults(dir);
        const min = Math.max(0, (f.delay ?? 0) - (f.jitter ?? 0));
        if (min <= 0) {
          throw new Error(
            `Cannot partition: trunk ${t.link.name} joins ${t.a.name} (partition ${pa}) and ` +
              `${t.b.name} (partition ${pb}) with no delay (${dir}: delay ${f.delay ?? 0} µs, ` +
              `jitter ${f.jitter ?? 0} µs); a boundary needs a positive delay, the lookahead`,
          );
        }
        if (min < lookahead) lookahead = min;
      }
    }
    this.#lookahead = lookahead;
    this.#owners = owners;
    // A snooping switch's querier runs only where the switch does.
    for (const sw of this.#switches) {
      if (sw.snooping !== undefined && owners.get(sw) !== this.index) {
        this.#net.removeNode(sw.snooping);
      }
    }
    return owners;
  }

  #given(assign: Readonly<Record<string, number>>): Map<Switch, number> {
    const owners = new Map<Switch, number>();
    for (const sw of this.#switches) {
      const p = assign[sw.name];
      if (p === undefined) {
        throw new Error(`Cannot partition: assign has no partition for ${sw.name}`);
      }
      if (!(Number.isInteger(p) && p >= 0 && p < this.count)) {
        throw new RangeError(
          `Cannot partition: assign puts ${sw.name} in partition ${p}, expected 0 to ${
            this.count - 1
          }`,
        );
      }
      owners.set(sw, p);
    }
    return owners;
  }

  #auto(): Map<Switch, number> {
    const switches = this.#switches;
    const next = new Map<Switch, Switch[]>(switches.map((s) => [s, []]));
    for (const t of this.#trunks) {
      next.get(t.a)!.push(t.b);
      next.get(t.b)!.push(t.a);
    }
    // Breadth-first from each not yet visited switch, in creation order.
    const order: Switch[] = [];
    const seen = new Set<Switch>();
    for (const root of switches) {
      if (seen.has(root)) continue;
      seen.add(root);
      for (let i = order.push(root) - 1; i < order.length; i++) {
        for (const n of next.get(order[i]!)!) {
          if (!seen.has(n)) {
            seen.add(n);
            order.push(n);
          }
        }
      }
    }
    const weight = (s: Switch) => Math.max(1, s.ports.length);
    const total = order.reduce((sum, s) => sum + weight(s), 0);
    const owners = new Map<Switch, number>();
    let acc = 0;
    for (const s of order) {
      // The partition whose share of the weight this switch's middle falls in.
      const mid = acc + weight(s) / 2;
      owners.set(s, Math.min(this.count - 1, Math.floor(mid * this.count / total)));
      acc += weight(s);
    }
    return owners;
  }

  /**
   * @internal Who receives and who sends on each link direction of the
   * partitioned topology, by id (-1 or missing: not part of it), and the
   * directions themselves, for the runner.
   */
  laneOwners(): LaneOwners {
    const owners = this.#decide();
    const lanes: Lane[] = [];
    const receiver: number[] = [];
    const sender: number[] = [];
    const downOwner = new Map<Link, number>();
    for (const t of this.#trunks) downOwner.set(t.link, owners.get(t.b)!);
    for (const sw of this.#switches) {
      const p = owners.get(sw)!;
      for (const end of sw.ports) {
        const [ab, ba] = end.link.lanes;
        // End a is the node's: a host, or the far switch's trunk forwarder.
        const node = downOwner.get(end.link) ?? p;
        lanes[ab.id] = ab;
        lanes[ba.id] = ba;
        receiver[ab.id] = p;
        sender[ab.id] = node;
        receiver[ba.id] = node;
        sender[ba.id] = p;
      }
    }
    return { lanes, receiver, sender };
  }

  /**
   * @internal What bounds how soon this partition can send across a
   * boundary: which link directions lead to a host (by id; a frame on one
   * must come back through the host's cable before it can reach a trunk),
   * which lead into a switch (and which of its ports are trunks), the
   * smallest delay of a host's cable toward its switch on this
   * partition's switches (`accessDelay`) and from its switch toward the
   * host (`hostDelay`); both 0 with a snooping switch, whose querier sends
   * from the switch itself. Per link direction into a switch: the port it
   * enters by (`portOf`), whether the switch has a trunk port besides it
   * (`otherTrunk`: else what enters there reaches only hosts, as a switch
   * never sends a frame back out of its ingress port), and `sentBack`, the
   * least time after which what enters there may leave the switch's
   * partition again (0 with another trunk or snooping; else the switch's
   * shortest cable to a host plus the shortest host cable back).
   */
  hostPaths(): {
    hostBound: boolean[];
    accessDelay: number;
    hostDelay: number;
    toSwitch: (Switch | undefined)[];
    trunkPort: Map<Switch, boolean[]>;
    portOf: number[];
    otherTrunk: boolean[];
    sentBack: number[];
  } {
    const owners = this.#decide();
    const hostBound: boolean[] = [];
    const toSwitch: Switch[] = [];
    const trunkPort = new Map<Switch, boolean[]>();
    const portOf: number[] = [], otherTrunk: boolean[] = [], sentBack: number[] = [];
    let accessDelay = Infinity, hostDelay = Infinity, snooping = false, upAll = Infinity;
    const least = (f: Readonly<Faults>) => Math.max(0, (f.delay ?? 0) - (f.jitter ?? 0));
    const downOf = new Map<Switch, number>();
    for (const sw of this.#switches) {
      const mine = owners.get(sw) === this.index;
      if (mine && sw.snooping !== undefined) snooping = true;
      const trunks: boolean[] = [];
      trunkPort.set(sw, trunks);
      let down = Infinity;
      for (const [k, end] of sw.ports.entries()) {
        toSwitch[end.link.lanes[0].id] = sw;
        if (this.#trunkLinks.has(end.link)) {
          trunks[k] = true;
          continue;
        }
        hostBound[end.link.lanes[1].id] = true;
        const up = least(end.link.faults("a->b")), toHost = least(end.link.faults("b->a"));
        upAll = Math.min(upAll, up);
        down = Math.min(down, toHost);
        if (!mine) continue;
        accessDelay = Math.min(accessDelay, up);
        hostDelay = Math.min(hostDelay, toHost);
      }
      downOf.set(sw, down);
    }
    for (const sw of this.#switches) {
      const trunks = trunkPort.get(sw)!;
      const count = trunks.filter((t) => t).length;
      for (const [k, end] of sw.ports.entries()) {
        const id = end.link.lanes[0].id;
        portOf[id] = k;
        otherTrunk[id] = count > (trunks[k] === true ? 1 : 0);
        sentBack[id] = otherTrunk[id] || sw.snooping !== undefined ? 0 : downOf.get(sw)! + upAll;
      }
    }
    // A trunk's a->b direction ends at a forwarder that hands each frame at
    // once to the zero-delay cable into b: file it as that cable's.
    for (const t of this.#trunks) {
      const into = t.link.lanes[1].id;
      const port = t.b.ports.findIndex((end) => end.link === this.#downLink.get(t));
      const via = t.b.ports[port]!.link.lanes[0].id;
      toSwitch[into] = t.b;
      portOf[into] = port;
      otherTrunk[into] = otherTrunk[via]!;
      sentBack[into] = sentBack[via]!;
    }
    if (snooping) accessDelay = hostDelay = 0;
    return { hostBound, accessDelay, hostDelay, toSwitch, trunkPort, portOf, otherTrunk, sentBack };
  }

  /** @internal Counters of every switch port's cable and every switch, by name. */
  collect(): { links: Record<string, LinkPairStats>; switches: Record<string, SwitchStats> } {
    const links: Record<string, LinkPairStats> = {};
    const switches: Record<string, SwitchStats> = {};
    for (const sw of this.#switches) {
      switches[sw.name] = sw.stats();
      for (const end of sw.ports) {
        links[end.link.name] = { "a->b": end.link.stats("a->b"), "b->a": end.link.stats("b->a") };
      }
    }
    return { links, switches };
  }
}

/**
 * Options of {@linkcode runPartitioned}.
 *
 * @example
 * ```ts
 * import type { PartitionedRunOptions } from "./partition.ts";
 * import assert from "node:assert/strict";
 * const options: PartitionedRunOptions<{ hosts: number }> = {
 *   module: new URL("./scenario_module.ts", import.meta.url),
 *   partitions: 2,
 *   seed: 1,
 *   duration: 10_000_000,
 *   params: { hosts: 100 },
 * };
 * assert.equal(options.partitions, 2);
 * ```
 */
export interface PartitionedRunOptions<P = unknown> {
  /** The scenario module: it exports `build` (a {@linkcode ScenarioBuilder}). */
  readonly module: string | URL;
  /** Partitions, each in its own Worker; 1 runs in this thread (default 2). */
  readonly partitions?: number;
  /** The network's seed (default 0). */
  readonly seed?: number;
  /** Virtual time to run, µs. */
  readonly duration: Duration;
  /** Given to `build` (structured-cloneable). */
  readonly params?: P;
  /** Switch name to partition; default: automatic. */
  readonly assign?: Readonly<Record<string, number>>;
  /** Bytes of each shared ring one partition sends to another per window (default 4 MiB). */
  readonly ringBytes?: number;
  /**
   * Measure each window's CPU time in every partition (needs FFI permission
   * on Linux; a few µs per window) for {@linkcode PartitionedResult.criticalCpuMs},
   * or with two partitions without barriers each wait's, for
   * {@linkcode PartitionTiming.waitCpuMs}.
   */
  readonly profile?: boolean;
  /**
   * With `profile` and two partitions without barriers: also trace every
   * step's CPU time (a few µs a step, 24 bytes) to replay the run on idle
   * cores for {@linkcode PartitionedResult.criticalCpuMs}.
   */
  readonly traceSteps?: boolean;
  /**
   * Two partitions run without barriers by default, each as far as the
   * other's published bound allows; `true` makes them meet at a barrier
   * every window as more partitions do (for comparison).
   */
  readonly barrier?: boolean;
  /**
   * Two partitions without barriers publish their bound only when the other
   * waits for it, or before waiting themselves, by default; `true` publishes
   * it after every step that moved it, so the other runs on a bound at most
   * one step old (fewer waits, a publication per step; for comparison).
   */
  readonly publishEveryStep?: boolean;
  /**
   * Simulated µs between samples of each partition's CPU, waits and heap
   * ({@linkcode PartitionTiming.samples}; default 0: none).
   */
  readonly sampleEvery?: number;
}

function whole(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`Cannot run partitioned: ${name} must be a whole number, got ${v}`);
  }
  if (v < min || v > max) {
    throw new RangeError(`Cannot run partitioned: ${name} must be ${min} to ${max}, got ${v}`);
  }
  return v;
}

/**
 * Runs the scenario module `options.module` for `options.duration` of
 * virtual time, split into `options.partitions` partitions, each built and
 * run by its own Worker (1: in this thread). The result, report and
 * counters, is the same whatever the number of partitions, byte for byte.
 *
 * @throws {TypeError} If a count, the seed or the duration is not a whole number.
 * @throws {RangeError} If one is out of range.
 * @throws {Error} If a partition fails (its error, prefixed with its index),
 * a boundary trunk has no delay, or boundary traffic overflows `ringBytes`.
 *
 * @example
 * ```ts ignore
 * import { runPartitioned } from "./partition.ts";
 * const module = new URL("./my_scenario.ts", import.meta.url); // exports build(net, part, params)
 * const one = await runPartitioned({ module, partitions: 1, seed: 7, duration: 60_000_000 });
 * const two = await runPartitioned({ module, partitions: 2, seed: 7, duration: 60_000_000 });
 * // one.report and two.report hold the same bytes; so do one.links and two.links.
 * ```
 */
export async function runPartitioned<P = unknown>(
  options: PartitionedRunOptions<P>,
): Promise<PartitionedResult> {
  const count = whole("partitions", options.partitions ?? 2, 1, 64);
  const duration = whole("duration", options.duration, 0, Number.MAX_SAFE_INTEGER);
  const seed = whole("seed", options.seed ?? 0, -(2 ** 31), 2 ** 32 - 1);
  const ringBytes = whole("ringBytes", options.ringBytes ?? 4 * 2 ** 20, 4096, 2 ** 30);
  const module = typeof options.module === "string"
    ? new URL(options.module, `file://${Deno.cwd()}/`).href
    : options.module.href;
  const base = {
    calledAt: performance.timeOrigin + performance.now(),
    module,
    count,
    seed,
    duration,
    params: options.params,
    assign: options.assign,
    ringBytes,
    profile: options.profile === true,
    traceSteps: options.traceSteps === true,
    barrier: options.barrier === true,
    publishEveryStep: options.publishEveryStep === true,
    sampleEvery: whole("sampleEvery", options.sampleEvery ?? 0, 0, Number.MAX_SAFE_INTEGER),
  };
  if (count === 1) return mergeOutputs([await runPartition({ ...base, index: 0, shared: null })]);
  const shared = new SharedArrayBuffer(sharedBytes(count, ringBytes));
  const workers: Worker[] = [];
  try {
    const outs = await allRootCause(
      Array.from(
        { length: count },
        (_, index) =>
          new Promise<PartitionOutput>((resolve, reject) => {
            const w = new Worker(new URL("./_partition_worker.ts", import.meta.url).href, {
              type: "module",
            });
            workers.push(w);
            w.onmessage = (e) => {
              const m = e.data as { ok: boolean; out?: PartitionOutput; error?: string };
              if (m.ok) resolve(m.out!);
              else reject(new Error(`Partition ${index} failed: ${m.error}`));
            };
            w.onerror = (e) => {
              e.preventDefault();
              reject(new Error(`Partition ${index} failed: ${e.message}`));
            };
            const init: PartitionInit = { ...base, index, shared };
            w.postMessage(init);
          }),
      ),
    );
    return mergeOutputs(outs);
  } finally {
    for (const w of workers) w.terminate();
  }
}

/** Said by a partition that stopped because another one failed first. */
const SECONDARY = /(?:an)?other partition failed/;

/**
 * Like Promise.all, but a partition that stopped only because another failed
 * does not hide that other's error: its rejection waits for the rest to settle
 * (they stop at once), and the root cause is reported.
 */
function allRootCause<T>(runs: Promise<T>[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const outs: T[] = new Array(runs.length);
    let left = runs.length;
    let secondary: Error | null = null;
    const settle = () => {
      if (--left > 0) return;
      if (secondary !== null) reject(secondary);
      else resolve(outs);
    };
    runs.forEach((run, i) => {
      run.then((out) => {
        outs[i] = out;
        settle();
      }, (err: Error) => {
        if (!SECONDARY.test(err.message)) return reject(err);
        secondary ??= err;
        settle();
      });
    });
  });
}

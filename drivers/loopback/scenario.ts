/**
 * Large topologies in a few lines (issue 19): N hosts spread over M access
 * switches, joined either through one core switch (one broadcast domain) or
 * by routers (one subnet per switch, routes set up); request/response and
 * bulk traffic between host pairs with seeded start times; progress on long
 * runs.
 *
 * Partitioning over Workers is `partition.ts` (`runPartitioned`): a scenario
 * there is a module whose `build()` every Worker runs.
 *
 * @module
 */
import type { Duration, Instant } from "../../stack/clock.ts";
import { SECOND } from "../../stack/clock.ts";
import type { Stack } from "../../stack/stack.ts";
import type { Faults } from "./faults.ts";
import type { VirtualNetwork } from "./network.ts";
import type { Switch } from "./switch.ts";

/**
 * Options of {@linkcode buildLan}.
 *
 * @example
 * ```ts
 * import type { LanOptions } from "./scenario.ts";
 * import assert from "node:assert/strict";
 * const options: LanOptions = { hosts: 100, switches: 4, portFaults: { delay: 1_000 } };
 * assert.equal(options.switches, 4);
 * ```
 */
export interface LanOptions {
  /** Number of hosts (1 to 65,534). */
  readonly hosts: number;
  /** Access switches the hosts are spread over, round-robin (default 1; more than 1 adds a core switch). */
  readonly switches?: number;
  /** Faults of every host's cable (default none). */
  readonly portFaults?: Faults;
  /** Faults of every access switch's uplink to the core (default none). */
  readonly uplinkFaults?: Faults;
  /**
   * Join the access switches by routers instead of a core switch: each
   * switch is its own subnet 10.(s+1).0.0/16 with a router at
   * 10.(s+1).255.254, made by `router(s)` (give each its own seed); the
   * routers meet on a core switch in 10.0.0.0/16 (router `s` at
   * `10.0.0.(s+1)`), each with a route to every other subnet, and forward
   * IPv4. Hosts get a default route to their router. `uplinkFaults` apply to
   * the routers' core cables. Needs 2 to 254 switches.
   */
  readonly router?: (index: number) => Stack;
}

/**
 * What {@linkcode buildLan} made.
 *
 * @example
 * ```ts
 * import type { Lan } from "./scenario.ts";
 * import assert from "node:assert/strict";
 * const lan: Pick<Lan, "address"> = { address: (i) => `10.0.0.${i + 1}` };
 * assert.equal(lan.address(0), "10.0.0.1");
 * ```
 */
export interface Lan {
  /** The hosts, by index. */
  readonly hosts: readonly Stack[];
  /** The access switches (and the core switch last, if any). */
  readonly switches: readonly Switch[];
  /** The routers, by access switch (empty unless `LanOptions.router` was given). */
  readonly routers: readonly Stack[];
  /**
   * Host `i`'s IPv4 address: 10.0.0.0/16 from 10.0.0.1 on one broadcast
   * domain; with routers, 10.(s+1).x.y where `s = i % switches`, from
   * 10.(s+1).0.1.
   */
  address(i: number): string;
}

function hostAddress(i: number): string {
  const n = i + 1;
  return `10.0.${n >> 8}.${n & 0xff}`;
}

/** Host `i`'s address when `m` switches are routed subnets. */
function routedAddress(i: number, m: number): string {
  const s = i % m, n = Math.floor(i / m) + 1;
  return `10.${s + 1}.${n >> 8}.${n & 0xff}`;
}

/** Router `s`'s address in its own subnet. */
function gatewayAddress(s: number): string {
  return `10.${s + 1}.255.254`;
}

/**
 * Builds a LAN of `options.hosts` stacks made by `makeStack(i)` (give each its
 * own seed), each with one interface and an address in 10.0.0.0/16.
 *
 * @throws {RangeError} If `hosts` or `switches` is not a positive integer in range.
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { buildLan } from "./scenario.ts";
 * import { createStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const lan = buildLan(net, { hosts: 6, switches: 2, portFaults: { delay: 1_000 } }, (i) =>
 *   createStack({ clock: net.clock, seed: i + 1 }));
 * const reply = await net.run(() => lan.hosts[0]!.ping(lan.address(5)));
 * assert.equal(reply.from, "10.0.0.6");
 * ```
 *
 * @example Three subnets joined by routers
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { buildLan } from "./scenario.ts";
 * import { createStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const lan = buildLan(net, {
 *   hosts: 6,
 *   switches: 3,
 *   router: (s) => createStack({ clock: net.clock, seed: 100 + s }),
 * }, (i) => createStack({ clock: net.clock, seed: i + 1 }));
 * assert.equal(lan.address(4), "10.2.0.2"); // host 4: switch 1, second host
 * const hops = await net.run(() => lan.hosts[0]!.traceroute(lan.address(4)));
 * assert.deepEqual(hops.map((h) => h.from), ["10.1.255.254", "10.0.0.2", "10.2.0.2"]);
 * ```
 */
export function buildLan(
  net: VirtualNetwork,
  options: LanOptions,
  makeStack: (index: number) => Stack,
): Lan {
  const n = options.hosts;
  if (!(Number.isInteger(n) && n >= 1 && n <= 65_534)) {
    throw new RangeError(`Cannot build LAN: hosts must be an integer from 1 to 65534, got ${n}`);
  }
  const m = options.switches ?? 1;
  if (!(Number.isInteger(m) && m >= 1 && m <= n)) {
    throw new RangeError(`Cannot build LAN: switches must be an integer from 1 to ${n}, got ${m}`);
  }
  if (options.router !== undefined) {
    if (typeof options.router !== "function") {
      throw new TypeError("Cannot build LAN: router must be a function making a router's stack");
    }
    return buildRouted(net, options, m, makeStack);
  }
  const table = n + m + 16;
  const access: Switch[] = [];
  for (let s = 0; s < m; s++) access.push(net.switch({ macTableSize: table }));
  const switches = [...access];
  if (m > 1) {
    const core = net.switch({ macTableSize: table });
    switches.push(core);
    const uplink = options.uplinkFaults === undefined ? {} : { faults: options.uplinkFaults };
    for (const sw of access) {
      // Join an access port to a core port with a zero-cost forwarder pair.
      const up = sw.port(uplink);
      const down = core.port();
      up.attach({
        pool: net.pool,
        ifindex: 0,
        now: () => net.now(),
        receive: (p) => down.transmit(p),
      });
      down.attach({
        pool: net.pool,
        ifindex: 0,
        now: () => net.now(),
        receive: (p) => up.transmit(p),
      });
    }
  }
  const port = options.portFaults === undefined ? {} : { faults: options.portFaults };
  const hosts: Stack[] = [];
  for (let i = 0; i < n; i++) {
    const stack = net.addNode(makeStack(i));
    stack.addInterface({ driver: access[i % m]!.port(port), addresses: [`${hostAddress(i)}/16`] });
    hosts.push(stack);
  }
  return { hosts, switches, routers: [], address: hostAddress };
}

/** {@linkcode buildLan} with one routed subnet per access switch. */
function buildRouted(
  net: VirtualNetwork,
  options: LanOptions,
  m: number,
  makeStack: (index: number) => Stack,
): Lan {
  const n = options.hosts;
  if (m < 2 || m > 254) {
    throw new RangeError(`Cannot build LAN: routers need 2 to 254 switches, got ${m}`);
  }
  if (Math.ceil(n / m) > 65_533) {
    throw new RangeError(`Cannot build LAN: more than 65533 hosts per subnet (${n} over ${m})`);
  }
  const perSwitch = Math.ceil(n / m);
  const access: Switch[] = [];
  for (let s = 0; s < m; s++) access.push(net.switch({ macTableSize: perSwitch + 16 }));
  const core = net.switch({ macTableSize: m + 16 });
  const uplink = options.uplinkFaults === undefined ? {} : { faults: options.uplinkFaults };
  const routers: Stack[] = [];
  for (let s = 0; s < m; s++) {
    const router = net.addNode(options.router!(s));
    router.addInterface({ driver: access[s]!.port(), addresses: [`${gatewayAddress(s)}/16`] });
    router.addInterface({ driver: core.port(uplink), addresses: [`${hostAddress(s)}/16`] });
    router.setForwarding(true, 4);
    routers.push(router);
  }
  for (let s = 0; s < m; s++) {
    for (let t = 0; t < m; t++) {
      if (t !== s) routers[s]!.addRoute(`10.${t + 1}.0.0/16`, { gateway: hostAddress(t) });
    }
  }
  const port = options.portFaults === undefined ? {} : { faults: options.portFaults };
  const hosts: Stack[] = [];
  for (let i = 0; i < n; i++) {
    const stack = net.addNode(makeStack(i));
    stack.addInterface({
      driver: access[i % m]!.port(port),
      addresses: [`${routedAddress(i, m)}/16`],
    });
    stack.addRoute("0.0.0.0/0", { gateway: gatewayAddress(i % m) });
    hosts.push(stack);
  }
  return {
    hosts,
    switches: [...access, core],
    routers,
    address: (i: number) => routedAddress(i, m),
  };
}

/**
 * Options of {@linkcode requestResponse}.
 *
 * @example
 * ```ts
 * import type { RequestResponseOptions } from "./scenario.ts";
 * import assert from "node:assert/strict";
 * const options: RequestResponseOptions = { until: 60_000_000, size: 1024 };
 * assert.equal(options.size, 1024);
 * ```
 */
export interface RequestResponseOptions {
  /** Virtual time at which clients stop sending. */
  readonly until: number;
  /** Request and response size in bytes (default 1024). */
  readonly size?: number;
  /** Time between requests of one client (default 1 s). */
  readonly interval?: Duration;
  /** Server port (default 80). */
  readonly port?: number;
}

/**
 * Reads exactly `buf.length` bytes from `conn`; false at the end of the
 * stream first. (Shared by the scenario's traffic, the simulation benchmark
 * and the simulation tests; not part of `mod.ts`.)
 */
export async function readFull(
  conn: { read(b: Uint8Array): Promise<number | null> },
  buf: Uint8Array,
): Promise<boolean> {
  let got = 0;
  while (got < buf.length) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) return false;
    got += n;
  }
  return true;
}

/**
 * Traffic: for each `[client, server]` pair of host indexes, the server
 * listens, the client connects at a start time drawn from `net.rng` within
 * the first interval, then sends one request per interval and reads the
 * echoed response, until `until`. Resolves with the number of completed
 * requests; run it inside `net.run()`.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { buildLan, requestResponse } from "./scenario.ts";
 * import { createStack, SECOND } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 2 });
 * const lan = buildLan(net, { hosts: 4, portFaults: { delay: 500 } }, (i) =>
 *   createStack({ clock: net.clock, seed: i + 1 }));
 * const done = await net.run(() =>
 *   requestResponse(net, lan, [[0, 2], [1, 3]], { until: 5 * SECOND })
 * );
 * assert.equal(done, 8); // 2 pairs × 4 whole seconds after their start
 * ```
 */
export async function requestResponse(
  net: VirtualNetwork,
  lan: Lan,
  pairs: readonly (readonly [number, number])[],
  options: RequestResponseOptions,
): Promise<number> {
  const size = options.size ?? 1024;
  const interval = options.interval ?? SECOND;
  const port = options.port ?? 80;
  let completed = 0;
  const work: Promise<void>[] = [];
  for (const [c, s] of pairs) {
    const client = lan.hosts[c], server = lan.hosts[s];
    if (client === undefined || server === undefined) {
      throw new RangeError(`Cannot start traffic: no host ${client === undefined ? c : s}`);
    }
    const listener = server.listen({ port });
    work.push((async () => {
      const conn = await listener.accept();
      listener.close();
      const buf = new Uint8Array(size);
      while (await readFull(conn, buf)) await conn.write(buf);
      conn.close();
    })());
    const start = net.now() + net.rng.range(0, interval - 1);
    work.push((async () => {
      await new Promise<void>((r) => net.at(start, r));
      const conn = await client.connect({ hostname: lan.address(s), port });
      const req = new Uint8Array(size), res = new Uint8Array(size);
      for (let next = start; next + interval <= options.until; next += interval) {
        if (net.now() < next) await new Promise<void>((r) => net.at(next, r));
        await conn.write(req);
        if (!await readFull(conn, res)) break;
        completed++;
      }
      conn.close();
    })());
  }
  await Promise.all(work);
  return completed;
}

/**
 * Runs `net` for `duration` of virtual time in slices of `every` (default
 * 10 s), calling `onProgress(done, total)` after each slice: progress on
 * long runs.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { runWithProgress } from "./scenario.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const seen: number[] = [];
 * runWithProgress(net, 30_000_000, (done) => seen.push(done));
 * assert.deepEqual(seen, [10_000_000, 20_000_000, 30_000_000]);
 * ```
 */
export function runWithProgress(
  net: VirtualNetwork,
  duration: Duration,
  onProgress: (done: Duration, total: Duration) => void,
  every: Duration = 10 * SECOND,
): void {
  if (!(duration >= 0) || !(every > 0)) {
    throw new RangeError(`Cannot run: duration ${duration} and slice ${every} must be positive`);
  }
  for (let done = 0; done < duration;) {
    const slice = Math.min(every, duration - done);
    net.runFor(slice);
    done += slice;
    onProgress(done, duration);
  }
}

/**
 * Options of {@linkcode bulk}.
 *
 * @example
 * ```ts
 * import type { BulkOptions } from "./scenario.ts";
 * import assert from "node:assert/strict";
 * const options: BulkOptions = { bytes: 1 << 20, startWithin: 1_000_000 };
 * assert.equal(options.bytes, 1048576);
 * ```
 */
export interface BulkOptions {
  /** Bytes each client sends (1 or more). */
  readonly bytes: number;
  /** Start times are drawn from `net.rng` within this window from now (default 1 s). */
  readonly startWithin?: Duration;
  /** Bytes per write (default 16 KiB). */
  readonly chunk?: number;
  /** Server port (default 5001, as iperf's). */
  readonly port?: number;
}

/**
 * One bulk flow's outcome, from {@linkcode bulk}.
 *
 * @example
 * ```ts
 * import type { BulkFlow } from "./scenario.ts";
 * import assert from "node:assert/strict";
 * const flow: BulkFlow = { client: 0, server: 1, bytes: 10, start: 0, end: 2_000 };
 * assert.equal(flow.end - flow.start, 2_000);
 * ```
 */
export interface BulkFlow {
  /** Client host index. */
  readonly client: number;
  /** Server host index. */
  readonly server: number;
  /** Bytes the server read before the client's end of stream. */
  readonly bytes: number;
  /** Virtual time the client started connecting. */
  readonly start: Instant;
  /** Virtual time the server read the end of stream. */
  readonly end: Instant;
}

/**
 * Bulk traffic: for each `[client, server]` pair of host indexes, the server
 * listens, the client connects at a start time drawn from `net.rng` within
 * `startWithin`, writes `bytes` and closes; the server reads to the end of
 * the stream. Resolves with one {@linkcode BulkFlow} per pair, in pair
 * order; run it inside `net.run()`.
 *
 * @throws {RangeError} If `bytes` or `chunk` is not a positive integer, or a pair names no host.
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { buildLan, bulk } from "./scenario.ts";
 * import { createStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 3 });
 * const lan = buildLan(net, { hosts: 4, portFaults: { delay: 500, loss: 0.01 } }, (i) =>
 *   createStack({ clock: net.clock, seed: i + 1 }));
 * const flows = await net.run(() => bulk(net, lan, [[0, 2], [1, 3]], { bytes: 200_000 }));
 * assert.deepEqual(flows.map((f) => f.bytes), [200_000, 200_000]);
 * assert.ok(flows.every((f) => f.end > f.start));
 * ```
 */
export function bulk(
  net: VirtualNetwork,
  lan: Lan,
  pairs: readonly (readonly [number, number])[],
  options: BulkOptions,
): Promise<BulkFlow[]> {
  const bytes = options.bytes, chunk = options.chunk ?? 16_384;
  for (const [name, v] of [["bytes", bytes], ["chunk", chunk]] as const) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new RangeError(
        `Cannot start bulk traffic: ${name} must be a positive integer, got ${v}`,
      );
    }
  }
  const window = options.startWithin ?? SECOND;
  const port = options.port ?? 5001;
  for (const [c, s] of pairs) {
    if (lan.hosts[c] === undefined || lan.hosts[s] === undefined) {
      throw new RangeError(`Cannot start bulk traffic: no host ${lan.hosts[c] ? s : c}`);
    }
  }
  // Validated above, synchronously; the flows themselves are async.
  return Promise.all(pairs.map(async ([c, s]) => {
    const client = lan.hosts[c]!, server = lan.hosts[s]!;
    const listener = server.listen({ port });
    const start = net.now() + net.rng.range(0, Math.max(0, window - 1));
    const received = (async () => {
      const conn = await listener.accept();
      listener.close();
      const buf = new Uint8Array(65_536);
      let got = 0;
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) got += n;
      conn.close();
      return { got, end: net.now() };
    })();
    await new Promise<void>((r) => net.at(start, r));
    const conn = await client.connect({ hostname: lan.address(s), port });
    const data = new Uint8Array(chunk);
    for (let sent = 0; sent < bytes;) {
      const n = Math.min(chunk, bytes - sent);
      sent += await conn.write(n === chunk ? data : data.subarray(0, n));
    }
    conn.close();
    const { got, end } = await received;
    return { client: c, server: s, bytes: got, start, end };
  }));
}

/**
 * Calls `onProgress(now, until)` every `every` of virtual time until `until`
 * (default every 10 s), from callbacks on the network's clock: progress for
 * long runs inside `net.run()` (use {@linkcode runWithProgress} outside one).
 *
 * @throws {RangeError} If `every` is not a positive integer.
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { reportProgress } from "./scenario.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const seen: number[] = [];
 * reportProgress(net, 25_000_000, (now) => seen.push(now));
 * net.runFor(60_000_000);
 * assert.deepEqual(seen, [10_000_000, 20_000_000, 25_000_000]);
 * ```
 */
export function reportProgress(
  net: VirtualNetwork,
  until: Instant,
  onProgress: (now: Instant, until: Instant) => void,
  every: Duration = 10 * SECOND,
): void {
  if (!(Number.isInteger(every) && every > 0)) {
    throw new RangeError(`Cannot report progress: every must be a positive integer, got ${every}`);
  }
  const tick = (): void => {
    const now = net.now();
    onProgress(now, until);
    if (now < until) net.at(Math.min(now + every, until), tick);
  };
  const first = net.now() + every;
  net.at(first < until ? first : until, tick);
}

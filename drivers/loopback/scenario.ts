/**
 * Large topologies in a few lines (issue 19): N hosts spread over M access
 * switches joined through one core switch, request/response traffic between
 * host pairs with seeded start times, and a runner that reports progress.
 *
 * Not yet: routers between the switches (one broadcast domain for now), bulk
 * flows, partitioning over Workers.
 *
 * @module
 */
import type { Duration } from "../../stack/clock.ts";
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
  /** Host `i`'s IPv4 address (10.0.0.0/16, from 10.0.0.1). */
  address(i: number): string;
}

function hostAddress(i: number): string {
  const n = i + 1;
  return `10.0.${n >> 8}.${n & 0xff}`;
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
  return { hosts, switches, address: hostAddress };
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

async function readFull(conn: { read(b: Uint8Array): Promise<number | null> }, buf: Uint8Array) {
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

/**
 * Simulation at scale (issue 19): one switch, N hosts, half of them clients
 * each sending a 1 KiB request per second over one TCP connection to a
 * partner that answers with 1 KiB; 1% loss and 1 ms delay on every port.
 * Prints simulated time, real time, speed-up, RSS and the heap delta.
 *
 * ```sh
 * deno run -A bench/sim_bench.ts                 # N = 10, 100, 500, 1000, each for its default time
 * SIM_HOSTS=1000 SIM_SECONDS=60 deno run -A bench/sim_bench.ts
 * SIM_PLUGINS=default deno run -A bench/sim_bench.ts   # with IPv6 (DAD, RS, MLD at start-up)
 * deno run -A bench/sim_bench.ts --workers 2     # 1,000 hosts: one thread, then 2 Workers
 * ```
 *
 * `--workers N`: the partitioned scenario of tests/sim/_partition_scenario.ts
 * (hosts on `SIM_SWITCHES` access switches, default N, in a line joined by
 * trunks of 1 ms; every `SIM_CROSS`-th pair, default 10, talks across a
 * trunk), run in one thread and then split over N Workers by
 * `runPartitioned`; prints both rows and checks the results are identical.
 * `SIM_SECONDS` sets the simulated time (issue 19's target is an hour:
 * `SIM_SECONDS=3600`), `SIM_ROUNDS` repeats the pair of runs (one thread and
 * Workers alternating; medians and ranges at the end), `SIM_MODES=workers`
 * (or `one`) runs only that side; `SIM_BARRIER=1` and `SIM_EVERY_STEP=1`
 * set `runPartitioned`'s `barrier` and `publishEveryStep`; `SIM_TRACE=1` its
 * `traceSteps` (every step's CPU, a few µs each: the run replayed on idle
 * cores, with the waits the bounds impose and no others, and the steady
 * state's from `SIM_STEADY` seconds on, default 2, at 1 to 10 lookaheads); `SIM_SAMPLE=S`
 * prints each partition's CPU, waits and heap per S simulated seconds beside
 * the one thread's (`sampleEvery`). `SIM_MODES=twin` measures the machine
 * instead: the one-thread run alone, then two of them at once (separate
 * processes, no shared memory); how much slower each gets with both cores
 * busy bounds what 2 Workers can gain here (shared caches, memory
 * bandwidth, a host that shares the two vCPUs' cores).
 *
 * Env: `SIM_HOSTS` (comma list), `SIM_SECONDS` (simulated seconds per run;
 * default 3600 for 10 hosts, 360 for 100, 36 for 500 and 1000),
 * `SIM_PLUGINS` (`v4`: ethernet, arp, ipv4, icmp, udp, tcp, the default;
 * `default`: createStack's list), `SIM_SEED`, `SIM_SUBNETS` (M > 1: the
 * hosts on M switches joined by routers, `buildLan`'s routed form, and each
 * client's server one pair further on, so most requests cross two routers),
 * `SIM_PROGRESS` (`0` turns off the progress lines written to stderr every
 * 5% of the simulated time; with `--v8-flags=--expose-gc` they show the
 * memory after a full collection), `SIM_POOL` (`own`: each host its own
 * packet pool, createStack's default; else all share the network's pool).
 *
 * @module
 */
import { median } from "./_stats.ts";
import process from "node:process";
import {
  buildLan,
  createStack,
  DEFAULT_PLUGINS,
  formatCounters,
  MILLISECOND,
  type ProtocolPlugin,
  reportProgress,
  runPartitioned,
  SECOND,
  type Stack,
  VirtualNetwork,
} from "../mod.ts";
import type { SimParams } from "../tests/sim/_partition_scenario.ts";
import { readFull } from "../drivers/loopback/scenario.ts";
import {
  clairvoyant,
  replayPair,
  spreadEvenly,
  traceFrom,
} from "../drivers/loopback/_partition_replay.ts";

const REQUEST = 1024;
/**
 * Every request and response is 1 KiB of zeros, so all connections share
 * one buffer to send and one to read into (3 KiB per pair is 15 MB at
 * 10,000 hosts; the bytes on the wire are the same).
 */
const ZEROS = new Uint8Array(REQUEST);
const SCRATCH = new Uint8Array(REQUEST);

function plugins(which: string): readonly ProtocolPlugin[] {
  if (which === "default") return DEFAULT_PLUGINS;
  const keep = new Set(["ethernet", "arp", "ipv4", "icmp", "udp", "tcp"]);
  return DEFAULT_PLUGINS.filter((p) => keep.has(p.manifest.name));
}

function hostAddress(i: number): string {
  return `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
}

/**
 * RSS, V8 heap used/total and external (ArrayBuffer) memory, in MiB; after
 * two full collections when started with `--v8-flags=--expose-gc` (the live
 * memory, not the garbage between collections).
 */
function memoryLine(): string {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc(), gc();
  const m = Deno.memoryUsage();
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  return `${mib(m.rss)} MiB RSS (heap ${mib(m.heapUsed)}/${mib(m.heapTotal)}, external ${
    mib(m.external)
  })`;
}

interface Result {
  hosts: number;
  simulated: number;
  real: number;
  cpu: number;
  requests: number;
  rssMiB: number;
  heapMiB: number;
}

async function runOnce(hosts: number, seconds: number, which: string, seed: number) {
  const heapBefore = Deno.memoryUsage().heapUsed;
  const net = new VirtualNetwork({ seed });
  const list = plugins(which);
  // One packet pool for every host and router (the network's own, see
  // SIM_POOL): the buffers held at once are then those in flight over the
  // whole network, not each host's own high-water mark of two or three
  // 2 KiB buffers (about 6 KB a host, 60 MB at 10,000 hosts).
  const pool = Deno.env.get("SIM_POOL") === "own" ? {} : { pool: net.pool };
  const stacks: Stack[] = [];
  const pairs = hosts >> 1;
  // Server of client p, and its address (on one switch: host pairs + p).
  let serverOf = (p: number) => pairs + p;
  let addressOf = (i: number) => hostAddress(i + 1);
  const subnets = Number(Deno.env.get("SIM_SUBNETS") ?? "0");
  if (subnets > 1) {
    const make = (i: number) =>
      createStack({ clock: net.clock, seed: seed * 100_003 + i, plugins: list, ...pool });
    const lan = buildLan(net, {
      hosts,
      switches: subnets,
      portFaults: { delay: MILLISECOND, loss: 0.01 },
      router: (s) => make(hosts + s),
    }, make);
    stacks.push(...lan.hosts);
    serverOf = (p) => pairs + (p + 1) % pairs;
    addressOf = lan.address;
  }
  const sw = net.switch({ macTableSize: Math.max(1024, hosts * 2) });
  for (let i = 0; i < hosts && subnets <= 1; i++) {
    const s = net.addNode(
      createStack({ clock: net.clock, seed: seed * 100_003 + i, plugins: list, ...pool }),
    );
    s.addInterface({
      driver: sw.port({ faults: { delay: MILLISECOND, loss: 0.01 } }),
      addresses: [`${hostAddress(i + 1)}/8`],
    });
    stacks.push(s);
  }
  const end = seconds * SECOND;
  let requests = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  if (Deno.env.get("SIM_PROGRESS") !== "0") {
    const every = Math.max(SECOND, Math.round(end / 20 / SECOND) * SECOND);
    reportProgress(net, end, (now) => {
      const c = process.cpuUsage(cpu0);
      // deno-lint-ignore no-console
      console.error(
        `  ${hosts} hosts: ${now / SECOND} of ${seconds} s simulated, ${requests} requests, ` +
          `${((c.user + c.system) / 1e6).toFixed(1)} CPU-s, ` +
          `${memoryLine()}, ${net.pending} queued`,
      );
    }, every);
  }
  await net.run(async () => {
    const work: Promise<void>[] = [];
    for (let p = 0; p < pairs; p++) {
      const server = stacks[serverOf(p)]!;
      const client = stacks[p]!;
      const listener = server.listen({ port: 80 });
      work.push((async () => {
        const conn = await listener.accept();
        listener.close();
        while (await readFull(conn, SCRATCH)) await conn.write(ZEROS);
        conn.close();
      })());
      // Seeded start within the first second, then one request a second.
      const start = net.rng.range(0, SECOND - 1);
      work.push((async () => {
        await new Promise<void>((r) => net.at(start, r));
        const conn = await client.connect({ hostname: addressOf(serverOf(p)), port: 80 });
        let next = start;
        while (next + SECOND <= end) {
          await conn.write(ZEROS);
          if (!await readFull(conn, SCRATCH)) break;
          requests++;
          next += SECOND;
          if (net.now() < next) await new Promise<void>((r) => net.at(next, r));
        }
        conn.close();
      })());
    }
    await Promise.all(work);
  }, { timeout: end + 120 * SECOND });
  const real = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result: Result = {
    hosts,
    simulated: net.now() / SECOND,
    real: real / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    requests,
    rssMiB: Deno.memoryUsage().rss / 2 ** 20,
    heapMiB: (Deno.memoryUsage().heapUsed - heapBefore) / 2 ** 20,
  };
  if (Deno.env.get("SIM_VERBOSE")) {
    // deno-lint-ignore no-console
    console.log(sw.stats(), formatCounters(stacks[0]!.counters.snapshot()));
  }
  for (const s of stacks) s.close();
  net.close();
  return result;
}

const DEFAULT_SECONDS: Record<number, number> = { 10: 3600, 100: 360, 500: 36, 1000: 36 };

/** One row of `--workers`: the partitioned scenario in `partitions` partitions. */
async function runPartitionedOnce(
  hosts: number,
  seconds: number,
  seed: number,
  partitions: number,
  switches: number,
  crossEvery: number,
) {
  const params: SimParams = {
    switches,
    hostsPerSwitch: Math.max(2, Math.round(hosts / switches / 2) * 2),
    crossEvery,
    portFaults: { delay: MILLISECOND, loss: 0.01 },
    trunkFaults: { delay: MILLISECOND, loss: 0.01 },
    until: seconds * SECOND,
    hostSeed: seed,
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await runPartitioned({
    module: new URL("../tests/sim/_partition_scenario.ts", import.meta.url),
    partitions,
    seed,
    duration: seconds * SECOND,
    params,
    profile: Deno.env.get("SIM_PROFILE") !== "0",
    traceSteps: Deno.env.get("SIM_TRACE") === "1",
    barrier: Deno.env.get("SIM_BARRIER") === "1",
    publishEveryStep: Deno.env.get("SIM_EVERY_STEP") === "1",
    sampleEvery: Number(Deno.env.get("SIM_SAMPLE") ?? "0") * SECOND,
  });
  const real = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { r, real, cpu: (cpu.user + cpu.system) / 1e6, hosts: params.hostsPerSwitch * switches };
}

type PartitionedRow = Awaited<ReturnType<typeof runPartitionedOnce>>;

/** "median (min–max, n runs)" of `xs` with `digits` decimals. */
function spread(xs: readonly number[], digits: number, unit: string): string {
  const f = (x: number) => x.toFixed(digits);
  return `${f(median(xs))}${unit} (${f(Math.min(...xs))}–${f(Math.max(...xs))}, ${xs.length} runs)`;
}

/** One row of the table, then where each partition's time went. */
function printRow(x: PartitionedRow, seconds: number, oneReal: number, same: string): void {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const t = x.r.timing;
  // deno-lint-ignore no-console
  console.log(
    `| ${x.hosts} | ${x.r.partitions} | ${seconds} s | ${x.real.toFixed(2)} s | ` +
      `${x.cpu.toFixed(2)} s | ${(oneReal / x.real).toFixed(2)}× | ${x.r.report.requests} | ` +
      `${x.r.windows} | ${x.r.boundaryFrames} | ` +
      `${x.r.busyMs.map((ms) => (ms / 1000).toFixed(1) + " s").join(" / ")} | ${same} |`,
  );
  // deno-lint-ignore no-console
  console.log(
    `  ${x.r.partitions} partition(s): start ${t.map((p) => s(p.startMs)).join(" / ")} s wall ` +
      `(build ${t.map((p) => s(p.buildMs)).join(" / ")} s wall, ` +
      `${t.map((p) => s(p.buildCpuMs)).join(" / ")} CPU-s); run CPU ${
        t.map((p) => s(p.runCpuMs)).join(" / ")
      } s (spin ${t.map((p) => s(p.spinMs)).join(" / ")}); wait ${
        t.map((p) => s(p.waitMs)).join(" / ")
      } s wall (its CPU ${t.map((p) => s(p.waitCpuMs)).join(" / ")} s); waits/simulated s ${
        (x.r.windows / seconds).toFixed(0)
      }, slept in ${t.map((p) => p.sleeps).join(" / ")}; bounds published ${
        t.map((p) => p.publications).join(" / ")
      }`,
  );
  if (t[0]?.waitCauses === undefined) return;
  const pct = (n: number, all: number) => `${(100 * n / all).toFixed(1)}%`;
  for (const [i, p] of t.entries()) {
    const causes = Object.entries(p.waitCauses ?? {}).filter(([, n]) => n > 0);
    const lengths = p.waitLengths!;
    const label = ["≤10", "≤30", "≤100", "≤300", "≤1000", ">1000"];
    const row = (xs: readonly number[]) =>
      xs.map((n, k) => `${label[k]} µs ${pct(n, p.windows)}`).join(", ");
    // deno-lint-ignore no-console
    console.log(
      `  p${i} hosts' steps ahead ${p.aheadSteps}, frames taken late ${p.lateFrames}; waits by cause: ${
        causes.map(([k, n]) => `${k} ${pct(n, p.windows)}`).join(", ")
      }` +
        `; spun ${row(lengths.spun)}; slept ${row(lengths.slept)}`,
    );
  }
}

/**
 * With `SIM_SAMPLE`: each interval's CPU (and, for Workers, of it the
 * waits' CPU and the wall time waited) and heap, per partition, beside the
 * one-thread run's, so a cost per simulated minute that grows shows when.
 */
function printSamples(one: PartitionedRow | null, many: PartitionedRow | null): void {
  const F = 5;
  const rows = [one, many].flatMap((x) => x?.r.timing.map((t) => t.samples ?? []) ?? []);
  if (rows.length === 0 || rows[0]!.length === 0) return;
  const names = [
    ...(one === null ? [] : ["one"]),
    ...(many === null ? [] : many.r.timing.map((_, i) => `p${i}`)),
  ];
  // deno-lint-ignore no-console
  console.log(
    `  per interval: simulated s | ${
      names.map((n) => `${n} CPU-s (waits' CPU, waited wall) heap MiB`).join(" | ")
    }`,
  );
  const n = Math.min(...rows.map((r) => r.length / F));
  for (let k = 0; k < n; k++) {
    const cells = rows.map((r) => {
      const d = (f: number) => r[k * F + f]! - (k === 0 ? 0 : r[(k - 1) * F + f]!);
      const waitCpu = Number.isNaN(d(3)) ? "" : ` (${(d(3) / 1000).toFixed(2)}, ` +
        `${(d(2) / 1000).toFixed(2)})`;
      return `${(d(1) / 1000).toFixed(2)}${waitCpu} ${r[k * F + 4]!.toFixed(0)}`;
    });
    // deno-lint-ignore no-console
    console.log(`  ${rows[0]![k * F]!.toFixed(0)} | ${cells.join(" | ")}`);
  }
}

/**
 * The estimated speed-up of `many` over the one-thread run's CPU `base`
 * (ms), as on idle cores: without barriers, the busiest partition's CPU
 * (its spinning left out, at most 200 µs a wait; sync work included), and
 * the two partitions' steps replayed under the run-ahead rule (the causal
 * waits included: `replayed`); with barriers, the critical path plus 5 µs
 * a barrier.
 */
function printEstimate(many: PartitionedRow, base: number): { busy: number; replayed: number } {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const pair = many.r.timing.some((p) => p.publications > 0);
  if (!pair && !Number.isNaN(many.r.criticalCpuMs)) {
    const path = many.r.criticalCpuMs + many.r.windows * 0.005;
    // deno-lint-ignore no-console
    console.log(
      `  critical path ${s(many.r.criticalCpuMs)} CPU-s + ${many.r.windows} barriers × 5 µs: ` +
        `estimated speed-up ${(base / path).toFixed(2)}× (one-thread run ${s(base)} CPU-s)`,
    );
    return { busy: base / path, replayed: NaN };
  }
  // The waits' measured CPU, or else their spinning (at most 200 µs a wait).
  const busy = many.r.timing.map((p) =>
    p.runCpuMs - (Number.isNaN(p.waitCpuMs) ? Math.min(p.spinMs, p.windows * 0.2) : p.waitCpuMs)
  );
  const replayed = many.r.criticalCpuMs;
  // deno-lint-ignore no-console
  console.log(
    `  busy CPU ${busy.map(s).join(" / ")} s (waits' CPU ${
      many.r.timing.map((p) => s(p.waitCpuMs)).join(" / ")
    } s), waits ${many.r.timing.map((p) => p.windows).join(" / ")}, bounds published ${
      many.r.timing.map((p) => p.publications).join(" / ")
    }: estimated speed-up ${(base / Math.max(...busy)).toFixed(2)}× ` +
      `(one-thread run ${s(base)} CPU-s)` +
      (Number.isNaN(replayed) ? "" : `; steps replayed on idle cores ${s(replayed)} s ` +
        `(causal waits ${s(replayed - Math.max(...busy))} s): ${(base / replayed).toFixed(2)}×`),
  );
  if (many.r.stepTraces !== undefined) {
    printSweep(many.r.stepTraces, many.r.stepSends!, many.r.lookahead);
  }
  return { busy: base / Math.max(...busy), replayed: base / replayed };
}

/**
 * The causal waits in the steady state (the steps from `SIM_STEADY`
 * simulated seconds on, default 2: the start-up's JIT warm-up and floods
 * left out) replayed at multiples of the lookahead, as a share of the
 * busier partition's CPU: how far a longer lookahead would move them (it
 * is the topology's, so this is what-if only); and at the lookahead with
 * clairvoyant bounds (`clairvoyant()`: each partition's bound is its next
 * actual crossing), the waits no promise about future sends can remove,
 * and with the CPU spread evenly over simulated time (`spreadEvenly()`),
 * the waits the work's clustering does not cause.
 */
function printSweep(
  traces: readonly Float64Array[],
  sends: readonly Float64Array[],
  lookahead: number,
): void {
  const from = Number(Deno.env.get("SIM_STEADY") ?? "2") * SECOND;
  const [a, b] = traces.map((t) => traceFrom(t, from)) as [Float64Array, Float64Array];
  const [ca, cb] = traces.map((t, i) => traceFrom(clairvoyant(t, sends[i]!, lookahead), from)) as [
    Float64Array,
    Float64Array,
  ];
  const cpu = (t: Float64Array) => {
    let sum = 0;
    for (let i = 1; i < t.length - 1; i += 3) sum += t[i]!;
    return sum;
  };
  const busy = Math.max(cpu(a), cpu(b));
  const cells = [1, 2, 3, 5, 10].map((k) => {
    const causal = replayPair(a, b, k * lookahead) / busy - 1;
    return `${k * lookahead / MILLISECOND} ms ${(100 * causal).toFixed(1)}%`;
  });
  // deno-lint-ignore no-console
  console.log(
    `  steady state (from ${from / SECOND} s): busy ${
      (busy / 1000).toFixed(2)
    } CPU-s; causal waits ` +
      `replayed, by lookahead: ${cells.join(", ")}; with clairvoyant bounds (each the next ` +
      `frame it sends across: the ceiling of any promise) ${
        (100 * (replayPair(ca, cb, lookahead) / busy - 1)).toFixed(1)
      }%; with each partition's CPU spread evenly over simulated time (the work's clustering ` +
      `left out) ${
        (100 * (replayPair(spreadEvenly(a), spreadEvenly(b), lookahead) / busy - 1)).toFixed(1)
      }%`,
  );
}

async function workersMode(workers: number): Promise<void> {
  const hostsList = (Deno.env.get("SIM_HOSTS") ?? "1000").split(",").map(Number);
  const seed = Number(Deno.env.get("SIM_SEED") ?? "1");
  const switches = Number(Deno.env.get("SIM_SWITCHES") ?? String(workers));
  const crossEvery = Number(Deno.env.get("SIM_CROSS") ?? "10");
  const secondsEnv = Deno.env.get("SIM_SECONDS");
  const rounds = Number(Deno.env.get("SIM_ROUNDS") ?? "1");
  const modes = new Set((Deno.env.get("SIM_MODES") ?? "one,workers").split(","));
  if (!(Number.isInteger(rounds) && rounds >= 1)) {
    throw new RangeError(`SIM_ROUNDS needs a whole number of rounds, got ${rounds}`);
  }
  for (const m of modes) {
    if (m !== "one" && m !== "workers" && m !== "twin") {
      throw new RangeError(`SIM_MODES takes "one", "workers" or "twin", got "${m}"`);
    }
  }
  if (modes.has("twin")) {
    if (modes.size > 1) throw new RangeError(`SIM_MODES=twin runs alone, got ${[...modes]}`);
    return await twinMode(hostsList, secondsEnv, rounds);
  }
  const head = () =>
    // deno-lint-ignore no-console
    console.log(
      `| hosts | partitions | simulated | real time | CPU time | speed-up vs 1 | requests | ` +
        `windows | boundary frames | busy per partition | identical |  (${
          new Date().toISOString().slice(11, 19)
        } UTC, load: ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")})`,
    );
  for (const hosts of hostsList) {
    const seconds = secondsEnv !== undefined ? Number(secondsEnv) : DEFAULT_SECONDS[hosts] ?? 60;
    const real: Record<"one" | "many", number[]> = { one: [], many: [] };
    const speedUps: number[] = [], estimates: number[] = [], replays: number[] = [];
    for (let round = 0; round < rounds; round++) {
      head();
      // deno-lint-ignore no-console
      console.log("|---|---|---|---|---|---|---|---|---|---|---|");
      // One thread and Workers alternate, so a change of load hits both.
      const one = modes.has("one")
        ? await runPartitionedOnce(hosts, seconds, seed, 1, switches, crossEvery)
        : null;
      const many = modes.has("workers")
        ? await runPartitionedOnce(hosts, seconds, seed, workers, switches, crossEvery)
        : null;
      const same = one === null || many === null
        ? "n/a"
        : JSON.stringify([one.r.report, one.r.links, one.r.switches]) ===
            JSON.stringify([many.r.report, many.r.links, many.r.switches])
        ? "yes"
        : "NO";
      if (Deno.env.get("SIM_TWIN_CHILD") === "1" && one !== null) {
        const runCpuMs = one.r.timing[0]!.runCpuMs;
        // deno-lint-ignore no-console
        console.log(`twin ${JSON.stringify({ real: one.real, runCpuMs })}`);
      }
      const oneReal = one?.real ?? NaN;
      for (const x of [one, many]) if (x !== null) printRow(x, seconds, oneReal, same);
      printSamples(one, many);
      if (one !== null) real.one.push(one.real);
      if (many !== null) real.many.push(many.real);
      if (one !== null && many !== null) {
        speedUps.push(one.real / many.real);
        const e = printEstimate(many, one.r.timing[0]!.runCpuMs);
        estimates.push(e.busy);
        if (!Number.isNaN(e.replayed)) replays.push(e.replayed);
      }
    }
    if (rounds === 1) continue;
    // deno-lint-ignore no-console
    console.log(
      `  ${hosts} hosts, ${seconds} s simulated, ${rounds} rounds: real time one thread ${
        real.one.length > 0 ? spread(real.one, 2, " s") : "n/a"
      }, ${workers} Workers ${real.many.length > 0 ? spread(real.many, 2, " s") : "n/a"}; ` +
        `speed-up ${speedUps.length > 0 ? spread(speedUps, 2, "×") : "n/a"}, estimated ${
          estimates.length > 0 ? spread(estimates, 2, "×") : "n/a"
        }, replayed ${replays.length > 0 ? spread(replays, 2, "×") : "n/a"} (load now ${
          Deno.loadavg()[0]!.toFixed(2)
        })`,
    );
  }
}

interface TwinRun {
  /** Wall time of the run, s. */
  readonly real: number;
  /** The run's thread CPU time (build left out), ms. */
  readonly runCpuMs: number;
}

/** A child process running the one-thread side of `--workers 2` (SIM_SWITCHES as set here). */
async function twinChild(hosts: number, seconds: number): Promise<TwinRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--workers", "2"],
    env: {
      SIM_HOSTS: String(hosts),
      SIM_SECONDS: String(seconds),
      SIM_MODES: "one",
      SIM_ROUNDS: "1",
      SIM_PROGRESS: "0",
      SIM_TWIN_CHILD: "1",
    },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith("twin "));
  if (!out.success || line === undefined) {
    throw new Error(`Cannot measure the machine: a one-thread run failed (code ${out.code})`);
  }
  return JSON.parse(line.slice(5)) as TwinRun;
}

/**
 * `SIM_MODES=twin`: the one-thread run alone, then two at once, `rounds`
 * times; each run's CPU with both cores busy against alone is the machine's
 * slow-down, and 2 / slow-down the most 2 Workers can gain on it.
 */
async function twinMode(
  hostsList: readonly number[],
  secondsEnv: string | undefined,
  rounds: number,
): Promise<void> {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  for (const hosts of hostsList) {
    const seconds = secondsEnv !== undefined ? Number(secondsEnv) : DEFAULT_SECONDS[hosts] ?? 60;
    const slowDowns: number[] = [], walls: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const load0 = Deno.loadavg()[0]!;
      const alone = await twinChild(hosts, seconds);
      const both = await Promise.all([twinChild(hosts, seconds), twinChild(hosts, seconds)]);
      const cpu = (both[0].runCpuMs + both[1].runCpuMs) / 2;
      const wall = (both[0].real + both[1].real) / 2;
      slowDowns.push(cpu / alone.runCpuMs);
      walls.push(wall / alone.real);
      // deno-lint-ignore no-console
      console.log(
        `  ${hosts} hosts, ${seconds} s simulated (${
          new Date().toISOString().slice(11, 19)
        } UTC, load ${load0.toFixed(2)} → ${Deno.loadavg()[0]!.toFixed(2)}): alone ${
          s(alone.runCpuMs)
        } CPU-s, ${alone.real.toFixed(2)} s wall; two at once ${
          both.map((b) => s(b.runCpuMs)).join(" / ")
        } CPU-s, ${both.map((b) => b.real.toFixed(2)).join(" / ")} s wall: CPU ×${
          (cpu / alone.runCpuMs).toFixed(2)
        }, wall ×${(wall / alone.real).toFixed(2)}`,
      );
    }
    const slow = median(slowDowns);
    // deno-lint-ignore no-console
    console.log(
      `  ${hosts} hosts, ${rounds} round(s): a run's CPU with both cores busy ×${
        spread(slowDowns, 2, "")
      }, wall ×${spread(walls, 2, "")}: 2 threads gain at most ${
        (2 / slow).toFixed(2)
      }× over one on this machine`,
    );
  }
}

if (import.meta.main && Deno.args[0] === "--workers") {
  const workers = Number(Deno.args[1] ?? "2");
  if (!(Number.isInteger(workers) && workers >= 1)) {
    throw new RangeError(`--workers needs a whole number of Workers, got ${Deno.args[1]}`);
  }
  await workersMode(workers);
} else if (import.meta.main) {
  const hostsList = (Deno.env.get("SIM_HOSTS") ?? "10,100,500,1000").split(",").map(Number);
  const which = Deno.env.get("SIM_PLUGINS") ?? "v4";
  const seed = Number(Deno.env.get("SIM_SEED") ?? "1");
  const secondsEnv = Deno.env.get("SIM_SECONDS");
  // deno-lint-ignore no-console
  console.log(
    `| hosts | simulated | real time | CPU time | speed-up | requests | RSS | heap delta |  (plugins: ${which})`,
  );
  // deno-lint-ignore no-console
  console.log("|---|---|---|---|---|---|---|---|");
  for (const hosts of hostsList) {
    const seconds = secondsEnv !== undefined ? Number(secondsEnv) : DEFAULT_SECONDS[hosts] ?? 60;
    try {
      const r = await runOnce(hosts, seconds, which, seed);
      // deno-lint-ignore no-console
      console.log(
        `| ${r.hosts} | ${r.simulated.toFixed(1)} s | ${r.real.toFixed(2)} s | ${
          r.cpu.toFixed(2)
        } s | ` +
          `${(r.simulated / r.real).toFixed(1)}× | ${r.requests} | ${r.rssMiB.toFixed(0)} MiB | ` +
          `${r.heapMiB.toFixed(1)} MiB |`,
      );
    } catch (err) {
      // deno-lint-ignore no-console
      console.log(`| ${hosts} | fails: ${(err as Error).message} |`);
    }
  }
}

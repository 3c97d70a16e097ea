/**
 * The TCP integrity soak of issue #14 for every congestion controller the
 * tree has: two stacks on the virtual network exchange `--mib` MiB each way
 * at once over a link that loses, reorders, duplicates and corrupts frames
 * (the faults of `tests/tcp/integrity_test.ts`: 5% loss, 5% reorder, 1%
 * duplication, 0.5% corruption, 20 ms ± 5 ms each way), once per seed; what
 * arrives must hash (SHA-256) to what was sent, both ends must close with no
 * socket and no packet buffer left.
 *
 * `deno run -A bench/tcp_soak.ts [--mib 64] [--seeds 50] [--first-seed 1]
 * [--workers N] [--cc a,b] [--timeout SECONDS]` runs every (controller,
 * seed) in its own `deno` process, at most `--workers` at once (default: the
 * core count), each killed after `--timeout` seconds (default 3600), and
 * prints one line per seed (pass/fail, wall time, virtual time, segments
 * retransmitted) and a summary per controller. It exits 1 if any seed failed.
 * The controllers are those of the TCP plugin's registry
 * (`CONGESTION_CONTROLS`), so a controller added there is soaked too.
 *
 * The CI-sized soak is the test itself (1 MiB × 10 seeds, the default
 * controller); this is the full one, behind its own command.
 *
 * @module
 */
import { median } from "./_stats.ts";
import assert from "node:assert/strict";
import { SOAK_FAULTS, soakExchange } from "../tests/tcp/_transfer.ts";

export { SOAK_FAULTS };
import { CONGESTION_CONTROLS } from "../stack/protocols/tcp/congestion/mod.ts";
import { BenchFlags } from "./_flags.ts";

const MIB = 1024 * 1024;

/** What one seed reports. */
export interface SoakResult {
  /** Congestion controller. */
  readonly cc: string;
  /** Seed of the network and the data. */
  readonly seed: number;
  /** Whether everything arrived whole and both ends closed cleanly. */
  readonly ok: boolean;
  /** Wall-clock seconds. */
  readonly seconds: number;
  /** Virtual seconds the exchange took (0 when it failed). */
  readonly virtualSeconds: number;
  /** Segments both ends retransmitted (`tcp.retrans_segs`). */
  readonly retrans: number;
  /** Why it failed. */
  readonly error?: string;
}

/**
 * One seed in this process: `mib` MiB each way with controller `cc` on both
 * ends; throws on any mismatch or leak.
 */
export async function soakOne(
  cc: string,
  seed: number,
  mib: number,
): Promise<{ virtualSeconds: number; retrans: number }> {
  const run = await soakExchange({
    seed,
    total: mib * MIB,
    faults: SOAK_FAULTS,
    tcp: { congestionControl: cc },
    timeout: 3_600_000_000 * 24,
    onConnected: (env) => {
      for (const host of [env.a, env.b]) {
        const used = host.sockets().filter((x) => x.cc !== undefined).map((x) => x.cc);
        assert.deepEqual(used, [cc], `seed ${seed}: controllers in use`);
      }
    },
  });
  return { virtualSeconds: run.virtualSeconds, retrans: run.retrans };
}

/** Runs one seed in a child `deno` process, killed after `timeout` seconds. */
async function child(cc: string, seed: number, mib: number, timeout: number): Promise<SoakResult> {
  const t0 = performance.now();
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      import.meta.filename!,
      "--one",
      cc,
      String(seed),
      String(mib),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      proc.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeout * 1000);
  const out = await proc.output();
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (out.success) {
    try {
      const r = JSON.parse(text) as { virtualSeconds: number; retrans: number };
      return { cc, seed, ok: true, seconds, ...r };
    } catch { /* reported below */ }
  }
  const err = new TextDecoder().decode(out.stderr).trim().split("\n").filter((l) => l !== "");
  const why = out.signal === "SIGKILL"
    ? `killed after ${timeout} s`
    : err.find((l) => /Error/.test(l)) ?? err.pop() ?? `exit ${out.code}`;
  return { cc, seed, ok: false, seconds, virtualSeconds: 0, retrans: 0, error: why };
}

/** Runs `jobs` with at most `workers` at once, calling `report` as each ends. */
async function pool<T>(
  jobs: readonly (() => Promise<T>)[],
  workers: number,
  report: (r: T) => void,
): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < jobs.length) {
      const r = await jobs[next++]!();
      report(r);
      results.push(r);
    }
  }
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, worker));
  return results;
}

function parseArgs(args: readonly string[]) {
  const flags = new BenchFlags(args);
  const mib = flags.num("mib", 64, 1);
  const seeds = flags.num("seeds", 50, 1);
  const firstSeed = flags.num("first-seed", 1, 1);
  const workers = flags.num("workers", navigator.hardwareConcurrency, 1);
  const timeout = flags.num("timeout", 3600, 1);
  const ccs = flags.str("cc")?.split(",") ?? [...CONGESTION_CONTROLS];
  for (const cc of ccs) {
    if (!CONGESTION_CONTROLS.includes(cc)) {
      throw new RangeError(`--cc: "${cc}" is not one of ${CONGESTION_CONTROLS.join(", ")}`);
    }
  }
  flags.done();
  return { mib, seeds, firstSeed, workers, timeout, ccs };
}

if (import.meta.main) {
  // deno-lint-ignore no-console
  const log = console.log;
  if (Deno.args[0] === "--one") {
    const [cc, seed, mib] = [Deno.args[1]!, Number(Deno.args[2]), Number(Deno.args[3])];
    log(JSON.stringify(await soakOne(cc, seed, mib)));
  } else {
    const o = parseArgs(Deno.args);
    const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
    log(
      `TCP soak: ${o.mib} MiB each way × seeds ${o.firstSeed}..${o.firstSeed + o.seeds - 1} × ` +
        `${
          o.ccs.join(", ")
        }; ${o.workers} workers, ${navigator.hardwareConcurrency} CPUs, load ${load}`,
    );
    const jobs = o.ccs.flatMap((cc) =>
      Array.from(
        { length: o.seeds },
        (_, i) => () => child(cc, o.firstSeed + i, o.mib, o.timeout),
      )
    );
    const t0 = performance.now();
    const results = await pool(jobs, o.workers, (r) =>
      log(
        `${r.cc} seed ${r.seed}: ${r.ok ? "pass" : "FAIL"} ${r.seconds.toFixed(1)} s` +
          (r.ok
            ? ` (virtual ${r.virtualSeconds.toFixed(1)} s, retrans ${r.retrans})`
            : `: ${r.error}`),
      ));
    for (const cc of o.ccs) {
      const mine = results.filter((r) => r.cc === cc);
      const passed = mine.filter((r) => r.ok);
      log(
        `${cc}: ${passed.length}/${mine.length} passed; wall median ${
          median(mine.map((r) => r.seconds)).toFixed(1)
        } s; virtual median ${median(passed.map((r) => r.virtualSeconds)).toFixed(1)} s; ` +
          `retrans median ${median(passed.map((r) => r.retrans))}` +
          (passed.length < mine.length
            ? `; failed seeds ${mine.filter((r) => !r.ok).map((r) => r.seed).join(", ")}`
            : ""),
      );
    }
    log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    if (results.some((r) => !r.ok)) Deno.exit(1);
  }
}

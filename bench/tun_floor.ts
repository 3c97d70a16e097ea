/**
 * The floor under `bench/tun_bench.ts ping` (issue #13): how fast *any*
 * user-space responder over TUN answers iputils ping on this machine, with
 * no stack in the way. Needs root, gcc, iproute2, iputils ping, util-linux
 * `chrt` (for `--rt`).
 *
 * `deno run -A bench/tun_floor.ts [runs] [responder,…] [--rt] [--pin same|split] [--base DIR]
 *   [--warmup N] [--idle N] [--family 4|6|4,6] [--cpu S] [--slow US]`
 *
 * Each responder attaches to `tun0` in a private network namespace and
 * answers ICMP and ICMPv6 echo requests (addresses swapped, type 0 or 129,
 * checksum fixed incrementally) and nothing else:
 * - `c-read`, `c-poll`, `c-spin`: `tun_floor_echo.c` (compiled with gcc into
 *   a temporary directory at start), sleeping in a blocking `read()`, in
 *   `poll()`, or never (a busy `read()` loop: one core at 100%);
 * - `deno-read`, `deno-poll`, `deno-spin`: `tun_floor_echo.ts`, the same
 *   loop in Deno with synchronous FFI calls on the JS thread;
 * - `up-block`, `up-poll`, `up-spin`: the stack itself, `cli.ts up --driver
 *   tun` with `--wait block`, `--wait poll` or `--wait spin=2500` (offloads
 *   on, as `up` runs by default), so that floor and stack are measured side
 *   by side at the same load; `up-cold`: `--wait block --keep-warm 0`,
 *   `up-cpu`: `--wait block --cpu 1` (every thread of the stack on CPU 1),
 *   `up-nomr`: `--wait block` with V8's memory reducer off
 *   (`--v8-flags=--no-memory-reducer`), `up-nooff`: `--wait block
 *   --no-offload` (no virtio-net header on the device),
 *   `up-k10`, `up-k20`: `--wait block --keep-warm 10` or `20`;
 * - `base-block`: `up --wait block` of another checkout (`--base DIR`, a
 *   `git worktree` of an older commit), interleaved with this tree's.
 *
 * Each run starts each responder afresh, warms it with
 * {@linkcode WARM_UP_PINGS} pings (`--warmup N`: N; then
 * {@linkcode PACED_WARM_UP_PINGS} 2 ms apart), and pings it in turn (interleaved, so
 * load changes hit all alike) as `tun_bench.ts ping` does: 500 pings 2 ms apart (paced), 50
 * pings 100 ms apart (idle; `--idle N`: N); lost pings count as slower than
 * any reply. The p99 is by nearest rank (`bench/_stats.ts`; until session
 * 19, one rank higher: the slowest of 100 idle pings); each run's line
 * gives the slowest too. `--family 6`
 * pings the responder's IPv6 address instead (`ping` to fd00:77::2, the
 * `up` responders given it with a second `--address`), `--family 4,6` both
 * in each run (IPv4's paced and idle pings, then IPv6's); each family
 * measured is warmed up (until session 18 only the first: IPv6's first
 * paced series then had p99 1.2-2.0 ms in every run). `--cpu S` measures instead the
 * responder's CPU time (`/proc/PID/stat`, user + system) over S seconds
 * with no traffic, then over S seconds of pings 100 ms apart (of the first
 * family), after the warm-up.
 * `--slow US` also prints, after each measured series, the sequence number and
 * RTT of every ping slower than US µs (`seq:µs`): streaks of ~0.3 ms are
 * the two ends on different vCPUs, lone 1-4 ms ones another process
 * holding a CPU (they go under `--rt`).
 * Prints each run, then per responder the median and range over the runs
 * of the median and p99, and the load average before and after. `--rt`
 * runs the responders and ping under `chrt -f 50` (SCHED_FIFO): what is
 * left is the machine, not the queue for a core. `--pin same` runs the
 * responder (all its threads) and ping on CPU 1 (`taskset`), `--pin split`
 * the responder on CPU 1 and ping on CPU 0: where Linux places the two
 * decides whether each echo wakes an idle CPU twice (split) or not at all
 * (same), which on this project's VM, whose idle vCPUs halt at once
 * (`guest_halt_poll_ns` 0), moves the idle p99 of any responder, C's too:
 * C 0.11 / 0.46 ms same / split at 04:31 UTC 2026-12-07, 0.23 / 1.17 at
 * 05:47; unpinned, a run gets whichever placement the scheduler chose.
 *
 * @module
 */
import { addNetns, configurePeer, deleteNetns, randomNetnsName } from "../cli/_netns.ts";
import { canRunTun } from "./_tun_check.ts";
import { pingFromNetns, processCpu } from "./_tun_host.ts";
import { percentile } from "./_stats.ts";

const LINUX = "10.0.0.1";
const RESPONDER = "10.0.0.2";
// A unique local prefix (RFC 4193) for the IPv6 modes, as the IPv4 one is private.
const LINUX6 = "fd00:77::1";
const RESPONDER6 = "fd00:77::2";
const RESPONDERS = [
  "c-read",
  "c-poll",
  "c-spin",
  "deno-read",
  "deno-poll",
  "deno-spin",
  "up-block",
  "up-poll",
  "up-spin",
  "up-cold",
  "up-cpu",
  "up-nomr",
  "up-nooff",
  "up-k10",
  "up-k20",
  "base-block",
] as const;
type Responder = typeof RESPONDERS[number];
/**
 * Pings (0.5 ms apart) each responder answers before it is measured. A fresh
 * `up` pays one-time costs in its first thousand packets, which 20 pings
 * left inside the paced run and so in its p99: V8 compiles ~80 functions
 * with Maglev during the first 500 paced pings after 220 (none after 2,000),
 * the pool's move to a checksum arena after 1,024 small buffers holds one
 * echo 1.1-1.2 ms, and each run's p99 (its 5th-slowest of 500 then) is the
 * slowest of those few. Session 14 (`up` in a netns, ping to a file, load
 * 4-5, fresh process per run, 3 runs): p99 858-8,250 µs (`--wait spin`)
 * and 412-1,280 µs (`block`) after 20 pings, 222-4,270 and 205-333 µs after
 * 2,000. Issue #13 is about a stack that has been running: warm it first.
 */
const WARM_UP_PINGS = 2_000;
/**
 * Pings 2 ms apart each responder answers after the warm-up, unmeasured.
 * The warm-up's pings, 0.5 ms apart or less, find the stack busy: iputils
 * sends the next as soon as the last reply is in, so 30,000 of them take
 * 0.1-1 s and the stack never sleeps. The first paced series was then the
 * first time V8 ran the wake from a sleeping `poll()` many times, and it
 * stalled at the same pings in every run (1-1.5 ms near the 216th, 0.5-0.6
 * near the 316th, session 18, 3 runs); a second and third series in the
 * same process had none of them.
 */
const PACED_WARM_UP_PINGS = 1_000;
/** Longest life of one responder process, s: a run's pings take ~8 s. */
const RESPONDER_SECONDS = 60;
/** Seconds a responder lives: more for a longer warm-up (`--warmup`, 2,000 pings a second). */
let responderSeconds = RESPONDER_SECONDS;

const line = (t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** Compiles `tun_floor_echo.c` into `dir`; returns the binary's path. */
async function compile(dir: string): Promise<string> {
  const src = new URL("./tun_floor_echo.c", import.meta.url).pathname;
  const out = `${dir}/tun_floor_echo`;
  const r = await new Deno.Command("gcc", { args: ["-O2", "-Wall", "-o", out, src] }).output();
  if (!r.success) throw new Error(`gcc failed: ${new TextDecoder().decode(r.stderr)}`);
  return out;
}

/** The command line of `responder` (run inside the namespace). */
function responderCommand(
  responder: Responder,
  binary: string,
  prefix: readonly string[],
  base: string | undefined,
  ipv6: boolean,
): string[] {
  const [lang, mode] = responder.split("-") as [string, string];
  if (lang === "c") return [...prefix, binary, "tun0", mode];
  if (lang === "up" || lang === "base") {
    if (lang === "base" && base === undefined) throw new TypeError("base-block needs --base DIR");
    const cli = lang === "base" ? `${base}/cli.ts` : new URL("../cli.ts", import.meta.url).pathname;
    return [
      ...prefix,
      Deno.execPath(),
      "run",
      ...(mode === "nomr" ? ["--v8-flags=--no-memory-reducer"] : []),
      "-A",
      cli,
      "up",
      "--driver",
      "tun",
      "--ifname",
      "tun0",
      "--address",
      `${RESPONDER}/24`,
      ...(ipv6 ? ["--address", `${RESPONDER6}/64`] : []),
      "--wait",
      // Every variant but poll and spin sleeps as up-block does.
      mode === "spin" ? "spin=2500" : mode === "poll" ? "poll" : "block",
      ...(mode === "cold" ? ["--keep-warm", "0"] : []),
      ...(mode === "cpu" ? ["--cpu", "1"] : []),
      ...(mode === "nooff" ? ["--no-offload"] : []),
      ...(mode.startsWith("k") ? ["--keep-warm", mode.slice(1)] : []),
    ];
  }
  const script = new URL("./tun_floor_echo.ts", import.meta.url).pathname;
  return [
    ...prefix,
    Deno.execPath(),
    "run",
    "--allow-ffi",
    "--allow-read",
    script,
    "tun0",
    mode,
    String(responderSeconds),
  ];
}

/** A responder process attached to tun0 in `netns`, with the peer configured. */
async function startResponder(
  netns: string,
  command: string[],
  ipv6: boolean,
): Promise<{ stop(): Promise<void>; cpuMs(): number }> {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", netns, "timeout", String(responderSeconds), ...command],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  if (value === undefined || !/^ready/m.test(new TextDecoder().decode(value))) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`responder ${command.join(" ")} did not start`);
  }
  // Read the rest (up's counters at exit) so that the responder never writes into a closed pipe.
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discarded */ }
  })();
  const addresses = [`${LINUX}/24`, ...(ipv6 ? [`${LINUX6}/64`] : [])];
  await configurePeer("tun0", { addresses, netns });
  return {
    // `ip netns exec` execs `timeout`, whose one child is the responder.
    cpuMs: () =>
      cpuMs(Number(Deno.readTextFileSync(`/proc/${child.pid}/task/${child.pid}/children`))),
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone (its timeout)
      }
      await child.status;
      await drained;
    },
  };
}

/** CPU time (user + system) of process `pid` so far, ms (`/proc/PID/stat`, 100 ticks a second). */
function cpuMs(pid: number): number {
  const t = processCpu(pid);
  return (t.user + t.system) / 1000;
}

/** iputils ping from the namespace to `target`: median and p99 RTT (µs), lost pings counted as Infinity. */
async function ping(
  netns: string,
  target: string,
  count: number,
  interval: string,
  prefix: readonly string[],
  slowUs = Infinity,
): Promise<{ median: number; p99: number; max: number; lost: number; slow: string }> {
  const out = await pingFromNetns(netns, target, count, interval, prefix);
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  let slowLine = "";
  if (Number.isFinite(slowUs)) {
    const slow = [...out.matchAll(/icmp_seq=(\d+) .*time=([\d.]+) ms/g)]
      .filter((m) => Number(m[2]) * 1000 > slowUs)
      .map((m) => `${m[1]}:${(Number(m[2]) * 1000).toFixed(0)}`);
    slowLine = `  slower than ${slowUs} µs: ${slow.length === 0 ? "none" : slow.join(" ")}`;
  }
  const lost = count - rtts.length;
  for (let i = 0; i < lost; i++) rtts.push(Infinity);
  rtts.sort((a, b) => a - b);
  return {
    median: percentile(rtts, 0.5),
    p99: percentile(rtts, 0.99),
    max: rtts[rtts.length - 1]!,
    lost,
    slow: slowLine,
  };
}

/** Median and range over runs. */
function spread(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const us = (v: number) => Number.isFinite(v) ? v.toFixed(0) : "lost";
  return `${us(s[Math.floor((s.length - 1) / 2)]!)} (${us(s[0]!)}–${us(s[s.length - 1]!)})`;
}

async function main(): Promise<void> {
  const why = canRunTun();
  if (why !== undefined) {
    line(`tun_floor: skipped: ${why}`);
    return;
  }
  const valueOf = (flag: string) => {
    const at = Deno.args.indexOf(flag);
    return at >= 0 ? Deno.args[at + 1] : undefined;
  };
  const base = valueOf("--base");
  const warmUp = Number(valueOf("--warmup") ?? WARM_UP_PINGS);
  const idlePings = Number(valueOf("--idle") ?? 50);
  if (!Number.isInteger(idlePings) || idlePings < 1) {
    throw new TypeError("--idle: a positive whole number");
  }
  if (!Number.isInteger(warmUp) || warmUp < 0) throw new TypeError("--warmup: a whole number");
  const cpuSeconds = Number(valueOf("--cpu") ?? 0);
  if (!Number.isInteger(cpuSeconds) || cpuSeconds < 0) throw new TypeError("--cpu: whole seconds");
  responderSeconds = RESPONDER_SECONDS + Math.ceil(warmUp / 1000) + Math.ceil(idlePings / 10) +
    2 * PACED_WARM_UP_PINGS / 500 +
    2 * cpuSeconds;
  const family = valueOf("--family") ?? "4";
  if (!["4", "6", "4,6"].includes(family)) throw new TypeError("--family: 4, 6 or 4,6");
  const targets = family.split(",").map((f) => f === "6" ? RESPONDER6 : RESPONDER);
  const ipv6 = targets.includes(RESPONDER6);
  const pin = valueOf("--pin");
  if (pin !== undefined && pin !== "same" && pin !== "split") {
    throw new TypeError("--pin: same or split");
  }
  const slowUs = Number(valueOf("--slow") ?? Infinity);
  if (!(slowUs > 0)) throw new TypeError("--slow: a positive number of µs");
  const valued = ["--base", "--warmup", "--idle", "--family", "--cpu", "--pin", "--slow"];
  const args = Deno.args.filter((a, i) =>
    a !== "--rt" && !valued.includes(a) && !valued.includes(Deno.args[i - 1] ?? "")
  );
  const rt = Deno.args.includes("--rt");
  const chrt = rt ? ["chrt", "-f", "50"] : [];
  const responderPrefix = [...(pin === undefined ? [] : ["taskset", "-c", "1"]), ...chrt];
  const pingCpu = pin === "same"
    ? ["taskset", "-c", "1"]
    : pin === "split"
    ? ["taskset", "-c", "0"]
    : [];
  const pingPrefix = [...pingCpu, ...chrt];
  const runs = Math.max(1, Number(args[0] ?? 3) | 0);
  const chosen =
    (args[1]?.split(",") ?? ["c-read", "c-poll", "deno-read", "deno-poll"]) as Responder[];
  for (const c of chosen) {
    if (!RESPONDERS.includes(c)) throw new TypeError(`responder must be one of ${RESPONDERS}`);
  }
  const dir = await Deno.makeTempDir({ prefix: "tun_floor" });
  const netns = randomNetnsName("nsf");
  await addNetns(netns);
  try {
    const binary = await compile(dir);
    const placement = pin === undefined
      ? ""
      : pin === "same"
      ? ", responder and ping on CPU 1"
      : ", responder on CPU 1, ping on CPU 0";
    line(
      `responders: ${chosen.join(", ")}${
        rt ? ", all under chrt -f 50 (ping too)" : ""
      }${placement}`,
    );
    line(`load average before: ${loadAverage()} (${new Date().toISOString()})`);
    const kinds = cpuSeconds > 0
      ? [
        { name: `cpu, no traffic (${cpuSeconds} s)`, target: targets[0]!, count: 0, interval: "" },
        {
          name: `cpu, ping${targets[0] === RESPONDER6 ? " -6" : ""} -i 0.1 (${cpuSeconds} s)`,
          target: targets[0]!,
          count: cpuSeconds * 10,
          interval: "0.1",
        },
      ]
      : targets.flatMap((target) => {
        const v = target === RESPONDER6 ? " -6" : "";
        return [
          { name: `paced${v} (-i 0.002, 500)`, target, count: 500, interval: "0.002" },
          { name: `idle${v} (-i 0.1, ${idlePings})`, target, count: idlePings, interval: "0.1" },
        ];
      });
    const results = new Map(
      chosen.map((c) => [c, kinds.map(() => ({ median: [] as number[], p99: [] as number[] }))]),
    );
    for (let r = 0; r < runs; r++) {
      for (const responder of chosen) {
        const command = responderCommand(responder, binary, responderPrefix, base, ipv6);
        const proc = await startResponder(netns, command, ipv6);
        try {
          // Each family measured is warmed: its paths compile apart.
          for (const target of warmUp > 0 ? targets : []) {
            await ping(netns, target, warmUp, "0.0005", pingPrefix);
            await ping(netns, target, PACED_WARM_UP_PINGS, "0.002", pingPrefix);
          }
          for (let k = 0; k < kinds.length; k++) {
            const kind = kinds[k]!;
            if (cpuSeconds > 0) {
              const before = proc.cpuMs();
              if (kind.count === 0) await new Promise((r) => setTimeout(r, cpuSeconds * 1000));
              else await ping(netns, kind.target, kind.count, kind.interval, pingPrefix);
              const ms = proc.cpuMs() - before;
              results.get(responder)![k]!.median.push(ms);
              line(
                `run ${r + 1} ${responder} ${kind.name}: ${ms} ms of CPU (load ${loadAverage()})`,
              );
              continue;
            }
            const f = await ping(
              netns,
              kind.target,
              kind.count,
              kind.interval,
              pingPrefix,
              slowUs,
            );
            results.get(responder)![k]!.median.push(f.median);
            results.get(responder)![k]!.p99.push(f.p99);
            line(
              `run ${r + 1} ${responder} ${kind.name}: median ${f.median.toFixed(0)} µs, ` +
                `p99 ${f.p99.toFixed(0)} µs, max ${f.max.toFixed(0)} µs, lost ${f.lost}`,
            );
            if (f.slow !== "") line(f.slow);
          }
        } finally {
          await proc.stop();
        }
      }
    }
    for (const responder of chosen) {
      for (let k = 0; k < kinds.length; k++) {
        const f = results.get(responder)![k]!;
        if (cpuSeconds > 0) {
          line(`${responder} ${kinds[k]!.name} over ${runs} runs: ${spread(f.median)} ms of CPU`);
          continue;
        }
        line(
          `${responder} ${kinds[k]!.name} over ${runs} runs, median (range): ` +
            `median ${spread(f.median)} µs, p99 ${spread(f.p99)} µs`,
        );
      }
    }
    line(`load average after: ${loadAverage()} (${new Date().toISOString()})`);
  } finally {
    await deleteNetns(netns);
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();

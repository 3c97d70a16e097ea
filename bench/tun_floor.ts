/**
 * The floor under `bench/tun_bench.ts ping` (issue #13): how fast *any*
 * user-space responder over TUN answers iputils ping on this machine, with
 * no stack in the way. Needs root, gcc, iproute2, iputils ping, util-linux
 * `chrt` (for `--rt`).
 *
 * `deno run -A bench/tun_floor.ts [runs] [responder,…] [--rt] [--base DIR] [--warmup N] [--idle N]`
 *
 * Each responder attaches to `tun0` in a private network namespace and
 * answers ICMP echo requests (addresses swapped, type 0, checksum fixed
 * incrementally) and nothing else:
 * - `c-read`, `c-poll`, `c-spin`: `tun_floor_echo.c` (compiled with gcc into
 *   a temporary directory at start), sleeping in a blocking `read()`, in
 *   `poll()`, or never (a busy `read()` loop: one core at 100%);
 * - `deno-read`, `deno-poll`, `deno-spin`: `tun_floor_echo.ts`, the same
 *   loop in Deno with synchronous FFI calls on the JS thread;
 * - `up-block`, `up-poll`, `up-spin`: the stack itself, `cli.ts up --driver
 *   tun` with `--wait block`, `--wait poll` or `--wait spin=2500` (offloads
 *   on, as `up` runs by default), so that floor and stack are measured side
 *   by side at the same load; `up-cold`: `--wait block --keep-warm 0`,
 *   `up-k10`, `up-k20`: `--wait block --keep-warm 10` or `20`;
 * - `base-block`: `up --wait block` of another checkout (`--base DIR`, a
 *   `git worktree` of an older commit), interleaved with this tree's.
 *
 * Each run starts each responder afresh, warms it with
 * {@linkcode WARM_UP_PINGS} pings (`--warmup N`: N), and pings it in turn (interleaved, so
 * load changes hit all alike) as `tun_bench.ts ping` does: 500 pings 2 ms apart (paced), 50
 * pings 100 ms apart (idle; `--idle N`: N, so that the p99 is not the
 * slowest of 50); lost pings count as slower than any reply.
 * Prints each run, then per responder the median and range over the runs
 * of the median and p99, and the load average before and after. `--rt`
 * runs the responders and ping under `chrt -f 50` (SCHED_FIFO): what is
 * left is the machine, not the queue for a core.
 *
 * @module
 */
import { addNetns, configurePeer, deleteNetns, randomNetnsName } from "../cli/_netns.ts";
import { canRunTun } from "./_tun_check.ts";
import { pingFromNetns } from "./_tun_host.ts";

const LINUX = "10.0.0.1";
const RESPONDER = "10.0.0.2";
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
 * echo 1.1-1.2 ms, and each run's p99 (its 5th-slowest of 500) is the
 * slowest of those few. Session 14 (`up` in a netns, ping to a file, load
 * 4-5, fresh process per run, 3 runs): p99 858-8,250 µs (`--wait spin`)
 * and 412-1,280 µs (`block`) after 20 pings, 222-4,270 and 205-333 µs after
 * 2,000. Issue #13 is about a stack that has been running: warm it first.
 */
const WARM_UP_PINGS = 2_000;
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
  rt: boolean,
  base: string | undefined,
): string[] {
  const [lang, mode] = responder.split("-") as [string, string];
  const prefix = rt ? ["chrt", "-f", "50"] : [];
  if (lang === "c") return [...prefix, binary, "tun0", mode];
  if (lang === "up" || lang === "base") {
    if (lang === "base" && base === undefined) throw new TypeError("base-block needs --base DIR");
    const cli = lang === "base" ? `${base}/cli.ts` : new URL("../cli.ts", import.meta.url).pathname;
    return [
      ...prefix,
      Deno.execPath(),
      "run",
      "-A",
      cli,
      "up",
      "--driver",
      "tun",
      "--ifname",
      "tun0",
      "--address",
      `${RESPONDER}/24`,
      "--wait",
      mode === "spin" ? "spin=2500" : mode === "cold" || mode.startsWith("k") ? "block" : mode,
      ...(mode === "cold" ? ["--keep-warm", "0"] : []),
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
): Promise<{ stop(): Promise<void> }> {
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
  await configurePeer("tun0", { addresses: [`${LINUX}/24`], netns });
  return {
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** iputils ping from the namespace: median and p99 RTT (µs), lost pings counted as Infinity. */
async function ping(
  netns: string,
  count: number,
  interval: string,
  rt: boolean,
): Promise<{ median: number; p99: number; lost: number }> {
  const prefix = rt ? ["chrt", "-f", "50"] : [];
  const out = await pingFromNetns(netns, RESPONDER, count, interval, prefix);
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  const lost = count - rtts.length;
  for (let i = 0; i < lost; i++) rtts.push(Infinity);
  rtts.sort((a, b) => a - b);
  return { median: percentile(rtts, 0.5), p99: percentile(rtts, 0.99), lost };
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
  responderSeconds = RESPONDER_SECONDS + Math.ceil(warmUp / 1000) + Math.ceil(idlePings / 10);
  const valued = ["--base", "--warmup", "--idle"];
  const args = Deno.args.filter((a, i) =>
    a !== "--rt" && !valued.includes(a) && !valued.includes(Deno.args[i - 1] ?? "")
  );
  const rt = Deno.args.includes("--rt");
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
    line(`responders: ${chosen.join(", ")}${rt ? ", all under chrt -f 50 (ping too)" : ""}`);
    line(`load average before: ${loadAverage()} (${new Date().toISOString()})`);
    const kinds = [
      { name: "paced (-i 0.002, 500)", count: 500, interval: "0.002" },
      { name: `idle (-i 0.1, ${idlePings})`, count: idlePings, interval: "0.1" },
    ];
    const results = new Map(
      chosen.map((c) => [c, kinds.map(() => ({ median: [] as number[], p99: [] as number[] }))]),
    );
    for (let r = 0; r < runs; r++) {
      for (const responder of chosen) {
        const proc = await startResponder(netns, responderCommand(responder, binary, rt, base));
        try {
          if (warmUp > 0) await ping(netns, warmUp, "0.0005", rt);
          for (let k = 0; k < kinds.length; k++) {
            const kind = kinds[k]!;
            const f = await ping(netns, kind.count, kind.interval, rt);
            results.get(responder)![k]!.median.push(f.median);
            results.get(responder)![k]!.p99.push(f.p99);
            line(
              `run ${r + 1} ${responder} ${kind.name}: median ${f.median.toFixed(0)} µs, ` +
                `p99 ${f.p99.toFixed(0)} µs, lost ${f.lost}`,
            );
          }
        } finally {
          await proc.stop();
        }
      }
    }
    for (const responder of chosen) {
      for (let k = 0; k < kinds.length; k++) {
        const f = results.get(responder)![k]!;
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

/**
 * Interleaved wall-clock comparison of this checkout against another (a
 * `git worktree` of an older commit), with the drivers of
 * `bench/instructions.ts`, so both run exactly the same workload. Each
 * round runs every mode once per checkout, alternating which goes first,
 * each run in a fresh process; the summary gives the median and range of
 * each side and the ratio of medians, with the load average before and
 * after (figures on a loaded machine are loaded figures), and the same for
 * the main thread's CPU time of the counted part, which the machine's load
 * moves much less than the wall clock.
 *
 * ```sh
 * git worktree add --detach /tmp/base 1ef23ca
 * deno run -A bench/compare.ts /tmp/base            # 5 rounds, every mode
 * deno run -A bench/compare.ts /tmp/base 9 tcp1500  # 9 rounds, one mode
 * git worktree remove /tmp/base
 * ```
 *
 * Modes (and the amount each run counts after its warm-up): `tcp1500`
 * (1024 MiB), `tcp65535` (1024 MiB), `conns` (10,000 connections),
 * `conns-steady` (10,000 connections after 10,000 more of warm-up),
 * `udp64` (200,000 round trips of the synchronous echo), `udp8000`
 * (50,000 round trips of 8,000-byte datagrams at MTU 9000), `udpapi64`
 * (100,000 round trips through `listenDatagram()`).
 *
 * @module
 */
import { median } from "./_stats.ts";
const AMOUNTS: Record<string, number> = {
  tcp1500: 1024,
  tcp65535: 1024, // 2048 MiB (2^31 bytes) overflows the driver: it counts 0 bytes
  conns: 10_000,
  "conns-steady": 10_000,
  udp64: 200_000,
  udp8000: 50_000,
  udpapi64: 100_000,
};

const [base, roundsArg = "5", ...modeArgs] = Deno.args;
if (base === undefined) {
  throw new TypeError("Usage: deno run -A bench/compare.ts BASE_DIR [ROUNDS] [MODE...]");
}
const rounds = Number(roundsArg);
if (!Number.isInteger(rounds) || rounds < 1) {
  throw new RangeError(`Cannot compare: ROUNDS must be a positive integer, got ${roundsArg}`);
}
const modes = modeArgs.length > 0 ? modeArgs : Object.keys(AMOUNTS);
for (const m of modes) {
  if (AMOUNTS[m] === undefined) {
    throw new TypeError(`Unknown mode "${m}": ${Object.keys(AMOUNTS).join(", ")}`);
  }
}
const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const driver = new URL("./instructions.ts", import.meta.url).pathname;
const sides = [{ name: "base", root: base }, { name: "this", root: here }];

function load(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** One run's figures: the rate it printed (Gbit/s or per second) and its main thread's CPU ms. */
interface Run {
  readonly rate: number;
  readonly cpuMs: number;
}

/** One run of `mode` on `root`. */
function runOnce(mode: string, root: string): Run {
  const out = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", driver, mode, String(AMOUNTS[mode]), root],
    stdout: "piped",
    stderr: "inherit",
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  const m = text.match(/= ([\d.]+) (Gbit\/s|\/s)/);
  if (!out.success || m === null) throw new Error(`Run failed: ${mode} on ${root}: ${text}`);
  // Older drivers print no CPU time: NaN, left out of the summary.
  const cpu = text.match(/main-thread CPU ([\d.]+) ms/);
  return { rate: Number(m[1]), cpuMs: cpu === null ? NaN : Number(cpu[1]) };
}

const results = new Map<string, number[]>();
const cpus = new Map<string, number[]>();
const loadBefore = load();
for (let r = 0; r < rounds; r++) {
  for (const mode of modes) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const v = runOnce(mode, side.root);
      const key = `${mode} ${side.name}`;
      results.set(key, [...(results.get(key) ?? []), v.rate]);
      cpus.set(key, [...(cpus.get(key) ?? []), v.cpuMs]);
      // deno-lint-ignore no-console
      console.log(`round ${r + 1} ${key}: ${v.rate} (main-thread CPU ${v.cpuMs} ms)`);
    }
  }
}
// deno-lint-ignore no-console
console.log(`\nload average before ${loadBefore}, after ${load()}; ${rounds} rounds`);
for (const mode of modes) {
  const unit = mode.startsWith("tcp") ? "Gbit/s" : "per second";
  const b = results.get(`${mode} base`)!, t = results.get(`${mode} this`)!;
  const fmt = (xs: number[]) =>
    `${median(xs).toPrecision(4)} (${Math.min(...xs).toPrecision(4)}–${
      Math.max(...xs).toPrecision(4)
    })`;
  // deno-lint-ignore no-console
  console.log(
    `${mode} (${unit}): base ${fmt(b)}, this ${fmt(t)}, this/base ${
      (median(t) / median(b)).toFixed(3)
    }`,
  );
  // The main thread's CPU time of the counted part: what a loaded machine
  // moves least (the wall clock also counts waiting for a core).
  const cb = cpus.get(`${mode} base`)!, ct = cpus.get(`${mode} this`)!;
  if (!cb.some(Number.isNaN) && !ct.some(Number.isNaN)) {
    // deno-lint-ignore no-console
    console.log(
      `${mode} main-thread CPU (ms): base ${fmt(cb)}, this ${fmt(ct)}, this/base ${
        (median(ct) / median(cb)).toFixed(3)
      }`,
    );
  }
}

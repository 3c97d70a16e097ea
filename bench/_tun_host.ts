/**
 * What the TUN benchmarks share: `cli.ts up --driver tun` in a fresh
 * namespace with Linux at {@linkcode LINUX} and the stack at
 * {@linkcode HOST}, in this process ({@linkcode withTunHost}) or in a
 * child process of its own ({@linkcode withUpProcess}), iputils ping from a
 * namespace, and a process's CPU time.
 *
 * @module
 */
import process from "node:process";
import { runUp } from "../cli/up.ts";
import { addNetns, deleteNetns, netnsExec, randomNetnsName } from "../cli/_netns.ts";
import { SERVICES } from "../plugins/services/mod.ts";
import type { Stack } from "../mod.ts";
import type { ServiceRegistry } from "../cli/up.ts";
import { canRunTun } from "./_tun_check.ts";

/** Linux's address on the TUN link. */
export const LINUX = "10.0.0.1";
/** The stack's address on the TUN link. */
export const HOST = "10.0.0.2";

/** Why a TUN benchmark cannot run here (not Linux, a permission, root, /dev/net/tun), or undefined. */
export function canRunTunHost(): string | undefined {
  return canRunTun({ env: true });
}

/** This process's CPU time (user + system), seconds. */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** `up`'s words for tun0 in `netns` with the link's two addresses and `mtu`, then `args`. */
function upTunArgs(netns: string, mtu: number, args: readonly string[]): string[] {
  return [
    "--driver",
    "tun",
    "--ifname",
    "tun0",
    "--netns",
    netns,
    "--address",
    `${HOST}/24`,
    "--peer-address",
    `${LINUX}/24`,
    "--mtu",
    String(mtu),
    ...args,
  ];
}

/**
 * Runs `fn` while `up --driver tun --mtu mtu` (plus `args`, e.g. `--serve`)
 * runs in a fresh namespace named after `prefix`; stops the host and
 * deletes the namespace afterwards. `--serve` names come from `services`
 * (default: the project's registry).
 */
export async function withTunHost<T>(
  prefix: string,
  mtu: number,
  args: readonly string[],
  fn: (stack: Stack, netns: string) => Promise<T>,
  services: ServiceRegistry = SERVICES,
): Promise<T> {
  const netns = randomNetnsName(prefix);
  await addNetns(netns);
  const stop = new AbortController();
  let result: T | undefined;
  let failure: unknown;
  const err: string[] = [];
  try {
    const code = await runUp(upTunArgs(netns, mtu, args), {
      services,
      handleSignals: false,
      signal: stop.signal,
      print: () => {},
      printError: (l) => err.push(l),
      onReady: async (stack) => {
        try {
          result = await fn(stack, netns);
        } catch (e) {
          failure = e;
        } finally {
          stop.abort();
        }
      },
    });
    if (failure !== undefined) throw failure;
    if (code !== 0) throw new Error(`up failed (${code}): ${err.join("\n")}`);
  } finally {
    await deleteNetns(netns);
  }
  return result as T;
}

/**
 * iputils ping from `netns` to `target`: `count` pings `interval` seconds
 * apart, each waited for at most 1 s, run under `prefix` (e.g. `chrt -f
 * 50`); its output.
 */
export async function pingFromNetns(
  netns: string,
  target: string,
  count: number,
  interval: string,
  prefix: readonly string[] = [],
): Promise<string> {
  const args = ["ping", "-n", "-c", String(count), "-i", interval, "-W", "1", target];
  return (await netnsExec(netns, [...prefix, ...args], 120)).stdout;
}

/** A process's CPU time so far, user and system, in µs. */
export interface CpuTime {
  readonly user: number;
  readonly system: number;
}

/**
 * The CPU time of process `pid`, all its threads (`/proc/PID/stat`'s utime
 * and stime, 100 ticks a second on Linux's ABI: 10 ms steps).
 */
export function processCpu(pid: number): CpuTime {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]) * 10_000, system: Number(f[12]) * 10_000 };
}

/** `cli.ts up` running as a child process ({@linkcode withUpProcess}). */
export interface UpProcess {
  /** The namespace of its device and of Linux's end. */
  readonly netns: string;
  /** The `up` process (Deno itself, not a wrapper). */
  readonly pid: number;
  /** Its CPU time so far. */
  cpu(): CpuTime;
  /** Its stack's counters, from its `http` service (`GET /counters.json`, curl in the namespace). */
  counters(): Promise<Record<string, number>>;
}

/** How long a child `up` may take to print its ready line, ms. */
const UP_START_MS = 60_000;

/**
 * Runs `fn` while `deno run -A cli.ts up --driver tun --mtu mtu` (plus
 * `args`) runs as a child process, its device in a fresh namespace named
 * after `prefix`; then stops it with SIGTERM (it must exit 143, as `up`
 * does) and deletes the namespace. For what {@linkcode withTunHost} cannot
 * measure: a process the benchmark's own children do not share (`up --cpu
 * N` pins every thread of its process, and children inherit the mask).
 * {@linkcode UpProcess.counters} needs `http` in `args`' `--serve`.
 *
 * @throws {Error} If `up` exits before its ready line (its standard error
 * quoted), prints none within a minute, or does not stop as asked.
 */
export async function withUpProcess<T>(
  prefix: string,
  mtu: number,
  args: readonly string[],
  fn: (up: UpProcess) => Promise<T>,
): Promise<T> {
  const netns = randomNetnsName(prefix);
  await addNetns(netns);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../cli.ts", import.meta.url).pathname,
        "up",
        ...upTunArgs(netns, mtu, args),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const text = { out: "", err: "" };
    const ready = Promise.withResolvers<void>();
    const drain = async (stream: ReadableStream<Uint8Array>, key: "out" | "err") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        text[key] += decoder.decode(chunk, { stream: true });
        if (key === "out" && /^ready /m.test(text.out)) ready.resolve();
      }
    };
    // Read both to the end, so that up never blocks writing its counters at exit.
    const drained = Promise.all([drain(child.stdout, "out"), drain(child.stderr, "err")]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = await Promise.race([
      ready.promise.then(() => "ready" as const),
      child.status.then(() => "exited" as const),
      new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), UP_START_MS)),
    ]);
    clearTimeout(timer);
    let result: { value: T } | { error: unknown } | undefined;
    if (started === "ready") {
      try {
        result = {
          value: await fn({
            netns,
            pid: child.pid,
            cpu: () => processCpu(child.pid),
            counters: () => countersOf(netns),
          }),
        };
      } catch (error) {
        result = { error };
      }
    }
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone: its status says how.
    }
    const status = await child.status;
    await drained;
    const err = text.err.trim();
    if (result === undefined) {
      throw new Error(
        started === "late"
          ? `up was not ready within ${UP_START_MS / 1000} s: ${err}`
          : `up exited ${status.code} before it was ready: ${err}`,
      );
    }
    if ("error" in result) throw result.error;
    if (status.code !== 143) {
      throw new Error(`up exited ${status.code} on SIGTERM, not 143: ${err}`);
    }
    return result.value;
  } finally {
    await deleteNetns(netns);
  }
}

/** The counters of the stack at {@linkcode HOST} as its http service gives them. */
async function countersOf(netns: string): Promise<Record<string, number>> {
  const url = `http://${HOST}/counters.json`;
  const r = await netnsExec(netns, ["curl", "-sS", "--max-time", "5", url], 10);
  if (r.code !== 0) throw new Error(`curl ${url}: exit ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

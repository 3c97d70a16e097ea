/**
 * What the TUN benchmarks share: `cli.ts up --driver tun` in a fresh
 * namespace with Linux at {@linkcode LINUX} and the stack at
 * {@linkcode HOST}, iputils ping from a namespace, and this process's CPU
 * time.
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
    const code = await runUp([
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
    ], {
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

/**
 * Linux-side helpers around `ip` (iproute2), for `up --peer-address` and for
 * the interop tests: create and delete network namespaces, give the Linux end
 * of a TUN/TAP device an address and bring it up, run a command inside a
 * namespace with a time limit.
 *
 * Everything here runs `ip` through `Deno.Command` (needs `--allow-run`) and
 * throws an `Error` carrying `ip`'s own message when it fails.
 *
 * @module
 */

import { IpAddress } from "../stack/wire/ip_address.ts";

const decoder = new TextDecoder();

/** What a finished command printed and how it ended. */
export interface CommandResult {
  /** Exit code (124 when `timeout` killed it). */
  readonly code: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
}

/**
 * Runs `cmd` with `args` and collects its output.
 *
 * @param cmd Program name.
 * @param args Its arguments.
 * @returns Exit code and output.
 * @throws {Deno.errors.NotFound} when the program is not installed.
 *
 * @example
 * ```ts
 * import { runCommand } from "./_netns.ts";
 * import assert from "node:assert/strict";
 * const r = await runCommand("sh", ["-c", "echo hi; exit 3"]);
 * assert.deepEqual([r.code, r.stdout], [3, "hi\n"]);
 * ```
 */
export async function runCommand(cmd: string, args: readonly string[]): Promise<CommandResult> {
  const out = await new Deno.Command(cmd, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * Runs `ip` with `args` (inside namespace `netns` if given: `ip -n NS …`).
 *
 * @returns What `ip` printed on standard output.
 * @throws {Error} with `ip`'s message when it exits non-zero.
 *
 * @example
 * ```ts ignore
 * import { ip } from "./_netns.ts";
 * await ip(["addr", "add", "10.0.0.1/24", "dev", "tun0"], { netns: "demo" });
 * ```
 */
export async function ip(
  args: readonly string[],
  options: { netns?: string } = {},
): Promise<string> {
  const full = options.netns === undefined ? [...args] : ["-n", options.netns, ...args];
  const r = await runCommand("ip", full);
  if (r.code !== 0) {
    throw new Error(
      `Cannot run "ip ${full.join(" ")}": ${r.stderr.trim() || `exit code ${r.code}`}`,
    );
  }
  return r.stdout;
}

let counter = 0;

/**
 * A fresh namespace name, `ns<N>-<random>` (N counts up in this process).
 *
 * @example
 * ```ts
 * import { randomNetnsName } from "./_netns.ts";
 * import assert from "node:assert/strict";
 * assert.match(randomNetnsName(), /^ns\d+-[0-9a-f]{8}$/);
 * ```
 */
export function randomNetnsName(prefix = "ns"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${prefix}${++counter}-${hex}`;
}

/**
 * Creates network namespace `name` (`ip netns add`) and brings its loopback up.
 *
 * @throws {Error} when it exists or `ip` fails (not root, …).
 *
 * @example
 * ```ts ignore
 * import { addNetns, deleteNetns } from "./_netns.ts";
 * await addNetns("demo");
 * await deleteNetns("demo");
 * ```
 */
export async function addNetns(name: string): Promise<void> {
  await ip(["netns", "add", name]);
  try {
    await ip(["link", "set", "lo", "up"], { netns: name });
  } catch (err) {
    await deleteNetns(name);
    throw err;
  }
}

/**
 * Deletes network namespace `name`; a missing one is not an error.
 *
 * @example
 * ```ts ignore
 * import { deleteNetns } from "./_netns.ts";
 * await deleteNetns("demo");
 * ```
 */
export async function deleteNetns(name: string): Promise<void> {
  const r = await runCommand("ip", ["netns", "del", name]);
  if (r.code !== 0 && !/No such file|not found/i.test(r.stderr)) {
    throw new Error(`Cannot delete network namespace "${name}": ${r.stderr.trim()}`);
  }
}

/**
 * Runs `fn` with a new namespace, deleted afterwards whatever happens.
 *
 * @example
 * ```ts ignore
 * import { ip, withNetns } from "./_netns.ts";
 * await withNetns(async (ns) => console.log(await ip(["link"], { netns: ns })));
 * ```
 */
export async function withNetns<T>(fn: (netns: string) => Promise<T>, prefix = "ns"): Promise<T> {
  const name = randomNetnsName(prefix);
  await addNetns(name);
  try {
    return await fn(name);
  } finally {
    await deleteNetns(name);
  }
}

/**
 * Options of {@linkcode configurePeer}.
 *
 * @example
 * ```ts
 * import type { PeerOptions } from "./_netns.ts";
 * import assert from "node:assert/strict";
 * const o: PeerOptions = { addresses: ["10.0.0.1/24"], netns: "demo", quietIpv6: true };
 * assert.equal(o.addresses.length, 1);
 * ```
 */
export interface PeerOptions {
  /** Addresses for the Linux end, CIDR (`10.0.0.1/24`). */
  readonly addresses: readonly string[];
  /** The namespace the device is in. */
  readonly netns?: string;
  /**
   * Do not give the device an IPv6 link-local address (`addrgenmode none`),
   * so Linux sends no Router Solicitations, DAD or MLD on it (default true).
   */
  readonly quietIpv6?: boolean;
}

/**
 * Configures the Linux end of device `dev`: optionally no IPv6 link-local,
 * then each address, then link up.
 *
 * @throws {Error} with `ip`'s message.
 *
 * @example
 * ```ts ignore
 * import { configurePeer } from "./_netns.ts";
 * await configurePeer("tun0", { addresses: ["10.0.0.1/24"], netns: "demo" });
 * ```
 */
export async function configurePeer(dev: string, options: PeerOptions): Promise<void> {
  const ns = options.netns === undefined ? {} : { netns: options.netns };
  if (options.quietIpv6 ?? true) {
    await ip(["link", "set", "dev", dev, "addrgenmode", "none"], ns);
  }
  for (const a of options.addresses) {
    await ip(["addr", "replace", a, "dev", dev], ns);
  }
  await ip(["link", "set", "dev", dev, "up"], ns);
}

/**
 * Waits until Linux can receive at IPv6 `address` (CIDR or bare) on `dev`:
 * listed, not tentative, and its `local` route in the local table. `ip addr
 * add` returns before that route exists (Linux adds it from its address
 * work queue, late on a loaded machine), and until then packets to the
 * address are dropped (`Ip6InAddrErrors`). Polls every 20 ms.
 *
 * @throws {Error} When Linux's DAD found a duplicate, or after `seconds`
 * (default 10), naming what `ip` showed last.
 *
 * @example
 * ```ts ignore
 * import { configurePeer, waitPeerIpv6Ready } from "./_netns.ts";
 * await configurePeer("tun0", { addresses: ["fd00::1/64"], netns: "demo" });
 * await waitPeerIpv6Ready("tun0", "fd00::1/64", { netns: "demo" });
 * ```
 */
export async function waitPeerIpv6Ready(
  dev: string,
  address: string,
  options: { netns?: string; seconds?: number } = {},
): Promise<void> {
  const parsed = IpAddress.parse(address.split("/")[0]!);
  if (parsed === null || parsed.family !== 6) {
    throw new TypeError(`"${address}" is not an IPv6 address`);
  }
  const text = parsed.toString(); // as iproute2 prints it (RFC 5952)
  const ns = options.netns === undefined ? {} : { netns: options.netns };
  const seconds = options.seconds ?? 10;
  const deadline = performance.now() + seconds * 1000;
  let addr = "";
  let local = "";
  for (;;) {
    addr = await ip(["-6", "-o", "addr", "show", "dev", dev], ns);
    local = await ip(["-6", "route", "show", "table", "local"], ns);
    const listed = addr.split("\n").find((l) => l.includes(` ${text}/`));
    if (listed !== undefined && /\bdadfailed\b/.test(listed)) {
      throw new Error(`Linux's ${text} on ${dev} is a duplicate: another host on the link has it`);
    }
    const routed = local.split("\n").some((l) => l.startsWith(`local ${text} dev ${dev} `));
    if (listed !== undefined && !/\btentative\b/.test(listed) && routed) return;
    if (performance.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    `Linux's ${text} on ${dev} not ready after ${seconds} s: addr ${addr.trim() || "(none)"}; ` +
      `local table ${local.trim().split("\n").join("; ") || "(empty)"}`,
  );
}

/**
 * {@linkcode waitPeerIpv6Ready} for each IPv6 address of `peers` (the Linux
 * end's `--peer-address` list) on `dev`, in turn; IPv4 addresses receive
 * as soon as `ip addr` returns and are passed over.
 *
 * @throws {Error} As {@linkcode waitPeerIpv6Ready}, for the first that fails.
 *
 * @example
 * ```ts ignore
 * import { configurePeer, waitPeersIpv6Ready } from "./_netns.ts";
 * const peers = ["10.0.0.1/24", "fd00::1/64"];
 * await configurePeer("tun0", { addresses: peers, netns: "demo" });
 * await waitPeersIpv6Ready("tun0", peers, "demo");
 * ```
 */
export async function waitPeersIpv6Ready(
  dev: string,
  peers: readonly string[],
  netns: string | undefined,
): Promise<void> {
  const ns = netns === undefined ? {} : { netns };
  for (const p of peers.filter((p) => p.includes(":"))) await waitPeerIpv6Ready(dev, p, ns);
}

/**
 * Runs a command inside namespace `netns` (`ip netns exec NS timeout S cmd …`),
 * killed after `seconds`.
 *
 * @example
 * ```ts ignore
 * import { netnsExec } from "./_netns.ts";
 * const r = await netnsExec("demo", ["ping", "-c", "1", "10.0.0.2"], 5);
 * console.log(r.code, r.stdout);
 * ```
 */
export function netnsExec(
  netns: string,
  command: readonly string[],
  seconds: number,
): Promise<CommandResult> {
  return runCommand("ip", ["netns", "exec", netns, "timeout", String(seconds), ...command]);
}

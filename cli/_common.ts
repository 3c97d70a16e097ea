/**
 * Pieces the commands share: building a stack's plugin list from the
 * built-ins, a stack manifest, `--plugin` flags and the chosen services;
 * checking `--serve` against the service registry; writing output lines.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { PluginEntry } from "../stack/boot.ts";
import type { LogRecord } from "../stack/log.ts";
import type { ProtocolPlugin } from "../stack/manifest.ts";
import {
  parseManifestText,
  readManifestFile,
  resolveManifest,
  type StackManifest,
} from "../stack/loader.ts";
import { BUILTIN_PLUGINS, DEFAULT_PLUGINS } from "../stack/protocols/mod.ts";
import {
  ipv4BroadcastAddress,
  ipv4NetworkAddress,
  parseIpv4Address,
  parseIpv4Cidr,
  parseIpv6Address,
} from "../stack/wire/address.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";
import type { Ipv6RoutesService } from "../stack/services.ts";
import type { Stack } from "../stack/stack.ts";
import { ipv6Plugin } from "../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../stack/protocols/icmpv6/mod.ts";
import { PcapngWriter, PcapWriter } from "../drivers/pcapfile/mod.ts";

/** A plugin as a stack takes it. */
export type PluginLike = ProtocolPlugin | PluginEntry;

/**
 * The plugin of `p`, with or without its options.
 *
 * @example
 * ```ts
 * import { pluginOf } from "./_common.ts";
 * import { udpPlugin } from "../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pluginOf({ plugin: udpPlugin, options: {} }), udpPlugin);
 * assert.equal(pluginOf(udpPlugin), udpPlugin);
 * ```
 */
export function pluginOf(p: PluginLike): ProtocolPlugin {
  return "plugin" in p ? p.plugin : p;
}

/**
 * The plugins of a stack: the defaults (or those of `manifest`, a JSON stack
 * manifest file), then `plugins` (paths or URLs), then `extra` (a service's
 * own plugins), each name once, first come first kept.
 */
export async function pluginList(
  source: { readonly manifest?: string | undefined; readonly plugins: readonly string[] },
  extra: readonly PluginLike[] = [],
): Promise<PluginLike[]> {
  let base: PluginLike[] = [...DEFAULT_PLUGINS];
  if (source.manifest !== undefined) {
    const read = source.manifest === "-"
      ? await readManifestStdin()
      : await readManifestFile(source.manifest);
    base = await resolveManifest(read.manifest, { builtins: BUILTIN_PLUGINS, base: read.base });
  }
  const added = source.plugins.length === 0
    ? []
    : await resolveManifest({ plugins: source.plugins }, { builtins: BUILTIN_PLUGINS });
  const out: PluginLike[] = [];
  const seen = new Set<string>();
  for (const p of [...base, ...added, ...extra]) {
    const name = pluginOf(p).manifest.name;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(p);
  }
  return out;
}

/**
 * A stack manifest from standard input (`--manifest -`): relative plugin
 * paths in it are resolved against the working directory, as for
 * `loadStack({ … })`.
 *
 * @throws {PluginManifestError} When the text is not JSON.
 */
async function readManifestStdin(): Promise<{ manifest: StackManifest; base: URL }> {
  const text = await new Response(Deno.stdin.readable).text();
  return parseManifestText(text, "standard input", `${Deno.cwd()}/`);
}

/**
 * {@linkcode pluginList} with the plugins of the chosen `services` last.
 *
 * @example
 * ```ts
 * import { servicePluginList } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const list = await servicePluginList({ plugins: [] }, [{}]);
 * assert.ok(list.length > 0);
 * ```
 */
export function servicePluginList(
  source: { readonly manifest?: string | undefined; readonly plugins: readonly string[] },
  services: readonly { readonly plugins?: readonly PluginLike[] }[],
): Promise<PluginLike[]> {
  return pluginList(source, services.flatMap((s) => s.plugins ?? []));
}

/**
 * A command's `--help` text, followed by the services `registry` offers.
 *
 * @example
 * ```ts
 * import { helpWithServices } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(helpWithServices("Usage: x", { echo: {} }), "Usage: x\nServices available: echo");
 * assert.equal(helpWithServices("Usage: x", {}), "Usage: x");
 * ```
 */
export function helpWithServices(
  help: string,
  registry: Readonly<Record<string, unknown>>,
): string {
  const names = Object.keys(registry);
  return help + (names.length === 0 ? "" : `\nServices available: ${names.join(", ")}`);
}

/**
 * The usage error for the `--serve` names `registry` does not have, or
 * undefined when it has them all.
 *
 * @example
 * ```ts
 * import { unknownServices } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(unknownServices(["echo"], { echo: {} }), undefined);
 * assert.equal(
 *   unknownServices(["echo", "gopher"], { echo: {} }),
 *   "unknown service gopher for --serve (available: echo)",
 * );
 * ```
 */
export function unknownServices(
  serve: readonly string[],
  registry: Readonly<Record<string, unknown>>,
): string | undefined {
  const unknown = serve.filter((s) => !Object.hasOwn(registry, s));
  if (unknown.length === 0) return undefined;
  const known = Object.keys(registry);
  return `unknown service${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} for --serve ` +
    `(available: ${known.length === 0 ? "none yet" : known.join(", ")})`;
}

/**
 * A stack log sink printing each record as `seconds level source: message`.
 *
 * @example
 * ```ts
 * import { logLines } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * logLines((l) => lines.push(l))({ time: 1_500_000, level: "warn", source: "arp", message: "hi" });
 * assert.deepEqual(lines, ["1.500000 warn arp: hi"]);
 * ```
 */
export function logLines(print: (line: string) => void): (r: LogRecord) => void {
  return (r) => print(`${(r.time / 1e6).toFixed(6)} ${r.level} ${r.source}: ${r.message}`);
}

const encoder = new TextEncoder();

/**
 * Writes `line` and a newline to `file` (`Deno.stdout`, `Deno.stderr`),
 * all of it.
 *
 * @example
 * ```ts
 * import { writeLine } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const got: number[] = [];
 * writeLine({ writeSync: (p) => (got.push(...p.subarray(0, 2)), Math.min(2, p.length)) }, "ab");
 * assert.deepEqual(got, [97, 98, 10]);
 * ```
 */
export function writeLine(file: { writeSync(p: Uint8Array): number }, line: string): void {
  const bytes = encoder.encode(line + "\n");
  for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
}

// ---- conventions shared by every command -------------------------------------------
//
// Exit codes: 0 ok; 1 a runtime failure (a file that cannot be read, a
// device that cannot be opened, a plugin that fails); 2 a usage error (bad
// option, bad value); 128 + n when stopped by signal n (130 SIGINT, 143
// SIGTERM). Every error is one line on standard error, `cli.ts <command>: …`.

/** A bad option or value: the command prints one line and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Exit code of a usage error. */
export const EXIT_USAGE = 2;
/** Exit code of a runtime failure. */
export const EXIT_FAILURE = 1;

/**
 * The exit code for a stop by `signal`: 128 + its number.
 *
 * @example
 * ```ts
 * import { signalExitCode } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(signalExitCode("SIGINT"), 130);
 * assert.equal(signalExitCode("SIGTERM"), 143);
 * ```
 */
export function signalExitCode(signal: "SIGINT" | "SIGTERM"): number {
  return signal === "SIGINT" ? 130 : 143;
}

/**
 * Prints the one-line error of `err` for `command` and gives the exit code:
 * 2 for a {@linkcode UsageError}, 1 for anything else.
 *
 * @example
 * ```ts
 * import { failCommand, UsageError } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * assert.equal(failCommand("up", (l) => lines.push(l), new UsageError("bad flag")), 2);
 * assert.equal(failCommand("up", (l) => lines.push(l), new Error("no device")), 1);
 * assert.equal(lines[1], "cli.ts up: no device");
 * ```
 */
export function failCommand(
  command: string,
  printError: (line: string) => void,
  err: unknown,
): number {
  printError(errorLine(command, err));
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * The one-line error of `command`: `cli.ts <command>: <message>`; usage
 * errors also name the help.
 *
 * @example
 * ```ts
 * import { errorLine, UsageError } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(errorLine("up", new Error("no such device")), "cli.ts up: no such device");
 * assert.equal(
 *   errorLine("up", new UsageError("--mtu must be 68..65535")),
 *   'cli.ts up: --mtu must be 68..65535 (see "cli.ts up --help")',
 * );
 * assert.equal(errorLine("graph", new Error("bad \x1b[31m")), "cli.ts graph: bad \\x1b[31m");
 * ```
 */
export function errorLine(command: string, err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, "; ")
    // Input quoted in a message (JSON.parse quotes it) reaches the terminal:
    // control characters are shown escaped, never sent (ESC [ … would recolour it).
    .replace(
      // deno-lint-ignore no-control-regex
      /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    );
  const hint = err instanceof UsageError ? ` (see "cli.ts ${command} --help")` : "";
  return `cli.ts ${command}: ${message}${hint}`;
}

/**
 * `node:util`'s `parseArgs`, with its errors as {@linkcode UsageError}s.
 *
 * @example
 * ```ts
 * import { parseOptions, UsageError } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const options = { n: { type: "string" } } as const;
 * assert.equal(parseOptions({ args: ["--n", "3"], options }).values.n, "3");
 * assert.throws(() => parseOptions({ args: ["--x"], options }), UsageError);
 * assert.throws(
 *   () => parseOptions({ args: ["--x"], options, allowPositionals: true }),
 *   (e: Error) => e.message === "Unknown option '--x'",
 * );
 * ```
 */
export function parseOptions<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T & { strict: true }>> {
  try {
    return parseArgs({ ...config, strict: true });
  } catch (err) {
    // Commands that take files get node's hint on '--' appended, its quotes
    // unbalanced: every command says just "Unknown option '--x'".
    const first = (err as Error).message.split("\n")[0]!;
    throw new UsageError(first.replace(/\. To specify a positional argument .*$/, ""));
  }
}

/**
 * Checks an address option (`--gateway 10.0.0.1`, `--gateway fe80::1`):
 * IPv4 or IPv6, unicast; returns it.
 *
 * @throws {UsageError} For anything else.
 *
 * @example
 * ```ts
 * import { checkAddress, UsageError } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkAddress("--gateway", "10.0.0.1"), "10.0.0.1");
 * assert.equal(checkAddress("--gateway", "fe80::1"), "fe80::1");
 * assert.throws(() => checkAddress("--gateway", "ff02::1"), /unicast/);
 * assert.throws(() => checkAddress("--gateway", "300.0.0.1"), UsageError);
 * ```
 */
export function checkAddress(flag: string, value: string): string {
  if (parseIpv4Address(value) !== null) return value;
  const v6 = IpAddress.parse(value);
  if (v6 !== null && v6.family === 6) {
    if (v6.isMulticast() || v6.isUnspecified()) {
      throw new UsageError(`${flag} ${value} is not a unicast address`);
    }
    return v6.toString();
  }
  throw new UsageError(
    `${flag} "${value}" is not an IPv4 or IPv6 address such as 10.0.0.1 or fd00::1`,
  );
}

/** A host address with its prefix length, of either family (what {@linkcode checkHostCidr} returns). */
export interface HostCidr {
  /** The address. */
  readonly address: IpAddress;
  /** The prefix length: 0..32 for IPv4, 0..128 for IPv6. */
  readonly prefixLength: number;
}

/**
 * Checks a host address with prefix length (`--address 10.0.0.2/24`,
 * `--address fd00::2/64`): IPv4 with a prefix length 0..32 and not the
 * subnet's network or broadcast address (prefixes up to /30), or IPv6 with
 * 0..128, unicast and not `::` or `::1`.
 *
 * @throws {UsageError} Naming the flag and what is wrong.
 *
 * @example
 * ```ts
 * import { checkHostCidr } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkHostCidr("--address", "10.0.0.2/24").address.key, 0x0a000002);
 * assert.equal(checkHostCidr("--address", "FD00::2/64").address.toString(), "fd00::2");
 * assert.throws(() => checkHostCidr("--address", "10.0.0.2/33"), /prefix length/);
 * assert.throws(() => checkHostCidr("--address", "fd00::2/129"), /prefix length/);
 * assert.throws(() => checkHostCidr("--address", "ff02::1/64"), /unicast/);
 * assert.throws(() => checkHostCidr("--address", "300.1.1.1/24"), /not an IPv4 or IPv6 address/);
 * assert.throws(() => checkHostCidr("--address", "10.0.0.0/24"), /network address/);
 * ```
 */
export function checkHostCidr(flag: string, value: string): HostCidr {
  const slash = value.indexOf("/");
  const addr = slash < 0 ? value : value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  const v6 = parseIpv6Address(addr);
  if (v6 !== null) {
    if (slash < 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > 128) {
      throw new UsageError(`${flag} "${value}" needs a prefix length 0..128, such as ${addr}/64`);
    }
    const a = IpAddress.v6(v6);
    if (a.isMulticast() || a.isUnspecified() || a.isLoopback()) {
      throw new UsageError(`${flag} ${value} is not a unicast address for an interface`);
    }
    return { address: a, prefixLength: Number(prefix) };
  }
  if (parseIpv4Address(addr) === null) {
    throw new UsageError(
      `${flag} "${value}" is not an IPv4 or IPv6 address with a prefix, such as 10.0.0.2/24 ` +
        `or fd00::2/64`,
    );
  }
  if (slash < 0 || !/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) {
    throw new UsageError(`${flag} "${value}" needs a prefix length 0..32, such as ${addr}/24`);
  }
  const cidr = parseIpv4Cidr(value);
  if (cidr === null) throw new UsageError(`${flag} "${value}" is not a valid IPv4 CIDR`);
  if (cidr.prefixLength <= 30) {
    if (cidr.address === ipv4NetworkAddress(cidr)) {
      throw new UsageError(`${flag} ${value} is the network address of its subnet, not a host`);
    }
    if (cidr.address === ipv4BroadcastAddress(cidr)) {
      throw new UsageError(`${flag} ${value} is the broadcast address of its subnet, not a host`);
    }
  }
  return { address: IpAddress.v4(cidr.address), prefixLength: cidr.prefixLength };
}

/**
 * `list` with the IPv6 and ICMPv6 plugins added unless a plugin of that
 * name is there already (a manifest's list is left as it is): the
 * commands speak IPv6 before the default plugin set does.
 *
 * @example
 * ```ts
 * import { withIpv6 } from "./_common.ts";
 * import assert from "node:assert/strict";
 * const names = withIpv6([]).map((p) => ("plugin" in p ? p.plugin : p).manifest.name);
 * assert.deepEqual(names, ["ipv6", "icmpv6"]);
 * assert.equal(withIpv6(withIpv6([])).length, 2);
 * ```
 */
export function withIpv6(list: readonly PluginLike[]): PluginLike[] {
  const names = new Set(list.map((p) => pluginOf(p).manifest.name));
  return [...list, ...[ipv6Plugin, icmpv6Plugin].filter((p) => !names.has(p.manifest.name))];
}

/**
 * Adds a default route via `gateway`, IPv4 (`0.0.0.0/0`) or IPv6 (`::/0`,
 * out of `ifname`: an IPv6 gateway is often link-local, which only the
 * interface makes unambiguous).
 *
 * @throws {Error} When the stack refuses the route (no IPv6 plugin, …).
 *
 * @example
 * ```ts
 * import { addDefaultRoute, withIpv6 } from "./_common.ts";
 * import { createStack, DEFAULT_PLUGINS } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1, plugins: withIpv6(DEFAULT_PLUGINS) });
 * stack.addInterface({ name: "tun0", driver: { linkType: 101, mtu: 1500, attach() {}, transmit(p) { p.release(); }, close() {} }, addresses: ["fd00::2/64"] });
 * addDefaultRoute(stack, "fe80::1", "tun0");
 * assert.ok(stack.service<{ list(): unknown[] }>("ipv6.routes")!.list().length >= 2);
 * stack.close();
 * ```
 */
export function addDefaultRoute(stack: Stack, gateway: string, ifname: string): void {
  const gw = IpAddress.parse(gateway);
  if (gw === null || gw.family === 4) {
    stack.addRoute("default", { gateway });
    return;
  }
  const routes = stack.service<Ipv6RoutesService>("ipv6.routes");
  const iface = stack.interfaces.byName(ifname);
  if (routes === undefined || iface === undefined) {
    throw new Error(`Cannot add a route via ${gateway}: no IPv6 plugin or no interface ${ifname}`);
  }
  if (
    !routes.add({
      destination: IpAddress.ANY6.key,
      prefixLength: 0,
      gateway: gw.key,
      ifindex: iface.index,
      metric: 1024,
    })
  ) throw new Error(`Cannot add a route via ${gateway}: the IPv6 routing table is full`);
}

/**
 * Checks that `path` can be created or overwritten as an output file (`-`
 * is standard output) without creating it: its folder exists, it is not a
 * folder, and write permission is granted.
 *
 * @throws {UsageError} Naming the flag and the problem.
 *
 * @example
 * ```ts
 * import { checkOutputPath } from "./_common.ts";
 * import assert from "node:assert/strict";
 * checkOutputPath("--out", "-");
 * assert.throws(() => checkOutputPath("--out", "/nonexistent-dir-x/a.pcap"), /does not exist/);
 * assert.throws(() => checkOutputPath("--out", "."), /is a directory/);
 * ```
 */
export function checkOutputPath(flag: string, path: string): void {
  if (path === "-") return;
  if (path === "") throw new UsageError(`${flag} needs a file name`);
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const perm = Deno.permissions.querySync({ name: "write", path });
  if (perm.state !== "granted") {
    throw new UsageError(
      `${flag} ${path}: no permission to write it (run with --allow-write=${path})`,
    );
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new UsageError(`${flag} ${path}: the folder ${dir} does not exist`);
    }
    return; // not allowed to look (no --allow-read there): creating the file will tell
  }
  if (!info.isDirectory) throw new UsageError(`${flag} ${path}: ${dir} is not a folder`);
  try {
    if (Deno.statSync(path).isDirectory) {
      throw new UsageError(`${flag} ${path} is a directory, not a file`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // Not there yet (or not readable to stat): creating it will tell.
  }
}

/**
 * Checks that `path` is a readable file (`-`, standard input, passes).
 *
 * @throws {UsageError} When it is missing or a folder.
 */
export function checkInputPath(flag: string, path: string): void {
  if (path === "-") return;
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(
        `${flag}${flag ? " " : ""}${path}: no permission to read it (run with --allow-read)`,
      );
    }
    throw new UsageError(`${flag}${flag ? " " : ""}${path}: no such file`);
  }
  if (info.isDirectory) {
    throw new UsageError(`${flag}${flag ? " " : ""}${path} is a directory, not a file`);
  }
}

/** A capture file format. */
export type CaptureFormat = "pcap" | "pcapng";

/**
 * The format to write `path` in: `explicit` if given, else pcapng for a
 * name ending in `.pcapng`, else classic pcap.
 *
 * @example
 * ```ts
 * import { captureFormat } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(captureFormat("x.pcapng"), "pcapng");
 * assert.equal(captureFormat("x.pcap"), "pcap");
 * assert.equal(captureFormat("-"), "pcap");
 * assert.equal(captureFormat("x.cap", "pcapng"), "pcapng");
 * ```
 */
export function captureFormat(path: string, explicit?: string | undefined): CaptureFormat {
  if (explicit === "pcap" || explicit === "pcapng") return explicit;
  if (explicit !== undefined) {
    throw new UsageError(`--format must be pcap or pcapng, not "${explicit}"`);
  }
  return path.toLowerCase().endsWith(".pcapng") ? "pcapng" : "pcap";
}

/**
 * Opens a capture writer on `path` (`-`: standard output) in `format`, with
 * the given interfaces (classic pcap takes the first one's link type).
 */
export function openCaptureWriter(
  path: string,
  format: CaptureFormat,
  interfaces: readonly { linkType: number; name?: string }[],
): PcapWriter | PcapngWriter {
  const sinkOptions = path === "-" ? { sink: Deno.stdout, bufferSize: 65536 } : null;
  if (format === "pcapng") {
    const options = { interfaces: interfaces.map((i) => ({ ...i })) };
    return sinkOptions
      ? new PcapngWriter({ ...options, ...sinkOptions })
      : PcapngWriter.create(path, options);
  }
  const options = { linkType: interfaces[0]?.linkType ?? 1 };
  return sinkOptions
    ? new PcapWriter({ ...options, ...sinkOptions })
    : PcapWriter.create(path, options);
}

/**
 * The stack options every command boots with: a plugin whose `ready()`
 * throws fails the command (not just a logged fault), and, when the
 * `NETSTACK_STRICT` environment variable is `1` (and readable), undeclared
 * drop reasons throw instead of being counted as `<plugin>.undeclared`.
 *
 * @example
 * ```ts
 * import { bootChecks } from "./_common.ts";
 * import assert from "node:assert/strict";
 * assert.equal(bootChecks().readyFaults, "fail");
 * ```
 */
export function bootChecks(): { readyFaults: "fail"; strictCounters: boolean } {
  let strict = false;
  const variable = "NETSTACK_STRICT";
  if (Deno.permissions.querySync({ name: "env", variable }).state === "granted") {
    strict = Deno.env.get(variable) === "1";
  }
  return { readyFaults: "fail", strictCounters: strict };
}

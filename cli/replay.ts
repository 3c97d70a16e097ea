/**
 * `cli.ts replay FILE`: replays a pcap or pcapng capture into a virtual host
 * on virtual time (or paced in real time), writes what the host sent back to
 * an output capture, and prints what happened to every packet.
 * {@linkcode runReplay} is the whole command; {@linkcode REPLAY_HELP}
 * documents it; {@linkcode formatReplaySummary} prints a
 * {@linkcode ReplaySummary}.
 *
 * The host gets one interface per kind of link in the capture: `eth0` for
 * Ethernet, `tun0` for raw IP (link types 101, 228, 229). Its `--address`es
 * go to the first of them (Ethernet if there is one). Without `--mac`, the
 * Ethernet MAC is the destination MAC of the first unicast frame sent to
 * one of the addresses, so that a capture of traffic to a real host replays
 * as traffic to ours. With `--arp capture` (the default) the ARP cache is
 * filled from the capture first: each IPv4 sender's MAC, as a permanent
 * entry, because the recorded peers cannot answer the host's ARP requests
 * (and each IPv6 sender's, in a fixed `neighbor.ipv6` table, when no plugin
 * does Neighbor Discovery); `--arp live` leaves the cache empty, as on a
 * real link. The host speaks IPv6 (the IPv6 and ICMPv6 plugins are added
 * unless `--manifest` chose the plugins).
 *
 * Services (`--serve`) come from the registry the caller passes, the same
 * one `up` takes (cli.ts passes what plugins/services/ provides).
 *
 * @module
 */
import {
  addDefaultRoute,
  bootChecks,
  captureFormat,
  checkAddress,
  checkHostCidr,
  checkInputPath,
  checkOutputPath,
  errorLine,
  EXIT_FAILURE,
  EXIT_USAGE,
  failCommand,
  helpWithServices,
  logLines,
  openCaptureWriter,
  parseOptions,
  type PluginLike,
  pluginOf,
  servicePluginList,
  signalExitCode,
  UsageError,
  withIpv6,
  writeLine,
} from "./_common.ts";
import { chosenServices, serveProblem, withServiceModules } from "./_serve.ts";
import { createStack, type Stack } from "../mod.ts";
import { ManualClock } from "../stack/clock.ts";
import type { ArpService } from "../stack/services.ts";
import { formatMac, parseIpv4Address, parseMac } from "../stack/wire/address.ts";
import { IpAddress, type IpKey } from "../stack/wire/ip_address.ts";
import { MAX_STATIC_NEIGHBORS, staticNeighbors6 } from "./_static_neighbors.ts";
import { decodeFrame } from "../stack/wire/decode.ts";
import {
  type CaptureInterface,
  CaptureReaderSync,
  type CaptureRecord,
  type PcapngWriter,
  type PcapWriter,
  replayCapture,
  ReplayDriver,
  type ReplaySummary,
} from "../drivers/pcapfile/mod.ts";
import { compileFilter, FILTER_HELP, type FrameFilter } from "./decode.ts";
import { ProgressBar } from "./_progress.ts";
import type { RunningService, ServiceRegistry } from "./up.ts";
import { LINKTYPE_ETHERNET } from "../stack/wire/numbers.ts";

/** Help text of `replay`. */
export const REPLAY_HELP = `Usage: deno run --allow-read --allow-write cli.ts replay FILE [options]

FILE "-" reads the capture from standard input.

Replays a pcap or pcapng capture into a virtual host, as if its packets
arrived on the host's interface, and reports what became of each: accepted
by a protocol, or dropped and why (the plugin's drop counter), and what the
host sent back. Each packet's timestamp drives the host's virtual clock;
timers that fall due between two packets (ARP retries, TCP retransmits) run
in order first. Nothing touches a real network.

The host gets eth0 for Ethernet packets and tun0 for raw IP ones (link types
101, 228, 229); packets of other link types are counted and skipped.

Options:
  --address CIDR    the host's address, IPv4 or IPv6, repeatable (e.g.
                    10.77.0.2/24, fd00:77::2/64); they go to the first interface
                    (eth0 if the capture has Ethernet)
  --mac MAC         eth0's MAC (default: the destination of the first unicast
                    frame to one of the addresses, else 02:00:00:00:00:01)
  --gateway IP      add a default route via IP (IPv4 or IPv6)
  --arp capture|live  capture (default): fill eth0's ARP cache with the MAC of
                    every IPv4 sender in the capture's first 10 000 packets, as
                    the recorded peers cannot answer the host's ARP requests,
                    and, when no plugin does Neighbor Discovery, a fixed IPv6
                    neighbour table likewise; live: start empty, as on a real
                    link (answers then wait for replies the capture may not have)
  --plugin PATH|URL add a plugin by file path or URL (repeatable)
  --manifest FILE   a JSON stack manifest instead of the built-in plugins
                    ("-": standard input, when FILE is not)
  --serve NAME      run a service (repeatable, or comma separated; NAME:PORT on another port;
                    a path or URL: a module of your own exporting a defineService() plugin)
  --out FILE        write what the host sent to FILE: pcapng when the name
                    ends in .pcapng, else pcap (a capture with two link
                    types needs pcapng); "-" writes it to standard output
                    and the summary to standard error
  --format pcap|pcapng  the --out format, whatever the name
  --merge           with --out, also write the replayed packets, so the file
                    holds the whole conversation (pcapng: with directions;
                    pcap: in timestamp order)
  --speed N|max     max (default): as fast as the host goes, on virtual time;
                    N: paced against the wall clock, N times real time
  --realtime        the same as --speed 1
  --max-gap SECONDS with --speed N: wait at most this long (wall clock) between
                    two packets, like tcpreplay --maxsleep (default 1; 0: no
                    waiting at all, packets keep their order)
  --tail SECONDS    keep the host's timers running this long after the last
                    packet (default 0)
  --filter EXPR     replay only the packets matching EXPR (see below)
  --seed N          the host's random seed (default 1): the same seed and
                    capture give the same bytes
  -h, --help        this text

A progress bar shows on a terminal when the replay takes more than a second.
The summary lists packets read, replayed, accepted by each protocol, dropped
by reason, and the answers sent by kind.

${FILTER_HELP}

SIGINT or SIGTERM stop the replay: the output capture is closed (valid, with
what was sent so far) and the summary printed.

Exit status: 0; 1 when the capture is corrupt or cut off (the packets before
the damage are replayed; the message names the byte offset) or cannot be
read; 2 for bad options or an unknown service; 130 after SIGINT, 143 after
SIGTERM.

Example:
  deno run --allow-read --allow-write cli.ts replay probes.pcap \\
    --address 10.77.0.2/24 --out answers.pcapng --merge
`;

/**
 * Options of {@linkcode runReplay}.
 *
 * @example
 * ```ts
 * import type { ReplayCommandOptions } from "./replay.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const options: ReplayCommandOptions = { print: (l) => lines.push(l), handleSignals: false };
 * assert.equal(options.handleSignals, false);
 * ```
 */
export interface ReplayCommandOptions {
  /** Services `--serve` may name (default none). */
  readonly services?: ServiceRegistry;
  /** Where the summary goes (default standard output). */
  readonly print?: (line: string) => void;
  /** Where errors, notices and logs go (default standard error). */
  readonly printError?: (line: string) => void;
  /** Stops the replay when aborted (as SIGINT does). */
  readonly signal?: AbortSignal;
  /** Stop on SIGINT and SIGTERM (default true). */
  readonly handleSignals?: boolean;
  /** Called with the summary (tests, embedding). */
  readonly onSummary?: (summary: ReplaySummary, stack: Stack) => void;
}

interface ReplayArgs {
  file: string;
  addresses: string[];
  mac: Uint8Array | undefined;
  gateway: string | undefined;
  arp: "capture" | "live";
  plugins: string[];
  manifest: string | undefined;
  serve: string[];
  out: string | undefined;
  format: "pcap" | "pcapng" | undefined;
  merge: boolean;
  speed: number | "max";
  maxGap: number;
  tail: number;
  filter: string | undefined;
  seed: number;
}

function parseReplayArgs(args: string[]): ReplayArgs | "help" {
  const parsed = parseOptions({
    args,
    allowPositionals: true,
    options: {
      address: { type: "string", multiple: true },
      mac: { type: "string" },
      gateway: { type: "string" },
      arp: { type: "string", default: "capture" },
      plugin: { type: "string", multiple: true },
      manifest: { type: "string" },
      serve: { type: "string", multiple: true },
      out: { type: "string" },
      format: { type: "string" },
      merge: { type: "boolean", default: false },
      speed: { type: "string" },
      "max-gap": { type: "string", default: "1" },
      realtime: { type: "boolean", default: false },
      tail: { type: "string", default: "0" },
      filter: { type: "string" },
      seed: { type: "string", default: "1" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const v = parsed.values;
  const positionals = parsed.positionals;
  if (v.help) return "help";
  if (positionals.length !== 1) throw new UsageError("give exactly one capture FILE");
  const addresses = v.address ?? [];
  for (const a of addresses) checkHostCidr("--address", a);
  let mac: Uint8Array | undefined;
  if (v.mac !== undefined) {
    const m = parseMac(v.mac);
    if (m === null || (m[0]! & 1) !== 0) {
      throw new UsageError(`--mac must be a unicast MAC such as 02:00:00:00:00:02, not "${v.mac}"`);
    }
    mac = m;
  }
  if (v.gateway !== undefined) checkAddress("--gateway", v.gateway);
  if (v.arp !== "capture" && v.arp !== "live") {
    throw new UsageError(`--arp must be capture or live, not "${v.arp}"`);
  }
  if (v.realtime && v.speed !== undefined) {
    throw new UsageError("give --realtime or --speed, not both");
  }
  let speed: number | "max" = v.realtime ? 1 : "max";
  if (v.speed !== undefined && v.speed !== "max") {
    speed = Number(v.speed);
    if (!(speed > 0) || !Number.isFinite(speed)) {
      throw new UsageError(`--speed must be a positive number or max, not "${v.speed}"`);
    }
  }
  const maxGap = Number(v["max-gap"]);
  if (!(maxGap >= 0) || !Number.isFinite(maxGap) || maxGap > 86_400) {
    throw new UsageError(`--max-gap must be 0..86400 seconds, not "${v["max-gap"]}"`);
  }
  const tail = Number(v.tail);
  if (!(tail >= 0) || !Number.isFinite(tail)) {
    throw new UsageError(`--tail must be a non-negative number of seconds, not "${v.tail}"`);
  }
  const seed = Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, not "${v.seed}"`);
  if (v.merge && v.out === undefined) throw new UsageError("--merge needs --out FILE");
  if (v.format !== undefined && v.out === undefined) {
    throw new UsageError("--format needs --out FILE");
  }
  if (v.out !== undefined) checkOutputPath("--out", v.out);
  const format = v.format === undefined ? undefined : captureFormat("", v.format);
  checkInputPath("", positionals[0]!);
  if (v.manifest !== undefined) checkInputPath("--manifest", v.manifest);
  if (v.manifest === "-" && positionals[0] === "-") {
    throw new UsageError("FILE and --manifest cannot both be - (standard input)");
  }
  for (const p of v.plugin ?? []) {
    if (p.startsWith(".") || p.startsWith("/")) checkInputPath("--plugin", p);
  }
  return {
    file: positionals[0]!,
    addresses,
    mac,
    gateway: v.gateway,
    arp: v.arp,
    plugins: v.plugin ?? [],
    manifest: v.manifest,
    serve: (v.serve ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s),
    out: v.out,
    format,
    merge: v.merge,
    speed,
    maxGap: Math.round(maxGap * 1e6),
    tail: Math.round(tail * 1e6),
    filter: v.filter,
    seed,
  };
}

const MAC_SCAN_LIMIT = 10_000;

function recordFilter(filter: FrameFilter): (rec: CaptureRecord) => boolean {
  return (rec) => filter(decodeFrame(rec.data, rec.linkType));
}

/** What the first packets of a capture tell about the host to build. */
interface Survey {
  /** The capture's interfaces (those described by the first packet). */
  readonly interfaces: CaptureInterface[];
  /** eth0's MAC: the destination of the first unicast Ethernet frame to one of the addresses. */
  readonly mac: Uint8Array | null;
  /** IPv4 senders on Ethernet and their MACs (ARP senders included). */
  readonly neighbors: Map<string, Uint8Array>;
  /** IPv6 senders on Ethernet (unicast, not us) and their MACs, by address key. */
  readonly neighbors6: Map<IpKey, Uint8Array>;
  /** Why the capture could not be read, if it could not. */
  readonly error: Error | null;
}

const MAX_NEIGHBORS = 4096;

/** Reads at most {@linkcode MAC_SCAN_LIMIT} packets of `source` for a {@linkcode Survey}. */
function survey(source: string | Uint8Array, addresses: readonly string[]): Survey {
  const reader = typeof source === "string"
    ? CaptureReaderSync.open(source)
    : new CaptureReaderSync(source);
  const ours = new Set<string>();
  // As the decoder writes them (RFC 5952 for IPv6).
  for (const a of addresses) ours.add(checkHostCidr("--address", a).address.toString());
  let mac: Uint8Array | null = null;
  let interfaces: CaptureInterface[] = [];
  const neighbors = new Map<string, Uint8Array>();
  const neighbors6 = new Map<IpKey, Uint8Array>();
  try {
    for (let n = 0; n < MAC_SCAN_LIMIT; n++) {
      const rec = reader.next();
      if (n === 0) interfaces = [...reader.interfaces];
      if (rec === null) break;
      if (rec.linkType !== 1 || rec.data.length < 14) continue;
      const d = decodeFrame(rec.data, 1);
      if (d.src === undefined || d.dst === undefined) continue;
      if (mac === null && (rec.data[0]! & 1) === 0 && ours.has(d.dst) && d.protocol !== "arp") {
        mac = rec.data.slice(0, 6);
      }
      // An IPv4 (or ARP) sender with a unicast MAC, not us: a neighbour.
      const v4 = parseIpv4Address(d.src);
      if (
        v4 !== null && v4 !== 0 && (rec.data[6]! & 1) === 0 && !ours.has(d.src) &&
        !neighbors.has(d.src) && neighbors.size < MAX_NEIGHBORS
      ) {
        neighbors.set(d.src, rec.data.slice(6, 12));
      }
      const v6 = v4 === null ? IpAddress.parse(d.src) : null;
      if (
        v6 !== null && v6.family === 6 && !v6.isUnspecified() && !v6.isMulticast() &&
        (rec.data[6]! & 1) === 0 && !ours.has(d.src) && !neighbors6.has(v6.key) &&
        neighbors6.size < MAX_NEIGHBORS
      ) {
        neighbors6.set(v6.key, rec.data.slice(6, 12));
      }
    }
    if (interfaces.length === 0) interfaces = [...reader.interfaces];
    return { interfaces, mac, neighbors, neighbors6, error: reader.error };
  } finally {
    reader.close();
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function table(rows: Readonly<Record<string, number>>, indent = "  "): string[] {
  const entries = Object.entries(rows).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, n]) => `${indent}${k.padEnd(width)}  ${n}`);
}

/**
 * The replay summary as text: packets read and replayed, accepted by each
 * protocol, dropped by counter, answers sent by kind, and any notices.
 *
 * @param s The summary from `replayCapture`.
 * @param name What to call the capture (its file name).
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { formatReplaySummary } from "./replay.ts";
 * import { replayCapture, ReplayDriver } from "../drivers/pcapfile/mod.ts";
 * import { createStack } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack();
 * const tun = new ReplayDriver({ linkType: 101 });
 * stack.addInterface({ driver: tun, addresses: ["10.77.0.2/24"] });
 * const s = await replayCapture(new URL("../tests/fixtures/pcaps/linux-probes/tun-ping4.pcap", import.meta.url).pathname, { stack, drivers: [tun] });
 * const text = formatReplaySummary(s, "tun-ping4.pcap").join("\n");
 * assert.match(text, /^accepted +3\n +icmp +3$/m);
 * assert.match(text, /^sent +3\n +icmp echo reply +3$/m);
 * stack.close();
 * ```
 */
export function formatReplaySummary(s: ReplaySummary, name: string): string[] {
  const lines: string[] = [];
  const span = s.firstTimestamp === null || s.lastTimestamp === null
    ? ""
    : ` over ${((s.lastTimestamp - s.firstTimestamp) / 1e6).toFixed(3)} s of capture time`;
  lines.push(
    `replay ${name} (${s.format ?? "unreadable"}): ${plural(s.read, "packet")} read, ` +
      `${s.replayed} replayed${span}, in ${(s.wallTime / 1000).toFixed(3)} s`,
  );
  const notes: string[] = [];
  if (s.filtered > 0) notes.push(`${s.filtered} left out by the filter`);
  if (s.skipped > 0) {
    notes.push(
      `${s.skipped} skipped (${
        Object.entries(s.skippedByLinkType).map(([k, n]) => `${k}: ${n}`).join(", ")
      })`,
    );
  }
  if (s.truncated > 0) notes.push(`${s.truncated} cut short by the snapshot length`);
  if (s.reordered > 0) notes.push(`${s.reordered} stamped earlier than the packet before`);
  if (s.aborted) notes.push("stopped early");
  if (notes.length > 0) lines.push(`  (${notes.join("; ")})`);
  const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
  lines.push(`accepted  ${s.accepted}`);
  lines.push(...table(s.acceptedBy));
  lines.push(`dropped   ${dropped}`);
  const drops: Record<string, number> = {};
  for (const [k, n] of Object.entries(s.dropped)) {
    const where = k === "dispatcher.rx.no_binding" && Object.keys(s.unbound).length > 0
      ? ` (${Object.entries(s.unbound).map(([u, c]) => `${u}: ${c}`).join(", ")})`
      : "";
    drops[k + where] = n;
  }
  lines.push(...table(drops));
  lines.push(`sent      ${s.sent}`);
  lines.push(...table(s.sentBy));
  for (const m of s.messages) lines.push(`note: ${m}`);
  return lines;
}

/**
 * The replayed host answers recorded peers that cannot answer it: the
 * default plugins that need a live link, Neighbor Discovery with DAD
 * (`ndp`), `slaac` and `mld`, are left out unless `--plugin` names them, so
 * its addresses are usable at once and it sends nothing unasked (IPv6
 * neighbours come from the capture with `--arp capture`).
 */
function notLiveOnly(named: readonly string[]): (p: PluginLike) => boolean {
  return (p) => {
    const name = pluginOf(p).manifest.name;
    return !(["ndp", "slaac", "mld"].includes(name) && !named.includes(name));
  };
}

/**
 * Runs `replay` with `args`; returns the exit code (0 ok; 1 corrupt or
 * unreadable capture, or a failure; 2 bad options or unknown service).
 *
 * @example
 * ```ts
 * import { runReplay } from "./replay.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const code = await runReplay(
 *   [new URL("../tests/fixtures/pcaps/linux-probes/tap-arping.pcap", import.meta.url).pathname, "--address", "10.78.0.2/24"],
 *   { print: (l) => lines.push(l), handleSignals: false },
 * );
 * assert.equal(code, 0);
 * assert.ok(lines.includes("sent      3"));
 * ```
 */
export async function runReplay(
  args: string[],
  options: ReplayCommandOptions = {},
): Promise<number> {
  const printError = options.printError ?? ((l: string) => writeLine(Deno.stderr, l));
  let registry = options.services ?? {};
  let a: ReplayArgs;
  let filter: FrameFilter | undefined;
  try {
    const parsed = parseReplayArgs(args);
    if (parsed === "help") {
      (options.print ?? ((l: string) => writeLine(Deno.stdout, l)))(
        helpWithServices(REPLAY_HELP, registry),
      );
      return 0;
    }
    a = parsed;
    registry = await withServiceModules(a.serve, registry);
    const unknown = serveProblem(a.serve, registry);
    if (unknown !== undefined) throw new UsageError(unknown);
    try {
      filter = a.filter === undefined ? undefined : compileFilter(a.filter);
    } catch (err) {
      throw new UsageError(`--filter: ${(err as Error).message}`);
    }
  } catch (err) {
    return failCommand("replay", printError, err);
  }
  // With the capture on standard output, the summary goes to standard error.
  const print = options.print ??
    (a.out === "-" ? printError : (l: string) => writeLine(Deno.stdout, l));

  // Listen first: a signal while the capture is read must not kill us either.
  const controller = new AbortController();
  let stoppedBy: "SIGINT" | "SIGTERM" | null = null;
  const signals: ["SIGINT" | "SIGTERM", () => void][] = options.handleSignals === false
    ? []
    : (["SIGINT", "SIGTERM"] as const).map((s) => [s, () => {
      stoppedBy ??= s;
      controller.abort();
    }]);
  for (const [s, fn] of signals) Deno.addSignalListener(s, fn);
  try {
    const code = await replayWith(a, filter, controller, print, printError, {
      ...options,
      services: registry,
    });
    const by = stoppedBy as "SIGINT" | "SIGTERM" | null; // set by the listeners
    return code ?? (by === null ? 0 : signalExitCode(by));
  } finally {
    for (const [s, fn] of signals) Deno.removeSignalListener(s, fn);
  }
}

/** The replay proper; undefined when a signal stopped it (the caller knows which). */
async function replayWith(
  a: ReplayArgs,
  filter: FrameFilter | undefined,
  controller: AbortController,
  print: (l: string) => void,
  printError: (l: string) => void,
  options: ReplayCommandOptions,
): Promise<number | undefined> {
  const registry = options.services ?? {};
  let info;
  let size = 0;
  let source: string | Uint8Array = a.file;
  try {
    if (a.file === "-") {
      source = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
      size = source.length;
    } else size = Deno.statSync(a.file).size;
    info = survey(source, a.addresses);
  } catch (err) {
    printError(errorLine("replay", `cannot read ${a.file}: ${(err as Error).message}`));
    return EXIT_FAILURE;
  }
  if (info.interfaces.length === 0 && info.error !== null) {
    printError(
      errorLine(
        "replay",
        `${a.file} is not a capture this reader understands: ${info.error.message}`,
      ),
    );
    return EXIT_FAILURE;
  }

  const services = chosenServices(a.serve, registry);
  const abortOuter = () => controller.abort();
  options.signal?.addEventListener("abort", abortOuter, { once: true });
  let stack: Stack | null = null;
  let writer: PcapWriter | PcapngWriter | null = null;
  const running: RunningService[] = [];
  try {
    // IPv6 and ICMPv6 too unless a manifest chose the plugins; with --arp
    // capture, IPv6 neighbours from the capture when nothing resolves them.
    let plugins = await servicePluginList(a, services);
    if (a.manifest === undefined) plugins = withIpv6(plugins).filter(notLiveOnly(a.plugins));
    const providesNdp = plugins.some((p) =>
      pluginOf(p).manifest.provides?.includes("neighbor.ipv6") === true
    );
    const staticNdp = a.arp === "capture" && !providesNdp && info.neighbors6.size > 0;
    if (staticNdp) plugins.push(staticNeighbors6(info.neighbors6));
    const log = logLines(printError);
    stack = createStack({
      ...bootChecks(),
      plugins,
      clock: new ManualClock(),
      seed: a.seed,
      log,
      logLevel: "warn",
      name: "replay",
    });
    const linkTypes = new Set(info.interfaces.map((i) => i.linkType));
    const drivers: ReplayDriver[] = [];
    const mac = a.mac ?? info.mac ?? new Uint8Array([2, 0, 0, 0, 0, 1]);
    if (linkTypes.has(1) || linkTypes.size === 0) {
      drivers.push(new ReplayDriver({ linkType: 1, mac, name: "eth0" }));
    }
    if ([...linkTypes].some((t) => t === 101 || t === 228 || t === 229)) {
      drivers.push(new ReplayDriver({ linkType: 101, name: "tun0" }));
    }
    if (drivers.length === 0) {
      // Only link types the stack has no plugin for: replay still counts them.
      drivers.push(new ReplayDriver({ linkType: 1, mac, name: "eth0" }));
    }
    drivers.forEach((d, i) =>
      stack!.addInterface({
        name: d.name,
        driver: d,
        addresses: i === 0 ? a.addresses : [],
      })
    );
    if (a.gateway !== undefined) addDefaultRoute(stack, a.gateway, drivers[0]!.name);
    let learned = 0;
    const arp = stack.service<ArpService>("arp.resolve");
    if (a.arp === "capture" && arp !== undefined && drivers[0]!.linkType === LINKTYPE_ETHERNET) {
      for (const [addr, hw] of info.neighbors) {
        const n = parseIpv4Address(addr);
        if (n === null || (n >>> 28) === 0xe || n === 0xffffffff) continue;
        arp.addStatic(drivers[0]!.ifindex, n, hw);
        learned++;
      }
    }
    if (a.out !== undefined) {
      const format = a.format ?? captureFormat(a.out);
      if (format === "pcap" && drivers.length > 1) {
        printError(errorLine(
          "replay",
          `--out ${a.out}: the capture has Ethernet and raw IP packets, which only pcapng ` +
            `can hold; name it .pcapng or give --format pcapng`,
        ));
        return EXIT_USAGE;
      }
      writer = openCaptureWriter(
        a.out,
        format,
        drivers.map((d) => ({ linkType: d.linkType, name: d.name })),
      );
    }
    for (const s of services) {
      const r = await s.start?.(stack);
      if (r) running.push(r);
    }
    const bar = new ProgressBar({ total: size, label: "replay" });
    let summary: ReplaySummary;
    try {
      summary = await replayCapture(source, {
        stack,
        drivers,
        speed: a.speed,
        maxGap: a.maxGap,
        tail: a.tail,
        merge: a.merge,
        signal: controller.signal,
        ...(writer !== null ? { output: writer } : {}),
        ...(filter !== undefined ? { filter: recordFilter(filter) } : {}),
        onProgress: (p) => bar.update(p.fileOffset, `${p.read} packets`),
      });
    } finally {
      bar.done();
    }
    writer?.close();
    const name = a.file === "-" ? "(stdin)" : (a.file.split("/").pop() ?? a.file);
    for (const line of formatReplaySummary(summary, name)) print(line);
    if (a.out !== undefined) {
      const frames = summary.sent + (a.merge ? summary.replayed : 0);
      print(`output    ${a.out} (${plural(frames, "frame")})`);
    }
    if (drivers[0]!.linkType === LINKTYPE_ETHERNET) {
      const from = a.mac === undefined && info.mac !== null ? " (from the capture)" : "";
      if (staticNdp) learned += Math.min(info.neighbors6.size, MAX_STATIC_NEIGHBORS);
      const neigh = learned > 0 ? `, ${plural(learned, "neighbour")} from the capture` : "";
      print(`host      eth0 ${formatMac(mac)}${from}${neigh}`);
    }
    options.onSummary?.(summary, stack);
    if (summary.error !== null) {
      // The summary's note says it too; standard error gets the one line decode prints.
      printError(errorLine("replay", summary.error));
      return EXIT_FAILURE;
    }
    // Stopped by a signal (the caller turns it into 130/143), not by `options.signal`.
    return summary.aborted && !options.signal?.aborted ? undefined : 0;
  } catch (err) {
    printError(errorLine("replay", err));
    return EXIT_FAILURE;
  } finally {
    options.signal?.removeEventListener("abort", abortOuter);
    for (const r of running) {
      try {
        await r.close();
      } catch (err) {
        printError(errorLine("replay", `a service did not stop cleanly: ${String(err)}`));
      }
    }
    try {
      writer?.close();
    } catch {
      // already reported, or closed above
    }
    stack?.close();
  }
}

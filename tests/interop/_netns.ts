/**
 * Harness for the interop tests: a stack on a real TUN or TAP device inside a
 * private network namespace, with Linux on the other end.
 *
 * Each {@linkcode withDevice} call creates `ip netns add ns<pid>-<N>-<random>`,
 * creates the device directly inside it (the driver `setns()`s in to open
 * it; with `offload`, as `up --driver tun` does by default), gives the Linux
 * end 10.0.0.1/24 and the stack 10.0.0.2/24, captures the device for the
 * whole test (Linux's tcpdump, or the stack's own capture tap), and
 * afterwards closes everything, deletes the namespace and checks the capture
 * with tshark (no malformed packets, no bad checksums). Nothing leaves the
 * namespace.
 *
 * Tests declare what they need with {@linkcode INTEROP_NEEDS} and `gated`
 * (`../_require.ts`): under CI a missing requirement fails the test, elsewhere
 * the test is ignored with the reason printed once.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Clock,
  createStack,
  type PluginEntry,
  type ProtocolPlugin,
  type Stack,
  SystemClock,
} from "../../mod.ts";
import { openTun, RealTimeRunner, type TunDevice, type TunMode } from "../../drivers/tun/mod.ts";
import { CaptureTap, PcapWriter } from "../../drivers/pcapfile/mod.ts";
import {
  addNetns,
  type CommandResult,
  configurePeer,
  deleteNetns,
  ip,
  netnsExec,
  randomNetnsName,
  withNetns as withNamedNetns,
} from "../../cli/_netns.ts";
import { runTshark, tsharkProblems } from "../_tshark.ts";
import { missing, type Requirement } from "../_require.ts";

export { configurePeer, ip, netnsExec, randomNetnsName, runCommand } from "../../cli/_netns.ts";

/** The Linux end's address. */
export const LINUX_ADDRESS = "10.0.0.1";
/** The stack's address. */
export const STACK_ADDRESS = "10.0.0.2";

/**
 * What every interop test needs: Linux, root with `--allow-all`, the FFI
 * (the TUN driver), `/dev/net/tun`, `ip netns`, and tcpdump (each test
 * captures its device). Declare it with `gated(INTEROP_NEEDS, {...})` from
 * `../_require.ts` (plus the tools the test runs): under CI a missing one
 * fails the test, elsewhere it is ignored with the reason printed once.
 */
export const INTEROP_NEEDS: readonly Requirement[] = [
  "linux",
  "root",
  "ffi",
  "tun",
  "netns",
  "tcpdump",
];

/**
 * Why the interop tests cannot run here, or undefined when they can (for
 * tests still using `ignore:`; prefer {@linkcode INTEROP_NEEDS} with `gated`).
 */
export const SKIP_REASON: string | undefined = missing(INTEROP_NEEDS);

let told = false;
/** Prints the skip reason once per process (so `deno test` output says why). */
export function explainSkip(file: string): void {
  if (SKIP_REASON === undefined || told) return;
  told = true;
  // deno-lint-ignore no-console
  console.log(`${file}: skipping interop tests: ${SKIP_REASON}`);
}

/**
 * A namespace name unique to this process and call: `<prefix><pid>-<n>-<random>`,
 * so that two runs of the suite can share a machine.
 */
export function uniqueNetnsName(prefix = "ns"): string {
  return randomNetnsName(`${prefix}${Deno.pid}-`);
}

/** Whether `cmd` runs (`cmd --version` or `-V` exits). */
export function hasCommand(cmd: string, flag = "--version"): boolean {
  try {
    new Deno.Command(cmd, { args: [flag], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}

/** Wireshark's warnings about segments missing from the file: allowed when tcpdump says it dropped some. */
export const CAPTURE_LOSS_WARNINGS: readonly RegExp[] = [
  /^Previous segment\(s\) not captured/,
  /^ACKed segment that wasn't captured/,
  // A retransmission whose original the capture lost looks out of order to tshark.
  /^This frame is a \(suspected\) out-of-order segment/,
  // HTTP reassembly across the hole: tshark loses a chunked body's framing and
  // reads the data after the gap as a message head (session 16's CI: 5 frames
  // dropped in a 3 MiB chunked upload, 4 such warnings on curl's segments).
  // The tests compare the bodies' hashes at both ends.
  /^Illegal characters found in header name/,
  /^Trailing stray characters/,
];

/**
 * Frames Linux dropped on `ifname`'s transmit queue (`tx_dropped`): for a
 * TUN/TAP device, frames Linux sent towards the stack while the device's
 * queue was full because the stack had not read it yet. Such a frame is in the
 * Linux-side capture (tcpdump sees it before the queue), so its retransmission
 * later looks out of order to tshark: loss a busy machine causes, not a bad
 * packet. Read while the device still exists.
 */
export async function queueDrops(netns: string, ifname: string): Promise<number> {
  const r = await netnsExec(netns, ["cat", `/sys/class/net/${ifname}/statistics/tx_dropped`], 5);
  const n = Number(r.stdout.trim());
  return r.code === 0 && Number.isInteger(n) ? n : 0;
}

/**
 * tshark's warnings about TCP retransmissions of frames Linux dropped on the
 * device's queue ({@linkcode queueDrops}): allowed only when that counter moved.
 */
export const QUEUE_LOSS_WARNINGS: readonly RegExp[] = [
  /^This frame is a \(suspected\) out-of-order segment/,
  // HTTP reassembly across the hole: tshark loses a chunked body's framing and
  // reads the data after the gap as a message head (session 16's CI: 5 frames
  // dropped in a 3 MiB chunked upload, 4 such warnings on curl's segments).
  // The tests compare the bodies' hashes at both ends.
  /^Illegal characters found in header name/,
  /^Trailing stray characters/,
];

/** A running tcpdump. */
export interface Tcpdump {
  /**
   * Stops it (SIGTERM) and waits until the file is complete; resolves with
   * the packets tcpdump says it dropped (kernel and interface).
   */
  stop(): Promise<number>;
}

/** Options of {@linkcode startTcpdump}. */
export interface TcpdumpOptions {
  /** Snap length, `-s` (default: tcpdump's, whole packets). */
  readonly snaplen?: number;
  /** Capture buffer in KiB, `-B` (default: tcpdump's). */
  readonly bufferKib?: number;
}

/**
 * Starts `tcpdump -i dev -w file` inside `netns` and waits until it listens
 * (at most 5 s).
 */
export async function startTcpdump(
  netns: string,
  dev: string,
  file: string,
  options: TcpdumpOptions = {},
): Promise<Tcpdump> {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      netns,
      "tcpdump",
      "-i",
      dev,
      "--immediate-mode",
      "-U",
      "-n",
      ...(options.bufferKib !== undefined ? ["-B", String(options.bufferKib)] : []),
      ...(options.snaplen !== undefined ? ["-s", String(options.snaplen)] : []),
      "-Z",
      "root",
      "-w",
      file,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  // 20 s: under CI with --parallel and a loaded host tcpdump took over 5 s to print "listening on".
  const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 20_000));
  try {
    while (!text.includes("listening on")) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === "timeout" || chunk.done) {
        child.kill("SIGKILL");
        await reader.cancel();
        await child.status;
        throw new Error(`tcpdump did not start: ${text.trim()}`);
      }
      text += decoder.decode(chunk.value);
    }
  } finally {
    clearTimeout(timer);
  }
  // Keep reading stderr (so tcpdump never blocks on a full pipe) for its
  // statistics at exit.
  const drained = (async () => {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      text += decoder.decode(chunk.value);
    }
  })();
  return {
    async stop() {
      // tcpdump leaves packets still in its socket buffer unwritten when it
      // gets SIGTERM: under load a packet that already reached the peer can be
      // missing. Wait (at most 2 s) until the file (written per packet, -U)
      // has stopped growing for 150 ms before stopping it.
      let last = -1;
      for (let quiet = 0, i = 0; quiet < 3 && i < 40; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const size = await Deno.stat(file).then((st) => st.size, () => -1);
        quiet = size === last ? quiet + 1 : 0;
        last = size;
      }
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await drained;
      let dropped = 0;
      for (const m of text.matchAll(/(\d+) packets? dropped by (kernel|interface)/g)) {
        dropped += Number(m[1]);
      }
      return dropped;
    },
  };
}

/**
 * Problems tshark reports in `file`, one line each: the one checker of
 * `tests/_tshark.ts` ({@linkcode tsharkProblems}: malformed packets, bad
 * checksums, expert errors and warnings), as text for `assert.deepEqual(x, [])`.
 * Undefined when tshark is not installed (outside CI only: under CI that throws).
 */
export async function captureProblems(
  file: string,
  allowWarnings: readonly RegExp[] = [],
): Promise<string[] | undefined> {
  const r = await tsharkProblems(file, { allowWarnings });
  if (r.skipped !== undefined) return undefined;
  return r.problems.map((p) => `frame ${p.frame}: ${p.kind}: ${p.message} (${p.info})`);
}

/** Number of packets in a capture, by tshark. */
export async function captureCount(file: string): Promise<number> {
  const out = await runTshark(file, ["-T", "fields", "-e", "frame.number"]);
  return out.split("\n").filter((l) => l.trim() !== "").length;
}

/**
 * Runs `fn` with a fresh namespace named by {@linkcode uniqueNetnsName},
 * deleted afterwards.
 */
export function withNetns<T>(fn: (netns: string) => Promise<T>): Promise<T> {
  return withNamedNetns(fn, `ns${Deno.pid}-`);
}

/** What a {@linkcode withDevice} body gets. */
export interface DeviceHarness {
  /** The namespace. */
  readonly netns: string;
  /** The device (its Linux name is `dev.name`). */
  readonly dev: TunDevice;
  /** The stack at 10.0.0.2/24 on it, on a SystemClock. */
  readonly stack: Stack;
  /** Drives the stack; call `kick()` after API calls that arm timers. */
  readonly runner: RealTimeRunner;
  /**
   * The capture's file, or "" without one. Linux's tcpdump writes it per
   * packet (readable at any time); the stack's capture is written to it when
   * the body returns, before `checkCapture` reads it.
   */
  readonly pcap: string;
  /** Runs a command inside the namespace, killed after `seconds`. */
  exec(command: readonly string[], seconds: number): Promise<CommandResult>;
}

/**
 * Where {@linkcode withDevice} captures:
 *
 * - `"linux"` (or `true`): tcpdump on the device inside the namespace, what
 *   Linux sees. On a device with `offload` that includes Linux's partial
 *   checksums and the stack's super-segments as they cross, which tshark
 *   calls bad: use it there only for traffic that is never offloaded.
 * - `"stack"`: a `CaptureTap` between the stack and the device, what the
 *   stack sent and received (a super-segment whole with its checksum
 *   completed, a super-datagram as the datagrams it stands for), kept in
 *   memory: not for bulk transfers.
 * - `false`: none.
 */
export type DeviceCapture = boolean | "linux" | "stack";

/** Options of {@linkcode withDevice}. */
export interface WithDeviceOptions {
  /** Device kind. */
  readonly mode: TunMode;
  /**
   * The virtio-net header and offloads (`openTun`'s `offload`): `true` asks
   * for what `up --driver tun` takes by default (checksum offload, TSO, USO;
   * the kernel may refuse some, see `dev.offload`), a number for those
   * TUN_F_* bits, `false` (the default) a plain device.
   */
  readonly offload?: boolean | number;
  /** Where to capture (default `"linux"`; see {@linkcode DeviceCapture}). */
  readonly capture?: DeviceCapture;
  /** The Linux capture's snap length (`tcpdump -s`): headers only for bulk transfers (default: whole packets). */
  readonly snaplen?: number;
  /** The stack's MAC (TAP). */
  readonly mac?: Uint8Array;
  /** The stack's plugins, made with its clock (default: the built-in list). */
  readonly plugins?: (clock: Clock) => readonly (ProtocolPlugin | PluginEntry)[];
  /**
   * Checks the capture afterwards instead of the default (no malformed packet
   * or tshark warning, at least one packet): for tests whose packets carry
   * warnings on purpose, or that read the capture.
   */
  readonly checkCapture?: (pcap: string) => Promise<unknown>;
}

/**
 * Runs `fn` with a stack on a fresh TUN/TAP device inside a fresh namespace,
 * Linux at 10.0.0.1/24 and the stack at 10.0.0.2/24; tears everything down
 * and checks the capture afterwards.
 */
export async function withDevice(
  options: WithDeviceOptions,
  fn: (h: DeviceHarness) => Promise<void>,
): Promise<void> {
  const netns = uniqueNetnsName();
  const where = options.capture === true ? "linux" : (options.capture ?? "linux");
  const pcap = where !== false
    ? await Deno.makeTempFile({ prefix: `${netns}-`, suffix: ".pcap" })
    : "";
  await addNetns(netns);
  let dev: TunDevice | null = null;
  let stack: Stack | null = null;
  let runner: RealTimeRunner | null = null;
  let dump: Tcpdump | null = null;
  let tap: PcapWriter | null = null;
  let dropped = 0;
  let passed = false;
  try {
    const clock = new SystemClock();
    stack = createStack({
      clock,
      seed: 42,
      ...(options.plugins !== undefined ? { plugins: options.plugins(clock) } : {}),
    });
    dev = openTun({
      mode: options.mode,
      name: options.mode === "tun" ? "tun0" : "tap0",
      netns,
      ...(options.mac ? { mac: options.mac } : {}),
      ...(options.offload !== undefined ? { offload: options.offload } : {}),
    });
    let driver: TunDevice | CaptureTap = dev;
    if (where === "stack") {
      tap = new PcapWriter({ linkType: dev.linkType });
      driver = new CaptureTap(dev, { writer: tap, epochOffset: "wall" });
    }
    stack.addInterface({ driver, addresses: [`${STACK_ADDRESS}/24`] });
    runner = new RealTimeRunner(stack, { clock });
    dev.onBatch = runner.kick;
    runner.start();
    await configurePeer(dev.name, { addresses: [`${LINUX_ADDRESS}/24`], netns });
    if (where === "linux") {
      const snaplen = options.snaplen !== undefined ? { snaplen: options.snaplen } : {};
      dump = await startTcpdump(netns, dev.name, pcap, snaplen);
    }
    await fn({
      netns,
      dev,
      stack,
      runner,
      pcap,
      exec: (command, seconds) => netnsExec(netns, command, seconds),
    });
    passed = true;
  } finally {
    dropped = (await dump?.stop()) ?? 0;
    runner?.stop();
    stack?.close();
    dev?.close();
    await dev?.closed;
    await deleteNetns(netns);
    if (tap !== null && passed) await Deno.writeFile(pcap, tap.bytes());
    // A failed body leaves no capture file behind (nobody checks it).
    if (!passed && pcap !== "") await Deno.remove(pcap).catch(() => {});
  }
  if (where !== false) {
    try {
      if (options.checkCapture !== undefined) {
        await options.checkCapture(pcap);
      } else {
        // Segments tcpdump itself dropped (it says how many) are holes in the file only.
        const problems = await captureProblems(pcap, dropped > 0 ? CAPTURE_LOSS_WARNINGS : []);
        if (problems !== undefined && problems.length > 0) {
          // The whole (small) capture goes into the message: the file is
          // removed below, and a CI log is all a later session will have.
          const frames = (await runTshark(pcap, [])).split("\n").slice(0, 80).join("\n");
          assert.deepEqual(
            problems,
            [],
            `tshark finds problems in ${pcap} (tcpdump dropped ${dropped}):\n${frames}`,
          );
        }
        if (problems !== undefined) {
          assert.ok((await captureCount(pcap)) > 0, `nothing captured in ${pcap}`);
        }
      }
    } finally {
      await Deno.remove(pcap);
    }
  }
}

/** Parses ping's summary: transmitted, received, loss %. */
export function pingSummary(out: string): { sent: number; received: number; loss: number } {
  const m = /(\d+) packets transmitted, (\d+) received.*?([\d.]+)% packet loss/.exec(out);
  if (m === null) throw new Error(`Cannot find ping's summary in:\n${out}`);
  return { sent: Number(m[1]), received: Number(m[2]), loss: Number(m[3]) };
}

/** The `icmp_seq` numbers of 1..`count` that `ping`'s output shows no reply for. */
export function pingUnanswered(ping: string, count: number): number[] {
  const seen = new Set([...ping.matchAll(/ icmp_seq=(\d+) /g)].map((m) => Number(m[1])));
  return Array.from({ length: count }, (_, i) => i + 1).filter((seq) => !seen.has(seq));
}

/** How {@linkcode pingCommand} pings. */
export interface PingCommandOptions {
  /** Echo requests to send (`-c`). */
  readonly count: number;
  /** Seconds between them (`-i`; default ping's own, 1 s). */
  readonly interval?: number;
  /** Ping over IPv6 (`-6`). */
  readonly ipv6?: boolean;
  /** TTL or hop limit of the requests (`-t`; default the system's). */
  readonly ttl?: number;
  /**
   * Seconds ping may wait for `count` replies (`-w`): it stops at `count`
   * replies, sending one every interval until then (so it may send more
   * than `count`). Without it, once some reply came, ping waits for the last
   * reply only twice the slowest round trip so far or one interval, whichever
   * is longer (not `-W`): with pings 2 ms apart answered within 1 ms, a last
   * reply held up 3 ms by the scheduler counts as lost.
   */
  readonly deadline?: number;
  /** Bytes of ICMP data per request (`-s`; default ping's own, 56). */
  readonly size?: number;
  /** Forbid fragmentation (`-M do`): the request must fit the path MTU. */
  readonly dontFragment?: boolean;
}

/**
 * Linux's `ping` numeric (`-n`) as the interop tests run it, with `-W 1`
 * (1 s for a reply while none has come; see
 * {@linkcode PingCommandOptions.deadline} for the last one); read it with
 * {@linkcode pingSummary}.
 */
export function pingCommand(target: string, options: PingCommandOptions): string[] {
  const family = options.ipv6 === true ? ["-6"] : [];
  const count = String(options.count);
  const interval = options.interval !== undefined ? ["-i", String(options.interval)] : [];
  const ttl = options.ttl !== undefined ? ["-t", String(options.ttl)] : [];
  const deadline = options.deadline !== undefined ? ["-w", String(options.deadline)] : [];
  const size = options.size !== undefined ? ["-s", String(options.size)] : [];
  const dontFragment = options.dontFragment === true ? ["-M", "do"] : [];
  return [
    "ping",
    ...family,
    "-n",
    "-c",
    count,
    ...interval,
    "-W",
    "1",
    ...deadline,
    ...size,
    ...dontFragment,
    ...ttl,
    target,
  ];
}

/** Waits (at most 5 s) until something listens on `port` (`proto` t for TCP, u for UDP) in `ns`. */
export async function waitListening(
  ns: string,
  port: number,
  proto: "t" | "u" = "t",
): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await netnsExec(ns, ["ss", `-Hln${proto}`, `sport = :${port}`], 5);
    if (r.stdout.trim() !== "") return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`Nothing listens on port ${port} in ${ns}`);
}

/**
 * Starts shell `command` in `ns` (killed after `seconds` anyway), its
 * standard output and error to `log`; waits until it listens on `port`.
 * Resolves with a function that stops it and waits for it.
 */
export async function startListener(
  ns: string,
  command: string,
  log: string,
  port: number,
  proto: "t" | "u" = "t",
  seconds = 60,
): Promise<() => Promise<void>> {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, "sh", "-c", `exec timeout ${seconds} ${command} >${log} 2>&1`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  };
  try {
    await waitListening(ns, port, proto);
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}

/**
 * Starts `command` inside `netns` (a Linux server for the virtual host to
 * reach), killed after `seconds` anyway; standard input and output go
 * nowhere, standard error as `stderr` says.
 */
export function spawnInNetns(
  netns: string,
  command: readonly string[],
  seconds: number,
  stderr: "null" | "piped" = "null",
): Deno.ChildProcess {
  return new Deno.Command("ip", {
    args: ["netns", "exec", netns, "timeout", String(seconds), ...command],
    stdin: "null",
    stdout: "null",
    stderr,
  }).spawn();
}

/**
 * Runs `attempt` again (every 50 ms, 100 times at most) while it fails
 * because the connection was refused: a server just started in the
 * namespace may not listen yet. Any other error, or the last, is thrown.
 */
export async function whileRefused<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0;; i++) {
    try {
      return await attempt();
    } catch (e) {
      // connect() throws ConnectionRefused; fetch() wraps it in a TypeError.
      const refused = e instanceof Deno.errors.ConnectionRefused ||
        (e instanceof TypeError && e.cause instanceof Deno.errors.ConnectionRefused);
      if (!refused || i >= 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Linux's TCP `InCsumErrors` in `netns` (segments it dropped for a bad checksum, /proc/net/snmp). */
export async function tcpChecksumErrors(netns: string): Promise<number> {
  const r = await netnsExec(netns, ["cat", "/proc/net/snmp"], 5);
  const tcp = r.stdout.split("\n").filter((l) => l.startsWith("Tcp:"));
  const names = tcp[0]!.split(/\s+/), values = tcp[1]!.split(/\s+/);
  return Number(values[names.indexOf("InCsumErrors")]);
}

/** Where {@linkcode withNetnsBehind} put the second namespace. */
export interface NetnsBehind {
  /** The second namespace. */
  readonly netns: string;
  /** Its veth end, `vB`. */
  readonly dev: string;
  /** Its address, 10.9.0.2 (Linux's end in the first namespace, `vA`, is 10.9.0.1). */
  readonly address: string;
}

/**
 * Runs `fn` with a second namespace behind Linux in `netns`: a veth pair
 * (`vA` 10.9.0.1/24 in `netns`, `vB` 10.9.0.2/24 in the new one, its route to
 * 10.0.0.0/24 through 10.9.0.1), forwarding on in `netns`, and checksum and
 * segmentation offloads off on both ends (`ethtool -K … tx off tso off gso
 * off`): Linux cuts and checksums in software whatever super-segment or
 * super-datagram it forwards from the stack's device, and the second
 * namespace verifies every checksum. Deletes the namespace afterwards.
 * Needs `ethtool`. The stack reaches it with
 * `stack.addRoute("10.9.0.0/24", { gateway: LINUX_ADDRESS })`.
 */
export async function withNetnsBehind<T>(
  netns: string,
  fn: (behind: NetnsBehind) => Promise<T>,
): Promise<T> {
  const b = uniqueNetnsName("behind");
  await addNetns(b);
  try {
    const a = { netns };
    await ip(["link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", b], a);
    await ip(["addr", "add", "10.9.0.1/24", "dev", "vA"], a);
    await ip(["link", "set", "vA", "up"], a);
    await ip(["addr", "add", "10.9.0.2/24", "dev", "vB"], { netns: b });
    await ip(["link", "set", "vB", "up"], { netns: b });
    await ip(["route", "add", "10.0.0.0/24", "via", "10.9.0.1"], { netns: b });
    for (
      const cmd of [
        { ns: netns, args: ["sysctl", "-qw", "net.ipv4.ip_forward=1"] },
        { ns: netns, args: ["ethtool", "-K", "vA", "tx", "off", "tso", "off", "gso", "off"] },
        { ns: b, args: ["ethtool", "-K", "vB", "tx", "off", "tso", "off", "gso", "off"] },
      ]
    ) {
      const r = await netnsExec(cmd.ns, cmd.args, 10);
      assert.equal(r.code, 0, `${cmd.args.join(" ")}: ${r.stderr}`);
    }
    return await fn({ netns: b, dev: "vB", address: "10.9.0.2" });
  } finally {
    await deleteNetns(b);
  }
}

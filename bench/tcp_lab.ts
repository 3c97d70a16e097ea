/**
 * The bottleneck lab against Linux (issue #14): the stack on a TUN device
 * behind a shallow-queue token-bucket bottleneck, against the same
 * bottleneck between two Linux namespaces over a veth pair, in the same run.
 *
 * `deno run -A bench/tcp_lab.ts [--runs N] [--mib M] [--rate MBIT]
 * [--burst BYTES] [--limit BYTES] [--cc NAME] [--linux-cc NAME]
 * [--linux-offloads on]` (root, `/dev/net/tun`, iproute2 with `tc`, the
 * `ifb` module, `ethtool`, `/usr/bin/python3`) prints, for each
 * of the four transfers, the median goodput and its range over N runs, the
 * median retransmitted segments and the bottleneck's drops:
 *
 * - **stack → Linux** / **Linux → stack**: the stack in this process on
 *   `tun0` (no offloads: MTU-sized frames, as the bottleneck sees them) in a
 *   private namespace; the Linux end a Python kernel socket at 10.0.0.1.
 * - **Linux B → A** / **Linux A → B**: the reference, Python on kernel
 *   sockets in two namespaces joined by a veth pair; B plays the stack's
 *   part. Linux runs CUBIC (`--linux-cc`, set per socket) with TSO, GSO and
 *   GRO off on `tun0` and both veth ends (`--linux-offloads on` keeps them),
 *   so every bottleneck sees MTU-sized packets and one drop is one segment.
 *
 * The bottleneck is on the Linux side device (`tun0`, or A's veth end), both
 * ways: egress `tbf` toward the stack (or B), and ingress redirected
 * (`u32` match-all, `mirred`) to an `ifb` device with the same `tbf` for
 * traffic toward Linux (or A). Defaults: 200 Mbit/s, burst 32 KiB, limit
 * 50 000 bytes (one BDP at 2 ms). **No fixed delay**: this kernel has no
 * `netem` (nor a `bpf` classifier for EDT), and `tbf` adds queueing delay
 * only, so the round trip is the path's own plus the queue. Delay and random
 * loss are exercised on the virtual network instead (`bench/tcp_soak.ts`).
 *
 * Every transfer is checked: the receiver's byte count and SHA-256 must equal
 * the sender's. Goodput is timed at the receiver, from accept to end of
 * stream. Retransmissions: the stack's `tcp.retrans_segs` counter when it
 * sends, Linux's `RetransSegs` (`/proc/net/snmp` of the sender's namespace)
 * otherwise. The stack uses the congestion controller of `--cc` (default:
 * the TCP plugin's default), so the lab measures whatever TCP is in the tree.
 *
 * Reading the drops: toward Linux the bottleneck is on the receiver's side
 * (ingress), so every drop is a loss the sender must repair. Toward the stack
 * (or B) the `tbf` is on the Linux sender's own device: a drop there is
 * reported to Linux's TCP as local congestion and the segment is sent again
 * as if new, without counting a retransmission. The two pairs compared
 * (stack→linux with refB→A, linux→stack with refA→B) have the same shape.
 * (With `--linux-offloads on`, one dropped Linux super-segment counts once.)
 *
 * `tests/interop/tcp_lab_test.ts` runs {@linkcode runLab} at a small size.
 *
 * @module
 */
import { median } from "./_stats.ts";
import { createHash } from "node:crypto";
import process from "node:process";
import { addNetns, deleteNetns, netnsExec, randomNetnsName } from "../cli/_netns.ts";
import {
  type DeviceHarness,
  LINUX_ADDRESS,
  STACK_ADDRESS,
  withDevice,
} from "../tests/interop/_netns.ts";
import { pluginsWith } from "../tests/_test_plugins.ts";
import { receiveAll, source } from "../tests/tcp/_transfer.ts";
import { TCP_OPTIONS } from "../stack/protocols/tcp/config.ts";
import { BenchFlags } from "./_flags.ts";

const MIB = 1024 * 1024;

/** The bottleneck: a token bucket (`tc tbf`) each way. */
export interface Bottleneck {
  /** Rate, Mbit/s. */
  readonly rateMbit: number;
  /** Bucket size, bytes (`burst`). */
  readonly burstBytes: number;
  /** Queue, bytes (`limit`). */
  readonly limitBytes: number;
}

/** The lab's defaults: 200 Mbit/s, 32 KiB burst, 50 000-byte queue (1 BDP at 2 ms). */
export const DEFAULT_BOTTLENECK: Bottleneck = {
  rateMbit: 200,
  burstBytes: 32 * 1024,
  limitBytes: 50_000,
};

/** One checked transfer. */
export interface LabTransfer {
  /** `stack→linux`, `linux→stack`, `refB→A` (Linux in the stack's place), `refA→B`. */
  readonly name: string;
  /** Bytes received (equal to those sent, with the same SHA-256). */
  readonly bytes: number;
  /** Seconds at the receiver, accept to end of stream. */
  readonly seconds: number;
  /** Goodput, Mbit/s. */
  readonly mbps: number;
  /** Segments the sender retransmitted. */
  readonly retrans: number;
  /** Packets the bottleneck on this direction dropped. */
  readonly drops: number;
  /**
   * The stack's transfers: CPU seconds of this process per wall second
   * (near 1 or above: the stack, not TCP, was the limit).
   */
  readonly cpu?: number;
}

/** Options of {@linkcode runLab}. */
export interface LabOptions {
  /** Bytes per transfer. */
  readonly bytes: number;
  /** The bottleneck (default {@linkcode DEFAULT_BOTTLENECK}). */
  readonly bottleneck?: Bottleneck;
  /** The stack's congestion controller (default: the TCP plugin's). */
  readonly congestionControl?: string;
  /**
   * Capture `tun0` (whole packets) and check the file afterwards: with
   * tshark's default check (`withDevice`'s), or this function.
   */
  readonly capture?: boolean | ((pcap: string) => Promise<unknown>);
  /** Run the Linux reference too (default true). */
  readonly reference?: boolean;
  /**
   * Leave Linux's segmentation offloads (TSO, GSO, GRO) on its lab devices
   * as they come (default false: off, so the bottleneck queues and drops
   * MTU-sized packets on every path, as the stack sends them on a TUN
   * device without offloads, and a drop is one segment).
   */
  readonly linuxOffloads?: boolean;
  /** Linux's congestion controller in every lab namespace (default `cubic`; this host's is `bbr`). */
  readonly linuxCongestionControl?: string;
}

/**
 * The Linux end: `send HOST PORT BYTES SEED` connects and sends seeded bytes,
 * `recv BIND PORT` listens (printing "listening"), reads to the end; both
 * set their congestion controller with `TCP_CONGESTION` (a namespace's
 * default cannot be set to one the host does not allow, and this host's
 * default is `bbr`) and print one JSON line: bytes, sha256, the controller
 * in use, and (receiver) seconds accept → EOF.
 */
const PEER_PY = `
import socket, sys, json, hashlib, random, time
mode, host, port, cc = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
def congestion(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc)
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\\0").decode()
if mode == "send":
    n, seed = int(sys.argv[5]), int(sys.argv[6])
    data = random.Random(seed).randbytes(n)
    digest = hashlib.sha256(data).hexdigest()
    s = socket.socket()
    got_cc = congestion(s)
    s.settimeout(60)
    s.connect((host, port))
    mv = memoryview(data)
    for off in range(0, n, 262144):
        s.sendall(mv[off:off + 262144])
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
    print(json.dumps({"bytes": n, "sha256": digest, "cc": got_cc}), flush=True)
else:
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    got_cc = congestion(l)
    l.bind((host, port))
    l.listen(1)
    l.settimeout(60)
    print("listening", flush=True)
    s, _ = l.accept()
    s.settimeout(60)
    t0 = time.monotonic()
    h = hashlib.sha256()
    buf = bytearray(262144)
    mv = memoryview(buf)
    got = 0
    while True:
        k = s.recv_into(buf)
        if k == 0:
            break
        h.update(mv[:k])
        got += k
    t1 = time.monotonic()
    s.close()
    print(json.dumps({"bytes": got, "sha256": h.hexdigest(), "seconds": t1 - t0, "cc": got_cc}), flush=True)
`;

interface PeerReport {
  readonly bytes: number;
  readonly sha256: string;
  readonly seconds?: number;
  readonly cc: string;
}

/** A Python peer in `netns` (killed by `timeout` after 120 s anyway). */
class Peer {
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  #out = "";

  constructor(netns: string, args: readonly string[]) {
    this.#child = new Deno.Command("ip", {
      args: ["netns", "exec", netns, "timeout", "120", "/usr/bin/python3", "-c", PEER_PY, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Waits for the receiver's "listening". */
  async listening(): Promise<void> {
    while (!this.#out.includes("listening\n")) {
      const { value, done } = await this.#lines.read();
      if (done) throw new Error(`python receiver ended early: ${await this.#stderr()}`);
      this.#out += value;
    }
    this.#out = this.#out.slice(this.#out.indexOf("listening\n") + "listening\n".length);
  }

  /** Waits for the exit and the JSON report. */
  async report(): Promise<PeerReport> {
    for (;;) {
      const { value, done } = await this.#lines.read();
      if (done) break;
      this.#out += value;
    }
    const status = await this.#child.status;
    const err = await this.#stderr();
    if (!status.success) throw new Error(`python peer exited with ${status.code}: ${err}`);
    return JSON.parse(this.#out.trim().split("\n").pop() ?? "");
  }

  /** Kills it if still running (after a failure elsewhere). */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.#child.status;
  }

  async #stderr(): Promise<string> {
    return new TextDecoder().decode(await new Response(this.#child.stderr).arrayBuffer()).trim();
  }
}

async function must(netns: string, command: readonly string[]): Promise<string> {
  const r = await netnsExec(netns, command, 10);
  if (r.code !== 0) {
    throw new Error(`${command.join(" ")} failed in ${netns} (${r.code}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/**
 * Shapes `dev` in `netns` both ways: egress `tbf`; ingress redirected to a
 * new `ifb` device `ifb` with the same `tbf`.
 */
async function shape(netns: string, dev: string, ifb: string, b: Bottleneck): Promise<void> {
  await must(netns, ["ip", "link", "set", "lo", "up"]);
  const tbf = [
    "tbf",
    "rate",
    `${b.rateMbit}mbit`,
    "burst",
    String(b.burstBytes),
    "limit",
    String(b.limitBytes),
  ];
  await must(netns, ["tc", "qdisc", "add", "dev", dev, "root", ...tbf]);
  await must(netns, ["ip", "link", "add", ifb, "type", "ifb"]);
  await must(netns, ["ip", "link", "set", ifb, "up"]);
  await must(netns, ["tc", "qdisc", "add", "dev", ifb, "root", ...tbf]);
  await must(netns, ["tc", "qdisc", "add", "dev", dev, "handle", "ffff:", "ingress"]);
  // This kernel has no matchall classifier: u32 matching every packet.
  await must(netns, [
    "tc",
    "filter",
    "add",
    "dev",
    dev,
    "parent",
    "ffff:",
    "protocol",
    "all",
    "u32",
    "match",
    "u32",
    "0",
    "0",
    "action",
    "mirred",
    "egress",
    "redirect",
    "dev",
    ifb,
  ]);
}

/** Switches TCP segmentation and receive offloads off on `dev` (`ethtool -K`). */
async function noOffloads(netns: string, dev: string): Promise<void> {
  await must(netns, ["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"]);
}

/** Packets the root `tbf` of `dev` has dropped. */
async function tbfDrops(netns: string, dev: string): Promise<number> {
  const out = await must(netns, ["tc", "-s", "qdisc", "show", "dev", dev, "root"]);
  const m = /dropped (\d+)/.exec(out);
  if (m === null) throw new Error(`no drop count in tc's output for ${dev}: ${out}`);
  return Number(m[1]);
}

/** `Tcp: RetransSegs` of `netns` (`/proc/net/snmp` is per namespace). */
async function linuxRetrans(netns: string): Promise<number> {
  const lines = (await must(netns, ["cat", "/proc/net/snmp"])).split("\n")
    .filter((l) => l.startsWith("Tcp:"));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const i = names.indexOf("RetransSegs");
  if (i < 0 || values[i] === undefined) throw new Error(`no RetransSegs in ${netns}'s snmp`);
  return Number(values[i]);
}

function transfer(
  name: string,
  bytes: number,
  seconds: number,
  retrans: number,
  drops: number,
  cpu?: number,
): LabTransfer {
  const t = { name, bytes, seconds, mbps: bytes * 8 / seconds / 1e6, retrans, drops };
  return cpu === undefined ? t : { ...t, cpu };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** `bytes` of seeded data made and hashed before the clock starts, as the Python sender does. */
function prepared(seed: number, bytes: number): { chunks: Uint8Array[]; sha256: string } {
  const chunks = [...source(seed, bytes, 256 * 1024)];
  const h = createHash("sha256");
  for (const c of chunks) h.update(c);
  return { chunks, sha256: h.digest("hex") };
}

function checkSame(
  name: string,
  sent: PeerReport | string,
  got: PeerReport,
  bytes: number,
  wantCc: string,
): void {
  const sha = typeof sent === "string" ? sent : sent.sha256;
  if (got.bytes !== bytes) throw new Error(`${name}: received ${got.bytes} of ${bytes} bytes`);
  if (got.sha256 !== sha) throw new Error(`${name}: SHA-256 differs (${got.sha256} vs ${sha})`);
  for (const r of [sent, got]) {
    if (typeof r !== "string" && r.cc !== wantCc) {
      throw new Error(`${name}: Linux used ${r.cc}, not ${wantCc}`);
    }
  }
}

/** The stack sends `bytes` to a Python receiver at Linux's address. */
async function stackSends(
  h: DeviceHarness,
  bytes: number,
  linuxCc: string,
  seed: number,
): Promise<LabTransfer> {
  const rx = new Peer(h.netns, ["recv", LINUX_ADDRESS, "5001", linuxCc]);
  try {
    await rx.listening();
    const retrans0 = h.stack.counters.value("tcp.retrans_segs");
    const drops0 = await tbfDrops(h.netns, "ifb0");
    const data = prepared(seed, bytes);
    const cpu0 = cpuSeconds(), t0 = performance.now();
    const conn = await h.stack.connect({ hostname: LINUX_ADDRESS, port: 5001 });
    h.runner.kick();
    for (const chunk of data.chunks) {
      for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
    }
    await conn.closeWrite();
    h.runner.kick();
    // The receiver closes after reading everything: our end of stream.
    await receiveAll(conn);
    conn.close();
    h.runner.kick();
    const cpu = (cpuSeconds() - cpu0) / ((performance.now() - t0) / 1000);
    const got = await rx.report();
    checkSame("stack→linux", data.sha256, got, bytes, linuxCc);
    const retrans = h.stack.counters.value("tcp.retrans_segs") - retrans0;
    const drops = await tbfDrops(h.netns, "ifb0") - drops0;
    return transfer("stack→linux", bytes, got.seconds ?? NaN, retrans, drops, cpu);
  } finally {
    await rx.kill();
  }
}

/** A Python sender at Linux's address sends `bytes` to the stack. */
async function stackReceives(
  h: DeviceHarness,
  bytes: number,
  linuxCc: string,
  seed: number,
): Promise<LabTransfer> {
  const listener = h.stack.listen({ hostname: STACK_ADDRESS, port: 5002 });
  const retrans0 = await linuxRetrans(h.netns);
  const drops0 = await tbfDrops(h.netns, "tun0");
  const tx = new Peer(h.netns, [
    "send",
    STACK_ADDRESS,
    "5002",
    linuxCc,
    String(bytes),
    String(seed),
  ]);
  try {
    const conn = await listener.accept();
    const cpu0 = cpuSeconds(), t0 = performance.now();
    const got = await receiveAll(conn);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = (cpuSeconds() - cpu0) / seconds;
    await conn.closeWrite();
    h.runner.kick();
    const sent = await tx.report();
    conn.close();
    checkSame(
      "linux→stack",
      sent,
      { bytes: got.bytes, sha256: got.hash, cc: linuxCc },
      bytes,
      linuxCc,
    );
    const retrans = await linuxRetrans(h.netns) - retrans0;
    const drops = await tbfDrops(h.netns, "tun0") - drops0;
    return transfer("linux→stack", bytes, seconds, retrans, drops, cpu);
  } finally {
    listener.close();
    await tx.kill();
  }
}

/** Python in `from` sends to Python in `to` (at `toAddress`); retransmissions from `from`. */
async function linuxToLinux(
  name: string,
  from: string,
  to: string,
  toAddress: string,
  dropsAt: readonly [string, string],
  bytes: number,
  linuxCc: string,
  seed: number,
): Promise<LabTransfer> {
  const rx = new Peer(to, ["recv", toAddress, "5003", linuxCc]);
  let tx: Peer | undefined;
  try {
    await rx.listening();
    const retrans0 = await linuxRetrans(from);
    const drops0 = await tbfDrops(...dropsAt);
    tx = new Peer(from, ["send", toAddress, "5003", linuxCc, String(bytes), String(seed)]);
    const sent = await tx.report();
    const got = await rx.report();
    checkSame(name, sent, got, bytes, linuxCc);
    const retrans = await linuxRetrans(from) - retrans0;
    const drops = await tbfDrops(...dropsAt) - drops0;
    return transfer(name, bytes, got.seconds ?? NaN, retrans, drops);
  } finally {
    await rx.kill();
    await tx?.kill();
  }
}

/** The reference: namespaces A (10.9.0.1, shaped) and B (10.9.0.2) over a veth pair. */
async function reference(
  bytes: number,
  b: Bottleneck,
  linuxCc: string,
  offloads: boolean,
  seed: number,
): Promise<LabTransfer[]> {
  const a = randomNetnsName(`laba${Deno.pid}-`);
  const bNs = randomNetnsName(`labb${Deno.pid}-`);
  await addNetns(a);
  try {
    await addNetns(bNs);
    try {
      await must(a, [
        "ip",
        "link",
        "add",
        "va",
        "type",
        "veth",
        "peer",
        "name",
        "vb",
        "netns",
        bNs,
      ]);
      await must(a, ["ip", "addr", "add", "10.9.0.1/24", "dev", "va"]);
      await must(bNs, ["ip", "addr", "add", "10.9.0.2/24", "dev", "vb"]);
      await must(bNs, ["ip", "link", "set", "vb", "up"]);
      await must(bNs, ["ip", "link", "set", "lo", "up"]);
      await must(a, ["ip", "link", "set", "va", "up"]);
      if (!offloads) {
        await noOffloads(a, "va");
        await noOffloads(bNs, "vb");
      }
      await shape(a, "va", "ifb0", b);
      const bToA = await linuxToLinux(
        "refB→A",
        bNs,
        a,
        "10.9.0.1",
        [a, "ifb0"],
        bytes,
        linuxCc,
        seed,
      );
      const aToB = await linuxToLinux(
        "refA→B",
        a,
        bNs,
        "10.9.0.2",
        [a, "va"],
        bytes,
        linuxCc,
        seed + 1,
      );
      return [bToA, aToB];
    } finally {
      await deleteNetns(bNs);
    }
  } finally {
    await deleteNetns(a);
  }
}

/**
 * One run of the lab: the stack sends, then receives, `options.bytes` over
 * the shaped TUN device; then (unless `reference: false`) the same two
 * transfers between two Linux namespaces. Every transfer is checked (count
 * and SHA-256); throws on a mismatch.
 */
export async function runLab(options: LabOptions, seed = 1): Promise<LabTransfer[]> {
  const b = options.bottleneck ?? DEFAULT_BOTTLENECK;
  const tcp = options.congestionControl !== undefined
    ? { tcp: { congestionControl: options.congestionControl } }
    : {};
  const linuxCc = options.linuxCongestionControl ?? "cubic";
  const out: LabTransfer[] = [];
  await withDevice({
    mode: "tun",
    capture: options.capture !== undefined && options.capture !== false,
    ...(typeof options.capture === "function" ? { checkCapture: options.capture } : {}),
    plugins: () => pluginsWith(tcp),
  }, async (h) => {
    if (!(options.linuxOffloads ?? false)) await noOffloads(h.netns, h.dev.name);
    await shape(h.netns, h.dev.name, "ifb0", b);
    out.push(await stackSends(h, options.bytes, linuxCc, seed));
    out.push(await stackReceives(h, options.bytes, linuxCc, seed + 1));
  });
  if (options.reference ?? true) {
    out.push(
      ...await reference(options.bytes, b, linuxCc, options.linuxOffloads ?? false, seed + 2),
    );
  }
  return out;
}

/** The table: per transfer, median and range of goodput, median retransmissions and drops. */
export function labTable(runs: readonly (readonly LabTransfer[])[]): string {
  const names = runs[0]?.map((t) => t.name) ?? [];
  const rows = [[
    "transfer",
    "goodput Mbit/s median",
    "range",
    "retrans median",
    "range",
    "drops median",
  ]];
  for (const name of names) {
    const ts = runs.map((r) => r.find((t) => t.name === name)!);
    const mbps = ts.map((t) => t.mbps), re = ts.map((t) => t.retrans);
    rows.push([
      name,
      median(mbps).toFixed(1),
      `${Math.min(...mbps).toFixed(1)}–${Math.max(...mbps).toFixed(1)}`,
      String(median(re)),
      `${Math.min(...re)}–${Math.max(...re)}`,
      String(median(ts.map((t) => t.drops))),
    ]);
  }
  // The target: the stack within 10% of Linux in the same direction.
  const ratio = (s: string, l: string) => {
    const x = runs.map((r) => r.find((t) => t.name === s)?.mbps ?? NaN);
    const y = runs.map((r) => r.find((t) => t.name === l)?.mbps ?? NaN);
    return (median(x) / median(y) * 100).toFixed(0);
  };
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  "));
  if (names.includes("refB→A")) {
    lines.push(
      `stack as sender: ${ratio("stack→linux", "refB→A")}% of Linux's goodput; ` +
        `as receiver: ${ratio("linux→stack", "refA→B")}% (target ≥ 90%)`,
    );
  }
  return lines.join("\n");
}

function parseArgs(args: readonly string[]): { runs: number; options: LabOptions } {
  const flags = new BenchFlags(args);
  const runs = flags.num("runs", 3, 1);
  const mib = flags.num("mib", 64, 1);
  const bottleneck = {
    rateMbit: flags.num("rate", DEFAULT_BOTTLENECK.rateMbit, 1),
    burstBytes: flags.num("burst", DEFAULT_BOTTLENECK.burstBytes, 1514),
    limitBytes: flags.num("limit", DEFAULT_BOTTLENECK.limitBytes, 1514),
  };
  const cc = flags.str("cc"), linuxCc = flags.str("linux-cc");
  const offloads = flags.str("linux-offloads");
  if (offloads !== undefined && offloads !== "on" && offloads !== "off") {
    throw new TypeError(`--linux-offloads: expected on or off, not "${offloads}"`);
  }
  flags.done();
  return {
    runs,
    options: {
      bytes: mib * MIB,
      bottleneck,
      ...(cc !== undefined ? { congestionControl: cc } : {}),
      ...(linuxCc !== undefined ? { linuxCongestionControl: linuxCc } : {}),
      linuxOffloads: offloads === "on",
    },
  };
}

if (import.meta.main) {
  // deno-lint-ignore no-console
  const log = console.log;
  const { runs, options } = parseArgs(Deno.args);
  const b = options.bottleneck ?? DEFAULT_BOTTLENECK;
  const cc = options.congestionControl ?? String(TCP_OPTIONS.congestionControl?.default);
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  log(
    `TCP bottleneck lab: ${
      options.bytes / MIB
    } MiB each way, ${runs} runs, tbf ${b.rateMbit} Mbit/s ` +
      `burst ${b.burstBytes} B limit ${b.limitBytes} B each way, no added delay (no netem); ` +
      `stack ${cc} on TUN without offloads, Linux ${options.linuxCongestionControl ?? "cubic"} ` +
      `with offloads ${options.linuxOffloads === true ? "on" : "off"}; ` +
      `${navigator.hardwareConcurrency} CPUs, load ${load}`,
  );
  const all: LabTransfer[][] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runLab(options, 1 + 4 * i);
    log(
      `run ${i + 1}: ` +
        r.map((t) =>
          `${t.name} ${t.mbps.toFixed(1)} Mbit/s retrans ${t.retrans} drops ${t.drops}` +
          (t.cpu !== undefined ? ` cpu ${t.cpu.toFixed(2)}` : "")
        )
          .join("; "),
    );
    all.push(r);
  }
  log(labTable(all));
}

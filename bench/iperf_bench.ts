/**
 * Throughput and latency over TUN measured with clients that are not the
 * bottleneck: the real `iperf3 -c` (large writes, its own CPU reported)
 * against this stack's iperf3 service, and a 64-byte TCP request/response
 * loop against the echo service. `cli.ts up --driver tun --serve
 * iperf3,echo` runs in this process inside a private network namespace
 * (Linux 10.0.0.1, the virtual host 10.0.0.2); needs root, `/dev/net/tun`,
 * iproute2 and iperf3.
 *
 * `deno run -A bench/iperf_bench.ts` prints, for MTU 1500 and 65535:
 *
 * - Linux → host (`iperf3 -c`) and host → Linux (`iperf3 -c -R`), each
 *   `IPERF_BENCH_RUNS` runs (default 3) of `IPERF_BENCH_SECONDS` (default 3):
 *   median and range of the receiver's Gbit/s, the iperf3 client's CPU and
 *   this process's CPU (user + system; then the system part, Linux's
 *   side of our reads and writes, and the user part) per GiB. Byte counts are checked at both
 *   ends: the stack's `iperf3.bytes` must equal what iperf3 reports
 *   for the stack's side, and the receiver can have no more than the sender.
 *   No best-of figures. A second line splits the machine's cores over each
 *   run (`/proc/stat`): the stack, the client, interrupts and softirqs
 *   (Linux's sender runs there too), everything else, and idle: whether the
 *   two ends had the machine, or shared it. For Linux → host, a third says
 *   what Linux's sender saw (`ss -ti` half a second before the end): the
 *   share of its busy time the stack's window (`rwnd_limited`) or its own
 *   send buffer (`sndbuf_limited`) held it back, and segments per ACK.
 * - 64-byte request/response over TCP (`IPERF_BENCH_RR` transactions per
 *   run, default 20,000 after 1,000 of warm-up): a Deno client in the
 *   namespace (this file with `--rr-client`), one transaction in flight,
 *   TCP_NODELAY; transactions/s, p50 and p99 per run, median and range.
 *
 * `IPERF_BENCH_WAIT=poll|block` passes `--wait` to `up` (default: `up`'s own).
 *
 * `IPERF_BENCH_COPY=1` sets the iperf3 service's `copyReceived`: forward
 * streams are read into a 128 KiB buffer, as iperf3's own server does,
 * instead of consumed uncopied with `TcpConn.discard` (the default): the
 * receive figure of an application that copies every byte once.
 *
 * `IPERF_BENCH_CLIENTS=K` (default 1) runs K `iperf3 -c` processes at once,
 * each to its own iperf3 service (`up --serve iperf3,iperf3:5202,…`: ports
 * 5201 to 5200 + K; iperf3's server runs one test at a time), started
 * together, forward and `-R`: the Gbit/s is the sum of the clients'
 * receiver figures, the stack's CPU-s/GiB is over the sum of the bytes,
 * and each client's bytes are checked against its own service's counter.
 * A line per run gives each client's Gbit/s and cores. One iperf3 3.12
 * process is single-threaded (even with `-P`) and near one core at ~19
 * Gbit/s here: with one client the client is the bottleneck.
 * `IPERF_BENCH_CLIENTS=1,2` takes turns (1 client, then 2, each round) on
 * one stack, so the two figures share the machine's load.
 * `IPERF_BENCH_CLIENT_CPUS=0,1` pins client i to the i-th `taskset -c`
 * CPU (default: nothing pinned).
 *
 * `IPERF_BENCH_UP_CPU=none,1` runs `up` as child processes instead, one for
 * each word (`none`: no `--cpu`; N: `up --cpu N`, every thread of the stack
 * on CPU N), each in its own namespace, taking turns within each round so
 * that the load hits all alike; the lines name each (`[up --cpu 1]`). In
 * this process, `--cpu` (or `taskset`) would pin the iperf3 clients too:
 * children inherit the mask. The stack's CPU is then its process's
 * (`/proc/PID/stat`, 10 ms steps), its byte counts come from its `http`
 * service (`/counters.json`, curl in the namespace, outside the timed
 * part), and `IPERF_BENCH_COPY` cannot be used (the service's options are
 * this process's registry).
 *
 * `IPERF_BENCH_CONFIGS` picks the links (default `1500,65535,65535-no-offload`:
 * MTU 1500 and 65535 with offloads, the default of `up --driver tun`, and
 * 65535 without them); `IPERF_BENCH_RR=0` leaves out request/response.
 * `IPERF_BENCH_NETNS=PREFIX` starts the namespaces' names (default
 * `iperfb`; a random suffix follows), e.g. to tell whose they are.
 *
 * The figures are for the machine it runs on, under its load at the time:
 * the header line says which (CPUs, model, load average, kernel).
 *
 * @module
 */
import process from "node:process";
import { netnsExec } from "../cli/_netns.ts";
import type { Stack } from "../mod.ts";
import { canRunTunHost, type CpuTime, HOST, withTunHost, withUpProcess } from "./_tun_host.ts";
import { percentile } from "./_stats.ts";
import { iperf3Plugin, SERVICES } from "../plugins/services/mod.ts";
import type { ServiceRegistry } from "../cli/up.ts";

const GIB = 1024 ** 3;

function envNumber(name: string, dflt: number, min = 1): number {
  const v = Number(Deno.env.get(name) ?? dflt);
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`${name} must be a whole number ≥ ${min}`);
  }
  return v;
}

/** One link to measure: its MTU and whether `up` keeps its default offloads. */
interface LinkConfig {
  readonly mtu: number;
  readonly offload: boolean;
}

/** `IPERF_BENCH_CONFIGS`: `MTU` or `MTU-no-offload`, comma separated. */
function linkConfigs(): LinkConfig[] {
  const text = Deno.env.get("IPERF_BENCH_CONFIGS") ?? "1500,65535,65535-no-offload";
  return text.split(",").map((word) => {
    const m = /^(\d+)(-no-offload)?$/.exec(word.trim());
    const mtu = Number(m?.[1]);
    if (m === null || mtu < 576 || mtu > 65535) {
      throw new RangeError(
        `IPERF_BENCH_CONFIGS: "${word}" is not MTU or MTU-no-offload (576..65535)`,
      );
    }
    return { mtu, offload: m[2] === undefined };
  });
}

/** Median and range of `xs`, formatted with `digits`. */
function spread(xs: readonly number[], digits: number): string {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 === 1
    ? s[(s.length - 1) / 2]!
    : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return `${mid.toFixed(digits)} (${s[0]!.toFixed(digits)}–${s[s.length - 1]!.toFixed(digits)})`;
}

/** `IPERF_BENCH_WAIT`: `up`'s `--wait` arguments (none: `up`'s default). */
function waitArgs(): string[] {
  const wait = Deno.env.get("IPERF_BENCH_WAIT");
  if (wait === undefined || wait === "") return [];
  if (wait !== "poll" && wait !== "block") {
    throw new RangeError(`IPERF_BENCH_WAIT must be poll or block, not "${wait}"`);
  }
  return ["--wait", wait];
}

/** `IPERF_BENCH_COPY=1`: whether the iperf3 service copies what it receives. */
function copyReceived(): boolean {
  const v = Deno.env.get("IPERF_BENCH_COPY") ?? "0";
  if (v !== "0" && v !== "1") throw new RangeError(`IPERF_BENCH_COPY must be 0 or 1, not "${v}"`);
  return v === "1";
}

/** The service registry, with the iperf3 service's `copyReceived` as asked. */
function services(): ServiceRegistry {
  if (!copyReceived()) return SERVICES;
  const plugins = [{ plugin: iperf3Plugin, options: { copyReceived: true } }];
  return { ...SERVICES, iperf3: { ...SERVICES.iperf3!, plugins } };
}

/**
 * `IPERF_BENCH_CLIENTS`: how many iperf3 clients run at once, each to its
 * own port; several counts (`1,2`) take turns within each round.
 */
function clientCounts(): number[] {
  const text = Deno.env.get("IPERF_BENCH_CLIENTS") ?? "1";
  const ks = text.split(",").map((t) => Number(t.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1 || k > 16)) {
    throw new RangeError(
      `IPERF_BENCH_CLIENTS must be counts in 1..16, comma separated, not "${text}"`,
    );
  }
  return ks;
}

/**
 * `IPERF_BENCH_LINUX_CC`: the congestion control of the iperf3 clients'
 * sockets (`iperf3 -C`), the sender in forward tests: `cubic` by default,
 * Linux's own default, as tcp_lab.ts sets it (this host's default is BBR,
 * whose pacing held one client near 19 Gbit/s with a third of the machine
 * idle: 38.97 Gbit/s with CUBIC in the same minutes); `host` leaves the
 * namespace's default.
 */
function linuxCc(): string | undefined {
  const cc = Deno.env.get("IPERF_BENCH_LINUX_CC") ?? "cubic";
  if (cc === "host") return undefined;
  if (!/^[a-z0-9_]+$/.test(cc)) {
    throw new RangeError(
      `IPERF_BENCH_LINUX_CC must be a congestion control name or "host", not "${cc}"`,
    );
  }
  return cc;
}

/**
 * `IPERF_BENCH_CLIENT_CPUS`: a `taskset -c` CPU (N or N-M) per client, the
 * i-th for client i, or none (nothing pinned).
 */
function clientCpus(clients: number): (string | undefined)[] {
  const text = Deno.env.get("IPERF_BENCH_CLIENT_CPUS") ?? "";
  if (text === "") return new Array(clients).fill(undefined);
  const lists = text.split(",").map((t) => t.trim());
  if (lists.length < clients || lists.some((l) => !/^\d+(-\d+)?$/.test(l))) {
    throw new RangeError(
      `IPERF_BENCH_CLIENT_CPUS must give a CPU (N or N-M) for each of ${clients} clients, not "${text}"`,
    );
  }
  return lists.slice(0, clients);
}

/** The iperf3 service client `i` tests against: its port and counter prefix. */
function iperfService(i: number): { port: number; counter: string } {
  return i === 0 ? { port: 5201, counter: "iperf3" } : {
    port: 5201 + i,
    counter: `iperf3-${5201 + i}`,
  };
}

/**
 * `IPERF_BENCH_UP_CPU`: the `up` child processes to measure, each's
 * `--cpu` (undefined: none); undefined when `up` runs in this process.
 */
function upCpus(): (number | undefined)[] | undefined {
  const text = Deno.env.get("IPERF_BENCH_UP_CPU");
  if (text === undefined || text === "") return undefined;
  const words = text.split(",").map((w) => w.trim());
  if (words.some((w) => w !== "none" && !/^\d{1,4}$/.test(w))) {
    throw new RangeError(
      `IPERF_BENCH_UP_CPU must be words none or N (a CPU), comma separated, not "${text}"`,
    );
  }
  if (copyReceived()) {
    throw new RangeError("IPERF_BENCH_COPY=1 needs up in this process: unset IPERF_BENCH_UP_CPU");
  }
  return words.map((w) => w === "none" ? undefined : Number(w));
}

/** `IPERF_BENCH_NETNS`: how the namespaces' names start. */
function netnsPrefix(): string {
  const prefix = Deno.env.get("IPERF_BENCH_NETNS") ?? "iperfb";
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(prefix)) {
    throw new RangeError(`IPERF_BENCH_NETNS must be 1..32 letters, digits, _ . -, not "${prefix}"`);
  }
  return prefix;
}

/** The stack measured, as a run sees it: where its clients run, its counters, its CPU time. */
interface StackUnderTest {
  /** What the lines call it: `""` in this process, else `up` or `up --cpu N`. */
  readonly label: string;
  /** Its namespace, where the clients run. */
  readonly netns: string;
  /** The values of its counters `names`. */
  counters(names: readonly string[]): Promise<number[]>;
  /** Its process's CPU time so far. */
  cpu(): CpuTime;
}

/**
 * Runs `fn` with `up --driver tun --serve iperf3,echo` on `link`, each in
 * a fresh namespace: one in this process, or one child process for each
 * `IPERF_BENCH_UP_CPU` word (with `http` for its counters).
 */
function withStacks<T>(
  link: LinkConfig,
  clients: number,
  fn: (stacks: StackUnderTest[]) => Promise<T>,
): Promise<T> {
  const extra = Array.from(
    { length: clients - 1 },
    (_, i) => `,iperf3:${iperfService(i + 1).port}`,
  );
  const args = (more: string) => [
    "--serve",
    `iperf3,echo${more}${extra.join("")}`,
    ...(link.offload ? [] : ["--no-offload"]),
    ...waitArgs(),
  ];
  const cpus = upCpus();
  if (cpus === undefined) {
    const inThisProcess = (stack: Stack, netns: string) =>
      fn([{
        label: "",
        netns,
        counters: (names) => Promise.resolve(names.map((n) => stack.counters.value(n))),
        cpu: () => {
          const u = process.cpuUsage();
          return { user: u.user, system: u.system };
        },
      }]);
    return withTunHost(netnsPrefix(), link.mtu, args(""), inThisProcess, services());
  }
  // One child after another, each started inside the last one's lifetime.
  const open = (i: number, stacks: StackUnderTest[]): Promise<T> => {
    if (i === cpus.length) return fn(stacks);
    const cpu = cpus[i];
    const pin = cpu === undefined ? [] : ["--cpu", String(cpu)];
    return withUpProcess(
      netnsPrefix(),
      link.mtu,
      [...args(",http"), ...pin],
      (up) =>
        open(i + 1, [...stacks, {
          label: ["up", ...pin].join(" "),
          netns: up.netns,
          counters: async (names) => {
            const all = await up.counters();
            return names.map((n) => all[n] ?? 0);
          },
          cpu: up.cpu,
        }]),
    );
  };
  return open(0, []);
}

/** One iperf3 client's part of a run. */
interface ClientRun {
  readonly gbps: number;
  /** Its CPU over the run's wall time, in cores. */
  readonly cores: number;
}

/** One iperf3 run's figures (all its clients together). */
interface IperfRun {
  /** Each client's figures (one unless IPERF_BENCH_CLIENTS). */
  readonly clients: readonly ClientRun[];
  readonly gbps: number;
  readonly sent: number;
  readonly received: number;
  /** The iperf3 clients' CPU-s per GiB received. */
  readonly clientCpuPerGiB: number;
  /** This process's (the stack's) CPU-s per GiB received. */
  readonly stackCpuPerGiB: number;
  /** Of that, system time (Linux's side of our reads and writes runs in our system calls). */
  readonly stackSysPerGiB: number;
  /** Where the machine's cores went meanwhile (`/proc/stat`), in cores. */
  readonly machine: MachineSplit;
  /** Linux's sender near the end of a forward run (`ss -ti`), null for -R or when ss saw none. */
  readonly sender: SenderInfo | null;
}

/** What Linux's TCP sender says of the data connection (`ss -tin`), cumulative. */
interface SenderInfo {
  /** Share of its busy time the stack's receive window held it back. */
  readonly rwndLimited: number;
  /** Share of its busy time its own send buffer held it back. */
  readonly sndbufLimited: number;
  /** Segments (MSS-sized, counted by Linux) sent per segment received: ~ per ACK. */
  readonly segmentsPerAck: number;
}

/**
 * Linux's sender's view of the connection to the stack that has sent the
 * most: its `rwnd_limited` and `sndbuf_limited` time (the window or its
 * own buffer, not the network, held it back) and segments per ACK.
 */
async function senderInfo(netns: string): Promise<SenderInfo | null> {
  const r = await netnsExec(netns, ["ss", "-tinH", "dst", HOST], 5);
  let best: SenderInfo | null = null;
  let most = -1;
  for (const line of r.stdout.split("\n")) {
    const num = (name: string) => Number(new RegExp(`\\b${name}:(\\d+)`).exec(line)?.[1] ?? 0);
    const acked = num("bytes_acked");
    const busy = num("busy");
    if (acked <= most || busy === 0) continue;
    most = acked;
    best = {
      rwndLimited: num("rwnd_limited") / busy,
      sndbufLimited: num("sndbuf_limited") / busy,
      segmentsPerAck: num("segs_out") / Math.max(1, num("segs_in")),
    };
  }
  return best;
}

/** The machine's CPU time over one run, in cores (1 = one core all the time). */
interface MachineSplit {
  /** This process (the stack, `up`). */
  readonly stack: number;
  /** The iperf3 clients (their own figures, summed). */
  readonly client: number;
  /** Interrupts and softirqs (Linux charges them to no process). */
  readonly irq: number;
  /** Everything else that ran: other processes, kernel threads. */
  readonly other: number;
  /** Idle, I/O wait and time the hypervisor took (steal). */
  readonly idle: number;
}

/** The `cpu` line of /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal (ticks). */
async function procStat(): Promise<number[]> {
  const line = (await Deno.readTextFile("/proc/stat")).split("\n")[0]!;
  return line.trim().split(/\s+/).slice(1, 9).map(Number);
}

/**
 * The machine's CPUs (`/proc/stat`'s `cpuN` lines): the cores the split
 * below is of, whatever this process's affinity (`taskset`) lets it see.
 */
async function machineCpus(): Promise<number> {
  return (await Deno.readTextFile("/proc/stat")).split("\n").filter((l) => /^cpu\d+ /.test(l))
    .length;
}

/** `/proc/stat`'s USER_HZ: ticks per second (100 on Linux's ABI). */
const TICKS = 100;

interface Sum {
  readonly bytes: number;
  readonly seconds: number;
}

/** What we read from one client's `iperf3 --json`. */
interface ClientJson {
  error?: string;
  end: {
    "sum_sent": Sum;
    "sum_received": Sum;
    "cpu_utilization_percent": { "host_total": number };
  };
}

/**
 * One client's `iperf3 --json` output, with its bytes checked against the
 * stack's count for its service (`ours`, bytes counted during the run).
 */
function checkClient(
  r: { code: number; stdout: string; stderr: string },
  reverse: boolean,
  ours: number,
  what: string,
): ClientJson {
  let j: ClientJson;
  try {
    j = JSON.parse(r.stdout) as ClientJson;
  } catch {
    throw new Error(`iperf3 ${what}: exit ${r.code}, not JSON: ${r.stderr}`);
  }
  if (j.error !== undefined || r.code !== 0) {
    throw new Error(`iperf3 ${what}: ${j.error ?? r.stderr}`);
  }
  const sent = j.end.sum_sent.bytes;
  const received = j.end.sum_received.bytes;
  // The stack's side is the receiver (forward) or the sender (-R).
  const stackSide = reverse ? sent : received;
  // Sending (-R), a write the service had waiting on a full send buffer when
  // the test ended completes after it reported its count: at most one burst
  // (1 MiB of whole -l blocks) more. Receiving, the counts are equal.
  const late = reverse ? ours - stackSide : 0;
  if (ours !== stackSide && !(late > 0 && late <= 1024 * 1024)) {
    throw new Error(`${what}: the stack counted ${ours}, iperf3 says ${stackSide}`);
  }
  if (received > sent || received <= 0) throw new Error(`${what}: received ${received} of ${sent}`);
  return j;
}

/**
 * `iperf3 -c HOST -p PORT -t seconds --json [-R]` from `cpus.length`
 * clients at once, each to its own service, checked at both ends.
 */
async function iperfRun(
  stack: StackUnderTest,
  reverse: boolean,
  seconds: number,
  cpus: readonly (string | undefined)[],
): Promise<IperfRun> {
  const netns = stack.netns;
  const services = cpus.map((_, i) => iperfService(i));
  const names = services.map((sv) => `${sv.counter}.bytes`);
  const before = await stack.counters(names);
  const stat0 = await procStat();
  const wall0 = performance.now();
  const cpu0 = stack.cpu();
  // The sender's counters half a second before the end (the connection is gone after it).
  let sender: Promise<SenderInfo | null> = Promise.resolve(null);
  const look = reverse ? undefined : setTimeout(() => {
    sender = senderInfo(netns).catch(() => null);
  }, (seconds - 0.5) * 1000);
  const cc = linuxCc();
  const outputs = await Promise.all(services.map((sv, i) =>
    netnsExec(netns, [
      ...(cpus[i] === undefined ? [] : ["taskset", "-c", cpus[i]!]),
      "iperf3",
      "-c",
      HOST,
      "-p",
      String(sv.port),
      "-t",
      String(seconds),
      "--json",
      ...(reverse ? ["-R"] : []),
      ...(cc === undefined ? [] : ["-C", cc]),
    ], seconds + 30)
  ));
  const cpu1 = stack.cpu();
  const used = { user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system };
  clearTimeout(look);
  const wall = (performance.now() - wall0) / 1000;
  const stat = (await procStat()).map((v, i) => (v - stat0[i]!) / TICKS / wall);
  const stackCpu = (used.user + used.system) / 1e6;
  const after = await stack.counters(names);
  const js = outputs.map((r, i) => {
    const ours = after[i]! - before[i]!;
    return checkClient(r, reverse, ours, `client ${i + 1} (port ${services[i]!.port})`);
  });
  let sent = 0;
  let received = 0;
  let clientCpu = 0;
  let gbps = 0;
  const clients = js.map((j) => {
    // The client's seconds: its own measurement of the test's length.
    const clientSeconds = reverse ? j.end.sum_received.seconds : j.end.sum_sent.seconds;
    const cpu = j.end.cpu_utilization_percent.host_total / 100 * clientSeconds;
    const rate = j.end.sum_received.bytes * 8 / j.end.sum_received.seconds / 1e9;
    sent += j.end.sum_sent.bytes;
    received += j.end.sum_received.bytes;
    clientCpu += cpu;
    gbps += rate;
    return { gbps: rate, cores: cpu / wall };
  });
  const [user, nice, system, idle, iowait, irq, softirq, steal] = stat as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const machine: MachineSplit = {
    stack: stackCpu / wall,
    client: clientCpu / wall,
    irq: irq + softirq,
    other: user + nice + system - stackCpu / wall - clientCpu / wall,
    idle: idle + iowait + steal,
  };
  return {
    clients,
    machine,
    sender: await sender,
    gbps,
    sent,
    received,
    clientCpuPerGiB: clientCpu / (received / GIB),
    stackCpuPerGiB: stackCpu / (received / GIB),
    stackSysPerGiB: used.system / 1e6 / (received / GIB),
  };
}

/** One request/response run's figures. */
interface RrRun {
  readonly tps: number;
  readonly p50: number;
  readonly p99: number;
}

/** Runs this file as the request/response client inside the namespace. */
async function rrRun(netns: string, transactions: number): Promise<RrRun> {
  const r = await netnsExec(netns, [
    Deno.execPath(),
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    "--rr-client",
    HOST,
    "7",
    String(transactions),
  ], 120);
  if (r.code !== 0) throw new Error(`rr client failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as RrRun;
}

/** The client side of the request/response loop (in the namespace): prints JSON. */
async function rrClient(host: string, port: number, n: number): Promise<void> {
  const conn = await Deno.connect({ hostname: host, port });
  conn.setNoDelay(true);
  const req = new Uint8Array(64).fill(0x61);
  const buf = new Uint8Array(64);
  const times = new Float64Array(n);
  async function once(): Promise<void> {
    await conn.write(req);
    for (let got = 0; got < 64;) {
      const k = await conn.read(buf.subarray(got));
      if (k === null) throw new Error("the echo service closed");
      got += k;
    }
  }
  for (let i = 0; i < 1000; i++) await once(); // warm-up (JIT, both ends)
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    await once();
    times[i] = performance.now() - a;
  }
  const total = (performance.now() - t0) / 1000;
  conn.close();
  times.sort();
  const us = (q: number) => percentile(times, q) * 1000;
  // deno-lint-ignore no-console
  console.log(JSON.stringify({ tps: n / total, p50: us(0.5), p99: us(0.99) }));
}

async function report(): Promise<void> {
  const runs = envNumber("IPERF_BENCH_RUNS", 3);
  const seconds = envNumber("IPERF_BENCH_SECONDS", 3);
  const transactions = envNumber("IPERF_BENCH_RR", 20_000, 0);
  // deno-lint-ignore no-console
  const log = console.log;
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/^model name\s*:\s*(.*)$/m)?.[1];
  const version = (await netnsExecless(["iperf3", "--version"])).split("\n")[0];
  const cpus = await machineCpus();
  log(
    `over TUN, Deno ${Deno.version.deno}, ${cpus} CPUs (${cpu}${
      navigator.hardwareConcurrency < cpus
        ? `; this process on ${navigator.hardwareConcurrency}`
        : ""
    }), ` +
      `kernel ${Deno.osRelease()}, ${version}, load ${
        Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
      } at ${new Date().toISOString()}`,
  );
  log(
    `${runs} runs of ${seconds} s each way per MTU; median (range); CPU-s per GiB received; ` +
      `up ${waitArgs().join(" ") || "(default wait)"}; Linux's congestion control ${
        linuxCc() ?? "the host's default"
      }; the iperf3 service ${
        copyReceived() ? "copies what it receives (IPERF_BENCH_COPY=1)" : "discards uncopied"
      }`,
  );
  const counts = clientCounts();
  const pins = Deno.env.get("IPERF_BENCH_CLIENT_CPUS");
  if (counts.length > 1 || counts[0] !== 1 || pins !== undefined) {
    log(
      `iperf3 clients at once: ${counts.join(", then ")} (each to its own port, from 5201)` +
        `${counts.length > 1 ? ", taking turns each round" : ""}; clients pinned: ${
          pins === undefined || pins === "" ? "no" : `taskset -c ${pins}`
        }`,
    );
  }
  const upped = upCpus();
  log(
    upped === undefined
      ? "up runs in this process"
      : `up runs as child processes, in turn each round: ${
        upped.map((c) => c === undefined ? "up" : `up --cpu ${c}`).join(", ")
      }`,
  );
  for (const link of linkConfigs()) {
    const mtu = `${link.mtu}${link.offload ? "" : " no offload"}`;
    await withStacks(link, Math.max(...counts), async (stacks) => {
      const each = <X>(make: () => X) => stacks.map(() => counts.map(make));
      const fwd = each((): IperfRun[] => []);
      const rev = each((): IperfRun[] => []);
      const loads = each((): string[] => []);
      // Round by round, every stack and client count in turn, so that the
      // load hits all alike; the stacks' order reversed every other round.
      const turns = (i: number) => i % 2 === 0 ? [...stacks.keys()] : [...stacks.keys()].reverse();
      for (let i = 0; i < runs; i++) {
        for (const s of turns(i)) {
          const stack = stacks[s]!;
          for (const [c, k] of counts.entries()) {
            loads[s]![c]!.push(Deno.loadavg()[0]!.toFixed(1));
            fwd[s]![c]!.push(await iperfRun(stack, false, seconds, clientCpus(k)));
            rev[s]![c]!.push(await iperfRun(stack, true, seconds, clientCpus(k)));
          }
        }
      }
      for (const [s, stack] of stacks.entries()) {
        const name = stack.label === "" ? mtu : `${mtu} [${stack.label}]`;
        for (const [c, k] of counts.entries()) {
          printLink(log, name, cpus, k, fwd[s]![c]!, rev[s]![c]!, loads[s]![c]!, stacks.length > 1);
        }
      }
      if (link.mtu === 1500 && transactions > 0) {
        const rr = stacks.map((): RrRun[] => []);
        for (let i = 0; i < runs; i++) {
          for (const s of turns(i)) rr[s]!.push(await rrRun(stacks[s]!.netns, transactions));
        }
        for (const [s, stack] of stacks.entries()) {
          const r = rr[s]!;
          log(
            `  MTU ${mtu}${stack.label === "" ? "" : ` [${stack.label}]`} 64-byte TCP ` +
              `request/response (echo, ${transactions} per run): ` +
              `${spread(r.map((x) => x.tps / 1000), 1)} k/s, p50 ${
                spread(r.map((x) => x.p50), 0)
              } µs, p99 ${spread(r.map((x) => x.p99), 0)} µs`,
          );
        }
      }
    });
  }
  log(`load after: ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
}

/**
 * The lines of one link and client count: forward and reverse, median
 * (range) of the runs; `perRun` (always with several clients): a line
 * with each run's figures and load.
 */
function printLink(
  log: (line: string) => void,
  mtu: string,
  cpus: number,
  k: number,
  fwd: readonly IperfRun[],
  rev: readonly IperfRun[],
  loads: readonly string[],
  perRun: boolean,
): void {
  const who = k === 1 ? "iperf3" : `${k}× iperf3`;
  for (const [name, rs] of [["Linux → host", fwd], ["host → Linux", rev]] as const) {
    log(
      `  MTU ${mtu} ${name} (${who}${name.startsWith("host") ? " -R" : ""}): ` +
        `${spread(rs.map((r) => r.gbps), 2)} Gbit/s; iperf3 client ${
          spread(rs.map((r) => r.clientCpuPerGiB), 2)
        }, stack ${spread(rs.map((r) => r.stackCpuPerGiB), 2)}, of it system ${
          spread(rs.map((r) => r.stackSysPerGiB), 2)
        } and user ${spread(rs.map((r) => r.stackCpuPerGiB - r.stackSysPerGiB), 2)} CPU-s/GiB; ` +
        `received/sent ${spread(rs.map((r) => r.received / r.sent), 4)}`,
    );
    const m = (f: (x: MachineSplit) => number) => spread(rs.map((r) => f(r.machine)), 2);
    log(
      `    cores (of ${cpus}): stack ${m((x) => x.stack)}, ` +
        `client${k > 1 ? "s" : ""} ${m((x) => x.client)}, irq+softirq ${m((x) => x.irq)}, ` +
        `other ${m((x) => x.other)}, idle+steal ${m((x) => x.idle)}`,
    );
    const ss = rs.flatMap((r) => r.sender === null ? [] : [r.sender]);
    if (ss.length > 0) {
      log(
        `    Linux's sender (ss -ti, ${ss.length} runs): rwnd_limited ${
          spread(ss.map((x) => 100 * x.rwndLimited), 1)
        }%, sndbuf_limited ${spread(ss.map((x) => 100 * x.sndbufLimited), 1)}% ` +
          `of its busy time, ${spread(ss.map((x) => x.segmentsPerAck), 0)} segments per ACK`,
      );
    }
    if (k > 1 || perRun) {
      log(
        `    per run (load 1-min): ${
          rs.map((r, n) =>
            `${
              r.clients.map((x) => `${x.gbps.toFixed(2)} Gbit/s at ${x.cores.toFixed(2)} cores`)
                .join(" + ")
            }, stack ${r.stackCpuPerGiB.toFixed(2)} CPU-s/GiB (${loads[n]})`
          ).join("; ")
        }`,
      );
    }
  }
}

/** A command's standard output (outside any namespace). */
async function netnsExecless(cmd: readonly string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout);
}

if (import.meta.main) {
  if (Deno.args[0] === "--rr-client") {
    await rrClient(Deno.args[1]!, Number(Deno.args[2]), Number(Deno.args[3]));
  } else {
    const why = canRunTunHost();
    if (why !== undefined) {
      // deno-lint-ignore no-console
      console.log(`iperf_bench: cannot run: ${why}`);
    } else await report();
  }
}

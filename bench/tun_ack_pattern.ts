/**
 * What a Linux TCP sender sees of the stack's ACKs over TUN: one `iperf3 -c`
 * with a chosen congestion control into `cli.ts up --driver tun --serve
 * iperf3` (MTU 1500, offloads on, in a private network namespace: Linux
 * 10.0.0.1, the stack 10.0.0.2). Needs root, `/dev/net/tun`, iproute2,
 * iperf3, ss; `--capture` also tcpdump and tshark.
 *
 * `deno run -A bench/tun_ack_pattern.ts [bbr|cubic|…] [seconds] [--capture]`
 * (defaults: bbr, 4 s) prints:
 *
 * - every 200 ms the sender's `ss -tin` line of the data connection: cwnd,
 *   rtt, minrtt, pacing and delivery rate, unacked, BBR's own model;
 * - the stack's side: ACKs sent per segment received (`tcp.out_segs`,
 *   `tcp.in_segs`), its CPU per GiB split into user and system (Linux's
 *   side of our reads and writes runs in our system calls, and this
 *   kernel charges softirqs to whoever they interrupt), and its context
 *   switches per GiB (involuntary: preempted);
 * - with `--capture`, 0.4 s of `tun0` from 2 s in (tcpdump, nanosecond
 *   stamps as the TUN driver saw each frame: Linux handing a super-segment
 *   to the device, our ACK written) and the ACK pattern in it: bytes per
 *   ACK, gap between ACKs, and how long before each ACK the newest and the
 *   oldest data it acknowledges reached the device (p10, median, p90).
 *
 * Session 18 used it to find what bounds a BBR sender (README, Benchmarks,
 * note 6; docs/BENCHMARK_HISTORY.md). One run is one sample: compare
 * interleaved runs, and write down the load.
 *
 * @module
 */
import process from "node:process";
import { netnsExec } from "../cli/_netns.ts";
import { canRunTunHost, HOST, LINUX, withTunHost } from "./_tun_host.ts";
import { percentile } from "./_stats.ts";

const GIB = 1024 ** 3;

/** The command line: congestion control, seconds, capture or not. */
interface Args {
  readonly cc: string;
  readonly seconds: number;
  readonly capture: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const words = argv.filter((a) => a !== "--capture");
  const unknown = words.find((a) => a.startsWith("-"));
  if (unknown !== undefined) throw new RangeError(`unknown option ${unknown}`);
  const cc = words[0] ?? "bbr";
  if (!/^[a-z0-9_]+$/.test(cc)) throw new RangeError(`"${cc}" is not a congestion control name`);
  const seconds = Number(words[1] ?? 4);
  if (!Number.isInteger(seconds) || seconds < 3 || seconds > 60) {
    throw new RangeError(`seconds ${words[1]} is not a whole number in 3..60`);
  }
  return { cc, seconds, capture: argv.includes("--capture") };
}

/** p10, median and p90 of `xs`, rounded. */
function spread(xs: readonly number[]): string {
  if (xs.length === 0) return "none";
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => Math.round(percentile(s, p));
  return `p10 ${q(0.1)}, median ${q(0.5)}, p90 ${q(0.9)}`;
}

/** One `ss -tin` line of the data connection, shortened; null for others. */
function ssLine(line: string): string | null {
  if (!/bytes_acked:\d{7,}/.test(line)) return null; // the control connection
  const pick = (re: RegExp) => re.exec(line)?.[1] ?? "-";
  return `cwnd ${pick(/cwnd:(\d+)/)} rtt ${pick(/ rtt:([\d.]+)/)} ms minrtt ${
    pick(/minrtt:([\d.]+)/)
  } ms pacing ${pick(/pacing_rate (\S+)/)} delivery ${pick(/delivery_rate (\S+)/)} unacked ${
    pick(/unacked:(\d+)/)
  } ${line.includes("bbr:(") ? `bbr(${pick(/bbr:\(([^)]*)\)/)})` : ""}`;
}

/** The ACK pattern in a capture of `tun0`: Linux's data to us, our ACKs back. */
async function ackPattern(pcap: string): Promise<string[]> {
  const r = await new Deno.Command("tshark", {
    args: [
      "-r",
      pcap,
      "-T",
      "fields",
      "-E",
      "separator=,",
      "-e",
      "frame.time_epoch",
      "-e",
      "ip.src",
      "-e",
      "tcp.seq_raw",
      "-e",
      "tcp.len",
      "-e",
      "tcp.ack_raw",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`tshark failed: ${new TextDecoder().decode(r.stderr)}`);
  // Data segments by their end (sequence space, mod 2^32), with arrival times.
  const data: { end: number; at: number }[] = [];
  const gaps: number[] = [], bytes: number[] = [], newest: number[] = [], oldest: number[] = [];
  let prev: { at: number; ack: number } | null = null;
  let dataBytes = 0;
  for (const line of new TextDecoder().decode(r.stdout).split("\n")) {
    const [t, src, seq, len, ack] = line.split(",");
    if (t === undefined || t === "") continue;
    const at = Number(t) * 1e6; // µs
    if (src === LINUX && Number(len) > 0) {
      data.push({ end: (Number(seq) + Number(len)) >>> 0, at });
      dataBytes += Number(len);
    } else if (src === HOST) {
      const a = Number(ack);
      if (prev !== null && a !== prev.ack) {
        const covered = (a - prev.ack) >>> 0;
        gaps.push(at - prev.at);
        bytes.push(covered);
        // The data this ACK newly acknowledges: ends in (prev.ack, a].
        const mine = data.filter((d) => {
          const off = (d.end - prev!.ack) >>> 0;
          return off > 0 && off <= covered && d.at <= at;
        });
        if (mine.length > 0) {
          newest.push(at - Math.max(...mine.map((d) => d.at)));
          oldest.push(at - Math.min(...mine.map((d) => d.at)));
        }
      }
      prev = { at, ack: a };
    }
  }
  return [
    `capture: ${data.length} data frames (${
      Math.round(dataBytes / Math.max(1, data.length))
    } B each on average), ${bytes.length + 1} ACKs`,
    `  bytes per ACK: ${spread(bytes)}`,
    `  gap between ACKs, µs: ${spread(gaps)}`,
    `  age of the newest data an ACK covers, µs: ${spread(newest)}`,
    `  age of the oldest data an ACK covers, µs: ${spread(oldest)}`,
  ];
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    // deno-lint-ignore no-console
    console.error(`tun_ack_pattern: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const why = canRunTunHost();
  if (why !== undefined) {
    // deno-lint-ignore no-console
    console.error(`tun_ack_pattern: cannot run: ${why}`);
    Deno.exit(1);
  }
  // deno-lint-ignore no-console
  const log = console.log;
  const load = async () => (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3);
  log(`${args.cc}, ${args.seconds} s, load ${(await load()).join(" ")}`);
  const pcap = args.capture ? await Deno.makeTempFile({ suffix: ".pcap" }) : "";
  try {
    await withTunHost("ackpat", 1500, ["--serve", "iperf3"], async (stack, netns) => {
      const c0 = stack.counters.snapshot();
      const cpu0 = process.cpuUsage();
      const ru0 = process.resourceUsage();
      const t0 = performance.now();
      const client = netnsExec(netns, [
        "iperf3",
        "-c",
        HOST,
        "-t",
        String(args.seconds),
        "-C",
        args.cc,
        "--json",
      ], args.seconds + 30);
      let capture: Promise<unknown> | null = null;
      // ss until 0.3 s before the end (the connection is gone after it).
      while (performance.now() - t0 < (args.seconds - 0.3) * 1000) {
        await new Promise((r) => setTimeout(r, 200));
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        const r = await netnsExec(netns, ["ss", "-tinH", "dst", HOST], 5);
        for (const line of r.stdout.split("\n")) {
          const short = ssLine(line);
          if (short !== null) log(`${s} s ${short}`);
        }
        if (pcap !== "" && capture === null && performance.now() - t0 > 2000) {
          capture = netnsExec(netns, [
            "timeout",
            "0.4",
            "tcpdump",
            "-i",
            "tun0",
            "-j",
            "adapter_unsynced",
            "--time-stamp-precision=nano",
            "-s",
            "96",
            "-w",
            pcap,
            "tcp port 5201",
          ], 5);
        }
      }
      const out = await client;
      if (out.code !== 0) throw new Error(`iperf3 failed (${out.code}): ${out.stderr}`);
      await capture;
      const cpu = process.cpuUsage(cpu0);
      const ru = process.resourceUsage();
      const c1 = stack.counters.snapshot();
      const delta = (k: string) => (c1[k] ?? 0) - (c0[k] ?? 0);
      const rx = JSON.parse(out.stdout).end.sum_received;
      const gib = delta("iperf3.bytes") / GIB;
      log(
        `${args.cc}: ${(rx.bytes * 8 / rx.seconds / 1e9).toFixed(2)} Gbit/s; the stack sent ${
          delta("tcp.out_segs")
        } segments for ${delta("tcp.in_segs")} received`,
      );
      log(
        `stack per GiB: user ${(cpu.user / 1e6 / gib).toFixed(3)} + system ${
          (cpu.system / 1e6 / gib).toFixed(3)
        } CPU-s; context switches ${
          Math.round((ru.voluntaryContextSwitches - ru0.voluntaryContextSwitches) / gib)
        } voluntary, ${
          Math.round((ru.involuntaryContextSwitches - ru0.involuntaryContextSwitches) / gib)
        } involuntary`,
      );
      if (pcap !== "") { for (const l of await ackPattern(pcap)) log(l); }
    });
  } finally {
    if (pcap !== "") await Deno.remove(pcap).catch(() => {});
  }
  log(`load after: ${(await load()).join(" ")}`);
}

if (import.meta.main) await main();

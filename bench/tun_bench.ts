/**
 * The TUN driver against real Linux, inside a private network namespace
 * (needs root, `/dev/net/tun`, iproute2, iputils ping, python3).
 *
 * - `deno run -A bench/tun_bench.ts` prints a report:
 *   - ping RTT Linux → stack (iputils `ping`, paced and idle), median and p99;
 *   - ping RTT stack → Linux (`stack.ping`), median and p99;
 *   - receive cost: packets queued in Linux beforehand, then drained, by the
 *     driver alone and through the stack (IPv4 → UDP, no socket → ICMP port
 *     unreachable, rate-limited), 64 B and 1472 B payloads;
 *   - live receive: a python3 UDP flood while the stack runs: packets/s, drops
 *     in Linux's queue, CPU per packet, packets per batch;
 *   - transmit: `device.transmit()` of 1500 B and 64 B IP packets, µs each.
 * - `deno run -A bench/tun_bench.ts ping [runs] [poll|block|spin=N]`: latency
 *   only (`block`: the device's `wait: "block"`; `spin=N`: block with `spin`
 *   N µs), `runs` runs
 *   (default 3) of paced (2 ms) and idle (100 ms) pings, each with its lost
 *   pings counted as slower than any reply, the stages of each ping (below),
 *   then the median and range over the runs and the load average.
 * - `deno run -A bench/tun_bench.ts idle [seconds] [poll|block|spin=N]`: CPU time of an idle
 *   stack (default 20 s), as CPU-s per idle minute, and its wake-ups.
 * - `deno bench -A bench/tun_bench.ts` runs the same transmit and ping as
 *   `Deno.bench` cases (skipped when not root).
 *
 * **Ping stages.** A wrapper between the stack and the device timestamps
 * (CLOCK_REALTIME, like ping's own) each echo request as the stack receives
 * it and each echo reply once its `write()` has returned; ping puts its send
 * time in the payload and reports the RTT from the kernel's receive stamp.
 * So `wake` = send → the stack has the frame (Linux's send path, the worker
 * thread's `poll()` return, the hop to the JS thread, the `read()`), `stack` =
 * frame → reply handed to the device (IPv4, ICMP), `write` = the reply's
 * `write()` (which runs Linux's receive path up to ping's socket), and the
 * RTT's rest is ping's side.
 *
 * Gbit/s figures need TCP (bulk transfer with windows and ACKs through the
 * stack); the packet rates here bound what any protocol can get through the
 * driver: at 1500 B, 1 M packets/s would be 12 Gbit/s.
 *
 * @module
 */
import process from "node:process";
import { createStack, type Stack, SystemClock } from "../mod.ts";
import { openTun, RealTimeRunner, type TunDevice } from "../drivers/tun/mod.ts";
import type { DriverPort, LinkDriver } from "../stack/driver.ts";
import type { PacketBuffer } from "../stack/packet.ts";
import {
  addNetns,
  configurePeer,
  deleteNetns,
  ip,
  netnsExec,
  randomNetnsName,
} from "../cli/_netns.ts";
import { finishChecksum, internetChecksum } from "../stack/wire/checksum.ts";
import { canRunTun } from "./_tun_check.ts";
import { pingFromNetns } from "./_tun_host.ts";
import { percentile } from "./_stats.ts";
import { UP_BLOCK_MAX } from "../cli/_up_wait.ts";

const LINUX = "10.0.0.1";
const STACK = "10.0.0.2";

interface Setup {
  netns: string;
  stack: Stack;
  dev: TunDevice;
  runner: RealTimeRunner;
  probe: StageProbe;
  close(): Promise<void>;
}

/** Wall-clock µs (CLOCK_REALTIME, what ping stamps its payload with), synchronous FFI. */
function realtimeClock(): { now(): number; close(): void } {
  const lib = Deno.dlopen("libc.so.6", {
    clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  });
  const ts = new BigInt64Array(2);
  const bytes = new Uint8Array(ts.buffer);
  return {
    now() {
      lib.symbols.clock_gettime(0, bytes);
      return Number(ts[0]!) * 1e6 + Number(ts[1]!) / 1e3;
    },
    close: () => lib.close(),
  };
}

/** When one echo request was sent (ping's payload), received by the stack, answered. */
interface PingStamps {
  sent: number;
  rx: number;
  /** When the stack handed the reply to the device. */
  out: number;
  /** When the reply's `write()` returned. */
  tx: number;
}

/** ICMP echo (type `type`) in an IPv4 packet: its sequence number, or -1. */
function echoSeq(b: Uint8Array, at: number, end: number, type: number): number {
  if (end - at < 28 || b[at]! >> 4 !== 4 || b[at + 9] !== 1) return -1;
  const icmp = at + (b[at]! & 15) * 4;
  if (icmp + 24 > end || b[icmp] !== type) return -1;
  return (b[icmp + 6]! << 8) | b[icmp + 7]!;
}

/**
 * A {@linkcode LinkDriver} between the stack and the device that stamps echo
 * requests on receipt and echo replies after their write (see the module's
 * "Ping stages").
 */
class StageProbe implements LinkDriver {
  readonly linkType: number;
  readonly mtu: number;
  readonly stamps = new Map<number, PingStamps>();
  readonly #dev: TunDevice;
  readonly #clock = realtimeClock();
  constructor(dev: TunDevice) {
    this.#dev = dev;
    this.linkType = dev.linkType;
    this.mtu = dev.mtu;
  }
  attach(port: DriverPort): void {
    const stamps = this.stamps;
    const clock = this.#clock;
    this.#dev.attach({
      pool: port.pool,
      ifindex: port.ifindex,
      now: () => port.now(),
      beginBatch: () => port.beginBatch?.(),
      endBatch: () => port.endBatch?.(),
      receive(pkt) {
        const seq = echoSeq(pkt.buf, pkt.start, pkt.end, 8);
        if (seq >= 0) {
          const rx = clock.now();
          // iputils ping: struct timeval (two 64-bit little-endian words) first in the payload.
          const dv = new DataView(pkt.buf.buffer, pkt.buf.byteOffset);
          const icmp = pkt.start + (pkt.buf[pkt.start]! & 15) * 4;
          const sent = Number(dv.getBigInt64(icmp + 8, true)) * 1e6 +
            Number(dv.getBigInt64(icmp + 16, true));
          stamps.set(seq, { sent, rx, out: 0, tx: 0 });
        }
        port.receive(pkt);
      },
    });
  }
  transmit(pkt: PacketBuffer): void {
    const seq = echoSeq(pkt.buf, pkt.start, pkt.end, 0);
    const s = seq >= 0 ? this.stamps.get(seq) : undefined;
    if (s !== undefined) s.out = this.#clock.now();
    this.#dev.transmit(pkt);
    if (s !== undefined) s.tx = this.#clock.now();
  }
  close(): void {
    this.#dev.close();
    this.#clock.close();
  }
}

async function setup(wait: "poll" | "block" = "poll", spin = 0): Promise<Setup> {
  const netns = randomNetnsName("nsb");
  await addNetns(netns);
  const clock = new SystemClock();
  const stack = createStack({ clock, seed: 1 });
  // With "block", as `cli.ts up` sets it (the idle figures are up's).
  const dev = openTun({
    mode: "tun",
    name: "tun0",
    netns,
    wait,
    ...(wait === "block" ? { blockMax: UP_BLOCK_MAX, spin } : {}),
  });
  const probe = new StageProbe(dev);
  stack.addInterface({ driver: probe, addresses: [`${STACK}/24`] });
  const runner = new RealTimeRunner(stack, { clock });
  dev.onBatch = runner.kick;
  dev.waitBudget = runner.msUntilWake;
  runner.start();
  await configurePeer("tun0", { addresses: [`${LINUX}/24`], netns });
  return {
    netns,
    stack,
    dev,
    runner,
    probe,
    async close() {
      runner.stop();
      stack.close();
      await dev.closed;
      await deleteNetns(netns);
    },
  };
}

/** An IPv4/UDP packet of `size` bytes from the stack to `dst` (port 9), checksummed. */
function udpPacket(size: number, dst: number[]): Uint8Array {
  const p = new Uint8Array(size);
  const dv = new DataView(p.buffer);
  dv.setUint8(0, 0x45);
  dv.setUint16(2, size);
  dv.setUint8(8, 64);
  dv.setUint8(9, 17);
  p.set([10, 0, 0, 2], 12);
  p.set(dst, 16);
  dv.setUint16(10, finishChecksum(internetChecksum(p.subarray(0, 20))));
  dv.setUint16(20, 40000);
  dv.setUint16(22, 9);
  dv.setUint16(24, size - 20);
  return p; // UDP checksum 0: none (RFC 768)
}

function stats(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `median ${percentile(s, 0.5).toFixed(1)} µs, p99 ${percentile(s, 0.99).toFixed(1)} µs ` +
    `(n=${s.length}, min ${s[0]!.toFixed(1)})`;
}

/** One run of iputils ping: RTTs (µs) by sequence number, and how many were sent. */
interface PingRun {
  rtt: Map<number, number>;
  sent: number;
}

/**
 * iputils ping from the namespace to the stack: `count` pings `interval`
 * seconds apart; its output. Ping writes it to a file, read once ping has
 * ended: through a pipe, each reply's line woke this process's event loop,
 * which ends the device's blocking wait and spin, and the next ping then
 * found the loop in a 1 ms worker-thread `poll()` (two thread wake-ups).
 * Session 14 (`up` in a netns, 500 pings 2 ms apart after 2,000, load 3,
 * 3 interleaved runs each): p99 196-359 µs (`block`) and 263-7,860 (`spin`)
 * to a file, 1,950-2,940 and 1,640-4,000 through a pipe; every reply
 * slower than 0.5 ms through the pipe (10 of 500 in a traced run) came in
 * during that worker-thread `poll()`.
 */
async function pingFromLinux(s: Setup, count: number, interval: string): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "tun_bench_ping" });
  try {
    await pingFromNetns(s.netns, STACK, count, interval, ["sh", "-c", 'exec "$@" > "$0"', file]);
    return await Deno.readTextFile(file);
  } finally {
    await Deno.remove(file);
  }
}

async function linuxPingRun(s: Setup, count: number, interval: string): Promise<PingRun> {
  s.probe.stamps.clear();
  const out = await pingFromLinux(s, count, interval);
  const rtt = new Map<number, number>();
  for (const m of out.matchAll(/icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms/g)) {
    rtt.set(Number(m[1]), Number(m[2]) * 1000);
  }
  return { rtt, sent: count };
}

/** Median, p99 (lost pings count as slower than any reply) and the stage medians/p99 of a run. */
interface PingFigures {
  median: number;
  p99: number;
  lost: number;
  wake: number;
  wake99: number;
  stack: number;
  stack99: number;
  write: number;
  write99: number;
}

function pingFigures(s: Setup, run: PingRun): PingFigures {
  const all = [...run.rtt.values()];
  const lost = run.sent - all.length;
  for (let i = 0; i < lost; i++) all.push(Infinity);
  all.sort((a, b) => a - b);
  const wake: number[] = [];
  const inStack: number[] = [];
  const write: number[] = [];
  for (const [seq, st] of s.probe.stamps) {
    // ping counts icmp_seq from 1 and wraps at 65536; the probe keeps the low 16 bits.
    if (!run.rtt.has(seq) || st.tx === 0) continue;
    wake.push(st.rx - st.sent);
    inStack.push(st.out - st.rx);
    write.push(st.tx - st.out);
  }
  wake.sort((a, b) => a - b);
  inStack.sort((a, b) => a - b);
  write.sort((a, b) => a - b);
  return {
    median: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    lost,
    wake: wake.length > 0 ? percentile(wake, 0.5) : NaN,
    wake99: wake.length > 0 ? percentile(wake, 0.99) : NaN,
    stack: inStack.length > 0 ? percentile(inStack, 0.5) : NaN,
    stack99: inStack.length > 0 ? percentile(inStack, 0.99) : NaN,
    write: write.length > 0 ? percentile(write, 0.5) : NaN,
    write99: write.length > 0 ? percentile(write, 0.99) : NaN,
  };
}

function figuresLine(f: PingFigures): string {
  const us = (v: number) => Number.isFinite(v) ? v.toFixed(0) : "lost";
  return `median ${us(f.median)} µs, p99 ${us(f.p99)} µs, lost ${f.lost}; ` +
    `stages: wake ${us(f.wake)} (p99 ${us(f.wake99)}), stack ${us(f.stack)} (p99 ${
      us(f.stack99)
    }), write ${us(f.write)} (p99 ${us(f.write99)}) µs`;
}

/** Median and range over runs of one figure. */
function spread(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const us = (v: number) => Number.isFinite(v) ? v.toFixed(0) : "lost";
  return `${us(s[Math.floor((s.length - 1) / 2)]!)} (${us(s[0]!)}–${us(s[s.length - 1]!)})`;
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** `runs` runs of paced and idle pings, each printed, then median and range. */
async function pingReport(s: Setup, runs: number, line: (t: string) => void): Promise<void> {
  const kinds = [
    { name: "paced (-i 0.002, 500)", count: 500, interval: "0.002" },
    { name: "idle (-i 0.1, 50)", count: 50, interval: "0.1" },
  ];
  const results = kinds.map(() => [] as PingFigures[]);
  line(`load average before: ${loadAverage()}`);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[k]!;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const f = pingFigures(s, await linuxPingRun(s, kind.count, kind.interval));
      const cpu = process.cpuUsage(cpu0);
      const busy = (cpu.user + cpu.system) / 10 / (performance.now() - t0);
      results[k]!.push(f);
      line(
        `run ${r + 1} ping Linux → stack, ${kind.name}: ${figuresLine(f)}; CPU ${busy.toFixed(0)}%`,
      );
    }
  }
  for (let k = 0; k < kinds.length; k++) {
    const fs = results[k]!;
    line(
      `ping ${kinds[k]!.name} over ${runs} runs, median (range): median ${
        spread(fs.map((f) => f.median))
      } µs, p99 ${spread(fs.map((f) => f.p99))} µs, lost ${spread(fs.map((f) => f.lost))}, wake ${
        spread(fs.map((f) => f.wake))
      } µs, stack ${spread(fs.map((f) => f.stack))} µs`,
    );
  }
  line(`load average after: ${loadAverage()}`);
}

/** CPU time of the stack while nothing happens (the runner's and the device's wake-ups). */
async function idleReport(s: Setup, seconds: number, line: (t: string) => void): Promise<void> {
  const wakeups0 = s.runner.wakeups;
  const polls0 = s.dev.stats.polls;
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  line(
    `idle ${seconds} s: ${(cpuS * 60 / seconds).toFixed(3)} CPU-s per idle minute, ` +
      `${((s.runner.wakeups - wakeups0) / seconds).toFixed(1)} runner wake-ups/s, ` +
      `${((s.dev.stats.polls - polls0) / seconds).toFixed(1)} device polls/s ` +
      `(load average ${loadAverage()})`,
  );
}

async function linuxPing(s: Setup, count: number, interval: string): Promise<number[]> {
  return [...(await pingFromLinux(s, count, interval)).matchAll(/time=([\d.]+) ms/g)].map((m) =>
    Number(m[1]) * 1000
  );
}

async function stackPing(s: Setup, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const p = s.stack.ping(LINUX, { timeout: 1000 });
    s.runner.kick();
    out.push((await p).rtt * 1000); // ms → µs, as the other figures here
  }
  return out;
}

const FLOOD = `
import socket, sys, time
dst, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
data = b"x" * size
t = time.perf_counter()
for i in range(n):
    try:
        s.sendto(data, (dst, 9))
    except OSError:
        pass
print(n / (time.perf_counter() - t))
`;

function floodCommand(dst: string, count: number, payload: number): string[] {
  return ["/usr/bin/python3", "-c", FLOOD, dst, String(count), String(payload)];
}

/**
 * Live receive: python floods the stack while it runs. The generator shares
 * the two cores with us and with Linux, so this is a system figure.
 */
async function flood(s: Setup, count: number, payload: number): Promise<string> {
  const before = { ...s.dev.stats };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await netnsExec(s.netns, floodCommand(STACK, count, payload), 120);
  // Let the loop drain what is still queued (bounded).
  let last = -1;
  for (let i = 0; i < 100 && s.dev.stats.rxPackets !== last; i++) {
    last = s.dev.stats.rxPackets;
    await new Promise((res) => setTimeout(res, 20));
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const got = s.dev.stats.rxPackets - before.rxPackets;
  const batches = s.dev.stats.rxBatches - before.rxBatches;
  return `live flood, UDP ${payload} B payload: python sent ${count} at ` +
    `${(Number(r.stdout.trim()) / 1e3).toFixed(0)} k/s; ${got} reached the stack ` +
    `(${((count - got) / count * 100).toFixed(1)}% dropped in Linux's queue), ` +
    `${(got / secs / 1e3).toFixed(0)} k packets/s, ` +
    `${((cpu.user + cpu.system) / Math.max(1, got)).toFixed(2)} µs CPU per packet, ` +
    `${(got / Math.max(1, batches)).toFixed(1)} packets per batch`;
}

let drains = 0;

/**
 * Receive cost without a competing generator: python queues `count` UDP
 * packets on a fresh TUN device nobody reads yet (txqueuelen raised so none
 * is dropped); then the device is attached — to a port that just releases
 * each frame (`driver only`), or to the stack — and we time the drain.
 */
async function drain(s: Setup, count: number, payload: number, viaStack: boolean): Promise<string> {
  const n = ++drains;
  const name = `tun${n}`;
  const dev = openTun({ mode: "tun", name, netns: s.netns });
  try {
    await configurePeer(name, { addresses: [`10.0.${n}.1/24`], netns: s.netns });
    await ip(["link", "set", "dev", name, "txqueuelen", String(count + 1000)], { netns: s.netns });
    await netnsExec(s.netns, floodCommand(`10.0.${n}.2`, count, payload), 120);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (viaStack) {
      s.stack.addInterface({ driver: dev, addresses: [`10.0.${n}.2/24`] });
      dev.onBatch = s.runner.kick;
    } else {
      const pool = s.stack.pool;
      dev.attach({ receive: (p) => p.release(), pool, now: () => 0, ifindex: 99 });
    }
    for (let i = 0; i < 10_000 && dev.stats.rxPackets < count; i++) {
      await new Promise((res) => setTimeout(res, 1));
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const got = dev.stats.rxPackets;
    return `drain ${got} queued packets, UDP ${payload} B payload, ` +
      `${viaStack ? "through the stack" : "driver only"}: ${
        (got / ms / 1e3).toFixed(2)
      } M packets/s, ` +
      `${(ms * 1000 / got).toFixed(2)} µs per packet (CPU user ${(cpu.user / got).toFixed(2)} + ` +
      `system ${(cpu.system / got).toFixed(2)} µs), ${
        (got / dev.stats.rxBatches).toFixed(0)
      } per batch`;
  } finally {
    dev.close();
    await dev.closed;
  }
}

function transmitCost(s: Setup, size: number, count: number): string {
  const tmpl = udpPacket(size, [10, 0, 0, 3]); // not local to Linux: dropped without a reply
  const pool = s.stack.pool;
  const errors0 = s.dev.stats.txErrors;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const pkt = pool.alloc(size);
    pkt.buf.set(tmpl, pkt.start);
    s.dev.transmit(pkt);
  }
  const us = (performance.now() - t0) * 1000 / count;
  return `transmit ${size} B: ${us.toFixed(2)} µs per packet (${
    (1 / us).toFixed(2)
  } M packets/s, ` +
    `${(size * 8 / us / 1000).toFixed(1)} Gbit/s), ${s.dev.stats.txErrors - errors0} errors`;
}

async function report(): Promise<void> {
  const why = canRunTun();
  if (why !== undefined) {
    // deno-lint-ignore no-console
    console.log(`tun_bench: skipped: ${why}`);
    return;
  }
  // block, poll, or spin=N: block with N µs of busy-polling after each frame.
  const spin = Number(/^spin=(\d+)$/.exec(Deno.args[2] ?? "")?.[1] ?? 0);
  const wait = Deno.args[2] === "block" || spin > 0 ? "block" : "poll";
  const s = await setup(wait, spin);
  const line = (t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));
  if (Deno.args[0] === "ping" || Deno.args[0] === "idle") {
    line(`device wait: ${wait}${spin > 0 ? `, spin ${spin} µs` : ""}`);
  }
  try {
    // Past a fresh stack's one-time costs (JIT, the pool's first checksum arena): tun_floor.ts.
    await linuxPing(s, 2_000, "0.0005");
    if (Deno.args[0] === "ping") {
      // `deno run -A bench/tun_bench.ts ping [runs]`: latency only.
      await pingReport(s, Math.max(1, Number(Deno.args[1] ?? 3) | 0), line);
      line(`ping stack → Linux, back to back:      ${stats(await stackPing(s, 500))}`);
      line(
        `device: ${s.dev.stats.polls} worker-thread polls, ${s.dev.stats.blockWaits} blocking waits ` +
          `(${s.dev.stats.blockWakeups} ended by a frame), ${s.dev.stats.spins} spins ` +
          `(${s.dev.stats.spinWakeups} ended by a frame)`,
      );
      return;
    }
    if (Deno.args[0] === "idle") {
      await new Promise((r) => setTimeout(r, 2000)); // past the start-up timers
      await idleReport(s, Math.max(1, Number(Deno.args[1] ?? 20)), line);
      return;
    }
    line(`ping Linux → stack, paced (-i 0.002): ${stats(await linuxPing(s, 500, "0.002"))}`);
    line(`ping Linux → stack, from idle (-i 0.1): ${stats(await linuxPing(s, 30, "0.1"))}`);
    line(`ping stack → Linux, back to back:      ${stats(await stackPing(s, 500))}`);
    line(await drain(s, 100_000, 64, false));
    line(await drain(s, 100_000, 1472, false));
    line(await drain(s, 100_000, 64, true));
    line(await drain(s, 100_000, 1472, true));
    line(await flood(s, 200_000, 64));
    line(transmitCost(s, 1500, 200_000));
    line(transmitCost(s, 64, 200_000));
  } finally {
    await s.close();
  }
}

if (import.meta.main) {
  await report();
} else {
  const why = canRunTun();
  const s = why === undefined ? await setup() : null;
  if (s !== null) {
    globalThis.addEventListener("unload", () => {
      s.runner.stop();
      s.stack.close();
      new Deno.Command("ip", { args: ["netns", "del", s.netns] }).outputSync();
    });
  }
  const big = udpPacket(1500, [10, 0, 0, 3]);
  const small = udpPacket(64, [10, 0, 0, 3]);
  Deno.bench({
    name: "TunDevice.transmit() 1500 B",
    group: "tun transmit",
    ignore: s === null,
    fn() {
      const pkt = s!.stack.pool.alloc(1500);
      pkt.buf.set(big, pkt.start);
      s!.dev.transmit(pkt);
    },
  });
  Deno.bench({
    name: "TunDevice.transmit() 64 B",
    group: "tun transmit",
    ignore: s === null,
    fn() {
      const pkt = s!.stack.pool.alloc(64);
      pkt.buf.set(small, pkt.start);
      s!.dev.transmit(pkt);
    },
  });
  Deno.bench({
    name: "stack.ping() over TUN, round trip",
    ignore: s === null,
    async fn() {
      const p = s!.stack.ping(LINUX, { timeout: 1000 });
      s!.runner.kick();
      await p;
    },
  });
}

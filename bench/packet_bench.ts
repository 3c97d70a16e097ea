/**
 * The AF_PACKET driver's speed, in a private network namespace with a veth
 * pair (Linux `vl` 10.0.0.1/24 ↔ `vs`, the stack's end, no address;
 * offloads off on `vl`). Needs root, iproute2, OpenBSD `nc`, python3.
 *
 * `deno run -A bench/packet_bench.ts [RUNS] [MiB]` prints medians and ranges
 * over RUNS runs (default 3), with `recvfrom` per frame and with the
 * `TPACKET_V3` ring, of:
 * - **receive packets/s, driver alone, queued** (recvfrom only): 100,000
 *   frames (60 and 1514 bytes, to the stack's MAC) are queued in the socket
 *   first (a 256 MiB receive buffer; another process writes them into `vl`
 *   through its own packet socket), then the driver drains them into a
 *   counting port — the method of bench/tun_bench.ts, so the generator does
 *   not compete for the CPU while we measure;
 * - **receive packets/s, live** (recvfrom and ring): 200,000 frames written
 *   while the driver reads (the writer shares the 2 cores, so this is a
 *   floor), with the share lost;
 * - **TCP Linux → stack, MTU 1500:** `head -c N /dev/zero | nc -N 10.0.0.2 9`
 *   into `cli.ts up --driver packet --serve discard` (default 512 MiB),
 *   timed until nc exits, checked against `discard.bytes`, with this
 *   process's CPU time per GiB.
 *
 * `deno run -A bench/packet_bench.ts blast NETNS COUNT SIZE` is the frame
 * writer the first measurement runs as a child process.
 *
 * @module
 */
import process from "node:process";
import { runUp } from "../cli/up.ts";
import { addNetns, deleteNetns, ip, netnsExec, randomNetnsName } from "../cli/_netns.ts";
import { SERVICES } from "../plugins/services/mod.ts";
import { openPacket } from "../drivers/packet/mod.ts";
import { PacketPool } from "../stack/packet_pool.ts";

const HOST = "10.0.0.2";
const MIB = 1024 * 1024;
const STACK_MAC = new Uint8Array([0x02, 0, 0x5e, 0, 0, 0x17]);
// deno-lint-ignore no-console
const log = console.log;

/** `ethtool -K dev tx off tso off gso off`, through SIOCETHTOOL (no ethtool here). */
const OFFLOADS_OFF = `
import array, fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for cmd in (0x17, 0x1f, 0x24):
    buf = array.array("B", struct.pack("II", cmd, 0))
    ifr = struct.pack("16sQ", sys.argv[1].encode(), buf.buffer_info()[0]) + bytes(16)
    fcntl.ioctl(s.fileno(), 0x8946, ifr)
`;

async function withVeth<T>(fn: (netns: string) => Promise<T>): Promise<T> {
  const netns = randomNetnsName(`pktb${Deno.pid}-`);
  await addNetns(netns);
  try {
    await ip(["link", "add", "vl", "type", "veth", "peer", "name", "vs"], { netns });
    for (const dev of ["vl", "vs"]) {
      await ip(["link", "set", dev, "addrgenmode", "none"], { netns });
      await ip(["link", "set", dev, "up"], { netns });
    }
    await ip(["addr", "add", "10.0.0.1/24", "dev", "vl"], { netns });
    const r = await netnsExec(netns, ["/usr/bin/python3", "-c", OFFLOADS_OFF, "vl"], 10);
    if (r.code !== 0) throw new Error(`turning offloads off: ${r.stderr}`);
    return await fn(netns);
  } finally {
    await deleteNetns(netns);
  }
}

/** Child: writes COUNT frames of SIZE bytes to the stack's MAC into `vl`. */
async function blast(netns: string, count: number, size: number): Promise<void> {
  const dev = openPacket({ ifname: "vl", netns, promisc: false });
  const pool = new PacketPool();
  dev.attach({ pool, ifindex: 1, now: () => 0, receive: (p) => p.release() });
  for (let i = 0; i < count; i++) {
    const pkt = pool.alloc(size);
    const d = pkt.data;
    d.set(STACK_MAC);
    d.set(dev.linuxMac, 6);
    d[12] = 0x88;
    d[13] = 0xb5; // local experimental EtherType
    dev.transmit(pkt);
    if (dev.stats.txErrors > 0) {
      // The qdisc is full (EAGAIN): give the kernel a moment, then go on.
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  const s = dev.stats;
  dev.close();
  await dev.closed;
  log(`sent ${s.txPackets} errors ${s.txErrors}`);
}

/** Runs the blaster child: `count` frames of `size` bytes into `vl`; returns how many it sent. */
async function runBlast(netns: string, count: number, size: number): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "blast", netns, String(count), String(size)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const m = /sent (\d+)/.exec(new TextDecoder().decode(out.stdout));
  if (m === null) throw new Error(`blast failed: ${new TextDecoder().decode(out.stderr)}`);
  return Number(m[1]);
}

/** A port that counts frames and notes the times of the first and the last. */
function countingPort() {
  const c = {
    got: 0,
    first: 0,
    last: 0,
    port: {
      pool: new PacketPool(),
      ifindex: 1,
      now: () => 0,
      receive(p: { release(): void }) {
        if (c.got++ === 0) c.first = performance.now();
        c.last = performance.now();
        p.release();
      },
    },
  };
  return c;
}

/**
 * Packets/s draining `count` frames of `size` bytes queued in the socket
 * before the driver starts (recvfrom path; the ring retires partly filled
 * blocks after 1 ms, so it cannot be pre-filled this way).
 */
async function receiveQueued(count: number, size: number): Promise<number> {
  return await withVeth(async (netns) => {
    const dev = openPacket({ ifname: "vs", netns, mac: STACK_MAC, rcvbuf: 256 * MIB });
    try {
      let sent = 0;
      // Write until `count` frames are queued (a full qdisc makes the writer lose some).
      while (sent < count) sent += await runBlast(netns, count - sent, size);
      const c = countingPort();
      dev.attach(c.port as never);
      for (let i = 0; i < 1500 && c.got < count; i++) await new Promise((r) => setTimeout(r, 20));
      if (c.got < count) {
        throw new Error(`received ${c.got} of ${count} (kernel drops ${dev.stats.rxKernelDrops})`);
      }
      return count / ((c.last - c.first) / 1000);
    } finally {
      dev.close();
      await dev.closed;
    }
  });
}

/**
 * Frames arriving while another process writes them (the writer, ~1.5 µs a
 * frame, shares the 2 cores): packets/s from the first to the last frame
 * received, and the share lost.
 */
async function receiveLive(
  count: number,
  size: number,
  ring: boolean,
): Promise<{ rate: number; lost: number }> {
  return await withVeth(async (netns) => {
    const dev = openPacket({ ifname: "vs", netns, mac: STACK_MAC, ring });
    try {
      const c = countingPort();
      dev.attach(c.port as never);
      const sent = await runBlast(netns, count, size);
      await new Promise((r) => setTimeout(r, 200)); // the last blocks retire, the queue drains
      return { rate: c.got / ((c.last - c.first) / 1000), lost: (sent - c.got) / sent };
    } finally {
      dev.close();
      await dev.closed;
    }
  });
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Gbit/s and CPU-s/GiB of one nc → discard transfer over `up --driver packet`. */
async function tcpRate(
  bytes: number,
  ring: boolean,
): Promise<{ gbps: number; cpuPerGiB: number }> {
  return await withVeth(async (netns) => {
    const stop = new AbortController();
    let result: { gbps: number; cpuPerGiB: number } | undefined;
    let failure: unknown;
    const err: string[] = [];
    const code = await runUp([
      "--driver",
      "packet",
      "--ifname",
      "vs",
      "--netns",
      netns,
      "--address",
      `${HOST}/24`,
      "--serve",
      "discard",
      ...(ring ? ["--ring"] : []),
    ], {
      services: SERVICES,
      handleSignals: false,
      signal: stop.signal,
      print: () => {},
      printError: (l) => err.push(l),
      onReady: async (stack) => {
        try {
          const cpu0 = cpuNow();
          const t0 = performance.now();
          const r = await netnsExec(netns, [
            "sh",
            "-c",
            `head -c ${bytes} /dev/zero | nc -N -w 10 ${HOST} 9`,
          ], 600);
          const seconds = (performance.now() - t0) / 1000;
          const cpu = cpuNow() - cpu0;
          if (r.code !== 0) throw new Error(`nc failed (${r.code}): ${r.stderr}`);
          for (let i = 0; i < 250 && stack.counters.value("discard.bytes") < bytes; i++) {
            await new Promise((res) => setTimeout(res, 20));
          }
          const got = stack.counters.value("discard.bytes");
          if (got !== bytes) throw new Error(`discard counted ${got} of ${bytes} bytes`);
          result = { gbps: bytes * 8 / seconds / 1e9, cpuPerGiB: cpu / (bytes / (1024 * MIB)) };
        } catch (e) {
          failure = e;
        } finally {
          stop.abort();
        }
      },
    });
    if (failure !== undefined) throw failure;
    if (code !== 0 || result === undefined) {
      throw new Error(`up failed (${code}): ${err.join("\n")}`);
    }
    return result;
  });
}

function summary(values: number[], digits: number): string {
  const s = [...values].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)]!;
  return `median ${median.toFixed(digits)} (range ${s[0]!.toFixed(digits)}-${
    s[s.length - 1]!.toFixed(digits)
  }, ${s.length} runs)`;
}

if (import.meta.main) {
  if (Deno.args[0] === "blast") {
    await blast(Deno.args[1]!, Number(Deno.args[2]), Number(Deno.args[3]));
  } else if (Deno.build.os !== "linux" || Deno.uid() !== 0) {
    log("bench/packet_bench.ts: skipped: needs Linux and root");
  } else {
    const runs = Number(Deno.args[0] ?? 3);
    const mib = Number(Deno.args[1] ?? 512);
    log(
      `AF_PACKET driver (Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
        `veth in a namespace)`,
    );
    for (const size of [60, 1514]) {
      const rates: number[] = [];
      for (let i = 0; i < runs; i++) rates.push(await receiveQueued(100_000, size) / 1e6);
      log(
        `  receive (recvfrom), driver alone, 100000 queued ${size}-byte frames: ` +
          `M packets/s ${summary(rates, 3)}`,
      );
    }
    for (const ring of [false, true]) {
      const how = ring ? "TPACKET_V3 ring" : "recvfrom";
      for (const size of [60, 1514]) {
        const rates: number[] = [];
        const lost: number[] = [];
        for (let i = 0; i < runs; i++) {
          const r = await receiveLive(200_000, size, ring);
          rates.push(r.rate / 1e6);
          lost.push(r.lost * 100);
        }
        log(
          `  receive (${how}), driver alone, 200000 ${size}-byte frames while written: ` +
            `M packets/s ${summary(rates, 3)}; lost % ${summary(lost, 1)}`,
        );
      }
    }
    for (const ring of [false, true]) {
      const how = ring ? "TPACKET_V3 ring" : "recvfrom";
      const gbps: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await tcpRate(mib * MIB, ring);
        gbps.push(r.gbps);
        cpu.push(r.cpuPerGiB);
      }
      log(
        `  TCP Linux nc → stack discard (${how}), MTU 1500, ${mib} MiB: Gbit/s ${summary(gbps, 2)}`,
      );
      log(`    this process's CPU-s/GiB ${summary(cpu, 2)}`);
    }
  }
}

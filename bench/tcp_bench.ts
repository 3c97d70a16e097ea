/**
 * TCP between two stacks in memory (VirtualNetwork, one point-to-point
 * Ethernet link, no delay, static neighbours), through the public API
 * (`connect`, `listen`, `read`, `write`):
 *
 * - bulk transfer, one direction, at MTU 1500 and 65535 (Gbit/s of payload),
 *   over IPv4 and over IPv6 (static neighbours both: the data path only);
 * - connections per second: connect, accept, both close (the TIME-WAIT
 *   entries they leave stay in the table), and the CPU time (user + system)
 *   per connection, which moves less with the machine's load.
 *
 * `deno run --allow-all bench/tcp_bench.ts` prints the figures;
 * `deno bench --allow-all bench/tcp_bench.ts` times the same operations.
 * `TCP_BENCH_MIB` sets the bulk size (default 256), `TCP_BENCH_CONNS` the
 * connection count (default 2000), `TCP_BENCH_RUNS` how many interleaved
 * rounds of the four bulk runs (IPv4, IPv6 × both MTUs) to take medians of
 * (default 1). Each bulk run also prints the process's CPU time (user +
 * system, all threads) and Gbit per CPU-second, which a loaded machine
 * moves less than the wall clock (it still shares caches and cores).
 *
 * @module
 */
import { median } from "./_stats.ts";
import process from "node:process";
import { type TcpConn } from "../mod.ts";
import { type Pair, PAIR_ADDRESSES, tcpPair } from "./_tcp_pair.ts";

function setup(mtu: number, buffer: number, family: 4 | 6 = 4): Pair {
  return tcpPair({ mtu, buffer, family });
}

/** Where a connects on `p`: b's address of the pair's family. */
function target(p: Pair): string {
  return PAIR_ADDRESSES[p.family].b;
}

/** What one bulk transfer (or a churn of connections) took: real time, and the process's CPU time (user + system). */
interface BulkTime {
  readonly secs: number;
  readonly cpuSecs: number;
}

/** Sends `bytes` from a to b over one connection; returns the time it took. */
async function bulk(p: Pair, bytes: number): Promise<BulkTime> {
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i * 31;
  return await p.net.run(async () => {
    const [c, s] = await Promise.all([
      p.a.connect({ hostname: target(p), port: 5001 }),
      p.listener.accept(),
    ]);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const writer = (async () => {
      let left = bytes;
      while (left > 0) {
        const n = await c.write(chunk.subarray(0, Math.min(chunk.length, left)));
        left -= n;
      }
      await c.closeWrite();
    })();
    const buf = new Uint8Array(1 << 20);
    let got = 0;
    for (;;) {
      const n = await s.read(buf);
      if (n === null) break;
      got += n;
    }
    await writer;
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (got !== bytes) throw new Error(`received ${got} of ${bytes} bytes`);
    c.close();
    s.close();
    return { secs, cpuSecs: (cpu.user + cpu.system) / 1e6 };
  }, { timeout: 3_600_000_000 });
}

/**
 * Opens and closes `count` connections one after another; returns the real
 * time and the process's CPU time they took. Afterwards virtual time moves
 * past TIME-WAIT (not timed), so repeated runs do not run out of ephemeral
 * ports.
 */
async function churn(p: Pair, count: number): Promise<BulkTime> {
  const time = await p.net.run(async () => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      const [c, s]: [TcpConn, TcpConn] = await Promise.all([
        p.a.connect({ hostname: target(p), port: 5001 }),
        p.listener.accept(),
      ]);
      c.close();
      s.close();
    }
    const cpu = process.cpuUsage(cpu0);
    return { secs: (performance.now() - t0) / 1000, cpuSecs: (cpu.user + cpu.system) / 1e6 };
  }, { timeout: 3_600_000_000 });
  p.net.runFor(61_000_000);
  return time;
}

const MIB = Number(Deno.env.get("TCP_BENCH_MIB") ?? 256);
const CONNS = Number(Deno.env.get("TCP_BENCH_CONNS") ?? 2000);

const RUNS = Number(Deno.env.get("TCP_BENCH_RUNS") ?? 1);

if (import.meta.main) {
  const results = new Map<string, number[]>();
  const perCpu = new Map<string, number[]>();
  // Interleaved (IPv4, IPv6 at each MTU, round after round) so that the
  // machine's drift hits both families alike.
  for (let run = 0; run < RUNS; run++) {
    for (const [mtu, buffer] of [[1500, 1 << 20], [65535, 4 << 20]] as const) {
      for (const family of [4, 6] as const) {
        const p = setup(mtu, buffer, family);
        await bulk(p, 16 << 20); // warm up
        const { secs, cpuSecs } = await bulk(p, MIB * 1048576);
        const gbit = (MIB * 8 * 1.048576) / 1000 / secs;
        const gbitPerCpu = (MIB * 8 * 1.048576) / 1000 / cpuSecs;
        const key = `IPv${family} MTU ${mtu}`;
        results.set(key, [...(results.get(key) ?? []), gbit]);
        perCpu.set(key, [...(perCpu.get(key) ?? []), gbitPerCpu]);
        // deno-lint-ignore no-console
        console.log(
          `bulk ${key}: ${MIB} MiB in ${secs.toFixed(2)} s = ${gbit.toFixed(2)} Gbit/s` +
            ` (${cpuSecs.toFixed(2)} CPU-s: ${gbitPerCpu.toFixed(2)} Gbit per CPU-second)`,
        );
        p.close();
      }
    }
  }
  if (RUNS > 1) {
    for (const [key, xs] of results) {
      const ys = perCpu.get(key)!;
      // deno-lint-ignore no-console
      console.log(
        `${key}: median ${median(xs).toFixed(2)} Gbit/s, range ${Math.min(...xs).toFixed(2)}–${
          Math.max(...xs).toFixed(2)
        }; per CPU-second ${median(ys).toFixed(2)} (${Math.min(...ys).toFixed(2)}–${
          Math.max(...ys).toFixed(2)
        }) over ${xs.length} runs`,
      );
    }
  }
  const p = setup(1500, 1 << 18);
  await churn(p, 200); // warm up
  const { secs, cpuSecs } = await churn(p, CONNS);
  // deno-lint-ignore no-console
  console.log(
    `connections: ${CONNS} in ${secs.toFixed(2)} s = ${Math.round(CONNS / secs)} per second` +
      ` (${cpuSecs.toFixed(2)} CPU-s: ${(cpuSecs * 1e6 / CONNS).toFixed(1)} CPU-µs per connection)`,
  );
  p.close();
} else {
  const small = setup(1500, 1 << 20);
  const large = setup(65535, 4 << 20);
  const small6 = setup(1500, 1 << 20, 6);
  const large6 = setup(65535, 4 << 20, 6);
  const conns = setup(1500, 1 << 18);
  Deno.bench({
    name: "tcp bulk 16 MiB, MTU 1500",
    group: "bulk",
    baseline: true,
    async fn() {
      await bulk(small, 16 << 20);
    },
  });
  Deno.bench({
    name: "tcp bulk 16 MiB, MTU 65535",
    group: "bulk",
    async fn() {
      await bulk(large, 16 << 20);
    },
  });
  Deno.bench({
    name: "tcp over IPv6 bulk 16 MiB, MTU 1500",
    group: "bulk",
    async fn() {
      await bulk(small6, 16 << 20);
    },
  });
  Deno.bench({
    name: "tcp over IPv6 bulk 16 MiB, MTU 65535",
    group: "bulk",
    async fn() {
      await bulk(large6, 16 << 20);
    },
  });
  Deno.bench({
    name: "tcp 100 connections (connect, accept, close)",
    async fn() {
      await churn(conns, 100);
    },
  });
  globalThis.addEventListener("unload", () => {
    small.close();
    large.close();
    small6.close();
    large6.close();
    conns.close();
  });
}

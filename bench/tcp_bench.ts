/**
 * TCP between two stacks in memory (VirtualNetwork, one point-to-point
 * Ethernet link, no delay, static neighbours), through the public API
 * (`connect`, `listen`, `read`, `write`):
 *
 * - bulk transfer, one direction, at MTU 1500 and 65535 (Gbit/s of payload);
 * - connections per second: connect, accept, both close (the TIME-WAIT
 *   entries they leave stay in the table).
 *
 * `deno run --allow-all bench/tcp_bench.ts` prints the figures;
 * `deno bench --allow-all bench/tcp_bench.ts` times the same operations.
 * `TCP_BENCH_MIB` sets the bulk size (default 256), `TCP_BENCH_CONNS` the
 * connection count (default 2000).
 *
 * @module
 */
import { type TcpConn } from "../mod.ts";
import { type Pair, tcpPair } from "./_tcp_pair.ts";

function setup(mtu: number, buffer: number): Pair {
  return tcpPair({ mtu, buffer });
}

/** Sends `bytes` from a to b over one connection; returns the seconds it took (real time). */
async function bulk(p: Pair, bytes: number): Promise<number> {
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i * 31;
  return await p.net.run(async () => {
    const [c, s] = await Promise.all([
      p.a.connect({ hostname: "10.0.0.2", port: 5001 }),
      p.listener.accept(),
    ]);
    const t0 = performance.now();
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
    if (got !== bytes) throw new Error(`received ${got} of ${bytes} bytes`);
    c.close();
    s.close();
    return secs;
  }, { timeout: 3_600_000_000 });
}

/**
 * Opens and closes `count` connections one after another; returns seconds.
 * Afterwards virtual time moves past TIME-WAIT (not timed), so repeated runs
 * do not run out of ephemeral ports.
 */
async function churn(p: Pair, count: number): Promise<number> {
  const secs = await p.net.run(async () => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const [c, s]: [TcpConn, TcpConn] = await Promise.all([
        p.a.connect({ hostname: "10.0.0.2", port: 5001 }),
        p.listener.accept(),
      ]);
      c.close();
      s.close();
    }
    return (performance.now() - t0) / 1000;
  }, { timeout: 3_600_000_000 });
  p.net.runFor(61_000_000);
  return secs;
}

const MIB = Number(Deno.env.get("TCP_BENCH_MIB") ?? 256);
const CONNS = Number(Deno.env.get("TCP_BENCH_CONNS") ?? 2000);

if (import.meta.main) {
  for (const [mtu, buffer] of [[1500, 1 << 20], [65535, 4 << 20]] as const) {
    const p = setup(mtu, buffer);
    await bulk(p, 16 << 20); // warm up
    const secs = await bulk(p, MIB << 20);
    const gbit = (MIB * 8 * 1.048576) / 1000 / secs;
    // deno-lint-ignore no-console
    console.log(
      `bulk MTU ${mtu}: ${MIB} MiB in ${secs.toFixed(2)} s = ${gbit.toFixed(2)} Gbit/s`,
    );
    p.close();
  }
  const p = setup(1500, 1 << 18);
  await churn(p, 200); // warm up
  const secs = await churn(p, CONNS);
  // deno-lint-ignore no-console
  console.log(
    `connections: ${CONNS} in ${secs.toFixed(2)} s = ${Math.round(CONNS / secs)} per second`,
  );
  p.close();
} else {
  const small = setup(1500, 1 << 20);
  const large = setup(65535, 4 << 20);
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
    name: "tcp 100 connections (connect, accept, close)",
    async fn() {
      await churn(conns, 100);
    },
  });
  globalThis.addEventListener("unload", () => {
    small.close();
    large.close();
    conns.close();
  });
}

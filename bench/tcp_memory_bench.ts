/**
 * Memory per idle TCP connection, and 10,000 concurrent connections on one
 * stack: two stacks on one virtual link (static neighbours) open N
 * connections (default 10,000; `TCP_MEMORY_CONNS`), measured with
 * `Deno.memoryUsage()` after a full GC:
 *
 * 1. right after the handshakes (nothing sent yet: no buffer allocated);
 * 2. after one byte each way on every connection (buffers now allocated,
 *    then idle);
 * 3. after 64 KiB each way (buffers grown), then idle.
 *
 * Figures are per endpoint (each connection has two, one per stack):
 * `heapUsed` is the JavaScript objects (the connection "beyond its
 * buffers"), `external` the ArrayBuffers behind the send and receive rings.
 * Also times the set-up and the close of all connections. Reported as
 * figures, not asserted.
 *
 * `deno run --allow-all --v8-flags=--expose-gc bench/tcp_memory_bench.ts`
 * (without `--expose-gc` the heap figures include garbage);
 * `TCP_MEMORY_RUNS=5` repeats it on fresh stacks and ends with the median
 * and range of the never-used and used figures (no best-of).
 * `deno bench --allow-all bench/tcp_memory_bench.ts` times opening and
 * closing 1,000 connections.
 *
 * @module
 */
import { type TcpConn } from "../mod.ts";
import { type Pair, tcpPair } from "./_tcp_pair.ts";

const gc = (globalThis as { gc?: () => void }).gc;

function setup(): Pair {
  return tcpPair({ backlog: 65535 });
}

interface Memory {
  readonly heap: number;
  readonly external: number;
}

function memory(): Memory {
  gc?.();
  gc?.();
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
}

/** Opens `n` connections from a to b, in batches; returns both ends. */
async function open(p: Pair, n: number): Promise<{ client: TcpConn[]; server: TcpConn[] }> {
  const client: TcpConn[] = [];
  const server: TcpConn[] = [];
  await p.net.run(async () => {
    for (let i = 0; i < n; i += 100) {
      const batch: Promise<TcpConn>[] = [];
      for (let j = 0; j < Math.min(100, n - i); j++) {
        batch.push(p.a.connect({ hostname: "10.0.0.2", port: 5001 }));
      }
      client.push(...await Promise.all(batch));
      for (let j = 0; j < batch.length; j++) server.push(await p.listener.accept());
    }
  }, { timeout: 3_600_000_000 });
  return { client, server };
}

/** `size` bytes each way on every connection, then two seconds of idle virtual time. */
async function exchange(p: Pair, client: TcpConn[], server: TcpConn[], size: number) {
  const data = new Uint8Array(size);
  const buf = new Uint8Array(size);
  async function move(from: TcpConn, to: TcpConn) {
    const w = (async () => {
      let off = 0;
      while (off < size) off += await from.write(data.subarray(off));
    })();
    let got = 0;
    while (got < size) got += (await to.read(buf.subarray(got)))!;
    await w;
  }
  await p.net.run(async () => {
    for (let i = 0; i < client.length; i += 100) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(i + 100, client.length); j++) {
        batch.push(move(client[j]!, server[j]!), move(server[j]!, client[j]!));
      }
      await Promise.all(batch);
    }
    await new Promise<void>((r) => p.net.at(p.net.now() + 2_000_000, r));
  }, { timeout: 3_600_000_000 });
}

/** Per-endpoint KiB of heap and external (buffer) memory between two snapshots. */
interface PerEndpoint {
  readonly heap: number;
  readonly external: number;
}

function perEndpoint(after: Memory, before: Memory, endpoints: number): PerEndpoint {
  return {
    heap: (after.heap - before.heap) / endpoints / 1024,
    external: (after.external - before.external) / endpoints / 1024,
  };
}

function per(after: Memory, before: Memory, endpoints: number): string {
  const e = perEndpoint(after, before, endpoints);
  return `heap ${e.heap.toFixed(2)} KiB, buffers (external) ${e.external.toFixed(2)} KiB`;
}

/** Median and range, formatted. */
function spread(xs: readonly number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const mid = n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return `${mid.toFixed(2)} (${s[0]!.toFixed(2)}–${s[n - 1]!.toFixed(2)})`;
}

const N = Number(Deno.env.get("TCP_MEMORY_CONNS") ?? 10_000);
/** Runs, each on fresh stacks; with more than one, a median (range) summary follows. */
const RUNS = Number(Deno.env.get("TCP_MEMORY_RUNS") ?? 1);

/** One run: prints its lines, returns the never-used and used (64 KiB each way) figures. */
async function run(log: (s: string) => void): Promise<{ never: PerEndpoint; used: PerEndpoint }> {
  const p = setup();
  await p.net.run(() => p.a.ping("10.0.0.2"));
  const m0 = memory();
  const t0 = performance.now();
  const { client, server } = await open(p, N);
  const t1 = performance.now();
  const m1 = memory();
  log(
    `${N} connections opened in ${(t1 - t0).toFixed(0)} ms (${
      Math.round(N / ((t1 - t0) / 1000))
    }/s)`,
  );
  log(`sockets: a ${p.a.sockets().length}, b ${p.b.sockets().length} (listener included)`);
  log(`idle, never used:        ${per(m1, m0, 2 * N)} per endpoint`);
  await exchange(p, client, server, 1);
  const m2 = memory();
  log(`idle, after 1 B each way: ${per(m2, m0, 2 * N)} per endpoint`);
  await exchange(p, client, server, 65536);
  const m3 = memory();
  log(`idle, after 64 KiB each way: ${per(m3, m0, 2 * N)} per endpoint`);
  const t2 = performance.now();
  for (const c of client) c.close();
  for (const s of server) s.close();
  p.net.runFor(1_000_000);
  const t3 = performance.now();
  log(`closed in ${(t3 - t2).toFixed(0)} ms; TIME-WAIT entries left: ${p.a.sockets().length}`);
  p.net.runFor(61_000_000);
  client.length = server.length = 0; // the bench's own references
  const m4 = memory();
  log(
    `after TIME-WAIT: sockets a ${p.a.sockets().length}, b ${p.b.sockets().length - 1}; ` +
      `left: ${per(m4, m0, 2 * N)} per endpoint (the packet pools' free lists, bounded)`,
  );
  p.close();
  return { never: perEndpoint(m1, m0, 2 * N), used: perEndpoint(m3, m0, 2 * N) };
}

if (import.meta.main) {
  // deno-lint-ignore no-console
  const log = console.log;
  if (gc === undefined) log("(no --expose-gc: heap figures include garbage)");
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    if (RUNS > 1) log(`run ${i + 1} of ${RUNS}:`);
    results.push(await run(log));
  }
  if (RUNS > 1) {
    log(`${RUNS} runs of ${N} connections, KiB per endpoint, median (range):`);
    for (const k of ["never", "used"] as const) {
      log(
        `  ${k === "never" ? "never used" : "used, 64 KiB each way"}: heap ${
          spread(results.map((r) => r[k].heap))
        }, buffers ${spread(results.map((r) => r[k].external))}`,
      );
    }
  }
} else {
  const p = setup();
  Deno.bench({
    name: "tcp open and close 1000 concurrent connections",
    async fn() {
      const { client, server } = await open(p, 1000);
      for (const c of client) c.close();
      for (const s of server) s.close();
      p.net.runFor(61_000_000); // past TIME-WAIT
    },
  });
  globalThis.addEventListener("unload", () => p.close());
}

/**
 * TCP bulk throughput between Linux and the virtual host over a TUN device
 * (`cli.ts up --driver tun --serve discard`, inside a private network
 * namespace; needs root, `/dev/net/tun`, iproute2, OpenBSD `nc`, `socat`).
 *
 * - `deno run -A bench/tun_tcp_bench.ts [MiB]` prints a report for MTU 1500
 *   and 65535 (default 1024 MiB each way):
 *   - Linux → host: `head -c N /dev/zero | nc -N 10.0.0.2 9` into the discard
 *     service, timed until nc exits (the service closes once it has read
 *     everything), checked against `discard.bytes`;
 *   - host → Linux: the host connects to `socat -u TCP-LISTEN OPEN:/dev/null`
 *     and writes N bytes, timed until socat has closed (all read);
 *   - with the CPU time of this process (user + system) per GiB.
 * - `deno bench -A bench/tun_tcp_bench.ts` runs a 64 MiB Linux → host
 *   transfer as a `Deno.bench` case (skipped when not root).
 *
 * @module
 */
import process from "node:process";
import { runUp } from "../cli/up.ts";
import { addNetns, deleteNetns, netnsExec, randomNetnsName } from "../cli/_netns.ts";
import { SERVICES } from "../plugins/services/mod.ts";
import type { Stack } from "../mod.ts";

const LINUX = "10.0.0.1";
const HOST = "10.0.0.2";
const MIB = 1024 * 1024;

function canRun(): string | undefined {
  if (Deno.build.os !== "linux") return "needs Linux";
  for (const name of ["ffi", "run", "read", "write", "sys", "env"] as const) {
    if (Deno.permissions.querySync({ name }).state !== "granted") return `needs --allow-${name}`;
  }
  if (Deno.uid() !== 0) return "needs root";
  try {
    Deno.statSync("/dev/net/tun");
  } catch {
    return "no /dev/net/tun";
  }
  return undefined;
}

/** One measured transfer. */
interface Transfer {
  readonly bytes: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
}

function gbps(t: Transfer): string {
  return (t.bytes * 8 / t.seconds / 1e9).toFixed(2);
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Runs `fn` with `up --driver tun --serve discard --mtu mtu` in a fresh namespace. */
async function withHost<T>(
  mtu: number,
  fn: (stack: Stack, netns: string) => Promise<T>,
): Promise<T> {
  const netns = randomNetnsName("tcpb");
  await addNetns(netns);
  const stop = new AbortController();
  let result: T | undefined;
  let failure: unknown;
  const err: string[] = [];
  try {
    const code = await runUp([
      "--driver",
      "tun",
      "--ifname",
      "tun0",
      "--netns",
      netns,
      "--address",
      `${HOST}/24`,
      "--peer-address",
      `${LINUX}/24`,
      "--mtu",
      String(mtu),
      "--serve",
      "discard",
    ], {
      services: SERVICES,
      handleSignals: false,
      signal: stop.signal,
      print: () => {},
      printError: (l) => err.push(l),
      onReady: async (stack) => {
        try {
          result = await fn(stack, netns);
        } catch (e) {
          failure = e;
        } finally {
          stop.abort();
        }
      },
    });
    if (failure !== undefined) throw failure;
    if (code !== 0) throw new Error(`up failed (${code}): ${err.join("\n")}`);
  } finally {
    await deleteNetns(netns);
  }
  return result as T;
}

/** Linux `nc` → the host's discard service. */
async function linuxToHost(stack: Stack, netns: string, bytes: number): Promise<Transfer> {
  const before = stack.counters.value("discard.bytes");
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const r = await netnsExec(netns, [
    "sh",
    "-c",
    `head -c ${bytes} /dev/zero | nc -N -w 10 ${HOST} 9`,
  ], 600);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuNow() - cpu0;
  if (r.code !== 0) throw new Error(`nc failed (${r.code}): ${r.stderr}`);
  // nc exits once the service closed, i.e. after it read everything.
  for (let i = 0; i < 250 && stack.counters.value("discard.bytes") - before < bytes; i++) {
    await new Promise((res) => setTimeout(res, 20));
  }
  const got = stack.counters.value("discard.bytes") - before;
  if (got !== bytes) throw new Error(`discard counted ${got} of ${bytes} bytes`);
  return { bytes, seconds, cpuSeconds };
}

/** The host → Linux `socat` writing to /dev/null. */
async function hostToLinux(stack: Stack, netns: string, bytes: number): Promise<Transfer> {
  const server = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      netns,
      "timeout",
      "600",
      "socat",
      "-u",
      `TCP-LISTEN:5001,bind=${LINUX},reuseaddr,rcvbuf=4194304`,
      "OPEN:/dev/null",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    let conn;
    for (let i = 0;; i++) {
      try {
        conn = await stack.connect({ hostname: LINUX, port: 5001 });
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.ConnectionRefused) || i > 100) throw e;
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    const chunk = new Uint8Array(256 * 1024);
    const cpu0 = cpuNow();
    const t0 = performance.now();
    for (let sent = 0; sent < bytes;) {
      sent += await conn.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
    }
    await conn.closeWrite();
    // socat closes after reading everything: our end of stream.
    while ((await conn.read(new Uint8Array(1))) !== null) { /* none expected */ }
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpuNow() - cpu0;
    conn.close();
    return { bytes, seconds, cpuSeconds };
  } finally {
    const status = await server.status;
    if (!status.success) {
      const text = new TextDecoder().decode(await new Response(server.stderr).arrayBuffer());
      // deno-lint-ignore no-console
      console.error(`socat exited with ${status.code}: ${text}`);
    } else await server.stderr.cancel();
  }
}

async function report(mib: number): Promise<void> {
  const bytes = mib * MIB;
  // deno-lint-ignore no-console
  const log = console.log;
  log(
    `TCP over TUN, ${mib} MiB each way (Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs)`,
  );
  for (const mtu of [1500, 65535]) {
    try {
      await withHost(mtu, async (stack, netns) => {
        const up = await linuxToHost(stack, netns, bytes);
        const down = await hostToLinux(stack, netns, bytes);
        const perGiB = (t: Transfer) => (t.cpuSeconds / (t.bytes / (1024 * MIB))).toFixed(2);
        log(
          `  MTU ${mtu}: Linux nc → host discard ${gbps(up)} Gbit/s ` +
            `(${up.seconds.toFixed(2)} s, this process ${perGiB(up)} CPU-s/GiB); ` +
            `host → Linux socat ${gbps(down)} Gbit/s ` +
            `(${down.seconds.toFixed(2)} s, ${perGiB(down)} CPU-s/GiB)`,
        );
      });
    } catch (e) {
      log(`  MTU ${mtu}: failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

const why = canRun();

if (import.meta.main) {
  if (why !== undefined) {
    // deno-lint-ignore no-console
    console.log(`bench/tun_tcp_bench.ts: skipped: ${why}`);
  } else {
    const mib = Number(Deno.args[0] ?? 1024);
    await report(Number.isFinite(mib) && mib > 0 ? mib : 1024);
  }
} else {
  Deno.bench({
    name: "TCP over TUN: 64 MiB from Linux nc into the discard service, MTU 1500",
    ignore: why !== undefined,
    n: 3,
    warmup: 0,
    async fn(b) {
      await withHost(1500, async (stack, netns) => {
        b.start();
        await linuxToHost(stack, netns, 64 * MIB);
        b.end();
      });
    },
  });
}

/**
 * TCP bulk throughput between Linux and the virtual host over a TUN device
 * (`cli.ts up --driver tun --serve discard`, inside a private network
 * namespace; needs root, `/dev/net/tun`, iproute2, OpenBSD `nc`, `socat`).
 *
 * - `deno run -A bench/tun_tcp_bench.ts [MiB] [case…]` prints a report
 *   (default 1024 MiB each way) for the cases named (default all):
 *   `offload` (MTU 1500 with the virtio-net header and TSO both ways: the
 *   default of `up`), `offload-4m` (the same with 4 MiB TCP buffers, given
 *   through `--manifest`), `no-offload` (MTU 1500, `--no-offload`), `jumbo`
 *   (MTU 65535, no offloads):
 *   - Linux → host: a Python client on a kernel socket (256 KiB `sendall`s,
 *     so the client is not the bottleneck: `nc` caps near 3 Gbit/s) into
 *     the discard service, timed until the service has closed (it closes
 *     once it has read everything), checked against `discard.bytes`;
 *   - host → Linux: the host connects to a Python server that reads with
 *     256 KiB `recv_into`s and counts, and writes N bytes in 256 KiB
 *     writes, timed until the server has closed; the server's count checked;
 *   - with the CPU time of this process (user + system) per GiB, the
 *     client's CPU time, and the driver's super-segment counters.
 * - `deno bench -A bench/tun_tcp_bench.ts` runs a 64 MiB Linux → host
 *   transfer as a `Deno.bench` case (skipped when not root).
 *
 * @module
 */
import type { Stack } from "../mod.ts";
import { canRunTunHost, cpuNow, HOST, LINUX, withTunHost } from "./_tun_host.ts";
import { DEFAULT_PLUGINS } from "../stack/protocols/mod.ts";
import { type IoStats, TunDevice } from "../drivers/tun/mod.ts";
import {
  kernelPeerListening,
  kernelPeerReport,
  startKernelPeer,
} from "../tests/interop/_kernel_peer.ts";

const MIB = 1024 * 1024;

/** One measured transfer. */
interface Transfer {
  readonly bytes: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** CPU seconds of the Linux peer (the Python client or server). */
  readonly peerCpu: number;
}

function gbps(t: Transfer): string {
  return (t.bytes * 8 / t.seconds / 1e9).toFixed(2);
}

/** Runs `fn` with `up --driver tun --serve discard --mtu mtu` in a fresh namespace. */
async function withHost<T>(
  mtu: number,
  offload: boolean,
  fn: (stack: Stack, netns: string) => Promise<T>,
  tcpBuffer = 0,
): Promise<T> {
  // Larger TCP buffers (both ways) through a manifest: the default plugins, tcp with options.
  let manifest: string | undefined;
  if (tcpBuffer > 0) {
    manifest = await Deno.makeTempFile({ suffix: ".json" });
    const plugins = DEFAULT_PLUGINS.map((p) =>
      p.manifest.name === "tcp"
        ? { use: "tcp", options: { receiveBuffer: tcpBuffer, sendBuffer: tcpBuffer } }
        : p.manifest.name
    );
    await Deno.writeTextFile(manifest, JSON.stringify({ plugins }));
  }
  try {
    return await withTunHost("tcpb", mtu, [
      "--serve",
      "discard",
      ...(offload ? [] : ["--no-offload"]),
      ...(manifest !== undefined ? ["--manifest", manifest] : []),
    ], fn);
  } finally {
    if (manifest !== undefined) await Deno.remove(manifest);
  }
}

/** Linux kernel socket → the host's discard service. */
async function linuxToHost(stack: Stack, netns: string, bytes: number): Promise<Transfer> {
  const before = stack.counters.value("discard.bytes");
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const client = startKernelPeer(netns, ["send", HOST, "9", String(bytes)], 600);
  const r = await kernelPeerReport(client);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuNow() - cpu0;
  const got = stack.counters.value("discard.bytes") - before;
  if (got !== bytes) throw new Error(`discard counted ${got} of ${bytes} bytes`);
  return { bytes, seconds, cpuSeconds, peerCpu: r.cpu };
}

/** The host → a Linux kernel-socket server that counts what it reads. */
async function hostToLinux(stack: Stack, netns: string, bytes: number): Promise<Transfer> {
  const server = startKernelPeer(netns, ["recv", LINUX, "5001"], 600);
  await kernelPeerListening(server);
  const conn = await stack.connect({ hostname: LINUX, port: 5001 });
  const chunk = new Uint8Array(256 * 1024);
  const cpu0 = cpuNow();
  const t0 = performance.now();
  for (let sent = 0; sent < bytes;) {
    sent += await conn.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
  }
  await conn.closeWrite();
  // The server closes after reading everything: our end of stream.
  while ((await conn.read(new Uint8Array(1))) !== null) { /* none expected */ }
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuNow() - cpu0;
  conn.close();
  const r = await kernelPeerReport(server);
  if (r.bytes !== bytes) throw new Error(`the Linux server read ${r.bytes} of ${bytes} bytes`);
  return { bytes, seconds, cpuSeconds, peerCpu: r.cpu };
}

/** The TUN driver's counters (super-segments in and out). */
function tunStats(stack: Stack): Readonly<IoStats> | undefined {
  for (const i of stack.interfaces.list()) {
    if (i.driver instanceof TunDevice) return i.driver.stats;
  }
  return undefined;
}

/** The cases: name → MTU, offloads, TCP buffer bytes (0: the default 256 KiB). */
const CASES: Readonly<Record<string, readonly [number, boolean, number]>> = {
  offload: [1500, true, 0],
  "offload-4m": [1500, true, 4 * MIB],
  "no-offload": [1500, false, 0],
  jumbo: [65535, false, 0],
};

async function report(mib: number, names: readonly string[]): Promise<void> {
  const bytes = mib * MIB;
  // deno-lint-ignore no-console
  const log = console.log;
  log(
    `TCP over TUN, ${mib} MiB each way (Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs)`,
  );
  const cases = names.map((n) => {
    const c = CASES[n];
    if (c === undefined) throw new Error(`unknown case "${n}" (${Object.keys(CASES).join(", ")})`);
    return c;
  });
  for (const [mtu, offload, tcpBuffer] of cases) {
    const label = `MTU ${mtu} ${offload ? "offload" : "no offload"}` +
      (tcpBuffer > 0 ? `, TCP buffers ${tcpBuffer / MIB} MiB` : "");
    try {
      await withHost(mtu, offload, async (stack, netns) => {
        const up = await linuxToHost(stack, netns, bytes);
        const rx = tunStats(stack);
        const rxGso = rx?.rxGso ?? 0, rxPackets = rx?.rxPackets ?? 0;
        const down = await hostToLinux(stack, netns, bytes);
        const tx = tunStats(stack);
        const perGiB = (t: Transfer) => (t.cpuSeconds / (t.bytes / (1024 * MIB))).toFixed(2);
        const peerPerGiB = (t: Transfer) => (t.peerCpu / (t.bytes / (1024 * MIB))).toFixed(2);
        log(
          `  ${label}: Linux → host ${gbps(up)} Gbit/s ` +
            `(${up.seconds.toFixed(2)} s, this process ${perGiB(up)} CPU-s/GiB, ` +
            `client ${peerPerGiB(up)}; ${rxPackets} frames in, ${rxGso} super-segments); ` +
            `host → Linux ${gbps(down)} Gbit/s ` +
            `(${down.seconds.toFixed(2)} s, ${perGiB(down)} CPU-s/GiB, server ` +
            `${peerPerGiB(down)}; ${tx?.txPackets ?? 0} frames out, ${
              tx?.txGso ?? 0
            } super-segments)`,
        );
      }, tcpBuffer);
    } catch (e) {
      log(`  ${label}: failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

const why = canRunTunHost();

if (import.meta.main) {
  if (why !== undefined) {
    // deno-lint-ignore no-console
    console.log(`bench/tun_tcp_bench.ts: skipped: ${why}`);
  } else {
    const mib = Number(Deno.args[0] ?? 1024);
    const names = Deno.args.slice(1);
    await report(
      Number.isFinite(mib) && mib > 0 ? mib : 1024,
      names.length > 0 ? names : Object.keys(CASES),
    );
  }
} else {
  Deno.bench({
    name: "TCP over TUN: 64 MiB from a Linux socket into the discard service, MTU 1500, offloads",
    ignore: why !== undefined,
    n: 3,
    warmup: 0,
    async fn(b) {
      await withHost(1500, true, async (stack, netns) => {
        b.start();
        await linuxToHost(stack, netns, 64 * MIB);
        b.end();
      });
    },
  });
}

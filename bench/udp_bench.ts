/**
 * UDP echo between two stacks in memory (VirtualNetwork, one point-to-point
 * link, no delay), two ways, with a window of datagrams in flight:
 *
 * - through the public API, as a user writes it: `listenDatagram()`, the
 *   server a `for await` loop answering with `send(data, from)`, the client
 *   `send`/`receive(buffer)`, every call awaited, inside `net.run`;
 * - through the internal `udp.sockets` service, driven synchronously: the
 *   sockets call `onReadable` from the receive path, the server echoes at
 *   once and the client sends the next datagram, all inside
 *   `net.runUntilIdle()`: no promise per datagram (the floor for the API).
 *
 * - `deno run --allow-all bench/udp_bench.ts`: datagrams/s and Gbit/s for
 *   64- and 1400-byte payloads, both ways warm, in `UDP_BENCH_RUNS`
 *   (default 5) interleaved runs: medians, ranges, and the API's time over
 *   the internal service's (issue 13: within 1.3×).
 * - `UDP_BENCH_MODE=segment deno run --allow-all bench/udp_bench.ts`: the
 *   send rate of 1400-byte datagrams through `listenDatagram()` with
 *   `segmentSize` (40 per send, one super-datagram each, cut right before
 *   the link) against one send per datagram; medians and ranges.
 * - `UDP_BENCH_MODE=segment-tun` (root): the same over a TUN device with USO
 *   to a Linux socket in a fresh namespace: send rate and CPU per datagram.
 * - `deno bench --allow-all bench/udp_bench.ts`: time per batch of echoes.
 *
 * A datagram counted is one UDP datagram carried one way (an echo round trip
 * is two); Gbit/s counts UDP payload bytes only.
 */
import { median } from "./_stats.ts";
import {
  type ArpService,
  createStack,
  IpAddress,
  type Stack,
  type UdpService,
  type UdpSocket,
  VirtualNetwork,
} from "../mod.ts";
import process from "node:process";

const A = 0x0a000001;
const B = 0x0a000002;
const TO_B = IpAddress.v4(B);

interface Echo {
  readonly net: VirtualNetwork;
  readonly a: Stack;
  readonly b: Stack;
  readonly client: UdpSocket;
  /** Runs `roundTrips` echoes of `payload` bytes with `window` in flight; returns echoes seen. */
  run(roundTrips: number, payload: number, window: number): number;
  close(): void;
}

function open(stack: Stack, port: number): UdpSocket {
  const s = stack.service<UdpService>("udp.sockets")!.open({
    port,
    receiveQueueLimit: 4096,
    receiveQueueBytes: 64 << 20,
  });
  if (typeof s === "string") throw new Error(`Cannot open a UDP socket: ${s}`);
  return s;
}

/**
 * Stacks a (10.0.0.1) and b (10.0.0.2) on one link, each with the other as
 * a static neighbour: runUntilIdle() jumps over ARP's timers between runs,
 * and a re-resolution would queue (and drop past 16) a window of datagrams.
 * Their start-up (SLAAC's link-local addresses, DAD, Router Solicitations,
 * MLD reports) runs to its end first: left to the end of the warm-up's
 * runUntilIdle(), that IPv6 traffic deoptimized the shared receive and
 * transmit code just before the measured run (issue 9: 35.9 k instructions
 * per round trip under cachegrind, 29.1 k once start-up is over).
 */
function pair(): { net: VirtualNetwork; a: Stack; b: Stack } {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link();
  const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
  const ia = a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
  const ib = b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  a.service<ArpService>("arp.resolve")!.addStatic(ia.index, B, ib.mac!);
  b.service<ArpService>("arp.resolve")!.addStatic(ib.index, A, ia.mac!);
  net.runUntilIdle();
  return { net, a, b };
}

function setup(): Echo {
  const { net, a, b } = pair();
  const server = open(b, 7);
  const client = open(a, 40000);
  const sbuf = new Uint8Array(65536);
  server.onReadable = () => {
    for (let n = server.recv(sbuf); n >= 0; n = server.recv(sbuf)) {
      server.send(sbuf.subarray(0, n), server.peerAddress, server.peerPort);
    }
  };
  const cbuf = new Uint8Array(65536);
  let data = new Uint8Array(0);
  let toSend = 0;
  let seen = 0;
  client.onReadable = () => {
    while (client.recv(cbuf) >= 0) {
      seen++;
      if (toSend > 0) {
        toSend--;
        client.send(data, TO_B, 7);
      }
    }
  };
  return {
    net,
    a,
    b,
    client,
    run(roundTrips: number, payload: number, window: number): number {
      if (data.length !== payload) data = new Uint8Array(payload).fill(0x5a);
      seen = 0;
      const first = Math.min(window, roundTrips);
      toSend = roundTrips - first;
      for (let i = 0; i < first; i++) client.send(data, TO_B, 7);
      net.runUntilIdle();
      return seen;
    },
    close() {
      a.close();
      b.close();
      net.close();
    },
  };
}

const BATCH = 1024;
const WINDOW = 64;

/**
 * The public API's echo: the server a `for await` loop over
 * `listenDatagram()` that answers each datagram with `send(data, from)`,
 * the client `send`/`receive(buffer)` with `WINDOW` in flight, every call
 * awaited, inside `net.run` (which steps the network and lets the promises
 * run between steps).
 */
interface ApiEcho {
  /** Runs `roundTrips` echoes of `payload` bytes; returns echoes seen. */
  run(roundTrips: number, payload: number): Promise<number>;
  close(): Promise<void>;
}

function apiSetup(): ApiEcho {
  const { net, a, b } = pair();
  const server = b.listenDatagram({ transport: "udp", port: 7, receiveQueueLimit: 4096 });
  const client = a.listenDatagram({ transport: "udp", receiveQueueLimit: 4096 });
  // Outside any net.run: it runs whenever a run's steps deliver to it.
  const echo = (async () => {
    for await (const [d, from] of server) await server.send(d, from);
  })();
  const to = { hostname: "10.0.0.2", port: 7 };
  let data = new Uint8Array(0);
  return {
    run(roundTrips: number, payload: number): Promise<number> {
      if (data.length !== payload) data = new Uint8Array(payload).fill(0x5a);
      return net.run(async () => {
        const first = Math.min(WINDOW, roundTrips);
        for (let i = 0; i < first; i++) await client.send(data, to);
        let seen = 0;
        for (let i = 0; i < roundTrips; i++) {
          await client.receive(data);
          seen++;
          if (i + WINDOW < roundTrips) await client.send(data, to);
        }
        return seen;
      });
    },
    async close() {
      server.close(); // ends the for await loop
      await echo;
      client.close();
      a.close();
      b.close();
      net.close();
    },
  };
}

function rate(datagrams: number, payload: number, secs: number): string {
  const dps = datagrams / secs;
  const gbps = dps * payload * 8 / 1e9;
  return `${(dps / 1e3).toFixed(0).padStart(6)} k datagrams/s  ${
    gbps.toFixed(2).padStart(6)
  } Gbit/s` +
    `  (${(secs * 1e6 / datagrams).toFixed(2)} µs per datagram)`;
}

function summary(name: string, dps: readonly number[]): string {
  const k = (x: number) => (x / 1e3).toFixed(0);
  return `${name}: median ${k(median(dps))} k datagrams/s (${k(Math.min(...dps))}–${
    k(Math.max(...dps))
  })`;
}

/**
 * Issue 13's comparison: the public API (`listenDatagram()`) against the
 * internal `udp.sockets` service, both warm (20,000 round trips first),
 * the same number of round trips, in `UDP_BENCH_RUNS` (default 5)
 * interleaved runs; medians, ranges and the median of the per-run ratios.
 */
async function report(): Promise<void> {
  const runs = Number(Deno.env.get("UDP_BENCH_RUNS") ?? "5");
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError("UDP_BENCH_RUNS: a whole number ≥ 1");
  }
  const line = (t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));
  const sync = setup();
  const api = apiSetup();
  try {
    for (const payload of [64, 1400]) {
      const trips = payload === 64 ? 200_000 : 100_000;
      sync.run(20_000, payload, WINDOW); // warm up
      await api.run(20_000, payload);
      const internal: number[] = [], public_: number[] = [], ratios: number[] = [];
      for (let r = 0; r < runs; r++) {
        let t0 = performance.now();
        const got = sync.run(trips, payload, WINDOW);
        const syncSecs = (performance.now() - t0) / 1000;
        if (got !== trips) throw new Error(`echoed ${got} of ${trips}`);
        t0 = performance.now();
        const apiGot = await api.run(trips, payload);
        const apiSecs = (performance.now() - t0) / 1000;
        if (apiGot !== trips) throw new Error(`echoed ${apiGot} of ${trips} through the API`);
        internal.push(2 * trips / syncSecs);
        public_.push(2 * trips / apiSecs);
        ratios.push(apiSecs / syncSecs);
        line(
          `run ${r + 1} ${String(payload).padStart(4)} B: internal ${
            rate(2 * trips, payload, syncSecs)
          }; listenDatagram() ${rate(2 * trips, payload, apiSecs)}`,
        );
      }
      line(
        `udp echo ${payload} B, ${runs} interleaved runs of ${trips} round trips, window ${WINDOW}: ${
          summary("listenDatagram()", public_)
        }; ${summary("internal udp.sockets", internal)}; API time / internal time: median ${
          median(ratios).toFixed(2)
        } (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
      );
    }
  } finally {
    sync.close();
    await api.close();
  }
}

/** This process's CPU time (user + system), seconds. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * A one-way sender through the public API (`listenDatagram()`, each `send`
 * awaited inside `net.run`) to a receiver that drains synchronously
 * (`udp.sockets`, `onReadable`): the send path's cost per datagram, with
 * `segmentSize` (one send of `perSend` datagrams, one super-datagram cut
 * right before the link) or without (one send per datagram).
 */
interface Sender {
  /** Sends `datagrams` datagrams of `payload` bytes, `perSend` per call; returns datagrams received. */
  run(datagrams: number, payload: number, perSend: number): Promise<number>;
  close(): void;
}

function senderSetup(segmentSize: number): Sender {
  const { net, a, b } = pair();
  const sink = open(b, 7);
  const buf = new Uint8Array(65536);
  let got = 0;
  sink.onReadable = () => {
    while (sink.recv(buf) >= 0) got++;
  };
  const client = a.listenDatagram({
    transport: "udp",
    ...(segmentSize > 0 ? { segmentSize } : {}),
  });
  const to = { hostname: "10.0.0.2", port: 7 };
  let data = new Uint8Array(0);
  return {
    async run(datagrams: number, payload: number, perSend: number): Promise<number> {
      if (data.length !== payload * perSend) data = new Uint8Array(payload * perSend).fill(0x5a);
      got = 0;
      await net.run(async () => {
        for (let sent = 0; sent < datagrams;) {
          await client.send(data, to);
          sent += perSend;
          // The link carries every 40 datagrams before the next (no queue
          // overflow): as often with and without segmentSize.
          if (sent % 40 === 0) net.runUntilIdle();
        }
        net.runUntilIdle();
      });
      return got;
    },
    close() {
      client.close();
      a.close();
      b.close();
      net.close();
    },
  };
}

/**
 * Send rate with and without `segmentSize` (UDP_BENCH_MODE=segment): 1400-byte
 * datagrams, 40 per send with segmentSize 1400 against one per send, warm,
 * in `UDP_BENCH_RUNS` (default 5) interleaved runs; medians and ranges.
 */
async function segmentReport(): Promise<void> {
  const runs = Number(Deno.env.get("UDP_BENCH_RUNS") ?? "5");
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError("UDP_BENCH_RUNS: a whole number ≥ 1");
  }
  const line = (t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));
  const payload = 1400, perSend = 40, datagrams = 200_000;
  const plain = senderSetup(0);
  const gso = senderSetup(payload);
  try {
    await plain.run(20_000, payload, 1); // warm up
    await gso.run(20_000, payload, perSend);
    const one: number[] = [], many: number[] = [], ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let r = 0; r < runs; r++) {
      let c0 = cpuSeconds(), t0 = performance.now();
      let got = await plain.run(datagrams, payload, 1);
      const plainSecs = (performance.now() - t0) / 1000, plainCpu = cpuSeconds() - c0;
      if (got !== datagrams) throw new Error(`received ${got} of ${datagrams}`);
      c0 = cpuSeconds(), t0 = performance.now();
      got = await gso.run(datagrams, payload, perSend);
      const gsoSecs = (performance.now() - t0) / 1000, gsoCpu = cpuSeconds() - c0;
      if (got !== datagrams) throw new Error(`received ${got} of ${datagrams} (segmentSize)`);
      one.push(datagrams / plainSecs);
      many.push(datagrams / gsoSecs);
      ratios.push(plainSecs / gsoSecs);
      cpuRatios.push(plainCpu / gsoCpu);
      line(
        `run ${r + 1}: one send per datagram ${rate(datagrams, payload, plainSecs)}; ` +
          `segmentSize ${payload}, ${perSend} per send ${rate(datagrams, payload, gsoSecs)}`,
      );
    }
    line(
      `udp send ${payload} B through listenDatagram(), ${runs} interleaved runs of ${datagrams} datagrams: ${
        summary(`segmentSize ${payload} (${perSend} per send)`, many)
      }; ${summary("one send per datagram", one)}; speed-up: median ${median(ratios).toFixed(2)} (${
        Math.min(...ratios).toFixed(2)
      }–${Math.max(...ratios).toFixed(2)}); in CPU time ${median(cpuRatios).toFixed(2)} (${
        Math.min(...cpuRatios).toFixed(2)
      }–${Math.max(...cpuRatios).toFixed(2)})`,
    );
  } finally {
    plain.close();
    gso.close();
  }
}

/** Counts datagrams to 10.0.0.1:5005 until one of 1 byte (the end), prints the count. */
const COUNTER = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 128 << 20)  # SO_RCVBUFFORCE (root): above rmem_max
s.bind(("10.0.0.1", 5005))
s.settimeout(20)
print("ready", flush=True)
n = 0
try:
    while True:
        if len(s.recv(65536)) == 1:
            break
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
`;

/**
 * The same comparison over a TUN device with USO (UDP_BENCH_MODE=segment-tun;
 * root): `up --driver tun` in a fresh namespace, the stack sending to a
 * Python counter on a kernel socket. With segmentSize each send is one
 * write (virtio-net GSO_UDP_L4) that Linux cuts; without, one write per
 * datagram with its checksum summed here. Reports the send rate (wall),
 * this process's CPU time per datagram, and how many Linux's socket got
 * (a busy machine's Python reader drops some; the sender's cost is the
 * figure).
 */
async function segmentTunReport(): Promise<void> {
  const { canRunTunHost, cpuNow, withTunHost } = await import("./_tun_host.ts");
  const why = canRunTunHost();
  if (why !== undefined) throw new Error(`Cannot run the TUN benchmark: ${why}`);
  const runs = Number(Deno.env.get("UDP_BENCH_RUNS") ?? "5");
  const line = (t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));
  const payload = 1400, perSend = 40, datagrams = 40_000;
  await withTunHost("udpb", 1500, [], async (stack, netns) => {
    const one: number[] = [], many: number[] = [], cpuOne: number[] = [], cpuMany: number[] = [];
    const to = { hostname: "10.0.0.1", port: 5005 };
    const round = async (segmentSize: number): Promise<[number, number, number]> => {
      const child = new Deno.Command("ip", {
        args: ["netns", "exec", netns, "timeout", "60", "python3", "-c", COUNTER],
        stdout: "piped",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!out.includes("ready\n")) {
        const r = await reader.read();
        if (r.done) throw new Error("the counter did not start");
        out += r.value;
      }
      const conn = stack.listenDatagram({
        transport: "udp",
        ...(segmentSize > 0 ? { segmentSize } : {}),
      });
      const data = new Uint8Array(segmentSize > 0 ? payload * perSend : payload).fill(0x5a);
      const step = segmentSize > 0 ? perSend : 1;
      const c0 = cpuNow(), t0 = performance.now();
      for (let sent = 0; sent < datagrams; sent += step) await conn.send(data, to);
      const secs = (performance.now() - t0) / 1000, cpu = cpuNow() - c0;
      await new Promise((r) => setTimeout(r, 200));
      conn.close();
      const end = stack.listenDatagram({ transport: "udp" });
      await end.send(new Uint8Array(1), to);
      end.close();
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        out += r.value;
      }
      await child.status;
      return [secs, cpu, Number(out.slice(out.indexOf("ready\n") + 6).trim())];
    };
    await round(0); // warm up
    await round(payload);
    for (let r = 0; r < runs; r++) {
      const [s1, c1, g1] = await round(0);
      const [s2, c2, g2] = await round(payload);
      one.push(datagrams / s1);
      many.push(datagrams / s2);
      cpuOne.push(c1 * 1e6 / datagrams);
      cpuMany.push(c2 * 1e6 / datagrams);
      line(
        `run ${r + 1}: one send per datagram ${rate(datagrams, payload, s1)}, ${
          (c1 * 1e6 / datagrams).toFixed(2)
        } µs CPU each, Linux got ${g1}; segmentSize ${payload} ${rate(datagrams, payload, s2)}, ${
          (c2 * 1e6 / datagrams).toFixed(2)
        } µs CPU each, Linux got ${g2}`,
      );
    }
    const us = (xs: number[]) =>
      `${median(xs).toFixed(2)} µs (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    line(
      `udp send ${payload} B over TUN with USO, ${runs} interleaved runs of ${datagrams} datagrams: ${
        summary(`segmentSize ${payload} (${perSend} per send)`, many)
      }, CPU per datagram ${us(cpuMany)}; ${
        summary("one send per datagram", one)
      }, CPU per datagram ${us(cpuOne)}`,
    );
  });
}

if (import.meta.main) {
  const mode = Deno.env.get("UDP_BENCH_MODE");
  if (mode === "segment") await segmentReport();
  else if (mode === "segment-tun") await segmentTunReport();
  else await report();
} else {
  const e = setup();
  const api = apiSetup();
  globalThis.addEventListener("unload", () => e.close());
  for (const payload of [64, 1400]) {
    Deno.bench({
      name: `udp echo ${payload} B, ${BATCH} round trips (${
        2 * BATCH
      } datagrams), window ${WINDOW}`,
      group: "udp echo",
      baseline: payload === 64,
      fn() {
        const got = e.run(BATCH, payload, WINDOW);
        if (got !== BATCH) throw new Error(`echoed ${got} of ${BATCH}`);
      },
    });
  }
  for (const payload of [64, 1400]) {
    Deno.bench({
      name: `listenDatagram() echo ${payload} B, ${BATCH} round trips, window ${WINDOW}`,
      group: "udp echo",
      async fn() {
        const got = await api.run(BATCH, payload);
        if (got !== BATCH) throw new Error(`echoed ${got} of ${BATCH}`);
      },
    });
  }
}

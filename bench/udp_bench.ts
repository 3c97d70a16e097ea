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
 * - `deno bench --allow-all bench/udp_bench.ts`: time per batch of echoes.
 *
 * A datagram counted is one UDP datagram carried one way (an echo round trip
 * is two); Gbit/s counts UDP payload bytes only.
 */
import {
  type ArpService,
  createStack,
  IpAddress,
  type Stack,
  type UdpService,
  type UdpSocket,
  VirtualNetwork,
} from "../mod.ts";

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

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
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

if (import.meta.main) {
  await report();
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

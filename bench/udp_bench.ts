/**
 * UDP echo between two stacks in memory (VirtualNetwork, one point-to-point
 * link, no delay), driven synchronously: the sockets of the `udp.sockets`
 * service call `onReadable` from the receive path, the server echoes at
 * once and the client sends the next datagram, all inside
 * `net.runUntilIdle()`: no promise per datagram. A window of datagrams is
 * kept in flight.
 *
 * - `deno bench --allow-all bench/udp_bench.ts`: time per batch of echoes.
 * - `deno run --allow-all bench/udp_bench.ts`: datagrams/s and Gbit/s for
 *   64- and 1400-byte payloads (and the promise API for comparison: cold,
 *   20,000 round trips as in 1ef23ca's rows, and warm, as many round trips
 *   as the sync echo after a warm-up, which is the figure to compare with it).
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
 * The promise API: `DatagramConn.send`/`receive` per datagram inside `net.run`.
 * No warm-up of its own, so the figure includes the promise path's JIT
 * tier-up (kept so that it compares with 1ef23ca's rows); `bench/instructions.ts
 * udpapi64` counts it warm.
 */
async function promiseEcho(roundTrips: number, payload: number): Promise<number> {
  const { net, a, b } = pair();
  const server = b.listenDatagram({ transport: "udp", port: 7, receiveQueueLimit: 4096 });
  const client = a.listenDatagram({ transport: "udp", receiveQueueLimit: 4096 });
  const data = new Uint8Array(payload).fill(0x5a);
  const to = { hostname: "10.0.0.2", port: 7 };
  const t0 = performance.now();
  await net.run(async () => {
    const echo = (async () => {
      for await (const [d, from] of server) await server.send(d, from);
    })();
    for (let i = 0; i < WINDOW; i++) await client.send(data, to);
    for (let i = 0; i < roundTrips; i++) {
      await client.receive(data);
      if (i + WINDOW < roundTrips) await client.send(data, to);
    }
    server.close();
    await echo;
  });
  const secs = (performance.now() - t0) / 1000;
  client.close();
  a.close();
  b.close();
  net.close();
  return secs;
}

function rate(datagrams: number, payload: number, secs: number): string {
  const dps = datagrams / secs;
  const gbps = dps * payload * 8 / 1e9;
  return `${(dps / 1e3).toFixed(0).padStart(6)} k datagrams/s  ${
    gbps.toFixed(2).padStart(6)
  } Gbit/s` +
    `  (${(secs * 1e6 / datagrams).toFixed(2)} µs per datagram)`;
}

function report(): Promise<void> {
  const e = setup();
  const line = (t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t + "\n"));
  try {
    for (const payload of [64, 1400]) {
      e.run(20_000, payload, WINDOW); // warm up
      const trips = payload === 64 ? 200_000 : 100_000;
      const t0 = performance.now();
      const got = e.run(trips, payload, WINDOW);
      const secs = (performance.now() - t0) / 1000;
      if (got !== trips) throw new Error(`echoed ${got} of ${trips}`);
      line(
        `sync echo ${String(payload).padStart(4)} B, window ${WINDOW}: ${
          rate(2 * trips, payload, secs)
        }`,
      );
    }
  } finally {
    e.close();
  }
  return (async () => {
    for (const payload of [64, 1400]) {
      const trips = 20_000;
      const secs = await promiseEcho(trips, payload);
      line(`promise API echo ${String(payload).padStart(4)} B:  ${rate(2 * trips, payload, secs)}`);
    }
    // Issue 13 compares the API with the sync echo: both warm, the same
    // number of round trips (the rows above include the API's JIT tier-up).
    for (const payload of [64, 1400]) {
      await promiseEcho(20_000, payload); // warm up
      const trips = payload === 64 ? 200_000 : 100_000;
      const secs = await promiseEcho(trips, payload);
      line(
        `promise API echo ${String(payload).padStart(4)} B, warm: ${
          rate(2 * trips, payload, secs)
        }`,
      );
    }
  })();
}

if (import.meta.main) {
  await report();
} else {
  const e = setup();
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
}

/**
 * A fixed amount of packet-path work for instruction counting, so that
 * commits can be compared without wall-clock noise (a shared machine moves
 * `deno bench` figures by ±5% or more). Run it under cachegrind at two
 * sizes and divide the difference, so start-up and warm-up cancel out:
 *
 * ```sh
 * run() { valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
 *   deno run -A --no-check --no-code-cache \
 *   --v8-flags=--predictable,--random-seed=1,--hash-seed=1 bench/instructions.ts "$@"; }
 * run request 50000; run request 100000   # (I refs difference) / 50000 = per frame
 * ```
 *
 * Modes (each after a fixed warm-up; TCP bulk warms up with 48 MiB so that
 * the hot functions reach TurboFan before counting):
 *
 * - `reply N`, `request N`: N Ethernet/IPv4/ICMP echo replies (parsed and
 *   dispatched) or requests (also answered) given to the kernel, as in
 *   `dispatch_bench.ts`;
 * - `udp64 N`, `udp1400 N`: N UDP echo round trips, as in `udp_bench.ts`;
 * - `udp8000 N`: N UDP echo round trips of 8,000-byte datagrams at MTU 9000
 *   (each in a large buffer, above the pooled small size);
 * - `udpdelay64 N`, `udpdelay1400 N`, `udpdelay8000 N`: the same over a link
 *   of 1 ms delay (64 round trips in flight): every frame is kept past the
 *   instant it was sent (`drivers/loopback/_lane.ts`);
 * - `udpapi64 N`, `udpapi1400 N`: N UDP echo round trips through the promise
 *   API (`DatagramConn.send`/`receive`, `for await` on the server), as the
 *   bench's "promise API echo" rows;
 * - `ping N`, `pingapi N`: N ping round trips between two stacks in memory,
 *   through the `icmp.echo` service or through `Stack.ping()` (a promise per
 *   ping, awaited), each driven by one `net.step()` as in `dispatch_bench.ts`;
 * - `tcp1500 N`, `tcp65535 N`: N MiB of TCP bulk, as in `tcp_bench.ts`;
 * - `tcp9000 N`: N MiB of TCP bulk at MTU 9000 (jumbo segments: the send
 *   queue's chunks are medium buffers);
 * - `tcp1500v6 N`, `tcp65535v6 N`: the same over IPv6 (fd00::1 → fd00::2,
 *   static NDP entries), to compare per-MiB counts with IPv4's;
 * - `conns N`: N TCP connections opened and closed, after 1,500 (about 130
 *   hot functions are still compiled by TurboFan inside the counted part:
 *   this is the rate of a young process);
 * - `conns-steady N`: the same after 10,000 connections (and their TIME-WAIT
 *   records' expiry), when the JIT has finished: the rate of a process that
 *   has been serving for a while.
 *
 * A third argument names another checkout's root (a `git worktree` of an
 * older commit) to count that commit's code with the same driver: only API
 * present in both is used.
 *
 * The output line ends with the wall-clock time of the counted part (after
 * the warm-up) and its rate, which `bench/compare.ts` collects from
 * interleaved runs of two checkouts.
 *
 * @module
 */
const [mode = "request", nArg = "1000", rootArg] = Deno.args;
const N = Number(nArg);
const root = rootArg === undefined ? new URL("..", import.meta.url).href : `file://${rootArg}/`;
// deno-lint-ignore no-explicit-any
type Any = any;
const mod: Any = await import(`${root}mod.ts`);
const stackModule: Any = await import(`${root}stack/stack.ts`);
const MAC_A = [2, 0, 0, 0, 0, 1];
/** Wall-clock start of the counted part (set after each mode's warm-up). */
let countedFrom = 0;
/** This thread's CPU time (ms) at the start of the counted part. */
let countedCpuFrom = 0;

/**
 * The main thread's CPU time in ms (`/proc/thread-self/schedstat`; NaN where
 * there is none): on a loaded machine the wall clock also counts the time
 * the process waits for a core, which this does not.
 */
function threadCpuMs(): number {
  try {
    const text = Deno.readTextFileSync("/proc/thread-self/schedstat");
    return Number(text.slice(0, text.indexOf(" "))) / 1e6;
  } catch {
    return NaN;
  }
}

/** Marks the start of the counted part (after a mode's warm-up). */
function startCounting(): void {
  countedFrom = performance.now();
  countedCpuFrom = threadCpuMs();
}
const MAC_B = [2, 0, 0, 0, 0, 2];

/** An Ethernet/IPv4/ICMP frame from 10.0.0.2 to 10.0.0.1 of ICMP `type`. */
function icmpFrame(type: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + 56);
  f.set(MAC_A, 0);
  f.set(MAC_B, 6);
  f.set([0x08, 0x00], 12);
  const ip = f.subarray(14, 34);
  ip.set([0x45, 0, 0, 84, 0, 1, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
  const ck = mod.finishChecksum(mod.sumBytes(ip));
  ip[10] = ck >> 8;
  ip[11] = ck & 0xff;
  const icmp = f.subarray(34);
  icmp[0] = type;
  icmp.set([0, 0x12, 0x34, 0, 1], 3);
  for (let i = 8; i < icmp.length; i++) icmp[i] = i;
  const c2 = mod.finishChecksum(mod.sumBytes(icmp));
  icmp[2] = c2 >> 8;
  icmp[3] = c2 & 0xff;
  return f;
}

function frames(request: boolean): string {
  let sent = 0;
  const sink = {
    linkType: 1,
    mtu: 1500,
    mac: new Uint8Array(MAC_A),
    attach() {},
    transmit(p: Any) {
      sent++;
      p.release();
    },
    close() {},
  };
  const stack = mod.createStack({ seed: 1 });
  stack.addInterface({ name: "eth0", driver: sink, addresses: ["10.0.0.1/24"] });
  stack.service("arp.resolve").addStatic(0, 0x0a000002, new Uint8Array(MAC_B));
  const k = stackModule.kernelOf ? stackModule.kernelOf(stack) : stack;
  const f = icmpFrame(request ? 8 : 0);
  for (let i = 0; i < 20_000; i++) k.receive(0, stack.pool.copyOf(f));
  startCounting();
  for (let i = 0; i < N; i++) k.receive(0, stack.pool.copyOf(f));
  return `frames sent ${sent}`;
}

/** Two stacks on one virtual link (MTU `mtu`), 10.0.0.1 and 10.0.0.2, with static ARP entries both ways. */
function twoHosts(mtu = 1500, delay = 0): { net: Any; a: Any; b: Any } {
  const net = new mod.VirtualNetwork({ seed: 1 });
  const link = net.link(delay > 0 ? { mtu, faults: { delay } } : { mtu });
  const a = net.addNode(mod.createStack({ clock: net.clock, seed: 1 }));
  const b = net.addNode(mod.createStack({ clock: net.clock, seed: 2 }));
  const ia = a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
  const ib = b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  a.service("arp.resolve").addStatic(ia.index, 0x0a000002, ib.mac);
  b.service("arp.resolve").addStatic(ib.index, 0x0a000001, ia.mac);
  return { net, a, b };
}

function udp(payload: number, delay = 0): string {
  const { net, a, b } = twoHosts(payload > 1472 ? 9000 : 1500, delay);
  const open = (s: Any, port: number) =>
    s.service("udp.sockets").open({
      port,
      receiveQueueLimit: 4096,
      receiveQueueBytes: 64 << 20,
    });
  const server = open(b, 7), client = open(a, 40000);
  const to = mod.IpAddress?.v4 ? mod.IpAddress.v4(0x0a000002) : 0x0a000002;
  const sbuf = new Uint8Array(65536), cbuf = new Uint8Array(65536);
  server.onReadable = () => {
    for (let n = server.recv(sbuf); n >= 0; n = server.recv(sbuf)) {
      server.send(sbuf.subarray(0, n), server.peerAddress, server.peerPort);
    }
  };
  const data = new Uint8Array(payload).fill(0x5a);
  let toSend = 0, seen = 0;
  client.onReadable = () => {
    while (client.recv(cbuf) >= 0) {
      seen++;
      if (toSend > 0) {
        toSend--;
        client.send(data, to, 7);
      }
    }
  };
  const run = (roundTrips: number) => {
    const first = Math.min(64, roundTrips);
    toSend = roundTrips - first;
    for (let i = 0; i < first; i++) client.send(data, to, 7);
    net.runUntilIdle();
  };
  run(20_000);
  seen = 0;
  startCounting();
  run(N);
  return `echoes ${seen}`;
}

/** The promise API echo of `udp_bench.ts` (`promiseEcho`), warmed up with 20,000 round trips. */
async function udpApi(payload: number): Promise<string> {
  const { net, a, b } = twoHosts();
  net.runUntilIdle();
  const server = b.listenDatagram({ transport: "udp", port: 7, receiveQueueLimit: 4096 });
  const client = a.listenDatagram({ transport: "udp", receiveQueueLimit: 4096 });
  const data = new Uint8Array(payload).fill(0x5a);
  const to = { hostname: "10.0.0.2", port: 7 };
  let seen = 0;
  // One run() at a time per network: the server loop, warm-up and count share it.
  await net.run(async () => {
    const echo = (async () => {
      for await (const [d, from] of server) await server.send(d, from);
    })();
    const echoes = async (roundTrips: number) => {
      for (let i = 0; i < 64; i++) await client.send(data, to);
      for (let i = 0; i < roundTrips; i++) {
        await client.receive(data);
        seen++;
        if (i + 64 < roundTrips) await client.send(data, to);
      }
    };
    await echoes(20_000);
    seen = 0;
    startCounting();
    await echoes(N);
    server.close();
    await echo;
  });
  return `echoes ${seen}`;
}

/** Ping round trips: the `icmp.echo` service (`api` false) or `Stack.ping()`, 20,000 warm-up. */
async function ping(api: boolean): Promise<string> {
  const { net, a } = twoHosts();
  net.runUntilIdle();
  const echo = a.service("icmp.echo");
  const options = { timeout: 1_000_000 }; // µs, the echo service's unit
  const pingOptions = { timeout: 1000 }; // ms, Stack.ping's
  let replies = 0;
  const done = (r: unknown) => {
    if (typeof r !== "string") replies++;
  };
  const pings = async (count: number) => {
    for (let i = 0; i < count; i++) {
      if (!api) {
        echo.echo(0x0a000002, options, done);
        net.step();
        continue;
      }
      const reply = a.ping("10.0.0.2", pingOptions);
      net.step(); // the reply arrives and resolves the promise within the step
      await reply;
      replies++;
    }
  };
  await pings(20_000);
  replies = 0;
  startCounting();
  await pings(N);
  return `replies ${replies}`;
}

async function tcp(): Promise<string> {
  const { tcpPair } = await import(`${root}bench/_tcp_pair.ts`);
  const mtu = mode.startsWith("tcp65535") ? 65535 : mode.startsWith("tcp9000") ? 9000 : 1500;
  const conns = mode === "conns" || mode === "conns-steady";
  const buffer = conns ? 1 << 18 : mtu === 1500 ? 1 << 20 : 4 << 20;
  const v6 = mode.endsWith("v6");
  // Only an IPv6 run passes `family`, so older checkouts still count IPv4.
  const p = tcpPair(v6 ? { mtu, buffer, family: 6 } : { mtu, buffer });
  const hostname = v6 ? "fd00::2" : "10.0.0.2";
  const opts = { timeout: 3_600_000_000 };
  const pair = () => Promise.all([p.a.connect({ hostname, port: 5001 }), p.listener.accept()]);
  if (conns) {
    const churn = async (count: number) => {
      await p.net.run(async () => {
        for (let i = 0; i < count; i++) {
          const [c, s] = await pair();
          c.close();
          s.close();
        }
      }, opts);
      p.net.runFor(61_000_000);
    };
    await churn(mode === "conns" ? 1500 : 10_000);
    startCounting();
    await churn(N);
    return `connections ${N}`;
  }
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i * 31;
  const bulk = (bytes: number) =>
    p.net.run(async () => {
      const [c, s] = await pair();
      const writer = (async () => {
        for (let left = bytes; left > 0;) {
          left -= await c.write(chunk.subarray(0, Math.min(chunk.length, left)));
        }
        await c.closeWrite();
      })();
      const buf = new Uint8Array(1 << 20);
      let got = 0;
      for (let n = await s.read(buf); n !== null; n = await s.read(buf)) got += n;
      await writer;
      c.close();
      s.close();
      return got;
    }, opts);
  await bulk(48 << 20);
  startCounting();
  return `bytes ${await bulk(N << 20)}`;
}

const TCP_MODES = [
  "tcp1500",
  "tcp9000",
  "tcp65535",
  "tcp1500v6",
  "tcp65535v6",
  "conns",
  "conns-steady",
];
let result: string;
if (mode === "reply" || mode === "request") result = frames(mode === "request");
else if (mode === "udp64" || mode === "udp1400" || mode === "udp8000") {
  result = udp(Number(mode.slice(3)));
} else if (mode === "udpdelay64" || mode === "udpdelay1400" || mode === "udpdelay8000") {
  result = udp(Number(mode.slice(8)), 1000);
} else if (mode === "udpapi64" || mode === "udpapi1400") {
  result = await udpApi(mode === "udpapi64" ? 64 : 1400);
} else if (mode === "ping" || mode === "pingapi") result = await ping(mode === "pingapi");
else if (TCP_MODES.includes(mode)) result = await tcp();
else {throw new TypeError(
    `Unknown mode "${mode}": reply, request, udp64, udp1400, udp8000, udpdelay64, udpdelay1400, udpdelay8000, udpapi64, udpapi1400, ping, pingapi, ${
      TCP_MODES.join(", ")
    }`,
  );}
const ms = performance.now() - countedFrom;
const cpuMs = threadCpuMs() - countedCpuFrom;
// The rate of the counted part: MiB → Gbit/s for bulk, else units per second.
const rate = mode.startsWith("tcp")
  ? `${(N * 8 * 1.048576 / ms).toFixed(3)} Gbit/s`
  : `${Math.round(N / ms * 1000)} /s`;
Deno.stdout.writeSync(
  new TextEncoder().encode(
    `${mode} ${N}: ${result} in ${ms.toFixed(1)} ms = ${rate}; main-thread CPU ${
      cpuMs.toFixed(1)
    } ms\n`,
  ),
);

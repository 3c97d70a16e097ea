/**
 * Bulk-transfer helpers for TCP scenario tests: deterministic data from a
 * seed, a sender and a receiver that hash what they move (SHA-256 with
 * node:crypto's incremental, synchronous hash: no await inside `net.run`
 * that the virtual network would mistake for a deadlock, and nothing kept
 * in memory), and a routed path builder with faults on its middle link.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createStack, type Stack } from "../../mod.ts";
import type { Duration } from "../../stack/clock.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import type { RunOptions } from "../../drivers/loopback/network.ts";
import type { Link } from "../../drivers/loopback/link.ts";
import type { Faults } from "../../drivers/loopback/faults.ts";
import {
  Capture,
  type Env,
  type LinkPair,
  makeLink,
  ms,
  type PluginOptions,
  pluginsWith,
} from "../_harness.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";

/** Deterministic bytes from a seed (xorshift), produced chunk by chunk. */
export function* source(seed: number, total: number, chunk = 65536): Generator<Uint8Array> {
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let off = 0; off < total; off += chunk) {
    const b = new Uint8Array(Math.min(chunk, total - off));
    for (let i = 0; i < b.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x;
      b[i + 1] = x >>> 8;
      b[i + 2] = x >>> 16;
      b[i + 3] = x >>> 24;
    }
    yield b;
  }
}

/** Writes `total` bytes of {@linkcode source}(`seed`), then closes for writing; returns their hash. */
export async function sendAll(conn: TcpConn, seed: number, total: number): Promise<string> {
  const h = createHash("sha256");
  for (const chunk of source(seed, total)) {
    let off = 0;
    while (off < chunk.length) off += await conn.write(chunk.subarray(off));
    h.update(chunk);
  }
  await conn.closeWrite();
  return h.digest("hex");
}

/** Reads to the end of the stream; returns the hash and the byte count. */
export async function receiveAll(conn: TcpConn): Promise<{ hash: string; bytes: number }> {
  const h = createHash("sha256");
  const buf = new Uint8Array(65536);
  let bytes = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    h.update(buf.subarray(0, n));
    bytes += n;
  }
  return { hash: h.digest("hex"), bytes };
}

/**
 * Sends `total` seeded bytes each way at once over `a` and `b` (seeds
 * `seed·2` and `seed·2+1`) and asserts both sides received exactly what the
 * other sent (count and SHA-256); `names` label the two ends in messages.
 */
export async function exchangeBoth(
  a: TcpConn,
  b: TcpConn,
  seed: number,
  total: number,
  names: readonly [string, string] = ["a", "b"],
): Promise<void> {
  const [aSent, bSent, atB, atA] = await Promise.all([
    sendAll(a, seed * 2, total),
    sendAll(b, seed * 2 + 1, total),
    receiveAll(b),
    receiveAll(a),
  ]);
  const [x, y] = names;
  assert.equal(atB.bytes, total, `seed ${seed}: ${x}→${y} byte count`);
  assert.equal(atA.bytes, total, `seed ${seed}: ${y}→${x} byte count`);
  assert.equal(atB.hash, aSent, `seed ${seed}: ${x}→${y} SHA-256`);
  assert.equal(atA.hash, bSent, `seed ${seed}: ${y}→${x} SHA-256`);
}

/** Options of {@linkcode makePath}. */
export interface PathOptions {
  /** Network seed (default 1). */
  readonly seed?: number;
  /** MTU of the R1-R2 link (default 1500). */
  readonly midMtu?: number;
  /** Faults of the R1-R2 link, both directions. */
  readonly midFaults?: Faults;
  /** Plugin options of the two hosts. */
  readonly hostPlugins?: PluginOptions;
  /** Capture H1's link (both directions). */
  readonly capture?: boolean;
}

/** What {@linkcode makePath} returns. */
export interface Path extends Env {
  /** 10.1.0.10, on a 1500-byte link to R1. */
  readonly h1: Stack;
  /** 10.3.0.30, on a 1500-byte link to R2. */
  readonly h2: Stack;
  /** Router 10.1.0.1 / 10.12.0.1. */
  readonly r1: Stack;
  /** Router 10.12.0.2 / 10.3.0.1. */
  readonly r2: Stack;
  /** The R1-R2 link. */
  readonly mid: Link;
}

/**
 * Two hosts behind two forwarding routers:
 * `H1 10.1.0.10 ─1500─ R1 ─mid─ R2 ─1500─ 10.3.0.30 H2`, where only the
 * middle link has a smaller MTU and faults, so the hosts must learn the path
 * MTU from the routers' ICMP "fragmentation needed" (RFC 1191).
 */
export function makePath(options: PathOptions = {}): Path {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const hosts: Stack[] = [];
  const capture = options.capture ? new Capture() : null;
  function stack(name: string, plugins: PluginOptions): Stack {
    const s = createStack({
      clock: net.clock,
      rng: net.rng.fork(),
      name,
      plugins: pluginsWith(plugins),
    });
    hosts.push(s);
    net.addNode(s);
    return s;
  }
  const h1 = stack("h1", options.hostPlugins ?? {});
  const r1 = stack("r1", {});
  const r2 = stack("r2", {});
  const h2 = stack("h2", options.hostPlugins ?? {});
  const first = net.link({ name: "first" });
  const mid = net.link({
    name: "mid",
    mtu: options.midMtu ?? 1500,
    ...(options.midFaults ? { faults: options.midFaults } : {}),
  });
  const last = net.link({ name: "last" });
  h1.addInterface({
    driver: capture ? capture.tap(first.a, { name: "h1" }) : first.a,
    addresses: ["10.1.0.10/24"],
  });
  r1.addInterface({ driver: first.b, addresses: ["10.1.0.1/24"] });
  r1.addInterface({ driver: mid.a, addresses: ["10.12.0.1/24"] });
  r2.addInterface({ driver: mid.b, addresses: ["10.12.0.2/24"] });
  r2.addInterface({ driver: last.a, addresses: ["10.3.0.1/24"] });
  h2.addInterface({ driver: last.b, addresses: ["10.3.0.30/24"] });
  r1.setForwarding(true);
  r2.setForwarding(true);
  h1.addRoute("default", { gateway: "10.1.0.1" });
  h2.addRoute("default", { gateway: "10.3.0.1" });
  r1.addRoute("10.3.0.0/24", { gateway: "10.12.0.2" });
  r2.addRoute("10.1.0.0/24", { gateway: "10.12.0.1" });
  net.runFor(0);
  let closed = false;
  const env: Path = {
    net,
    hosts,
    capture,
    h1,
    h2,
    r1,
    r2,
    mid,
    run<T>(fn: () => Promise<T>, o?: RunOptions): Promise<T> {
      return net.run(fn, o);
    },
    runFor(d: Duration): void {
      net.runFor(d);
    },
    close(): void {
      if (closed) return;
      closed = true;
      for (const s of hosts) s.close();
      net.close();
    },
    finish(): void {
      env.close();
      const leaks = [net.pool, ...hosts.map((h) => h.pool)]
        .map((p, i) => p.outstanding === 0 ? "" : `${i === 0 ? "net" : hosts[i - 1]!.name}`)
        .filter((x) => x !== "");
      assert.deepEqual(leaks, [], `packet buffers leaked: ${leaks.join(", ")}`);
    },
  };
  return env;
}

/** Options of {@linkcode soakExchange}. */
export interface SoakOptions {
  /** Link and stack seed. */
  readonly seed: number;
  /** Bytes each way. */
  readonly total: number;
  /** Faults of the link, both directions. */
  readonly faults: Faults;
  /** Link MTU (default 1500). */
  readonly mtu?: number;
  /** TCP plugin options of both stacks (`congestionControl`, `pacing`, …). */
  readonly tcp?: Readonly<Record<string, number | string | boolean>>;
  /** Virtual time the exchange may take, µs (default one hour). */
  readonly timeout?: Duration;
  /** Runs once both ends are connected, before the exchange (checks on the fresh connection). */
  readonly onConnected?: (env: LinkPair) => void;
}

/** What a {@linkcode soakExchange} run leaves to look at. */
export interface SoakRun {
  /** The link's statistics a → b. */
  readonly ab: ReturnType<Link["stats"]>;
  /** The link's statistics b → a. */
  readonly ba: ReturnType<Link["stats"]>;
  /** Virtual seconds from the listen to both ends closed (TIME-WAIT not included). */
  readonly virtualSeconds: number;
  /** Segments both ends retransmitted (`tcp.retrans_segs`) before TIME-WAIT. */
  readonly retrans: number;
}

/**
 * One integrity soak run: two stacks on one faulty link exchange `total`
 * seeded bytes each way at once ({@linkcode exchangeBoth}: count and
 * SHA-256 checked), close, and must be left with no socket (TIME-WAIT
 * included) and no leaked buffer; frames must really have been lost.
 */
export async function soakExchange(o: SoakOptions): Promise<SoakRun> {
  const env = makeLink({
    seed: o.seed,
    faults: o.faults,
    mtu: o.mtu ?? 1500,
    ...(o.tcp !== undefined ? { plugins: { tcp: o.tcp } } : {}),
  });
  let run: SoakRun;
  try {
    const l = env.b.listen({ port: 9000 });
    const t0 = env.net.clock.now();
    await env.run(async () => {
      const [c, s] = await Promise.all([
        env.a.connect({ hostname: "10.0.0.2", port: 9000 }),
        l.accept(),
      ]);
      o.onConnected?.(env);
      await exchangeBoth(c, s, o.seed, o.total);
      c.close();
      s.close();
    }, { timeout: o.timeout ?? 3_600_000_000 });
    const virtualSeconds = (env.net.clock.now() - t0) / 1e6;
    l.close();
    const retrans = env.a.counters.value("tcp.retrans_segs") +
      env.b.counters.value("tcp.retrans_segs");
    // Both sides finish closing (TIME-WAIT included) on their own.
    env.runFor(200_000_000);
    assert.deepEqual(env.a.sockets(), [], `seed ${o.seed}: a still has sockets`);
    assert.deepEqual(env.b.sockets(), [], `seed ${o.seed}: b still has sockets`);
    const ab = env.link.stats("a->b"), ba = env.link.stats("b->a");
    assert.ok(ab.dropped.loss > 0 && ba.dropped.loss > 0, `seed ${o.seed}: frames were lost`);
    run = { ab, ba, virtualSeconds, retrans };
  } catch (e) {
    env.close();
    throw e;
  }
  env.finish();
  return run;
}

/**
 * The soak's size from the environment: the CI subset (1 MiB each way over
 * `ciSeeds` seeds) unless `TCP_SOAK=1` asks for the full size (64 MiB
 * over 50 seeds); `TCP_SOAK_MIB` and `TCP_SOAK_SEEDS` override either.
 */
export function soakSize(ciSeeds: number): { soak: boolean; mib: number; seeds: number } {
  const soak = Deno.env.get("TCP_SOAK") === "1";
  return {
    soak,
    mib: Number(Deno.env.get("TCP_SOAK_MIB") ?? (soak ? 64 : 1)),
    seeds: Number(Deno.env.get("TCP_SOAK_SEEDS") ?? (soak ? 50 : ciSeeds)),
  };
}

/** The soak's faults (integrity tests and `bench/tcp_soak.ts`): loss, reordering, duplication, corruption, delay. */
export const SOAK_FAULTS: Faults = {
  loss: 0.05,
  reorder: 0.05,
  duplicate: 0.01,
  corrupt: 0.005,
  delay: ms(20),
  jitter: ms(5),
};

/** Options of {@linkcode timedBulk}. */
export interface TimedBulkOptions {
  /** The sender's congestion controller (`connect({ congestionControl })`). */
  readonly congestionControl: string;
  /** How long the sender writes, µs of virtual time. */
  readonly duration: Duration;
  /** How often `sample` runs, µs. */
  readonly every: Duration;
  /**
   * Runs at the start and every `every` µs until the end, `start` being the
   * virtual time the connection opened; returning false stops the sampling.
   */
  readonly sample: (start: number) => boolean | void;
  /** Runs at the end of the writing time, with the bytes received by then. */
  readonly atEnd?: (received: number) => void;
  /** Runs once everything arrived and the writer finished, before both ends close. */
  readonly beforeClose?: () => Promise<void> | void;
  /** Virtual time the whole transfer may take, µs. */
  readonly timeout: Duration;
}

/**
 * A timed bulk transfer on a two-host link: after a ping (ARP first, so the
 * handshake sees the bare path) `a` connects to `b`'s port 80, writes 64 KiB
 * chunks for `duration`, closes for writing; `b` reads everything; both
 * close and the listener closes. The caller finishes the environment.
 */
export async function timedBulk(
  env: LinkPair,
  o: TimedBulkOptions,
): Promise<{ written: number; received: number }> {
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80 });
  let written = 0, received = 0;
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, congestionControl: o.congestionControl }),
      l.accept(),
    ]);
    const start = env.net.now();
    const end = start + o.duration;
    const tick = () => {
      if (o.sample(start) === false) return;
      if (env.net.now() < end) env.net.at(env.net.now() + o.every, tick);
    };
    tick();
    if (o.atEnd !== undefined) env.net.at(end, () => o.atEnd!(received));
    const chunk = new Uint8Array(65536);
    const writer = (async () => {
      while (env.net.now() < end) written += await c.write(chunk);
      await c.closeWrite();
    })();
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await s.read(buf);
      if (n === null) break;
      received += n;
    }
    await writer;
    await o.beforeClose?.();
    c.close();
    s.close();
  }, { timeout: o.timeout });
  l.close();
  return { written, received };
}

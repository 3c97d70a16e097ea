/**
 * Helpers for the service tests: a server stack running the services of
 * plugins/services/ and a plain client stack on one virtual link (optional
 * faults and capture), byte sources and sinks that hash as they go
 * (node:crypto, synchronous, so nothing awaits outside the virtual network),
 * and raw HTTP/1.1 exchanges.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DEFAULT_PLUGINS, type Stack, type TcpConn } from "../../mod.ts";
import type { PluginEntry } from "../../stack/boot.ts";
import type { ProtocolPlugin } from "../../stack/manifest.ts";
import type { Duration } from "../../stack/clock.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import type { RunOptions } from "../../drivers/loopback/network.ts";
import type { Link } from "../../drivers/loopback/link.ts";
import type { Faults } from "../../drivers/loopback/faults.ts";
import { Capture, type Env, EnvBase, hostMac, mac, withEnv } from "../_harness.ts";
import { SERVICES } from "../../plugins/services/mod.ts";

/** The server's address. */
export const SERVER = "10.0.0.2";
/** The client's address. */
export const CLIENT = "10.0.0.1";

/** Options of {@linkcode makeServiceEnv}. */
export interface ServiceEnvOptions {
  /** Seed (default 1). */
  readonly seed?: number;
  /** Faults of both directions of the link. */
  readonly faults?: Faults;
  /** Which services the server runs (default all of {@linkcode SERVICES}). */
  readonly services?: readonly string[];
  /** Options per service plugin name: `{ http: { keepAliveTimeoutMs: 1000 } }`. */
  readonly options?: Readonly<Record<string, Readonly<Record<string, number | string | boolean>>>>;
  /** Options per built-in plugin of the server (`{ tcp: { sendBuffer: 65536 } }`). */
  readonly serverPlugins?: Readonly<
    Record<string, Readonly<Record<string, number | string | boolean>>>
  >;
  /** Record the client's interface (both directions). */
  readonly capture?: boolean;
  /** Link MTU (default 1500). */
  readonly mtu?: number;
}

/** Two stacks on one link: `server` runs services, `client` talks to them. */
export interface ServiceEnv extends Env {
  /** The link (`link.stats("a->b")`, `link.setFaults()`). */
  readonly link: Link;
  /** The stack at 10.0.0.2 running the services. */
  readonly server: Stack;
  /** The stack at 10.0.0.1. */
  readonly client: Stack;
  /** The capture of the client's interface, if asked for. */
  readonly capture: Capture | null;
  /** `net.run` with a generous virtual timeout (10 min) unless given. */
  run<T>(fn: () => Promise<T>, options?: RunOptions): Promise<T>;
  /** A server counter's value (`"echo.bytes"`). */
  counter(name: string): number;
}

/**
 * The server's plugin list: the defaults (with `serverPlugins` options),
 * then the chosen services (with `options`).
 */
function serverPlugins(o: ServiceEnvOptions): PluginEntry[] {
  const names = o.services ?? Object.keys(SERVICES);
  const extra: ProtocolPlugin[] = names.flatMap((n) => {
    const s = SERVICES[n];
    if (s === undefined) throw new TypeError(`No service "${n}"`);
    return [...s.plugins];
  });
  return [...DEFAULT_PLUGINS, ...extra].map((plugin) => {
    const name = plugin.manifest.name;
    const opts = o.options?.[name] ?? o.serverPlugins?.[name];
    return opts === undefined ? { plugin } : { plugin, options: opts };
  });
}

/**
 * A client and a server (running `services`) on one link.
 *
 * @example
 * ```ts
 * import { makeServiceEnv } from "./_services.ts";
 * import assert from "node:assert/strict";
 * const env = makeServiceEnv({ services: ["echo"] });
 * assert.ok(env.server.sockets().some((s) => s.local.endsWith(":7")));
 * env.finish();
 * ```
 */
export function makeServiceEnv(options: ServiceEnvOptions = {}): ServiceEnv {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const capture = options.capture ? new Capture({ linkType: 1 }) : null;
  const link = net.link({
    macA: mac(hostMac(1)),
    macB: mac(hostMac(2)),
    ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const base = new EnvBase(net, capture);
  const client = base.newStack("client");
  const server = base.newStack("server", serverPlugins(options));
  client.addInterface({
    driver: capture ? capture.tap(link.a, { name: "client" }) : link.a,
    addresses: [`${CLIENT}/24`],
  });
  server.addInterface({ driver: link.b, addresses: [`${SERVER}/24`] });
  return Object.assign(base, {
    link,
    server,
    client,
    run: <T>(fn: () => Promise<T>, o?: RunOptions) => net.run(fn, { timeout: 600_000_000, ...o }),
    counter: (name: string) => server.counters.value(name),
  });
}

/** Resolves after `d` µs of virtual time; only inside `env.run`. */
export function delay(env: ServiceEnv, d: Duration): Promise<void> {
  return new Promise<void>((resolve) => env.net.at(env.net.now() + d, resolve));
}

/** Lets `d` µs of virtual time pass inside `env.run`, so async service code runs too. */
export function sleep(env: ServiceEnv, d: Duration): Promise<void> {
  return env.run(() => delay(env, d), { timeout: d + 1_000_000 });
}

/** Wireshark's warnings about flow control: a full window is not a fault. */
export const FLOW_CONTROL_WARNINGS: readonly RegExp[] = [
  /^TCP Zero Window segment/,
  /^TCP window specified by the receiver is now completely full/,
  /^TCP Zero Window Probe/,
];

/**
 * {@linkcode withEnv} for a {@linkcode ServiceEnv}: on success finishes (leak
 * check), on failure only closes.
 */
export function withServiceEnv(
  env: ServiceEnv,
  body: (env: ServiceEnv) => void | Promise<void>,
): Promise<void> {
  return withEnv(env, body);
}

/** Deterministic pseudo-random bytes (xorshift32), chunk by chunk. */
export function* randomChunks(
  seed: number,
  total: number,
  chunk = 65536,
): Generator<Uint8Array> {
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let off = 0; off < total; off += chunk) {
    const b = new Uint8Array(Math.min(chunk, total - off));
    for (let i = 0; i < b.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x;
    }
    yield b;
  }
}

/** Writes `total` deterministic bytes, then closes the sending side; returns their SHA-256. */
export async function sendHashed(conn: TcpConn, seed: number, total: number): Promise<string> {
  const h = createHash("sha256");
  for (const chunk of randomChunks(seed, total)) {
    for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
    h.update(chunk);
  }
  await conn.closeWrite();
  return h.digest("hex");
}

/** Reads to end of stream; returns the byte count and SHA-256. */
export async function receiveHashed(conn: TcpConn): Promise<{ bytes: number; hash: string }> {
  const h = createHash("sha256");
  const buf = new Uint8Array(65536);
  let bytes = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    h.update(buf.subarray(0, n));
    bytes += n;
  }
  return { bytes, hash: h.digest("hex") };
}

/** Reads exactly `n` bytes (fails on an early end of stream). */
export async function readExactly(conn: TcpConn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let got = 0; got < n;) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error(`end of stream after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}

/** Reads everything until the peer closes, as text (Latin-1 safe for ASCII). */
export async function readAllText(conn: TcpConn): Promise<string> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return new TextDecoder().decode(concat(parts));
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Text as bytes. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** A parsed HTTP response. */
export interface ParsedResponse {
  /** Status code. */
  readonly status: number;
  /** The status line. */
  readonly statusLine: string;
  /** Fields, names lowercased. */
  readonly fields: Readonly<Record<string, string>>;
  /** The body. */
  readonly body: string;
}

/**
 * Reads one HTTP/1.1 response from `conn` (head, then Content-Length bytes,
 * none for HEAD); `pending` carries bytes read past the previous response.
 */
export class ResponseReader {
  readonly #conn: TcpConn;
  #pending: Uint8Array = new Uint8Array(0);

  /** Reads responses from `conn`. */
  constructor(conn: TcpConn) {
    this.#conn = conn;
  }

  async #fill(): Promise<boolean> {
    const buf = new Uint8Array(65536);
    const n = await this.#conn.read(buf);
    if (n === null) return false;
    this.#pending = concat([this.#pending, buf.subarray(0, n)]);
    return true;
  }

  /** The next response; `head: true` for a response to HEAD (no body read). */
  async next(head = false): Promise<ParsedResponse> {
    let end: number;
    for (;;) {
      end = findCrlfCrlf(this.#pending);
      if (end >= 0) break;
      if (!(await this.#fill())) throw new Error("end of stream before a response head");
    }
    const headText = new TextDecoder().decode(this.#pending.subarray(0, end));
    const [statusLine = "", ...lines] = headText.split("\r\n");
    const fields: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(":");
      assert.ok(i > 0, `a response field line without a colon: ${JSON.stringify(l)}`);
      const name = l.slice(0, i).toLowerCase();
      assert.equal(fields[name], undefined, `field ${name} twice`);
      fields[name] = l.slice(i + 1).trim();
    }
    const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]+$/.exec(statusLine);
    assert.ok(m, `status line ${JSON.stringify(statusLine)}`);
    assert.ok(fields["content-length"] !== undefined, "every response has Content-Length");
    const length = head ? 0 : Number(fields["content-length"]);
    const start = end + 4;
    while (this.#pending.length < start + length) {
      if (!(await this.#fill())) throw new Error("end of stream inside a response body");
    }
    const body = new TextDecoder().decode(this.#pending.subarray(start, start + length));
    this.#pending = this.#pending.slice(start + length);
    return { status: Number(m[1]), statusLine, fields, body };
  }

  /** Bytes received after the last response read. */
  get leftover(): number {
    return this.#pending.length;
  }

  /** Whether the server closed (end of stream with nothing more). */
  async ended(): Promise<boolean> {
    if (this.#pending.length > 0) return false;
    return !(await this.#fill());
  }
}

function findCrlfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** Writes all of `data`. */
export async function writeAll(conn: TcpConn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

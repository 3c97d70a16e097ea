/**
 * The TCP plugin's tunables: manifest option specs (with defaults and the
 * reasons for them) and the resolved configuration in microseconds and bytes.
 *
 * @module
 */
import type { OptionSpec } from "../../manifest.ts";

/** Option specs for the manifest; times are in milliseconds. */
export const TCP_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  mslMs: {
    default: 30_000,
    description: "maximum segment lifetime; TIME-WAIT lasts 2×MSL (60 s like Linux)",
  },
  rtoMinMs: {
    default: 200,
    description: "lower bound of the retransmission timeout (Linux's 200 ms, not RFC 6298's 1 s)",
  },
  rtoMaxMs: { default: 120_000, description: "upper bound of the retransmission timeout" },
  rtoInitialMs: { default: 1_000, description: "RTO before any RTT sample (RFC 6298 §2.1)" },
  delayedAckMs: {
    default: 40,
    description: "delayed-ACK timer (Linux's minimum; RFC 1122 allows up to 500 ms)",
  },
  quickAcks: {
    default: 16,
    description: "segments acknowledged at once after the handshake (Linux quick-ACK mode)",
  },
  maxRetries: {
    default: 15,
    description: "retransmissions of data before giving up with TimedOut (Linux tcp_retries2)",
  },
  synRetries: { default: 6, description: "SYN retransmissions before connect() times out" },
  synAckRetries: { default: 5, description: "SYN-ACK retransmissions for a half-open connection" },
  sendBuffer: { default: 262_144, description: "send buffer per connection, bytes" },
  receiveBuffer: { default: 262_144, description: "receive buffer (and window) per connection" },
  initialWindow: { default: 10, description: "initial congestion window, segments (RFC 6928)" },
  timestamps: { default: true, description: "offer RFC 7323 timestamps" },
  sack: { default: true, description: "offer RFC 2018 selective acknowledgments" },
  windowScaling: { default: true, description: "offer RFC 7323 window scaling" },
  backlog: { default: 128, description: "default accept-queue length (somaxconn)" },
  synBacklog: {
    default: 256,
    description: "half-open connections per listener before SYN cookies",
  },
  syncookies: { default: true, description: "answer with SYN cookies when the SYN queue is full" },
  challengeAckLimit: {
    default: 1_000,
    description: "challenge ACKs per second, stack-wide (RFC 5961 §7)",
  },
  congestionControl: {
    default: "cubic",
    description: "default congestion control: cubic, newreno (reno), bbr, or a registered one",
  },
  keepaliveIdleMs: { default: 7_200_000, description: "idle time before the first keepalive" },
  keepaliveIntervalMs: { default: 75_000, description: "time between keepalive probes" },
  keepaliveProbes: { default: 9, description: "unanswered keepalives before giving up" },
  finTimeoutMs: {
    default: 60_000,
    description: "FIN-WAIT-2 lifetime of a connection closed by close() (Linux tcp_fin_timeout)",
  },
  ephemeralPortMin: { default: 49_152, description: "first ephemeral port (IANA range)" },
  ephemeralPortMax: { default: 65_535, description: "last ephemeral port" },
  verifyChecksum: { default: true, description: "drop segments with a bad checksum" },
  reassemblyRanges: {
    default: 32,
    description: "out-of-order ranges kept per connection before segments are dropped",
  },
  maxConnections: { default: 65_536, description: "most connections (any state) per stack" },
  rack: {
    default: true,
    description:
      "RACK-TLP loss detection with SACK (RFC 8985, Linux tcp_recovery=1); false: RFC 6675 DupThresh",
  },
  dsack: {
    default: true,
    description: "send D-SACKs (RFC 2883) and undo congestion responses they prove spurious",
  },
  hystart: {
    default: true,
    description: "HyStart++ (RFC 9406) in NewReno's and CUBIC's initial slow start",
  },
  pacing: {
    default: false,
    description: "pace every connection at 2×/1.2× cwnd per SRTT (Linux fq); BBR always paces",
  },
  ecn: {
    default: 2,
    description: "ECN (RFC 3168), as Linux tcp_ecn: 0 off, 1 request and accept, 2 accept only",
  },
  fastOpenKeyLifetimeMs: {
    default: 3_600_000,
    description: "TCP Fast Open: how long a server key makes cookies (the previous stays valid)",
  },
  receiveBufferMax: {
    default: 6_291_456,
    description:
      "most a receive buffer grows to as the application drains it (Linux tcp_rmem[2]); at or below receiveBuffer: no auto-tuning",
  },
  memoryLow: {
    default: 67_108_864,
    description:
      "TCP buffer bytes (all connections) below which buffers grow freely and pressure ends (Linux tcp_mem[0])",
  },
  memoryPressure: {
    default: 100_663_296,
    description:
      "TCP buffer bytes above which windows clamp, auto-tuning stops and buffers grow only to a fair share (tcp_mem[1])",
  },
  memoryHigh: {
    default: 134_217_728,
    description:
      "TCP buffer bytes past which no buffer grows (tcp_mem[2]); each connection keeps a 4 KiB minimum",
  },
};

/** The resolved configuration (µs and bytes). */
export interface TcpConfig {
  /** 2×MSL, µs. */
  readonly timeWait: number;
  /** Minimum RTO, µs. */
  readonly rtoMin: number;
  /** Maximum RTO, µs. */
  readonly rtoMax: number;
  /** Initial RTO, µs. */
  readonly rtoInitial: number;
  /** Delayed-ACK timeout, µs. */
  readonly delayedAck: number;
  /** Quick ACKs after the handshake. */
  readonly quickAcks: number;
  /** Data retransmissions before TimedOut. */
  readonly maxRetries: number;
  /** SYN retransmissions. */
  readonly synRetries: number;
  /** SYN-ACK retransmissions. */
  readonly synAckRetries: number;
  /** Send buffer, bytes. */
  readonly sendBuffer: number;
  /** Receive buffer, bytes. */
  readonly receiveBuffer: number;
  /** Initial window, segments. */
  readonly initialWindow: number;
  /** Offer timestamps. */
  readonly timestamps: boolean;
  /** Offer SACK. */
  readonly sack: boolean;
  /** Offer window scaling. */
  readonly windowScaling: boolean;
  /** Default backlog. */
  readonly backlog: number;
  /** Half-open limit per listener. */
  readonly synBacklog: number;
  /** SYN cookies on. */
  readonly syncookies: boolean;
  /** Challenge ACKs per second. */
  readonly challengeAckLimit: number;
  /** Default congestion control. */
  readonly congestionControl: string;
  /** Keepalive idle, µs. */
  readonly keepaliveIdle: number;
  /** Keepalive interval, µs. */
  readonly keepaliveInterval: number;
  /** Keepalive probes. */
  readonly keepaliveProbes: number;
  /** Orphan FIN-WAIT-2 timeout, µs. */
  readonly finTimeout: number;
  /** First ephemeral port. */
  readonly ephemeralPortMin: number;
  /** Last ephemeral port. */
  readonly ephemeralPortMax: number;
  /** Verify checksums. */
  readonly verifyChecksum: boolean;
  /** OOO ranges per connection. */
  readonly reassemblyRanges: number;
  /** Connection limit. */
  readonly maxConnections: number;
  /** RACK-TLP loss detection when SACK is in use. */
  readonly rack: boolean;
  /** D-SACK generation and undo. */
  readonly dsack: boolean;
  /** HyStart++ in the initial slow start. */
  readonly hystart: boolean;
  /** Pace connections whose congestion control sets no rate (BBR always paces). */
  readonly pacing: boolean;
  /** ECN: 0 off, 1 request and accept, 2 accept only (`ecn.ts`). */
  readonly ecn: number;
  /** Fast Open key lifetime, µs (0: never rotated). */
  readonly fastOpenKeyLifetime: number;
  /** Receive-buffer auto-tuning limit, bytes (`rcv_autotune.ts`; ≤ receiveBuffer: off). */
  readonly receiveBufferMax: number;
  /** Buffer memory of all connections below which pressure ends, bytes (`memory.ts`). */
  readonly memoryLow: number;
  /** Buffer memory above which the stack is under pressure, bytes. */
  readonly memoryPressure: number;
  /** Buffer memory past which no buffer grows, bytes. */
  readonly memoryHigh: number;
}

/**
 * Turns plugin options into a {@linkcode TcpConfig}.
 *
 * @throws {RangeError} on out-of-range values.
 *
 * @example
 * ```ts
 * import { resolveConfig, TCP_OPTIONS } from "./config.ts";
 * import assert from "node:assert/strict";
 * const defaults = Object.fromEntries(Object.entries(TCP_OPTIONS).map(([k, v]) => [k, v.default]));
 * assert.equal(resolveConfig(defaults).timeWait, 60_000_000);
 * ```
 */
export function resolveConfig(o: Readonly<Record<string, number | string | boolean>>): TcpConfig {
  const num = (k: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = o[k] as number;
    if (!(typeof v === "number" && v >= min && v <= max)) {
      throw new RangeError(`Cannot set up tcp: option ${k} must be in ${min}..${max}, got ${v}`);
    }
    return v;
  };
  const ms = 1000;
  const cfg: TcpConfig = {
    timeWait: 2 * num("mslMs", 0) * ms,
    rtoMin: num("rtoMinMs", 1) * ms,
    rtoMax: num("rtoMaxMs", 1) * ms,
    rtoInitial: num("rtoInitialMs", 1) * ms,
    delayedAck: num("delayedAckMs", 0, 500) * ms,
    quickAcks: num("quickAcks", 0),
    maxRetries: num("maxRetries", 1),
    synRetries: num("synRetries", 0),
    synAckRetries: num("synAckRetries", 0),
    sendBuffer: num("sendBuffer", 1, 1 << 30),
    receiveBuffer: num("receiveBuffer", 1, 1 << 30),
    initialWindow: num("initialWindow", 1, 1000),
    timestamps: o.timestamps as boolean,
    sack: o.sack as boolean,
    windowScaling: o.windowScaling as boolean,
    backlog: num("backlog", 1, 65535),
    synBacklog: num("synBacklog", 1),
    syncookies: o.syncookies as boolean,
    challengeAckLimit: num("challengeAckLimit", 0),
    congestionControl: String(o.congestionControl),
    keepaliveIdle: num("keepaliveIdleMs", 1) * ms,
    keepaliveInterval: num("keepaliveIntervalMs", 1) * ms,
    keepaliveProbes: num("keepaliveProbes", 1),
    finTimeout: num("finTimeoutMs", 1) * ms,
    ephemeralPortMin: num("ephemeralPortMin", 1, 65535),
    ephemeralPortMax: num("ephemeralPortMax", 1, 65535),
    verifyChecksum: o.verifyChecksum as boolean,
    reassemblyRanges: num("reassemblyRanges", 1, 1024),
    maxConnections: num("maxConnections", 1),
    rack: o.rack !== false,
    dsack: o.dsack !== false,
    hystart: o.hystart as boolean,
    pacing: o.pacing as boolean,
    ecn: Math.trunc(num("ecn", 0, 2)),
    fastOpenKeyLifetime: num("fastOpenKeyLifetimeMs", 0) * ms,
    receiveBufferMax: Math.trunc(num("receiveBufferMax", 1, 1 << 30)),
    memoryLow: Math.trunc(num("memoryLow", 0)),
    memoryPressure: Math.trunc(num("memoryPressure", 0)),
    memoryHigh: Math.trunc(num("memoryHigh", 0)),
  };
  if (!(cfg.memoryLow <= cfg.memoryPressure && cfg.memoryPressure <= cfg.memoryHigh)) {
    throw new RangeError(
      "Cannot set up tcp: memoryLow, memoryPressure and memoryHigh must be in increasing order",
    );
  }
  if (cfg.ephemeralPortMin > cfg.ephemeralPortMax) {
    throw new RangeError("Cannot set up tcp: ephemeralPortMin is above ephemeralPortMax");
  }
  if (cfg.rtoMin > cfg.rtoMax) throw new RangeError("Cannot set up tcp: rtoMinMs above rtoMaxMs");
  return cfg;
}

/** {@linkcode configFor}'s configurations by options object. */
const CONFIGS = new WeakMap<object, TcpConfig>();

/**
 * {@linkcode resolveConfig} once per options object: stacks that change no
 * TCP option share one frozen options object (the dispatcher's defaults),
 * and so one configuration (about 300 B per stack otherwise; issue 19).
 *
 * @example
 * ```ts
 * import { configFor, TCP_OPTIONS } from "./config.ts";
 * import assert from "node:assert/strict";
 * const defaults = Object.freeze(
 *   Object.fromEntries(Object.entries(TCP_OPTIONS).map(([k, v]) => [k, v.default])),
 * );
 * assert.equal(configFor(defaults), configFor(defaults));
 * assert.equal(configFor(defaults).timeWait, 60_000_000);
 * ```
 */
export function configFor(o: Readonly<Record<string, number | string | boolean>>): TcpConfig {
  let cfg = CONFIGS.get(o);
  if (cfg === undefined) CONFIGS.set(o, cfg = Object.freeze(resolveConfig(o)));
  return cfg;
}

/**
 * iperf3's control protocol as this server speaks it: the state bytes, the
 * 37-byte cookie, the length-prefixed JSON of the parameter and results
 * exchanges, the UDP "connect" datagrams and the 12/16-byte UDP data header,
 * and the receiver's jitter and loss (RFC 1889 jitter, as iperf3 computes it).
 * Written from the behaviour of iperf3 3.x (iperf_api.c, iperf_server_api.c,
 * iperf_udp.c); no code is taken from it.
 *
 * Pure functions and small classes: no I/O, no clock.
 *
 * @module
 */

/** The names of iperf3's control states this server uses. */
export type StateName =
  | "TEST_START"
  | "TEST_RUNNING"
  | "TEST_END"
  | "PARAM_EXCHANGE"
  | "CREATE_STREAMS"
  | "SERVER_TERMINATE"
  | "CLIENT_TERMINATE"
  | "EXCHANGE_RESULTS"
  | "DISPLAY_RESULTS"
  | "IPERF_DONE"
  | "ACCESS_DENIED"
  | "SERVER_ERROR";

/** iperf3's control states: one signed byte on the control connection. */
export const State: Readonly<Record<StateName, number>> = Object.freeze({
  TEST_START: 1,
  TEST_RUNNING: 2,
  TEST_END: 4,
  PARAM_EXCHANGE: 9,
  CREATE_STREAMS: 10,
  SERVER_TERMINATE: 11,
  CLIENT_TERMINATE: 12,
  EXCHANGE_RESULTS: 13,
  DISPLAY_RESULTS: 14,
  IPERF_DONE: 16,
  /** -1 as a signed byte: the server is busy with another test. */
  ACCESS_DENIED: 0xff,
  /** -2 as a signed byte, then i_errno and errno as 32-bit big-endian integers. */
  SERVER_ERROR: 0xfe,
});

/** iperf3's i_errno values the server reports (iperf_api.h). */
export const IperfError: Readonly<
  Record<
    | "IEUNIMP"
    | "IEBLOCKSIZE"
    | "IENUMSTREAMS"
    | "IERECVPARAMS"
    | "IERECVRESULTS"
    | "IECREATESTREAM",
    number
  >
> = Object.freeze({
  /** "Not implemented yet" (bidirectional tests, SCTP…). */
  IEUNIMP: 13,
  /** "Block size too large". */
  IEBLOCKSIZE: 7,
  /** "Number of parallel streams too large". */
  IENUMSTREAMS: 6,
  /** "unable to receive parameters from client". */
  IERECVPARAMS: 114,
  /** "unable to receive results from client". */
  IERECVRESULTS: 117,
  /** "unable to create a new stream". */
  IECREATESTREAM: 200,
});

/** The cookie: 36 characters of [a-z2-7] (iperf3's base32 alphabet) and a NUL. */
export const COOKIE_SIZE = 37;

/**
 * The datagram a UDP client sends to "connect" (0x36373839, written in the
 * client's byte order; any 4 bytes are taken, as iperf3 does).
 */
export const UDP_CONNECT_MSG = 0x36373839;
/**
 * The server's answer, 0x39383736 in the byte order of the x86 and ARM
 * clients this is used with (little-endian: the bytes "6789").
 */
export const UDP_CONNECT_REPLY_BYTES: Uint8Array = Uint8Array.of(0x36, 0x37, 0x38, 0x39);

/**
 * Whether `b` is a cookie: 36 printable non-space ASCII characters then NUL.
 * iperf3 makes them from [a-z2-7]; other printable bytes are taken, control
 * bytes and a missing NUL are not.
 *
 * @example
 * ```ts
 * import { isCookie } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * const ok = new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz2345672345\0");
 * assert.equal(isCookie(ok), true);
 * assert.equal(isCookie(ok.subarray(1)), false);
 * ```
 */
export function isCookie(b: Uint8Array): boolean {
  if (b.length !== COOKIE_SIZE || b[COOKIE_SIZE - 1] !== 0) return false;
  for (let i = 0; i < COOKIE_SIZE - 1; i++) if (b[i]! < 0x21 || b[i]! > 0x7e) return false;
  return true;
}

/** What a test asks for, from the client's parameter JSON (validated). */
export interface TestParams {
  /** UDP (else TCP). */
  readonly udp: boolean;
  /** Server sends (`-R`). */
  readonly reverse: boolean;
  /** Data streams (`-P`), 1..maxStreams. */
  readonly parallel: number;
  /** Seconds the client runs (`-t`); 0 with a byte or block count. */
  readonly time: number;
  /** Seconds omitted at the start (`-O`). */
  readonly omit: number;
  /** Bytes to send (`-n`), 0 for none. */
  readonly bytes: number;
  /** Blocks to send (`-k`), 0 for none. */
  readonly blocks: number;
  /** Block (TCP write or UDP datagram) size (`-l`). */
  readonly len: number;
  /** Target bits/s (`-b`; 0: unlimited). */
  readonly bandwidth: number;
  /** 64-bit UDP packet counters (16-byte header instead of 12). */
  readonly udpCounters64: boolean;
}

/** Why a parameter JSON is refused: the i_errno to send and a reason. */
export class ParamError extends Error {
  /** iperf3's i_errno for the client to print. */
  readonly code: number;
  /** A refusal with `code` (see {@linkcode IperfError}). */
  constructor(code: number, message: string) {
    super(message);
    this.name = "ParamError";
    this.code = code;
  }
}

/** Longest test this server accepts, in seconds (iperf3's MAX_TIME is a day). */
const MAX_TIME = 86_400;
/** Largest block iperf3 itself accepts (MAX_BLOCKSIZE, 1 MiB). */
export const MAX_BLOCK = 1 << 20;
/** Largest UDP block (a datagram's payload). */
const MAX_UDP_BLOCK = 65_507;

function num(o: Record<string, unknown>, key: string, min: number, max: number, dflt: number) {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    throw new ParamError(
      IperfError.IERECVPARAMS,
      `${key} ${JSON.stringify(v)} not in ${min}..${max}`,
    );
  }
  return v;
}

function flag(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null || v === false || v === 0) return false;
  if (v === true || v === 1) return true;
  throw new ParamError(IperfError.IERECVPARAMS, `${key} ${JSON.stringify(v)} is not a flag`);
}

/**
 * Parses and checks the client's parameter JSON (iperf3 sends booleans as
 * `true` or 1, absent when off). Throws {@linkcode ParamError} for anything
 * that is not an object, has values of the wrong type or out of range, or
 * asks for what this server does not do (bidirectional, SCTP).
 *
 * @param text The JSON text.
 * @param maxStreams Most streams allowed.
 * @returns The test's parameters.
 *
 * @example
 * ```ts
 * import { parseParams } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * const p = parseParams('{"tcp":true,"time":10,"parallel":2,"len":131072,"reverse":true}', 8);
 * assert.equal(p.parallel, 2);
 * assert.equal(p.reverse, true);
 * assert.throws(() => parseParams("[1]", 8), /object/);
 * ```
 */
export function parseParams(text: string, maxStreams: number): TestParams {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ParamError(IperfError.IERECVPARAMS, "parameters are not JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ParamError(IperfError.IERECVPARAMS, "parameters are not an object");
  }
  const o = v as Record<string, unknown>;
  const udp = flag(o, "udp");
  const tcp = flag(o, "tcp");
  if (flag(o, "sctp") || (!udp && !tcp)) {
    throw new ParamError(IperfError.IEUNIMP, "only TCP and UDP tests");
  }
  if (udp && tcp) throw new ParamError(IperfError.IERECVPARAMS, "both TCP and UDP");
  if (flag(o, "bidirectional")) {
    throw new ParamError(IperfError.IEUNIMP, "bidirectional tests are not supported");
  }
  const parallel = num(o, "parallel", 1, 1e9, 1);
  if (!Number.isInteger(parallel) || parallel > maxStreams) {
    throw new ParamError(IperfError.IENUMSTREAMS, `parallel ${parallel} > ${maxStreams}`);
  }
  const len = num(o, "len", 1, 1e12, udp ? 1460 : 131_072);
  if (!Number.isInteger(len) || len > (udp ? MAX_UDP_BLOCK : MAX_BLOCK) || (udp && len < 16)) {
    throw new ParamError(IperfError.IEBLOCKSIZE, `len ${len}`);
  }
  return {
    udp,
    reverse: flag(o, "reverse"),
    parallel,
    time: num(o, "time", 0, MAX_TIME, 10),
    omit: num(o, "omit", 0, MAX_TIME, 0),
    bytes: num(o, "num", 0, Number.MAX_SAFE_INTEGER, 0),
    blocks: num(o, "blockcount", 0, Number.MAX_SAFE_INTEGER, 0),
    len,
    bandwidth: num(o, "bandwidth", 0, 1e15, udp ? 1_000_000 : 0),
    udpCounters64: flag(o, "udp_counters_64bit"),
  };
}

/** One stream's figures for the results JSON. */
export interface StreamResult {
  /** iperf3's stream id: 1, 3, 4, 5, … (see {@linkcode streamId}). */
  readonly id: number;
  /** Payload bytes sent or received. */
  readonly bytes: number;
  /** Retransmitted segments, or -1 when not known. */
  readonly retransmits: number;
  /** UDP jitter in seconds (0 for TCP). */
  readonly jitter: number;
  /** UDP datagrams lost (0 for TCP). */
  readonly errors: number;
  /** UDP datagrams (highest sequence number received, or sent). */
  readonly packets: number;
  /** Seconds from the test's start to this stream's end. */
  readonly endTime: number;
}

/**
 * iperf3's id of the `i`-th stream (0-based): 1, then 3, 4, 5, … — the
 * client numbers its streams so and matches the server's results by id.
 *
 * @example
 * ```ts
 * import { streamId } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([0, 1, 2].map(streamId), [1, 3, 4]);
 * ```
 */
export function streamId(i: number): number {
  return i === 0 ? 1 : i + 2;
}

/**
 * The server's results JSON (what iperf3's get_results reads: CPU figures,
 * whether the sender knows its retransmissions, and one entry per stream).
 *
 * @example
 * ```ts
 * import { resultsJson } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * const j = JSON.parse(resultsJson(false, [{ id: 1, bytes: 5, retransmits: -1, jitter: 0, errors: 0, packets: 0, endTime: 1 }]));
 * assert.equal(j.streams[0].bytes, 5);
 * assert.equal(j.sender_has_retransmits, -1);
 * ```
 */
export function resultsJson(sender: boolean, streams: readonly StreamResult[]): string {
  return JSON.stringify({
    // This server does not measure its CPU (a service reads no process clock);
    // benchmarks measure the stack's process from outside.
    cpu_util_total: 0,
    cpu_util_user: 0,
    cpu_util_system: 0,
    sender_has_retransmits: sender ? 0 : -1,
    streams: streams.map((s) => ({
      id: s.id,
      bytes: s.bytes,
      retransmits: s.retransmits,
      jitter: s.jitter,
      errors: s.errors,
      omitted_errors: 0,
      packets: s.packets,
      omitted_packets: 0,
      start_time: 0,
      end_time: s.endTime,
    })),
  });
}

/**
 * A UDP receiver's count of datagrams, loss and jitter, as iperf3 keeps
 * them: loss from gaps in the sequence numbers (a late datagram takes one
 * back), jitter as RFC 3550 §6.4.1's running mean of transit differences.
 *
 * @example
 * ```ts
 * import { UdpReceiver } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * const r = new UdpReceiver(false);
 * const d = new Uint8Array(20);
 * const v = new DataView(d.buffer);
 * for (const seq of [1, 2, 4]) { v.setUint32(8, seq); r.receive(d, seq * 1000); }
 * assert.equal(r.packets, 4);
 * assert.equal(r.errors, 1);
 * assert.equal(r.bytes, 60);
 * ```
 */
export class UdpReceiver {
  /** Payload bytes received. */
  bytes = 0;
  /** Highest sequence number seen. */
  packets = 0;
  /** Datagrams missing (gaps, less late arrivals). */
  errors = 0;
  /** Datagrams that came after a later one. */
  outOfOrder = 0;
  /** Jitter in seconds. */
  jitter = 0;
  #prevTransit: number | null = null;
  readonly #counters64: boolean;

  /** A receiver for 12-byte (`counters64` false) or 16-byte headers. */
  constructor(counters64: boolean) {
    this.#counters64 = counters64;
  }

  /**
   * Counts one datagram that arrived at `nowUs` (µs on any clock: only
   * differences matter). Datagrams shorter than the header are not counted.
   *
   * @returns Whether it had a header.
   */
  receive(d: Uint8Array, nowUs: number): boolean {
    const header = this.#counters64 ? 16 : 12;
    if (d.length < header) return false;
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const sentUs = v.getUint32(0) * 1e6 + v.getUint32(4);
    const seq = this.#counters64 ? Number(v.getBigUint64(8)) : v.getUint32(8);
    this.bytes += d.length;
    if (seq > this.packets) {
      if (seq > this.packets + 1) this.errors += seq - 1 - this.packets;
      this.packets = seq;
    } else {
      this.outOfOrder++;
      if (this.errors > 0) this.errors--;
    }
    const transit = (nowUs - sentUs) / 1e6;
    if (this.#prevTransit !== null) {
      const diff = Math.abs(transit - this.#prevTransit);
      this.jitter += (diff - this.jitter) / 16;
    }
    this.#prevTransit = transit;
    return true;
  }
}

/**
 * Writes a UDP data header into `d`: the send time (seconds, µs) and the
 * sequence number (32 or 64 bits), big-endian as iperf3 does.
 *
 * @example
 * ```ts
 * import { writeUdpHeader, UdpReceiver } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * const d = new Uint8Array(64);
 * writeUdpHeader(d, 2_500_000, 7, false);
 * const r = new UdpReceiver(false);
 * r.receive(d, 2_600_000);
 * assert.equal(r.packets, 7);
 * ```
 */
export function writeUdpHeader(d: Uint8Array, nowUs: number, seq: number, counters64: boolean) {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const t = Math.max(0, Math.floor(nowUs));
  v.setUint32(0, Math.floor(t / 1e6) >>> 0);
  v.setUint32(4, t % 1e6);
  if (counters64) v.setBigUint64(8, BigInt(seq));
  else v.setUint32(8, seq >>> 0);
}

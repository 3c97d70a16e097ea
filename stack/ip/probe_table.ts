/**
 * The bookkeeping of outstanding probes ICMP and ICMPv6 share (ping's echo
 * requests, traceroute's UDP probes): a bounded table of probes waiting for
 * their reply or error, each with its timeout, and the translation of a
 * probe's result into ping's reply or message. The protocol builds and
 * sends the packets and finds the key a reply or quoted error carries.
 *
 * @module
 */
import type { Instant } from "../clock.ts";
import type { PluginContext } from "../manifest.ts";
import type { EchoReply, ProbeResult } from "../services.ts";
import type { Timer } from "../timers.ts";
import type { IpKey } from "../wire/ip_address.ts";

/** Outstanding probes of one kind a table keeps at most; past it a probe is not sent. */
export const MAX_PENDING_PROBES = 65536;

/** One probe waiting for its answer. */
export interface PendingProbe {
  /** Where it went: an error must quote it (an echo reply may come from elsewhere). */
  readonly dst: IpKey;
  /** When it was sent. */
  readonly sent: Instant;
  readonly done: (r: ProbeResult) => void;
  readonly timer: Timer;
}

/**
 * A probe that never left, with why (a route error, `too_many_probes`).
 *
 * @example
 * ```ts
 * import { unsentProbe } from "./probe_table.ts";
 * import assert from "node:assert/strict";
 * assert.equal(unsentProbe("no_route").reason, "no_route");
 * ```
 */
export function unsentProbe(reason: string): ProbeResult {
  return { kind: "unsent", from: "", rtt: 0, type: 0, code: 0, info: 0, ttl: 0, bytes: 0, reason };
}

const TIMED_OUT: ProbeResult = {
  kind: "timeout",
  from: "",
  rtt: 0,
  type: 0,
  code: 0,
  info: 0,
  ttl: 0,
  bytes: 0,
};

/**
 * Probes of one kind waiting for an answer, keyed by the 32 bits an answer
 * echoes (identifier and sequence; source and destination ports), bounded
 * by {@linkcode MAX_PENDING_PROBES}.
 *
 * @example
 * ```ts
 * import { ProbeTable } from "./probe_table.ts";
 * import type { PluginContext } from "../manifest.ts";
 * import assert from "node:assert/strict";
 * // In a plugin's setup, with its context:
 * const make = (ctx: PluginContext) => new ProbeTable(ctx);
 * assert.equal(typeof make, "function");
 * ```
 */
export class ProbeTable {
  readonly #ctx: PluginContext;
  /** Made at the first probe: an idle stack has two tables and no probes. */
  #map: Map<number, PendingProbe> | null = null;

  get #probes(): Map<number, PendingProbe> {
    return this.#map ??= new Map();
  }

  /** A table whose timeouts run on `ctx`'s timers. */
  constructor(ctx: PluginContext) {
    this.#ctx = ctx;
  }

  /**
   * Starts waiting for the probe `key` to `dst` sent now; `done` gets its
   * answer or, `timeout` µs later, a timeout. A probe still waiting with
   * the same key is forgotten (its `done` is never called). Returns false,
   * waiting for nothing, when the table is full.
   */
  start(key: number, dst: IpKey, timeout: number, done: (r: ProbeResult) => void): boolean {
    const old = this.#map?.get(key);
    if (old !== undefined) {
      this.#probes.delete(key);
      old.timer.cancel();
    }
    if (this.#probes.size >= MAX_PENDING_PROBES) return false;
    const sent = this.#ctx.now();
    const timer = this.#ctx.timer(() => {
      if (this.#probes.get(key)?.timer === timer) {
        this.#probes.delete(key);
        done(TIMED_OUT);
      }
    });
    this.#probes.set(key, { dst, sent, done, timer });
    timer.arm(sent + timeout);
    return true;
  }

  /** The probe `key` when it went to `dst`, else undefined: what an error quoting it needs. */
  find(key: number, dst: IpKey): PendingProbe | undefined {
    const p = this.#map?.get(key);
    return p !== undefined && p.dst === dst ? p : undefined;
  }

  /**
   * The echo probe `key` (identifier and sequence), whoever answers: as
   * Linux's ping (its socket matches the identifier, iputils the data, never
   * the source), so that an anycast, multicast or broadcast destination's
   * reply, from a unicast address of the one that answered, settles it.
   */
  findReply(key: number): PendingProbe | undefined {
    return this.#map?.get(key);
  }

  /** Settles `p` (found under `key`) with `r`. */
  settle(key: number, p: PendingProbe, r: ProbeResult): void {
    this.#probes.delete(key);
    p.timer.cancel();
    p.done(r);
  }

  /** Stops waiting for `key` without telling its `done` (it could not be sent). */
  cancel(key: number): void {
    if (this.#map === null) return;
    this.#map.get(key)?.timer.cancel();
    this.#map.delete(key);
  }

  /** Stops waiting for every probe (the plugin is torn down). */
  clear(): void {
    if (this.#map === null) return;
    for (const p of this.#map.values()) p.timer.cancel();
    this.#map.clear();
  }
}

/** What {@linkcode pingOutcome} needs to word ping's messages. */
export interface PingWording {
  /** The echo request's sequence number. */
  readonly sequence: number;
  /** The destination as printed. */
  readonly target: string;
  /** The probe's timeout (µs). */
  readonly timeout: number;
  /** Describes an ICMP error of the family, as ping prints it. */
  describeError(type: number, code: number, info: number): string;
}

/**
 * How a ping or probe that found a route but no source address ends its
 * message (every address on the way tentative, or a bound one gone):
 * `Stack.ping` and `Stack.traceroute` throw `Deno.errors.AddrNotAvailable`
 * for it, as Linux's EADDRNOTAVAIL.
 */
export const NO_SOURCE = "address not available (no usable source address)";

/**
 * An echo probe's result as ping reports it: the reply, or a message.
 *
 * @example
 * ```ts
 * import { pingOutcome, unsentProbe } from "./probe_table.ts";
 * import assert from "node:assert/strict";
 * const wording = {
 *   sequence: 1,
 *   target: "192.0.2.1",
 *   timeout: 1_000_000,
 *   describeError: () => "",
 * };
 * assert.equal(
 *   pingOutcome(unsentProbe("no_route"), wording),
 *   "cannot send to 192.0.2.1: no route",
 * );
 * ```
 */
export function pingOutcome(r: ProbeResult, wording: PingWording): EchoReply | string {
  switch (r.kind) {
    case "reply":
      return { sequence: wording.sequence, rtt: r.rtt, from: r.from, ttl: r.ttl, bytes: r.bytes };
    case "error":
      return `${wording.describeError(r.type, r.code, r.info)} from ${r.from}`;
    case "timeout":
      return `no reply from ${wording.target} within ${wording.timeout / 1000} ms`;
    default:
      return `cannot send to ${wording.target}: ${
        r.reason === "addr_not_available" ? NO_SOURCE : (r.reason ?? "").replaceAll("_", " ")
      }`;
  }
}

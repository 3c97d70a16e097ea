/**
 * IPv4 options in the IPv4 plugin (RFC 791 §3.1, RFC 1122 §3.2.1.8, RFC
 * 1812 §5.2.4, §5.3.13): checking received options, recording this host in
 * Record Route and Timestamp, checking options and raw headers handed to
 * `ipv4.send`. The byte-level work is in `wire/ipv4_options.ts`.
 *
 * Decisions:
 * - **Malformed options** (see `checkIpv4Options`, and a full Timestamp
 *   whose overflow counter is at 15): dropped as
 *   `ipv4.rx.bad_options`, answered with ICMP Parameter Problem (type 12,
 *   code 0) whose pointer is the offset of the bad byte in the IP header,
 *   through `icmp.error` (rate limited and suppressed like every ICMP error).
 * - **Source routes** (LSRR 131, SSRR 137): dropped as `ipv4.rx.source_route`
 *   (RFC 7126 §4.3, §4.4; Linux's `accept_source_route=0`), silently. With the
 *   plugin option `acceptSourceRoute` they are accepted and the datagram is
 *   handled by its destination address; the rest of the route is not
 *   followed and replies do not reverse it (not supported).
 * - **Router Alert**: sets `PacketFlags.ROUTER_ALERT` (IGMP checks it).
 * - **Record Route / Timestamp**: set `PacketFlags.IPV4_RECORD_ROUTE` /
 *   `IPV4_TIMESTAMP`. A datagram for us gets our entry where it is received
 *   (the address it was sent to, or the receiving interface's primary
 *   address) and, when it is an echo request, the reply gets a second one
 *   as it leaves: what Linux does (`ip_options_compile()` on receive, then
 *   `ip_options_echo()` + `ip_options_build()`), so `ping -R` prints our
 *   address twice, as against Linux. A forwarded datagram gets one entry,
 *   the outgoing route's source address (RFC 1812 §5.3.13.3; Linux's
 *   `ip_forward_options()`), with its header checksum recomputed.
 * - **Timestamps** are milliseconds since midnight UT (RFC 791). The stack's
 *   clock is not a calendar: the plugin option `epoch` is the number of µs
 *   to add to the clock to get µs since 1970-01-01T00:00Z, i.e. the wall
 *   time at clock 0 (the same convention as the daytime and http plugins'
 *   `epoch`, which `netstack up` fills in from the real time for every
 *   plugin declaring it); the value is `floor((now + epoch) / 1000) mod
 *   86400000`. With the default 0 it is the clock itself modulo 24 hours,
 *   deterministic under a `ManualClock`.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import type { IcmpErrorService } from "../../services.ts";
import {
  checkIpv4Options,
  IPV4_MAX_OPTIONS_LEN,
  Ipv4OptionOffsets,
  ipv4TimestampOverflowed,
  recordIpv4Options,
} from "../../wire/ipv4_options.ts";
import { ICMP_PARAMETER_PROBLEM } from "../../wire/icmpv4.ts";
import { ipv4HeaderChecksum } from "./fragment.ts";
import { ipv4HeaderLen, setIpv4ChecksumField } from "../../wire/ipv4_fields.ts";

const DAY_MS = 86_400_000;

/** Why received options made the IPv4 plugin drop a datagram (`ipv4.rx.<reason>`). */
export type OptionsDropReason = "bad_options" | "source_route";

/**
 * Milliseconds since midnight UT at `now` (see the module doc).
 *
 * @example
 * ```ts
 * import { msSinceMidnight } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(msSinceMidnight(1_500_999, 0), 1500);
 * assert.equal(msSinceMidnight(86_400_000_000 + 7_000, 0), 7); // the next day
 * assert.equal(msSinceMidnight(0, 3_600_000_000), 3_600_000); // epoch at 01:00
 * ```
 */
export function msSinceMidnight(now: Instant, epoch: number): number {
  const ms = Math.floor((now + epoch) / 1000) % DAY_MS;
  return ms < 0 ? ms + DAY_MS : ms;
}

/** Options of {@linkcode Ipv4OptionsProcessor}. */
export interface Ipv4OptionsConfig {
  /** Accept LSRR/SSRR instead of dropping (default false). */
  readonly acceptSourceRoute: boolean;
  /** µs to add to the clock to get µs since the Unix epoch (default 0). */
  readonly epoch: number;
  /** The stack's clock. */
  readonly now: () => Instant;
}

/**
 * The option handling of one IPv4 plugin instance.
 *
 * @example
 * ```ts
 * import { Ipv4OptionsProcessor } from "./options.ts";
 * import { PacketBuffer } from "../../packet.ts";
 * import { PacketFlags } from "../../packet_flags.ts";
 * import assert from "node:assert/strict";
 * const p = new Ipv4OptionsProcessor({ acceptSourceRoute: false, epoch: 0, now: () => 0 });
 * const b = new Uint8Array(24);
 * b.set([0x46, 0, 0, 24, 0, 0, 0, 0, 1, 2, 0, 0, 10, 0, 0, 1, 224, 0, 0, 22, 148, 4, 0, 0]);
 * const pkt = PacketBuffer.wrap(b);
 * pkt.l3 = 0;
 * assert.equal(p.receive(pkt, 0, 24, undefined), undefined);
 * assert.ok((pkt.flags & PacketFlags.ROUTER_ALERT) !== 0);
 * ```
 */
export class Ipv4OptionsProcessor {
  readonly #offsets = new Ipv4OptionOffsets();
  readonly #acceptSourceRoute: boolean;
  readonly #epoch: number;
  readonly #now: () => Instant;

  /** A processor with `config`. */
  constructor(config: Ipv4OptionsConfig) {
    this.#acceptSourceRoute = config.acceptSourceRoute;
    this.#epoch = config.epoch;
    this.#now = config.now;
  }

  /** Milliseconds since midnight UT now (see the module doc). */
  msNow(): number {
    return msSinceMidnight(this.#now(), this.#epoch);
  }

  /**
   * Checks the options of the received datagram whose `hlen`-byte header is
   * at `s` (= `pkt.l3`) and sets the option flags on `pkt`. A malformed one
   * is answered with Parameter Problem through `icmp`. Borrows `pkt`.
   *
   * Hot path: positional arguments.
   *
   * @returns Undefined to go on, else the drop reason.
   */
  receive(
    pkt: PacketBuffer,
    s: number,
    hlen: number,
    icmp: IcmpErrorService | undefined,
  ): OptionsDropReason | undefined {
    const o = this.#offsets;
    let bad = checkIpv4Options(pkt.buf, s + 20, hlen - 20, o);
    // A full Timestamp that cannot count us in its overflow (RFC 791; Linux).
    if (bad < 0 && o.ts >= 0 && ipv4TimestampOverflowed(pkt.buf, s + 20 + o.ts)) bad = o.ts + 3;
    if (bad >= 0) {
      // RFC 1122 §3.2.2.5, RFC 1812 §4.3.2: the pointer counts from the IP header.
      icmp?.send(pkt, ICMP_PARAMETER_PROBLEM, 0, 20 + bad);
      return "bad_options";
    }
    if (o.srr >= 0 && !this.#acceptSourceRoute) return "source_route";
    if (o.ra >= 0) pkt.flags |= PacketFlags.ROUTER_ALERT;
    if (o.rr >= 0) pkt.flags |= PacketFlags.IPV4_RECORD_ROUTE;
    if (o.ts >= 0) pkt.flags |= PacketFlags.IPV4_TIMESTAMP;
    return undefined;
  }

  /**
   * Records `addr` and the time in the Record Route / Timestamp options of
   * the checked header at `b[s..]` and, when that changed it, recomputes
   * the header checksum.
   *
   * Hot path: positional arguments.
   */
  record(b: Uint8Array, dv: DataView, s: number, addr: number): void {
    const hlen = ipv4HeaderLen(dv, s);
    if (!recordIpv4Options(b, s, hlen, addr, this.msNow(), true)) return;
    setIpv4ChecksumField(dv, s, 0);
    setIpv4ChecksumField(dv, s, ipv4HeaderChecksum(dv, s, hlen));
  }
}

const sendCheck = new Ipv4OptionOffsets();

/**
 * Checks the `options` argument of `ipv4.send`.
 *
 * @returns The header bytes they take (padded to a multiple of 4).
 * @throws {TypeError} If `options` is not a Uint8Array.
 * @throws {RangeError} If longer than 40 bytes or malformed.
 *
 * @example
 * ```ts
 * import { checkSendOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkSendOptions(new Uint8Array([148, 4, 0, 0])), 4);
 * assert.equal(checkSendOptions(new Uint8Array([1])), 4);
 * assert.throws(() => checkSendOptions(new Uint8Array([7, 7, 3, 0, 0, 0, 0])), RangeError);
 * ```
 */
export function checkSendOptions(options: unknown): number {
  if (!(options instanceof Uint8Array)) {
    throw new TypeError("Cannot send IPv4 options: expected a Uint8Array");
  }
  if (options.length > IPV4_MAX_OPTIONS_LEN) {
    throw new RangeError(
      `Cannot send ${options.length} bytes of IPv4 options: at most ${IPV4_MAX_OPTIONS_LEN} fit`,
    );
  }
  const bad = checkIpv4Options(options, 0, options.length, sendCheck);
  if (bad >= 0) {
    throw new RangeError(`Cannot send IPv4 options: ${sendCheck.error} at byte ${bad}`);
  }
  return (options.length + 3) & ~3;
}

/**
 * Checks a header handed to `ipv4.send` with `HEADER_INCLUDED`: at least 20
 * bytes, version 4, IHL at least 5 and within the packet, at most 65535
 * bytes in all. Options are not checked (raw senders may mean to send
 * malformed ones, as with Linux's IP_HDRINCL).
 *
 * @returns The header length.
 * @throws {RangeError} If the header is malformed.
 *
 * @example
 * ```ts
 * import { checkIncludedHeader } from "./options.ts";
 * import { PacketBuffer } from "../../packet.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * b[0] = 0x45;
 * assert.equal(checkIncludedHeader(PacketBuffer.wrap(b)), 20);
 * b[0] = 0x48; // IHL 8 = 32 bytes > 28
 * assert.throws(() => checkIncludedHeader(PacketBuffer.wrap(b)), RangeError);
 * ```
 */
export function checkIncludedHeader(pkt: PacketBuffer): number {
  const n = pkt.length;
  if (n < 20) {
    throw new RangeError(`Cannot send a raw IPv4 packet of ${n} bytes: the header needs 20`);
  }
  const v = pkt.buf[pkt.start]!;
  if (v >> 4 !== 4) throw new RangeError(`Cannot send a raw IPv4 packet of version ${v >> 4}`);
  const hlen = (v & 0x0f) << 2;
  if (hlen < 20 || hlen > n) {
    throw new RangeError(`Cannot send a raw IPv4 packet with IHL ${v & 0x0f} in ${n} bytes`);
  }
  if (n > 65535) throw new RangeError(`Cannot send a raw IPv4 packet of ${n} bytes`);
  return hlen;
}

/**
 * Pluggable congestion control (RFC 5681 roles): the connection reports
 * acknowledged bytes, congestion events and timeouts; the algorithm owns
 * `cwnd` and `ssthresh`. Loss *recovery* (fast retransmit, NewReno partial
 * ACKs, SACK pipe) is the connection's job; the algorithm only sizes the
 * window. Algorithms are chosen per connection by name.
 *
 * @module
 */
import type { Instant } from "../../../clock.ts";
import type { Rng } from "../../../rng.ts";
import { Bbr } from "./bbr.ts";
import { Cubic } from "./cubic.ts";
import type { RateSample } from "./delivery_rate.ts";
import { NewReno } from "./newreno.ts";

/** What a congestion-control algorithm implements. Windows are in bytes. */
export interface CongestionControl {
  /** `"newreno"`, `"cubic"`, `"bbr"`. */
  readonly name: string;
  /** Congestion window, bytes (the connection may set it during recovery). */
  cwnd: number;
  /** Slow-start threshold, bytes (`Infinity` before the first congestion event). */
  ssthresh: number;
  /** The sender's MSS changed (path MTU, options). */
  setMss(mss: number): void;
  /**
   * New data was acknowledged outside loss recovery: grow the window.
   * `flight` is the data outstanding before this ACK; `rtt` the smoothed RTT in µs.
   */
  onAck(acked: number, flight: number, now: Instant, rtt: number): void;
  /** Loss detected by duplicate ACKs or SACK: set `ssthresh` and `cwnd` to it. */
  onCongestion(flight: number, now: Instant): void;
  /** Retransmission timeout: set `ssthresh`, `cwnd` to one segment. */
  onTimeout(flight: number, now: Instant): void;
  /**
   * Every ACK's delivery-rate sample (`delivery_rate.ts`), after the
   * connection processed the ACK, in and out of recovery (BBR's model,
   * HyStart++'s RTT rounds). Optional.
   */
  onRateSample?(rs: RateSample): void;
  /**
   * The pacing rate the algorithm asks for, bytes/s (BBR), or 0/absent: the
   * connection then paces only when configured to (`pacing`), at Linux's
   * rate from cwnd and SRTT.
   */
  readonly pacingRate?: number;
  /**
   * The last congestion response (`onCongestion` or `onTimeout`) was
   * spurious: D-SACKs showed every retransmission arrived twice (RFC 3708).
   * The connection has already put `cwnd` and `ssthresh` back to at least
   * their values before the response (Linux's undo); restore any state of
   * the algorithm's own (CUBIC: W_max and its epoch). Optional.
   */
  onSpuriousRecovery?(): void;
  /**
   * The algorithm sets the window during recovery itself (BBR's packet
   * conservation), so PRR leaves `cwnd` alone, as Linux skips
   * `tcp_cwnd_reduction` for a `cong_control` algorithm.
   */
  readonly ownsRecoveryWindow?: boolean;
  /**
   * Sending starts again after an application-limited idle period (nothing
   * in flight). Optional (BBR paces at the bandwidth estimate then).
   */
  onIdleRestart?(): void;
}

/** Options of {@linkcode createCongestionControl}. */
export interface CongestionOptions {
  /** HyStart++ (RFC 9406) in NewReno's and CUBIC's initial slow start (default true). */
  readonly hystart?: boolean;
  /** Randomness (BBR's ProbeBW phase); default: a fixed sequence. */
  readonly rng?: Rng;
}

/**
 * A constructor of a congestion-control algorithm (the built-ins', or one a
 * plugin registers through the `tcp.congestion` service).
 */
export type CongestionFactory = (
  mss: number,
  initialSegments: number,
  options: CongestionOptions,
) => CongestionControl;

/** Names of the built-in algorithms. */
export const CONGESTION_CONTROLS: readonly string[] = ["newreno", "cubic", "bbr"];

/**
 * A new instance of the algorithm `name` for a connection with send MSS
 * `mss` and an initial window of `initialSegments` (RFC 6928).
 *
 * @throws {TypeError} For an unknown name.
 *
 * @example
 * ```ts
 * import { createCongestionControl } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const cc = createCongestionControl("newreno", 1000, 10);
 * assert.equal(cc.cwnd, 10_000);
 * cc.onTimeout(20_000, 0);
 * assert.equal(cc.cwnd, 1000);
 * assert.equal(cc.ssthresh, 10_000);
 * ```
 */
export function createCongestionControl(
  name: string,
  mss: number,
  initialSegments: number,
  options: CongestionOptions = {},
): CongestionControl {
  switch (name) {
    case "newreno":
    case "reno":
      return new NewReno(mss, initialSegments, options);
    case "cubic":
      return new Cubic(mss, initialSegments, options);
    case "bbr":
      return new Bbr(mss, initialSegments, options);
    default:
      throw new TypeError(
        `Cannot use congestion control "${name}": expected one of ${
          CONGESTION_CONTROLS.join(", ")
        }`,
      );
  }
}

export { Bbr, Cubic, NewReno };

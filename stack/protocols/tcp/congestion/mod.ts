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
import { Cubic } from "./cubic.ts";
import { NewReno } from "./newreno.ts";

/** What a congestion-control algorithm implements. Windows are in bytes. */
export interface CongestionControl {
  /** `"newreno"`, `"cubic"`. */
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
   * The last congestion response (`onCongestion` or `onTimeout`) was
   * spurious: D-SACKs showed every retransmission arrived twice (RFC 3708).
   * The connection has already put `cwnd` and `ssthresh` back to at least
   * their values before the response (Linux's undo); restore any state of
   * the algorithm's own (CUBIC: W_max and its epoch).
   */
  onSpuriousRecovery?(): void;
}

/** Names of the built-in algorithms. */
export const CONGESTION_CONTROLS: readonly string[] = ["newreno", "cubic"];

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
): CongestionControl {
  switch (name) {
    case "newreno":
    case "reno":
      return new NewReno(mss, initialSegments);
    case "cubic":
      return new Cubic(mss, initialSegments);
    default:
      throw new TypeError(
        `Cannot use congestion control "${name}": expected one of ${
          CONGESTION_CONTROLS.join(", ")
        }`,
      );
  }
}

export { Cubic, NewReno };

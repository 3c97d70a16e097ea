/**
 * The fault model of a virtual link direction, and its counters.
 *
 * @module
 */
import type { Duration } from "../../stack/clock.ts";

/**
 * One direction of a {@linkcode Link}: from end `a` to end `b`, or back.
 *
 * @example
 * ```ts
 * import { VirtualNetwork, type Direction } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork().link();
 * const dir: Direction = "a->b";
 * assert.equal(link.stats(dir).sent, 0);
 * ```
 */
export type Direction = "a->b" | "b->a";
/**
 * A direction, or both of them.
 *
 * @example
 * ```ts
 * import { VirtualNetwork, type Directions } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const link = new VirtualNetwork().link();
 * const dirs: Directions = "both";
 * link.partition(dirs);
 * assert.ok(link.isPartitioned("a->b") && link.isPartitioned("b->a"));
 * ```
 */
export type Directions = Direction | "both";

/**
 * How much a direction may hold waiting to be serialized (only meaningful with
 * a `bandwidth`). A frame that would exceed either bound is tail-dropped and
 * counted as `queue_full`. Occupancy counts every frame accepted and not yet
 * fully serialized, the one on the wire included.
 *
 * @example
 * ```ts
 * import type { QueueLimit } from "./faults.ts";
 * import assert from "node:assert/strict";
 * const limit: QueueLimit = { packets: 64, bytes: 96_000 };
 * assert.equal(limit.packets, 64);
 * ```
 */
export interface QueueLimit {
  /** Most frames queued at once. */
  readonly packets?: number;
  /** Most bytes queued at once. */
  readonly bytes?: number;
}

/**
 * Faults applied to every frame sent in one direction. Every field is
 * optional; an omitted field means "no such fault". Probabilities are in
 * [0, 1]; durations are integer microseconds of virtual time.
 *
 * A frame sent at `now` goes through, in this order: partition, MTU, the
 * transmit queue (`bandwidth`, `queueLimit`), `loss`, `duplicate`, then for
 * each copy `corrupt` and its delivery time `delay ± jitter`, possibly held
 * back by `reorder`. Frames that `reorder` does not hold back keep their
 * order (FIFO per direction), even with jitter.
 *
 * @example
 * ```ts
 * import type { Faults } from "./faults.ts";
 * import assert from "node:assert/strict";
 * const lossyWan: Faults = { delay: 20_000, jitter: 2_000, loss: 0.01, bandwidth: 10_000_000 };
 * assert.equal(lossyWan.loss, 0.01);
 * ```
 */
export interface Faults {
  /** Probability that a frame is lost on the wire. */
  readonly loss?: number;
  /** Probability that a frame arrives twice (the copy is a new pooled buffer). */
  readonly duplicate?: number;
  /** Probability that a frame is held back by `reorderDelay`, letting later ones pass. */
  readonly reorder?: number;
  /** How long `reorder` holds a frame back (default 1 ms). */
  readonly reorderDelay?: Duration;
  /** Propagation delay (default 0). */
  readonly delay?: Duration;
  /** Uniform random variation of `delay`, ± this many microseconds. */
  readonly jitter?: Duration;
  /** Probability that one uniformly chosen bit of the frame is flipped. */
  readonly corrupt?: number;
  /** Serialization rate in bits per second; frames queue behind each other. */
  readonly bandwidth?: number;
  /** Bound on the transmit queue when `bandwidth` is set. */
  readonly queueLimit?: QueueLimit;
  /**
   * An AQM step (RFC 3168 §5, as a RED queue with `ecn` at a fixed
   * threshold): with `bandwidth`, a frame arriving while more than this
   * many bytes wait is marked CE if its IP packet is ECN-capable (counted
   * in `ceMarked`) and dropped as `aqm` if not.
   */
  readonly ecnMarkThreshold?: number;
}

/**
 * Default {@linkcode Faults.reorderDelay}: 1 ms.
 *
 * @example
 * ```ts
 * import { DEFAULT_REORDER_DELAY } from "./faults.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_REORDER_DELAY, 1_000);
 * ```
 */
export const DEFAULT_REORDER_DELAY: Duration = 1_000;

/**
 * Frames dropped in one direction, by reason.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const link = net.link();
 * const drops = link.stats("a->b").dropped;
 * assert.equal(drops.loss + drops.queue_full + drops.mtu + drops.partition + drops.detached, 0);
 * ```
 */
export interface DropCounts {
  /** Lost to {@linkcode Faults.loss}. */
  loss: number;
  /** Tail-dropped because the transmit queue was full. */
  "queue_full": number;
  /** The frame's payload exceeded the link MTU. */
  mtu: number;
  /** Sent into, or in flight during, a partition. */
  partition: number;
  /** The receiving end was not attached or was closed (or the network was closed). */
  detached: number;
  /** Not ECN-capable, arriving above {@linkcode Faults.ecnMarkThreshold}. */
  aqm: number;
}

/**
 * Counters of one direction of a link. Every frame is accounted for:
 * `sent + duplicated = delivered + (sum of dropped) + (frames in flight)`.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const link = net.link();
 * link.a.transmit(net.pool.copyOf(new Uint8Array(60)));
 * net.runUntilIdle();
 * const s = link.stats("a->b");
 * assert.equal(s.sent, 1);
 * assert.equal(s.dropped.detached, 1); // nobody attached to end b
 * ```
 */
export interface LinkStats {
  /** Frames handed to `transmit()`. */
  sent: number;
  /** Bytes handed to `transmit()`. */
  bytesSent: number;
  /** Frames handed to the receiver's `port.receive()`. */
  delivered: number;
  /** Bytes handed to the receiver. */
  bytesDelivered: number;
  /** Frames dropped, by reason. */
  dropped: DropCounts;
  /** Extra copies made by {@linkcode Faults.duplicate}. */
  duplicated: number;
  /** Frames with a bit flipped by {@linkcode Faults.corrupt}. */
  corrupted: number;
  /** Frames held back by {@linkcode Faults.reorder}. */
  reordered: number;
  /** Frames marked CE by {@linkcode Faults.ecnMarkThreshold}. */
  ceMarked: number;
}

function probability(name: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 0 && v <= 1)) {
    throw new RangeError(`Cannot set faults: ${name} must be a probability in [0, 1], got ${v}`);
  }
}

function duration(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
    throw new RangeError(
      `Cannot set faults: ${name} must be a non-negative integer of microseconds, got ${v}`,
    );
  }
}

/**
 * Checks `faults` and returns a frozen copy.
 *
 * @param faults The faults to check.
 * @returns A frozen copy of `faults`.
 * @throws {RangeError} If a probability is outside [0, 1], a duration is not a
 * non-negative integer, or a bandwidth or queue limit is not positive.
 *
 * @example
 * ```ts
 * import { checkFaults } from "./faults.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(checkFaults({ loss: 0.5 }), { loss: 0.5 });
 * assert.throws(() => checkFaults({ loss: 2 }), RangeError);
 * ```
 */
export function checkFaults(faults: Faults): Readonly<Faults> {
  probability("loss", faults.loss);
  probability("duplicate", faults.duplicate);
  probability("reorder", faults.reorder);
  probability("corrupt", faults.corrupt);
  duration("delay", faults.delay);
  duration("jitter", faults.jitter);
  duration("reorderDelay", faults.reorderDelay);
  const bw = faults.bandwidth;
  if (bw !== undefined && !(bw > 0)) {
    throw new RangeError(`Cannot set faults: bandwidth must be positive bits/s, got ${bw}`);
  }
  const mark = faults.ecnMarkThreshold;
  if (mark !== undefined && !(Number.isInteger(mark) && mark > 0)) {
    throw new RangeError(
      `Cannot set faults: ecnMarkThreshold must be a positive integer of bytes, got ${mark}`,
    );
  }
  const q = faults.queueLimit;
  let queueLimit: QueueLimit | undefined;
  if (q !== undefined) {
    for (const k of ["packets", "bytes"] as const) {
      const v = q[k];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
        throw new RangeError(
          `Cannot set faults: queueLimit.${k} must be a positive integer, got ${v}`,
        );
      }
    }
    queueLimit = Object.freeze({ ...q });
  }
  const copy: Faults = queueLimit === undefined ? { ...faults } : { ...faults, queueLimit };
  return Object.freeze(copy);
}

/** @internal A zeroed {@linkcode LinkStats}. */
export function emptyStats(): LinkStats {
  return {
    sent: 0,
    bytesSent: 0,
    delivered: 0,
    bytesDelivered: 0,
    dropped: { loss: 0, "queue_full": 0, mtu: 0, partition: 0, detached: 0, aqm: 0 },
    duplicated: 0,
    corrupted: 0,
    reordered: 0,
    ceMarked: 0,
  };
}

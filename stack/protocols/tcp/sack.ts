/**
 * The sender's SACK scoreboard (RFC 2018, RFC 6675 §2-4): which ranges above
 * `SND.UNA` the peer reported holding, the loss rule `IsLost`, the `pipe`
 * estimate and `NextSeg` for loss recovery. Ranges are kept sorted and merged,
 * at most `limit` of them (older reports beyond that are forgotten, which
 * only makes recovery more conservative). All sequence arithmetic is mod 2^32.
 *
 * @module
 */
import type { TcpOptionSet } from "../../wire/tcp_options.ts";
import { seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax, seqMin } from "./seq.ts";

/** RFC 6675 DupThresh. */
export const DUP_THRESH = 3;

/**
 * SACKed ranges `[left, right)` above the cumulative ACK.
 *
 * @example
 * ```ts
 * import { Scoreboard } from "./sack.ts";
 * import assert from "node:assert/strict";
 * const sb = new Scoreboard(16);
 * // 0..1000 outstanding in 100-byte segments, 100..400 SACKed: 0..100 is lost.
 * sb.add(100, 400, 0, 1000);
 * assert.equal(sb.sacked, 300);
 * assert.ok(sb.isLost(0, 100));
 * assert.equal(sb.nextHole(0, 0, 100), 0);
 * assert.equal(sb.pipe(0, 1000, 0, 100), 600); // 400..1000 still in flight
 * ```
 */
export class Scoreboard {
  /** Most ranges kept. */
  readonly limit: number;
  readonly #l: number[] = [];
  readonly #r: number[] = [];
  /** Bytes SACKed. */
  sacked = 0;

  /** An empty scoreboard keeping at most `limit` ranges. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Number of ranges. */
  get count(): number {
    return this.#l.length;
  }
  /** Whether nothing is SACKed. */
  get empty(): boolean {
    return this.#l.length === 0;
  }
  /** The highest SACKed sequence (right edge), or undefined. */
  get highest(): number | undefined {
    const n = this.#r.length;
    return n === 0 ? undefined : this.#r[n - 1];
  }
  /** Left edge of range `i`. */
  left(i: number): number {
    return this.#l[i]!;
  }
  /** Right edge of range `i`. */
  right(i: number): number {
    return this.#r[i]!;
  }

  /**
   * Records a SACK block, clipped to `(una, sndMax]`; returns the number of
   * bytes newly SACKed (0 for a stale, bogus or D-SACK block).
   */
  add(left: number, right: number, una: number, sndMax: number): number {
    if (seqLt(left, una)) left = una;
    if (seqGt(right, sndMax)) right = sndMax;
    if (!seqLt(left, right)) return 0;
    const L = this.#l, R = this.#r;
    let i = 0;
    while (i < L.length && seqLt(R[i]!, left)) i++;
    let j = i;
    while (j < L.length && seqLe(L[j]!, right)) j++;
    let before = 0;
    for (let k = i; k < j; k++) before += seqDiff(R[k]!, L[k]!);
    if (i === j) {
      if (L.length >= this.limit) {
        // Forget the highest range to make room: conservative (less SACKed).
        const last = L.length - 1;
        if (i > last) return 0;
        this.sacked -= seqDiff(R[last]!, L[last]!);
        L.pop();
        R.pop();
      }
      L.splice(i, 0, left);
      R.splice(i, 0, right);
    } else {
      const nl = seqMin(L[i]!, left), nr = seqMax(R[j - 1]!, right);
      L[i] = nl;
      R[i] = nr;
      if (j - i > 1) {
        L.splice(i + 1, j - i - 1);
        R.splice(i + 1, j - i - 1);
      }
      left = nl;
      right = nr;
    }
    const added = seqDiff(right, left) - before;
    this.sacked += added;
    return added;
  }

  /** Drops what the cumulative ACK `una` now covers. */
  ackTo(una: number): void {
    const L = this.#l, R = this.#r;
    while (L.length > 0 && seqLe(R[0]!, una)) {
      this.sacked -= seqDiff(R[0]!, L[0]!);
      L.shift();
      R.shift();
    }
    if (L.length > 0 && seqLt(L[0]!, una)) {
      this.sacked -= seqDiff(una, L[0]!);
      L[0] = una;
    }
  }

  /** Forgets everything (after a timeout, RFC 2018 §8). */
  clear(): void {
    this.#l.length = this.#r.length = 0;
    this.sacked = 0;
  }

  /** Whether `seq` is SACKed. */
  isSacked(seq: number): boolean {
    const L = this.#l, R = this.#r;
    for (let i = 0; i < L.length; i++) {
      if (seqLt(seq, L[i]!)) return false;
      if (seqLt(seq, R[i]!)) return true;
    }
    return false;
  }

  /**
   * RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges above it, or
   * more than (DupThresh − 1)·SMSS bytes SACKed above it.
   */
  isLost(seq: number, mss: number): boolean {
    const L = this.#l, R = this.#r;
    let ranges = 0, bytes = 0;
    for (let i = L.length - 1; i >= 0; i--) {
      const r = R[i]!;
      if (seqLe(r, seq)) break;
      const l = seqMax(L[i]!, seq + 1);
      ranges++;
      bytes += seqDiff(r, l);
      if (ranges >= DUP_THRESH || bytes > (DUP_THRESH - 1) * mss) return true;
    }
    return false;
  }

  /**
   * The highest sequence below which every un-SACKed byte counts as lost
   * (IsLost is monotone), or `una` when nothing is.
   */
  lostEdge(una: number, mss: number): number {
    const L = this.#l, R = this.#r;
    let ranges = 0, bytes = 0;
    for (let i = L.length - 1; i >= 0; i--) {
      const l = L[i]!, r = R[i]!;
      const size = seqDiff(r, l);
      ranges++;
      if (ranges >= DUP_THRESH) return l;
      const need = (DUP_THRESH - 1) * mss + 1 - bytes; // bytes still needed above the edge
      if (size >= need) return (r - need) >>> 0; // seq s where exactly `need` bytes lie above
      bytes += size;
    }
    return una;
  }

  /**
   * RFC 6675 SetPipe, in bytes: un-SACKed bytes in `[una, sndMax)` not
   * judged lost, plus lost bytes already retransmitted (below `highRxt`).
   */
  pipe(una: number, sndMax: number, highRxt: number, mss: number): number {
    const edge = this.lostEdge(una, mss);
    let pipe = 0;
    let at = una;
    const L = this.#l, R = this.#r;
    for (let i = 0; i <= L.length; i++) {
      const holeEnd = i < L.length ? L[i]! : sndMax;
      if (seqLt(at, holeEnd)) pipe += this.#holePipe(at, holeEnd, edge, highRxt);
      if (i < L.length) at = seqMax(at, R[i]!);
    }
    return pipe;
  }

  /** Pipe contribution of the un-SACKed hole `[a, b)`. */
  #holePipe(a: number, b: number, edge: number, highRxt: number): number {
    // Part at or above the loss edge: in flight.
    let n = seqGt(b, edge) ? seqDiff(b, seqMax(a, edge)) : 0;
    // Part below the edge: lost; counts only where retransmitted.
    const lostEnd = seqMin(b, edge);
    if (seqLt(a, lostEnd) && seqGt(highRxt, a)) n += seqDiff(seqMin(lostEnd, highRxt), a);
    return n;
  }

  /**
   * RFC 6675 NextSeg rule (1): the first un-SACKed sequence at or above
   * `from` (= max(HighRxt, una)) that is below the highest SACKed byte and
   * lost; -1 if none. With `requireLost` false it is rule (3).
   */
  nextHole(from: number, una: number, mss: number, requireLost = true): number {
    const L = this.#l, R = this.#r;
    if (L.length === 0) return -1;
    let at = seqMax(from, una);
    for (let i = 0; i < L.length; i++) {
      if (seqLt(at, L[i]!)) {
        if (!requireLost || this.isLost(at, mss)) return at;
        return -1; // IsLost is monotone: later holes are not lost either
      }
      at = seqMax(at, R[i]!);
    }
    return -1;
  }

  /** End of the hole starting at `seq`: the next SACKed left edge, or `limit`. */
  holeEnd(seq: number, limit: number): number {
    const L = this.#l;
    for (let i = 0; i < L.length; i++) if (seqGt(L[i]!, seq)) return seqMin(L[i]!, limit);
    return limit;
  }

  /** Whether `seq` is at or above the last SACKed byte (nothing SACKed beyond). */
  above(seq: number): boolean {
    const h = this.highest;
    return h === undefined || seqGe(seq, h);
  }
}

/**
 * Drops the SACK blocks of an incoming ACK that report data never sent
 * (the right edge past `sndMax`) or nothing (empty), compacting the rest in
 * place, so that neither RACK nor the scoreboard sees them (Linux's
 * `tcp_is_sackblock_valid` skips such a block whole; clipping it would
 * still take its segments as delivered). A first block that is a D-SACK
 * was judged already (`dsackValid`, counted in `dsacks_invalid`): kept or
 * dropped by that, and not counted here. Returns how many other blocks
 * were dropped.
 *
 * @example
 * ```ts
 * import { dropInvalidSackBlocks } from "./sack.ts";
 * import { TcpOptionSet } from "../../wire/tcp_options.ts";
 * import assert from "node:assert/strict";
 * const opts = new TcpOptionSet();
 * opts.sackBlocks.set([100, 5000, 200, 300]);
 * opts.sackCount = 2;
 * assert.equal(dropInvalidSackBlocks(opts, 1000, false, false), 1);
 * assert.equal(opts.sackCount, 1);
 * assert.deepEqual([...opts.sackBlocks.subarray(0, 2)], [200, 300]);
 * ```
 */
export function dropInvalidSackBlocks(
  opts: TcpOptionSet,
  sndMax: number,
  firstIsDsack: boolean,
  dsackValid: boolean,
): number {
  const B = opts.sackBlocks;
  const n = opts.sackCount;
  let kept = 0;
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const l = B[2 * i]!, r = B[2 * i + 1]!;
    let keep: boolean;
    if (i === 0 && firstIsDsack) keep = dsackValid;
    else {
      keep = seqLe(r, sndMax) && seqLt(l, r);
      if (!keep) dropped++;
    }
    if (!keep) continue;
    B[2 * kept] = l;
    B[2 * kept + 1] = r;
    kept++;
  }
  opts.sackCount = kept;
  return dropped;
}

/**
 * Window rules every congestion-control algorithm here shares.
 *
 * @module
 */

/** Initial window of `initialSegments` segments of `mss` bytes (RFC 6928's cap of 14600 bytes). */
export function initialWindow(mss: number, initialSegments: number): number {
  if (initialSegments <= 2) return initialSegments * mss;
  return Math.min(initialSegments * mss, Math.max(2 * mss, 14600));
}

/**
 * Whether the sender is using its window: a window it is not using must not
 * grow (RFC 7661's idea, as Linux does).
 */
export function cwndLimited(flight: number, cwnd: number, mss: number): boolean {
  return !(flight + 2 * mss < cwnd && flight < cwnd / 2);
}

/**
 * The window after slow start grows it by `acked` bytes, capped at
 * `ssthresh`. Every byte a stretch ACK covers counts (Linux
 * `tcp_slow_start`), rather than RFC 3465's L = 2·SMSS per ACK: receivers
 * that acknowledge a whole receive batch at once (Linux with GRO, this stack)
 * would otherwise make slow start grow linearly.
 */
export function slowStart(cwnd: number, acked: number, ssthresh: number): number {
  return Math.min(cwnd + acked, ssthresh);
}

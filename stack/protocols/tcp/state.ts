/**
 * Connection states (RFC 9293 §3.3.2) as small integers, with their names.
 *
 * @module
 */

/** No connection (a freed endpoint). */
export const CLOSED = 0;
/** Waiting for a connection request (listeners only). */
export const LISTEN = 1;
/** Sent a SYN, waiting for the matching SYN. */
export const SYN_SENT = 2;
/** Received and sent a SYN, waiting for the ACK of ours. */
export const SYN_RECEIVED = 3;
/** Open; data flows both ways. */
export const ESTABLISHED = 4;
/** We closed; our FIN is not yet acknowledged. */
export const FIN_WAIT_1 = 5;
/** Our FIN is acknowledged; waiting for the peer's. */
export const FIN_WAIT_2 = 6;
/** The peer closed; we may still send. */
export const CLOSE_WAIT = 7;
/** Both sent FIN at once; waiting for the ACK of ours. */
export const CLOSING = 8;
/** The peer closed first and we closed; waiting for the ACK of our FIN. */
export const LAST_ACK = 9;
/** Waiting 2×MSL so late duplicates die out. */
export const TIME_WAIT = 10;

/** A state number. */
export type TcpState = number;

const NAMES = [
  "CLOSED",
  "LISTEN",
  "SYN-SENT",
  "SYN-RECEIVED",
  "ESTABLISHED",
  "FIN-WAIT-1",
  "FIN-WAIT-2",
  "CLOSE-WAIT",
  "CLOSING",
  "LAST-ACK",
  "TIME-WAIT",
];

/**
 * The RFC name of a state.
 *
 * @example
 * ```ts
 * import { ESTABLISHED, stateName } from "./state.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stateName(ESTABLISHED), "ESTABLISHED");
 * ```
 */
export function stateName(s: TcpState): string {
  return NAMES[s] ?? `STATE-${s}`;
}

/**
 * Whether the state is synchronized (RFC 9293 §3.5.2: ESTABLISHED and after).
 *
 * @example
 * ```ts
 * import { isSynchronized, SYN_SENT, TIME_WAIT } from "./state.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isSynchronized(TIME_WAIT) && !isSynchronized(SYN_SENT));
 * ```
 */
export function isSynchronized(s: TcpState): boolean {
  return s >= ESTABLISHED;
}

/**
 * Whether we may still send data in this state (ESTABLISHED or CLOSE-WAIT).
 *
 * @example
 * ```ts
 * import { canSend, CLOSE_WAIT, FIN_WAIT_1 } from "./state.ts";
 * import assert from "node:assert/strict";
 * assert.ok(canSend(CLOSE_WAIT) && !canSend(FIN_WAIT_1));
 * ```
 */
export function canSend(s: TcpState): boolean {
  return s === ESTABLISHED || s === CLOSE_WAIT;
}

/**
 * Whether data from the peer may still arrive (ESTABLISHED, FIN-WAIT-1/2).
 *
 * @example
 * ```ts
 * import { canReceive, FIN_WAIT_2, CLOSE_WAIT } from "./state.ts";
 * import assert from "node:assert/strict";
 * assert.ok(canReceive(FIN_WAIT_2) && !canReceive(CLOSE_WAIT));
 * ```
 */
export function canReceive(s: TcpState): boolean {
  return s === ESTABLISHED || s === FIN_WAIT_1 || s === FIN_WAIT_2;
}

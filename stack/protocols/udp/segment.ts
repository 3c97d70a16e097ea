/**
 * The send-side rules of a socket's `segmentSize` (Linux's `UDP_SEGMENT`,
 * `udp_send_skb`): one send of a payload larger than the segment size
 * becomes one UDP super-datagram that travels the stack whole (one route
 * lookup, one IP header, one neighbour resolution) and is cut into
 * datagrams of `segmentSize` payload bytes by the link (USO) or right
 * before it (`wire/udp_gso.ts`).
 *
 * @module
 */
import { UDP_MAX_SEGMENTS } from "../../wire/udp_gso.ts";

const UDP_HEADER_LEN = 8;

/**
 * Why a send of `length` payload bytes with segment size `segmentSize`
 * cannot go, as Linux's `udp_send_skb` decides, or undefined:
 * `"segment_too_long"` (Linux's EMSGSIZE) when one datagram (IP + UDP header and
 * `min(length, segmentSize)` bytes) does not fit the path MTU `pathMtu` —
 * a segmented send is never fragmented —, `"too_many_segments"` (Linux's
 * EINVAL) when it would make more than {@linkcode UDP_MAX_SEGMENTS}
 * datagrams. `pathMtu` 0 (no route) is left to the routing that follows.
 *
 * @param length Payload bytes of the send.
 * @param segmentSize Payload bytes per datagram (above 0).
 * @param headerLength The IP header (20 or 40).
 * @param pathMtu The path MTU towards the destination, or 0.
 * @returns The reason, or undefined.
 *
 * @example
 * ```ts
 * import { segmentSendError } from "./segment.ts";
 * import assert from "node:assert/strict";
 * assert.equal(segmentSendError(10000, 1472, 20, 1500), undefined);
 * assert.equal(segmentSendError(10000, 1473, 20, 1500), "segment_too_long");
 * assert.equal(segmentSendError(129, 1, 20, 1500), "too_many_segments");
 * ```
 */
export function segmentSendError(
  length: number,
  segmentSize: number,
  headerLength: number,
  pathMtu: number,
): "segment_too_long" | "too_many_segments" | undefined {
  const one = length < segmentSize ? length : segmentSize;
  if (pathMtu > 0 && headerLength + UDP_HEADER_LEN + one > pathMtu) return "segment_too_long";
  if (length > segmentSize * UDP_MAX_SEGMENTS) return "too_many_segments";
  return undefined;
}

/**
 * ICMPv6 (RFC 4443): message type and code numbers, defined once, and the
 * header as allocation-free functions over `(bytes, off)` where `off` is the
 * offset of the ICMPv6 header (type, code, checksum, then 4 bytes whose
 * meaning depends on the type). The checksum covers the IPv6 pseudo-header
 * (RFC 8200 §8.1, RFC 4443 §2.3). Neighbor Discovery messages and options
 * are in `icmpv6_ndp.ts`.
 *
 * @module
 */

/**
 * Destination Unreachable (RFC 4443 §3.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_DESTINATION_UNREACHABLE } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_DESTINATION_UNREACHABLE, 1);
 * ```
 */
export const ICMPV6_DESTINATION_UNREACHABLE = 1;
/**
 * Packet Too Big (RFC 4443 §3.2).
 *
 * @example
 * ```ts
 * import { ICMPV6_PACKET_TOO_BIG } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_PACKET_TOO_BIG, 2);
 * ```
 */
export const ICMPV6_PACKET_TOO_BIG = 2;
/**
 * Time Exceeded (RFC 4443 §3.3).
 *
 * @example
 * ```ts
 * import { ICMPV6_TIME_EXCEEDED } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_TIME_EXCEEDED, 3);
 * ```
 */
export const ICMPV6_TIME_EXCEEDED = 3;
/**
 * Parameter Problem (RFC 4443 §3.4).
 *
 * @example
 * ```ts
 * import { ICMPV6_PARAMETER_PROBLEM } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_PARAMETER_PROBLEM, 4);
 * ```
 */
export const ICMPV6_PARAMETER_PROBLEM = 4;
/**
 * Echo Request (RFC 4443 §4.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_ECHO_REQUEST } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ECHO_REQUEST, 128);
 * ```
 */
export const ICMPV6_ECHO_REQUEST = 128;
/**
 * Echo Reply (RFC 4443 §4.2).
 *
 * @example
 * ```ts
 * import { ICMPV6_ECHO_REPLY } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ECHO_REPLY, 129);
 * ```
 */
export const ICMPV6_ECHO_REPLY = 129;
/**
 * Multicast Listener Query (RFC 2710 §3, RFC 3810 §5.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_MLD_QUERY } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_MLD_QUERY, 130);
 * ```
 */
export const ICMPV6_MLD_QUERY = 130;
/**
 * Multicast Listener Report, version 1 (RFC 2710 §3).
 *
 * @example
 * ```ts
 * import { ICMPV6_MLD_REPORT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_MLD_REPORT, 131);
 * ```
 */
export const ICMPV6_MLD_REPORT = 131;
/**
 * Multicast Listener Done (RFC 2710 §3).
 *
 * @example
 * ```ts
 * import { ICMPV6_MLD_DONE } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_MLD_DONE, 132);
 * ```
 */
export const ICMPV6_MLD_DONE = 132;
/**
 * Router Solicitation (RFC 4861 §4.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_ROUTER_SOLICITATION } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ROUTER_SOLICITATION, 133);
 * ```
 */
export const ICMPV6_ROUTER_SOLICITATION = 133;
/**
 * Router Advertisement (RFC 4861 §4.2).
 *
 * @example
 * ```ts
 * import { ICMPV6_ROUTER_ADVERTISEMENT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ROUTER_ADVERTISEMENT, 134);
 * ```
 */
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
/**
 * Neighbor Solicitation (RFC 4861 §4.3).
 *
 * @example
 * ```ts
 * import { ICMPV6_NEIGHBOR_SOLICITATION } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_NEIGHBOR_SOLICITATION, 135);
 * ```
 */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
/**
 * Neighbor Advertisement (RFC 4861 §4.4).
 *
 * @example
 * ```ts
 * import { ICMPV6_NEIGHBOR_ADVERTISEMENT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_NEIGHBOR_ADVERTISEMENT, 136);
 * ```
 */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/**
 * Redirect (RFC 4861 §4.5).
 *
 * @example
 * ```ts
 * import { ICMPV6_REDIRECT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_REDIRECT, 137);
 * ```
 */
export const ICMPV6_REDIRECT = 137;
/**
 * Version 2 Multicast Listener Report (RFC 3810 §5.2).
 *
 * @example
 * ```ts
 * import { ICMPV6_MLD2_REPORT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_MLD2_REPORT, 143);
 * ```
 */
export const ICMPV6_MLD2_REPORT = 143;

/**
 * Codes of Destination Unreachable (RFC 4443 §3.1).
 *
 * @example
 * ```ts
 * import { Icmpv6UnreachableCode } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(Icmpv6UnreachableCode.PORT_UNREACHABLE, 4);
 * ```
 */
export const Icmpv6UnreachableCode = {
  /** No route to destination. */
  NO_ROUTE: 0,
  /** Communication with destination administratively prohibited. */
  ADMINISTRATIVELY_PROHIBITED: 1,
  /** Beyond scope of source address. */
  BEYOND_SCOPE: 2,
  /** Address unreachable. */
  ADDRESS_UNREACHABLE: 3,
  /** Port unreachable. */
  PORT_UNREACHABLE: 4,
  /** Source address failed ingress/egress policy. */
  SOURCE_POLICY_FAILED: 5,
  /** Reject route to destination. */
  REJECT_ROUTE: 6,
} as const;

/**
 * Codes of Time Exceeded (RFC 4443 §3.3).
 *
 * @example
 * ```ts
 * import { Icmpv6TimeExceededCode } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(Icmpv6TimeExceededCode.REASSEMBLY, 1);
 * ```
 */
export const Icmpv6TimeExceededCode = {
  /** Hop limit exceeded in transit. */
  HOP_LIMIT: 0,
  /** Fragment reassembly time exceeded. */
  REASSEMBLY: 1,
} as const;

/**
 * Codes of Parameter Problem (RFC 4443 §3.4, RFC 7112 §5 for code 3).
 *
 * @example
 * ```ts
 * import { Icmpv6ParameterProblemCode } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER, 1);
 * ```
 */
export const Icmpv6ParameterProblemCode = {
  /** Erroneous header field encountered. */
  ERRONEOUS_HEADER: 0,
  /** Unrecognized Next Header type encountered. */
  UNRECOGNIZED_NEXT_HEADER: 1,
  /** Unrecognized IPv6 option encountered. */
  UNRECOGNIZED_OPTION: 2,
  /** IPv6 first fragment has incomplete IPv6 header chain (RFC 7112). */
  INCOMPLETE_CHAIN: 3,
} as const;

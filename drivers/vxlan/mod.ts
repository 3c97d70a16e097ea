/**
 * The VXLAN driver (RFC 7348): the stack's Ethernet frames in UDP over the
 * host's own sockets (no root, no TUN/TAP), one device per VNI, with a
 * learning forwarding database (bounded, aging, static entries) and a flood
 * list for broadcast, multicast and unknown unicast (head-end replication).
 * A Linux `ip link add vx0 type vxlan id N dstport 4789 remote ...` is a
 * peer like any other.
 *
 * - {@linkcode openVxlan} binds the local endpoint (port 4789 by default)
 *   and a few source-port sockets in 49152-65535, over which flows are
 *   spread by a hash of the inner frame.
 * - **MTU:** the outer headers take 50 bytes on an IPv4 underlay
 *   ({@linkcode VXLAN_OVERHEAD}), so the inner MTU defaults to 1450 for a
 *   1500-byte underlay; on an IPv6 underlay use 1430.
 * - Every dropped frame has a named counter ({@linkcode VxlanStats},
 *   {@linkcode FdbStats}).
 * - Drive the stack with `RealTimeRunner` (drivers/tun) and point
 *   `onBatch` at its `kick`.
 *
 * **Not supported:** multicast underlay groups (use the flood list), the
 * VXLAN-GPE/GBP extensions, ARP suppression (proxy ARP at the VTEP), outer
 * checksums other than the kernel's, more than one VNI per socket.
 *
 * @example
 * ```ts
 * import { openVxlan } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const dev = await openVxlan({ vni: 42, local: "127.0.0.1:0", remotes: ["127.0.0.1:4789"] });
 * assert.equal(dev.vni, 42);
 * assert.ok(dev.sourcePorts.every((p) => p >= 49152 && p <= 65535));
 * dev.close();
 * await dev.closed;
 * ```
 *
 * @module
 */
export {
  DEFAULT_SOURCE_PORTS,
  DEFAULT_VXLAN_MTU,
  flowHash,
  openVxlan,
  parseEndpoint,
  VXLAN_TX_PENDING_BYTES,
  VxlanDevice,
} from "./vxlan.ts";
export type { VxlanOptions, VxlanStats } from "./vxlan.ts";
export { DEFAULT_FDB_AGING, DEFAULT_FDB_SIZE, Fdb } from "./fdb.ts";
export type { FdbStats, VxlanEndpoint } from "./fdb.ts";
export {
  emitVxlan,
  parseVxlan,
  VXLAN_FLAG_I,
  VXLAN_HEADER_LEN,
  VXLAN_OVERHEAD,
  VXLAN_PORT,
  VXLAN_VNI_MAX,
  VxlanPacket,
} from "./header.ts";
export type { VxlanDropReason, VxlanRepr } from "./header.ts";
export type { VxlanTransport } from "./_udp.ts";

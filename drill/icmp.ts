/**
 * ICMP lines of a script: inbound errors quoting the stack's own datagram
 * (ICMPv4 `unreachable`, `time_exceeded`, …; ICMPv6 `unreachable`,
 * `packet_too_big`, …, where IPv4's `unreachable frag_needed` is IPv6's
 * packet too big), and outbound ones checked by type, code and MTU.
 *
 * @module
 */
import type { IcmpPacketSpec } from "./ast.ts";
import { internetChecksum } from "../stack/wire/checksum.ts";
import { addressText, ipDatagram, readIp, sameBytes, transportChecksum } from "./ip.ts";
import type { FlowState } from "./packets.ts";

const V4_TYPES: Readonly<Record<string, number>> = {
  "unreachable": 3,
  "source_quench": 4,
  "time_exceeded": 11,
  "parameter_problem": 12,
};
const V4_UNREACH_CODES: Readonly<Record<string, number>> = {
  "net_unreachable": 0,
  "host_unreachable": 1,
  "protocol_unreachable": 2,
  "port_unreachable": 3,
  "frag_needed": 4,
  "source_route_failed": 5,
  "net_unknown": 6,
  "host_unknown": 7,
  "source_host_isolated": 8,
  "net_prohibited": 9,
  "host_prohibited": 10,
  "net_tos": 11,
  "host_tos": 12,
  "packet_filtered": 13,
  "precedence_violation": 14,
  "precedence_cutoff": 15,
};
const V6_TYPES: Readonly<Record<string, number>> = {
  "unreachable": 1,
  "packet_too_big": 2,
  "time_exceeded": 3,
  "parameter_problem": 4,
};
const V6_UNREACH_CODES: Readonly<Record<string, number>> = {
  "no_route": 0,
  "net_unreachable": 0,
  "admin_prohibited": 1,
  "beyond_scope": 2,
  "address_unreachable": 3,
  "host_unreachable": 3,
  "port_unreachable": 4,
};

/** Type and code numbers of a line, or why there are none. */
function typeAndCode(spec: IcmpPacketSpec, v6: boolean): [number, number | undefined] | string {
  if (v6 && spec.type === "unreachable" && spec.code === "frag_needed") return [2, 0];
  const type = (v6 ? V6_TYPES : V4_TYPES)[spec.type];
  if (type === undefined) return `unsupported ICMP${v6 ? "v6" : ""} type "${spec.type}"`;
  if (spec.code === undefined) return [type, undefined];
  const named = type === (v6 ? 1 : 3)
    ? (v6 ? V6_UNREACH_CODES : V4_UNREACH_CODES)[spec.code]
    : undefined;
  const code = named ?? (/^\d+$/.test(spec.code) ? Number(spec.code) : undefined);
  if (code === undefined) return `unsupported ICMP code "${spec.code}"`;
  return [type, code];
}

/** The datagram of an inbound ICMP error line, or why it cannot be built. */
export function inboundIcmp(spec: IcmpPacketSpec, flow: FlowState): Uint8Array | string {
  const v6 = flow.localAddr.length === 16;
  const tc = typeAndCode(spec, v6);
  if (typeof tc === "string") return tc;
  const [type, code] = tc;
  // The quoted datagram: as the stack sent it (local → remote), its header and 8 bytes.
  const e = spec.echoed;
  const inner = new Uint8Array(8);
  const idv = new DataView(inner.buffer);
  idv.setUint16(0, flow.localPort);
  idv.setUint16(2, flow.remotePort);
  if (e.protocol === "tcp") idv.setUint32(4, (e.seq + (flow.localIsn ?? 0)) >>> 0);
  else idv.setUint16(4, 8 + e.length);
  const quoted = ipDatagram(
    flow.localAddr,
    flow.remoteAddr,
    e.protocol === "tcp" ? 6 : 17,
    {},
    inner,
  );
  const innerLen = (e.protocol === "tcp" ? 20 : 8) + e.length;
  const qdv = new DataView(quoted.buffer);
  if (v6) qdv.setUint16(4, innerLen);
  else {
    qdv.setUint16(2, 20 + innerLen);
    qdv.setUint16(10, 0);
    qdv.setUint16(10, internetChecksum(quoted.subarray(0, 20)));
  }
  const icmp = new Uint8Array(8 + quoted.length);
  const dv = new DataView(icmp.buffer);
  icmp[0] = type;
  icmp[1] = code ?? 0;
  if (spec.mtu !== undefined) {
    if (v6) dv.setUint32(4, spec.mtu);
    else dv.setUint16(6, spec.mtu);
  }
  icmp.set(quoted, 8);
  dv.setUint16(
    2,
    v6 ? transportChecksum(flow.remoteAddr, flow.localAddr, 58, icmp) : internetChecksum(icmp),
  );
  return ipDatagram(flow.remoteAddr, flow.localAddr, v6 ? 58 : 1, spec.ip, icmp);
}

/**
 * Compares an outbound ICMP line (type, code, MTU) with what the stack
 * sent; returns the difference or null. The quoted datagram is not compared.
 */
export function matchOutboundIcmp(
  spec: IcmpPacketSpec,
  p: Uint8Array,
  flow: FlowState,
): string | null {
  const v6 = flow.localAddr.length === 16;
  const ip = readIp(p);
  if (ip === undefined || ip.protocol !== (v6 ? 58 : 1) || ip.payload.length < 8) {
    return `expected an ICMP${v6 ? "v6" : ""} packet`;
  }
  if (!sameBytes(ip.src, flow.localAddr) || !sameBytes(ip.dst, flow.remoteAddr)) {
    return `live packet addresses: ${addressText(ip.src)} > ${addressText(ip.dst)}`;
  }
  const tc = typeAndCode(spec, v6);
  if (typeof tc === "string") return tc;
  const m = ip.payload;
  if (m[0] !== tc[0]) return `live packet field icmp_type: expected: ${tc[0]} vs actual: ${m[0]}`;
  if (tc[1] !== undefined && m[1] !== tc[1]) {
    return `live packet field icmp_code: expected: ${tc[1]} vs actual: ${m[1]}`;
  }
  const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const mtu = v6 ? dv.getUint32(4) : dv.getUint16(6);
  if (spec.mtu !== undefined && mtu !== spec.mtu) {
    return `live packet field icmp_mtu: expected: ${spec.mtu} vs actual: ${mtu}`;
  }
  return null;
}

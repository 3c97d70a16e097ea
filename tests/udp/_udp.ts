/**
 * UDP test helpers: a datagram builder whose checksum is computed here (not
 * by the stack's code), a gVisor-style UDP checker, an ICMP error builder,
 * and a stand-in for the ICMP plugin's `ip.error` delivery (the contract in
 * `IcmpErrorService`'s doc), for stacks whose ICMP plugin does not dispatch
 * errors yet.
 *
 * @example
 * ```ts
 * import { checkUdp, udpDatagram } from "./_udp.ts";
 * const d = udpDatagram({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 5, dstPort: 7, data: new Uint8Array(3) });
 * checkUdp({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 5, dstPort: 7, length: 11 })(d);
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Checker,
  checkEthernet,
  checkIpv4,
  ethernetFrame,
  hex,
  ip,
  ipv4Packet,
  makeChecker,
  malformed,
  onesSum as sum16,
} from "../_harness.ts";
import type { PacketBuffer, ProtocolPlugin, RxContext, RxVerdict } from "../../mod.ts";
import { errorKind } from "../../stack/protocols/icmp/errors.ts";

function pseudo(src: string, dst: string, length: number): number {
  const a = ip(src);
  const b = ip(dst);
  return sum16(
    new Uint8Array(0),
    (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff) + 17 + length,
  );
}

/** Fields of {@linkcode udpDatagram}; the overrides make malformed datagrams. */
export interface UdpFields {
  /** Source address (for the pseudo-header). */
  readonly src: string;
  /** Destination address (for the pseudo-header). */
  readonly dst: string;
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** Payload. */
  readonly data: Uint8Array;
  /** Override: the length field. */
  readonly length?: number;
  /** Override: the checksum field (0: none). */
  readonly checksum?: number;
}

/**
 * A UDP datagram with a correct checksum (computed here) unless overridden.
 *
 * @example
 * ```ts
 * import { udpDatagram } from "./_udp.ts";
 * import assert from "node:assert/strict";
 * const d = udpDatagram({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 1, dstPort: 2, data: new Uint8Array(4) });
 * assert.equal(d.length, 12);
 * ```
 */
export function udpDatagram(f: UdpFields): Uint8Array {
  const d = new Uint8Array(8 + f.data.length);
  const dv = new DataView(d.buffer);
  dv.setUint16(0, f.srcPort);
  dv.setUint16(2, f.dstPort);
  dv.setUint16(4, f.length ?? d.length);
  d.set(f.data, 8);
  let c = ~sum16(d, pseudo(f.src, f.dst, d.length)) & 0xffff;
  if (c === 0) c = 0xffff;
  dv.setUint16(6, f.checksum ?? c);
  return d;
}

/** Ethernet + IPv4 + UDP, from `srcMac` to `dstMac`. */
export function udpFrame(
  f: UdpFields & { readonly srcMac: string; readonly dstMac: string; readonly ipPad?: number },
): Uint8Array {
  const udp = udpDatagram(f);
  const payload = new Uint8Array(udp.length + (f.ipPad ?? 0));
  payload.set(udp);
  return ethernetFrame(
    { dst: f.dstMac, src: f.srcMac, etherType: 0x0800 },
    ipv4Packet({ src: f.src, dst: f.dst, protocol: 17 }, payload),
  );
}

/** Expected UDP fields (each optional). */
export interface UdpCheck {
  /** Source address: with `dst`, the checksum is verified. */
  readonly src?: string;
  /** Destination address. */
  readonly dst?: string;
  /** Source port. */
  readonly srcPort?: number;
  /** Destination port. */
  readonly dstPort?: number;
  /** Length field. */
  readonly length?: number;
  /** Payload, exactly. */
  readonly data?: Uint8Array;
}

/**
 * Checks a UDP datagram: length field within the bytes, checksum (with
 * addresses given, nonzero), fields. A bad length or checksum is a
 * malformed datagram (`matches` throws); give the addresses of the IPv4
 * header that carries it.
 *
 * @example
 * ```ts
 * import { checkUdp, udpDatagram } from "./_udp.ts";
 * import assert from "node:assert/strict";
 * const d = udpDatagram({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 1, dstPort: 2, data: new Uint8Array(1) });
 * assert.ok(checkUdp({ src: "10.0.0.1", dst: "10.0.0.2" }).matches(d));
 * assert.ok(!checkUdp({ src: "10.0.0.1", dst: "10.0.0.2", dstPort: 3 }).matches(d));
 * d[7]! ^= 1; // break the checksum
 * assert.throws(() => checkUdp({ src: "10.0.0.1", dst: "10.0.0.2" }).matches(d));
 * ```
 */
export function checkUdp(want: UdpCheck): Checker {
  return makeChecker((d) => {
    if (d.length < 8) malformed(`udp: ${d.length} bytes is shorter than a header`);
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const length = dv.getUint16(4);
    if (length < 8 || length > d.length) malformed(`udp.length ${length} with ${d.length} bytes`);
    if (want.src !== undefined && want.dst !== undefined) {
      if (dv.getUint16(6) === 0) malformed("udp.checksum is 0 (none)");
      if (sum16(d.subarray(0, length), pseudo(want.src, want.dst, length)) !== 0xffff) {
        malformed(`udp.checksum 0x${dv.getUint16(6).toString(16)} is wrong`);
      }
    }
    if (want.srcPort !== undefined) assert.equal(dv.getUint16(0), want.srcPort, "udp.srcPort");
    if (want.dstPort !== undefined) assert.equal(dv.getUint16(2), want.dstPort, "udp.dstPort");
    if (want.length !== undefined) assert.equal(length, want.length, "udp.length");
    if (want.data !== undefined) {
      assert.equal(hex(d.subarray(8, length)), hex(want.data), "udp.data");
    }
  });
}

/**
 * An Ethernet frame carrying IPv4 + UDP checked by {@linkcode checkUdp}
 * with the IPv4 addresses.
 *
 * @example
 * ```ts
 * import { checkUdpFrame, udpFrame } from "./_udp.ts";
 * import assert from "node:assert/strict";
 * const f = udpFrame({ srcMac: "02:00:00:00:00:02", dstMac: "02:00:00:00:00:01", src: "10.0.0.2", dst: "10.0.0.1", srcPort: 1, dstPort: 2, data: new Uint8Array(1) });
 * assert.ok(checkUdpFrame({ src: "10.0.0.2", dst: "10.0.0.1", dstPort: 2 }).matches(f));
 * ```
 */
export function checkUdpFrame(
  want: UdpCheck & { readonly src: string; readonly dst: string },
): Checker {
  return checkEthernet(
    { etherType: 0x0800 },
    checkIpv4({ src: want.src, dst: want.dst, protocol: 17 }, checkUdp(want)),
  );
}

/**
 * An ICMP error message (type, code, 32-bit rest) quoting `quoted` (an IP
 * header and at least 8 bytes), with its checksum computed here.
 *
 * @example
 * ```ts
 * import { icmpError } from "./_udp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpError(3, 3, 0, new Uint8Array(28)).length, 36);
 * ```
 */
export function icmpError(
  type: number,
  code: number,
  rest: number,
  quoted: Uint8Array,
): Uint8Array {
  const m = new Uint8Array(8 + quoted.length);
  const dv = new DataView(m.buffer);
  m[0] = type;
  m[1] = code;
  dv.setUint32(4, rest >>> 0);
  m.set(quoted, 8);
  dv.setUint16(2, ~sum16(m) & 0xffff);
  return m;
}

/**
 * A stand-in for the ICMP plugin (binds `ip.protocol` 1, exposes
 * `ip.error`): it dispatches each ICMP error (types 3, 11, 12) into
 * `ip.error` keyed by the quoted protocol, exactly as `IcmpErrorService`'s
 * doc says the real plugin will (`pkt.l3` at the quoted IP header,
 * `pkt.start` at the quoted transport header, addresses and protocol from
 * the quoted header, `errorKind` (the real plugin's `errorKind()` mapping)
 * and `errorInfo`), and ignores the rest.
 *
 * @example
 * ```ts
 * import { icmpErrorStandIn } from "./_udp.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(icmpErrorStandIn.manifest.exposes, ["ip.error"]);
 * ```
 */
export const icmpErrorStandIn: ProtocolPlugin = {
  manifest: {
    name: "icmp-standin",
    version: "1.0.0",
    api: "^1.0.0",
    description: "test stand-in: ICMP errors into ip.error",
    layer: "network",
    dependencies: ["ipv4"],
    binds: [{ table: "ip.protocol", key: 1 }],
    exposes: ["ip.error"],
    counters: ["rx.not_error", "rx.bad_quote", "rx.delivered", "rx.no_binding"],
  },
  setup(ctx) {
    const errors = ctx.table("ip.error");
    const delivered = ctx.counter("rx.delivered");
    return {
      receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
        const s = pkt.start;
        const type = pkt.buf[s]!;
        if (type !== 3 && type !== 11 && type !== 12) return "not_error";
        const q = s + 8;
        if (pkt.end - q < 20 || pkt.buf[q]! >> 4 !== 4) return "bad_quote";
        const ihl = (pkt.buf[q]! & 0x0f) * 4;
        if (ihl < 20 || pkt.end - q < ihl + 8) return "bad_quote";
        pkt.errorKind = errorKind(type, pkt.buf[s + 1]!);
        pkt.errorInfo = type === 12 ? pkt.buf[s + 4]! : pkt.dv.getUint16(s + 6);
        pkt.l3 = q;
        pkt.srcAt = q + 12;
        pkt.dstAt = q + 16;
        pkt.proto = pkt.buf[q + 9]!;
        pkt.start = q + ihl;
        if (!ctx.hasBinding(errors, pkt.proto)) return "no_binding";
        delivered.value++;
        return rx.next(errors, pkt.proto);
      },
    };
  },
};

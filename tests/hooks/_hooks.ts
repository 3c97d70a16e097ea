/**
 * Helpers of `tests/hooks/`: a plugin that joins hook points and records
 * what each call saw (copied, as the context is reused), on the routed
 * network of `tests/routing/_topology.ts`.
 *
 * @module
 */
import {
  ACCEPT,
  type HookContext,
  type HookJoin,
  type HookPoint,
  type HookVerdict,
  type PacketBuffer,
  type ProtocolPlugin,
} from "../../mod.ts";
import { formatIpv4Address, parseIpv4Address } from "../../stack/wire/address.ts";

/** What one hook call saw. */
export interface HookCall {
  readonly point: HookPoint;
  readonly src: string;
  readonly dst: string;
  /** ICMP type when the packet is ICMP and carries its header, else -1. */
  readonly icmpType: number;
  /** IPv4 total length field. */
  readonly totalLength: number;
  /** Flags and fragment offset word. */
  readonly fragment: number;
  readonly inIface: string | null;
  readonly outIface: string | null;
  readonly nextHop: string | null;
  readonly mtu: number;
  readonly local: boolean | null;
  readonly mark: number;
  readonly ct: unknown;
}

/** Reads what a hook sees into a {@linkcode HookCall}. */
export function snapshot(point: HookPoint, pkt: PacketBuffer, h: HookContext): HookCall {
  const dv = pkt.dv;
  const l3 = pkt.l3;
  const hlen = (pkt.buf[l3]! & 0x0f) << 2;
  const fragment = dv.getUint16(l3 + 6);
  const icmp = pkt.buf[l3 + 9] === 1 && (fragment & 0x1fff) === 0 && pkt.end > l3 + hlen;
  return {
    point,
    src: formatIpv4Address(dv.getUint32(pkt.srcAt)),
    dst: formatIpv4Address(dv.getUint32(pkt.dstAt)),
    icmpType: icmp ? pkt.buf[l3 + hlen]! : -1,
    totalLength: dv.getUint16(l3 + 2),
    fragment,
    inIface: h.inIface?.name ?? null,
    outIface: h.outIface?.name ?? null,
    nextHop: h.route === null ? null : formatIpv4Address(h.route.nextHop as number),
    mtu: h.route?.mtu ?? 0,
    local: h.route?.local ?? null,
    mark: pkt.mark,
    ct: pkt.ct,
  };
}

/** `parseIpv4Address`, asserting it parses. */
export function ip(text: string): number {
  const a = parseIpv4Address(text);
  if (a === null) throw new TypeError(`bad address ${text}`);
  return a;
}

/**
 * A plugin joining `joins` whose hook records every IPv4 call into `calls`
 * and then returns `act`'s verdict (ACCEPT by default).
 */
export function recorder(
  name: string,
  joins: readonly HookJoin[],
  calls: HookCall[],
  act: (point: HookPoint, pkt: PacketBuffer, h: HookContext) => HookVerdict | void = () => {},
): ProtocolPlugin {
  return {
    manifest: {
      name,
      version: "1.0.0",
      api: "^1.0.0",
      description: "records hook calls",
      layer: "middlebox",
      binds: [],
      hooks: joins,
      counters: [],
    },
    setup() {
      return {
        hook(point, pkt, h) {
          if (pkt.family === 4) calls.push(snapshot(point, pkt, h));
          return act(point, pkt, h) ?? ACCEPT;
        },
      };
    },
  };
}

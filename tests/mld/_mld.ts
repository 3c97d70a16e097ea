/**
 * Helpers of the MLD tests: stacks with the IPv6, ICMPv6 and MLD plugins,
 * a stand-in `neighbor.ipv6` for Ethernet (multicast mapped per RFC 2464
 * §7, nothing else: NDP is another plugin), queries built byte by byte,
 * and a reader of what the stack sent.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeHost, testPlugin } from "../_harness.ts";
import type { HostOptions } from "../_env.ts";
import type { NeighborResolver } from "../../stack/services.ts";
import type { PluginContext, ProtocolPlugin } from "../../stack/manifest.ts";
import { IpAddress, type IpKey } from "../../stack/wire/ip_address.ts";
import { setIcmpv6Checksum, verifyIcmpv6Checksum } from "../../stack/wire/icmpv6.ts";
import { writeIpv6Header } from "../../stack/wire/ipv6.ts";
import { writeIpv6MulticastMac } from "../../stack/wire/ipv6_scope.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { mldPlugin } from "../../stack/protocols/mld/mod.ts";

export const k = (s: string): IpKey => IpAddress.parse(s)!.key;
export const text = (b: Uint8Array): string => IpAddress.v6(b).toString();

/** `neighbor.ipv6` that maps multicast destinations only (a test stand-in for NDP). */
export const multicastOnlyNeighbors: ProtocolPlugin = testPlugin(
  { name: "mcast6", layer: "network", provides: ["neighbor.ipv6"] },
  (_ctx: PluginContext) => {
    const mac = new Uint8Array(6);
    const resolver: NeighborResolver = {
      family: 6,
      resolve(_ifindex, nextHop, pkt) {
        if (typeof nextHop === "string" && nextHop.charCodeAt(0) >> 8 === 0xff) {
          writeIpv6MulticastMac(nextHop, mac, 0);
          return mac;
        }
        pkt.release();
        return null;
      },
      onUnresolved() {},
      entries: () => [],
    };
    return { services: { "neighbor.ipv6": resolver } };
  },
);

/** A capture spy: keeps its context (to add tentative addresses like a DAD plugin would). */
export function contextSpy(): { plugin: ProtocolPlugin; ctx: () => PluginContext } {
  let context: PluginContext | undefined;
  const plugin = testPlugin({ name: "ctxspy" }, (ctx) => {
    context = ctx;
    return {};
  });
  return { plugin, ctx: () => context! };
}

/** One host on a raw-IP link (TUN-like) with ipv6, icmpv6, mld, and `extra`. */
export function mldHost(options: HostOptions & { extra?: readonly ProtocolPlugin[] } = {}) {
  return makeHost({
    linkType: 101,
    addresses: ["fd00::1/64"],
    ...options,
    extraPlugins: [ipv6Plugin, icmpv6Plugin, mldPlugin, ...(options.extra ?? [])],
  });
}

/** What an MLD packet (raw IP) says, after checking its IPv6 and Hop-by-Hop headers and checksum. */
export interface MldSeen {
  readonly src: string;
  readonly dst: string;
  readonly type: number;
  /** MLDv2 reports: [record type, group] per record, [type, group, sources] when it has sources; MLDv1: [[0, group]]. */
  readonly records: ([number, string] | [number, string, string[]])[];
}

/**
 * Checks an MLD packet as RFC 3810 §5 wants it (hop limit 1, Hop-by-Hop
 * first with Router Alert 0, ICMPv6 checksum) and reads it.
 */
export function readMld(p: Uint8Array): MldSeen {
  assert.equal(p[0]! >> 4, 6, "IPv6");
  assert.equal(p[6], 0, "next header: Hop-by-Hop");
  assert.equal(p[7], 1, "hop limit 1");
  assert.equal((p[4]! << 8 | p[5]!) + 40, p.length, "payload length");
  assert.deepEqual([...p.subarray(40, 48)], [58, 0, 5, 2, 0, 0, 1, 0], "Router Alert (MLD) + PadN");
  assert.ok(verifyIcmpv6Checksum(p, 0, 48, p.length), "ICMPv6 checksum");
  const type = p[48]!;
  const records: ([number, string] | [number, string, string[]])[] = [];
  if (type === 143) {
    const n = p[54]! << 8 | p[55]!;
    let r = 56;
    for (let i = 0; i < n; i++) {
      assert.equal(p[r + 1], 0, "no aux data");
      const ns = p[r + 2]! << 8 | p[r + 3]!;
      const group = text(p.subarray(r + 4, r + 20));
      const sources: string[] = [];
      for (let j = 0; j < ns; j++) sources.push(text(p.subarray(r + 20 + 16 * j, r + 36 + 16 * j)));
      records.push(ns === 0 ? [p[r]!, group] : [p[r]!, group, sources]);
      r += 20 + 16 * ns;
    }
    assert.equal(r, p.length, "records fill the report");
  } else {
    assert.equal(p.length, 48 + 24);
    records.push([0, text(p.subarray(56, 72))]);
  }
  return { src: text(p.subarray(8, 24)), dst: text(p.subarray(24, 40)), type, records };
}

/** Options of {@linkcode query}. */
export interface QueryOptions {
  readonly src?: string;
  readonly dst?: string;
  /** The group queried (`::`: General). */
  readonly group?: string;
  /** Maximum Response Delay, ms (MLDv2: below 32768, the code is the value). */
  readonly maxDelay?: number;
  readonly version?: 1 | 2;
  readonly hopLimit?: number;
  readonly routerAlert?: boolean;
  /** Message length override (malformed queries). */
  readonly length?: number;
  readonly qrv?: number;
  readonly qqic?: number;
  /** MLDv2: the sources queried (a Multicast Address and Source Specific Query). */
  readonly sources?: readonly string[];
}

/** A query as a router sends it: from fe80::99, hop limit 1, Router Alert. */
export function query(o: QueryOptions = {}): Uint8Array {
  const v = o.version ?? 2;
  const sources = o.sources ?? [];
  const len = o.length ?? (v === 1 ? 24 : 28 + 16 * sources.length);
  const ra = o.routerAlert ?? true;
  const hbh = ra ? 8 : 0;
  const p = new Uint8Array(40 + hbh + len);
  writeIpv6Header(
    p,
    0,
    hbh + len,
    ra ? 0 : 58,
    o.hopLimit ?? 1,
    k(o.src ?? "fe80::99"),
    k(o.dst ?? "ff02::1"),
  );
  if (ra) p.set([58, 0, 5, 2, 0, 0, 1, 0], 40);
  const m = 40 + hbh;
  const delay = o.maxDelay ?? 10_000;
  p[m] = 130;
  p[m + 4] = delay >> 8;
  p[m + 5] = delay & 0xff;
  p.set(IpAddress.parse(o.group ?? "::")!.bytes(), m + 8);
  if (len >= 28) {
    p[m + 24] = o.qrv ?? 2;
    p[m + 25] = o.qqic ?? 125;
    p[m + 27] = sources.length;
    sources.forEach((x, i) => p.set(IpAddress.parse(x)!.bytes(), m + 28 + 16 * i));
  }
  setIcmpv6Checksum(p, 0, m, p.length);
  return p;
}

/** An MLDv1 Report from another listener (fe80::77) for `group`. */
export function v1Report(group: string): Uint8Array {
  const p = new Uint8Array(40 + 8 + 24);
  writeIpv6Header(p, 0, 32, 0, 1, k("fe80::77"), k(group));
  p.set([58, 0, 5, 2, 0, 0, 1, 0], 40);
  p[48] = 131;
  p.set(IpAddress.parse(group)!.bytes(), 56);
  setIcmpv6Checksum(p, 0, 48, p.length);
  return p;
}

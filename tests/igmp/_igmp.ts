/**
 * Helpers of the IGMP tests: a host on a raw-IP link (TUN-like) with the
 * default plugins, queries built with tests/_frames, and a reader of the
 * IGMP packets the stack sent that checks what RFC 3376 §4 wants of them
 * (TTL 1, Router Alert, both checksums).
 *
 * @module
 */
import assert from "node:assert/strict";
import { checksum, ipv4Packet, makeHost } from "../_harness.ts";
import type { HostOptions } from "../_env.ts";
import { encodeIgmpCode } from "../../stack/wire/igmp.ts";
import { formatIpKey, IpAddress } from "../../stack/wire/ip_address.ts";

export const ROUTER = "10.0.0.254";
export const IS_IN = 1;
export const IS_EX = 2;
export const TO_IN = 3;
export const TO_EX = 4;
export const ALLOW = 5;
export const BLOCK = 6;

const v4 = (s: string): number => IpAddress.parse(s)!.key as number;
const dotted = (b: Uint8Array, at: number): string =>
  formatIpKey(((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0);

/** One host (10.0.0.1/24) on a raw-IP link with the default plugins. */
export function igmpHost(options: HostOptions = {}) {
  const h = makeHost({ linkType: 101, ...options });
  /** The IGMP packets among `frames` (the link also carries IPv6's start-up traffic). */
  const igmpOnly = (frames: Uint8Array[]) => frames.filter((p) => p[0]! >> 4 === 4 && p[9] === 2);
  return Object.assign(h, {
    /** IGMP packets sent since the last call. */
    takeIgmp: () => igmpOnly(h.take()),
    /** Injects `q`, runs `after` µs, returns the IGMP packets sent meanwhile. */
    injectIgmp: (q: Uint8Array, after = 0) => igmpOnly(h.inject(q, after)),
  });
}

/** What an IGMP packet says. */
export interface IgmpSeen {
  readonly src: string;
  readonly dst: string;
  readonly type: number;
  /** v3: [record type, group, sources] per record; v1/v2: [[0, group, []]]. */
  readonly records: [number, string, string[]][];
}

/** Checks an IGMP packet (raw IPv4) as RFC 3376 §4 wants it and reads it. */
export function readIgmp(p: Uint8Array): IgmpSeen {
  assert.equal(p[0], 0x46, "IPv4 with a 24-byte header");
  assert.equal(p[8], 1, "TTL 1");
  assert.equal(p[9], 2, "IGMP");
  assert.deepEqual([...p.subarray(20, 24)], [148, 4, 0, 0], "Router Alert");
  assert.equal(checksum(p.subarray(0, 24)), 0, "IPv4 header checksum");
  assert.equal((p[2]! << 8) | p[3]!, p.length, "total length");
  const m = p.subarray(24);
  assert.equal(checksum(m), 0, "IGMP checksum");
  const type = m[0]!;
  const records: [number, string, string[]][] = [];
  if (type === 0x22) {
    const n = (m[6]! << 8) | m[7]!;
    let r = 8;
    for (let i = 0; i < n; i++) {
      assert.equal(m[r + 1], 0, "no aux data");
      const ns = (m[r + 2]! << 8) | m[r + 3]!;
      const sources: string[] = [];
      for (let j = 0; j < ns; j++) sources.push(dotted(m, r + 8 + 4 * j));
      records.push([m[r]!, dotted(m, r + 4), sources]);
      r += 8 + 4 * ns;
    }
    assert.equal(r, m.length, "records fill the report");
  } else {
    assert.equal(m.length, 8);
    records.push([0, dotted(m, 4), []]);
  }
  return { src: dotted(p, 12), dst: dotted(p, 16), type, records };
}

/** Options of {@linkcode igmpQuery}. */
export interface IgmpQueryOptions {
  readonly version?: 1 | 2 | 3;
  /** The group queried (default 0.0.0.0: General). */
  readonly group?: string;
  /** v3 only: the sources queried. */
  readonly sources?: readonly string[];
  /** Max Resp Time in tenths of a second (v2: the field; v3: encoded). Default 100. */
  readonly maxResp?: number;
  readonly qrv?: number;
  /** Query interval, seconds (v3 QQIC, encoded). */
  readonly qqi?: number;
  readonly src?: string;
  /** Default: 224.0.0.1 for a General Query, else the group. */
  readonly dst?: string;
  /** Default 1. */
  readonly ttl?: number;
  /** With the Router Alert option (default true). */
  readonly routerAlert?: boolean;
}

/** A query as a router sends it: TTL 1 with a Router Alert. */
export function igmpQuery(o: IgmpQueryOptions = {}): Uint8Array {
  const v = o.version ?? 3;
  const sources = o.sources ?? [];
  const m = new Uint8Array(v === 3 ? 12 + 4 * sources.length : 8);
  const dv = new DataView(m.buffer);
  m[0] = 0x11;
  const maxResp = o.maxResp ?? 100;
  m[1] = v === 1 ? 0 : v === 2 ? maxResp : encodeIgmpCode(maxResp);
  const group = o.group ?? "0.0.0.0";
  dv.setUint32(4, v === 1 ? 0 : v4(group));
  if (v === 3) {
    m[8] = o.qrv ?? 2;
    m[9] = encodeIgmpCode(o.qqi ?? 125);
    dv.setUint16(10, sources.length);
    sources.forEach((s, i) => dv.setUint32(12 + 4 * i, v4(s)));
  }
  dv.setUint16(2, checksum(m));
  return ipv4Packet({
    src: o.src ?? ROUTER,
    dst: o.dst ?? (group === "0.0.0.0" ? "224.0.0.1" : group),
    protocol: 2,
    ttl: o.ttl ?? 1,
    ...(o.routerAlert ?? true ? { options: new Uint8Array([148, 4, 0, 0]) } : {}),
  }, m);
}

/** A v1 or v2 report from another host (10.0.0.7) for `group`, with TTL `ttl` (default 1). */
export function otherReport(group: string, version: 1 | 2 = 2, ttl = 1): Uint8Array {
  const m = new Uint8Array(8);
  m[0] = version === 1 ? 0x12 : 0x16;
  new DataView(m.buffer).setUint32(4, v4(group));
  new DataView(m.buffer).setUint16(2, checksum(m));
  return ipv4Packet({
    src: "10.0.0.7",
    dst: group,
    protocol: 2,
    ttl,
    options: new Uint8Array([148, 4, 0, 0]),
  }, m);
}

/**
 * Socket listings like `ss -tani`: one {@linkcode TcpSocketInfo} per
 * listener and connection, and a text table.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { TcpSocketInfo } from "../../stream.ts";
import { formatIpKey, formatIpKeyPort, type IpKey } from "../../wire/ip_address.ts";
import type { TcpCore } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import type { ListenSocket } from "./listener.ts";
import type { TimeWaitEntry } from "./timewait_table.ts";
import { Bbr } from "./congestion/bbr.ts";
import { pacingRate } from "./pacing.ts";
import { DUP_THRESH } from "./sack.ts";
import { seqDiff } from "./seq.ts";
import { stateName, SYN_RECEIVED, SYN_SENT, TIME_WAIT } from "./state.ts";

function hostPort(a: IpKey, p: number): string {
  return formatIpKeyPort(a, p);
}

/**
 * IPv4 connections a dual-stack `::` listener accepted: `ss` shows them
 * IPv4-mapped (`[::ffff:10.0.0.2]:80`), as Linux does for its IPv6 socket.
 * Weak: a closed connection leaves with its endpoint.
 */
const mappedEndpoints = new WeakSet<TcpEndpoint>();

/** Marks `ep` as an IPv4 connection accepted by a dual-stack listener (see `ss`). */
export function markMapped(ep: TcpEndpoint): void {
  mappedEndpoints.add(ep);
}

/** `[::ffff:a.b.c.d]:port` for an IPv4 key, as `ss` prints a mapped address. */
/** Whether {@linkcode markMapped} marked `ep` (a compact TIME-WAIT record keeps the mark). */
export function isMapped(ep: TcpEndpoint): boolean {
  return mappedEndpoints.has(ep);
}

function mappedHostPort(a: IpKey, p: number): string {
  return typeof a === "number" ? `[::ffff:${formatIpKey(a)}]:${p}` : formatIpKeyPort(a, p);
}

function ms(us: number): number {
  return Math.round(us / 100) / 10;
}

function listenerInfo(l: ListenSocket): TcpSocketInfo {
  // As `ss -tan`: a dual-stack `::` is `*:80`, an IPv6-only one `[::]:80`.
  return {
    state: "LISTEN",
    local: l.dual ? `*:${l.localPort}` : hostPort(l.localAddr, l.localPort),
    remote: l.dual ? "*:*" : l.family === 4 ? "0.0.0.0:*" : "[::]:*",
    recvQ: l.acceptQueue.length,
    sendQ: l.backlog,
  };
}

/** What `ss -tani` shows of one connection. */
export function endpointInfo(ep: TcpEndpoint): TcpSocketInfo {
  const cc = ep.synSentCc(); // made if the SYN-ACK has not come yet (read below and by pacingRate, ccState)
  const now = ep.core.now();
  let timer = "off";
  if (ep.closeAt !== 0 && ep.closeAt > now) timer = "timewait";
  if (ep.keepAt !== 0) timer = "keepalive";
  // The retransmission timer doubles as the persist timer: a zero window
  // means it is probing (with a one-byte probe outstanding after the first).
  if (ep.rtoAt !== 0) {
    const synchronized = ep.state !== SYN_SENT && ep.state !== SYN_RECEIVED;
    timer = ep.sndWnd === 0 && synchronized ? "persist" : "on";
  }
  return {
    state: stateName(ep.state),
    local: mappedEndpoints.has(ep)
      ? mappedHostPort(ep.localAddr, ep.localPort)
      : hostPort(ep.localAddr, ep.localPort),
    remote: mappedEndpoints.has(ep)
      ? mappedHostPort(ep.remoteAddr, ep.remotePort)
      : hostPort(ep.remoteAddr, ep.remotePort),
    recvQ: ep.readable,
    sendQ: ep.sndBuf === null ? 0 : ep.sndBuf.length,
    cc: cc.name,
    rto: ms(ep.rto),
    rtt: ms(ep.srtt),
    rttvar: ms(ep.rttvar),
    mss: ep.mss,
    cwnd: Math.floor(cc.cwnd / ep.mss),
    ...(Number.isFinite(cc.ssthresh) ? { ssthresh: Math.floor(cc.ssthresh / ep.mss) } : {}),
    wscale: `${ep.sndWscale},${ep.rcvWscale}`,
    ts: ep.tsOk,
    sack: ep.sackOk,
    bytesAcked: ep.bytesAcked,
    bytesReceived: ep.bytesReceived,
    segsOut: ep.segsOut,
    segsIn: ep.segsIn,
    retrans: ep.retransSegs,
    sndWnd: ep.sndWnd,
    rcvWnd: Math.max(0, seqDiff(ep.rcvAdv, ep.rcvNxt)),
    timer,
    caState: ep.inRecovery
      ? "recovery"
      : ep.backoff > 0 && ep.sndMax !== ep.sndUna
      ? "loss"
      : "open",
    reordSeen: ep.rack?.reorderEvents ?? 0,
    dsackDups: ep.dsack?.received ?? 0,
    spuriousUndos: ep.dsack?.undos ?? 0,
    tlpProbes: ep.rack?.probes ?? 0,
    ...rateInfo(ep),
    ...(ep.ecnOk ? { ecn: true } : {}),
    ...(ep.ecn !== null && ep.ecn.ceSegs > 0 ? { ecnSeen: true } : {}),
    ...rcvTuneInfo(ep),
  };
}

/**
 * `rcv_rtt` and `rcv_space` of receive-buffer auto-tuning; not in TIME-WAIT,
 * whose compact record keeps no receive state (Linux's timewait sock has no
 * tcp_info either).
 */
function rcvTuneInfo(ep: TcpEndpoint): { rcvRtt?: number; rcvSpace?: number } {
  const t = ep.rcvTune;
  if (t === null || ep.state === TIME_WAIT) return {};
  return t.rtt8 !== 0 ? { rcvRtt: ms(t.rtt8 / 8), rcvSpace: t.space } : { rcvSpace: t.space };
}

/** tcp_info's rate and congestion fields (`ss -ti`: pacing_rate, delivery_rate, minrtt, …). */
function rateInfo(ep: TcpEndpoint) {
  const rate = ep.rate; // null until the first data segment: no sample yet
  const pacing = pacingRate(ep);
  return {
    ...(rate !== null && rate.minRtt !== Infinity ? { minRtt: ms(rate.minRtt) } : {}),
    ...(pacing > 0 ? { pacingRate: pacing } : {}),
    deliveryRate: rate === null ? 0 : rate.lastRate,
    deliveryRateAppLimited: rate !== null && rate.lastRateAppLimited,
    retransmits: ep.retries,
    reordering: DUP_THRESH, // RFC 6675's DupThresh: the reordering tolerated
    ccState: ccState(ep),
  };
}

/** The congestion control's phase (see `TcpSocketInfo.ccState`). */
export function ccState(ep: TcpEndpoint): string {
  const cc = ep.cc;
  if (cc instanceof Bbr) return cc.state;
  if (ep.inRecovery) return "recovery";
  if (cc.cwnd >= cc.ssthresh) return "avoidance";
  const hy = (cc as { hystart?: { inCss: boolean } | null }).hystart;
  return hy?.inCss === true && cc.ssthresh === Infinity ? "css" : "slow_start";
}

/**
 * What `ss -tani` shows of a TIME-WAIT entry: its tuple and timer, no
 * internals, as Linux's `inet_timewait_sock` has no `tcp_info` (a
 * compact record keeps none: `timewait_record.ts`).
 */
function timeWaitInfo(tw: TimeWaitEntry, now: Instant, recvQ = 0): TcpSocketInfo {
  const show = tw.mapped ? mappedHostPort : hostPort;
  return {
    state: "TIME-WAIT",
    local: show(tw.localAddr, tw.localPort),
    remote: show(tw.remoteAddr, tw.remotePort),
    recvQ,
    sendQ: 0,
    timer: tw.closeAt > now ? "timewait" : "off",
  };
}

/** A connection or TIME-WAIT entry of the listing, with its sort keys. */
interface Listed {
  readonly localPort: number;
  readonly remoteAddr: IpKey;
  readonly remotePort: number;
  readonly info: TcpSocketInfo;
}

/**
 * Every listener, then every connection and TIME-WAIT entry (compact
 * records and endpoints alike: `timeWaitInfo`), by local port and peer.
 */
export function listSockets(core: TcpCore): TcpSocketInfo[] {
  const out: TcpSocketInfo[] = [];
  for (const l of core.listeners) out.push(listenerInfo(l));
  const now = core.now();
  const conns: Listed[] = [];
  for (const ep of core.conns) {
    const info = ep.state === TIME_WAIT
      ? timeWaitInfo(
        {
          localAddr: ep.localAddr,
          localPort: ep.localPort,
          remoteAddr: ep.remoteAddr,
          remotePort: ep.remotePort,
          mapped: mappedEndpoints.has(ep),
          closeAt: ep.closeAt,
        },
        now,
        ep.readable, // its user may still read what came before the FIN
      )
      : endpointInfo(ep);
    conns.push({
      localPort: ep.localPort,
      remoteAddr: ep.remoteAddr,
      remotePort: ep.remotePort,
      info,
    });
  }
  for (const tw of core.timeWait.records()) {
    conns.push({ ...tw, info: timeWaitInfo(tw, now) });
  }
  conns.sort((a, b) =>
    a.localPort - b.localPort || compareKeys(a.remoteAddr, b.remoteAddr) ||
    a.remotePort - b.remotePort
  );
  for (const c of conns) out.push(c.info);
  return out;
}

/**
 * A text table in the manner of `ss -tani`: a header line, then for each
 * socket `State Recv-Q Send-Q Local Peer` and, for connections, an indented
 * line of internals (`cubic wscale:7,7 rto:204 rtt:3.1/1.5 mss:1448 cwnd:10 …`).
 *
 * @example
 * ```ts
 * import { formatSockets } from "./info.ts";
 * import assert from "node:assert/strict";
 * const text = formatSockets([{ state: "LISTEN", local: "0.0.0.0:80", remote: "0.0.0.0:*", recvQ: 0, sendQ: 128 }]);
 * assert.match(text, /^State\s+Recv-Q\s+Send-Q/);
 * assert.ok(text.includes("0.0.0.0:80"));
 * ```
 */
export function formatSockets(list: readonly TcpSocketInfo[]): string {
  const rows = [["State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"]];
  const details: string[] = [""];
  for (const s of list) {
    rows.push([s.state, String(s.recvQ), String(s.sendQ), s.local, s.remote]);
    if (s.cc === undefined) {
      details.push("");
      continue;
    }
    const parts = [s.cc];
    if (s.ts) parts.push("ts");
    if (s.sack) parts.push("sack");
    if (s.ecn) parts.push("ecn");
    if (s.ecnSeen) parts.push("ecnseen");
    parts.push(`wscale:${s.wscale}`, `rto:${s.rto}`, `rtt:${s.rtt}/${s.rttvar}`, `mss:${s.mss}`);
    parts.push(`cwnd:${s.cwnd}`);
    if (s.ssthresh !== undefined) parts.push(`ssthresh:${s.ssthresh}`);
    parts.push(
      `bytes_acked:${s.bytesAcked}`,
      `bytes_received:${s.bytesReceived}`,
      `segs_out:${s.segsOut}`,
      `segs_in:${s.segsIn}`,
    );
    if (s.retrans) parts.push(`retrans:${s.retrans}`);
    if (s.reordSeen) parts.push(`reord_seen:${s.reordSeen}`);
    if (s.dsackDups) parts.push(`dsack_dups:${s.dsackDups}`);
    // As `ss -ti` prints them: a space before these two values.
    if (s.pacingRate !== undefined) parts.push(`pacing_rate ${bps(s.pacingRate)}`);
    if (s.deliveryRate) {
      parts.push(
        `delivery_rate ${bps(s.deliveryRate)}${s.deliveryRateAppLimited ? " app_limited" : ""}`,
      );
    }
    if (s.minRtt !== undefined) parts.push(`minrtt:${s.minRtt}`);
    if (s.rcvRtt !== undefined) parts.push(`rcv_rtt:${s.rcvRtt}`);
    if (s.rcvSpace !== undefined) parts.push(`rcv_space:${s.rcvSpace}`);
    parts.push(`snd_wnd:${s.sndWnd}`, `rcv_wnd:${s.rcvWnd}`, `timer:${s.timer}`);
    details.push("\t " + parts.join(" "));
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines: string[] = [];
  rows.forEach((r, i) => {
    lines.push(r.map((c, j) => c.padEnd(widths[j]!)).join("  ").trimEnd());
    if (i > 0 && details[i] !== "") lines.push(details[i]!);
  });
  return lines.join("\n");
}

/** A rate in bytes/s as `ss` prints it, in bit/s: `12.3Mbps`. */
function bps(bytesPerSecond: number): string {
  const b = bytesPerSecond * 8;
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)}Gbps`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)}Mbps`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)}Kbps`;
  return `${Math.round(b)}bps`;
}

/** IPv4 before IPv6, each in address order. */
function compareKeys(a: IpKey, b: IpKey): number {
  if (typeof a === "number") return typeof b === "number" ? a - b : -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

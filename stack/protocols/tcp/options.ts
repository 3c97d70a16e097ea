/**
 * Option negotiation on the handshake: MSS (RFC 9293 §3.7.1, RFC 6691),
 * window scale and timestamps (RFC 7323 §2.2, §3.2: used only if both SYNs
 * carry them), SACK-permitted (RFC 2018 §2).
 *
 * @module
 */
import type { TcpOptionSet } from "../../wire/tcp.ts";
import { TCP_MAX_WSCALE } from "../../wire/tcp.ts";
import { defaultMss } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";

/** Smallest send MSS we accept from a peer (Linux's TCP_MIN_MSS is 88; RFC 9293 allows less). */
export const MIN_MSS = 64;
/** Bytes a timestamps option takes in every segment. */
export const TS_OPTION_LEN = 12;

/** Turns on what we offer in a SYN (or will accept in a SYN-ACK) per the configuration. */
export function offerOptions(ep: TcpEndpoint): void {
  const cfg = ep.core.cfg;
  ep.tsOk = cfg.timestamps;
  ep.sackOk = cfg.sack;
  ep.wsOk = cfg.windowScaling;
  ep.rcvWscale = ep.wsOk ? ep.core.wscale : 0;
}

/**
 * Keeps only the options both sides offered and derives the send MSS: the
 * peer's MSS (536 for IPv4 or 1220 for IPv6 if absent, RFC 9293 §3.7.1)
 * capped by ours, minus the timestamps option.
 */
export function negotiate(ep: TcpEndpoint, opts: TcpOptionSet): void {
  ep.tsOk = ep.tsOk && opts.hasTimestamp;
  ep.sackOk = ep.sackOk && opts.sackPermitted;
  ep.wsOk = ep.wsOk && opts.windowScale >= 0;
  if (ep.wsOk) {
    // RFC 7323 §2.3: a shift above 14 is used as 14.
    ep.sndWscale = Math.min(opts.windowScale, TCP_MAX_WSCALE);
    ep.rcvWscale = ep.core.wscale;
  } else {
    ep.sndWscale = ep.rcvWscale = 0;
  }
  setPeerMss(ep, opts.mss > 0 ? opts.mss : defaultMss(ep.remoteAddr));
}

/** Sets the send MSS from the peer's MSS option value. */
export function setPeerMss(ep: TcpEndpoint, peerMss: number): void {
  ep.peerMss = peerMss;
  const mss = Math.min(peerMss, ep.advMss) - (ep.tsOk ? TS_OPTION_LEN : 0);
  ep.mss = mss < MIN_MSS ? MIN_MSS : mss;
  ep.rcvMss = ep.mss;
  ep.tsoMax = ep.core.routeTso(ep.remoteAddr);
}

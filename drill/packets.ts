/**
 * Packets of a script: inbound lines become IPv4 datagrams (TCP, UDP, ICMP
 * errors) with the script's numbers mapped to live ones; outbound lines are
 * compared with what the stack sent, field by field, as packetdrill does:
 * sequence numbers relative to the stack's ISN, TS val mapped (never
 * compared: the stack's clock is its own), SACK blocks and TS ecr mapped on
 * the way in.
 *
 * @module
 */
import type { TcpOptionSpec, TcpPacketSpec, UdpPacketSpec } from "./ast.ts";
import { addressText, ECN_BITS, ipDatagram, readIp, sameBytes, transportChecksum } from "./ip.ts";

/** What maps script numbers to live ones for one connection. */
export interface FlowState {
  /** The stack's address (4 bytes: IPv4, 16: IPv6). */
  readonly localAddr: Uint8Array;
  /** The script's (remote) address, of the same family. */
  readonly remoteAddr: Uint8Array;
  /** The stack's port. */
  localPort: number;
  /** The script's port. */
  remotePort: number;
  /** The stack's ISN, once its SYN or SYN-ACK was seen. */
  localIsn: number | undefined;
  /** Script TS val → live TS val, from outbound packets. */
  readonly tsVals: Map<number, number>;
  /** The first outbound TS val pair (script, live), to interpolate. */
  firstTs: { script: number; live: number } | undefined;
  /**
   * packetdrill's --tcp_ts_tick_usecs: µs per TS val tick, to check outbound
   * TS vals against the script's (mapped from the first one); 0: not checked.
   */
  readonly tsTickUsecs: number;
  /** Timing tolerance, µs (for the TS val check). */
  readonly tolerance: number;
  /**
   * Fast Open cookies, script hex → live hex: the stack keys its own cookies,
   * so the first outbound `FO <hex>` binds the script's literal to the live
   * cookie of the same length; later lines (inbound too) use the binding.
   */
  readonly foCookies: Map<string, string>;
  /**
   * Whether a SYN-ACK from the script gave the stack a Fast Open cookie: a
   * nonblocking sendto(MSG_FASTOPEN) then returns its length (data in the
   * SYN), as Linux, not EINPROGRESS. The stack's cache is not public.
   */
  foCookieGiven: boolean;
}

/** TCP flag bits from packetdrill letters (the ACK dot apart). */
export function tcpFlagBits(letters: string, ack: boolean): number {
  let f = ack ? 0x10 : 0;
  for (const ch of letters) {
    f |= { F: 0x01, S: 0x02, R: 0x04, P: 0x08, U: 0x20, E: 0x40, W: 0x80, C: 0 }[ch] ?? 0;
  }
  return f;
}

/** packetdrill's flag text of `bits`: `S.`, `P.`, `F.`, `R`, `.`, `-`. */
export function tcpFlagText(bits: number): string {
  let s = "";
  for (
    const [ch, b] of [["F", 1], ["S", 2], ["R", 4], ["P", 8], ["U", 0x20], ["E", 0x40], [
      "W",
      0x80,
    ]] as const
  ) {
    if (bits & b) s += ch;
  }
  // packetdrill writes S before F: "SF"; keep its usual order for S/F/R/P.
  s = s.replace(/^FS/, "SF");
  if (bits & 0x10) s += ".";
  return s === "" ? "-" : s;
}

/** Option bytes of `options` (script numbers mapped by `map`), padded to 4 bytes with EOL. */
export function tcpOptionBytes(
  options: readonly TcpOptionSpec[],
  map: {
    sack: (v: number) => number;
    tsVal: (v: number) => number;
    tsEcr: (v: number) => number;
    fo?: (cookie: string) => string;
  },
): number[] | string {
  const b: number[] = [];
  const u32 = (v: number) => b.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  for (const o of options) {
    switch (o.kind) {
      case "nop":
        b.push(1);
        break;
      case "eol":
        b.push(0);
        break;
      case "mss":
        b.push(2, 4, (o.value >> 8) & 255, o.value & 255);
        break;
      case "wscale":
        b.push(3, 3, o.value & 255);
        break;
      case "sackOK":
        b.push(4, 2);
        break;
      case "sack":
        b.push(5, 2 + 8 * o.blocks.length);
        for (const [l, r] of o.blocks) {
          u32(map.sack(l));
          u32(map.sack(r));
        }
        break;
      case "ts":
        b.push(8, 10);
        u32(map.tsVal(o.val));
        u32(map.tsEcr(o.ecr));
        break;
      case "fo": {
        if (!/^([0-9a-fA-F]{2})*$/.test(o.cookie)) return `bad Fast Open cookie "${o.cookie}"`;
        const hex = map.fo?.(o.cookie.toLowerCase()) ?? o.cookie;
        const cookie = hex.match(/../g)?.map((h) => parseInt(h, 16)) ?? [];
        if (o.experimental) b.push(254, 4 + cookie.length, 0xf9, 0x89, ...cookie);
        else b.push(34, 2 + cookie.length, ...cookie);
        break;
      }
      case "md5":
        return "TCP MD5 signatures are not supported";
    }
  }
  if (b.length > 40) return "TCP option list too long";
  while (b.length % 4 !== 0) b.push(0);
  return b;
}

/** The live number of an inbound TS ecr (a script TS val of the stack's). */
export function liveEcr(flow: FlowState, ecr: number): number {
  if (ecr === 0) return 0;
  const exact = flow.tsVals.get(ecr);
  if (exact !== undefined) return exact;
  // packetdrill's --tcp_ts_ecr_scaled: interpolate from the first pair.
  const f = flow.firstTs;
  return f === undefined ? ecr : (ecr - f.script + f.live) >>> 0;
}

/** The IPv4 datagram of an inbound TCP line, or why it cannot be built. */
export function inboundTcp(spec: TcpPacketSpec, flow: FlowState): Uint8Array | string {
  if (spec.window === undefined) return "window must be specified for inbound packets";
  const isn = flow.localIsn ?? 0;
  const opts = tcpOptionBytes(spec.options ?? [], {
    sack: (v) => (v + isn) >>> 0,
    tsVal: (v) => v,
    tsEcr: (v) => liveEcr(flow, v),
    fo: (c) => flow.foCookies.get(c) ?? c,
  });
  if (typeof opts === "string") return opts;
  if (
    spec.flags.includes("S") && spec.ackFlag &&
    spec.options?.some((o) => o.kind === "fo" && o.cookie !== "")
  ) flow.foCookieGiven = true;
  const hl = 20 + opts.length;
  const seg = new Uint8Array(hl + spec.length);
  const dv = new DataView(seg.buffer);
  const [sport, dport] = spec.ports ?? [flow.remotePort, flow.localPort];
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint32(4, spec.seq >>> 0);
  dv.setUint32(8, spec.ackFlag ? ((spec.ack ?? 0) + isn) >>> 0 : 0);
  dv.setUint16(12, ((hl / 4) << 12) | tcpFlagBits(spec.flags, spec.ackFlag));
  dv.setUint16(14, spec.window);
  dv.setUint16(18, spec.urg ?? 0);
  seg.set(opts, 20);
  dv.setUint16(16, transportChecksum(flow.remoteAddr, flow.localAddr, 6, seg));
  return ipDatagram(flow.remoteAddr, flow.localAddr, 6, spec.ip, seg);
}

/** The IPv4 datagram of an inbound UDP line. */
export function inboundUdp(spec: UdpPacketSpec, flow: FlowState): Uint8Array {
  const seg = new Uint8Array(8 + spec.length);
  const dv = new DataView(seg.buffer);
  const [sport, dport] = spec.ports ?? [flow.remotePort, flow.localPort];
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint16(4, seg.length);
  dv.setUint16(6, transportChecksum(flow.remoteAddr, flow.localAddr, 17, seg) || 0xffff);
  return ipDatagram(flow.remoteAddr, flow.localAddr, 17, spec.ip, seg);
}

/** A TCP segment the stack sent, decoded. */
export interface LiveSegment {
  /** IPv4 source. */
  readonly src: Uint8Array;
  /** IPv4 destination. */
  readonly dst: Uint8Array;
  /** TOS byte. */
  readonly tos: number;
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** Sequence number. */
  readonly seq: number;
  /** Acknowledgment number. */
  readonly ack: number;
  /** Flag bits (8 bits). */
  readonly flags: number;
  /** Window field. */
  readonly window: number;
  /** Urgent pointer. */
  readonly urg: number;
  /** Raw option bytes. */
  readonly options: Uint8Array;
  /** Payload length. */
  readonly length: number;
  /** TS val, if a timestamps option is present. */
  readonly tsVal?: number;
}

/** Decodes an IPv4 TCP datagram; undefined for anything else. */
export function decodeSegment(p: Uint8Array): LiveSegment | undefined {
  const ip = readIp(p);
  if (ip === undefined || ip.protocol !== 6 || ip.payload.length < 20) return undefined;
  const t = ip.payload;
  const dv = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const hl = (t[12]! >> 4) * 4;
  if (hl < 20 || hl > t.length) return undefined;
  const options = t.slice(20, hl);
  let tsVal: number | undefined;
  for (let i = 0; i < options.length;) {
    const k = options[i]!;
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    const len = options[i + 1] ?? 0;
    if (len < 2) break;
    if (k === 8 && len === 10 && i + 10 <= options.length) {
      tsVal = new DataView(options.buffer).getUint32(i + 2);
    }
    i += len;
  }
  return {
    src: ip.src.slice(),
    dst: ip.dst.slice(),
    tos: ip.tos,
    srcPort: dv.getUint16(0),
    dstPort: dv.getUint16(2),
    seq: dv.getUint32(4),
    ack: dv.getUint32(8),
    flags: t[13]!,
    window: dv.getUint16(14),
    urg: dv.getUint16(18),
    options,
    length: t.length - hl,
    ...(tsVal !== undefined ? { tsVal } : {}),
  };
}

/** The hex of the Fast Open cookie in option bytes `b` (kind 34 or 254/0xF989), if any. */
function liveCookie(b: Uint8Array): string | undefined {
  for (let i = 0; i < b.length;) {
    const k = b[i]!;
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (len < 2 || i + len > b.length) break;
    const exp = k === 254 && len >= 4 && b[i + 2] === 0xf9 && b[i + 3] === 0x89;
    if (k === 34 || exp) {
      return [...b.subarray(i + (exp ? 4 : 2), i + len)]
        .map((x) => x.toString(16).padStart(2, "0")).join("");
    }
    i += len;
  }
  return undefined;
}

/** Option text of raw bytes, packetdrill style; `sack` maps SACK edges for display. */
export function formatOptionBytes(b: Uint8Array, seqOf: (v: number) => number = (v) => v): string {
  const parts: string[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < b.length;) {
    const k = b[i]!;
    if (k === 0) {
      if (b.subarray(i).some((x) => x !== 0)) parts.push("eol");
      break;
    }
    if (k === 1) {
      parts.push("nop");
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (len < 2 || i + len > b.length) {
      parts.push(`bad option ${k}`);
      break;
    }
    if (k === 2) parts.push(`mss ${dv.getUint16(i + 2)}`);
    else if (k === 3) parts.push(`wscale ${b[i + 2]}`);
    else if (k === 4) parts.push("sackOK");
    else if (k === 8) parts.push(`TS val ${dv.getUint32(i + 2)} ecr ${dv.getUint32(i + 6)}`);
    else if (k === 5) {
      const blocks: string[] = [];
      for (let j = i + 2; j + 8 <= i + len; j += 8) {
        blocks.push(`${seqOf(dv.getUint32(j))}:${seqOf(dv.getUint32(j + 4))}`);
      }
      parts.push(`sack ${blocks.join(" ")}`);
    } else if (k === 34) {
      parts.push(
        `FO ${[...b.subarray(i + 2, i + len)].map((x) => x.toString(16).padStart(2, "0")).join("")}`
          .trimEnd(),
      );
    } else parts.push(`opt ${k} len ${len}`);
    i += len;
  }
  return parts.join(",");
}

/** A script TCP line as packetdrill prints it. */
export function formatScriptTcp(spec: TcpPacketSpec): string {
  const flags = (spec.flags || (spec.ackFlag ? "" : "-")) + (spec.ackFlag ? "." : "");
  let s = `${flags} ${spec.seq}:${(spec.seq + spec.length) >>> 0}(${spec.length})`;
  if (spec.ack !== undefined) s += ` ack ${spec.ack}`;
  if (spec.window !== undefined) s += ` win ${spec.window}`;
  if (spec.options === null) s += " <...>";
  else if (spec.options.length > 0) {
    s += ` <${
      spec.options.map((o) => {
        switch (o.kind) {
          case "mss":
          case "wscale":
            return `${o.kind} ${o.value}`;
          case "sack":
            return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(" ")}`;
          case "ts":
            return `TS val ${o.val} ecr ${o.ecr}`;
          case "fo":
            return `${o.experimental ? "FOEXP" : "FO"} ${o.cookie}`.trimEnd();
          case "md5":
            return `md5 ${o.key}`;
          default:
            return o.kind;
        }
      }).join(",")
    }>`;
  }
  return s;
}

/** A live segment in the script's numbers (sequence relative to the stack's ISN). */
export function formatLiveTcp(seg: LiveSegment, flow: FlowState): string {
  // Before the stack's ISN is known, its SYN shows relative to itself.
  const isn = flow.localIsn ?? (seg.flags & 0x02 ? seg.seq : 0);
  const seq = (seg.seq - isn) >>> 0;
  let s = `${tcpFlagText(seg.flags)} ${seq}:${(seq + seg.length) >>> 0}(${seg.length})`;
  if (seg.flags & 0x10) s += ` ack ${seg.ack}`;
  s += ` win ${seg.window}`;
  if (seg.options.length > 0) s += ` <${formatOptionBytes(seg.options)}>`;
  return s;
}

function hex(v: number): string {
  return `${v} (0x${(v >>> 0).toString(16)})`;
}

/**
 * Compares an outbound line with a live segment; returns the first
 * difference as packetdrill words it, or null. On a match, learns the ISN
 * (from a SYN) and the TS val mapping.
 */
export function matchOutbound(
  spec: TcpPacketSpec,
  seg: LiveSegment,
  flow: FlowState,
): string | null {
  const field = (name: string, want: number, got: number) =>
    `live packet field ${name}: expected: ${hex(want)} vs actual: ${hex(got)}`;
  if (!sameBytes(seg.src, flow.localAddr) || !sameBytes(seg.dst, flow.remoteAddr)) {
    return `live packet addresses: expected ${addressText(flow.localAddr)} > ${
      addressText(flow.remoteAddr)
    }` +
      ` vs actual ${addressText(seg.src)} > ${addressText(seg.dst)}`;
  }
  const [wantSport, wantDport] = spec.ports ?? [flow.localPort, flow.remotePort];
  const syn = (seg.flags & 0x02) !== 0;
  // The stack picks its port for an active open: learn it from its SYN.
  const learnPort = syn && !(seg.flags & 0x10) && spec.ports === undefined;
  if (!learnPort && seg.srcPort !== wantSport) return field("tcp_src_port", wantSport, seg.srcPort);
  if (seg.dstPort !== wantDport) return field("tcp_dst_port", wantDport, seg.dstPort);
  const wantFlags = tcpFlagBits(spec.flags, spec.ackFlag);
  const names = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"];
  for (let b = 0; b < 8; b++) {
    if ((wantFlags ^ seg.flags) & (1 << b)) {
      return field(`tcp_${names[b]}`, (wantFlags >> b) & 1, (seg.flags >> b) & 1);
    }
  }
  const isn = syn ? (seg.seq - spec.seq) >>> 0 : flow.localIsn ?? 0;
  const seq = (seg.seq - isn) >>> 0;
  if (seq !== spec.seq >>> 0) return field("tcp_seq", spec.seq, seq);
  if (spec.ackFlag && spec.ack !== undefined && seg.ack !== spec.ack >>> 0) {
    return field("tcp_ack_seq", spec.ack, seg.ack);
  }
  if (spec.window !== undefined && seg.window !== spec.window) {
    return field("tcp_window", spec.window, seg.window);
  }
  if (seg.length !== spec.length) return field("tcp_payload_len", spec.length, seg.length);
  if (spec.urg !== undefined && seg.urg !== spec.urg) {
    return field("tcp_urg_ptr", spec.urg, seg.urg);
  }
  const ecn = spec.ip.ecn;
  if (ecn !== undefined) {
    const got = seg.tos & 3;
    const ok = ecn === "ect01" ? got === 1 || got === 2 : got === ECN_BITS[ecn];
    if (!ok) {
      return `live packet field ip_ecn: expected: ${ecn} vs actual: ${
        ["no_ecn", "ect1", "ect0", "ce"][got]
      }`;
    }
  }
  if (spec.ip.tos !== undefined && seg.tos !== spec.ip.tos) {
    return field("ip_tos", spec.ip.tos, seg.tos);
  }
  if (spec.options !== null) {
    const live = liveCookie(seg.options);
    let bind: [string, string] | undefined;
    const want = tcpOptionBytes(spec.options, {
      sack: (v) => v,
      tsVal: () => seg.tsVal ?? 0, // TS val is the stack's clock: mapped, not compared
      tsEcr: (v) => v,
      fo: (c) => {
        const bound = flow.foCookies.get(c);
        if (bound !== undefined || c === "" || live?.length !== c.length) return bound ?? c;
        // One literal per live cookie: a second literal for it is a mismatch.
        if ([...flow.foCookies.values()].includes(live)) return c;
        bind = [c, live];
        return live;
      },
    });
    if (typeof want === "string") return want;
    const got = [...seg.options];
    if (want.length !== got.length || want.some((b, i) => b !== got[i])) {
      return `bad outbound TCP options: expected: <${formatOptionBytes(new Uint8Array(want))}>` +
        ` vs actual: <${formatOptionBytes(seg.options)}>`;
    }
    if (bind !== undefined) flow.foCookies.set(bind[0], bind[1]);
    const ts = spec.options.find((o) => o.kind === "ts");
    const first = flow.firstTs;
    if (
      flow.tsTickUsecs > 0 && ts?.kind === "ts" && first !== undefined && seg.tsVal !== undefined
    ) {
      const mapped = (seg.tsVal - first.live + first.script) >>> 0;
      if (Math.abs((mapped - ts.val) | 0) * flow.tsTickUsecs > flow.tolerance) {
        return `bad outbound TCP timestamp value: expected: ${ts.val} vs actual: ${mapped}` +
          ` (tick ${flow.tsTickUsecs} us, tolerance ${flow.tolerance} us)`;
      }
    }
  }
  // Matched: learn what later lines are written against.
  // Lines with explicit ports are another connection: the flow's numbers stay.
  if (syn && spec.ports === undefined) flow.localIsn = isn;
  if (learnPort) flow.localPort = seg.srcPort;
  const ts = spec.options?.find((o) => o.kind === "ts");
  if (ts !== undefined && ts.kind === "ts" && seg.tsVal !== undefined) {
    flow.tsVals.set(ts.val, seg.tsVal);
    flow.firstTs ??= { script: ts.val, live: seg.tsVal };
  }
  return null;
}

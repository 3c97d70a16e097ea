/**
 * The conntrack plugin: hooks and service around the table (table.ts), the
 * tuple reader (tuple.ts) and TCP tracking (tcp_track.ts). Module docs are
 * in mod.ts.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Counter } from "../../counters.ts";
import type { HookPoint, HookVerdict, PluginContext, ProtocolPlugin } from "../../manifest.ts";
import { ACCEPT } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import {
  CONNTRACK_SERVICE,
  type ConntrackEntry,
  type ConntrackRow,
  type ConntrackService,
  type ConntrackTuple,
} from "../../_services_conntrack.ts";
import { formatIpKey } from "../../wire/ip_address.ts";
import { finishChecksum, pseudoHeaderSumV6, sumRange } from "../../wire/checksum.ts";
import { IP_PROTOCOL_ICMPV6, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from "../../wire/numbers.ts";
import { ConnTable, Entry, Ref } from "./table.ts";
import { TcpCtState, TcpMove, tcpWindowScaleOption } from "./tcp_track.ts";
import { FLOW_ERROR, FLOW_NONE, FlowScratch, readFlow, tupleKey } from "./tuple.ts";

const SECOND = 1_000_000;

/** Timeout options (µs) with Linux's defaults, by state. */
const TIMEOUT_OPTIONS = {
  tcpSynSentTimeout: [120 * SECOND, "TCP SYN_SENT and SYN_SENT2 (Linux: 120 s)"],
  tcpSynRecvTimeout: [60 * SECOND, "TCP SYN_RECV (Linux: 60 s)"],
  tcpEstablishedTimeout: [5 * 86_400 * SECOND, "TCP ESTABLISHED (Linux: 5 days)"],
  tcpFinWaitTimeout: [120 * SECOND, "TCP FIN_WAIT (Linux: 120 s)"],
  tcpCloseWaitTimeout: [60 * SECOND, "TCP CLOSE_WAIT (Linux: 60 s)"],
  tcpLastAckTimeout: [30 * SECOND, "TCP LAST_ACK (Linux: 30 s)"],
  tcpTimeWaitTimeout: [120 * SECOND, "TCP TIME_WAIT (Linux: 120 s)"],
  tcpCloseTimeout: [10 * SECOND, "TCP CLOSE (Linux: 10 s)"],
  udpTimeout: [30 * SECOND, "UDP before a reply (Linux: 30 s)"],
  udpStreamTimeout: [120 * SECOND, "UDP once replied (assured; Linux: 120 s)"],
  icmpTimeout: [30 * SECOND, "ICMP and ICMPv6 echo (Linux: 30 s)"],
  genericTimeout: [600 * SECOND, "other protocols (Linux: 600 s)"],
} as const;

type TimeoutName = keyof typeof TIMEOUT_OPTIONS;

/** The conntrack plugin. */
export const conntrackPlugin: ProtocolPlugin = {
  manifest: {
    name: "conntrack",
    version: "1.0.0",
    api: "^1.0.0",
    description: "Connection tracking: TCP with window tracking, UDP, ICMP/ICMPv6 echo and errors",
    layer: "middlebox",
    binds: [],
    hooks: [
      // Whole datagrams (the network layer reassembles first), before any NAT.
      { point: "prerouting", defrag: true, before: ["nat"] },
      { point: "output", before: ["nat"] },
      // Confirmation last, once a NAT has chosen the reply tuple.
      { point: "input", after: ["nat"] },
      { point: "postrouting", after: ["nat"] },
    ],
    provides: [CONNTRACK_SERVICE],
    counters: [
      "track.new",
      "track.invalid",
      "track.related",
      "track.related_unknown",
      "track.error_bad_checksum",
      "track.early_drop",
      "track.expired",
      "track.reopened",
      "input.table_full",
      "input.insert_failed",
      "postrouting.table_full",
      "postrouting.insert_failed",
    ],
    options: {
      maxEntries: { default: 65536, description: "entries at most (Linux nf_conntrack_max)" },
      maxBytes: {
        default: 32 * 1024 * 1024,
        description: "estimated bytes the entries may hold at most",
      },
      ...Object.fromEntries(
        Object.entries(TIMEOUT_OPTIONS).map((
          [k, [d, text]],
        ) => [k, { default: d, description: `µs: ${text}` }]),
      ),
    },
  },
  setup(ctx: PluginContext) {
    const positive = (name: string): number => {
      const v = ctx.options[name];
      if (typeof v !== "number" || !Number.isInteger(v)) {
        throw new TypeError(`Cannot set up conntrack: ${name} ${v} is not a whole number`);
      }
      if (v < 1) throw new RangeError(`Cannot set up conntrack: ${name} ${v} is below 1`);
      return v;
    };
    const t = {} as Record<TimeoutName, number>;
    for (const k of Object.keys(TIMEOUT_OPTIONS) as TimeoutName[]) t[k] = positive(k);
    const tcpTimeouts = [
      t.tcpSynSentTimeout, // NONE (not kept)
      t.tcpSynSentTimeout,
      t.tcpSynRecvTimeout,
      t.tcpEstablishedTimeout,
      t.tcpFinWaitTimeout,
      t.tcpCloseWaitTimeout,
      t.tcpLastAckTimeout,
      t.tcpTimeWaitTimeout,
      t.tcpCloseTimeout,
      t.tcpSynSentTimeout, // SYN_SENT2
    ];
    const table = new ConnTable({
      maxEntries: positive("maxEntries"),
      maxBytes: positive("maxBytes"),
    });
    const c: Record<string, Counter> = {
      new: ctx.counter("track.new"),
      invalid: ctx.counter("track.invalid"),
      related: ctx.counter("track.related"),
      relatedUnknown: ctx.counter("track.related_unknown"),
      errorBadChecksum: ctx.counter("track.error_bad_checksum"),
      earlyDrop: ctx.counter("track.early_drop"),
      expired: ctx.counter("track.expired"),
      reopened: ctx.counter("track.reopened"),
    };
    const listeners: ((e: ConntrackEntry) => void)[] = [];
    table.onRemove = (e) => {
      for (const l of listeners) l(e);
    };
    const scratch = new FlowScratch();
    let nextId = 1;
    /**
     * The last flow started and not yet confirmed: an error this host makes
     * about its first packet (TTL expired after prerouting's DNAT) relates
     * to it, as Linux's icmp_glue_bits() attaches the offending packet's ct to
     * the error. One slot: the error is made while that packet is handled.
     */
    let unconfirmed: Entry | null = null;
    const timer = ctx.timer((now) => {
      c.expired!.value += table.expire(now);
      const next = table.nextExpiry();
      if (next !== undefined) timer.arm(next);
    });

    function timeoutOf(e: Entry): number {
      const own = stateTimeout(e);
      if (own >= e.minTimeout || (e.tcp !== null && e.tcp.state === TcpCtState.TIME_WAIT)) {
        return own;
      }
      return e.minTimeout;
    }

    function stateTimeout(e: Entry): number {
      if (e.tcp !== null) return tcpTimeouts[e.tcp.state]!;
      if (e.protocol === IP_PROTOCOL_UDP) return e.seenReply ? t.udpStreamTimeout : t.udpTimeout;
      if (e.protocol === 1 || e.protocol === 58) return t.icmpTimeout;
      return t.genericTimeout;
    }

    /**
     * One packet going `dir` in entry `e` (whose tuple `scratch` holds):
     * TCP moves, reply seen, assured, timeout. Returns a {@linkcode TcpMove}.
     */
    function update(e: Entry, dir: 0 | 1, pkt: PacketBuffer, now: Instant): number {
      if (e.tcp !== null) {
        const l4 = scratch.l4;
        const dv = pkt.dv;
        const hlen = (pkt.buf[l4 + 12]! >> 4) << 2;
        if (hlen < 20 || pkt.end - l4 < hlen) return TcpMove.INVALID;
        const flags = pkt.buf[l4 + 13]!;
        const move = e.tcp.segment(
          dir,
          flags,
          dv.getUint32(l4 + 4),
          dv.getUint32(l4 + 8),
          dv.getUint16(l4 + 14),
          pkt.end - l4 - hlen,
          (flags & 0x02) !== 0 ? tcpWindowScaleOption(pkt.buf, l4, hlen) : -1,
          null,
          0,
        );
        if (move !== TcpMove.OK) return move;
      } else if (dir === 1 && !e.seenReply) e.assured = true;
      if (dir === 1) e.seenReply = true;
      if (e.assured) table.assure(e);
      table.refresh(e, now, timeoutOf(e));
      if (e.confirmed) timer.armEarlier(e.expires);
      return TcpMove.OK;
    }

    /** prerouting/output: finds or starts the packet's flow and sets `pkt.ct`. */
    function track(pkt: PacketBuffer, point: HookPoint): void {
      const kind = readFlow(pkt.buf, pkt.dv, pkt.l3, pkt.end, false, scratch);
      if (kind === FLOW_NONE) return;
      const s = scratch;
      if (kind === FLOW_ERROR) {
        // As Linux's icmp_error(): a received error with a bad checksum is
        // related to nothing, so no NAT rewrites it with a fresh, valid
        // checksum (our own errors, at output, are made right).
        if (point === "prerouting" && !errorChecksumOk(pkt, s.errorL4)) {
          c.errorBadChecksum!.value++;
          return;
        }
        // As Linux's icmp_error_message(): the inverse of the quoted tuple
        // is the tuple of the error's own direction. It also matches when
        // the quoted datagram was translated (by a NAT here or on the way),
        // or half-translated (an error this host makes about a forwarded
        // datagram after prerouting's DNAT, before postrouting's SNAT).
        const back = s.family === 4
          ? table.get4(s.protocol, s.dst as number, s.dstPort, s.src as number, s.srcPort)
          : table.get(tupleKey(s.protocol, s.dst, s.dstPort, s.src, s.srcPort));
        const dir = back !== undefined ? back.direction : quotesUnconfirmed(s);
        if (dir < 0) {
          c.relatedUnknown!.value++;
          return;
        }
        pkt.ct = (back !== undefined ? back.entry : unconfirmed!).relatedRefs[dir as 0 | 1];
        c.related!.value++;
        return;
      }
      const ref = s.family === 4
        ? table.get4(s.protocol, s.src as number, s.srcPort, s.dst as number, s.dstPort)
        : table.get(tupleKey(s.protocol, s.src, s.srcPort, s.dst, s.dstPort));
      const now = ctx.now();
      if (ref !== undefined) {
        const move = update(ref.entry, ref.direction, pkt, now);
        if (move === TcpMove.OK) {
          pkt.ct = ref;
          return;
        }
        if (move === TcpMove.INVALID) {
          c.invalid!.value++;
          return;
        }
        // A SYN on a closed flow: forget it and track the new connection.
        c.reopened!.value++;
        table.remove(ref.entry);
      }
      if (s.protocol === IP_PROTOCOL_TCP) {
        // Only a SYN opens a TCP flow (no pickup mid-stream).
        if ((pkt.buf[s.l4 + 13]! & 0x17) !== 0x02) {
          c.invalid!.value++;
          return;
        }
      } else if ((s.protocol === 1 || s.protocol === 58) && !s.echoRequest) {
        c.invalid!.value++; // an echo reply nobody asked for
        return;
      }
      const e = new Entry(
        nextId++,
        s.family,
        s.protocol,
        s.src,
        s.srcPort,
        s.dst,
        s.dstPort,
      );
      if (update(e, 0, pkt, now) !== TcpMove.OK) {
        c.invalid!.value++;
        return;
      }
      pkt.ct = e.refs[0];
      unconfirmed = e;
    }

    /**
     * The direction in which the unconfirmed flow's tuple is the inverse of
     * the datagram the error in `s` quotes, or -1.
     */
    function quotesUnconfirmed(s: FlowScratch): number {
      const e = unconfirmed;
      if (e === null || e.confirmed || e.protocol !== s.protocol || e.family !== s.family) {
        return -1;
      }
      for (const dir of [0, 1] as const) {
        const t = dir === 0 ? e.original : e.reply;
        if (
          t.src === s.dst && t.srcPort === s.dstPort && t.dst === s.src && t.dstPort === s.srcPort
        ) return dir;
      }
      return -1;
    }

    /** input/postrouting: puts a new flow in the table once its first packet got through. */
    function confirm(pkt: PacketBuffer): HookVerdict {
      const ref = pkt.ct;
      if (!(ref instanceof Ref) || ref.related || ref.entry.confirmed) return ACCEPT;
      const e = ref.entry;
      if (e === unconfirmed) unconfirmed = null;
      const now = ctx.now(); // only for a new flow: most packets leave above
      const before = table.earlyDrops;
      const why = table.insert(e, now, timeoutOf(e));
      c.earlyDrop!.value += table.earlyDrops - before;
      if (why !== undefined) {
        pkt.ct = null;
        // Listeners (a NAT) may hold something for it: it will never be removed.
        for (const l of listeners) l(e);
        return why;
      }
      c.new!.value++;
      timer.armEarlier(e.expires);
      return ACCEPT;
    }

    function row(e: Entry, now: Instant): ConntrackRow {
      const tuple = (x: ConntrackTuple) => ({
        src: formatIpKey(x.src),
        dst: formatIpKey(x.dst),
        srcPort: x.srcPort,
        dstPort: x.dstPort,
      });
      return {
        protocol: PROTOCOL_NAMES[e.protocol] ?? String(e.protocol),
        family: e.family,
        timeout: Math.max(0, Math.ceil((e.expires - now) / SECOND)),
        state: e.state,
        original: tuple(e.original),
        reply: tuple(e.reply),
        flags: !e.seenReply ? "[UNREPLIED]" : e.assured ? "[ASSURED]" : "",
      };
    }

    const service: ConntrackService = {
      refOf: (pkt) => pkt.ct instanceof Ref ? pkt.ct : null,
      find(family, protocol, x) {
        checkTuple(family, protocol, x, "find a flow");
        return table.get(tupleKey(protocol, x.src, x.srcPort, x.dst, x.dstPort)) ?? null;
      },
      changeReply(entry, x) {
        if (!(entry instanceof Entry)) {
          throw new TypeError("Cannot change a reply tuple: not an entry of this table");
        }
        const e = entry;
        checkTuple(e.family, e.protocol, x, "change a reply tuple");
        if (e.confirmed) {
          throw new RangeError(`Cannot change the reply tuple of confirmed flow ${e.id}`);
        }
        const key = tupleKey(e.protocol, x.src, x.srcPort, x.dst, x.dstPort);
        if (key === e.replyKey) return true;
        if (table.has(key) || key === e.origKey) return false;
        e.reply = { src: x.src, srcPort: x.srcPort, dst: x.dst, dstPort: x.dstPort };
        e.replyKey = key;
        return true;
      },
      remove: (entry) => entry instanceof Entry && table.remove(entry),
      onRemove(listener) {
        if (typeof listener !== "function") {
          throw new TypeError("Cannot listen to conntrack removals: expected a function");
        }
        listeners.push(listener);
      },
      list() {
        const now = ctx.now();
        return [...table.entries()].sort((a, b) => a.id - b.id).map((e) => row(e, now));
      },
      get size() {
        return table.size;
      },
      get bytes() {
        return table.bytes;
      },
    };

    return {
      hook(point: HookPoint, pkt: PacketBuffer): HookVerdict {
        if (pkt.family !== 4 && pkt.family !== 6) return ACCEPT;
        if (point === "prerouting" || point === "output") {
          // A packet to ourselves is tracked once, at output (Linux: it is
          // confirmed at postrouting of lo; here at input).
          if (pkt.ct === null) track(pkt, point);
          return ACCEPT;
        }
        return confirm(pkt);
      },
      services: { [CONNTRACK_SERVICE]: service },
      teardown() {
        timer.cancel();
        unconfirmed = null;
        table.clear();
      },
    };
  },
};

/**
 * Whether the ICMP (IPv4) or ICMPv6 (IPv6, with its pseudo-header) message
 * at `at` up to the end of `pkt` sums to zero.
 */
function errorChecksumOk(pkt: PacketBuffer, at: number): boolean {
  const buf = pkt.buf, l3 = pkt.l3;
  let initial = 0;
  if (pkt.family === 6) {
    initial = pseudoHeaderSumV6(
      buf.subarray(l3 + 8, l3 + 24),
      buf.subarray(l3 + 24, l3 + 40),
      IP_PROTOCOL_ICMPV6,
      pkt.end - at,
    );
  }
  return finishChecksum(sumRange(buf, at, pkt.end, initial)) === 0;
}

/**
 * stack/validate.ts's policy for a tuple handed to the service: a wrong
 * type (or an address of the other family) is a TypeError, a port or
 * protocol out of range a RangeError.
 */
function checkTuple(family: number, protocol: number, x: ConntrackTuple, what: string): void {
  if (typeof x !== "object" || x === null) throw new TypeError(`Cannot ${what}: no tuple`);
  const want = family === 4 ? "number" : "string";
  if (family !== 4 && family !== 6) throw new RangeError(`Cannot ${what}: family ${family}`);
  if (typeof x.src !== want || typeof x.dst !== want) {
    throw new TypeError(`Cannot ${what}: addresses are not IPv${family} keys`);
  }
  for (const v of [protocol, x.srcPort, x.dstPort]) {
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new TypeError(`Cannot ${what}: ${v} is not a whole number`);
    }
    if (v < 0 || v > 65535) throw new RangeError(`Cannot ${what}: ${v} is out of range`);
  }
  if (protocol > 255) throw new RangeError(`Cannot ${what}: protocol ${protocol} is out of range`);
}

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  1: "icmp",
  6: "tcp",
  17: "udp",
  58: "icmpv6",
};

/**
 * Rows of `stack.conntrack()` as `conntrack -L` prints them, one line each.
 *
 * @example
 * ```ts
 * import { formatConntrack } from "./conntrack.ts";
 * import assert from "node:assert/strict";
 * const line = formatConntrack([{
 *   protocol: "udp", family: 4, timeout: 29, state: "",
 *   original: { src: "10.0.0.1", dst: "10.0.0.2", srcPort: 5000, dstPort: 53 },
 *   reply: { src: "10.0.0.2", dst: "10.0.0.1", srcPort: 53, dstPort: 5000 },
 *   flags: "[UNREPLIED]",
 * }]);
 * assert.equal(
 *   line,
 *   "udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=5000",
 * );
 * ```
 */
export function formatConntrack(rows: readonly ConntrackRow[]): string {
  const numbers: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };
  return rows.map((r) => {
    const icmp = r.protocol === "icmp" || r.protocol === "icmpv6";
    const side = (x: ConntrackRow["original"]) =>
      `src=${x.src} dst=${x.dst} ` +
      (icmp ? `id=${x.srcPort || x.dstPort}` : `sport=${x.srcPort} dport=${x.dstPort}`);
    const parts = [
      `${r.protocol.padEnd(8)} ${numbers[r.protocol] ?? r.protocol} ${r.timeout}`,
      ...(r.state !== "" ? [r.state] : []),
      side(r.original),
      ...(r.flags === "[UNREPLIED]" ? [r.flags] : []),
      side(r.reply),
      ...(r.flags === "[ASSURED]" ? [r.flags] : []),
    ];
    return parts.join(" ");
  }).join("\n");
}

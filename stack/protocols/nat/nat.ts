/**
 * The nat plugin: rules and mappings decided on a flow's first packet,
 * then every packet of the flow (and every ICMP error about it) rewritten
 * from the conntrack entry's two tuples, as Linux's nf_nat does. Module
 * docs are in mod.ts.
 *
 * @module
 */
import type { Counter } from "../../counters.ts";
import type { HookContext } from "../../hooks.ts";
import type {
  HookPoint,
  HookVerdict,
  PluginContext,
  ProtocolPlugin,
  StackEvent,
} from "../../manifest.ts";
import { ACCEPT } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import {
  CONNTRACK_SERVICE,
  type ConntrackEntry,
  type ConntrackRef,
  type ConntrackService,
  type ConntrackTuple,
} from "../../_services_conntrack.ts";
import { parseIpv4Address } from "../../wire/address.ts";
import { type Mapping, MappingTable } from "./mappings.ts";
import { rewriteIpv4Endpoint, translateIcmpError } from "./rewrite.ts";
import {
  type CompiledRule,
  compileNatRule,
  formatIpv4Address,
  type NatRule,
  parseNatRule,
  ruleMatches,
} from "./rules.ts";

/** The NAT service name. */
export const NAT_SERVICE = "nat.table";

/** Filtering of inbound packets to a mapping (RFC 4787 §5). */
export type NatFiltering = "endpoint" | "address" | "address-port";

/** One mapping, as `stack.service<NatService>("nat.table").mappings()` lists it. */
export interface NatMappingRow {
  /** "tcp", "udp" or "icmp". */
  readonly protocol: string;
  /** Internal endpoint, `10.1.0.10:5000`. */
  readonly internal: string;
  /** External endpoint, `203.0.113.1:5000`. */
  readonly external: string;
  /** Tracked flows using it (0: lingering until it expires). */
  readonly flows: number;
}

/**
 * `nat.table`: the rules and the mappings.
 *
 * @example
 * ```ts
 * import type { NatService } from "./nat.ts";
 * function forwardWeb(nat: NatService): void {
 *   nat.addRule("dnat -i eth1 -p tcp --dport 8080 --to 10.1.0.5:80");
 * }
 * console.log(typeof forwardWeb);
 * ```
 */
export interface NatService {
  /**
   * Appends a rule (an object or its one-line form); later flows see it.
   *
   * @throws {TypeError|RangeError} When the rule does not check (see `compileNatRule`).
   */
  addRule(rule: NatRule | string): void;
  /** The rules, in order. */
  rules(): NatRule[];
  /** Removes every rule (flows keep their translation). */
  clearRules(): void;
  /** The mappings. */
  mappings(): NatMappingRow[];
}

/** What the plugin keeps per translated flow (in `entry.nat`). */
class FlowNat {
  /** An inbound mapping chosen at prerouting, counted once the flow is confirmed. */
  pending: Mapping | null = null;
  /** The mappings the flow counts in (inbound and, hairpinned, its source's). */
  readonly maps: Mapping[] = [];
  /** The destination was translated (DNAT, REDIRECT, an inbound mapping). */
  dnat = false;
  /** The destination before translation. */
  origDst = 0;
}

const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: "icmp", 6: "tcp", 17: "udp" };
const LOOPBACK = 0x7f000001;

/** The nat plugin. */
export const natPlugin: ProtocolPlugin = {
  manifest: {
    name: "nat",
    version: "1.0.0",
    api: "^1.0.0",
    description: "IPv4 NAT: SNAT, MASQUERADE, DNAT, REDIRECT on conntrack (RFC 4787/5382/5508)",
    layer: "middlebox",
    binds: [],
    dependencies: ["conntrack"],
    hooks: [
      { point: "prerouting", after: ["conntrack"] },
      { point: "output", after: ["conntrack"] },
      { point: "input", before: ["conntrack"] },
      { point: "postrouting", before: ["conntrack"] },
    ],
    events: ["address-removed", "link-changed", "interface-removed"],
    requires: [CONNTRACK_SERVICE],
    provides: [NAT_SERVICE],
    counters: [
      "flow.snat",
      "flow.dnat",
      "flow.hairpin",
      "map.created",
      "map.expired",
      "map.flushed",
      "map.remotes_full",
      "map.remotes_bytes_full",
      "postrouting.map_bytes_full",
      "input.map_bytes_full",
      "prerouting.filtered",
      "prerouting.unknown_error",
      "prerouting.clash",
      "output.clash",
      "postrouting.no_port",
      "postrouting.no_address",
      "input.no_port",
    ],
    options: {
      rules: {
        default: "",
        description: "rules in their one-line form, separated by ';' (e.g. 'masquerade -o eth1')",
      },
      filtering: {
        default: "address",
        description:
          "inbound to a mapping (RFC 4787 §5): 'endpoint' (any remote), 'address' (a remote address it sent to), 'address-port'",
      },
      mappingTimeout: {
        default: 120_000_000,
        description: "µs a mapping outlives its last flow (RFC 4787 REQ-5: at least 2 minutes)",
      },
      maxMappings: { default: 65536, description: "mappings at most" },
      maxBytes: {
        default: 16 << 20,
        description:
          "bytes the mappings and their remembered remotes may hold (measured per-item charges)",
      },
      tcpTransitoryTimeout: {
        default: 240_000_000,
        description:
          "µs a translated TCP flow lasts idle at least while opening or closing (RFC 5382 REQ-5, RFC 7857 §2.2: 4 minutes; TIME_WAIT excepted)",
      },
      maxRemotes: {
        default: 256,
        description: "remote endpoints a mapping remembers for filtering, at most",
      },
      hairpin: {
        default: true,
        description: "translate the source of flows hairpinned back out of their interface (REQ-9)",
      },
    },
  },
  setup(ctx: PluginContext) {
    const filtering = ctx.options.filtering as string;
    if (filtering !== "endpoint" && filtering !== "address" && filtering !== "address-port") {
      throw new RangeError(
        `Cannot set up nat: filtering "${filtering}" is not endpoint, address or address-port`,
      );
    }
    const linger = ctx.options.mappingTimeout as number;
    const maxMappings = ctx.options.maxMappings as number;
    const maxRemotes = ctx.options.maxRemotes as number;
    const maxBytes = ctx.options.maxBytes as number;
    const transitory = ctx.options.tcpTransitoryTimeout as number;
    for (
      const [name, v] of [
        ["mappingTimeout", linger],
        ["maxMappings", maxMappings],
        ["maxRemotes", maxRemotes],
        ["maxBytes", maxBytes],
        ["tcpTransitoryTimeout", transitory],
      ] as const
    ) {
      if (!Number.isInteger(v)) throw new TypeError(`Cannot set up nat: ${name} is not whole`);
      if (v < 1) throw new RangeError(`Cannot set up nat: ${name} ${v} is below 1`);
    }
    const hairpin = ctx.options.hairpin as boolean;
    const rules: CompiledRule[] = [];
    for (const text of String(ctx.options.rules).split(";")) {
      if (text.trim() !== "") rules.push(compileNatRule(parseNatRule(text)));
    }
    const mappings = new MappingTable(maxMappings, maxBytes);
    /** Flows per mapping (to flush them with it). */
    const flowsOf = new Map<Mapping, Set<ConntrackEntry>>();
    let ct!: ConntrackService;
    const c: Record<string, Counter> = {
      snat: ctx.counter("flow.snat"),
      dnat: ctx.counter("flow.dnat"),
      hairpin: ctx.counter("flow.hairpin"),
      created: ctx.counter("map.created"),
      expired: ctx.counter("map.expired"),
      flushed: ctx.counter("map.flushed"),
      remotesFull: ctx.counter("map.remotes_full"),
      remotesBytesFull: ctx.counter("map.remotes_bytes_full"),
    };
    const timer = ctx.timer((now) => {
      c.expired!.value += mappings.expire(now, linger);
      const next = mappings.nextExpiry(linger);
      if (next !== undefined) timer.arm(next);
    });

    function stateOf(e: ConntrackEntry): FlowNat {
      const st = e.nat as FlowNat | null;
      if (st !== null) return st;
      // A conntrack timeout shorter than RFC 5382's transitory one (Linux:
      // CLOSE_WAIT 60 s, CLOSE 10 s) would end a half-closed connection's
      // translation while it may still carry data.
      if (e.protocol === 6) e.minTimeout = transitory;
      return e.nat = new FlowNat();
    }

    /** One of this host's addresses, or loopback (iptables' addrtype LOCAL). */
    function isLocalAddress(a: number): boolean {
      return (a >>> 24) === 127 || ctx.interfaces.withIpv4(a) !== undefined;
    }

    function primaryAddress(iface: NetInterface | null): number | undefined {
      return iface?.ipv4[0]?.address;
    }

    /** First packet at prerouting/output: DNAT/REDIRECT rules, then inbound mappings. */
    function setupDestination(
      e: ConntrackEntry,
      point: HookPoint,
      h: HookContext,
    ): HookVerdict {
      const o = e.original;
      const src = o.src as number, dst = o.dst as number;
      const inName = point === "prerouting" ? (h.inIface?.name ?? null) : null;
      for (const r of rules) {
        if (r.action !== "dnat" && r.action !== "redirect") continue;
        if (point === "output" && r.inIface !== null) continue;
        if (!ruleMatches(r, inName, null, e.protocol, src, o.srcPort, dst, o.dstPort)) continue;
        if (r.dstLocal && !isLocalAddress(dst)) continue;
        let to: number | undefined = r.toAddrLo;
        if (r.action === "redirect") {
          to = point === "output" ? LOOPBACK : primaryAddress(h.inIface);
          if (to === undefined) return ACCEPT; // no address to redirect to
        }
        const port = r.toPortLo !== 0 ? r.toPortLo : o.dstPort;
        return redirectFlow(e, to, port, null);
      }
      if (point === "prerouting" && (e.protocol === 6 || e.protocol === 17)) {
        const m = mappings.byExternal(e.protocol, dst, o.dstPort);
        if (m !== undefined) {
          // RFC 4787 REQ-9: a hairpinned packet is filtered by its sender's
          // external endpoint, and sending it opens the sender's own
          // mapping to that endpoint even when this one filters it (so
          // two inside hosts can punch holes towards each other).
          const own = mappings.byInternal(e.protocol, src, o.srcPort, dst);
          if (own !== undefined) permit(own, dst, o.dstPort);
          const from = own !== undefined ? own.extAddr : src;
          const fromPort = own !== undefined ? own.extPort : o.srcPort;
          if (!filterAllows(m, from, fromPort)) return "filtered";
          return redirectFlow(e, m.intAddr, m.intPort, m);
        }
      }
      return ACCEPT;
    }

    function filterAllows(m: Mapping, src: number, port: number): boolean {
      if (filtering === "endpoint") return true;
      if (filtering === "address") return m.remotes.has(src);
      return m.remoteEndpoints.has(src + "|" + port);
    }

    function redirectFlow(
      e: ConntrackEntry,
      to: number,
      port: number,
      m: Mapping | null,
    ): HookVerdict {
      const r = e.reply;
      if (!ct.changeReply(e, { src: to, srcPort: port, dst: r.dst, dstPort: r.dstPort })) {
        return "clash";
      }
      const st = stateOf(e);
      st.dnat = true;
      st.origDst = e.original.dst as number;
      st.pending = m; // counted once the flow is confirmed (postrouting/input)
      c.dnat!.value++;
      return ACCEPT;
    }

    /** First packet at postrouting/input: SNAT/MASQUERADE rules, then hairpin. */
    function setupSource(
      e: ConntrackEntry,
      point: HookPoint,
      h: HookContext,
    ): HookVerdict {
      const st = e.nat as FlowNat | null;
      let inbound = false;
      if (st !== null && st.pending !== null) {
        // An inbound flow through a mapping: counted now that it is about to
        // be confirmed; its source is the remote, translated only if hairpinned.
        countFlow(e, st, st.pending);
        st.pending = null;
        inbound = true;
      }
      const o = e.original, r = e.reply;
      const outIface = point === "postrouting" ? h.outIface : null;
      const outName = outIface?.name ?? null;
      for (const rule of inbound ? [] : rules) {
        if (rule.action !== "snat" && rule.action !== "masquerade") continue;
        if (point === "input" && rule.outIface !== null) continue;
        if (
          !ruleMatches(
            rule,
            null,
            outName,
            e.protocol,
            o.src as number,
            o.srcPort,
            r.src as number,
            r.srcPort,
          )
        ) continue;
        let ext: number;
        let ifindex = -1;
        if (rule.action === "masquerade") {
          const a = primaryAddress(outIface);
          if (a === undefined) return "no_address";
          ext = a;
          ifindex = outIface!.index;
        } else {
          // Paired pooling (RFC 4787 REQ-2): one internal address, one external.
          const n = rule.toAddrHi - rule.toAddrLo + 1;
          ext = rule.toAddrLo + (n === 1 ? 0 : mix(o.src as number) % n);
        }
        const ported = e.protocol === 6 || e.protocol === 17;
        if (ported && rule.toPortLo !== 0) {
          return sourceMap(e, ext, rule.toPortLo, rule.toPortHi, ifindex);
        }
        return sourceMap(e, ext, ...portSpace(e.protocol), ifindex);
      }
      if (
        hairpin && st !== null && st.dnat && point === "postrouting" && h.inIface !== null &&
        h.outIface === h.inIface && e.protocol !== 1
      ) {
        // REQ-9: back out of the interface it came in by; the source becomes
        // the external address it was sent to, so replies come back here.
        c.hairpin!.value++;
        return sourceMap(e, st.origDst, ...portSpace(e.protocol), -1);
      }
      return ACCEPT;
    }

    function sourceMap(
      e: ConntrackEntry,
      ext: number,
      lo: number,
      hi: number,
      ifindex: number,
    ): HookVerdict {
      const o = e.original, r = e.reply;
      const proto = e.protocol;
      let m = mappings.byInternal(proto, o.src as number, o.srcPort, ext);
      if (m === undefined) {
        const taken = (port: number): boolean =>
          ct.find(4, proto, { src: r.src, srcPort: r.srcPort, dst: ext, dstPort: port }) !== null;
        const made = mappings.create(
          proto,
          o.src as number,
          o.srcPort,
          ext,
          lo,
          hi,
          ctx.rng,
          taken,
        );
        // Refused for its bytes when no idle mapping could make room.
        if (made === null) return mappings.bytesFull ? "map_bytes_full" : "no_port";
        m = made;
        c.created!.value++;
      }
      const reply: ConntrackTuple = {
        src: r.src,
        srcPort: r.srcPort,
        dst: ext,
        dstPort: m.extPort,
      };
      if (!ct.changeReply(e, reply)) return "no_port";
      if (ifindex >= 0) m.ifindex = ifindex;
      const st = stateOf(e);
      countFlow(e, st, m);
      permit(m, r.src as number, r.srcPort);
      c.snat!.value++;
      return ACCEPT;
    }

    function permit(m: Mapping, addr: number, port: number): void {
      const got = mappings.permit(m, addr, port, maxRemotes);
      if (got === "full") c.remotesFull!.value++;
      else if (got === "bytes_full") c.remotesBytesFull!.value++;
    }

    function countFlow(e: ConntrackEntry, st: FlowNat, m: Mapping): void {
      if (st.maps.includes(m)) return;
      st.maps.push(m);
      mappings.acquire(m);
      let set = flowsOf.get(m);
      if (set === undefined) flowsOf.set(m, set = new Set());
      set.add(e);
    }

    /** Rewrites `pkt` for its flow at a destination (`dst`) or source stage. */
    function translate(pkt: PacketBuffer, ref: ConntrackRef, dst: boolean): void {
      const e = ref.entry;
      const mine = ref.direction === 0 ? e.original : e.reply;
      const other = ref.direction === 0 ? e.reply : e.original;
      const dv = pkt.dv, buf = pkt.buf, l3 = pkt.l3, end = pkt.end;
      // What it writes: a flow's own packet, headers only (never a copy of a
      // segment TCP still keeps, PacketBuffer.makeWritable); an ICMP error,
      // the whole message.
      const l4 = l3 + ((buf[l3]! & 0x0f) << 2);
      pkt.makeWritable(l3, ref.related ? end : Math.min(end, l4 + 20));
      // A super-segment we send holds a partial checksum (TSO/USO).
      const partial = (pkt.flags & PacketFlags.CHECKSUM_PARTIAL) !== 0;
      if (dst) {
        if (mine.dst === other.src && mine.dstPort === other.srcPort) return;
        if (!ref.related) {
          rewriteIpv4Endpoint(
            dv,
            buf,
            l3,
            end,
            "destination",
            other.src as number,
            other.srcPort,
            partial,
          );
        } else if (buf[l3 + 9] === 1) {
          const icmpAt = l3 + ((buf[l3]! & 0x0f) << 2);
          translateIcmpError(
            dv,
            buf,
            l3,
            end,
            icmpAt,
            "destination",
            other.src as number,
            "source",
            other.src as number,
            other.srcPort,
          );
        }
      } else {
        if (mine.src === other.dst && mine.srcPort === other.dstPort) return;
        if (!ref.related) {
          rewriteIpv4Endpoint(
            dv,
            buf,
            l3,
            end,
            "source",
            other.dst as number,
            other.dstPort,
            partial,
          );
        } else if (buf[l3 + 9] === 1) {
          const icmpAt = l3 + ((buf[l3]! & 0x0f) << 2);
          translateIcmpError(
            dv,
            buf,
            l3,
            end,
            icmpAt,
            "source",
            other.dst as number,
            "destination",
            other.dst as number,
            other.dstPort,
          );
        }
      }
    }

    /**
     * An ICMP error no flow owns whose quoted datagram left from one of our
     * external addresses: about a mapping that is gone (or never was).
     */
    function isUnknownError(pkt: PacketBuffer): boolean {
      const buf = pkt.buf, l3 = pkt.l3;
      if (buf[l3 + 9] !== 1 || mappings.size === 0) return false;
      const icmpAt = l3 + ((buf[l3]! & 0x0f) << 2);
      if (pkt.end - icmpAt < 8 + 20) return false;
      const type = buf[icmpAt]!;
      if (!(type === 3 || type === 4 || type === 5 || type === 11 || type === 12)) return false;
      return mappings.hasExternalAddress(pkt.dv.getUint32(icmpAt + 8 + 12));
    }

    /**
     * MASQUERADE follows the interface: its mappings on an address it lost
     * (any address when `address` is null: the link went down) go, with
     * their flows, as Linux's masquerade does on NETDEV_DOWN.
     */
    function flushMasquerade(iface: NetInterface, address: number | null): void {
      for (const m of mappings.list()) {
        if (m.ifindex !== iface.index || (address !== null && m.extAddr !== address)) continue;
        for (const e of [...(flowsOf.get(m) ?? [])]) ct.remove(e);
        flowsOf.delete(m);
        mappings.delete(m);
        c.flushed!.value++;
      }
    }

    const service: NatService = {
      addRule(rule) {
        const r = typeof rule === "string" ? parseNatRule(rule) : rule;
        rules.push(compileNatRule(r));
      },
      rules: () => rules.map((r) => r.rule),
      clearRules() {
        rules.length = 0;
      },
      mappings: () =>
        mappings.list().map((m) => ({
          protocol: PROTOCOL_NAMES[m.protocol] ?? String(m.protocol),
          internal: `${formatIpv4Address(m.intAddr)}:${m.intPort}`,
          external: `${formatIpv4Address(m.extAddr)}:${m.extPort}`,
          flows: m.flows,
        })),
    };

    return {
      hook(point: HookPoint, pkt: PacketBuffer, h: HookContext): HookVerdict {
        if (pkt.family !== 4) return ACCEPT;
        const ref = ct.refOf(pkt);
        if (ref === null) {
          return point === "prerouting" && isUnknownError(pkt) ? "unknown_error" : ACCEPT;
        }
        const e = ref.entry;
        const dst = point === "prerouting" || point === "output";
        if (!e.confirmed && ref.direction === 0 && !ref.related) {
          const v = dst ? setupDestination(e, point, h) : setupSource(e, point, h);
          if (v !== ACCEPT) return v;
        }
        if (e.nat !== null) translate(pkt, ref, dst);
        return ACCEPT;
      },
      services: { [NAT_SERVICE]: service },
      ready() {
        ct = ctx.service<ConntrackService>(CONNTRACK_SERVICE);
        ct.onRemove((e) => {
          const st = e.nat as FlowNat | null;
          if (st === null) return;
          for (const m of st.maps.splice(0)) {
            const flows = flowsOf.get(m);
            flows?.delete(e);
            if (flows?.size === 0) flowsOf.delete(m);
            mappings.release(m, ctx.now());
            if (m.flows === 0) timer.armEarlier(ctx.now() + linger);
          }
        });
      },
      onEvent(ev: StackEvent) {
        if (ev.type === "address-removed" && ev.family === 4) {
          const a = parseIpv4Address(ev.address as string);
          if (a !== null) flushMasquerade(ev.iface as NetInterface, a);
        } else if (
          ev.type === "interface-removed" ||
          (ev.type === "link-changed" && !(ev.iface as NetInterface).up)
        ) {
          // Linux's masquerade flushes a device's entries on NETDEV_DOWN and
          // NETDEV_UNREGISTER (masq_device_event).
          flushMasquerade(ev.iface as NetInterface, null);
        }
      },
      teardown() {
        timer.cancel();
        mappings.clear();
      },
    };
  },
};

/**
 * The external "ports" a protocol's mappings take: TCP and UDP ports
 * 1..65535, ICMP echo identifiers 0..65535, and for protocols without
 * ports (tracked by addresses alone) only 0: one internal host per
 * external address at a time, as Linux without a helper.
 */
function portSpace(protocol: number): [number, number] {
  if (protocol === 6 || protocol === 17) return [1, 65535];
  return protocol === 1 ? [0, 65535] : [0, 0];
}

/** A 32-bit mix of an address, to spread internal hosts over a pool. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

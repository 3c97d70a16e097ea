/**
 * The ARP plugin: answers for our addresses, learns from what RFC 826's merge
 * rule allows, resolves next hops with retries, and queues a bounded number
 * of packets per unresolved neighbour.
 *
 * Cache life cycle (Linux's, simplified):
 * INCOMPLETE --reply--> REACHABLE --reachableTime--> STALE --use-->
 * delayFirstProbeTime (Linux's DELAY) --> probe (unicast request) --reply-->
 * REACHABLE; INCOMPLETE --retries exhausted--> FAILED (queued packets
 * dropped) --failedTime--> gone; STALE unused for staleTime --> gone. A
 * request for us from an on-link sender creates a STALE entry (learned, not
 * confirmed); one from an off-subnet sender is dropped as `rx.off_subnet`.
 * A full cache evicts its least recently used entry that is not INCOMPLETE
 * or PERMANENT (issue 16: 4,096 spoofed requests no longer lock it).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type {
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
} from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import {
  type ArpService,
  type EthernetService,
  type NeighborEntry,
  neighborServiceName,
} from "../../services.ts";
import type { Timer } from "../../timers.ts";
import {
  BROADCAST_MAC,
  formatIpv4Address,
  formatMac,
  IPV4_BROADCAST as LIMITED_BROADCAST,
  isIpv4Multicast,
} from "../../wire/address.ts";
import {
  ARP_OPERATION_REPLY,
  ARP_OPERATION_REQUEST,
  ARP_PACKET_LEN,
  ArpPacket,
  emitArp,
  parseArp,
} from "../../wire/arp.ts";
import { ETHERTYPE_ARP } from "../../wire/ethernet.ts";
import type { IpKey } from "../../wire/ip_address.ts";

type State = "INCOMPLETE" | "REACHABLE" | "STALE" | "FAILED" | "PERMANENT";

interface Neighbor {
  readonly ifindex: number;
  readonly ip: number;
  state: State;
  mac: Uint8Array | null;
  /** When REACHABLE turns STALE, STALE/FAILED entries are removed, or the next retry is due. */
  deadline: Instant;
  retries: number;
  probing: boolean;
  /** Used since eviction last looked at it (CLOCK's reference bit). */
  used: boolean;
  readonly queue: PacketBuffer[];
  /** Bytes held in `queue`: the capacity of each pooled buffer, not its data length. */
  queued: number;
}

/** Bytes a queued packet really holds: its whole pooled buffer (2 KiB), not its data. */
function cost(pkt: PacketBuffer): number {
  return pkt.buf.byteLength;
}

/** The ARP plugin. */
export const arpPlugin: ProtocolPlugin = {
  manifest: {
    name: "arp",
    version: "1.0.0",
    api: "^1.0.0",
    description: "ARP (RFC 826) and the IPv4 neighbour cache",
    layer: "network",
    dependencies: ["ethernet"],
    binds: [{ table: "ethertype", key: ETHERTYPE_ARP }],
    events: ["address-added", "address-removed", "interface-removed", "link-changed"],
    provides: ["arp.resolve", neighborServiceName(4)],
    requires: ["ethernet.send"],
    counters: [
      "rx.truncated",
      "rx.unsupported_hardware",
      "rx.unsupported_protocol",
      "rx.unsupported_operation",
      "rx.bad_length",
      "rx.bad_sender",
      "rx.address_conflict",
      "rx.not_for_us",
      "rx.requests",
      "rx.replies",
      "tx.requests",
      "tx.replies",
      "tx.announcements",
      "tx.queue_full",
      "tx.queue_total_full",
      "tx.unresolved",
      "cache.full",
      "cache.evicted",
      "rx.off_subnet",
    ],
    options: {
      reachableTime: {
        default: 30_000_000,
        description: "µs an entry stays REACHABLE after a reply",
      },
      staleTime: { default: 60_000_000, description: "µs an unused STALE entry is kept" },
      retransmitTime: { default: 1_000_000, description: "µs between requests while INCOMPLETE" },
      retries: { default: 3, description: "requests sent before an entry is FAILED" },
      delayFirstProbeTime: {
        default: 5_000_000,
        description:
          "µs from the first use of a STALE entry to its first unicast probe (Linux's DELAY)",
      },
      failedTime: { default: 20_000_000, description: "µs a FAILED entry is kept (fast failure)" },
      queueLength: { default: 256, description: "packets queued per unresolved neighbour" },
      queueBytes: {
        default: 524_288,
        description:
          "bytes queued per unresolved neighbour (like Linux unres_qlen_bytes), counted as whole pooled buffers (2 KiB each): 256 packets, so a 64 KiB datagram refragmented to MTU 576 (135 fragments) fits",
      },
      totalQueueBytes: {
        default: 1_048_576,
        description:
          "bytes queued for all unresolved neighbours together (whole pooled buffers); past it the oldest waiting packet of the stack is dropped",
      },
      maxEntries: { default: 4096, description: "cache size bound (whole stack)" },
      announce: { default: true, description: "send a gratuitous ARP when an address is added" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const o = ctx.options as Record<string, number | boolean>;
    const reachableTime = o.reachableTime as number;
    const staleTime = o.staleTime as number;
    const retransmitTime = o.retransmitTime as number;
    const maxRetries = o.retries as number;
    const failedTime = o.failedTime as number;
    const queueLength = o.queueLength as number;
    const queueBytes = o.queueBytes as number;
    const maxEntries = o.maxEntries as number;
    const totalQueueBytes = o.totalQueueBytes as number;
    const delayFirstProbeTime = o.delayFirstProbeTime as number;
    const c = {
      requestsIn: ctx.counter("rx.requests"),
      repliesIn: ctx.counter("rx.replies"),
      requestsOut: ctx.counter("tx.requests"),
      repliesOut: ctx.counter("tx.replies"),
      announcements: ctx.counter("tx.announcements"),
      queueFull: ctx.counter("tx.queue_full"),
      queueTotalFull: ctx.counter("tx.queue_total_full"),
      evicted: ctx.counter("cache.evicted"),
      unresolved: ctx.counter("tx.unresolved"),
      cacheFull: ctx.counter("cache.full"),
    };
    let eth!: EthernetService;
    // Told about packets dropped for a failed resolution (IPv4: host unreachable).
    let unresolvedHandler: ((ifindex: number, pkt: PacketBuffer) => void) | null = null;
    const cache = new Map<number, Map<number, Neighbor>>(); // ifindex -> ip -> entry
    let size = 0;
    // Every entry in CLOCK order (approximate LRU): a use only sets `used`, so
    // the send path does no Set reordering per packet; eviction gives used
    // entries a second chance by moving them to the back.
    const lru = new Set<Neighbor>();
    // Neighbours with packets waiting, the one waiting longest first.
    const waiting = new Set<Neighbor>();
    let totalQueued = 0; // bytes in all queues
    // One timer walks the cache at the earliest deadline; entries are few and
    // deadlines coarse, so a sweep beats a timer per entry.
    const sweep: Timer = ctx.timer(onSweep);
    // Directed broadcast addresses of our subnets: sent to the broadcast MAC.
    const broadcasts = new Set<number>();
    // The MAC of an IPv4 multicast group (RFC 1112 §6.4), rewritten per use.
    const multicastMac = new Uint8Array([0x01, 0x00, 0x5e, 0, 0, 0]);

    function rebuildBroadcasts(): void {
      broadcasts.clear();
      for (const iface of ctx.interfaces.list()) {
        for (const a of iface.ipv4) {
          if (a.prefixLength < 31) {
            const m = a.prefixLength === 0 ? 0 : (0xffffffff << (32 - a.prefixLength)) >>> 0;
            broadcasts.add((a.address | ~m) >>> 0);
          }
        }
      }
    }

    function table(ifindex: number): Map<number, Neighbor> {
      let t = cache.get(ifindex);
      if (t === undefined) cache.set(ifindex, t = new Map());
      return t;
    }

    function schedule(n: Neighbor): void {
      if (n.state !== "PERMANENT") sweep.armEarlier(n.deadline);
    }

    function sendArp(
      ifindex: number,
      op: 1 | 2,
      dstMac: Uint8Array,
      targetMac: Uint8Array,
      senderIp: number,
      targetIp: number,
    ): void {
      const iface = ctx.interfaces.get(ifindex);
      if (!iface?.mac) return;
      const pkt = ctx.pool.alloc(ARP_PACKET_LEN);
      emitArp({
        operation: op,
        senderMac: iface.mac,
        senderIp,
        targetMac,
        targetIp,
      }, pkt.data);
      eth.send(ifindex, dstMac, ETHERTYPE_ARP, pkt);
    }

    function sourceFor(ifindex: number, target: number): number {
      const iface = ctx.interfaces.get(ifindex);
      if (!iface || iface.ipv4.length === 0) return 0;
      for (const a of iface.ipv4) {
        const mask = a.prefixLength === 0 ? 0 : (~0 << (32 - a.prefixLength)) >>> 0;
        if (((a.address ^ target) & mask) >>> 0 === 0) return a.address;
      }
      return iface.ipv4[0]!.address;
    }

    const ZERO_MAC = new Uint8Array(6);
    function request(n: Neighbor, unicast: boolean): void {
      c.requestsOut.value++;
      sendArp(
        n.ifindex,
        ARP_OPERATION_REQUEST,
        unicast && n.mac ? n.mac : BROADCAST_MAC,
        ZERO_MAC,
        sourceFor(n.ifindex, n.ip),
        n.ip,
      );
    }

    function touch(n: Neighbor): void {
      n.used = true;
    }

    /**
     * The entry to evict: the first in CLOCK order that is neither INCOMPLETE
     * (resolution under way) nor PERMANENT and was not used since the last
     * look; used ones lose their bit and go to the back. At most two passes.
     */
    function victim(): Neighbor | undefined {
      let steps = 2 * lru.size;
      for (const n of lru) {
        if (steps-- <= 0) break;
        if (n.state === "INCOMPLETE" || n.state === "PERMANENT") continue;
        if (!n.used) return n;
        n.used = false;
        lru.delete(n);
        lru.add(n);
      }
      return undefined;
    }

    function flush(n: Neighbor): void {
      totalQueued -= n.queued;
      n.queued = 0;
      waiting.delete(n);
      // Back through the link output, which now finds the entry resolved.
      for (const pkt of n.queue.splice(0)) ctx.linkOutput(n.ifindex, 4, n.ip, pkt);
    }

    function drop(n: Neighbor, failed = false): void {
      totalQueued -= n.queued;
      n.queued = 0;
      waiting.delete(n);
      for (const pkt of n.queue.splice(0)) {
        c.unresolved.value++;
        unresolved(n.ifindex, pkt, failed);
      }
    }

    function unresolved(ifindex: number, pkt: PacketBuffer, failed: boolean): void {
      try {
        if (failed && unresolvedHandler !== null) unresolvedHandler(ifindex, pkt);
      } finally {
        pkt.release();
      }
    }

    /**
     * Publishes a `neighbor-changed` event (`previous` -> `n.state`) when
     * another plugin listens; state changes are rare, never per packet.
     */
    function changed(n: Neighbor, previous: State | "NONE", state: State | "NONE"): void {
      if (!ctx.hasEventListeners("neighbor-changed")) return;
      ctx.publish({
        type: "neighbor-changed",
        plugin: "arp",
        ifindex: n.ifindex,
        address: formatIpv4Address(n.ip),
        previous,
        state,
        mac: n.mac ? formatMac(n.mac) : null,
      });
    }

    /** The one place an entry's state changes (after `create`): publishes it. */
    function setState(n: Neighbor, state: State): void {
      const previous = n.state;
      if (previous === state) return;
      n.state = state;
      changed(n, previous, state);
    }

    function remove(n: Neighbor): void {
      drop(n);
      lru.delete(n);
      if (table(n.ifindex).delete(n.ip)) {
        size--;
        changed(n, n.state, "NONE");
      }
    }

    /** A new entry in `state`, with `mac` (retained as given) when known. */
    function create(
      ifindex: number,
      ip: number,
      state: State,
      mac: Uint8Array | null = null,
    ): Neighbor | undefined {
      if (size >= maxEntries) {
        // Evict the least recently used entry that is not INCOMPLETE (its
        // resolution is under way) or PERMANENT (configured), as Linux's
        // neigh_forced_gc does: a flood of new senders cannot lock out the
        // neighbours the stack is talking to (issue 16).
        const old = victim();
        if (old !== undefined) {
          c.evicted.value++;
          remove(old);
        }
        if (size >= maxEntries) {
          c.cacheFull.value++;
          return undefined;
        }
      }
      const n: Neighbor = {
        ifindex,
        ip,
        state,
        mac,
        deadline: 0,
        retries: 0,
        probing: false,
        used: false,
        queue: [],
        queued: 0,
      };
      table(ifindex).set(ip, n);
      lru.add(n);
      size++;
      changed(n, "NONE", state);
      return n;
    }

    function reachable(n: Neighbor, mac: Uint8Array, now: Instant): void {
      if (n.state === "PERMANENT") return;
      // copy: retained past receive()
      n.mac = n.mac !== null && equalMac(n.mac, mac) ? n.mac : mac.slice();
      setState(n, "REACHABLE");
      touch(n);
      n.probing = false;
      n.retries = 0;
      // Randomised between 0.5 and 1.5 times the base, as RFC 4861 and Linux do.
      n.deadline = now + Math.floor(reachableTime * (0.5 + ctx.rng.nextFloat()));
      schedule(n);
      flush(n);
    }

    function onSweep(now: Instant): void {
      let next = Infinity;
      for (const t of cache.values()) {
        for (const n of [...t.values()]) {
          if (n.state !== "PERMANENT" && n.deadline <= now) {
            switch (n.state) {
              case "INCOMPLETE":
                if (n.retries >= maxRetries) {
                  setState(n, "FAILED");
                  drop(n, true);
                  n.deadline = now + failedTime;
                } else {
                  n.retries++;
                  request(n, false);
                  n.deadline = now + retransmitTime;
                }
                break;
              case "REACHABLE":
                setState(n, "STALE");
                n.deadline = now + staleTime;
                break;
              case "STALE":
                if (n.probing && n.retries < maxRetries) {
                  n.retries++;
                  request(n, true);
                  n.deadline = now + retransmitTime;
                } else remove(n);
                break;
              case "FAILED":
                remove(n);
                break;
            }
          }
          if (t.get(n.ip) === n && n.state !== "PERMANENT") next = Math.min(next, n.deadline);
        }
      }
      if (next !== Infinity) sweep.arm(next);
    }

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      const view = ArpPacket.check(pkt.data);
      if (typeof view === "string") return view;
      const arp = parseArp(view);
      if (typeof arp === "string") return arp;
      const iface = rx.iface;
      if (iface.mac === null) return "unsupported_hardware";
      const sMac = arp.senderMac;
      if ((sMac[0]! & 1) !== 0 || equalMac(sMac, iface.mac)) return "bad_sender";
      if (isIpv4Multicast(arp.senderIp) || arp.senderIp === 0xffffffff) return "bad_sender";
      // Another host claims one of our addresses (RFC 5227 §2.4): never cache
      // it, or answer it (Linux drops it as a martian source).
      if (iface.hasIpv4(arp.senderIp)) return "address_conflict";
      const now = ctx.now();
      const forUs = iface.hasIpv4(arp.targetIp);
      // RFC 826 merge: update an existing entry for the sender whoever the target is.
      let merged = false;
      if (arp.senderIp !== 0) {
        const n = table(iface.index).get(arp.senderIp);
        if (n !== undefined) {
          reachable(n, sMac, now);
          merged = true;
        }
      }
      if (arp.operation === ARP_OPERATION_REQUEST) c.requestsIn.value++;
      else if (arp.operation === ARP_OPERATION_REPLY) c.repliesIn.value++;
      if (!forUs) return merged ? 0 : "not_for_us";
      if (!merged && arp.senderIp !== 0) {
        // Only an on-link sender may be learned or answered: an off-subnet
        // one cannot be a neighbour (Linux drops it by reverse-path check).
        if (!onLink(iface.ipv4, arp.senderIp)) return "off_subnet";
        // Learned from its request, not confirmed: STALE, as Linux does, so
        // it is probed before use and is first to go when the cache is full.
        // copy: retained past receive()
        const n = create(iface.index, arp.senderIp, "STALE", sMac.slice());
        if (n) {
          n.deadline = now + staleTime;
          schedule(n);
        }
      }
      if (arp.operation === ARP_OPERATION_REQUEST) {
        c.repliesOut.value++;
        sendArp(
          iface.index,
          ARP_OPERATION_REPLY,
          sMac,
          sMac,
          arp.targetIp,
          arp.senderIp,
        );
      }
      return 0;
    }

    /** Drops the oldest packet waiting for `n`. */
    function dropOldest(n: Neighbor): void {
      const old = n.queue.shift()!;
      n.queued -= cost(old);
      totalQueued -= cost(old);
      if (n.queue.length === 0) waiting.delete(n);
      old.release();
    }

    /**
     * Queues `pkt` for the unresolved `n`, bounded in packets and real bytes
     * per neighbour (`queueLength`, `queueBytes`) and in bytes for the whole
     * stack (`totalQueueBytes`); the oldest go first, as in Linux.
     */
    function enqueue(n: Neighbor, pkt: PacketBuffer): void {
      const size = cost(pkt);
      while (
        n.queue.length > 0 && (n.queue.length >= queueLength || n.queued + size > queueBytes)
      ) {
        c.queueFull.value++;
        dropOldest(n);
      }
      while (waiting.size > 0 && totalQueued + size > totalQueueBytes) {
        c.queueTotalFull.value++;
        dropOldest(waiting.values().next().value!);
      }
      if (size > queueBytes || size > totalQueueBytes) {
        c.queueFull.value++;
        pkt.release();
        return;
      }
      n.queue.push(pkt);
      n.queued += size;
      totalQueued += size;
      waiting.add(n);
    }

    /**
     * The family-4 neighbour resolver (`neighbor.ipv4`): the MAC for an IPv4
     * packet to `nextHop` on `ifindex`, or null when the packet was queued
     * (sent through the link output once resolved) or dropped.
     * Broadcast and multicast destinations map without ARP (RFC 1112 §6.4,
     * RFC 894), judged by the packet's destination as IPv4 always did: a
     * directed broadcast of one of our subnets goes to ff:ff:ff:ff:ff:ff
     * even when a route names a gateway.
     */
    function resolve(ifindex: number, nextHop: IpKey, pkt: PacketBuffer): Uint8Array | null {
      const dst = pkt.dv.getUint32(pkt.start + 16);
      if (dst === LIMITED_BROADCAST || broadcasts.has(dst)) return BROADCAST_MAC;
      if (isIpv4Multicast(dst)) {
        multicastMac[3] = (dst >>> 16) & 0x7f;
        multicastMac[4] = (dst >>> 8) & 0xff;
        multicastMac[5] = dst & 0xff;
        return multicastMac;
      }
      if (typeof nextHop !== "number") {
        // An IPv6 next hop handed to IPv4's resolver: cannot be resolved here.
        c.unresolved.value++;
        pkt.release();
        return null;
      }
      let n = table(ifindex).get(nextHop);
      if (n === undefined) {
        n = create(ifindex, nextHop, "INCOMPLETE");
        if (n === undefined) {
          c.unresolved.value++;
          pkt.release();
          return null;
        }
        request(n, false);
        // The first request counts: `retries` requests in all, then FAILED
        // (Linux's mcast_solicit = 3: requests at 0, 1 and 2 s, FAILED at 3 s).
        n.retries = 1;
        n.deadline = ctx.now() + retransmitTime;
        schedule(n);
      }
      if (n.state !== "INCOMPLETE") touch(n);
      switch (n.state) {
        case "REACHABLE":
        case "PERMANENT":
          return n.mac;
        case "STALE":
          if (!n.probing) {
            // Confirm the stale mapping with unicast requests (Linux's PROBE),
            // after delayFirstProbeTime (Linux's DELAY: a reply in the
            // meantime confirms it without a probe).
            n.probing = true;
            n.retries = 0;
            n.deadline = ctx.now() + delayFirstProbeTime;
            schedule(n);
          }
          return n.mac;
        case "FAILED":
          c.unresolved.value++;
          unresolved(ifindex, pkt, true);
          return null;
        case "INCOMPLETE":
          enqueue(n, pkt);
      }
      return null;
    }

    const service: ArpService = {
      family: 4,
      resolve,
      output(ifindex: number, nextHop: number, pkt: PacketBuffer): void {
        ctx.linkOutput(ifindex, 4, nextHop, pkt);
      },
      entries(): NeighborEntry[] {
        const rows: NeighborEntry[] = [];
        for (const t of cache.values()) {
          for (const n of t.values()) {
            rows.push({
              ifname: ctx.interfaces.get(n.ifindex)?.name ?? String(n.ifindex),
              address: formatIpv4Address(n.ip),
              mac: n.mac ? formatMac(n.mac) : "",
              state: n.state,
              queued: n.queue.length,
            });
          }
        }
        return rows;
      },
      addStatic(ifindex: number, address: number, mac: Uint8Array): void {
        const existing = table(ifindex).get(address);
        const copy = mac.slice(); // copy: retained
        const n = existing ?? create(ifindex, address, "PERMANENT", copy);
        if (!n) throw new RangeError("Cannot add static ARP entry: the cache is full");
        n.mac = copy;
        setState(n, "PERMANENT");
        flush(n);
      },
      onUnresolved(handler): void {
        unresolvedHandler = handler;
      },
    };

    return {
      receive,
      services: { "arp.resolve": service, [neighborServiceName(4)]: service },
      ready() {
        eth = ctx.service<EthernetService>("ethernet.send");
      },
      onEvent(ev) {
        if ((ev.type === "address-added" || ev.type === "address-removed") && ev.family === 4) {
          rebuildBroadcasts();
        }
        if (ev.type === "address-added" && ev.family === 4 && o.announce) {
          const iface = ev.iface as {
            index: number;
            mac: Uint8Array | null;
            up: boolean;
            ipv4: { address: number }[];
          };
          if (!iface.mac || !iface.up) return;
          const addr = iface.ipv4[iface.ipv4.length - 1]?.address;
          if (addr === undefined) return;
          // Gratuitous ARP (announcement): sender and target are our new address.
          c.announcements.value++;
          sendArp(iface.index, ARP_OPERATION_REQUEST, BROADCAST_MAC, new Uint8Array(6), addr, addr);
        }
        if (
          ev.type === "interface-removed" ||
          (ev.type === "link-changed" && !(ev.iface as { up: boolean }).up)
        ) {
          const idx = (ev.iface as { index: number }).index;
          for (const n of [...table(idx).values()]) if (n.state !== "PERMANENT") remove(n);
        }
      },
      teardown() {
        for (const t of cache.values()) for (const n of t.values()) drop(n);
        sweep.cancel();
      },
    };
  },
};

/** Whether `ip` is inside one of the interface's IPv4 subnets. */
function onLink(
  addresses: readonly { address: number; prefixLength: number }[],
  ip: number,
): boolean {
  for (const a of addresses) {
    const mask = a.prefixLength === 0 ? 0 : (~0 << (32 - a.prefixLength)) >>> 0;
    if (((a.address ^ ip) & mask) >>> 0 === 0) return true;
  }
  return false;
}

function equalMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

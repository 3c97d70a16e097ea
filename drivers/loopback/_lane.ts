/**
 * One direction of a virtual link: applies the fault model to each frame sent
 * and hands surviving frames to the network's event queue; delivers them to
 * the attached receiver when they come due.
 *
 * @module
 */
import type { Instant } from "../../stack/clock.ts";
import { LINKTYPE_ETHERNET } from "../../stack/driver.ts";
import type { DriverPort, LinkType } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../stack/packet_flags.ts";
import type { PacketPool } from "../../stack/packet_pool.ts";
import type { Rng } from "../../stack/rng.ts";
import { DEFAULT_REORDER_DELAY, emptyStats } from "./faults.ts";
import type { DropCounts, Faults, LinkStats } from "./faults.ts";
import { type FrameSink, landed, type Wire } from "./_wire.ts";
import { ECN_CE, ECN_NOT_ECT, ecnOf, markCe } from "./_ecn.ts";

const ETHERNET_HEADER_LEN = 14;
/**
 * Headroom a frame needs to be handed to the receiver as it is, not copied:
 * what a receiver prepends to a frame it took (a forwarder's Ethernet
 * header, an IPv6 fragment header, a VXLAN header) fits. A TCP segment over
 * IPv6 still has 42 of the pool's 128.
 */
const HANDOVER_HEADROOM = 32;
const VLAN_TAG_LEN = 4;

/**
 * Bytes after the link-layer header: the whole frame on raw IP links; on
 * Ethernet, the frame minus 14 bytes, or minus 18 when it carries one 802.1Q
 * (0x8100) or 802.1ad (0x88a8) tag.
 */
export function payloadLength(pkt: PacketBuffer, linkType: LinkType): number {
  const len = pkt.length;
  if (linkType !== LINKTYPE_ETHERNET) return len;
  if (len >= ETHERNET_HEADER_LEN + VLAN_TAG_LEN) {
    const type = pkt.dv.getUint16(pkt.start + 12);
    if (type === 0x8100 || type === 0x88a8) return len - ETHERNET_HEADER_LEN - VLAN_TAG_LEN;
  }
  return len - ETHERNET_HEADER_LEN;
}

/** @internal One direction of a link. */
export class Lane implements FrameSink {
  /** Stable id, the event order's tie-break ({@linkcode Wire.laneId}). */
  readonly id: number;
  readonly #wire: Wire;
  readonly #rng: Rng;
  readonly #linkType: LinkType;
  readonly #mtu: number;
  #faults: Readonly<Faults>;
  readonly stats: LinkStats = emptyStats();
  /** `link0 a->b`, for livelock reports (set by the link). */
  name = "";
  /** Receiver of this direction (set by the receiving end's attach()). */
  port: DriverPort | undefined = undefined;
  /**
   * Set by a switch on the lanes into its ports: takes each frame as it is
   * (the switch only reads the header and passes the buffer on, so a copy
   * into the network's pool per hop bought nothing).
   */
  forward: ((pkt: PacketBuffer) => void) | null = null;
  /** Pool of the sending end (set by the sending end's attach()), for duplicates. */
  srcPool: PacketPool | undefined = undefined;
  /** Whether this direction is cut. */
  partitioned = false;
  /** Number of partitions so far; a frame sent before the latest one is lost. */
  #cuts = 0;
  /** When the transmitter finishes serializing what it holds. */
  #busyUntil: Instant = 0;
  /** Serialization finish times and sizes of queued frames (a FIFO from #qHead). */
  readonly #qFinish: number[] = [];
  readonly #qSize: number[] = [];
  #qHead = 0;
  #qBytes = 0;
  /** Delivery time of the last frame not held back, for FIFO order. */
  #lastAt: Instant = 0;
  #inFlight = 0;

  constructor(wire: Wire, rng: Rng, linkType: LinkType, mtu: number, faults: Readonly<Faults>) {
    this.#wire = wire;
    this.id = wire.laneId();
    this.#rng = rng;
    this.#linkType = linkType;
    this.#mtu = mtu;
    this.#faults = faults;
  }

  get faults(): Readonly<Faults> {
    return this.#faults;
  }
  set faults(f: Readonly<Faults>) {
    this.#faults = f;
  }

  /** Frames scheduled and not yet delivered or dropped. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Cuts the direction: frames sent from now on, and those in flight, are lost. */
  partition(): void {
    this.partitioned = true;
    this.#cuts++;
  }

  #drop(pkt: PacketBuffer, reason: keyof DropCounts): void {
    this.stats.dropped[reason]++;
    this.#wire.release(pkt);
  }

  /** Gives up `pkt` without counting (it may be shared by a flood). */
  releaseFrame(pkt: PacketBuffer): void {
    this.#wire.release(pkt);
  }

  /** Takes ownership of `pkt` and puts it (or not) on the wire. */
  send(pkt: PacketBuffer): void {
    const st = this.stats;
    const len = pkt.length;
    st.sent++;
    st.bytesSent += len;
    if (this.partitioned) return this.#drop(pkt, "partition");
    if (payloadLength(pkt, this.#linkType) > this.#mtu) return this.#drop(pkt, "mtu");
    const f = this.#faults;
    const rng = this.#rng;
    const now = this.#wire.now();
    let ready = now;
    if (f.bandwidth !== undefined) {
      if (f.ecnMarkThreshold !== undefined && this.#queued(now) > f.ecnMarkThreshold) {
        const was = ecnOf(pkt, this.#linkType);
        if (was === ECN_NOT_ECT) return this.#drop(pkt, "aqm"); // frames that are not IP pass
        if (was > ECN_NOT_ECT) {
          if (was !== ECN_CE) {
            pkt = this.#wire.own(pkt); // a flood's buffer is shared: mark a copy
            markCe(pkt, this.#linkType);
          }
          st.ceMarked++;
        }
      }
      const finish = this.#enqueue(now, len, f);
      if (finish < 0) return this.#drop(pkt, "queue_full");
      ready = finish;
    }
    if (f.loss !== undefined && f.loss > 0 && rng.nextFloat() < f.loss) {
      return this.#drop(pkt, "loss");
    }
    // A copy or a damaged frame must carry the whole checksum (a partial one
    // is the sender's word that the bytes are as it made them).
    if (
      (pkt.flags & PacketFlags.CHECKSUM_PARTIAL) !== 0 &&
      ((f.duplicate !== undefined && f.duplicate > 0) || (f.corrupt !== undefined && f.corrupt > 0))
    ) finishPartialChecksum(pkt);
    if (f.duplicate !== undefined && f.duplicate > 0 && rng.nextFloat() < f.duplicate) {
      st.duplicated++;
      // The copy is taken before either copy can be corrupted.
      const dup = (this.srcPool ?? this.#wire.pool).copyOf(pkt.data);
      this.#launch(pkt, ready, f);
      this.#launch(dup, ready, f);
    } else {
      this.#launch(pkt, ready, f);
    }
  }

  /** Bytes waiting at `now` (frames accepted and not yet fully serialized). */
  #queued(now: Instant): number {
    const fin = this.#qFinish, size = this.#qSize;
    let h = this.#qHead;
    while (h < fin.length && fin[h]! <= now) this.#qBytes -= size[h++]!;
    this.#qHead = h;
    return this.#qBytes;
  }

  /**
   * Queues `len` bytes behind the frames being serialized; returns when they
   * are on the wire, or -1 if the queue is full.
   */
  #enqueue(now: Instant, len: number, f: Readonly<Faults>): Instant {
    const fin = this.#qFinish, size = this.#qSize;
    let h = this.#qHead;
    while (h < fin.length && fin[h]! <= now) this.#qBytes -= size[h++]!;
    if (h === fin.length) {
      fin.length = size.length = h = 0;
    } else if (h > 1024 && 2 * h > fin.length) {
      fin.splice(0, h);
      size.splice(0, h);
      h = 0;
    }
    this.#qHead = h;
    const limit = f.queueLimit;
    if (limit !== undefined) {
      const packets = fin.length - h;
      if (limit.packets !== undefined && packets >= limit.packets) return -1;
      if (limit.bytes !== undefined && this.#qBytes + len > limit.bytes) return -1;
    }
    const start = this.#busyUntil > now ? this.#busyUntil : now;
    const finish = start + Math.ceil(len * 8_000_000 / f.bandwidth!);
    this.#busyUntil = finish;
    fin.push(finish);
    size.push(len);
    this.#qBytes += len;
    return finish;
  }

  /** Corrupts, times and schedules one copy. */
  #launch(pkt: PacketBuffer, ready: Instant, f: Readonly<Faults>): void {
    const rng = this.#rng;
    const st = this.stats;
    if (f.corrupt !== undefined && f.corrupt > 0 && rng.nextFloat() < f.corrupt && pkt.length > 0) {
      pkt = this.#wire.own(pkt); // a flood's buffer is shared: corrupt a copy
      const bit = rng.range(0, pkt.length * 8 - 1);
      pkt.buf[pkt.start + (bit >>> 3)]! ^= 1 << (bit & 7);
      pkt.flags &= ~PacketFlags.CHECKSUM_VERIFIED; // the receiver must find the damage
      st.corrupted++;
    }
    let at = ready + (f.delay ?? 0);
    const jitter = f.jitter ?? 0;
    if (jitter > 0) {
      at += rng.range(-jitter, jitter);
      if (at < ready) at = ready;
    }
    if (f.reorder !== undefined && f.reorder > 0 && rng.nextFloat() < f.reorder) {
      at += f.reorderDelay ?? DEFAULT_REORDER_DELAY;
      st.reordered++;
    } else {
      if (at < this.#lastAt) at = this.#lastAt;
      this.#lastAt = at;
    }
    this.#inFlight++;
    this.#wire.schedule(at, pkt, this, this.#cuts);
  }

  /** Hands a due frame to the receiver, as a copy in the receiver's pool. */
  deliverFrame(pkt: PacketBuffer, cut: number, now: Instant): void {
    landed(pkt);
    this.#inFlight--;
    if (this.partitioned || cut !== this.#cuts) return this.#drop(pkt, "partition");
    const port = this.port;
    if (port === undefined) return this.#drop(pkt, "detached");
    const forward = this.forward;
    // A partial TCP checksum (tcp/output.ts) goes on so only straight into a
    // stack: a switch (and the Workers beyond its trunks) or another
    // receiver gets the frame complete.
    let partial = pkt.flags & PacketFlags.CHECKSUM_PARTIAL;
    if (partial !== 0 && (forward !== null || port.partialChecksum !== true)) {
      finishPartialChecksum(pkt);
      partial = 0;
    }
    if (forward !== null) {
      this.stats.delivered++;
      this.stats.bytesDelivered += pkt.length;
      return forward(pkt);
    }
    // A checksum the sending stack summed whole arrives intact (a corrupted
    // frame lost the mark in #launch): the receiver skips summing it again.
    const verified = pkt.flags & PacketFlags.CHECKSUM_VERIFIED;
    const l4 = pkt.l4 - pkt.start; // where a partial checksum's segment starts
    let rx: PacketBuffer;
    if (pkt.start >= HANDOVER_HEADROOM && pkt.pooled && !this.#wire.isShared(pkt)) {
      // The wire carries bytes, not objects: the receiver gets the sender's
      // buffer itself with clean metadata (it goes back to the sender's pool
      // when the receiver releases it), which saves a copy per frame.
      rx = pkt;
      rx.clearMetadata();
    } else {
      // A flood's shared buffer, or one with too little room in front: the
      // receiver gets a copy from its own pool (DriverPort.pool).
      rx = port.pool.copyOf(pkt.data);
      this.#wire.release(pkt);
    }
    rx.flags = verified | partial;
    if (partial !== 0) rx.l4 = rx.start + l4;
    rx.timestamp = now;
    rx.ifindex = port.ifindex;
    rx.linkType = this.#linkType;
    this.stats.delivered++;
    this.stats.bytesDelivered += rx.length;
    this.#wire.batch(port);
    port.receive(rx);
  }

  discardFrame(pkt: PacketBuffer): void {
    landed(pkt);
    this.#inFlight--;
    this.#drop(pkt, "detached");
  }
}

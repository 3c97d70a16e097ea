/**
 * A capture tap: a middleware {@linkcode LinkDriver} that wraps another
 * driver and records every frame it receives or transmits into a
 * {@linkcode CaptureWriter} (smoltcp's `PcapWriter` phy middleware).
 *
 * @module
 */
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import { LINKTYPE_RAW } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { finishPartialChecksum } from "../../stack/packet_flags.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import { DIRECTION_INBOUND, DIRECTION_OUTBOUND } from "./format.ts";
import { type CaptureWriter, PcapngWriter, PcapWriter } from "./pcap_writer.ts";
import { withTcpChecksum } from "../../stack/wire/tcp_gso.ts";
import { segmentUdp } from "../../stack/wire/udp_gso.ts";

/**
 * Options of {@linkcode CaptureTap}.
 *
 * @example
 * ```ts
 * import { type CaptureTapOptions, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const options: CaptureTapOptions = {
 *   writer: new PcapWriter({ linkType: 1 }),
 *   epochOffset: 1_700_000_000_000_000, // stack time 0 = this instant (µs since the epoch)
 *   transmit: false, // receive only
 * };
 * assert.equal(options.transmit, false);
 * ```
 */
export interface CaptureTapOptions {
  /** Where frames go; `write` must copy them (the writers here do). */
  readonly writer: CaptureWriter;
  /**
   * Microseconds added to `port.now()` to get the capture timestamp, or
   * `"wall"` to line stack time up with the wall clock when the driver is
   * attached. Default 0.
   */
  readonly epochOffset?: number | "wall";
  /** pcapng interface id to record under (default 0). */
  readonly interfaceId?: number;
  /** Record received frames (default true). */
  readonly receive?: boolean;
  /** Record transmitted frames (default true). */
  readonly transmit?: boolean;
  /**
   * Called when the writer throws (disk full, …). The frame still goes
   * through; the tap never throws on the packet path. Default: ignore
   * (see {@linkcode CaptureTap.errors}).
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * Wraps a {@linkcode LinkDriver}: same link type, MTU and MAC; `attach`,
 * `transmit` and `close` are forwarded. Ingress is recorded by wrapping the
 * {@linkcode DriverPort} given to `attach`; egress in `transmit`, before the
 * inner driver takes the packet. Frames are borrowed, so they are copied into
 * the writer at record time. Timestamps come from the port's `now()` plus
 * `epochOffset`.
 *
 * `close()` closes the inner driver but not the writer: the caller owns it.
 *
 * @example
 * ```ts
 * import { CaptureTap, DIRECTION_OUTBOUND, parseCapture, PcapngWriter } from "./mod.ts";
 * import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
 * import { PacketBuffer } from "../../stack/packet.ts";
 * import { PacketPool } from "../../stack/packet_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const sent: number[] = [];
 * const inner: LinkDriver = {
 *   linkType: 101,
 *   mtu: 1500,
 *   attach(_port: DriverPort) {},
 *   transmit(pkt: PacketBuffer) {
 *     sent.push(pkt.length);
 *     pkt.release();
 *   },
 *   close() {},
 * };
 * const writer = new PcapngWriter({ interfaces: [{ linkType: 101, name: "tun0" }] });
 * const tap = new CaptureTap(inner, { writer, epochOffset: 1_000_000 });
 * tap.attach({ receive() {}, pool: new PacketPool(), now: () => 5, ifindex: 0 });
 * tap.transmit(PacketBuffer.wrap(new Uint8Array([0x45, 0, 0, 20])));
 * assert.deepEqual(sent, [4]);
 * const rec = parseCapture(writer.bytes()).records[0]!;
 * assert.equal(rec.timestamp, 1_000_005);
 * assert.equal(rec.direction, DIRECTION_OUTBOUND);
 * ```
 */
export class CaptureTap implements LinkDriver {
  /** The wrapped driver. */
  readonly inner: LinkDriver;
  /** LINKTYPE_* of the inner driver. */
  readonly linkType: number;
  /** MTU of the inner driver. */
  readonly mtu: number;
  /** MAC of the inner driver, if it has one (absent, not `undefined`, otherwise). */
  declare readonly mac?: Uint8Array;
  /** TSO size of the inner driver, if it has one (super-segments are recorded whole). */
  declare readonly tsoMaxSize?: number;
  /** USO size of the inner driver, if it has one (super-datagrams are recorded as their datagrams). */
  declare readonly usoMaxSize?: number;
  #pool: PacketPool | undefined;
  readonly #writer: CaptureWriter;
  readonly #offsetOption: number | "wall";
  #offset = 0;
  readonly #interfaceId: number;
  readonly #rx: boolean;
  readonly #tx: boolean;
  readonly #onError: ((error: unknown) => void) | undefined;
  #port: DriverPort | null = null;
  #recorded = 0;
  #errors = 0;

  /**
   * Wraps `inner`; nothing is recorded before {@linkcode attach}.
   *
   * @param inner The driver to wrap.
   * @param options The writer and what to record.
   * @throws {RangeError} If `epochOffset` is not a finite number or "wall", or
   * the writer is a `PcapngWriter` that does not describe `interfaceId`, or
   * a `PcapWriter` or `PcapngWriter` whose link type (of that interface) is
   * not the driver's.
   */
  constructor(inner: LinkDriver, options: CaptureTapOptions) {
    this.inner = inner;
    this.linkType = inner.linkType;
    this.mtu = inner.mtu;
    if (inner.mac !== undefined) this.mac = inner.mac;
    if (inner.tsoMaxSize !== undefined) this.tsoMaxSize = inner.tsoMaxSize;
    if (inner.usoMaxSize !== undefined) this.usoMaxSize = inner.usoMaxSize;
    this.#writer = options.writer;
    const off = options.epochOffset ?? 0;
    if (off !== "wall" && !Number.isFinite(off)) {
      throw new RangeError(`Cannot create capture tap: epochOffset ${off} is not finite`);
    }
    this.#offsetOption = off;
    this.#offset = off === "wall" ? 0 : Math.floor(off);
    this.#interfaceId = options.interfaceId ?? 0;
    // A pcapng writer refuses records of an interface it does not describe, and
    // the tap only counts refusals: without this, every frame would be lost.
    const writer = options.writer;
    if (writer instanceof PcapngWriter && writer.interfaces.length <= this.#interfaceId) {
      throw new RangeError(
        `Cannot create capture tap: the pcapng writer has no interface ${this.#interfaceId} ` +
          `(give it interfaces: [{ linkType: ${inner.linkType} }], or use addInterface)`,
      );
    }
    // Frames under another link type are misread by every reader (tshark: "Raw packet data").
    const recorded = writer instanceof PcapngWriter
      ? writer.interfaces[this.#interfaceId]!.linkType
      : writer instanceof PcapWriter
      ? writer.linkType
      : inner.linkType;
    if (recorded !== inner.linkType) {
      throw new RangeError(
        `Cannot create capture tap: the writer records link type ${recorded}, ` +
          `the driver carries ${inner.linkType}`,
      );
    }
    this.#rx = options.receive ?? true;
    this.#tx = options.transmit ?? true;
    this.#onError = options.onError;
  }

  /** Frames recorded so far. */
  get recorded(): number {
    return this.#recorded;
  }
  /** Frames the writer failed to record. */
  get errors(): number {
    return this.#errors;
  }

  /** Attaches the inner driver to a port that records each received frame, then forwards it. */
  attach(port: DriverPort): void {
    this.#port = port;
    if (this.#offsetOption === "wall") {
      // Drivers may read the wall clock (GUIDE: time); the stack never does.
      this.#offset = Date.now() * 1000 - port.now();
    }
    if (!this.#rx) {
      this.inner.attach(port);
      return;
    }
    const wrapped: DriverPort = {
      receive: (pkt: PacketBuffer): void => {
        // A capture holds ordinary packets: a TUN's partial checksum is completed first.
        finishPartialChecksum(pkt);
        this.#record(pkt, DIRECTION_INBOUND);
        port.receive(pkt);
      },
      pool: port.pool,
      now: () => port.now(),
      ifindex: port.ifindex,
      // Batches pass through, so the stack still coalesces ACKs while capturing.
      ...(port.beginBatch !== undefined ? { beginBatch: () => port.beginBatch!() } : {}),
      ...(port.endBatch !== undefined ? { endBatch: () => port.endBatch!() } : {}),
    };
    this.inner.attach(wrapped);
  }

  /** Records the frame (a copy), then hands `pkt` to the inner driver, which owns it. */
  transmit(pkt: PacketBuffer): void {
    if (this.#tx) this.#record(pkt, DIRECTION_OUTBOUND);
    this.inner.transmit(pkt);
  }

  /** Closes the inner driver (not the writer). */
  close(): void {
    this.inner.close();
  }

  #record(pkt: PacketBuffer, direction: 1 | 2): void {
    if (pkt.gsoSize > 0 && direction === DIRECTION_OUTBOUND) {
      // A UDP super-datagram (a socket's segmentSize) is recorded as the
      // datagrams it stands for, what the wire carries after the link's USO;
      // a TCP super-segment whole, its checksum computed (see withTcpChecksum).
      const frameAt = pkt.start;
      const ipAt = frameAt + (this.linkType === LINKTYPE_RAW ? 0 : 14);
      this.#pool ??= new PacketPool();
      const n = segmentUdp(pkt.buf, frameAt, ipAt, pkt.end, pkt.gsoSize, this.#pool, (d) => {
        this.#write(d.data, direction);
        d.release();
      });
      if (n === 0) this.#write(withTcpChecksum(pkt.data, this.linkType), direction);
      return;
    }
    this.#write(pkt.data, direction);
  }

  #write(data: Uint8Array, direction: 1 | 2): void {
    const now = this.#port === null ? 0 : this.#port.now();
    try {
      this.#writer.write({
        timestamp: Math.max(0, now + this.#offset),
        data,
        interfaceId: this.#interfaceId,
        direction,
      });
      this.#recorded++;
    } catch (e: unknown) {
      this.#errors++;
      this.#onError?.(e);
    }
  }
}

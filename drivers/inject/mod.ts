/**
 * The inject driver: a link with no wire at all. Your code hands frames in
 * with {@linkcode InjectDriver.inject} and gets what the stack sends through
 * a callback or a bounded queue ({@linkcode InjectDriver.take}). It is what
 * tun2socks-style programs and packet-level tests need.
 *
 * @example
 * ```ts
 * import { InjectDriver } from "./mod.ts";
 * import { createStack, LINKTYPE_RAW } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const io = new InjectDriver({ linkType: LINKTYPE_RAW });
 * const stack = createStack({ seed: 1 });
 * stack.addInterface({ name: "tun0", driver: io, addresses: ["10.0.0.2/24"] });
 * // An ICMP echo request from 10.0.0.1 to 10.0.0.2 (IPv4 header + 8-byte ICMP header).
 * io.inject(new Uint8Array([
 *   0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0x66, 0xde, 10, 0, 0, 1, 10, 0, 0, 2,
 *   8, 0, 0xf7, 0xfe, 0, 1, 0, 0,
 * ]));
 * const [reply] = io.take();
 * assert.equal(reply![20], 0); // ICMP echo reply
 * ```
 *
 * @module
 */
import type { DriverPort, LinkDriver, LinkType } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";

/** Options of {@linkcode InjectDriver}. */
export interface InjectDriverOptions {
  /** LINKTYPE_* of the frames (1 Ethernet, 101 raw IP, …). */
  readonly linkType: LinkType;
  /** MTU (default 1500). */
  readonly mtu?: number;
  /** The stack side's MAC, for Ethernet. */
  readonly mac?: Uint8Array;
  /**
   * Called with each frame the stack sends. The bytes are lent for the call
   * only: copy them to keep them. When set, nothing is queued for `take()`.
   */
  readonly onFrame?: (frame: Uint8Array) => void;
  /** Frames kept for `take()` before the oldest are dropped (default 1024). */
  readonly queueLimit?: number;
  /**
   * Bytes of frames kept for `take()` before the oldest are dropped
   * (default 4 MiB: 1,024 frames of MTU 1500, or 64 super-segments of
   * 64 KiB). Each kept frame is a copy exactly its length, so this is what
   * the queue keeps alive.
   */
  readonly queueBytes?: number;
  /**
   * Largest TCP super-segment the link takes (`LinkDriver.tsoMaxSize`, as
   * a TUN device with TSO): the stack then sends segments up to this size
   * as one frame. Default 0: none.
   */
  readonly tsoMaxSize?: number;
}

/** Default {@linkcode InjectDriverOptions.queueBytes}. */
const DEFAULT_QUEUE_BYTES = 4 << 20;

/** A queue bound given as `name`: a positive integer, `fallback` when absent. */
function queueOption(v: number | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`Cannot create an InjectDriver: ${name} ${v} is not a positive integer`);
  }
  return v;
}

/** A driver whose wire is your code. */
export class InjectDriver implements LinkDriver {
  /** LINKTYPE_* of the frames. */
  readonly linkType: LinkType;
  /** MTU. */
  readonly mtu: number;
  /** MAC for Ethernet links (absent otherwise). */
  declare readonly mac?: Uint8Array;
  /** Largest TCP super-segment the link takes, when it offers TSO (absent otherwise). */
  declare readonly tsoMaxSize?: number;
  readonly #onFrame: ((frame: Uint8Array) => void) | undefined;
  readonly #limit: number;
  readonly #maxBytes: number;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #port: DriverPort | null = null;
  #dropped = 0;
  #closed = false;

  /** Creates the driver; attach it with `stack.addInterface({ driver })`. */
  constructor(options: InjectDriverOptions) {
    this.linkType = options.linkType;
    this.mtu = options.mtu ?? 1500;
    if (options.mac !== undefined) {
      if (options.mac.length !== 6) throw new RangeError("Cannot use a MAC that is not 6 bytes");
      this.mac = options.mac.slice();
    }
    this.#onFrame = options.onFrame;
    this.#limit = queueOption(options.queueLimit, "queueLimit", 1024);
    this.#maxBytes = queueOption(options.queueBytes, "queueBytes", DEFAULT_QUEUE_BYTES);
    const tso = options.tsoMaxSize;
    if (tso !== undefined && tso !== 0) {
      if (typeof tso !== "number" || !Number.isInteger(tso)) {
        throw new TypeError(`Cannot create an InjectDriver: tsoMaxSize ${tso} is not an integer`);
      }
      if (tso < this.mtu || tso > 65535) {
        throw new RangeError(
          `Cannot create an InjectDriver: tsoMaxSize ${tso} is not in ${this.mtu}..65535`,
        );
      }
      this.tsoMaxSize = tso;
    }
  }

  /** Frames dropped from a full `take()` queue (in frames or in bytes), or too large for it. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Called by the stack. */
  attach(port: DriverPort): void {
    if (this.#port !== null) throw new TypeError("Cannot attach an InjectDriver twice");
    this.#port = port;
  }

  /**
   * Hands `frame` to the stack as if it arrived on the wire (copied into a
   * pooled buffer); what the stack sends in response is already queued or
   * passed to `onFrame` when this returns, unless it waits on a timer.
   */
  inject(frame: Uint8Array): void {
    if (this.#port === null) {
      throw new TypeError("Cannot inject: the driver is not attached to a stack");
    }
    if (this.#closed) throw new Deno.errors.BadResource("Cannot inject: the driver is closed");
    this.#port.receive(this.#port.pool.copyOf(frame));
  }

  /** Called by the stack for every frame it sends; takes ownership. */
  transmit(pkt: PacketBuffer): void {
    if (this.#onFrame !== undefined) {
      try {
        this.#onFrame(pkt.data);
      } finally {
        pkt.release();
      }
      return;
    }
    const q = this.#queue;
    const len = pkt.length;
    if (len > this.#maxBytes) {
      this.#dropped++;
      pkt.release();
      return;
    }
    while (q.length >= this.#limit || this.#queuedBytes + len > this.#maxBytes) {
      this.#queuedBytes -= q.shift()!.length;
      this.#dropped++;
    }
    q.push(pkt.data.slice());
    this.#queuedBytes += len;
    pkt.release();
  }

  /** Removes and returns the frames sent so far, oldest first. */
  take(): Uint8Array[] {
    this.#queuedBytes = 0;
    return this.#queue.splice(0);
  }

  /** Stops the driver. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }
}

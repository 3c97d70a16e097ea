/**
 * Capture replay: the packets of a pcap or pcapng file arrive at a stack as
 * if a wire had delivered them, on the stack's virtual clock.
 *
 * - {@linkcode ReplayDriver} is the link driver: a stack interface whose
 *   receive side is fed from the file and whose transmit side goes to a
 *   callback (and from there to an output capture).
 * - {@linkcode replayCapture} reads the file (streaming, bounded memory) and
 *   drives everything: each capture interface is mapped to a driver by link
 *   type (or by `route`), each packet's timestamp moves the stack's
 *   `ManualClock`, and the timers that fall due between two packets run in
 *   deadline order first (ARP retries, TCP retransmits), exactly as they
 *   would have on a live link.
 *
 * **Time.** The replay is rebased: stack time continues from the clock's
 * current value (0 for a new stack) at the first packet, and every later
 * packet arrives its capture-time distance after it. Output timestamps map
 * back to capture time (`epochOffset`), so the stack's answers line up with
 * the input in Wireshark. A packet stamped earlier than the one before it is
 * replayed at the current time (the clock never goes back) and counted as
 * `reordered`. `speed: "max"` (the default) runs on virtual time only, as
 * fast as the stack goes; a number paces the replay against the wall clock
 * (1 = real time, 2 = twice as fast).
 *
 * **Bad input.** A packet cut short by the snapshot length is fed as
 * captured (the stack's parsers count it); the summary counts it as
 * `truncated`. Packets of a link type no driver carries are counted and
 * skipped with one message per link type. A corrupt block whose length is
 * sane is skipped by the reader (a warning with its byte offset) and the
 * rest of the file replays; a corrupt or cut-off file ends the replay with
 * `error`, whose message names the byte offset. Nothing here throws for what
 * a file contains.
 *
 * **Accounting.** With `accounting` on (the default) the replay follows each
 * packet through the stack with `stack.trace()` and records its fate: the
 * plugin that consumed it, or the drop counter it went to
 * (`<plugin>.rx.<reason>`, `dispatcher.rx.no_binding`, …). This replaces any
 * trace sink for the duration of the replay.
 *
 * @module
 */
import { type DriverPort, type LinkDriver, LINKTYPE_ETHERNET } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { Run, yieldNow } from "./_replay_run.ts";
import type { CaptureFormat } from "./format.ts";
import {
  CaptureReader,
  CaptureReaderSync,
  type CaptureSource,
  type CaptureStreamOptions,
} from "./pcap_reader.ts";
import type { CaptureWriter } from "./pcap_writer.ts";
import type { CaptureFormatError, CaptureInterface, CaptureRecord } from "./types.ts";

/**
 * Options of {@linkcode ReplayDriver}.
 *
 * @example
 * ```ts
 * import { type ReplayDriverOptions, ReplayDriver } from "./replay.ts";
 * import assert from "node:assert/strict";
 * const options: ReplayDriverOptions = { linkType: 1, mac: new Uint8Array([2, 0, 0, 0, 0, 1]) };
 * assert.equal(new ReplayDriver(options).mtu, 1500);
 * ```
 */
export interface ReplayDriverOptions {
  /** LINKTYPE_* of the frames: 1 Ethernet, 101/228/229 raw IP. */
  readonly linkType: number;
  /** Largest IP packet (default 1500 on Ethernet, 65535 on raw IP). */
  readonly mtu?: number;
  /** The interface's MAC (Ethernet). */
  readonly mac?: Uint8Array;
  /** A name for messages and the output capture (default `eth`/`tun`). */
  readonly name?: string;
}

/**
 * A link driver fed from a capture: {@linkcode receive} hands a frame to the
 * stack (a copy in a pooled buffer), and every frame the stack transmits goes
 * to {@linkcode onTransmit} (borrowed for the call), then back to the pool.
 *
 * @example
 * ```ts
 * import { ReplayDriver } from "./replay.ts";
 * import { createStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const stack = createStack({ seed: 1 });
 * const tun = new ReplayDriver({ linkType: 101 });
 * stack.addInterface({ driver: tun, addresses: ["10.0.0.2/24"] });
 * const sent: Uint8Array[] = [];
 * tun.onTransmit = (frame) => void sent.push(frame.slice());
 * // An ICMP echo request 10.0.0.1 -> 10.0.0.2 (checksums filled in).
 * const ping = new Uint8Array([
 *   0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0x66, 0xde, 10, 0, 0, 1, 10, 0, 0, 2,
 *   8, 0, 0xf7, 0xfe, 0, 1, 0, 0,
 * ]);
 * assert.ok(tun.receive(ping));
 * assert.equal(sent.length, 1);
 * assert.equal(sent[0]![20], 0); // an echo reply
 * stack.close();
 * ```
 */
export class ReplayDriver implements LinkDriver {
  /** LINKTYPE_* of the frames. */
  readonly linkType: number;
  /** Largest IP packet. */
  readonly mtu: number;
  /** The MAC, for Ethernet (absent otherwise). */
  declare readonly mac?: Uint8Array;
  /** Name for messages. */
  readonly name: string;
  /**
   * Gets each frame the stack transmits (borrowed: copy what you keep). A
   * throw is caught and counted ({@linkcode transmitErrors}).
   */
  onTransmit: ((frame: Uint8Array, driver: ReplayDriver) => void) | null = null;
  #port: DriverPort | null = null;
  #closed = false;
  #received = 0;
  #transmitted = 0;
  #transmitErrors = 0;

  /**
   * Creates a driver; the stack attaches it in `addInterface`.
   *
   * @throws {RangeError} If `linkType` is not a non-negative integer or `mtu` is below 68.
   */
  constructor(options: ReplayDriverOptions) {
    const lt = options.linkType;
    if (!Number.isInteger(lt) || lt < 0) {
      throw new RangeError(`Cannot create replay driver: link type ${lt} is not valid`);
    }
    this.linkType = lt;
    this.mtu = options.mtu ?? (lt === LINKTYPE_ETHERNET ? 1500 : 65535);
    if (!Number.isInteger(this.mtu) || this.mtu < 68) {
      throw new RangeError(`Cannot create replay driver: MTU ${this.mtu} is below 68`);
    }
    if (options.mac !== undefined) this.mac = options.mac;
    this.name = options.name ?? (lt === LINKTYPE_ETHERNET ? "eth" : "tun");
  }

  /** Index of the stack interface, or -1 before attach. */
  get ifindex(): number {
    return this.#port?.ifindex ?? -1;
  }
  /** Frames handed to the stack. */
  get received(): number {
    return this.#received;
  }
  /** Frames the stack transmitted. */
  get transmitted(): number {
    return this.#transmitted;
  }
  /** Times {@linkcode onTransmit} threw. */
  get transmitErrors(): number {
    return this.#transmitErrors;
  }

  /** Called by the stack once. */
  attach(port: DriverPort): void {
    this.#port = port;
  }

  /**
   * Hands a copy of `frame` to the stack, which dispatches it before this
   * returns. Returns false (and does nothing) before attach or after close.
   */
  receive(frame: Uint8Array): boolean {
    const port = this.#port;
    if (port === null || this.#closed) return false;
    this.#received++;
    port.receive(port.pool.copyOf(frame));
    return true;
  }

  /** Gives the frame to {@linkcode onTransmit}, then releases it. Never throws. */
  transmit(pkt: PacketBuffer): void {
    this.#transmitted++;
    const cb = this.onTransmit;
    if (cb !== null && !this.#closed) {
      try {
        cb(pkt.data, this);
      } catch {
        this.#transmitErrors++;
      }
    }
    pkt.release();
  }

  /** Stops receiving; later transmits are dropped. */
  close(): void {
    this.#closed = true;
  }
}

/**
 * One dispatch step of the stack's trace, as much of it as the replay reads
 * (the stack's `TraceEvent` fits).
 *
 * @example
 * ```ts
 * import type { ReplayTraceEvent } from "./replay.ts";
 * import assert from "node:assert/strict";
 * const ev: ReplayTraceEvent = {
 *   packet: 1, direction: "rx", plugin: "icmp", table: "ip.protocol", key: 1, verdict: "consumed",
 * };
 * assert.equal(ev.verdict, "consumed");
 * ```
 */
export interface ReplayTraceEvent {
  /** Id of the packet in the trace. */
  readonly packet: number;
  /** `rx`, `tx` or `hook`. */
  readonly direction: string;
  /** The plugin that decided, or `dispatcher`. */
  readonly plugin: string;
  /** The table (or hook point). */
  readonly table: string;
  /** The key in that table. */
  readonly key: number;
  /** `next …`, `consumed`, `stolen`, `drop <reason>`, `fault`, `sent`. */
  readonly verdict: string;
}

/**
 * What {@linkcode replayCapture} needs of a stack (a `Stack` from `mod.ts`
 * fits): a clock it can set, the timer poll, and optionally the trace.
 *
 * @example
 * ```ts
 * import type { ReplayTarget } from "./replay.ts";
 * import { createStack, ManualClock } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ clock: new ManualClock() });
 * const target: ReplayTarget = stack;
 * assert.equal(target.clock.now(), 0);
 * stack.close();
 * ```
 */
export interface ReplayTarget {
  /** The stack's clock (µs); replay needs `set` (a `ManualClock`). */
  readonly clock: { now(): number; set?(at: number): void };
  /** The next timer deadline (µs). */
  pollAt(now?: number): number | undefined;
  /** Runs the timers due at `now`. */
  poll(now?: number): void;
  /** Installs (or, with null, removes) a trace sink. */
  trace?(sink: ((ev: ReplayTraceEvent) => void) | null): void;
}

/**
 * Progress of a replay, for a progress bar.
 *
 * @example
 * ```ts
 * import type { ReplayProgress } from "./replay.ts";
 * import assert from "node:assert/strict";
 * const p: ReplayProgress = { read: 10, fileOffset: 1200, stackTime: 5_000 };
 * assert.equal(p.read, 10);
 * ```
 */
export interface ReplayProgress {
  /** Records read so far. */
  readonly read: number;
  /** Byte offset in the file of the last record read. */
  readonly fileOffset: number;
  /** Stack time the replay has covered so far (µs). */
  readonly stackTime: number;
}

/**
 * Options of {@linkcode replayCapture}.
 *
 * @example
 * ```ts
 * import { type ReplayOptions, ReplayDriver } from "./replay.ts";
 * import { createStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack();
 * const eth = new ReplayDriver({ linkType: 1 });
 * const options: ReplayOptions = { stack, drivers: [eth], speed: "max", tail: 1_000_000 };
 * assert.equal(options.drivers.length, 1);
 * stack.close();
 * ```
 */
export interface ReplayOptions {
  /** The stack (its clock must be a `ManualClock`). */
  readonly stack: ReplayTarget;
  /** The drivers the capture feeds, attached to the stack already. */
  readonly drivers: readonly ReplayDriver[];
  /**
   * Picks the driver for a capture interface (undefined: skip its packets).
   * Default: the first driver with the same link type, else, for raw IP, the
   * first raw-IP driver.
   */
  readonly route?: (iface: CaptureInterface) => ReplayDriver | undefined;
  /** `"max"` (default): virtual time only; a positive number: paced, 1 = real time. */
  readonly speed?: number | "max";
  /**
   * Paced replay: the longest wall-clock wait between two steps, in µs
   * (default unlimited); a longer gap in the capture is cut to this, like
   * tcpreplay's `--maxsleep`. Waits never exceed what `setTimeout` takes.
   */
  readonly maxGap?: number;
  /** Where the stack's frames go (timestamps in capture time). */
  readonly output?: CaptureWriter;
  /**
   * Also write every replayed input packet to `output`, just before the
   * stack sees it (direction inbound; the stack's frames are outbound).
   */
  readonly merge?: boolean;
  /** The output interface id of a driver (default its index in `drivers`). */
  readonly outputInterface?: (driver: ReplayDriver) => number;
  /** Replays only the records it accepts (the others count as `filtered`). */
  readonly filter?: (record: CaptureRecord) => boolean;
  /** Virtual time (µs) to keep running timers after the last packet (default 0). */
  readonly tail?: number;
  /** Follow each packet's fate with `stack.trace` (default true). */
  readonly accounting?: boolean;
  /** Called about every `progressInterval` ms of wall time, and once at the end. */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** Wall-clock ms between `onProgress` calls (default 100). */
  readonly progressInterval?: number;
  /** Human-readable notices (skipped link types, corrupt blocks, output errors). */
  readonly onMessage?: (message: string) => void;
  /** Stops the replay early (the summary says `aborted`). */
  readonly signal?: AbortSignal;
  /** Options of the capture reader (limits, chunk size). */
  readonly reader?: CaptureStreamOptions;
}

/**
 * What a replay did.
 *
 * @example
 * ```ts
 * import type { ReplaySummary } from "./replay.ts";
 * import assert from "node:assert/strict";
 * const s = { read: 3, replayed: 3, accepted: 2 } as Partial<ReplaySummary>;
 * assert.equal(s.replayed! - s.accepted!, 1);
 * ```
 */
export interface ReplaySummary {
  /** `pcap`, `pcapng`, or null if the header could not be read. */
  readonly format: CaptureFormat | null;
  /** The capture's interfaces. */
  readonly interfaces: readonly CaptureInterface[];
  /** Records read from the file. */
  readonly read: number;
  /** Records handed to the stack. */
  readonly replayed: number;
  /** Records the filter left out. */
  readonly filtered: number;
  /** Records skipped: no driver for their interface or link type. */
  readonly skipped: number;
  /** Skipped records by link type (`"linktype 105"`). */
  readonly skippedByLinkType: Readonly<Record<string, number>>;
  /** Replayed records cut short by the snapshot length (caplen below the wire length). */
  readonly truncated: number;
  /** Replayed records stamped earlier than the one before. */
  readonly reordered: number;
  /** Replayed packets some plugin consumed (accounting on). */
  readonly accepted: number;
  /** Accepted packets by the plugin that consumed them. */
  readonly acceptedBy: Readonly<Record<string, number>>;
  /** Dropped packets by counter (`ipv4.rx.not_for_us`, `dispatcher.rx.no_binding`, …). */
  readonly dropped: Readonly<Record<string, number>>;
  /** Where `dispatcher.rx.no_binding` drops happened (`ethertype 0x86dd`, `ip.protocol 6`). */
  readonly unbound: Readonly<Record<string, number>>;
  /** Frames the stack sent. */
  readonly sent: number;
  /** Sent frames by kind (`arp reply`, `icmp echo reply`, `tcp [R.]`, …). */
  readonly sentBy: Readonly<Record<string, number>>;
  /** Capture time of the first replayed record (µs since the epoch), or null. */
  readonly firstTimestamp: number | null;
  /** Capture time of the last replayed record, or null. */
  readonly lastTimestamp: number | null;
  /** Capture time = stack time + this. */
  readonly epochOffset: number;
  /** Stack time the replay covered, tail included (µs). */
  readonly stackTime: number;
  /** Wall-clock time the replay took (ms). */
  readonly wallTime: number;
  /** Why the capture ended early (corrupt or cut-off file), or null. */
  readonly error: CaptureFormatError | null;
  /** Blocks the reader skipped. */
  readonly warnings: readonly CaptureFormatError[];
  /** Whether the signal stopped the replay. */
  readonly aborted: boolean;
  /** Every notice also given to `onMessage`. */
  readonly messages: readonly string[];
}

/**
 * A capture to replay: a file path or URL (read in 64 KiB chunks), the bytes,
 * a stream or any {@linkcode CaptureSource}, or an open reader.
 *
 * @example
 * ```ts
 * import type { ReplaySource } from "./replay.ts";
 * import assert from "node:assert/strict";
 * const source: ReplaySource = new URL("../../tests/fixtures/pcaps/linux-probes/tun-ping4.pcap", import.meta.url).pathname;
 * assert.equal(typeof source, "string");
 * ```
 */
export type ReplaySource = string | URL | CaptureSource | CaptureReaderSync | CaptureReader;

type AnyReader = CaptureReaderSync | CaptureReader;

function openReader(source: ReplaySource, options: CaptureStreamOptions): {
  reader: AnyReader;
  own: boolean;
} {
  if (source instanceof CaptureReaderSync || source instanceof CaptureReader) {
    return { reader: source, own: false };
  }
  if (typeof source === "string" || source instanceof URL) {
    return { reader: CaptureReaderSync.open(source, options), own: true };
  }
  if (
    source instanceof Uint8Array || Symbol.iterator in source ||
    ("readSync" in source && !("read" in source))
  ) {
    return { reader: new CaptureReaderSync(source as Uint8Array, options), own: true };
  }
  return { reader: new CaptureReader(source, options), own: true };
}

/**
 * Replays a capture into a stack through {@linkcode ReplayDriver}s (see the
 * module doc for time, accounting and bad input). Streams the file: memory
 * stays bounded by one block and one read chunk.
 *
 * @param source The capture.
 * @param options The stack, drivers, output, speed, filter.
 * @returns What happened.
 * @throws {TypeError} If the stack's clock cannot be set or a driver is not
 * attached; {@linkcode RangeError} for a bad `speed` or `tail`. I/O errors
 * of the source propagate (a file that cannot be opened).
 *
 * @example Replaying pings into a virtual host, collecting the replies
 * ```ts
 * import { PcapWriter, parseCapture, replayCapture, ReplayDriver } from "./mod.ts";
 * import { createStack, ManualClock } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const stack = createStack({ clock: new ManualClock(), seed: 1 });
 * const tun = new ReplayDriver({ linkType: 101, name: "tun0" });
 * stack.addInterface({ driver: tun, addresses: ["10.77.0.2/24"] });
 * const output = new PcapWriter({ linkType: 101 });
 * const summary = await replayCapture(new URL("../../tests/fixtures/pcaps/linux-probes/tun-ping4.pcap", import.meta.url).pathname, {
 *   stack,
 *   drivers: [tun],
 *   output,
 * });
 * assert.equal(summary.read, 5);
 * assert.equal(summary.acceptedBy.icmp, 3);
 * assert.equal(summary.sentBy["icmp echo reply"], 3);
 * assert.equal(parseCapture(output.bytes()).records.length, 3);
 * stack.close();
 * ```
 */
export async function replayCapture(
  source: ReplaySource,
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const run = new Run(options);
  const readerOptions: CaptureStreamOptions = {
    ...options.reader,
    onWarning: (w) => {
      run.warning(w);
      options.reader?.onWarning?.(w);
    },
  };
  const { reader, own } = openReader(source, readerOptions);
  const wall0 = performance.now();
  const interval = options.progressInterval ?? 100;
  let lastTick = wall0;
  let aborted = false;
  run.startAccounting();
  try {
    for (let n = 0;; n++) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      const rec = reader instanceof CaptureReaderSync ? reader.next() : await reader.next();
      if (rec === null) break;
      const p = run.prepare(rec, reader.interfaces);
      if (p !== null) {
        if (run.paced) {
          await run.advancePaced(p.at);
          if (options.signal?.aborted) {
            aborted = true;
            break;
          }
        } else run.advance(p.at);
        run.feed(rec, p.driver);
      }
      // Every 256 records: progress, and a turn of the event loop every
      // `interval` so that signals and other tasks get their turn.
      if ((n & 255) === 255) {
        const t = performance.now();
        if (t - lastTick >= interval) {
          lastTick = t;
          options.onProgress?.(run.progress());
          if (!run.paced) await yieldNow();
        }
      }
    }
    if (!aborted && run.started) {
      const end = options.stack.clock.now() + (options.tail ?? 0);
      if (run.paced) await run.advancePaced(end);
      else run.advance(end);
    }
  } finally {
    run.stopAccounting();
    if (own) await reader.close();
  }
  const error = reader.error;
  if (error !== null) {
    run.message(
      `The capture ends early (${error.code}): ${error.message}; ` +
        `${run.read} packets before it were read`,
    );
  }
  options.onProgress?.(run.progress());
  return {
    format: reader.format,
    interfaces: [...reader.interfaces],
    read: run.read,
    replayed: run.replayed,
    filtered: run.filtered,
    skipped: run.skipped,
    skippedByLinkType: run.skippedByLinkType,
    truncated: run.truncated,
    reordered: run.reordered,
    accepted: run.accepted,
    acceptedBy: run.acceptedBy,
    dropped: run.dropped,
    unbound: run.unbound,
    sent: run.sent,
    sentBy: run.sentBy,
    firstTimestamp: run.firstTimestamp,
    lastTimestamp: run.lastTimestamp,
    epochOffset: run.epochOffset,
    stackTime: run.stackTime,
    wallTime: performance.now() - wall0,
    error,
    warnings: [...reader.warnings],
    aborted,
    messages: run.messages,
  };
}

export { classifyFrame } from "./_classify.ts";

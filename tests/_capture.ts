/**
 * Capturing what a test's drivers carry: a pcap (or pcapng) writer plus taps for any driver.
 *
 * @module
 */
import type { LinkDriver } from "../stack/driver.ts";
import {
  type CaptureRecord,
  CaptureTap,
  parseCapture,
  PcapngWriter,
  PcapWriter,
} from "../drivers/pcapfile/mod.ts";

// ---- capture ---------------------------------------------------------------------

/** Capture timestamps are stack time plus this (2023-11-14T22:13:20Z), so files look real. */
export const CAPTURE_EPOCH = 1_700_000_000_000_000;

/** Options of {@linkcode Capture}. */
export interface CaptureOptions {
  /**
   * `pcap` (default): one link type, no directions. `pcapng`: one interface
   * per tap (named after it), and each frame's direction (`epb_flags`).
   */
  readonly format?: "pcap" | "pcapng";
  /** LINKTYPE_* of every tapped driver, for `pcap` (default 1, Ethernet). */
  readonly linkType?: number;
  /** µs added to stack time for timestamps (default {@linkcode CAPTURE_EPOCH}). */
  readonly epochOffset?: number;
}

/** Which directions a tap records (default both). */
export interface TapOptions {
  /** Record frames the driver delivers to the stack. */
  readonly receive?: boolean;
  /** Record frames the stack transmits. */
  readonly transmit?: boolean;
  /** pcapng interface name (default `tapN`). */
  readonly name?: string;
}

/**
 * An in-memory capture fed by {@linkcode CaptureTap}s; one file, frames in
 * the order they were recorded.
 *
 * @example
 * ```ts
 * import { Capture } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const cap = new Capture();
 * cap.writer.write({ timestamp: 0, data: new Uint8Array(60) });
 * assert.equal(cap.frames().length, 1);
 * assert.equal(cap.bytes().length, 24 + 16 + 60);
 * ```
 */
export class Capture {
  /** The writer; its bytes are the file. */
  readonly writer: PcapWriter | PcapngWriter;
  readonly #offset: number;
  readonly #taps: CaptureTap[] = [];

  /** An empty capture. */
  constructor(options: CaptureOptions = {}) {
    this.writer = options.format === "pcapng"
      ? new PcapngWriter()
      : new PcapWriter({ linkType: options.linkType ?? 1 });
    this.#offset = options.epochOffset ?? CAPTURE_EPOCH;
  }

  /** Wraps `driver` so that what it carries is recorded here (pcapng: as a new interface). */
  tap(driver: LinkDriver, options: TapOptions = {}): CaptureTap {
    const w = this.writer;
    const interfaceId = w instanceof PcapngWriter
      ? w.addInterface({
        linkType: driver.linkType,
        name: options.name ?? `tap${this.#taps.length}`,
      })
      : 0;
    const t = new CaptureTap(driver, {
      writer: w,
      epochOffset: this.#offset,
      interfaceId,
      receive: options.receive ?? true,
      transmit: options.transmit ?? true,
    });
    this.#taps.push(t);
    return t;
  }

  /** Frames recorded. */
  get count(): number {
    return this.writer.count;
  }

  /** The pcap file. */
  bytes(): Uint8Array {
    return this.writer.bytes();
  }

  /** The records, parsed back from the file. */
  records(): CaptureRecord[] {
    const r = parseCapture(this.bytes());
    if (r.error !== null) throw r.error;
    return r.records;
  }

  /** The frames' bytes, in order. */
  frames(): Uint8Array[] {
    return this.records().map((r) => r.data);
  }

  /** Writes the file to `path`. */
  writeFile(path: string | URL): void {
    Deno.writeFileSync(path, this.bytes());
  }
}

/**
 * @internal The state of one replay: time mapping, timers, accounting,
 * output, counts. {@linkcode replayCapture} (replay.ts) drives it.
 *
 * @module
 */
import type { Duration, Instant } from "../../stack/clock.ts";
import { classifyFrame } from "./_classify.ts";
import { DIRECTION_INBOUND, DIRECTION_OUTBOUND } from "./format.ts";
import type { CaptureWriter } from "./pcap_writer.ts";
import type {
  ReplayDriver,
  ReplayOptions,
  ReplayProgress,
  ReplayTarget,
  ReplayTraceEvent,
} from "./replay.ts";
import type { CaptureFormatError, CaptureInterface, CaptureRecord } from "./types.ts";

function isRawIp(linkType: number): boolean {
  return linkType === 101 || linkType === 228 || linkType === 229;
}

const MAX_MESSAGES = 100;
const MAX_TIMER_ROUNDS = 1_000_000;
const WARNING_MESSAGES = 10;

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** @internal One replay in progress. */
export class Run {
  readonly #o: ReplayOptions;
  readonly #stack: ReplayTarget;
  readonly #set: (at: Instant) => void;
  readonly #paced: number; // 0 = max speed
  readonly #maxGapMs: number; // longest wall-clock wait, ≤ MAX_TIMEOUT_MS
  readonly #routes: (ReplayDriver | null | undefined)[] = [];
  readonly #ids = new Map<ReplayDriver, number>();
  readonly #skippedSeen = new Set<number>();
  readonly messages: string[] = [];
  #messageCount = 0;
  #outputErrors = 0;
  // counts
  read = 0;
  replayed = 0;
  filtered = 0;
  skipped = 0;
  readonly skippedByLinkType: Record<string, number> = {};
  truncated = 0;
  reordered = 0;
  accepted = 0;
  readonly acceptedBy: Record<string, number> = {};
  readonly dropped: Record<string, number> = {};
  readonly unbound: Record<string, number> = {};
  sent = 0;
  readonly sentBy: Record<string, number> = {};
  firstTimestamp: number | null = null;
  lastTimestamp: number | null = null;
  epochOffset = 0;
  #started = false;
  #stackStart = 0;
  #lastOffset = 0;
  // pacing
  #wallStart = 0;
  // accounting
  #injecting = false;
  #packet = -1;
  #outcome: string | null = null;
  #outcomeKind = 0; // 1 accepted, 2 dropped
  #unboundKey = "";

  constructor(options: ReplayOptions) {
    this.#o = options;
    this.#stack = options.stack;
    const clock = options.stack.clock;
    if (typeof clock.set !== "function") {
      throw new TypeError(
        "Cannot replay: the stack's clock cannot be set; create it with a ManualClock",
      );
    }
    this.#set = (at) => clock.set!(at);
    const speed = options.speed ?? "max";
    if (speed !== "max" && !(typeof speed === "number" && speed > 0 && Number.isFinite(speed))) {
      throw new RangeError(`Cannot replay: speed must be "max" or a positive number, got ${speed}`);
    }
    this.#paced = speed === "max" ? 0 : speed;
    const maxGap = options.maxGap ?? Infinity;
    if (!(maxGap >= 0)) {
      throw new RangeError(`Cannot replay: maxGap must be a non-negative number, got ${maxGap}`);
    }
    this.#maxGapMs = Math.min(maxGap / 1000, MAX_TIMEOUT_MS);
    const tail = options.tail ?? 0;
    if (!(tail >= 0) || !Number.isFinite(tail)) {
      throw new RangeError(`Cannot replay: tail must be a non-negative duration, got ${tail}`);
    }
    options.drivers.forEach((d, i) => this.#ids.set(d, options.outputInterface?.(d) ?? i));
    for (const d of options.drivers) {
      if (d.ifindex < 0) {
        throw new TypeError(
          `Cannot replay: driver "${d.name}" is not attached to the stack (call addInterface first)`,
        );
      }
      d.onTransmit = this.#onTransmit;
    }
  }

  message(text: string): void {
    this.#messageCount++;
    if (this.messages.length < MAX_MESSAGES) this.messages.push(text);
    else if (this.messages.length === MAX_MESSAGES) {
      this.messages.push("(more messages were left out)");
    }
    this.#o.onMessage?.(text);
  }

  warning(w: CaptureFormatError): void {
    if (this.#warnings++ < WARNING_MESSAGES) {
      this.message(`Skipped a bad block: ${w.message}`);
    }
  }
  #warnings = 0;

  // ---- accounting --------------------------------------------------------------

  readonly sink = (ev: ReplayTraceEvent): void => {
    if (!this.#injecting || ev.direction === "tx") return;
    if (this.#packet === -1) this.#packet = ev.packet;
    else if (ev.packet !== this.#packet) return;
    if (this.#outcomeKind !== 0) return; // the first decisive step is the fate
    const v = ev.verdict;
    if (v === "consumed" || v === "stolen") {
      this.#outcomeKind = 1;
      this.#outcome = ev.plugin;
    } else if (v.startsWith("drop ")) {
      this.#outcomeKind = 2;
      const reason = v.slice(5);
      const dir = ev.direction === "hook" ? ev.table : "rx";
      this.#outcome = `${ev.plugin}.${dir}.${reason}`;
      if (ev.plugin === "dispatcher" && reason === "no_binding") {
        this.#unboundKey = ev.table === "ethertype"
          ? `ethertype 0x${ev.key.toString(16).padStart(4, "0")}`
          : `${ev.table} ${ev.key}`;
      }
    } else if (v === "fault") {
      this.#outcomeKind = 2;
      this.#outcome = `${ev.plugin}.fault`;
    }
  };

  // ---- transmit --------------------------------------------------------------------

  readonly #onTransmit = (frame: Uint8Array, driver: ReplayDriver): void => {
    this.sent++;
    bump(this.sentBy, classifyFrame(frame, driver.linkType));
    const out = this.#o.output;
    if (out === undefined) return;
    this.#write(out, {
      timestamp: Math.max(0, this.#stack.clock.now() + this.epochOffset),
      data: frame,
      interfaceId: this.#ids.get(driver) ?? 0,
      direction: DIRECTION_OUTBOUND,
    });
  };

  #write(out: CaptureWriter, rec: Parameters<CaptureWriter["write"]>[0]): void {
    try {
      out.write(rec);
    } catch (e) {
      if (this.#outputErrors++ === 0) {
        this.message(`Cannot write to the output capture: ${(e as Error).message ?? e}`);
      }
    }
  }

  // ---- time ---------------------------------------------------------------------------

  get stackTime(): Duration {
    return this.#started ? this.#stack.clock.now() - this.#stackStart : 0;
  }

  /** The next instant something happens on the way to `t`: a timer, or `t`. */
  #next(t: Instant): Instant {
    const d = this.#stack.pollAt(this.#stack.clock.now());
    return d !== undefined && d < t ? d : t;
  }

  #step(at: Instant): void {
    if (at > this.#stack.clock.now()) this.#set(at);
    this.#stack.poll(this.#stack.clock.now());
  }

  /** Runs every timer due up to `t` in deadline order, then sets the clock to `t`. */
  advance(t: Instant): void {
    for (let i = 0; i < MAX_TIMER_ROUNDS; i++) {
      const next = this.#next(t);
      this.#step(next);
      if (next >= t) return;
    }
    this.message(`Timers kept firing at one instant; moved on at stack time ${t}`);
    this.#set(Math.max(t, this.#stack.clock.now()));
  }

  /** Like {@linkcode advance}, sleeping so that each step happens on time (paced). */
  async advancePaced(t: Instant): Promise<void> {
    for (let i = 0; i < MAX_TIMER_ROUNDS; i++) {
      const next = this.#next(t);
      const due = this.#wallStart + (next - this.#stackStart) / 1000 / this.#paced;
      let wait = due - performance.now();
      if (wait > this.#maxGapMs) {
        // A long gap: shift the schedule so that it lasts maxGap (tcpreplay --maxsleep).
        this.#wallStart -= wait - this.#maxGapMs;
        wait = this.#maxGapMs;
      }
      if (wait > 1) await sleep(wait, this.#o.signal);
      if (this.#o.signal?.aborted) return;
      this.#step(next);
      if (next >= t) return;
    }
    this.#set(Math.max(t, this.#stack.clock.now()));
  }

  get paced(): boolean {
    return this.#paced > 0;
  }

  // ---- records --------------------------------------------------------------------------

  #driverFor(rec: CaptureRecord, interfaces: readonly CaptureInterface[]): ReplayDriver | null {
    const cached = this.#routes[rec.interfaceId];
    if (cached !== undefined) return cached;
    const iface: CaptureInterface = interfaces[rec.interfaceId] ?? {
      id: rec.interfaceId,
      section: 0,
      localId: rec.interfaceId,
      linkType: rec.linkType,
      snaplen: 0,
      tsresol: 6,
      tsoffset: 0,
      name: "",
    };
    let d: ReplayDriver | undefined;
    if (this.#o.route !== undefined) d = this.#o.route(iface);
    else {
      const lt = iface.linkType;
      d = this.#o.drivers.find((x) => x.linkType === lt) ??
        (isRawIp(lt) ? this.#o.drivers.find((x) => isRawIp(x.linkType)) : undefined);
    }
    this.#routes[rec.interfaceId] = d ?? null;
    return d ?? null;
  }

  /**
   * Prepares one record; returns the driver and stack time to feed it at,
   * or null when it is left out.
   */
  prepare(
    rec: CaptureRecord,
    interfaces: readonly CaptureInterface[],
  ): { driver: ReplayDriver; at: Instant } | null {
    this.read++;
    this.#lastOffset = rec.fileOffset;
    const driver = this.#driverFor(rec, interfaces);
    if (driver === null) {
      this.skipped++;
      bump(this.skippedByLinkType, `linktype ${rec.linkType}`);
      if (!this.#skippedSeen.has(rec.interfaceId)) {
        this.#skippedSeen.add(rec.interfaceId);
        this.message(
          `Skipping packets of capture interface ${rec.interfaceId} (link type ${rec.linkType}, ` +
            `first at packet ${rec.index}, byte ${rec.fileOffset}): no replay interface carries it`,
        );
      }
      return null;
    }
    if (this.#o.filter !== undefined && !this.#o.filter(rec)) {
      this.filtered++;
      return null;
    }
    if (!this.#started) {
      this.#started = true;
      this.#stackStart = this.#stack.clock.now();
      this.epochOffset = rec.timestamp - this.#stackStart;
      this.firstTimestamp = rec.timestamp;
      this.#wallStart = performance.now();
    }
    let at = rec.timestamp - this.epochOffset;
    if (this.lastTimestamp !== null && rec.timestamp < this.lastTimestamp) this.reordered++;
    const now = this.#stack.clock.now();
    if (at < now) at = now;
    this.lastTimestamp = rec.timestamp;
    return { driver, at };
  }

  /** Feeds a prepared record at the current stack time. */
  feed(rec: CaptureRecord, driver: ReplayDriver): void {
    this.replayed++;
    if (rec.originalLength > rec.data.length) this.truncated++;
    const out = this.#o.output;
    if (this.#o.merge === true && out !== undefined) {
      this.#write(out, {
        timestamp: Math.max(0, this.#stack.clock.now() + this.epochOffset),
        data: rec.data,
        originalLength: Math.max(rec.originalLength, rec.data.length),
        interfaceId: this.#ids.get(driver) ?? 0,
        direction: DIRECTION_INBOUND,
      });
    }
    this.#injecting = true;
    this.#packet = -1;
    this.#outcomeKind = 0;
    try {
      driver.receive(rec.data);
    } finally {
      this.#injecting = false;
    }
    if (this.#accounting) {
      if (this.#outcomeKind === 1) {
        this.accepted++;
        bump(this.acceptedBy, this.#outcome!);
      } else if (this.#outcomeKind === 2) {
        bump(this.dropped, this.#outcome!);
        if (this.#unboundKey !== "") bump(this.unbound, this.#unboundKey);
      } else if (this.#packet === -1) {
        bump(this.dropped, "interface.rx_dropped"); // down, or the stack is closed
      }
      this.#unboundKey = "";
    }
    // Work a packet scheduled for right now (a zero-delay timer).
    const d = this.#stack.pollAt(this.#stack.clock.now());
    if (d !== undefined && d <= this.#stack.clock.now()) this.#stack.poll(this.#stack.clock.now());
  }

  #accounting = false;
  startAccounting(): void {
    const on = this.#o.accounting ?? true;
    if (on && typeof this.#stack.trace === "function") {
      this.#stack.trace(this.sink);
      this.#accounting = true;
    }
  }
  stopAccounting(): void {
    if (this.#accounting) this.#stack.trace!(null);
    for (const d of this.#o.drivers) if (d.onTransmit === this.#onTransmit) d.onTransmit = null;
  }

  progress(): ReplayProgress {
    return { read: this.read, fileOffset: this.#lastOffset, stackTime: this.stackTime };
  }

  get messageCount(): number {
    return this.#messageCount;
  }
  get started(): boolean {
    return this.#started;
  }
}

/** The longest delay `setTimeout` takes (2^31 - 1 ms); longer ones fire at once, with a warning. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** @internal Waits `ms` (wall clock), or until `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    // Drivers may use real timers (GUIDE: time); the stack never does.
    const id = setTimeout(done, Math.min(ms, MAX_TIMEOUT_MS));
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** @internal A turn of the event loop. */
export function yieldNow(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

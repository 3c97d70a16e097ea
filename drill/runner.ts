/**
 * Runs one packetdrill script against a fresh stack on virtual time: the
 * stack (192.168.0.1) sits on a raw-IP link whose other end is the script
 * (192.0.2.1). Inbound lines are injected at the link, outbound lines are
 * matched against what the stack sent and when, system calls go through
 * the stack's stream sockets. The clock moves only from one deadline to the
 * next, so a script of seconds runs in milliseconds, the same every time.
 *
 * @module
 */
import type { DrillEvent, DrillScript, IcmpPacketSpec, SyscallSpec, TcpPacketSpec } from "./ast.ts";
import { DrillSyntaxError, parseScript } from "./parser.ts";
import {
  decodeSegment,
  type FlowState,
  formatLiveTcp,
  formatScriptTcp,
  inboundTcp,
  inboundUdp,
  type LiveSegment,
  matchOutbound,
} from "./packets.ts";
import { inboundIcmp, matchOutboundIcmp } from "./icmp.ts";
import { addressBytes, addressText, readIp } from "./ip.ts";
import {
  type CallStep,
  evalInt,
  type Outcome,
  SyscallLayer,
  Unsupported,
  unsupportedReason,
} from "./syscalls.ts";
import { checkAssert, parseCode } from "./tcp_info.ts";
import { applyCommand, type ScriptSetup, scriptSetup } from "./setup.ts";
import { ERRNO } from "./constants.ts";
import { createStack } from "../mod.ts";
import { ManualClock } from "../stack/clock.ts";
import { SeededRng } from "../stack/rng.ts";
import { InjectDriver } from "../drivers/inject/mod.ts";
import { DEFAULT_PLUGINS } from "../stack/protocols/mod.ts";
import type { StreamService } from "../stack/stream.ts";
import type { Stack } from "../stack/stack.ts";
import { describeFrame } from "../stack/wire/pretty.ts";
import { checkInteger } from "../stack/validate.ts";

/** How a script ended. */
export type DrillStatus = "passed" | "failed" | "not run";

/** The outcome of one script. */
export interface DrillResult {
  /** Passed, failed at a line, or not run (with the reason). */
  readonly status: DrillStatus;
  /** The line of the failure or of the unsupported feature. */
  readonly line?: number;
  /** Why it failed or did not run. */
  readonly message?: string;
  /** Events run. */
  readonly events: number;
  /** Virtual time at the end, µs since the script's 0. */
  readonly elapsed: number;
}

/** Options of {@linkcode runScript}. */
export interface RunScriptOptions {
  /**
   * Match each outbound line against exactly one segment (packetdrill's
   * --strict_segments). Default false: as packetdrill, segments sent back
   * to back are gathered until they fill the line's payload, so a script's
   * super-segment (what a TSO device sends as one) matches.
   */
  readonly strictSegments?: boolean;
  /**
   * Give the link TSO, as packetdrill's TUN has (`ethtool -K tun0 tso on|off`
   * in a script says so too): the stack sends super-segments up to 64 KiB as
   * one frame, matched against one line. Default false: MSS-sized segments.
   */
  readonly tso?: boolean;
  /** Timing tolerance in µs (default 4000, or the script's --tolerance_usecs). */
  readonly tolerance?: number;
  /** Called with each packet (tcpdump style) and call as it happens. */
  readonly trace?: (line: string) => void;
  /** Seed of the stack's randomness (default 1). */
  readonly seed?: number;
}

/** Longest a `*` outbound line waits, µs. */
const ANY_TIME_LIMIT = 600_000_000;
/** Most polls at one instant before the runner calls it a livelock. */
const MAX_POLLS_PER_INSTANT = 100_000;
/** Most frames kept waiting for outbound lines. */
const MAX_CAPTURED = 10_000;

class Failure extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

class NotRun extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

interface Captured {
  readonly at: number;
  readonly bytes: Uint8Array;
}

interface Pending {
  readonly ev: DrillEvent;
  readonly call: SyscallSpec;
  readonly step: CallStep;
  readonly start: number;
  readonly timeoutAt: number | undefined;
  /** Script time the call is written to return at (`...END`), µs. */
  readonly endAt: number | undefined;
}

/**
 * Parses and runs `source`. Never throws for what a script says: a syntax
 * error, an unsupported line or no events at all is "not run", a mismatch
 * "failed".
 *
 * @throws {TypeError} When `source` is not a string, or `tolerance`/`seed` not an integer.
 * @throws {RangeError} When `tolerance` or `seed` is out of range.
 *
 * @example
 * ```ts
 * import { runScript } from "./runner.ts";
 * import assert from "node:assert/strict";
 * const r = runScript(`
 * 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
 * +0 bind(3, ..., ...) = 0
 * +0 listen(3, 1) = 0
 * +0 < S 0:0(0) win 32792 <mss 1000>
 * +0 > S. 0:0(0) ack 1 <mss 1460>
 * `);
 * assert.equal(r.status, "passed", r.message);
 * ```
 */
export function runScript(source: string, options: RunScriptOptions = {}): DrillResult {
  if (typeof source !== "string") {
    throw new TypeError("Cannot run a script: source is not a string");
  }
  if (options.tolerance !== undefined) {
    checkInteger(options.tolerance, 0, 60_000_000, "Cannot run a script", "tolerance");
  }
  if (options.seed !== undefined) {
    checkInteger(options.seed, 0, 0xffffffff, "Cannot run a script", "seed");
  }
  let script: DrillScript;
  try {
    script = parseScript(source);
  } catch (err) {
    if (err instanceof DrillSyntaxError) {
      return {
        status: "not run",
        line: err.line,
        message: `cannot parse: ${err.message}`,
        events: 0,
        elapsed: 0,
      };
    }
    throw err;
  }
  // A script with nothing to check would pass whatever the stack did.
  if (script.events.length === 0) {
    return { status: "not run", message: "the script has no events", events: 0, elapsed: 0 };
  }
  let setup: ScriptSetup | string;
  let reason: { line: number; message: string } | undefined;
  try {
    setup = scriptSetup(script, options);
    reason = typeof setup === "string" ? undefined : preflight(script, setup);
  } catch (err) {
    // An argument the setup cannot read (`[x]` where a number goes, …).
    if (err instanceof Unsupported) {
      return { status: "not run", message: err.message, events: 0, elapsed: 0 };
    }
    throw err;
  }
  if (typeof setup === "string") {
    return { status: "not run", message: setup, events: 0, elapsed: 0 };
  }
  if (reason !== undefined) return { status: "not run", ...reason, events: 0, elapsed: 0 };
  try {
    return new Run(script, setup, options).run();
  } catch (err) {
    // A bug of the runner or a throw of the stack: this script fails, the next ones still run.
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { status: "failed", message: `runner error: ${message}`, events: 0, elapsed: 0 };
  }
}

/** The first line the runner cannot run, found before anything runs. */
function preflight(
  script: DrillScript,
  setup: ScriptSetup,
): { line: number; message: string } | undefined {
  let started = false;
  for (const ev of script.events) {
    const a = ev.action;
    if (a.type === "syscall") {
      const why = unsupportedReason(a.call);
      if (why !== undefined) return { line: ev.line, message: why };
    } else if (a.type === "code") {
      try {
        parseCode(a.code);
      } catch (err) {
        if (err instanceof Unsupported) return { line: ev.line, message: err.message };
        throw err;
      }
    } else if (a.type === "command") {
      // Leading commands configured the stack; a later one cannot change it.
      if (started) {
        const probe = { tcp: {}, tsoMaxSize: setup.tsoMaxSize } as ScriptSetup;
        const why = applyCommand(a.command, probe);
        if (why !== undefined || Object.keys(probe.tcp).length > 0) {
          return {
            line: ev.line,
            message: why ?? "a sysctl in the middle of a script is not supported",
          };
        }
        if (probe.tsoMaxSize !== setup.tsoMaxSize) {
          // The interface's offloads are read once, when it is added.
          return { line: ev.line, message: "turning TSO on or off mid-script is not supported" };
        }
      }
    } else {
      const p = a.packet;
      if (p.direction === ">" && p.protocol === "udp") {
        return { line: ev.line, message: `outbound ${p.protocol} lines are not supported` };
      }
      if (p.protocol === "tcp" && p.options?.some((o) => o.kind === "md5")) {
        return { line: ev.line, message: "TCP MD5 signatures are not in the stack" };
      }
      if (p.protocol === "tcp" && p.direction === "<" && p.window === undefined) {
        return { line: ev.line, message: "window must be specified for inbound packets" };
      }
    }
    if (a.type !== "command") started = true;
  }
  return undefined;
}

class Run {
  readonly #script: DrillScript;
  readonly #setup: ScriptSetup;
  readonly #trace: ((line: string) => void) | undefined;
  readonly #clock = new ManualClock();
  readonly #stack: Stack;
  readonly #driver: InjectDriver;
  readonly #captured: Captured[] = [];
  readonly #flow: FlowState;
  readonly #calls: SyscallLayer;
  readonly #t0: number;
  readonly #v6: boolean;
  /** Outbound lines not yet matched. */
  #outboundLeft = 0;
  /** Line of the event being run. */
  #line = 0;
  #pending: Pending | undefined;
  #events = 0;

  constructor(script: DrillScript, setup: ScriptSetup, options: RunScriptOptions) {
    this.#script = script;
    this.#setup = setup;
    this.#trace = options.trace;
    const v6 = setup.localIp.includes(":");
    this.#v6 = v6;
    this.#driver = new InjectDriver({
      linkType: 101,
      mtu: setup.mtu,
      tsoMaxSize: setup.tsoMaxSize,
      onFrame: (f) => {
        if (this.#captured.length >= MAX_CAPTURED) throw new Error("Too many frames waiting");
        if (!this.#isScriptFrame(f)) return;
        this.#captured.push({ at: this.#clock.now(), bytes: f.slice() });
      },
    });
    const plugins = DEFAULT_PLUGINS.map((plugin) =>
      plugin.manifest.name === "tcp" && Object.keys(setup.tcp).length > 0
        ? { plugin, options: setup.tcp }
        : { plugin }
    );
    this.#stack = createStack({
      clock: this.#clock,
      rng: new SeededRng(options.seed ?? 1),
      plugins,
    });
    this.#stack.addInterface({
      name: "tun0",
      driver: this.#driver,
      addresses: [`${setup.localIp}/${v6 ? 128 : 32}`],
    });
    this.#stack.addRoute(`${setup.remoteIp}/${v6 ? 128 : 32}`, { interface: "tun0" });
    this.#settle();
    this.#captured.length = 0; // set-up chatter is not the script's
    this.#t0 = this.#clock.now();
    this.#flow = {
      localAddr: addressBytes(setup.localIp)!,
      remoteAddr: addressBytes(setup.remoteIp)!,
      localPort: setup.bindPort,
      remotePort: 40_000 + (options.seed ?? 1) % 20_000,
      localIsn: undefined,
      tsVals: new Map(),
      firstTs: undefined,
      foCookies: new Map(),
      foCookieGiven: false,
      tsTickUsecs: setup.tsTickUsecs,
      tolerance: setup.tolerance,
    };
    const tcp = this.#stack.service<StreamService>("tcp.sockets");
    if (tcp === undefined) throw new Error("The stack has no tcp.sockets service");
    this.#calls = new SyscallLayer(tcp, this.#flow, {
      bindPort: setup.bindPort,
      connectPort: setup.connectPort,
      boot: setup.boot,
    });
  }

  /**
   * Whether a frame the stack sent belongs to the script's world: its IP
   * version, and not IPv6's own neighbour discovery and multicast listener
   * chatter (RS, NS, NA, MLD), which packetdrill's TUN device also never
   * shows a script.
   */
  #isScriptFrame(f: Uint8Array): boolean {
    const ip = readIp(f);
    if (ip === undefined || (ip.src.length === 16) !== this.#v6) return false;
    if (ip.protocol !== 58) return true;
    const type = ip.payload[0] ?? 0;
    return type < 130 || type > 143;
  }

  /** Script time now, µs. */
  get #now(): number {
    return this.#clock.now() - this.#t0;
  }

  run(): DrillResult {
    try {
      this.#runEvents();
      return { status: "passed", events: this.#events, elapsed: this.#now };
    } catch (err) {
      if (err instanceof Failure) {
        return {
          status: "failed",
          line: err.line,
          message: err.message,
          events: this.#events,
          elapsed: this.#now,
        };
      }
      if (err instanceof NotRun || err instanceof Unsupported) {
        // An Unsupported from deep in a call (an argument the layer cannot read) is at the current line.
        return {
          status: "not run",
          line: err instanceof NotRun ? err.line : this.#line,
          message: err.message,
          events: this.#events,
          elapsed: this.#now,
        };
      }
      throw err;
    } finally {
      this.#calls.closeAll();
      this.#stack.close();
    }
  }

  #runEvents(): void {
    this.#outboundLeft =
      this.#script.events.filter((e) =>
        e.action.type === "packet" && e.action.packet.direction === ">"
      ).length;
    let prev = 0;
    let leading = true;
    for (const ev of this.#script.events) {
      this.#events++;
      this.#line = ev.line;
      const t = ev.time;
      const a = ev.action;
      if (a.type === "command" && leading) continue; // applied at boot (setup.ts)
      leading = false;
      if (a.type === "packet" && a.packet.direction === ">") {
        this.#outboundLeft--;
        let lo: number, hi: number;
        if (t.kind === "any") [lo, hi] = [this.#now, this.#now + ANY_TIME_LIMIT];
        else if (t.kind === "absolute_range" || t.kind === "relative_range") {
          const base = t.kind === "relative_range" ? prev : 0;
          [lo, hi] = [
            base + t.usecs - this.#setup.tolerance,
            base + t.endUsecs! + this.#setup.tolerance,
          ];
        } else {
          const at = t.kind === "relative" ? prev + t.usecs : t.usecs;
          [lo, hi] = [at - this.#setup.tolerance, at + this.#setup.tolerance];
        }
        const actual = this.#outbound(
          ev,
          a.packet as TcpPacketSpec | IcmpPacketSpec,
          lo,
          hi,
          t.kind,
        );
        prev = t.kind === "relative" ? prev + t.usecs : t.kind === "absolute" ? t.usecs : actual;
        continue;
      }
      const at = t.kind === "relative" ? prev + t.usecs : t.usecs;
      prev = at;
      if (at < this.#now - this.#setup.tolerance) {
        throw new Failure(
          ev.line,
          `event time ${secs(at)} is before the previous event (now ${secs(this.#now)})`,
        );
      }
      this.#advanceTo(Math.max(at, this.#now), ev);
      switch (a.type) {
        case "packet":
          this.#inbound(ev);
          break;
        case "syscall":
          // A blocking call's end time counts from the same base as its start.
          this.#syscall(
            ev,
            a.call,
            a.call.endUsecs === undefined
              ? undefined
              : a.call.endUsecs + (t.kind === "relative" ? at - t.usecs : 0),
          );
          break;
        case "code":
          this.#code(ev, a.code);
          break;
        case "command":
          break; // preflight accepted it: it changes nothing here
      }
    }
    if (this.#pending !== undefined) {
      // Give a blocking call its time: until its end time, or what the script allowed.
      const p = this.#pending;
      const end = p.endAt !== undefined
        ? p.endAt + this.#setup.tolerance
        : p.timeoutAt ?? this.#now;
      this.#advanceTo(Math.max(end, this.#now), p.ev, true);
      if (this.#pending !== undefined) {
        throw new Failure(
          p.ev.line,
          `blocking system call ${p.call.name}() did not return by the end of the script`,
        );
      }
    }
  }

  /** Runs every deadline up to script time `to`; a frame sent meanwhile fails `ev` unless `ignoreFrames`. */
  #advanceTo(to: number, ev: DrillEvent, ignoreFrames = false): void {
    for (;;) {
      this.#settle();
      this.#checkPending();
      if (this.#captured.length > 0 && !ignoreFrames) this.#unexpected(ev);
      const next = this.#nextDeadline();
      if (next === undefined || next - this.#t0 > to) break;
      this.#clock.set(next);
    }
    if (to + this.#t0 > this.#clock.now()) this.#clock.set(to + this.#t0);
    this.#settle();
    this.#checkPending();
    if (this.#captured.length > 0 && !ignoreFrames) this.#unexpected(ev);
  }

  #nextDeadline(): number | undefined {
    const now = this.#clock.now();
    let next = this.#stack.pollAt(now);
    const p = this.#pending;
    if (p !== undefined && p.timeoutAt !== undefined) {
      const t = p.timeoutAt + this.#t0;
      if (next === undefined || t < next) next = Math.max(t, now);
    }
    return next;
  }

  /** Polls the stack until nothing more is due at this instant. */
  #settle(): void {
    const now = this.#clock.now();
    for (let i = 0; i < MAX_POLLS_PER_INSTANT; i++) {
      const at = this.#stack.pollAt(now);
      if (at === undefined || at > now) return;
      this.#stack.poll(now);
    }
    throw new Error(`The stack is still busy after ${MAX_POLLS_PER_INSTANT} polls at ${now} µs`);
  }

  /**
   * A frame nobody expected: fails `ev` while outbound lines remain (packetdrill
   * would compare it with the next one and fail); after the last outbound
   * line it is only traced, as packetdrill never looks at it.
   */
  #unexpected(ev: DrillEvent): void {
    if (this.#outboundLeft === 0) {
      for (const f of this.#captured.splice(0)) this.#traceFrame(">", f);
      return;
    }
    const f = this.#captured[0]!;
    const seg = decodeSegment(f.bytes);
    const text = seg !== undefined ? formatLiveTcp(seg, this.#flow) : describeFrame(f.bytes, 101);
    this.#traceFrame(">", f);
    throw new Failure(ev.line, `unexpected outbound packet at ${secs(f.at - this.#t0)}: ${text}`);
  }

  #traceFrame(dir: "<" | ">", f: Captured): void {
    this.#trace?.(`${secs(f.at - this.#t0)} ${dir} ${describeFrame(f.bytes, 101)}`);
  }

  #inbound(ev: DrillEvent): void {
    const a = ev.action;
    if (a.type !== "packet") return;
    const p = a.packet;
    const bytes = p.protocol === "tcp"
      ? inboundTcp(p, this.#flow)
      : p.protocol === "udp"
      ? inboundUdp(p, this.#flow)
      : inboundIcmp(p, this.#flow);
    if (typeof bytes === "string") throw new NotRun(ev.line, bytes);
    this.#traceFrame("<", { at: this.#clock.now(), bytes });
    this.#driver.inject(bytes);
    this.#settle();
    this.#checkPending();
  }

  /** Waits for and checks one outbound packet; returns its script time. */
  #outbound(
    ev: DrillEvent,
    spec: TcpPacketSpec | IcmpPacketSpec,
    lo: number,
    hi: number,
    kind: string,
  ): number {
    const written = spec.protocol === "tcp"
      ? formatScriptTcp(spec)
      : ev.text.replace(/^\S+\s+>\s*/, "");
    const expectedAt = secs(lo + (kind === "any" ? 0 : this.#setup.tolerance));
    if (!this.#waitForFrame(hi)) {
      if (hi + this.#t0 > this.#clock.now() && this.#nextDeadline() !== undefined) {
        this.#clock.set(hi + this.#t0);
      }
      throw new Failure(
        ev.line,
        `timed out waiting for outbound packet: expected at ${expectedAt} (${written});` +
          ` nothing sent by ${secs(this.#now)}`,
      );
    }
    const first = this.#captured.shift()!;
    this.#traceFrame(">", first);
    const at = first.at - this.#t0;
    const timing = `timing error: expected outbound packet at ${expectedAt} sec but happened at ` +
      `${secs(at)} sec; tolerance ${secs(this.#setup.tolerance)} sec\n  script packet: ${written}`;
    if (spec.protocol === "icmp") {
      if (at < lo) {
        throw new Failure(
          ev.line,
          `${timing}\n  actual packet: ${describeFrame(first.bytes, 101)}`,
        );
      }
      const why = matchOutboundIcmp(spec, first.bytes, this.#flow);
      if (why !== null) {
        throw new Failure(
          ev.line,
          `error handling packet: ${why}\n  script packet: ${written}\n  actual packet: ${
            describeFrame(first.bytes, 101)
          }`,
        );
      }
      return at;
    }
    let seg = decodeSegment(first.bytes);
    if (seg === undefined) {
      throw new Failure(
        ev.line,
        `expected a TCP packet (${written}), actual: ${describeFrame(first.bytes, 101)}`,
      );
    }
    if (this.#setup.coalesce && spec.length > seg.length) {
      seg = this.#coalesce(seg, spec.length, hi);
    }
    if (at < lo) {
      throw new Failure(ev.line, `${timing}\n  actual packet: ${formatLiveTcp(seg, this.#flow)}`);
    }
    const mismatch = matchOutbound(spec, seg, this.#flow);
    if (mismatch !== null) {
      throw new Failure(
        ev.line,
        `error handling packet: ${mismatch}\n  script packet: ${secs(at)} ${written}` +
          `\n  actual packet: ${secs(at)} ${formatLiveTcp(seg, this.#flow)}`,
      );
    }
    return at;
  }

  /**
   * Gathers the segments that follow `seg` in sequence into one, up to
   * `want` bytes (TSO's view, packetdrill without --strict_segments); waits
   * for them until script time `hi`, so paced segments gather too.
   */
  #coalesce(seg: LiveSegment, want: number, hi: number): LiveSegment {
    let merged = seg;
    while (merged.length < want) {
      if (this.#captured.length === 0 && !this.#waitForFrame(hi)) break;
      const next = this.#captured[0]!;
      const s = decodeSegment(next.bytes);
      if (
        s === undefined || s.seq !== ((merged.seq + merged.length) >>> 0) || s.length === 0 ||
        (s.flags & ~0x09) !== (merged.flags & ~0x09) || merged.length + s.length > want
      ) break;
      this.#captured.shift();
      this.#traceFrame(">", next);
      merged = {
        ...merged,
        length: merged.length + s.length,
        flags: merged.flags | (s.flags & 0x09),
        ack: s.ack,
        window: s.window,
      };
    }
    return merged;
  }

  /** Runs deadlines until the stack sends a frame (true) or script time passes `hi` (false). */
  #waitForFrame(hi: number): boolean {
    for (;;) {
      this.#settle();
      this.#checkPending();
      if (this.#captured.length > 0) return true;
      const next = this.#nextDeadline();
      if (next === undefined || next - this.#t0 > hi) return false;
      this.#clock.set(next);
    }
  }

  #syscall(ev: DrillEvent, call: SyscallSpec, endAt: number | undefined): void {
    if (this.#pending !== undefined) {
      throw new Failure(
        ev.line,
        `${call.name}() while ${this.#pending.call.name}() (line ${this.#pending.ev.line}) still blocks`,
      );
    }
    let step: CallStep;
    try {
      step = this.#calls.start(call);
    } catch (err) {
      if (err instanceof Unsupported) throw new NotRun(ev.line, err.message);
      throw err;
    }
    this.#trace?.(`${secs(this.#now)} ${ev.text.replace(/^\S+\s+/, "")}`);
    const timeoutAt =
      call.name === "poll" && call.args[2] !== undefined && evalInt(call.args[2]) > 0
        ? this.#now + evalInt(call.args[2]) * 1000
        : undefined;
    const p: Pending = { ev, call, step, start: this.#now, timeoutAt, endAt };
    const r = this.#attempt(p, false);
    this.#settle();
    if (r !== "block") return this.#verify(p, r);
    if (endAt === undefined && timeoutAt === undefined) {
      // Not written as blocking: it may still return within the tolerance.
      this.#pending = p;
      this.#advanceTo(this.#now + this.#setup.tolerance, ev, true);
      if (this.#pending !== undefined) {
        this.#pending = undefined;
        throw new Failure(
          ev.line,
          `${call.name}() blocked; a blocking call is written "...END_TIME ${call.name}(...)"`,
        );
      }
      return;
    }
    this.#pending = p;
  }

  #attempt(p: Pending, expired: boolean): Outcome | "block" {
    try {
      return p.step(expired);
    } catch (err) {
      if (err instanceof Unsupported) throw new NotRun(p.ev.line, err.message);
      throw err;
    }
  }

  #checkPending(): void {
    const p = this.#pending;
    if (p === undefined) return;
    const expired = p.timeoutAt !== undefined && this.#now >= p.timeoutAt;
    const r = this.#attempt(p, expired);
    if (r === "block") return;
    this.#pending = undefined;
    if (
      p.endAt !== undefined && Math.abs(this.#now - p.endAt) > this.#setup.tolerance
    ) {
      throw new Failure(
        p.ev.line,
        `timing error: expected system call to return at ${secs(p.endAt)} sec but returned at ${
          secs(this.#now)
        } sec`,
      );
    }
    this.#verify(p, r);
  }

  #verify(p: Pending, r: Outcome): void {
    const c = p.call;
    const line = p.ev.line;
    if (c.result.kind !== "ellipsis") {
      const want = evalInt(c.result);
      const wantErrno = c.errno === "EWOULDBLOCK" ? "EAGAIN" : c.errno;
      const gotText = r.ret === -1 && r.errno !== undefined
        ? `-1 with errno ${ERRNO[r.errno] ?? "?"} (${r.errno})`
        : `${r.ret}`;
      if (want !== r.ret || (wantErrno !== undefined && wantErrno !== r.errno)) {
        const wantText = wantErrno !== undefined ? `${want} ${wantErrno}` : `${want}`;
        throw new Failure(line, `${c.name}(): expected result ${wantText} but got ${gotText}`);
      }
    }
    if (r.outputError) throw new Failure(line, `${c.name}(): ${r.outputError}`);
  }

  #code(ev: DrillEvent, code: string): void {
    const asserts = parseCode(code);
    const s = this.#calls.current;
    const info = s === undefined
      ? undefined
      : this.#stack.sockets().find((i) =>
        i.state !== "LISTEN" && i.local === hostPort(this.#setup.localIp, s.localPort) &&
        i.remote === hostPort(this.#setup.remoteIp, s.remotePort)
      );
    if (info === undefined) throw new Failure(ev.line, "no connection to read tcp_info from");
    for (const a of asserts) {
      const why = checkAssert(a, info);
      if (why !== null) throw new Failure(ev.line, why);
    }
  }
}

/** `a.b.c.d:port` or `[v6]:port`, as the socket list writes them. */
function hostPort(address: string, port: number): string {
  const a = addressText(addressBytes(address)!);
  return a.includes(":") ? `[${a}]:${port}` : `${a}:${port}`;
}

/** Seconds with 6 decimals, as packetdrill prints times. */
function secs(us: number): string {
  return (us / 1e6).toFixed(6);
}

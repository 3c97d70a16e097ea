/**
 * The system-call layer: packetdrill's socket calls on file descriptors,
 * mapped onto the stack's synchronous stream sockets (`tcp.sockets`,
 * `stack/stream.ts`), which are what the Deno-shaped `connect`/`listen`
 * wrap. A call is a step function the runner retries while it blocks;
 * nonblocking descriptors get `EAGAIN`/`EINPROGRESS` as Linux gives them.
 * A call or option with no counterpart in the stack throws
 * {@linkcode Unsupported} (the script is then "not run").
 *
 * @module
 */
import type { Expr, SyscallSpec } from "./ast.ts";
import { ERRNO, STREAM_ERRNO, SYMBOLS } from "./constants.ts";
import type { FlowState } from "./packets.ts";
import { addressText } from "./ip.ts";
import type { StreamListener, StreamService, StreamSocket } from "../stack/stream.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";

/** A line needs something the stack does not have. */
export class Unsupported extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "Unsupported";
  }
}

/** What a finished call returned. */
export interface Outcome {
  /** Return value. */
  readonly ret: number;
  /** errno name when `ret` is -1. */
  readonly errno?: string;
  /** A mismatch in an output argument (getsockopt's value, poll's revents), or null. */
  readonly outputError?: string | null;
}

/** A call in progress: returns its outcome, or "block" to be retried later. */
export type CallStep = (expired?: boolean) => Outcome | "block";

interface FdEntry {
  readonly fd: number;
  nonblock: boolean;
  boundPort: number | undefined;
  listener: StreamListener | undefined;
  sock: StreamSocket | undefined;
  connecting: boolean;
  errorReported: boolean;
  congestion: string | undefined;
  keepalive: boolean;
  noDelay: boolean;
  lingerZero: boolean;
  /** TCP_FASTOPEN's queue length, taken by listen() (0: off). */
  fastOpen: number;
}

/** Per-stack settings a script's options fix at boot (keepalive timers). */
export interface BootSettings {
  /** TCP_KEEPIDLE, s. */
  keepIdle?: number;
  /** TCP_KEEPINTVL, s. */
  keepIntvl?: number;
  /** TCP_KEEPCNT. */
  keepCnt?: number;
}

/** Options of {@linkcode SyscallLayer}. */
export interface SyscallLayerOptions {
  /** Port `bind(fd, ..., ...)` binds (packetdrill's --bind_port, 8080). */
  readonly bindPort: number;
  /** Port `connect(fd, ..., ...)` connects to (--connect_port, 8080). */
  readonly connectPort: number;
  /** Keepalive settings the stack was booted with. */
  readonly boot: BootSettings;
}

/** Evaluates an integer expression (numbers, symbols, `|`). */
export function evalInt(e: Expr): number {
  switch (e.kind) {
    case "int":
      return e.value;
    case "word": {
      const v = SYMBOLS[e.name] ?? ERRNO[e.name];
      if (v === undefined) throw new Unsupported(`unknown symbol ${e.name}`);
      return v;
    }
    case "or":
      return evalInt(e.lhs) | evalInt(e.rhs);
    case "list":
      if (e.items.length === 1) return evalInt(e.items[0]!);
      break;
    case "call":
      if ((e.name === "htons" || e.name === "htonl") && e.args.length === 1) {
        return evalInt(e.args[0]!);
      }
      break;
  }
  throw new Unsupported(`expected an integer expression, got ${e.kind}`);
}

function field(e: Expr, name: string): Expr | undefined {
  if (e.kind !== "struct") return undefined;
  for (const it of e.items) if (it.kind === "assign" && it.name === name) return it.value;
  return undefined;
}

const SETSOCKOPT_SUPPORTED = new Set([
  "SO_REUSEADDR",
  "SO_KEEPALIVE",
  "SO_LINGER",
  "TCP_NODELAY",
  "TCP_CONGESTION",
  "TCP_KEEPIDLE",
  "TCP_KEEPINTVL",
  "TCP_KEEPCNT",
  "TCP_FASTOPEN",
]);
const GETSOCKOPT_SUPPORTED = new Set([
  "SO_ERROR",
  "SO_KEEPALIVE",
  "TCP_NODELAY",
  "TCP_CONGESTION",
]);
const CALLS = new Set([
  "socket",
  "bind",
  "listen",
  "accept",
  "connect",
  "read",
  "write",
  "send",
  "recv",
  "sendto",
  "recvfrom",
  "readv",
  "writev",
  "shutdown",
  "close",
  "fcntl",
  "poll",
  "setsockopt",
  "getsockopt",
  "ioctl",
]);

function optName(e: Expr | undefined): string {
  return e?.kind === "word" ? e.name : e?.kind === "int" ? String(e.value) : "?";
}

/**
 * Why a call cannot run on this stack, found before the script starts; or
 * undefined when it can.
 *
 * @example
 * ```ts
 * import { unsupportedReason } from "./syscalls.ts";
 * import { parseScript } from "./parser.ts";
 * import assert from "node:assert/strict";
 * const ev = parseScript("0 setsockopt(3, IPPROTO_TCP, TCP_CORK, [1], 4) = 0").events[0]!;
 * assert.ok(ev.action.type === "syscall");
 * assert.match(unsupportedReason(ev.action.call)!, /TCP_CORK/);
 * ```
 */
export function unsupportedReason(call: SyscallSpec): string | undefined {
  if (!CALLS.has(call.name)) return `system call ${call.name}() is not supported`;
  const a = call.args;
  if (call.name === "socket") {
    const type = a[1] ? evalSafe(a[1]) : undefined;
    if (type === undefined || (type & 0xf) !== SYMBOLS.SOCK_STREAM) {
      return "only SOCK_STREAM sockets are supported";
    }
  }
  if (call.name === "setsockopt" && !SETSOCKOPT_SUPPORTED.has(optName(a[2]))) {
    return `setsockopt ${optName(a[2])} has no counterpart in the stack`;
  }
  if (call.name === "setsockopt" && optName(a[2]) === "SO_LINGER") {
    const onoff = a[3]
      ? evalSafe(field(a[3], "onoff") ?? field(a[3], "l_onoff") ?? a[3])
      : undefined;
    const secs = a[3]
      ? evalSafe(field(a[3], "linger") ?? field(a[3], "l_linger") ?? { kind: "int", value: 0 })
      : 0;
    if (onoff === 1 && secs !== 0) {
      return "SO_LINGER with a non-zero time (a blocking close) is not supported";
    }
  }
  if (call.name === "getsockopt" && !GETSOCKOPT_SUPPORTED.has(optName(a[2]))) {
    return `getsockopt ${
      optName(a[2])
    } has no counterpart in the stack (use %{ assert tcpi_... }%)`;
  }
  if (["send", "recv", "sendto", "recvfrom"].includes(call.name)) {
    const flags = a[3] ? evalSafe(a[3]) : 0;
    // MSG_FASTOPEN: sendto() on an unconnected socket is connect({ fastOpenData }).
    const allowed = SYMBOLS.MSG_DONTWAIT! | SYMBOLS.MSG_NOSIGNAL! |
      (call.name === "sendto" ? SYMBOLS.MSG_FASTOPEN! : 0);
    if (flags === undefined || (flags & ~allowed) !== 0) {
      return `${call.name}() flags other than MSG_DONTWAIT${
        call.name === "sendto" ? " and MSG_FASTOPEN" : ""
      } are not supported`;
    }
  }
  if (call.name === "ioctl" && !["SIOCINQ", "FIONREAD"].includes(optName(a[1]))) {
    return `ioctl ${optName(a[1])} has no counterpart in the stack`;
  }
  if (call.name === "shutdown" && a[1] && evalSafe(a[1]) === SYMBOLS.SHUT_RD) {
    return "shutdown(SHUT_RD) is not supported";
  }
  for (const e of a) {
    try {
      if (e.kind === "word") evalInt(e);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return undefined;
}

function evalSafe(e: Expr): number | undefined {
  try {
    return evalInt(e);
  } catch {
    return undefined;
  }
}

/** The descriptors and what they hold. */
export class SyscallLayer {
  readonly #tcp: StreamService;
  readonly #flow: FlowState;
  readonly #o: SyscallLayerOptions;
  readonly #fds = new Map<number, FdEntry>();
  /** The descriptor whose connection `%{ tcpi_… }%` reads (the last one accepted or connected). */
  current: StreamSocket | undefined;

  /** A layer over `tcp`; `flow` learns the ports of listen/connect. */
  constructor(tcp: StreamService, flow: FlowState, options: SyscallLayerOptions) {
    this.#tcp = tcp;
    this.#flow = flow;
    this.#o = options;
  }

  /** Closes every socket still open (end of script). */
  closeAll(): void {
    for (const e of this.#fds.values()) {
      e.sock?.abort();
      e.listener?.close();
    }
    this.#fds.clear();
  }

  /**
   * A descriptor for a new socket: the number the script expects (packetdrill
   * maps script descriptors onto live ones, so `socket(...) = 4` names the
   * socket 4), or the lowest free from 3.
   */
  #newFd(want: number | undefined): FdEntry {
    let fd = 3;
    if (want !== undefined && want >= 0 && !this.#fds.has(want)) fd = want;
    else while (this.#fds.has(fd)) fd++;
    const e: FdEntry = {
      fd,
      nonblock: false,
      boundPort: undefined,
      listener: undefined,
      sock: undefined,
      connecting: false,
      errorReported: false,
      congestion: undefined,
      keepalive: false,
      noDelay: false,
      lingerZero: false,
      fastOpen: 0,
    };
    this.#fds.set(fd, e);
    return e;
  }

  #fd(e: Expr | undefined): FdEntry | undefined {
    return e === undefined ? undefined : this.#fds.get(evalInt(e));
  }

  /** Starts `call`; the step returns its outcome or "block". */
  start(call: SyscallSpec): CallStep {
    const a = call.args;
    const ebadf: CallStep = () => ({ ret: -1, errno: "EBADF" });
    switch (call.name) {
      case "socket": {
        const type = evalInt(a[1]!);
        const want = call.result.kind === "int" ? call.result.value : undefined;
        return () => {
          const e = this.#newFd(want);
          e.nonblock = (type & SYMBOLS.SOCK_NONBLOCK!) !== 0;
          return { ret: e.fd };
        };
      }
      case "bind": {
        const e = this.#fd(a[0]);
        if (e === undefined) return ebadf;
        const port = a[1] !== undefined ? field(a[1], "sin_port") : undefined;
        return () => {
          e.boundPort = port !== undefined ? evalInt(port) : this.#o.bindPort;
          return { ret: 0 };
        };
      }
      case "listen": {
        const e = this.#fd(a[0]);
        if (e === undefined) return ebadf;
        const backlog = a[1] !== undefined ? evalInt(a[1]) : 128;
        return () => {
          const port = e.boundPort ?? this.#o.bindPort;
          const l = this.#tcp.listen({
            address: IpAddress.any(this.#flow.localAddr.length === 16 ? 6 : 4),
            port,
            backlog: Math.max(1, backlog),
            ...(e.fastOpen > 0 ? { fastOpen: e.fastOpen } : {}),
          });
          if (typeof l === "string") return { ret: -1, errno: STREAM_ERRNO[l] ?? "EINVAL" };
          e.listener = l;
          this.#flow.localPort = port;
          return { ret: 0 };
        };
      }
      case "accept":
        return this.#accept(a, call.result.kind === "int" ? call.result.value : undefined);
      case "connect":
        return this.#connect(a);
      case "read":
      case "recv":
      case "recvfrom":
        return this.#read(a, evalInt(a[2]!), call.name !== "read" && a[3] ? evalInt(a[3]) : 0);
      case "readv":
        return this.#read(a, iovLength(a[1]!), 0);
      case "sendto":
        if (a[3] && (evalInt(a[3]) & SYMBOLS.MSG_FASTOPEN!) !== 0) {
          return this.#connect(a, new Uint8Array(evalInt(a[2]!)));
        }
        return this.#write(a, evalInt(a[2]!), a[3] ? evalInt(a[3]) : 0);
      case "write":
      case "send":
        return this.#write(a, evalInt(a[2]!), call.name !== "write" && a[3] ? evalInt(a[3]) : 0);
      case "writev":
        return this.#write(a, iovLength(a[1]!), 0);
      case "shutdown": {
        const e = this.#fd(a[0]);
        if (e === undefined) return ebadf;
        return () => {
          if (e.sock === undefined || !e.sock.connected) return { ret: -1, errno: "ENOTCONN" };
          e.sock.shutdown();
          return { ret: 0 };
        };
      }
      case "close": {
        const e = this.#fd(a[0]);
        if (e === undefined) return ebadf;
        return () => {
          e.listener?.close();
          if (e.sock !== undefined) {
            e.sock.lingerZero = e.lingerZero;
            e.sock.close();
          }
          this.#fds.delete(e.fd);
          return { ret: 0 };
        };
      }
      case "fcntl":
        return this.#fcntl(a);
      case "poll":
        return this.#poll(a);
      case "setsockopt":
        return this.#setsockopt(a);
      case "getsockopt":
        return this.#getsockopt(a);
      case "ioctl":
        return this.#ioctl(a);
    }
    throw new Unsupported(`system call ${call.name}() is not supported`);
  }

  #accept(a: readonly Expr[], want: number | undefined): CallStep {
    const e = this.#fd(a[0]);
    if (e === undefined) return () => ({ ret: -1, errno: "EBADF" });
    return () => {
      if (e.listener === undefined) return { ret: -1, errno: "EINVAL" };
      const s = e.listener.accept();
      if (s === null) return e.nonblock ? { ret: -1, errno: "EAGAIN" } : "block";
      const n = this.#newFd(want);
      n.sock = s;
      this.current = s;
      return { ret: n.fd };
    };
  }

  /** connect(), or sendto(MSG_FASTOPEN) with `data` (returns its length once connected). */
  #connect(a: readonly Expr[], data?: Uint8Array): CallStep {
    const e = this.#fd(a[0]);
    if (e === undefined) return () => ({ ret: -1, errno: "EBADF" });
    let started = false;
    return () => {
      if (!started) {
        started = true;
        if (e.sock !== undefined) {
          if (e.connecting && !e.sock.connected && e.sock.error === null) {
            return { ret: -1, errno: "EALREADY" };
          }
          if (e.sock.connected) return { ret: -1, errno: "EISCONN" };
        }
        const s = this.#tcp.connect({
          address: IpAddress.parse(addressText(this.#flow.remoteAddr))!,
          port: this.#o.connectPort,
          ...(e.boundPort !== undefined ? { localPort: e.boundPort } : {}),
          ...(e.congestion !== undefined ? { congestionControl: e.congestion } : {}),
          ...(data !== undefined ? { fastOpenData: data } : {}),
        });
        if (typeof s === "string") return { ret: -1, errno: STREAM_ERRNO[s] ?? "EINVAL" };
        e.sock = s;
        e.connecting = true;
        s.noDelay = e.noDelay;
        if (e.keepalive) s.keepAlive = true;
        this.current = s;
        this.#flow.remotePort = this.#o.connectPort;
        // Linux's nonblocking sendto(MSG_FASTOPEN) returns what the SYN carries.
        if (e.nonblock && data !== undefined && data.length > 0 && this.#flow.foCookieGiven) {
          return { ret: data.length };
        }
        if (e.nonblock) return { ret: -1, errno: "EINPROGRESS" };
      }
      const s = e.sock!;
      if (s.connected) return { ret: data?.length ?? 0 };
      if (s.error !== null) {
        e.errorReported = true;
        return { ret: -1, errno: STREAM_ERRNO[s.error] ?? "EIO" };
      }
      return "block";
    };
  }

  #socketError(e: FdEntry): string | undefined {
    const s = e.sock;
    if (s === undefined || s.error === null || e.errorReported) return undefined;
    e.errorReported = true;
    return STREAM_ERRNO[s.error] ?? "EIO";
  }

  #read(a: readonly Expr[], n: number, flags: number): CallStep {
    const e = this.#fd(a[0]);
    if (e === undefined) return () => ({ ret: -1, errno: "EBADF" });
    const nonblock = (flags & SYMBOLS.MSG_DONTWAIT!) !== 0;
    return () => {
      const s = e.sock;
      if (s === undefined) return { ret: -1, errno: "ENOTCONN" };
      if (s.readable > 0) {
        const got = s.read(new Uint8Array(Math.min(n, s.readable)));
        return { ret: got };
      }
      const err = this.#socketError(e);
      if (err !== undefined) return { ret: -1, errno: err };
      if (s.eof || s.closed) return { ret: 0 };
      if (!s.connected && !e.connecting) return { ret: -1, errno: "ENOTCONN" };
      return e.nonblock || nonblock ? { ret: -1, errno: "EAGAIN" } : "block";
    };
  }

  #write(a: readonly Expr[], n: number, flags: number): CallStep {
    const e = this.#fd(a[0]);
    if (e === undefined) return () => ({ ret: -1, errno: "EBADF" });
    const nonblock = (flags & SYMBOLS.MSG_DONTWAIT!) !== 0;
    let done = 0;
    return () => {
      const s = e.sock;
      if (s === undefined) return { ret: -1, errno: "EPIPE" };
      const err = this.#socketError(e);
      if (err !== undefined) return { ret: -1, errno: err };
      if (s.closed || s.shutDown || s.error !== null) {
        return done > 0 ? { ret: done } : { ret: -1, errno: "EPIPE" };
      }
      if (!s.connected) {
        if (e.nonblock || nonblock) return { ret: -1, errno: e.connecting ? "EAGAIN" : "EPIPE" };
        return "block";
      }
      if (n === 0) return { ret: 0 };
      done += s.write(new Uint8Array(n - done));
      if (done === n) return { ret: n };
      if (e.nonblock || nonblock) return done > 0 ? { ret: done } : { ret: -1, errno: "EAGAIN" };
      return "block";
    };
  }

  #fcntl(a: readonly Expr[]): CallStep {
    const e = this.#fd(a[0]);
    if (e === undefined) return () => ({ ret: -1, errno: "EBADF" });
    const cmd = evalInt(a[1]!);
    if (cmd === SYMBOLS.F_GETFL) {
      return () => ({ ret: SYMBOLS.O_RDWR! | (e.nonblock ? SYMBOLS.O_NONBLOCK! : 0) });
    }
    if (cmd === SYMBOLS.F_SETFL) {
      const flags = evalInt(a[2]!);
      return () => {
        e.nonblock = (flags & SYMBOLS.O_NONBLOCK!) !== 0;
        return { ret: 0 };
      };
    }
    throw new Unsupported(`fcntl command ${optName(a[1])} is not supported`);
  }

  /** The poll events of `e` now. */
  #revents(e: FdEntry | undefined, events: number): number {
    if (e === undefined) return SYMBOLS.POLLNVAL!;
    let r = 0;
    const l = e.listener;
    if (l !== undefined) return l.pending > 0 ? SYMBOLS.POLLIN! & events : 0;
    const s = e.sock;
    if (s === undefined) return SYMBOLS.POLLOUT! | SYMBOLS.POLLHUP!; // Linux: an unconnected socket
    if (s.readable > 0 || s.eof) r |= SYMBOLS.POLLIN!;
    if (s.eof) r |= SYMBOLS.POLLRDHUP!;
    if (s.error !== null) r |= SYMBOLS.POLLERR! | SYMBOLS.POLLIN!;
    if (s.closed && s.error !== null) r |= SYMBOLS.POLLHUP!;
    if (s.eof && s.shutDown) r |= SYMBOLS.POLLHUP!;
    if (s.connected && s.writeSpace > 0) r |= SYMBOLS.POLLOUT!;
    const always = SYMBOLS.POLLERR! | SYMBOLS.POLLHUP!;
    return r & (events | always);
  }

  #poll(a: readonly Expr[]): CallStep {
    const list = a[0];
    if (list === undefined || list.kind !== "list") {
      throw new Unsupported("poll() needs a list of pollfd");
    }
    const fds = list.items.map((it) => {
      const fd = field(it, "fd");
      const events = field(it, "events");
      if (fd === undefined || events === undefined) {
        throw new Unsupported("pollfd needs fd= and events=");
      }
      const revents = field(it, "revents");
      return { fd: evalInt(fd), events: evalInt(events), revents: revents ? evalInt(revents) : 0 };
    });
    const timeout = a[2] !== undefined ? evalInt(a[2]) : 0;
    return (expired = false) => {
      const got = fds.map((p) => this.#revents(this.#fds.get(p.fd), p.events));
      const ready = got.filter((r) => r !== 0).length;
      if (ready === 0 && timeout !== 0 && !expired) return "block";
      let outputError: string | null = null;
      fds.forEach((p, i) => {
        if (outputError === null && got[i] !== p.revents) {
          outputError = `poll revents of fd ${p.fd}: expected: ${pollText(p.revents)} vs actual: ${
            pollText(got[i]!)
          }`;
        }
      });
      return { ret: ready, outputError };
    };
  }

  #setsockopt(a: readonly Expr[]): CallStep {
    const e = this.#fd(a[0]);
    if (e === undefined) return () => ({ ret: -1, errno: "EBADF" });
    const name = optName(a[2]);
    const v = a[3]!;
    return () => {
      switch (name) {
        case "SO_REUSEADDR":
          // The stack's listeners never conflict with TIME-WAIT connections.
          return { ret: 0 };
        case "SO_KEEPALIVE":
          e.keepalive = evalInt(v) !== 0;
          if (e.sock) e.sock.keepAlive = e.keepalive;
          return { ret: 0 };
        case "TCP_NODELAY":
          e.noDelay = evalInt(v) !== 0;
          if (e.sock) e.sock.noDelay = e.noDelay;
          return { ret: 0 };
        case "SO_LINGER": {
          const onoff = evalInt(field(v, "onoff") ?? field(v, "l_onoff") ?? v);
          e.lingerZero = onoff !== 0;
          if (e.sock) e.sock.lingerZero = e.lingerZero;
          return { ret: 0 };
        }
        case "TCP_CONGESTION": {
          if (v.kind !== "string") throw new Unsupported("TCP_CONGESTION needs a string");
          if (e.sock !== undefined) {
            throw new Unsupported(
              "TCP_CONGESTION on an open connection (the stack fixes it at connect)",
            );
          }
          const known = ["cubic", "reno", "newreno"];
          if (!known.includes(v.value)) return { ret: -1, errno: "ENOENT" };
          e.congestion = v.value;
          return { ret: 0 };
        }
        case "TCP_FASTOPEN": {
          // Linux takes the queue length at listen(); so does the stack.
          const n = evalInt(v);
          if (n < 0) return { ret: -1, errno: "EINVAL" };
          if (e.listener !== undefined) {
            throw new Unsupported("TCP_FASTOPEN after listen() (the stack fixes it at listen)");
          }
          e.fastOpen = n;
          return { ret: 0 };
        }
        case "TCP_KEEPIDLE":
        case "TCP_KEEPINTVL":
        case "TCP_KEEPCNT": {
          const want = evalInt(v);
          const key = name === "TCP_KEEPIDLE"
            ? "keepIdle"
            : name === "TCP_KEEPINTVL"
            ? "keepIntvl"
            : "keepCnt";
          if (this.#o.boot[key] !== want) {
            throw new Unsupported(
              `${name} ${want} differs from the stack-wide value ${this.#o.boot[key]}`,
            );
          }
          return { ret: 0 };
        }
      }
      throw new Unsupported(`setsockopt ${name} is not supported`);
    };
  }

  /** `ioctl(fd, SIOCINQ, [n])`: bytes readable now (FIONREAD), the only ioctl with a counterpart. */
  #ioctl(a: readonly Expr[]): CallStep {
    const e = this.#fd(a[0]);
    if (e === undefined) return () => ({ ret: -1, errno: "EBADF" });
    if (optName(a[1]) !== "SIOCINQ" && optName(a[1]) !== "FIONREAD") {
      throw new Unsupported(`ioctl ${optName(a[1])} is not supported`);
    }
    const want = a[2];
    return () => {
      if (e.sock === undefined) return { ret: -1, errno: "EINVAL" };
      const got = e.sock.readable;
      const w = want === undefined || want.kind === "ellipsis" ? undefined : evalInt(want);
      return {
        ret: 0,
        outputError: w !== undefined && w !== got
          ? `ioctl SIOCINQ: expected: ${w} vs actual: ${got}`
          : null,
      };
    };
  }

  #getsockopt(a: readonly Expr[]): CallStep {
    const e = this.#fd(a[0]);
    if (e === undefined) return () => ({ ret: -1, errno: "EBADF" });
    const name = optName(a[2]);
    const want = a[3];
    return () => {
      let got: number | string;
      switch (name) {
        case "SO_ERROR": {
          const s = e.sock;
          const err = s !== undefined && s.error !== null && !e.errorReported
            ? STREAM_ERRNO[s.error]
            : undefined;
          if (err !== undefined) e.errorReported = true;
          got = err === undefined ? 0 : ERRNO[err]!;
          break;
        }
        case "SO_KEEPALIVE":
          got = e.keepalive ? 1 : 0;
          break;
        case "TCP_NODELAY":
          got = e.noDelay ? 1 : 0;
          break;
        case "TCP_CONGESTION":
          got = e.congestion ?? "cubic";
          break;
        default:
          throw new Unsupported(`getsockopt ${name} is not supported`);
      }
      let outputError: string | null = null;
      if (want !== undefined && want.kind !== "ellipsis") {
        const w = want.kind === "string" ? want.value : evalInt(want);
        if (w !== got) outputError = `getsockopt ${name}: expected: ${w} vs actual: ${got}`;
      }
      return { ret: 0, outputError };
    };
  }
}

function iovLength(e: Expr): number {
  if (e.kind !== "list") throw new Unsupported("expected an iovec list");
  let n = 0;
  for (const it of e.items) {
    if (it.kind !== "struct" || it.items.length !== 2) {
      throw new Unsupported("expected {..., LEN} iovecs");
    }
    n += evalInt(it.items[1]!);
  }
  return n;
}

function pollText(v: number): string {
  const names = ["POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL", "POLLRDHUP"];
  const parts = names.filter((n) => v & SYMBOLS[n]!);
  return parts.length === 0 ? "0" : parts.join("|");
}

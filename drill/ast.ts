/**
 * The syntax tree of a packetdrill script: options, then events, each a
 * time and an action (a packet, a system call, a shell command or a code
 * block). Times are in microseconds.
 *
 * @module
 */

/**
 * When an event happens: `0.1` (absolute), `+0.1` (after the previous
 * event), `*` (any time; outbound packets only), `0.1~0.2` or `+0~+0.1`
 * (a range; outbound packets only).
 */
export interface TimeSpec {
  /** The form. */
  readonly kind: "absolute" | "relative" | "any" | "absolute_range" | "relative_range";
  /** The time (or the range's start), µs. */
  readonly usecs: number;
  /** The range's end, µs. */
  readonly endUsecs?: number;
}

/** One TCP option as written in `<…>`. */
export type TcpOptionSpec =
  | { readonly kind: "nop" }
  | { readonly kind: "eol" }
  | { readonly kind: "mss"; readonly value: number }
  | { readonly kind: "wscale"; readonly value: number }
  | { readonly kind: "sackOK" }
  | { readonly kind: "sack"; readonly blocks: readonly (readonly [number, number])[] }
  | { readonly kind: "ts"; readonly val: number; readonly ecr: number }
  | { readonly kind: "fo"; readonly cookie: string; readonly experimental: boolean }
  | { readonly kind: "md5"; readonly key: string };

/** IP-level fields of a packet line: `[ect0]`, `[ce]`, `(tos 0x10)`, `[ttl 1]`. */
export interface IpInfo {
  /** ECN codepoint: `no_ecn`, `ect0`, `ect1`, `ce`, or `ect01` (outbound: either ECT). */
  readonly ecn?: "no_ecn" | "ect0" | "ect1" | "ce" | "ect01";
  /** A whole TOS byte. */
  readonly tos?: number;
  /** TTL. */
  readonly ttl?: number;
}

/** A TCP segment line. */
export interface TcpPacketSpec {
  /** Protocol. */
  readonly protocol: "tcp";
  /** `<` injected, `>` expected. */
  readonly direction: "<" | ">";
  /** IP fields. */
  readonly ip: IpInfo;
  /** Explicit ports `src>dst`, if written. */
  readonly ports?: readonly [number, number];
  /** Flag letters without the ACK dot (`S`, `P`, `F`, `R`, `E`, `W`, `U`). */
  readonly flags: string;
  /** Whether the ACK flag (`.`) is set. */
  readonly ackFlag: boolean;
  /** Start sequence number (relative to the sender's ISN for outbound). */
  readonly seq: number;
  /** Payload length. */
  readonly length: number;
  /** Acknowledgment number, if written. */
  readonly ack?: number;
  /** Window field, if written. */
  readonly window?: number;
  /** Urgent pointer, if written. */
  readonly urg?: number;
  /** Options; null for `<...>` (not checked). */
  readonly options: readonly TcpOptionSpec[] | null;
}

/** A UDP datagram line: `< udp (1472)`. */
export interface UdpPacketSpec {
  /** Protocol. */
  readonly protocol: "udp";
  /** Direction. */
  readonly direction: "<" | ">";
  /** IP fields. */
  readonly ip: IpInfo;
  /** Explicit ports. */
  readonly ports?: readonly [number, number];
  /** Payload length. */
  readonly length: number;
}

/** An ICMP line: `< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]`. */
export interface IcmpPacketSpec {
  /** Protocol. */
  readonly protocol: "icmp";
  /** Direction. */
  readonly direction: "<" | ">";
  /** IP fields. */
  readonly ip: IpInfo;
  /** Type name (`unreachable`, `time_exceeded`, …). */
  readonly type: string;
  /** Code name (`frag_needed`, `port_unreachable`, …). */
  readonly code?: string;
  /** Next-hop MTU. */
  readonly mtu?: number;
  /** What the error quotes: TCP `seq:end(len)`, or UDP `(len)`. */
  readonly echoed:
    | { readonly protocol: "tcp"; readonly seq: number; readonly length: number }
    | { readonly protocol: "udp"; readonly length: number };
}

/** Any packet line. */
export type PacketSpec = TcpPacketSpec | UdpPacketSpec | IcmpPacketSpec;

/** An expression in a system call. */
export type Expr =
  | { readonly kind: "ellipsis" }
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "word"; readonly name: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "list"; readonly items: readonly Expr[] }
  | { readonly kind: "struct"; readonly items: readonly Expr[] }
  | { readonly kind: "or"; readonly lhs: Expr; readonly rhs: Expr }
  | { readonly kind: "assign"; readonly name: string; readonly value: Expr }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly Expr[] };

/** A system call line: `connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)`. */
export interface SyscallSpec {
  /** Function name. */
  readonly name: string;
  /** Arguments. */
  readonly args: readonly Expr[];
  /** Expected result. */
  readonly result: Expr;
  /** Expected errno name (with a -1 result). */
  readonly errno?: string;
  /** The note in parentheses after the errno. */
  readonly note?: string;
  /** `...T`: the call blocks and returns at T, µs (absolute, or relative to the start). */
  readonly endUsecs?: number;
}

/** What an event does. */
export type Action =
  | { readonly type: "packet"; readonly packet: PacketSpec }
  | { readonly type: "syscall"; readonly call: SyscallSpec }
  | { readonly type: "command"; readonly command: string }
  | { readonly type: "code"; readonly code: string };

/** One event. */
export interface DrillEvent {
  /** 1-based line of its time. */
  readonly line: number;
  /** When. */
  readonly time: TimeSpec;
  /** What. */
  readonly action: Action;
  /** The source text of the event (for reports). */
  readonly text: string;
}

/** A script option: `--tolerance_usecs=10000`. */
export interface ScriptOption {
  /** Name without dashes. */
  readonly name: string;
  /** Value, if written. */
  readonly value?: string;
  /** Line. */
  readonly line: number;
}

/** A parsed script. */
export interface DrillScript {
  /** Options written at the top. */
  readonly options: readonly ScriptOption[];
  /** A back-quoted command before the first event (packetdrill's init command). */
  readonly initCommand?: { readonly command: string; readonly line: number };
  /** Events in order. */
  readonly events: readonly DrillEvent[];
  /** A back-quoted command after the last event (packetdrill's cleanup command). */
  readonly cleanupCommand?: { readonly command: string; readonly line: number };
}

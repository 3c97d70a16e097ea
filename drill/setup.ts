/**
 * What a script asks of the stack before it starts: its `--options`, the
 * `sysctl`s of its back-quoted commands that have a TCP plugin option as
 * counterpart, and per-socket keepalive times (which are stack-wide here).
 * Everything else is a reason not to run the script.
 *
 * @module
 */
import type { DrillScript, SyscallSpec } from "./ast.ts";
import { type BootSettings, evalInt } from "./syscalls.ts";
import { addressBytes } from "./ip.ts";

/** What the runner's link takes with TSO on: an IP packet of 64 KiB less a byte, as Linux's TUN. */
export const TSO_MAX_SIZE = 65535;

/** A receive buffer that makes the stack offer window scale 8, as Linux under packetdrill does. */
export const LINUX_LIKE_RECEIVE_BUFFER = 12 << 20;

/** The runner's settings for one script. */
export interface ScriptSetup {
  /** Timing tolerance, µs (packetdrill's --tolerance_usecs, default 4000). */
  tolerance: number;
  /** --tcp_ts_tick_usecs: check outbound TS vals at this many µs a tick (0: not checked). */
  tsTickUsecs: number;
  /** The stack's address (--local_ip). */
  localIp: string;
  /** The script's address (--remote_ip). */
  remoteIp: string;
  /** --bind_port. */
  bindPort: number;
  /** --connect_port. */
  connectPort: number;
  /** Link MTU (--mtu). */
  mtu: number;
  /** Gather consecutive outbound segments into one expected line (off with --strict_segments). */
  coalesce: boolean;
  /**
   * Largest super-segment the runner's link takes as one frame (TSO), or 0:
   * none, the default. On with `ethtool -K tun0 tso on` (packetdrill's TUN
   * has TSO on already, so the line is a no-op there) or the runner's `tso`
   * option; off with `tso off`.
   */
  tsoMaxSize: number;
  /** TCP plugin options. */
  readonly tcp: Record<string, number | string | boolean>;
  /** Keepalive times fixed at boot. */
  readonly boot: BootSettings;
}

const SYSCTLS: Readonly<
  Record<string, (v: string, tcp: Record<string, number | string | boolean>) => string | void>
> = {
  "tcp_timestamps": (v, t) => void (t.timestamps = v !== "0"),
  "tcp_sack": (v, t) => void (t.sack = v !== "0"),
  "tcp_window_scaling": (v, t) => void (t.windowScaling = v !== "0"),
  "tcp_syncookies": (v, t) =>
    v === "2" ? "tcp_syncookies=2 (always) is not supported" : void (t.syncookies = v !== "0"),
  "tcp_keepalive_time": (v, t) => void (t.keepaliveIdleMs = Number(v) * 1000),
  "tcp_keepalive_intvl": (v, t) => void (t.keepaliveIntervalMs = Number(v) * 1000),
  "tcp_keepalive_probes": (v, t) => void (t.keepaliveProbes = Number(v)),
  "tcp_syn_retries": (v, t) => void (t.synRetries = Number(v)),
  "tcp_synack_retries": (v, t) => void (t.synAckRetries = Number(v)),
  "tcp_retries2": (v, t) => void (t.maxRetries = Number(v)),
  "tcp_fin_timeout": (v, t) => void (t.finTimeoutMs = Number(v) * 1000),
  "tcp_congestion_control": (v, t) => void (t.congestionControl = v),
  // Linux's tcp_ecn: 0 off, 1 request and accept, 2 accept only; the stack's `ecn` is the same.
  "tcp_ecn": (v, t) =>
    /^[012]$/.test(v) ? void (t.ecn = Number(v)) : `tcp_ecn=${v}: expected 0, 1 or 2`,
  // Client (0x1) and server (0x2) Fast Open are always on in the stack (a listener
  // still needs TCP_FASTOPEN, a client MSG_FASTOPEN); the cookie-less and
  // listener-wide modes (0x4, 0x200, 0x400) are not in it.
  "tcp_fastopen": (v) =>
    Number(v) >= 0 && (Number(v) & ~3) === 0
      ? undefined
      : `tcp_fastopen=${v}: only 0x1 (client) and 0x2 (server) are in the stack`,
};

/**
 * Applies a back-quoted command: `sysctl -q net.ipv4.X=V` lines (joined
 * by newlines, `;` or `&&`) with a counterpart, and packetdrill's
 * `defaults.sh` (the runner's stack stands in for its defaults). Returns
 * the reason when a part has no counterpart.
 */
export function applyCommand(command: string, setup: ScriptSetup): string | undefined {
  for (const raw of command.split(/\n|;|&&/)) {
    const part = raw.trim();
    if (part === "") continue;
    // Offloads of packetdrill's TUN: TSO maps onto the link's tsoMaxSize; without TSO
    // the stack's segments are MSS-sized whatever GSO and GRO say (it has neither).
    const offloads = /^ethtool -K tun0((?: (?:tso|gso|gro) (?:on|off))+)$/.exec(part);
    if (offloads !== null) {
      const tso = / tso (on|off)/g;
      for (let m; (m = tso.exec(offloads[1]!)) !== null;) {
        setup.tsoMaxSize = m[1] === "on" ? TSO_MAX_SIZE : 0;
      }
      continue;
    }
    if (/^\S*defaults\.sh$/.test(part)) {
      setup.tcp.synRetries = 5; // what packetdrill's defaults.sh sets that differs here
      continue;
    }
    // `sysctl -q net.ipv4.X=V`, or the kernel suite's `set_sysctls.py /proc/sys/net/ipv4/X=V`
    const m = /^sysctl\s+(?:-q\s+|-w\s+)*net\.ipv4\.(\w+)\s*=\s*"?([^"\s]+)"?$/.exec(part) ??
      /^\S*set_sysctls\.py\s+\/proc\/sys\/net\/ipv4\/(\w+)=(\S+)$/.exec(part);
    const known = m !== null ? SYSCTLS[m[1]!] : undefined;
    if (m === null || known === undefined) return `shell command \`${part}\` has no counterpart`;
    const why = known(m[2]!, setup.tcp);
    if (typeof why === "string") return why;
  }
  return undefined;
}

/** Reads `script`'s options, init command and keepalive settings into a setup, or the reason it cannot run. */
export function scriptSetup(
  script: DrillScript,
  base: { strictSegments?: boolean; tolerance?: number; tso?: boolean },
): ScriptSetup | string {
  const setup: ScriptSetup = {
    tolerance: base.tolerance ?? 4000,
    tsTickUsecs: 0,
    localIp: "192.168.0.1",
    remoteIp: "192.0.2.1",
    bindPort: 8080,
    connectPort: 8080,
    mtu: 1500,
    coalesce: base.strictSegments !== true,
    tsoMaxSize: base.tso === true ? TSO_MAX_SIZE : 0,
    // Linux's receive buffer limit (tcp_rmem[2], rmem_max) makes it offer
    // window scale 8 in packetdrill's defaults; 12 MiB makes this stack's 8 too.
    tcp: { receiveBuffer: LINUX_LIKE_RECEIVE_BUFFER },
    boot: {},
  };
  let family: 4 | 6 = 4;
  let local: string | undefined, remote: string | undefined;
  for (const o of script.options) {
    const v = o.value ?? "";
    const n = Number(v);
    switch (o.name) {
      case "tolerance_usecs":
        setup.tolerance = n;
        break;
      case "ip_version":
        // ipv4-mapped-ipv6: AF_INET6 sockets, IPv4 on the wire; sockets here have no family.
        if (v !== "ipv4" && v !== "ipv4-mapped-ipv6" && v !== "ipv6") {
          return `--ip_version=${v}: expected ipv4, ipv4-mapped-ipv6 or ipv6`;
        }
        family = v === "ipv6" ? 6 : 4;
        break;
      case "local_ip":
        local = v;
        break;
      case "remote_ip":
        remote = v;
        break;
      case "bind_port":
        setup.bindPort = n;
        break;
      case "connect_port":
        setup.connectPort = n;
        break;
      case "mtu":
        setup.mtu = n;
        break;
      case "strict_segments":
        setup.coalesce = false;
        break;
      case "tcp_ts_tick_usecs":
        setup.tsTickUsecs = n;
        break;
      case "tcp_ts_ecr_scaled": // inbound TS ecr is always interpolated
      case "mss": // packetdrill's GRO size for injected packets: nothing is merged here
        break;
      default:
        return `script option --${o.name} is not supported`;
    }
    if (
      !/^(local_ip|remote_ip|ip_version|tcp_ts_ecr_scaled|strict_segments|mss)$/.test(
        o.name,
      ) && !(n >= 0)
    ) {
      return `script option --${o.name}=${v}: expected a number`;
    }
  }
  // packetdrill's IPv6 defaults: fd3d:fa7b:d17d::/48 here, 2001:db8::1 there.
  setup.localIp = local ?? (family === 6 ? "fd3d:fa7b:d17d::1" : "192.168.0.1");
  setup.remoteIp = remote ?? (family === 6 ? "2001:db8::1" : "192.0.2.1");
  const l = addressBytes(setup.localIp), r = addressBytes(setup.remoteIp);
  if (
    l === undefined || r === undefined || l.length !== (family === 6 ? 16 : 4) ||
    r.length !== l.length
  ) {
    return `--local_ip/--remote_ip must be IPv${family} addresses for --ip_version=ipv${family}`;
  }
  if (script.initCommand !== undefined) {
    const why = applyCommand(script.initCommand.command, setup);
    if (why !== undefined) return `line ${script.initCommand.line}: ${why}`;
  }
  // Commands at the very start (before any packet or call) configure the stack too.
  for (const ev of script.events) {
    if (ev.action.type !== "command") break;
    const why = applyCommand(ev.action.command, setup);
    if (why !== undefined) return `line ${ev.line}: ${why}`;
  }
  // Keepalive times are per socket in Linux, stack-wide here: take the script's.
  // So is the SYN queue: Linux's is as long as listen()'s backlog (cookies once full).
  for (const ev of script.events) {
    if (ev.action.type !== "syscall") continue;
    const call = ev.action.call;
    if (call.name === "listen" && call.args[1] !== undefined) {
      const n = Math.max(1, evalInt(call.args[1]));
      const had = setup.tcp.synBacklog;
      setup.tcp.synBacklog = typeof had === "number" ? Math.min(had, n) : n;
    }
    if (call.name !== "setsockopt") continue;
    const why = keepaliveOption(ev.action.call, setup);
    if (why !== undefined) return `line ${ev.line}: ${why}`;
  }
  return setup;
}

function keepaliveOption(call: SyscallSpec, setup: ScriptSetup): string | undefined {
  const name = call.args[2]?.kind === "word" ? call.args[2].name : "";
  const keys: Record<string, keyof BootSettings> = {
    TCP_KEEPIDLE: "keepIdle",
    TCP_KEEPINTVL: "keepIntvl",
    TCP_KEEPCNT: "keepCnt",
  };
  const key = keys[name];
  if (key === undefined || call.args[3] === undefined) return undefined;
  const v = evalInt(call.args[3]);
  const had = setup.boot[key];
  if (had !== undefined && had !== v) {
    return `${name} set twice to different values (stack-wide here)`;
  }
  setup.boot[key] = v;
  if (key === "keepIdle") setup.tcp.keepaliveIdleMs = v * 1000;
  if (key === "keepIntvl") setup.tcp.keepaliveIntervalMs = v * 1000;
  if (key === "keepCnt") setup.tcp.keepaliveProbes = v;
  return undefined;
}

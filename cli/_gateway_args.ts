/**
 * The flags of `up` with several interfaces (a gateway): each `--tun NAME`,
 * `--tap NAME` or `--lan NAME` starts an interface, and the interface flags
 * that follow it (`--address`, `--peer-address`, `--netns`, …) belong to it;
 * the others (`--forward`, `--serve`, …) are the gateway's, wherever they
 * stand. One table, {@linkcode GATEWAY_FLAGS}, says which is which and how
 * each value is checked and stored: adding a flag is adding one entry (see
 * the NAT note there).
 *
 * @module
 */
import { checkAddress, checkHostCidr, checkInputPath, checkOutputPath } from "./_common.ts";
import { parseOptions, UsageError } from "./_common.ts";
import type { LogLevel } from "../stack/log.ts";
import { parseMac } from "../stack/wire/address.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";
import { NptMapping } from "../stack/protocols/nptv6/mapping.ts";
import { type NatRule, parseNatRule, parsePortForward } from "../stack/protocols/nat/mod.ts";
import { parseCpu } from "./_pin_cpu.ts";

/** One interface of the gateway. */
export interface GatewayInterface {
  /** tun, tap: a Linux device; lan: an in-memory switch with virtual hosts. */
  readonly kind: "tun" | "tap" | "lan";
  /** Its name (the Linux device's for tun and tap). */
  readonly name: string;
  /** The gateway's addresses on it (CIDR). */
  readonly addresses: string[];
  /** tun, tap: the Linux end's addresses (CIDR). */
  readonly peers: string[];
  /** Default routes out of this interface (one per IP version). */
  readonly gateways: string[];
  /** tun, tap: the namespace the device is created in. */
  netns: string | undefined;
  /** Link MTU. */
  mtu: number | undefined;
  /** tap: the stack's MAC. */
  mac: Uint8Array | undefined;
  /** lan: how many virtual hosts (default 1). */
  hosts: number | undefined;
  /** lan: services every virtual host runs. */
  readonly hostServices: string[];
  /** NPTv6 on this (outside) interface: inside and outside prefixes. */
  npt: { readonly inside: string; readonly outside: string } | undefined;
  /** tun: virtio-net header offloads (checksum, TSO, USO); on unless `--no-offload`. */
  offload: boolean;
}

/** What the gateway flags say. */
export interface GatewayArgs {
  /** The interfaces, in the order given. */
  readonly interfaces: GatewayInterface[];
  /** `--forward`: IPv4 and IPv6 forwarding on. */
  forward: boolean;
  /** `--mss-clamp`: TCP MSS clamped to the outgoing path MTU on forwarded SYNs. */
  mssClamp: boolean;
  /** Services to run on the gateway. */
  readonly serve: string[];
  /** Extra plugins (paths, URLs, names). */
  readonly plugins: string[];
  /** A stack manifest replacing the default plugin list. */
  manifest: string | undefined;
  /** Log level. */
  logLevel: LogLevel;
  /** Capture file (pcapng: one interface block per interface). */
  capture: string | undefined;
  /** NAT rules (`--masquerade`, `--snat`, `--forward-port`, `--redirect`, `--nat`), in order. */
  readonly nat: NatRule[];
  /** The one CPU every thread runs on (`--cpu`, as `up`'s: `_pin_cpu.ts`), or undefined: anywhere. */
  cpu: number | undefined;
}

/** Where a flag applies. */
export type FlagScope = "start" | "interface" | "gateway";

/**
 * One flag of gateway mode: its scope, whether it takes a value, and how
 * its value is checked and stored (throwing a {@linkcode UsageError}).
 */
export interface GatewayFlag {
  /** `start` begins an interface; `interface` applies to the last one; `gateway` to the whole. */
  readonly scope: FlagScope;
  /** Whether it takes a value. */
  readonly type: "string" | "boolean";
  /** Which interface kinds take it (`interface` scope; default all). */
  readonly kinds?: readonly GatewayInterface["kind"][];
  /** Checks and stores `value` (`""` for a boolean). */
  apply(value: string, args: GatewayArgs, iface: GatewayInterface | undefined): void;
  /**
   * Checks what needs every flag parsed (e.g. that an interface a NAT flag
   * names was given, before or after it); run once if the flag was used.
   */
  finish?(args: GatewayArgs): void;
}

/** Linux's IFNAMSIZ is 16 with the terminating NUL. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

function startInterface(kind: GatewayInterface["kind"]): GatewayFlag {
  return {
    scope: "start",
    type: "string",
    apply(value, args) {
      if (!IFNAME.test(value)) {
        throw new UsageError(
          `--${kind} "${value}" is not an interface name (1..15 letters, digits, _ . -)`,
        );
      }
      if (args.interfaces.some((i) => i.name === value)) {
        throw new UsageError(`--${kind} ${value}: an interface of that name is given twice`);
      }
      args.interfaces.push({
        kind,
        name: value,
        addresses: [],
        peers: [],
        gateways: [],
        netns: undefined,
        mtu: undefined,
        mac: undefined,
        hosts: undefined,
        hostServices: [],
        npt: undefined,
        offload: kind === "tun",
      });
    },
  };
}

/** Which flag made each NAT rule (for the interface check's message). */
const natRuleFlag = new WeakMap<NatRule, string>();

/**
 * A NAT flag: `build` turns its value into a rule (a TypeError or
 * RangeError from the rule checks becomes a one-line usage error naming the
 * flag); after parsing, every interface a rule names must be given.
 */
function natFlag(flag: string, form: string, build: (v: string) => NatRule): GatewayFlag {
  return {
    scope: "gateway",
    type: "string",
    apply(v, args) {
      try {
        const rule = build(v);
        args.nat.push(rule);
        natRuleFlag.set(rule, flag);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        const why = err instanceof Error ? err.message.replace(/^Cannot [^:]*: /, "") : String(err);
        throw new UsageError(`--${flag} must be ${form}, not "${v}" (${why})`);
      }
    },
    finish(args) {
      const names = new Set(args.interfaces.map((i) => i.name));
      for (const r of args.nat.filter((r) => natRuleFlag.get(r) === flag)) {
        for (const name of [r.inIface, r.outIface]) {
          if (name !== undefined && !names.has(name)) {
            throw new UsageError(
              `--${flag}: no interface ${name} (give it with --tun, --tap or --lan)`,
            );
          }
        }
      }
    },
  };
}

function ifaceName(flag: string, v: string): string {
  if (!IFNAME.test(v)) {
    throw new UsageError(
      `--${flag} "${v}" is not an interface name (1..15 letters, digits, _ . -)`,
    );
  }
  return v;
}

/** Splits `SPEC@IF` into the spec and the interface (undefined without `@`). */
function atInterface(flag: string, v: string): [string, string | undefined] {
  const at = v.lastIndexOf("@");
  return at < 0 ? [v, undefined] : [v.slice(0, at), ifaceName(flag, v.slice(at + 1))];
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, not "${value}"`);
  }
  return n;
}

/**
 * The gateway flags. To add one, add an entry. The NAT flags
 * (`masquerade`, `snat`, `forward-port`, `redirect`, `nat`) each push a
 * rule onto `args.nat`; their `finish` checks that every interface a rule
 * names is in `args.interfaces` (it may come later on the line);
 * `runGateway` then loads conntrack and nat with those rules.
 *
 * @example
 * ```ts
 * import { GATEWAY_FLAGS } from "./_gateway_args.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GATEWAY_FLAGS["tun"]!.scope, "start");
 * assert.equal(GATEWAY_FLAGS["address"]!.scope, "interface");
 * assert.equal(GATEWAY_FLAGS["forward"]!.type, "boolean");
 * ```
 */
export const GATEWAY_FLAGS: Readonly<Record<string, GatewayFlag>> = {
  tun: startInterface("tun"),
  tap: startInterface("tap"),
  lan: startInterface("lan"),
  address: {
    scope: "interface",
    type: "string",
    apply(v, _args, i) {
      checkHostCidr("--address", v);
      i!.addresses.push(v);
    },
  },
  "peer-address": {
    scope: "interface",
    type: "string",
    kinds: ["tun", "tap"],
    apply(v, _args, i) {
      checkHostCidr("--peer-address", v);
      i!.peers.push(v);
    },
  },
  gateway: {
    scope: "interface",
    type: "string",
    apply(v, _args, i) {
      checkAddress("--gateway", v);
      const family = IpAddress.parse(v)!.family;
      if (i!.gateways.some((g) => IpAddress.parse(g)!.family === family)) {
        throw new UsageError(`--gateway ${v}: one default gateway per IP version`);
      }
      i!.gateways.push(v);
    },
  },
  netns: {
    scope: "interface",
    type: "string",
    kinds: ["tun", "tap"],
    apply(v, _args, i) {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) {
        throw new UsageError(`--netns "${v}" is not a namespace name`);
      }
      i!.netns = v;
    },
  },
  mtu: {
    scope: "interface",
    type: "string",
    apply(v, _args, i) {
      i!.mtu = integer("--mtu", v, 68, 65535);
    },
  },
  mac: {
    scope: "interface",
    type: "string",
    kinds: ["tap"],
    apply(v, _args, i) {
      const m = parseMac(v);
      if (m === null || (m[0]! & 1) !== 0) {
        throw new UsageError(`--mac must be a unicast MAC such as 02:00:00:00:00:02, not "${v}"`);
      }
      i!.mac = m;
    },
  },
  hosts: {
    scope: "interface",
    type: "string",
    kinds: ["lan"],
    apply(v, _args, i) {
      i!.hosts = integer("--hosts", v, 1, 64);
    },
  },
  "hosts-serve": {
    scope: "interface",
    type: "string",
    kinds: ["lan"],
    apply(v, _args, i) {
      i!.hostServices.push(...v.split(",").map((s) => s.trim()).filter((s) => s));
    },
  },
  npt: {
    scope: "interface",
    type: "string",
    apply(v, args, i) {
      const eq = v.indexOf("=");
      const inside = v.slice(0, eq);
      const outside = v.slice(eq + 1);
      try {
        if (eq < 0) throw new TypeError("no =");
        NptMapping.parse(inside, outside);
      } catch (err) {
        throw new UsageError(
          `--npt must be INSIDE=OUTSIDE, two IPv6 prefixes of the same length 1..64 such as ` +
            `fd01::/48=2001:db8:1::/48, not "${v}"` +
            (err instanceof RangeError ? ` (${err.message})` : ""),
        );
      }
      if (args.interfaces.some((x) => x.npt !== undefined)) {
        throw new UsageError("--npt: one mapping per gateway");
      }
      i!.npt = { inside, outside };
    },
  },
  "no-offload": {
    scope: "interface",
    type: "boolean",
    kinds: ["tun"],
    apply(_v, _args, i) {
      i!.offload = false;
    },
  },
  forward: {
    scope: "gateway",
    type: "boolean",
    apply(_v, args) {
      args.forward = true;
    },
  },
  "mss-clamp": {
    scope: "gateway",
    type: "boolean",
    apply(_v, args) {
      args.mssClamp = true;
    },
  },
  masquerade: natFlag("masquerade", "an interface name", (v) => ({
    action: "masquerade",
    outIface: ifaceName("masquerade", v),
  })),
  snat: natFlag("snat", "IF=ADDR[-ADDR] such as tun2=10.2.0.1", (v) => {
    const eq = v.indexOf("=");
    if (eq < 0) throw new TypeError("no =");
    return parseNatRule(`snat -o ${ifaceName("snat", v.slice(0, eq))} --to ${v.slice(eq + 1)}`);
  }),
  "forward-port": natFlag(
    "forward-port",
    "PROTO:PORT=ADDR[:PORT][@IF] such as tcp:8080=10.1.0.5:80@tun2",
    (v) => {
      const [spec, iface] = atInterface("forward-port", v);
      return parsePortForward(spec, iface);
    },
  ),
  redirect: natFlag("redirect", "PROTO:PORT=PORT[@IF] such as tcp:80=8080@tun1", (v) => {
    const [spec, iface] = atInterface("redirect", v);
    const m = /^(tcp|udp):(\d+(?:-\d+)?)=(\d+(?:-\d+)?)$/.exec(spec);
    if (m === null) throw new TypeError("not PROTO:PORT=PORT");
    return parseNatRule(
      `redirect ${iface !== undefined ? `-i ${iface} ` : ""}-p ${m[1]} --dport ${m[2]} --to ${
        m[3]
      }`,
    );
  }),
  nat: natFlag("nat", 'a rule such as "dnat -i tun2 -p udp --dport 53 --to 10.1.0.2"', (v) => {
    if (v.trim() === "") throw new TypeError("empty");
    return parseNatRule(v);
  }),
  serve: {
    scope: "gateway",
    type: "string",
    apply(v, args) {
      args.serve.push(...v.split(",").map((s) => s.trim()).filter((s) => s));
    },
  },
  plugin: {
    scope: "gateway",
    type: "string",
    apply(v, args) {
      if (v.startsWith(".") || v.startsWith("/")) checkInputPath("--plugin", v);
      args.plugins.push(v);
    },
  },
  manifest: {
    scope: "gateway",
    type: "string",
    apply(v, args) {
      checkInputPath("--manifest", v);
      args.manifest = v;
    },
  },
  "log-level": {
    scope: "gateway",
    type: "string",
    apply(v, args) {
      if (!LOG_LEVELS.includes(v as LogLevel)) {
        throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
      }
      args.logLevel = v as LogLevel;
    },
  },
  capture: {
    scope: "gateway",
    type: "string",
    apply(v, args) {
      checkOutputPath("--capture", v);
      if (v === "-") throw new UsageError("--capture with several interfaces needs a file name");
      args.capture = v;
    },
  },
  cpu: {
    scope: "gateway",
    type: "string",
    apply(v, args) {
      args.cpu = parseCpu(v);
    },
  },
};

/**
 * Whether `args` ask for gateway mode (a `--tun`, `--tap` or `--lan` flag).
 *
 * @example
 * ```ts
 * import { isGatewayArgs } from "./_gateway_args.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isGatewayArgs(["--tun", "tun1"]), true);
 * assert.equal(isGatewayArgs(["--tun=tun1"]), true);
 * assert.equal(isGatewayArgs(["--driver", "tun"]), false);
 * ```
 */
export function isGatewayArgs(args: readonly string[]): boolean {
  return args.some((a) => /^--(tun|tap|lan)(=|$)/.test(a));
}

/**
 * Parses gateway-mode flags in order (see the module doc).
 *
 * @throws {UsageError} For any bad flag, value or combination.
 *
 * @example
 * ```ts
 * import { parseGatewayArgs } from "./_gateway_args.ts";
 * import assert from "node:assert/strict";
 * const a = parseGatewayArgs([
 *   "--forward",
 *   "--tun", "tun1", "--address", "10.1.0.1/24", "--peer-address", "10.1.0.2/24",
 *   "--tun", "tun2", "--address", "10.2.0.1/24",
 * ]);
 * assert.equal(a.forward, true);
 * assert.deepEqual(a.interfaces.map((i) => [i.name, i.addresses]), [
 *   ["tun1", ["10.1.0.1/24"]],
 *   ["tun2", ["10.2.0.1/24"]],
 * ]);
 * assert.throws(() => parseGatewayArgs(["--address", "10.1.0.1/24", "--tun", "t"]), /follow/);
 * ```
 */
export function parseGatewayArgs(args: readonly string[]): GatewayArgs {
  const options: Record<string, { type: "string" | "boolean"; multiple: true }> = {};
  for (const [name, f] of Object.entries(GATEWAY_FLAGS)) {
    options[name] = { type: f.type, multiple: true };
  }
  const { tokens } = parseOptions({
    args: [...args],
    options,
    allowPositionals: false,
    tokens: true,
  });
  const out: GatewayArgs = {
    interfaces: [],
    forward: false,
    mssClamp: false,
    serve: [],
    plugins: [],
    manifest: undefined,
    logLevel: "warn",
    capture: undefined,
    nat: [],
    cpu: undefined,
  };
  for (const t of tokens ?? []) {
    if (t.kind !== "option") continue;
    const flag = GATEWAY_FLAGS[t.name]!;
    const iface = out.interfaces.at(-1);
    if (flag.scope === "interface") {
      if (iface === undefined) {
        throw new UsageError(
          `--${t.name} must follow the interface it belongs to (--tun NAME, --tap NAME or --lan NAME)`,
        );
      }
      if (flag.kinds !== undefined && !flag.kinds.includes(iface.kind)) {
        throw new UsageError(
          `--${t.name} applies to ${flag.kinds.map((k) => `--${k}`).join(" or ")}, ` +
            `not to --${iface.kind} ${iface.name}`,
        );
      }
    }
    flag.apply(typeof t.value === "string" ? t.value : "", out, iface);
  }
  const used = new Set((tokens ?? []).flatMap((t) => t.kind === "option" ? [t.name] : []));
  for (const name of used) GATEWAY_FLAGS[name]!.finish?.(out);
  checkInterfaces(out.interfaces);
  return out;
}

/** The checks across interfaces: addresses present and distinct. */
function checkInterfaces(interfaces: readonly GatewayInterface[]): void {
  const own = new Map<number | string, string>();
  for (const i of interfaces) {
    if (i.addresses.length === 0) {
      throw new UsageError(`--${i.kind} ${i.name} needs an --address`);
    }
    for (const a of i.addresses) {
      const key = checkHostCidr("--address", a).address.key;
      const other = own.get(key);
      if (other !== undefined) {
        throw new UsageError(`--address ${a} is given to both ${other} and ${i.name}`);
      }
      own.set(key, i.name);
    }
    if (
      i.kind === "lan" && !i.addresses.some((a) => IpAddress.parse(a.split("/")[0]!)!.family === 4)
    ) {
      throw new UsageError(
        `--lan ${i.name} needs an IPv4 --address (its hosts are numbered after it)`,
      );
    }
  }
  for (const i of interfaces) {
    for (const p of i.peers) {
      const key = checkHostCidr("--peer-address", p).address.key;
      if (own.has(key)) {
        throw new UsageError(
          `--peer-address ${p} is the stack's own address; give the other end's address`,
        );
      }
    }
    for (const g of i.gateways) {
      if (own.has(IpAddress.parse(g)!.key)) {
        throw new UsageError(`--gateway ${g} is the stack's own address`);
      }
    }
  }
}

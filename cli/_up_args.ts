/**
 * `cli.ts up`'s argument parsing and checking (every usage error here, before
 * any device or stack is made).
 *
 * @module
 */
import {
  captureFormat,
  checkAddress,
  checkHostCidr,
  checkInputPath,
  checkOutputPath,
  parseOptions,
  UsageError,
} from "./_common.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";
import type { LogLevel } from "../stack/log.ts";
import {
  formatIpv4Address,
  ipv4BroadcastAddress,
  ipv4NetworkAddress,
  parseIpv4Cidr,
  parseMac,
} from "../stack/wire/address.ts";
import { parseEndpoint } from "../drivers/vxlan/mod.ts";
import { checkJoins } from "./_join.ts";
import { parseWait, type UpWait } from "./_up_wait.ts";
import { parseKeepWarm } from "./_up_keep_warm.ts";
import { parseCpu } from "./_pin_cpu.ts";

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** `up`'s options after parsing and checking. */
export interface UpArgs {
  driver: "tun" | "tap" | "packet" | "vxlan" | "loopback";
  vni: number | undefined;
  ring: boolean;
  local: string | undefined;
  remotes: string[];
  ifname: string | undefined;
  addresses: string[];
  gateways: string[];
  mtu: number | undefined;
  mac: Uint8Array | undefined;
  peers: string[];
  serve: string[];
  joins: string[];
  capture: string | undefined;
  format: "pcap" | "pcapng";
  plugins: string[];
  manifest: string | undefined;
  logLevel: LogLevel;
  netns: string | undefined;
  offload: boolean;
  wait: UpWait | undefined;
  /** ms between a sleeping TUN device's warm-ups (0: none), see `_up_keep_warm.ts`. */
  keepWarm: number;
  /** The one CPU every thread runs on (`--cpu`, `_pin_cpu.ts`), or undefined: anywhere. */
  cpu: number | undefined;
}

/** Linux's IFNAMSIZ is 16 with the terminating NUL. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** Parses and checks `up`'s arguments: a UsageError (exit 2) for every mistake. */
export function parseUpArgs(args: string[]): UpArgs | "help" {
  const v = parseOptions({
    args,
    allowPositionals: false,
    options: {
      driver: { type: "string", default: "tun" },
      ifname: { type: "string" },
      address: { type: "string", multiple: true },
      gateway: { type: "string", multiple: true },
      mtu: { type: "string" },
      mac: { type: "string" },
      "peer-address": { type: "string", multiple: true },
      serve: { type: "string", multiple: true },
      join: { type: "string", multiple: true },
      capture: { type: "string" },
      format: { type: "string" },
      plugin: { type: "string", multiple: true },
      manifest: { type: "string" },
      "log-level": { type: "string", default: "warn" },
      netns: { type: "string" },
      vni: { type: "string" },
      ring: { type: "boolean" },
      "no-offload": { type: "boolean" },
      wait: { type: "string" },
      "keep-warm": { type: "string" },
      cpu: { type: "string" },
      local: { type: "string" },
      remote: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  }).values;
  if (v.help) return "help";
  const driver = v.driver!;
  if (
    driver !== "tun" && driver !== "tap" && driver !== "packet" && driver !== "vxlan" &&
    driver !== "loopback"
  ) {
    throw new UsageError(`--driver must be tun, tap, packet, vxlan or loopback, not "${driver}"`);
  }
  if (v.ring && driver !== "packet") throw new UsageError("--ring needs --driver packet");
  let vni: number | undefined;
  if (driver === "vxlan") {
    if (v.vni === undefined || v.local === undefined) {
      throw new UsageError("--driver vxlan needs --vni N and --local ADDR[:PORT]");
    }
    vni = Number(v.vni);
    if (!/^\d+$/.test(v.vni) || vni > 0xffffff) {
      throw new UsageError(`--vni must be an integer in 0..16777215, not "${v.vni}"`);
    }
    for (
      const [flag, e] of [["--local", v.local], ...(v.remote ?? []).map((r) => ["--remote", r])]
    ) {
      try {
        parseEndpoint(e!, { allowPortZero: flag === "--local" });
      } catch {
        throw new UsageError(`${flag} must be ADDR[:PORT] or [ADDR6]:PORT, not "${e}"`);
      }
    }
  } else if (v.vni !== undefined || v.local !== undefined || v.remote !== undefined) {
    throw new UsageError("--vni, --local and --remote need --driver vxlan");
  }
  if (driver === "packet" && v.ifname === undefined) {
    throw new UsageError("--driver packet needs --ifname (an existing Ethernet interface)");
  }
  const logLevel = v["log-level"] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
  }
  let mtu: number | undefined;
  if (v.mtu !== undefined) {
    mtu = Number(v.mtu);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
      throw new UsageError(`--mtu must be an integer in 68..65535, not "${v.mtu}"`);
    }
  }
  let mac: Uint8Array | undefined;
  if (v.mac !== undefined) {
    if (driver !== "tap" && driver !== "packet" && driver !== "vxlan") {
      throw new UsageError("--mac needs --driver tap, packet or vxlan");
    }
    const m = parseMac(v.mac);
    if (m === null || (m[0]! & 1) !== 0) {
      throw new UsageError(`--mac must be a unicast MAC such as 02:00:00:00:00:02, not "${v.mac}"`);
    }
    mac = m;
  }
  if (v["no-offload"] && driver !== "tun") throw new UsageError("--no-offload needs --driver tun");
  if (v.netns !== undefined && (driver === "loopback" || driver === "vxlan")) {
    throw new UsageError("--netns needs --driver tun, tap or packet");
  }
  const addresses = v.address ?? (driver === "loopback" ? ["10.0.0.2/24"] : []);
  if (addresses.length === 0) {
    throw new UsageError(`--address is required with --driver ${driver}`);
  }
  const own = new Set<number | string>();
  for (const a of addresses) own.add(checkHostCidr("--address", a).address.key);
  for (const p of v["peer-address"] ?? []) {
    const c = checkHostCidr("--peer-address", p);
    if (own.has(c.address.key)) {
      throw new UsageError(
        `--peer-address ${p} is the stack's own address; give the other end's address`,
      );
    }
  }
  const families = new Set<number>();
  for (const g of v.gateway ?? []) {
    checkAddress("--gateway", g);
    const gw = IpAddress.parse(g)!;
    if (own.has(gw.key)) throw new UsageError(`--gateway ${g} is the stack's own address`);
    if (families.has(gw.family)) {
      throw new UsageError(`--gateway ${g}: one default gateway per IP version`);
    }
    families.add(gw.family);
  }
  if (v.ifname !== undefined && !IFNAME.test(v.ifname)) {
    throw new UsageError(
      `--ifname "${v.ifname}" is not a Linux interface name (1..15 letters, digits, _ . -)`,
    );
  }
  if (v.netns !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(v.netns)) {
    throw new UsageError(`--netns "${v.netns}" is not a namespace name`);
  }
  if (v.capture !== undefined) checkOutputPath("--capture", v.capture);
  const format = captureFormat(v.capture ?? "", v.format);
  if (v.format !== undefined && v.capture === undefined) {
    throw new UsageError("--format needs --capture FILE");
  }
  if (v.manifest !== undefined) checkInputPath("--manifest", v.manifest);
  for (const p of v.plugin ?? []) {
    if (p.startsWith(".") || p.startsWith("/")) checkInputPath("--plugin", p); // not names, URLs
  }
  const wait = parseWait(v.wait, driver);
  return {
    driver,
    vni,
    ring: v.ring ?? false,
    local: v.local,
    remotes: v.remote ?? [],
    ifname: v.ifname,
    addresses,
    gateways: v.gateway ?? [],
    mtu,
    mac,
    peers: v["peer-address"] ??
      (driver === "loopback" && addresses[0] !== undefined ? [defaultPeer(addresses[0])] : []),
    serve: (v.serve ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s),
    joins: checkJoins(v.join ?? []),
    capture: v.capture,
    format,
    plugins: v.plugin ?? [],
    manifest: v.manifest,
    logLevel,
    netns: v.netns,
    offload: driver === "tun" && !(v["no-offload"] ?? false),
    wait,
    keepWarm: parseKeepWarm(v["keep-warm"], driver, wait),
    cpu: parseCpu(v.cpu),
  };
}

/** The first host of `cidr`'s subnet that is not `cidr`'s own address, as CIDR. */
function defaultPeer(cidr: string): string {
  const c = parseIpv4Cidr(cidr);
  if (c === null || c.prefixLength > 30) {
    throw new UsageError(`Cannot pick a peer address next to "${cidr}": give --peer-address`);
  }
  const first = ipv4NetworkAddress(c) + 1;
  const peer = first === c.address ? first + 1 : first;
  if (peer >= ipv4BroadcastAddress(c)) throw new UsageError(`No room for a peer in ${cidr}`);
  return `${formatIpv4Address(peer >>> 0)}/${c.prefixLength}`;
}

/**
 * The built-in protocol plugins, by name. This registry is the only place
 * that imports every protocol; nothing registers itself on import.
 *
 * @module
 */
import type { ProtocolPlugin } from "../manifest.ts";
import { arpPlugin } from "./arp/mod.ts";
import { conntrackPlugin } from "./conntrack/mod.ts";
import { natPlugin } from "./nat/mod.ts";
import { ethernetPlugin } from "./ethernet/mod.ts";
import { icmpPlugin } from "./icmp/mod.ts";
import { icmpv6Plugin } from "./icmpv6/mod.ts";
import { igmpPlugin } from "./igmp/mod.ts";
import { mcproxyPlugin } from "./mcproxy/mod.ts";
import { ipv4Plugin } from "./ipv4/mod.ts";
import { ipv6Plugin } from "./ipv6/mod.ts";
import { mldPlugin } from "./mld/mod.ts";
import { mssClampPlugin } from "./mssclamp/mod.ts";
import { ndpPlugin } from "./ndp/mod.ts";
import { nptv6Plugin } from "./nptv6/mod.ts";
import { rawIpPlugin } from "./rawip/mod.ts";
import { slaacPlugin } from "./slaac/mod.ts";
import { udpPlugin } from "./udp/mod.ts";
import { tcpPlugin } from "./tcp/mod.ts";

export {
  arpPlugin,
  conntrackPlugin,
  ethernetPlugin,
  icmpPlugin,
  icmpv6Plugin,
  igmpPlugin,
  ipv4Plugin,
  ipv6Plugin,
  mcproxyPlugin,
  mldPlugin,
  mssClampPlugin,
  natPlugin,
  ndpPlugin,
  nptv6Plugin,
  rawIpPlugin,
  slaacPlugin,
  tcpPlugin,
  udpPlugin,
};

/** Built-in plugins by manifest name, for stack manifests. */
export const BUILTIN_PLUGINS: Readonly<Record<string, ProtocolPlugin>> = Object.freeze({
  ethernet: ethernetPlugin,
  rawip: rawIpPlugin,
  arp: arpPlugin,
  ipv4: ipv4Plugin,
  igmp: igmpPlugin,
  mcproxy: mcproxyPlugin, // not a default: it needs its interfaces named
  icmp: icmpPlugin,
  ipv6: ipv6Plugin,
  icmpv6: icmpv6Plugin,
  ndp: ndpPlugin,
  mld: mldPlugin,
  slaac: slaacPlugin,
  udp: udpPlugin,
  tcp: tcpPlugin,
  // Not in DEFAULT_PLUGINS: loaded when asked for.
  conntrack: conntrackPlugin,
  nat: natPlugin,
  nptv6: nptv6Plugin,
  mssclamp: mssClampPlugin,
});

/** The default plugin list of `createStack`, in boot order. */
export const DEFAULT_PLUGINS: readonly ProtocolPlugin[] = Object.freeze([
  ethernetPlugin,
  rawIpPlugin,
  arpPlugin,
  ipv4Plugin,
  igmpPlugin,
  icmpPlugin,
  ipv6Plugin,
  icmpv6Plugin,
  ndpPlugin,
  mldPlugin,
  slaacPlugin,
  udpPlugin,
  tcpPlugin,
]);

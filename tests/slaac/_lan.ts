/**
 * A virtual LAN for the slaac tests: one router stack in router mode
 * (advertising a prefix) and host stacks on one learning switch, every
 * stack with the ipv6, icmpv6 and slaac plugins and the stand-ins of
 * `_standins.ts` (an oracle `neighbor.ipv6` that finds each address's MAC
 * among the LAN's stacks, and DAD that marks addresses preferred after 1 s).
 *
 * @module
 */
import type { Stack } from "../../mod.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import type { LinkEnd } from "../../drivers/loopback/link.ts";
import type { NetInterface } from "../../stack/netif.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { slaacPlugin } from "../../stack/protocols/slaac/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { formatMac } from "../../stack/wire/mac.ts";
import { Capture, EnvBase, hostMac, mac, pluginsWith } from "../_harness.ts";
import { dadStandIn, resolverStandIn } from "./_standins.ts";

/** Options of {@linkcode makeSlaacLan}. */
export interface SlaacLanOptions {
  /** Seed of the network (default 1). */
  readonly seed?: number;
  /** Host stacks besides the router (default 1). */
  readonly hosts?: number;
  /** slaac options of the router (default: advertise 2001:db8:1::/64). */
  readonly router?: Readonly<Record<string, number | string | boolean>>;
  /** slaac options of every host. */
  readonly host?: Readonly<Record<string, number | string | boolean>>;
  /** Addresses of the router (default 2001:db8:1::1/64). */
  readonly routerAddresses?: readonly string[];
  /** Record every stack's transmit side in one pcap. */
  readonly capture?: boolean;
  /** Which addresses the DAD stand-in declares duplicate. */
  readonly isDuplicate?: (address: string) => boolean;
}

/** What {@linkcode makeSlaacLan} returns. */
export interface SlaacLan extends EnvBase {
  /** The router (stack 0, MAC 02:00:00:00:00:01). */
  readonly router: Stack;
  /** The hosts (MACs …:02, …:03, …). */
  readonly hostStacks: readonly Stack[];
  /** Each stack's interface, router first. */
  readonly ifaces: readonly NetInterface[];
  /** Each stack's switch port, router first. */
  readonly ports: readonly LinkEnd[];
}

/**
 * The router and `hosts` hosts on a switch; the stacks are set up and the
 * network has run for 0 µs (nothing sent yet but what set-up sends).
 */
export function makeSlaacLan(options: SlaacLanOptions = {}): SlaacLan {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const capture = options.capture ? new Capture() : null;
  const base = new EnvBase(net, capture);
  const sw = net.switch();
  const ifaces: NetInterface[] = [];
  const ports: LinkEnd[] = [];
  // The oracle: the MAC of whichever stack holds the address (in any state).
  const lookup = (address: string): string | undefined => {
    const bytes = IpAddress.parse(address)!.bytes();
    const owner = ifaces.find((i) => i.hasIpv6(bytes));
    return owner?.mac ? formatMac(owner.mac) : undefined;
  };
  const n = (options.hosts ?? 1) + 1;
  for (let i = 0; i < n; i++) {
    const isRouter = i === 0;
    const slaacOptions = isRouter
      ? { advertise: "2001:db8:1::/64", ...options.router }
      : { ...options.host };
    const plugins = pluginsWith({ slaac: slaacOptions }, [
      ipv6Plugin,
      icmpv6Plugin,
      resolverStandIn(lookup).plugin,
      dadStandIn(options.isDuplicate ? { isDuplicate: options.isDuplicate } : {}),
      slaacPlugin,
    ]);
    const name = isRouter ? "router" : `h${i}`;
    const stack = base.newStack(name, plugins);
    const end = sw.port({ mac: mac(hostMac(i + 1)) });
    const driver = capture ? capture.tap(end, { name, receive: false, transmit: true }) : end;
    const addresses = isRouter ? (options.routerAddresses ?? ["2001:db8:1::1/64"]) : [];
    ifaces.push(stack.addInterface({ driver, addresses: [...addresses] }));
    ports.push(end);
  }
  net.runFor(0);
  return Object.assign(base, {
    router: base.hosts[0]!,
    hostStacks: base.hosts.slice(1),
    ifaces,
    ports,
  });
}

/** The IPv6 addresses of `iface` as `address/len state origin` lines, sorted. */
export function addressLines(iface: NetInterface): string[] {
  return iface.ipv6.map((a) =>
    `${IpAddress.v6(a.address)}/${a.prefixLength} ${a.state} ${a.origin}`
  ).sort();
}

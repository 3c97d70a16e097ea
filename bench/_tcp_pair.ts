/**
 * Two stacks on one in-memory link with static neighbour entries (ARP's and
 * NDP's `addStatic`) and a TCP listener on b:5001, for the TCP benchmarks.
 * The benchmarks measure the data path, not autoconfiguration: DAD and
 * Router Solicitations are off.
 *
 * @module
 */
import {
  type ArpService,
  createStack,
  DEFAULT_PLUGINS,
  IpAddress,
  type NdpService,
  type Stack,
  type TcpListener,
  VirtualNetwork,
} from "../mod.ts";

const A = 0x0a000001;
const B = 0x0a000002;

/** The two stacks, their network and b's listener. */
export interface Pair {
  readonly net: VirtualNetwork;
  readonly a: Stack;
  readonly b: Stack;
  readonly listener: TcpListener;
  /** The family a connects over (its interfaces also hold link-local IPv6 addresses). */
  readonly family: 4 | 6;
  close(): void;
}

/** Options of {@linkcode tcpPair}. */
export interface PairOptions {
  /** Link and interface MTU (default 1500). */
  readonly mtu?: number;
  /** TCP send and receive buffer sizes (default: the plugin's). */
  readonly buffer?: number;
  /** Listener backlog (default: the plugin's). */
  readonly backlog?: number;
  /** 4 (10.0.0.1 → 10.0.0.2, the default) or 6 (fd00::1 → fd00::2). */
  readonly family?: 4 | 6;
}

/** a's address and b's (where b listens), per family. */
export const PAIR_ADDRESSES = {
  4: { a: "10.0.0.1", b: "10.0.0.2", prefix: 24 },
  6: { a: "fd00::1", b: "fd00::2", prefix: 64 },
} as const;

/** Builds a {@linkcode Pair}. */
export function tcpPair(options: PairOptions = {}): Pair {
  const net = new VirtualNetwork({ seed: 1 });
  const mtu = options.mtu ?? 1500;
  const link = net.link({ mtu });
  const buffer = options.buffer;
  const pluginOptions: Record<string, Record<string, number>> = {
    ndp: { dadTransmits: 0 },
    slaac: { routerSolicitations: 0 },
    ...(buffer !== undefined ? { tcp: { sendBuffer: buffer, receiveBuffer: buffer } } : {}),
  };
  const plugins = DEFAULT_PLUGINS.map((plugin) => {
    const o = pluginOptions[plugin.manifest.name];
    return o === undefined ? { plugin } : { plugin, options: o };
  });
  const family = options.family ?? 4;
  const at = PAIR_ADDRESSES[family];
  const a = net.addNode(createStack({ clock: net.clock, seed: 1, plugins }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2, plugins }));
  const ia = a.addInterface({ driver: link.a, addresses: [`${at.a}/${at.prefix}`], mtu });
  const ib = b.addInterface({ driver: link.b, addresses: [`${at.b}/${at.prefix}`], mtu });
  if (family === 6) {
    a.service<NdpService>("neighbor.ipv6")!.addStatic(
      ia.index,
      IpAddress.parse(at.b)!.key,
      ib.mac!,
    );
    b.service<NdpService>("neighbor.ipv6")!.addStatic(
      ib.index,
      IpAddress.parse(at.a)!.key,
      ia.mac!,
    );
  } else {
    a.service<ArpService>("arp.resolve")!.addStatic(ia.index, B, ib.mac!);
    b.service<ArpService>("arp.resolve")!.addStatic(ib.index, A, ia.mac!);
  }
  const listener = b.listen({
    port: 5001,
    ...(family === 6 ? { hostname: "::" } : {}),
    ...(options.backlog !== undefined ? { backlog: options.backlog } : {}),
  });
  return {
    net,
    a,
    b,
    listener,
    family,
    close() {
      listener.close();
      a.close();
      b.close();
      net.close();
    },
  };
}

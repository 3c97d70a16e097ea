/**
 * Two stacks on one in-memory link with static neighbour entries (ARP, or
 * for IPv6 a static `neighbor.ipv6` table) and a TCP listener on b:5001,
 * for the TCP benchmarks.
 *
 * @module
 */
import {
  type ArpService,
  createStack,
  DEFAULT_PLUGINS,
  IpAddress,
  type IpKey,
  type NeighborResolver,
  type ProtocolPlugin,
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

/**
 * A `neighbor.ipv6` provider with static entries only, the IPv6 analogue of
 * ARP's `addStatic` here (the benchmark measures the data path, not
 * Neighbor Discovery): `table` maps next hops to MACs.
 */
function staticNeighbors6(table: Map<IpKey, Uint8Array>): ProtocolPlugin {
  const resolver: NeighborResolver = {
    family: 6,
    resolve(_ifindex, nextHop, pkt) {
      const mac = table.get(nextHop);
      if (mac !== undefined) return mac;
      pkt.release(); // not in the table: dropped
      return null;
    },
    onUnresolved() {},
    entries: () => [],
  };
  return {
    manifest: {
      name: "static-ndp",
      version: "1.0.0",
      api: "^1.0.0",
      description: "static IPv6 neighbours for the benchmarks",
      layer: "service",
      binds: [],
      provides: ["neighbor.ipv6"],
      counters: [],
    },
    setup: () => ({ services: { "neighbor.ipv6": resolver } }),
  };
}

/** Builds a {@linkcode Pair}. */
export function tcpPair(options: PairOptions = {}): Pair {
  const net = new VirtualNetwork({ seed: 1 });
  const mtu = options.mtu ?? 1500;
  const link = net.link({ mtu });
  const buffer = options.buffer;
  const plugins = DEFAULT_PLUGINS.map((plugin) =>
    plugin.manifest.name === "tcp" && buffer !== undefined
      ? { plugin, options: { sendBuffer: buffer, receiveBuffer: buffer } }
      : { plugin }
  );
  const family = options.family ?? 4;
  const at = PAIR_ADDRESSES[family];
  const tableA = new Map<IpKey, Uint8Array>();
  const tableB = new Map<IpKey, Uint8Array>();
  const extra = (t: Map<IpKey, Uint8Array>) =>
    family === 6 ? [{ plugin: staticNeighbors6(t) }] : [];
  const a = net.addNode(
    createStack({ clock: net.clock, seed: 1, plugins: [...plugins, ...extra(tableA)] }),
  );
  const b = net.addNode(
    createStack({ clock: net.clock, seed: 2, plugins: [...plugins, ...extra(tableB)] }),
  );
  const ia = a.addInterface({ driver: link.a, addresses: [`${at.a}/${at.prefix}`], mtu });
  const ib = b.addInterface({ driver: link.b, addresses: [`${at.b}/${at.prefix}`], mtu });
  if (family === 6) {
    tableA.set(IpAddress.parse(at.b)!.key, ib.mac!.slice()); // copy: kept for the run
    tableB.set(IpAddress.parse(at.a)!.key, ia.mac!.slice()); // copy: kept for the run
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
    close() {
      listener.close();
      a.close();
      b.close();
      net.close();
    },
  };
}

/**
 * Two stacks on one in-memory link with static ARP entries and a TCP
 * listener on b:5001, for the TCP benchmarks.
 *
 * @module
 */
import {
  type ArpService,
  createStack,
  DEFAULT_PLUGINS,
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
  const a = net.addNode(createStack({ clock: net.clock, seed: 1, plugins }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2, plugins }));
  const ia = a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"], mtu });
  const ib = b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"], mtu });
  a.service<ArpService>("arp.resolve")!.addStatic(ia.index, B, ib.mac!);
  b.service<ArpService>("arp.resolve")!.addStatic(ib.index, A, ia.mac!);
  const listener = b.listen({
    port: 5001,
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

/**
 * What `Stack`'s socket methods need beyond the `udp.sockets` and
 * `tcp.sockets` services: IPv6 zones by interface name and the interfaces
 * as multicast joins see them. Private to `stack.ts`, whose methods
 * document the behaviour.
 *
 * @module
 */
import type { Dispatcher } from "./dispatcher.ts";
import {
  connectTcp,
  DatagramConn,
  type ListenDatagramOptions,
  listenTcp,
  type TcpConn,
  type TcpConnectOptions,
  type TcpListener,
  type TcpListenOptions,
} from "./sockets/mod.ts";
import type { MulticastInterfaces } from "./sockets/multicast.ts";
import type { StreamService, TcpSocketInfo } from "./stream.ts";
import { interfaceZones } from "./_stack_ipv6.ts";
import { needService } from "./_stack_need.ts";

/** The socket entry points of one stack. */
export class StackSockets {
  readonly #kernel: Dispatcher;

  constructor(kernel: Dispatcher) {
    this.#kernel = kernel;
  }

  /** The interfaces as multicast joins see them (issue #11). */
  readonly #multicastInterfaces: MulticastInterfaces = {
    ipv4Owner: (a) => a.family === 4 ? this.#kernel.interfaces.withIpv4(a.v4)?.index : undefined,
    exists: (i) => this.#kernel.interfaces.get(i) !== undefined,
    nameOf: (i) => this.#kernel.interfaces.get(i)?.name,
  };

  /** An IPv6 zone (`eth0`, or an index) to its interface index (RFC 4007 §11). */
  readonly #zones = (zone: string): number | undefined =>
    interfaceZones(this.#kernel.interfaces)(zone);

  /** `Stack.listenDatagram`. */
  listenDatagram(options: ListenDatagramOptions): DatagramConn {
    return DatagramConn.open(
      needService(this.#kernel, "udp.sockets", "listen for datagrams"),
      options,
      this.#zones,
      this.#multicastInterfaces,
    );
  }

  /** `Stack.connect`. */
  connect(options: TcpConnectOptions): Promise<TcpConn> {
    try {
      const tcp = needService<StreamService>(this.#kernel, "tcp.sockets", "connect");
      return connectTcp(tcp, options, this.#zones);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** `Stack.listen`. */
  listen(options: TcpListenOptions): TcpListener {
    return listenTcp(
      needService<StreamService>(this.#kernel, "tcp.sockets", "listen"),
      options,
      this.#zones,
    );
  }

  /** `Stack.sockets`. */
  sockets(): TcpSocketInfo[] {
    return needService<StreamService>(this.#kernel, "tcp.sockets", "list sockets").sockets();
  }
}

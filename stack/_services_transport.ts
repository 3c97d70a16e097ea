/**
 * Transports: UDP sockets, and the stream (TCP) contract from `stream.ts`.
 *
 * Re-exported by `services.ts`, the one place to import service contracts from.
 *
 * @module
 */
import type { IpAddress, IpFamily } from "./wire/ip_address.ts";
import type { MulticastFilter } from "./_services_multicast.ts";

/**
 * Why a `udp.sockets` operation failed: `"closed"`, `"addr_in_use"`,
 * `"addr_not_available"`, `"too_many_sockets"`, `"invalid_port"`,
 * `"invalid_destination"`, `"no_route"`, `"message_too_long"`,
 * `"broadcast_not_enabled"`, an error an ICMP message left pending on a
 * connected socket (`"connection_refused"`, `"network_unreachable"`,
 * `"host_unreachable"`, `"protocol_error"`), `"family_not_supported"` (no
 * network plugin for the address's IP version is loaded), or another reason
 * the route service gave (e.g. `"filtered"`).
 */
export type UdpError = string;

/** Options of {@linkcode UdpService.open}. */
export interface UdpOpenOptions {
  /** Local address; absent or unspecified (default) binds every address of `family`. */
  readonly address?: IpAddress;
  /** IP version of the socket (default: the address's, else 4). */
  readonly family?: IpFamily;
  /**
   * With the IPv6 wildcard `::`: IPv6 datagrams only (IPV6_V6ONLY). Default
   * false: `::` takes and sends IPv4 too (dual stack, Linux's default).
   */
  readonly v6only?: boolean;
  /**
   * The zone of a link-local `address` (an interface index, RFC 4007 §6):
   * the socket's link-local peers are reached through it. Negative or absent: none.
   */
  readonly scope?: number;
  /** Local port; 0 (default) picks a free ephemeral port. */
  readonly port?: number;
  /** SO_REUSEADDR: share the port with other sockets that set it too (default false). */
  readonly reuseAddress?: boolean;
  /** SO_BROADCAST: allow sending to broadcast addresses (default false). */
  readonly broadcast?: boolean;
  /** TTL / hop limit of datagrams sent; 0 (default) uses the network layer's. */
  readonly ttl?: number;
  /** UDP_SEGMENT: see {@linkcode UdpSocket.segmentSize} (default 0, off). */
  readonly segmentSize?: number;
  /** Most datagrams queued for receive (default: the plugin's option). */
  readonly receiveQueueLimit?: number;
  /** Most buffer bytes queued for receive, each datagram as its pooled buffer (default: the plugin's option). */
  readonly receiveQueueBytes?: number;
}

/**
 * An open UDP socket from `udp.sockets`: synchronous, no promises. The
 * promise API (`DatagramConn`) and benchmarks are built on it. Hot-path
 * methods take positional arguments.
 */
export interface UdpSocket {
  /** IP version (4 or 6). */
  readonly family: IpFamily;
  /** Bound local address (unspecified: any; set by `connect` when it was any). */
  readonly localAddress: IpAddress;
  /** Bound local port. */
  readonly localPort: number;
  /** Connected peer address, or null. */
  readonly remoteAddress: IpAddress | null;
  /** Connected peer port, or 0. */
  readonly remotePort: number;
  /** Whether it is closed (by `close()` or by the stack shutting down). */
  readonly closed: boolean;
  /** Datagrams waiting to be received. */
  readonly queued: number;
  /** Payload bytes waiting to be received. */
  readonly queuedBytes: number;
  /** Datagrams dropped because the receive queue was full. */
  readonly dropped: number;
  /** Source address of the datagram the last `recv` returned. */
  readonly peerAddress: IpAddress;
  /** Source port of the datagram the last `recv` returned. */
  readonly peerPort: number;
  /**
   * Interface the datagram the last `recv` returned arrived on (-1:
   * unknown): the zone of a link-local `peerAddress` (Linux's
   * `sin6_scope_id`).
   */
  readonly peerIfindex: number;
  /** The error an ICMP message left pending (connected sockets), if any. */
  readonly pendingError: UdpError | undefined;
  /** SO_BROADCAST. */
  broadcast: boolean;
  /** TTL / hop limit of datagrams sent (0: the network layer's default). */
  ttl: number;
  /**
   * UDP_SEGMENT (Linux's socket option): a send of more than this many
   * payload bytes goes as datagrams of this size (the last shorter), one
   * super-datagram through the stack, cut by a link with USO or right
   * before the link. 0 (default): off. An integer in 0..65535, else a
   * RangeError. A send fails with `"segment_too_long"` when one datagram
   * does not fit the path MTU, `"too_many_segments"` beyond 128 datagrams.
   */
  segmentSize: number;
  /** IP_MULTICAST_LOOP: the host's own member sockets hear what it sends to a group (default true). */
  multicastLoop: boolean;
  /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS of datagrams sent to a group (default 1). */
  multicastTtl: number;
  /** IP_MULTICAST_IF: interface index multicast goes out of; 0 (default): the route's. */
  multicastInterface: number;
  /**
   * Sets the socket's reception filter for `group` on interface `ifindex`
   * (RFC 3678 `setsourcefilter`; 0: the interface the route to `group`
   * takes): `exclude` with no sources joins from any source, `include`
   * with no sources leaves. The interface's merged state follows
   * (`igmp.groups` / `mld.groups`). Returns why not (`"family_not_supported"`
   * without the group table, `"too_many_memberships"`, `"no_such_interface"`).
   *
   * @throws {TypeError} For a group or source of the wrong family, or not multicast.
   * @throws {RangeError} When the interface's group table is full.
   */
  setMulticastFilter(
    ifindex: number,
    group: IpAddress,
    filter: MulticastFilter,
  ): UdpError | undefined;
  /** The socket's filters, in join order, with the interface each is on. */
  multicastFilters(): { ifindex: number; group: IpAddress; filter: MulticastFilter }[];
  /**
   * Called synchronously from the receive path when a datagram is queued,
   * when an error becomes pending, and once when the socket closes. It must
   * not throw; it may call `recv` and `send`.
   */
  onReadable: (() => void) | null;
  /**
   * Sends `data` (copied) to `address`:`port`, or to the connected peer when
   * `address` is null. Returns undefined when sent (or queued for ARP), else why
   * not; a pending error is returned (and cleared) first. `scope`: the zone
   * (interface index) of a link-local `address`, negative for the socket's own.
   * Hot path: positional.
   */
  send(
    data: Uint8Array,
    address: IpAddress | null,
    port: number,
    scope?: number,
  ): UdpError | undefined;
  /**
   * Copies the oldest queued datagram into `into` (truncating, like
   * `recvfrom`), sets `peerAddress`/`peerPort`, and returns the bytes
   * copied; -1 when the queue is empty.
   */
  recv(into: Uint8Array): number;
  /** Length of the oldest queued datagram, or -1 when the queue is empty. */
  nextLength(): number;
  /** Returns and clears the pending error. */
  takeError(): UdpError | undefined;
  /**
   * Fixes the peer: only its datagrams are received, ICMP errors about
   * traffic to it are reported, and `send` may omit the address. Binds the
   * local address to the route's source if it was any (like Linux).
   * `scope`: the zone of a link-local `address`, as in `send`.
   */
  connect(address: IpAddress, port: number, scope?: number): UdpError | undefined;
  /** Closes the socket and frees its port and queue. Idempotent. */
  close(): void;
}

/** One row of {@linkcode UdpService.list}, like `ss -uan`. */
export interface UdpSocketInfo {
  /** `10.0.0.1:5000`, `0.0.0.0:5000`, `[fd00::1]:5000`, or `*:5000` (dual-stack `::`). */
  readonly local: string;
  /** `10.0.0.2:53`, or as `ss -uan` shows no peer: `0.0.0.0:*`, `[::]:*`, `*:*` (dual-stack `::`). */
  readonly remote: string;
  /** Datagrams queued. */
  readonly queued: number;
  /** Payload bytes queued. */
  readonly queuedBytes: number;
  /** Buffer bytes the queue holds (what the receive limits count). */
  readonly queuedMemory: number;
  /** Datagrams dropped for a full queue. */
  readonly dropped: number;
}

/** `udp.sockets`: UDP sockets (RFC 768), synchronous. */
export interface UdpService {
  /** Opens and binds a socket, or says why it cannot (`"addr_in_use"`, …). */
  open(options: UdpOpenOptions): UdpSocket | UdpError;
  /** The open sockets, in bind order. */
  list(): UdpSocketInfo[];
}

/**
 * `tcp.sockets`: the stream-socket contract (synchronous) lives in
 * `stream.ts`; the Deno-shaped `TcpConn`/`TcpListener` in `sockets/`.
 */
export type {
  StreamConnectOptions,
  StreamError,
  StreamEvents,
  StreamListener,
  StreamListenerEvents,
  StreamListenOptions,
  StreamService,
  StreamSocket,
  TcpSocketInfo,
} from "./stream.ts";

/**
 * The socket adapters: Deno-shaped objects over the transports'
 * synchronous socket contracts, in one layer above the plugins.
 *
 * - `TcpConn`/`TcpListener` ({@linkcode connectTcp}, {@linkcode listenTcp})
 *   over `tcp.sockets` (`stack/stream.ts`);
 * - {@linkcode DatagramConn} over `udp.sockets` (`UdpService`);
 * - one host/port parser (`address.ts`: IPv4, IPv6, `[…]`, zones
 *   `fe80::1%eth0`, IPv4-mapped `::ffff:…`) and one error policy
 *   (`errors.ts`): the same mistake gets the same error class in TCP and UDP;
 * - dual stack as Deno on Linux: `::` takes both families unless `v6only`,
 *   IPv4 peers shown IPv4-mapped; zones carried to the route service as a
 *   scope (interface index); `remoteAddr` shows no zone, as Deno's;
 * - Linux's zone rules (`checkZone`): a link-local local address needs its
 *   zone, and so does a link-local peer of `connect` unless the zoned local
 *   address names the link (EINVAL there, `TypeError` here, whatever the
 *   number of interfaces); a UDP `send` to a zoneless link-local address
 *   goes out the socket's zone, else the stack's only interface, else is a
 *   `TypeError` (Linux would pick the first link with fe80::/64).
 *
 * Here live the promises, the Web Streams, the `Deno.errors` mapping and
 * the `NetAddr` text; the plugins keep the protocols and know none of it.
 * The layer imports core contracts only, never a plugin.
 *
 * @module
 */
export {
  type HostText,
  mapIpv4,
  type NetAddr,
  netAddr,
  parseHostname,
  parseHostText,
  unmapIpv4,
} from "./address.ts";
export { DatagramConn } from "./datagram.ts";
export type { DatagramAddr, ListenDatagramOptions } from "./datagram.ts";
export { MulticastMembership } from "./multicast.ts";
export type { MulticastInterfaces, MulticastJoinOptions } from "./multicast.ts";
export {
  bufferError,
  checkBuffer,
  checkFlag,
  checkHostname,
  checkInteger,
  checkNumber,
  checkPort,
  checkSocketHost,
  checkTransport,
  checkZone,
  closedError,
  MAX_WAITING_CALLS,
  socketErrorToException,
  type SocketTarget,
  tooManyWaiting,
  type ZoneResolver,
} from "./errors.ts";
export { connectTcp, listenTcp } from "./tcp.ts";
export type { TcpConn, TcpConnectOptions, TcpListener, TcpListenOptions } from "./types.ts";

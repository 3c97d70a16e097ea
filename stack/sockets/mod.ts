/**
 * The socket adapters: Deno-shaped objects over the transports'
 * synchronous socket contracts, in one layer above the plugins.
 *
 * - `TcpConn`/`TcpListener` ({@linkcode connectTcp}, {@linkcode listenTcp})
 *   over `tcp.sockets` (`stack/stream.ts`);
 * - {@linkcode DatagramConn} over `udp.sockets` (`UdpService`);
 * - one host/port parser (`address.ts`) and one error policy (`errors.ts`):
 *   the same mistake gets the same error class in TCP and UDP.
 *
 * Here live the promises, the Web Streams, the `Deno.errors` mapping and
 * the `NetAddr` text; the plugins keep the protocols and know none of it.
 * The layer imports core contracts only, never a plugin.
 *
 * @module
 */
export { type NetAddr, netAddr, parseHostname } from "./address.ts";
export { DatagramConn } from "./datagram.ts";
export type { DatagramAddr, ListenDatagramOptions } from "./datagram.ts";
export {
  bufferError,
  checkBuffer,
  checkHostname,
  checkInteger,
  checkNumber,
  checkPort,
  checkTransport,
  closedError,
  MAX_WAITING_CALLS,
  socketErrorToException,
  tooManyWaiting,
} from "./errors.ts";
export { connectTcp, listenTcp } from "./tcp.ts";
export type { TcpConn, TcpConnectOptions, TcpListener, TcpListenOptions } from "./types.ts";

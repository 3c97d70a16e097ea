/**
 * The send side of `DatagramConn`: argument checks in the order their
 * errors take precedence, the destination text parsed once while it
 * repeats, and the socket's error mapped to `Deno.errors`.
 *
 * @module
 */
import type { UdpSocket } from "../services.ts";
import type { IpAddress } from "../wire/ip_address.ts";
import type { DatagramAddr } from "./datagram_options.ts";
import {
  checkPort,
  checkSocketHost,
  checkZone,
  endpointText,
  socketErrorToException,
  type ZoneResolver,
} from "./errors.ts";

/** Largest UDP payload over IPv4: 65535 - 20 - 8. */
export const MAX_PAYLOAD = 65507;

/**
 * The start of `send`'s error messages (built only when one is thrown).
 *
 * @example
 * ```ts
 * import { sendAction } from "./datagram_send.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sendAction({ hostname: "10.0.0.2", port: 7 }), "Cannot send to 10.0.0.2:7");
 * assert.equal(sendAction(undefined), "Cannot send to the connected peer");
 * ```
 */
export function sendAction(addr: DatagramAddr | undefined): string {
  return `Cannot send to ${
    addr === undefined ? "the connected peer" : endpointText(addr.hostname, addr.port)
  }`;
}

function tooLong(p: Uint8Array, addr: DatagramAddr | undefined): RangeError {
  return new RangeError(
    `${sendAction(addr)}: ${p.length} bytes is more than a UDP datagram over IPv4 carries (65507)`,
  );
}

/**
 * Sends for one `DatagramConn` (internal; the connection checks that it is
 * open first). Keeps the last destination text it parsed and its address:
 * a server answering `from` or a client sending to one peer parses it once.
 *
 * @example
 * ```ts
 * import { createStack } from "../../mod.ts";
 * import { DatagramSender } from "./datagram_send.ts";
 * import type { UdpService } from "../services.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * stack.addInterface({ driver: { linkType: 101, mtu: 1500, attach() {}, transmit(p) { p.release(); }, close() {} }, addresses: ["10.0.0.1/24"] });
 * const sock = stack.service<UdpService>("udp.sockets")!.open({ port: 10 });
 * assert.ok(typeof sock !== "string");
 * const tx = new DatagramSender(sock, undefined);
 * assert.equal(tx.send(new Uint8Array(3), { hostname: "10.0.0.2", port: 9 }), 3);
 * assert.throws(() => tx.send(new Uint8Array(3), { hostname: "10.0.0.2", port: 0 }), RangeError);
 * sock.close();
 * stack.close();
 * ```
 */
export class DatagramSender {
  readonly #sock: UdpSocket;
  readonly #zones: ZoneResolver | undefined;
  /** The zone of the bound address, if it had one (-1: none). */
  boundScope = -1;
  #sendHost: unknown = undefined;
  #sendAddress: IpAddress | null = null;

  /** Sends on `sock`, resolving zone names with `zones`. */
  constructor(sock: UdpSocket, zones: ZoneResolver | undefined) {
    this.#sock = sock;
    this.#zones = zones;
  }

  // The checks run in the order their errors take precedence; the message
  // text (`sendAction`) is built only on an error path, and a destination
  // text is parsed once while it repeats. Issue 9: building the text and
  // parsing the hostname (an IpAddress and two objects) per call took the
  // promise echo from 36.4 k instructions per round trip (1ef23ca) to
  // 37.8 k; now 35.1 k (cachegrind, bench/instructions.ts udpapi64).
  /**
   * Sends `p` to `addr` (or the connected peer) and returns its length.
   *
   * @throws {RangeError} For a payload over 65507 bytes or a port out of range.
   * @throws {TypeError} For a hostname that is not an address of the socket's kind.
   */
  send(p: Uint8Array, addr: DatagramAddr | undefined): number {
    if (addr === undefined) {
      if (p.length > MAX_PAYLOAD) throw tooLong(p, addr);
      const err = this.#sock.send(p, null, 0, -1);
      if (err !== undefined) throw socketErrorToException(err, sendAction(addr));
      return p.length;
    }
    const hostname = addr.hostname;
    const port = addr.port;
    if (p.length > MAX_PAYLOAD) throw tooLong(p, addr);
    let address: IpAddress;
    let scope = -1;
    const cached = hostname === this.#sendHost ? this.#sendAddress : null;
    if (cached !== null) {
      address = cached;
    } else {
      const action = sendAction(addr);
      const to = checkSocketHost(hostname, action, this.#zones);
      address = to.address;
      scope = to.scope;
      if (scope < 0 && address.isLinkLocal()) {
        // Linux routes a zoneless link-local destination by the socket's
        // bound device, else by the first link with fe80::/64 (maybe the
        // wrong one): here the bound zone, else the only interface, else
        // EINVAL as connect() gives.
        scope = this.boundScope >= 0 ? this.boundScope : this.#zones?.("") ?? -1;
        if (scope < 0) checkZone(to, undefined, action);
      }
    }
    if (!(typeof port === "number" && port >= 1 && port <= 65535 && Number.isInteger(port))) {
      checkPort(port, sendAction(addr), false); // throws
    }
    if (cached === null) {
      if (address.isUnspecified()) {
        throw socketErrorToException("invalid_destination", sendAction(addr));
      }
      // Only text that names its address alone (no zone, not link-local)
      // is kept: what a zone means can change as interfaces come and go.
      if (typeof hostname === "string" && hostname.indexOf("%") < 0 && !address.isLinkLocal()) {
        this.#sendHost = hostname;
        this.#sendAddress = address;
      }
    }
    const err = this.#sock.send(p, address, port, scope);
    if (err !== undefined) throw socketErrorToException(err, sendAction(addr));
    return p.length;
  }
}

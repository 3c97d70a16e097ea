/**
 * The receive side of `DatagramConn`: the `receive()` calls waiting on a
 * socket (bounded by `MAX_WAITING_CALLS`), resolved synchronously from the
 * stack's receive path when a datagram or an ICMP error arrives, and the
 * `NetAddr` of each datagram's sender.
 *
 * @module
 */
import type { UdpSocket } from "../services.ts";
import type { IpAddress } from "../wire/ip_address.ts";
import { peerHostname } from "./address.ts";
import type { MulticastInterfaces } from "./multicast.ts";
import {
  closedError,
  MAX_WAITING_CALLS,
  socketErrorToException,
  tooManyWaiting,
} from "./errors.ts";

interface Waiter {
  readonly into: Uint8Array | undefined;
  readonly resolve: (v: [Uint8Array, Deno.NetAddr]) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Receives for one `DatagramConn` (internal): takes over the socket's
 * `onReadable`.
 *
 * @example
 * ```ts
 * import { createStack } from "../../mod.ts";
 * import { DatagramReceiver } from "./datagram_receive.ts";
 * import type { UdpService } from "../services.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * const sock = stack.service<UdpService>("udp.sockets")!.open({ port: 10 });
 * assert.ok(typeof sock !== "string");
 * const rx = new DatagramReceiver(sock);
 * const pending = rx.receive(undefined);
 * rx.close();
 * await assert.rejects(pending, Deno.errors.BadResource);
 * sock.close();
 * stack.close();
 * ```
 */
export class DatagramReceiver {
  readonly #sock: UdpSocket;
  readonly #waiters: Waiter[] = [];
  /** Closed by the user or by the stack: every operation rejects. */
  closed = false;
  /** Show IPv4 addresses IPv4-mapped (an IPv6 socket, or one bound to `::ffff:…`). */
  mapped: boolean;
  /** The stack's interfaces, for zone names of link-local senders. */
  interfaces: MulticastInterfaces | undefined;
  /** The sender `#lastHostname` shows, when that text has no zone (else null: rebuilt per datagram). */
  #lastAddress: IpAddress | null = null;
  #lastHostname = "";

  /** Receives from `sock` (an IPv6 socket shows IPv4 peers mapped). */
  constructor(sock: UdpSocket) {
    this.#sock = sock;
    this.mapped = sock.family === 6;
    sock.onReadable = () => this.#wake();
  }

  /** See `DatagramConn.receive` (`p` checked by the caller). */
  receive(p: Uint8Array | undefined): Promise<[Uint8Array, Deno.NetAddr]> {
    if (this.closed || this.#sock.closed) {
      return Promise.reject(closedError("Cannot receive"));
    }
    if (this.#waiters.length === 0) {
      const err = this.#sock.takeError();
      if (err !== undefined) return Promise.reject(socketErrorToException(err, "Cannot receive"));
      if (this.#sock.queued > 0) return Promise.resolve(this.#take(p));
    }
    if (this.#waiters.length >= MAX_WAITING_CALLS) {
      return Promise.reject(tooManyWaiting("Cannot receive"));
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ into: p, resolve, reject });
    });
  }

  #take(into: Uint8Array | undefined): [Uint8Array, Deno.NetAddr] {
    const sock = this.#sock;
    const buf = into ?? new Uint8Array(sock.nextLength());
    const n = sock.recv(buf);
    const a = sock.peerAddress;
    if (a !== this.#lastAddress) {
      const ifindex = sock.peerIfindex;
      const zone = ifindex < 0 || !a.isLinkLocal() || a.family !== 6
        ? ""
        : this.interfaces?.nameOf?.(ifindex) ?? String(ifindex);
      this.#lastAddress = zone === "" ? a : null;
      this.#lastHostname = peerHostname(a, this.mapped, zone);
    }
    const data = into === undefined ? buf : buf.subarray(0, n);
    return [data, { transport: "udp", hostname: this.#lastHostname, port: sock.peerPort }];
  }

  /** Called by the socket (synchronously, from the receive path). */
  #wake(): void {
    const sock = this.#sock;
    if (sock.closed) {
      this.closed = true;
      this.#rejectAll();
      return;
    }
    while (this.#waiters.length > 0) {
      const err = sock.takeError();
      if (err !== undefined) {
        this.#waiters.shift()!.reject(socketErrorToException(err, "Cannot receive"));
        continue;
      }
      if (sock.queued === 0) return;
      const w = this.#waiters.shift()!;
      w.resolve(this.#take(w.into));
    }
  }

  /** Marks the connection closed and rejects the waiting calls with `BadResource`. */
  close(): void {
    this.closed = true;
    this.#rejectAll();
  }

  #rejectAll(): void {
    for (const w of this.#waiters.splice(0)) {
      w.reject(closedError("Cannot receive"));
    }
  }
}

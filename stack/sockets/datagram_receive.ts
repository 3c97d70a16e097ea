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
  stackClosedError,
  tooManyWaiting,
} from "./errors.ts";

/** A datagram and its sender, as `receive()` resolves. */
type Received = [Uint8Array, Deno.NetAddr];

/** What the async iterator's `next()` resolves with. */
type Next = IteratorResult<Received, undefined>;

/**
 * Received datagrams up to this size are carved from a per-socket slab (a
 * view of a shared ArrayBuffer) rather than given an ArrayBuffer each: in
 * Deno every `new Uint8Array(n)` is an allocation outside V8's heap that
 * cost ~1 µs even at 64 bytes (issue 13: a third of the public echo's
 * time over the internal service's), a view of a slab ~0.1 µs.
 */
export const SLAB_DATAGRAM_MAX = 2048;

/** The first slab of a socket: a socket that hears a few datagrams keeps little. */
export const SLAB_FIRST_BYTES = 4096;

/** Slabs double as a socket keeps receiving, up to this (bounds what one retained view pins). */
export const SLAB_MAX_BYTES = 65536;

/** The end of iteration (one object: it is never changed). */
const DONE: Next = Object.freeze({ value: undefined, done: true });

/**
 * A waiting `receive()` (`iter` null: resolves with the datagram, rejects
 * with `Interrupted` on close) or iterator `next()` (resolves with an
 * iterator result, `DONE` on close; a rejection ends the iteration).
 */
interface Waiter {
  readonly into: Uint8Array | undefined;
  readonly iter: DatagramIterator | null;
  // deno-lint-ignore no-explicit-any
  readonly resolve: (v: any) => void;
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
 * await assert.rejects(pending, Deno.errors.Interrupted);
 * sock.close();
 * stack.close();
 * ```
 */
export class DatagramReceiver {
  readonly #sock: UdpSocket;
  readonly #waiters: Waiter[] = [];
  /** Closed by the user or by the stack: every operation rejects. */
  closed = false;
  /** The user closed it ({@linkcode close}); `closed` alone: the stack did. */
  #userClosed = false;
  /** Show IPv4 addresses IPv4-mapped (an IPv6 socket, or one bound to `::ffff:…`). */
  mapped: boolean;
  /** The stack's interfaces, for zone names of link-local senders. */
  interfaces: MulticastInterfaces | undefined;
  /** The sender `#lastHostname` shows, when that text has no zone (else null: rebuilt per datagram). */
  #lastAddress: IpAddress | null = null;
  #lastHostname = "";
  /**
   * Where received datagrams are carved from: regions are handed out once,
   * in order, and never reused (each returned array is the caller's); a
   * full slab is replaced and lives on only while views of it do.
   */
  #slab: ArrayBuffer | null = null;
  /** Bytes of `#slab` handed out (kept a multiple of 8: views start aligned). */
  #slabUsed = 0;
  /** The size of the last slab made (0: none yet); the next is twice it, up to the limit. */
  #slabBytes = 0;

  /** Receives from `sock` (an IPv6 socket shows IPv4 peers mapped). */
  constructor(sock: UdpSocket) {
    this.#sock = sock;
    this.mapped = sock.family === 6;
    sock.onReadable = () => this.#wake();
  }

  /** See `DatagramConn.receive` (`p` checked by the caller). */
  receive(p: Uint8Array | undefined): Promise<Received> {
    if (this.closed || this.#sock.closed) return Promise.reject(this.gone("Cannot receive")!);
    if (this.#waiters.length === 0) {
      const err = this.#sock.takeError();
      if (err !== undefined) return Promise.reject(socketErrorToException(err, "Cannot receive"));
      if (this.#sock.queued > 0) return Promise.resolve(this.#take(p));
    }
    if (this.#waiters.length >= MAX_WAITING_CALLS) {
      return Promise.reject(tooManyWaiting("Cannot receive"));
    }
    const { promise, resolve, reject } = Promise.withResolvers<Received>();
    this.#waiters.push({ into: p, iter: null, resolve, reject });
    return promise;
  }

  /**
   * The async iterator's `next()`: `receive()` without a promise chain of
   * an async generator around it (issue 13: `for await` over an
   * `async *` method took three promises and two microtask hops per
   * datagram more than this). Resolves with `DONE` once closed; rejects
   * with a pending ICMP error, as `receive()` does.
   */
  next(iter: DatagramIterator): Promise<Next> {
    if (this.closed || this.#sock.closed) {
      iter.done = true;
      return Promise.resolve(DONE);
    }
    if (this.#waiters.length === 0) {
      const err = this.#sock.takeError();
      if (err !== undefined) {
        iter.done = true;
        return Promise.reject(socketErrorToException(err, "Cannot receive"));
      }
      if (this.#sock.queued > 0) {
        return Promise.resolve({ value: this.#take(undefined), done: false });
      }
    }
    if (this.#waiters.length >= MAX_WAITING_CALLS) {
      iter.done = true;
      return Promise.reject(tooManyWaiting("Cannot receive"));
    }
    const { promise, resolve, reject } = Promise.withResolvers<Next>();
    this.#waiters.push({ into: undefined, iter, resolve, reject });
    return promise;
  }

  #take(into: Uint8Array | undefined): Received {
    const sock = this.#sock;
    const buf = into ?? this.#fresh(sock.nextLength());
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

  /** A new array of `n` bytes no one else holds: a slab region, or its own buffer when large. */
  #fresh(n: number): Uint8Array {
    if (n > SLAB_DATAGRAM_MAX) return new Uint8Array(n);
    let slab = this.#slab;
    let at = this.#slabUsed;
    // A slab the user detached (transferring a datagram's buffer) has
    // byteLength 0: no room, so a new one is made.
    const room = slab === null ? 0 : slab.byteLength - at;
    if (room < n || room === 0) {
      const size = this.#slabBytes === 0
        ? SLAB_FIRST_BYTES
        : Math.min(this.#slabBytes * 2, SLAB_MAX_BYTES);
      slab = this.#slab = new ArrayBuffer(size);
      this.#slabBytes = size;
      at = 0;
    }
    this.#slabUsed = (at + n + 7) & ~7;
    return new Uint8Array(slab!, at, n);
  }

  /**
   * The error for `action` once closed (else undefined): by the user,
   * "the socket is closed"; by the stack, "the stack is closed" (both
   * `BadResource`: errors.ts's rule for a call made after).
   */
  gone(action: string): Error | undefined {
    if (!this.closed && !this.#sock.closed) return undefined;
    return this.#userClosed ? closedError(action) : stackClosedError(action, false);
  }

  /** Called by the socket (synchronously, from the receive path). */
  #wake(): void {
    const sock = this.#sock;
    if (sock.closed) {
      // The user's close() takes onReadable away first: this is the stack closing it.
      this.closed = true;
      this.#rejectAll(stackClosedError("Cannot receive", true));
      return;
    }
    while (this.#waiters.length > 0) {
      const err = sock.takeError();
      if (err !== undefined) {
        const w = this.#waiters.shift()!;
        if (w.iter !== null) w.iter.done = true;
        w.reject(socketErrorToException(err, "Cannot receive"));
        continue;
      }
      if (sock.queued === 0) return;
      const w = this.#waiters.shift()!;
      const got = this.#take(w.into);
      w.resolve(w.iter !== null ? { value: got, done: false } : got);
    }
  }

  /** The user closed the connection: the waiting calls are cut short (`Interrupted`, as Deno's). */
  close(): void {
    this.closed = true;
    this.#userClosed = true;
    this.#rejectAll(closedError("Cannot receive", true));
  }

  /** Rejects the waiting `receive()` calls with `error`; ends the waiting iterations. */
  #rejectAll(error: Error): void {
    for (const w of this.#waiters.splice(0)) {
      if (w.iter !== null) {
        w.iter.done = true;
        w.resolve(DONE);
      } else w.reject(error);
    }
  }
}

/**
 * `for await` over a `DatagramConn` (internal; its `[Symbol.asyncIterator]`
 * makes one): yields `[data, addr]` per datagram, ends when the connection
 * closes, and, as an async generator would, is done after it rejects once
 * (an ICMP error) or after `return()` (a `break`).
 *
 * @example
 * ```ts
 * import { createStack } from "../../mod.ts";
 * import { DatagramIterator, DatagramReceiver } from "./datagram_receive.ts";
 * import type { UdpService } from "../services.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * const sock = stack.service<UdpService>("udp.sockets")!.open({ port: 10 });
 * assert.ok(typeof sock !== "string");
 * const rx = new DatagramReceiver(sock);
 * const it = new DatagramIterator(rx);
 * const pending = it.next();
 * rx.close();
 * assert.deepEqual(await pending, { value: undefined, done: true });
 * sock.close();
 * stack.close();
 * ```
 */
export class DatagramIterator implements AsyncIterableIterator<Received, undefined> {
  readonly #rx: DatagramReceiver;
  /** No more results: closed, rejected once, or returned. */
  done = false;

  /** Iterates `rx`'s datagrams. */
  constructor(rx: DatagramReceiver) {
    this.#rx = rx;
  }

  /** The next datagram, or `DONE`. */
  next(): Promise<Next> {
    return this.done ? Promise.resolve(DONE) : this.#rx.next(this);
  }

  /** Ends the iteration (`break` out of `for await`). */
  return(): Promise<Next> {
    this.done = true;
    return Promise.resolve(DONE);
  }

  /** Itself. */
  [Symbol.asyncIterator](): DatagramIterator {
    return this;
  }
}

/**
 * The IPv6 plugin's loopback path: packets to our own addresses (or ::1)
 * go back through receive from a bounded queue, not by recursion, so a
 * host talking to itself cannot grow the call stack.
 *
 * @module
 */
import type { Counter } from "../../counters.ts";
import type { PluginContext } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { ETHERTYPE_IPV6 } from "../../wire/ethernet.ts";

/** Packets waiting on the loopback path at most. */
export const IPV6_LOOPBACK_QUEUE_LIMIT = 1024;

/**
 * The loopback queue of one IPv6 plugin instance.
 *
 * @example
 * ```ts
 * import { Ipv6Loopback } from "./loopback.ts";
 * import assert from "node:assert/strict";
 * // Built by the IPv6 plugin with its counters `tx.loopback`, `tx.loopback_queue_full`.
 * assert.equal(typeof Ipv6Loopback, "function");
 * ```
 */
export class Ipv6Loopback {
  /** The packet being delivered right now: only it may carry ::1 (RFC 4291 §2.5.3). */
  looping: PacketBuffer | null = null;
  readonly #ctx: PluginContext;
  readonly #queue: PacketBuffer[] = [];
  readonly #sent: Counter;
  readonly #full: Counter;
  #draining = false;

  /** A queue delivering through `ctx`'s `ethertype` table, counting in `sent` and `full`. */
  constructor(ctx: PluginContext, sent: Counter, full: Counter) {
    this.#ctx = ctx;
    this.#sent = sent;
    this.#full = full;
  }

  /** Delivers `pkt` (an IPv6 packet at `start`) to ourselves on `iface`. Takes ownership. */
  deliver(pkt: PacketBuffer, iface: NetInterface): void {
    const q = this.#queue;
    if (q.length >= IPV6_LOOPBACK_QUEUE_LIMIT) {
      this.#full.value++;
      pkt.release();
      return;
    }
    this.#sent.value++;
    pkt.ifindex = iface.index;
    pkt.timestamp = this.#ctx.now();
    q.push(pkt);
    if (this.#draining) return;
    this.#draining = true; // a queue, not recursion
    try {
      for (let p = q.shift(); p !== undefined; p = q.shift()) {
        const i = this.#ctx.interfaces.get(p.ifindex) ?? iface;
        this.looping = p;
        this.#ctx.deliver(this.#ctx.table("ethertype"), ETHERTYPE_IPV6, p, i);
        this.looping = null;
        p.release();
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Drops what waits (teardown). */
  clear(): void {
    for (const p of this.#queue.splice(0)) p.release();
  }
}

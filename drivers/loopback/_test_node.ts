/**
 * A tiny deterministic endpoint for the loopback tests: sends scripted frames
 * at set times, records what it receives, and can echo it back.
 *
 * @module
 */
import type { Instant } from "../../stack/clock.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { NetworkNode, VirtualNetwork } from "./network.ts";

/** A frame seen by a {@linkcode TestEndpoint}. */
export interface Seen {
  readonly at: Instant;
  readonly bytes: Uint8Array;
}

/** Options of {@linkcode TestEndpoint}. */
export interface TestEndpointOptions {
  /** Send back every frame received (default false). */
  readonly echo?: boolean;
  /** Pool of the endpoint (default: its own). */
  readonly pool?: PacketPool;
  /** Interface index reported to the driver (default 0). */
  readonly ifindex?: number;
}

/** @internal A node that sends scripted frames and records (and maybe echoes) received ones. */
export class TestEndpoint implements NetworkNode, DriverPort {
  readonly pool: PacketPool;
  readonly ifindex: number;
  readonly received: Seen[] = [];
  readonly sent: Seen[] = [];
  readonly #net: VirtualNetwork;
  readonly #driver: LinkDriver;
  readonly #echo: boolean;
  /** Scripted sends, sorted by time (stable). */
  #script: Seen[] = [];
  #next = 0;
  #sorted = true;
  readonly #echoes: Uint8Array[] = [];

  constructor(net: VirtualNetwork, driver: LinkDriver, options: TestEndpointOptions = {}) {
    this.#net = net;
    this.#driver = driver;
    this.#echo = options.echo ?? false;
    this.pool = options.pool ?? new PacketPool();
    this.ifindex = options.ifindex ?? 0;
    driver.attach(this);
    net.addNode(this);
  }

  /** Scripts a frame with `bytes` to be sent at `at`. */
  sendAt(at: Instant, bytes: Uint8Array): void {
    const last = this.#script.at(-1);
    this.#script.push({ at, bytes });
    if (last !== undefined && last.at > at) this.#sorted = false;
  }

  #upcoming(): Seen | undefined {
    if (!this.#sorted) {
      // A stable sort: frames scripted for the same instant keep their order.
      this.#script = this.#script.slice(this.#next).sort((x, y) => x.at - y.at);
      this.#next = 0;
      this.#sorted = true;
    }
    return this.#script[this.#next];
  }

  /** Transmits `bytes` right now. */
  sendNow(bytes: Uint8Array): void {
    this.sent.push({ at: this.#net.now(), bytes: bytes.slice() });
    this.#driver.transmit(this.pool.copyOf(bytes));
  }

  now(): Instant {
    return this.#net.now();
  }

  receive(pkt: PacketBuffer): void {
    const bytes = pkt.data.slice(); // copy: retained past receive()
    this.received.push({ at: this.#net.now(), bytes });
    if (this.#echo) this.#echoes.push(bytes);
    pkt.release();
  }

  pollAt(now: Instant): Instant | undefined {
    if (this.#echoes.length > 0) return now;
    return this.#upcoming()?.at;
  }

  poll(now: Instant): void {
    for (const bytes of this.#echoes.splice(0)) this.sendNow(bytes);
    for (let s = this.#upcoming(); s !== undefined && s.at <= now; s = this.#upcoming()) {
      this.#next++;
      this.sendNow(s.bytes);
    }
  }
}

/** Hex of `bytes`, for readable assertions. */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

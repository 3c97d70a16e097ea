/**
 * What `Stack` sends on a user's behalf below the sockets: ICMP echo
 * (`ping`), traceroute probes, and whole IPv4 datagrams (`sendRawIpv4`).
 * Private to `stack.ts`, whose methods document the behaviour.
 *
 * @module
 */
import type { Dispatcher } from "./dispatcher.ts";
import type {
  EchoOptions,
  EchoReply,
  IcmpEchoService,
  Icmpv6EchoService,
  Ipv4Service,
} from "./services.ts";
import { Ipv4SendFlags } from "./services.ts";
import { parseIpv4Address } from "./wire/address.ts";
import { checkMillis, checkProbeOptions } from "./validate.ts";
import { MILLISECOND } from "./clock.ts";
import { NO_SOURCE } from "./ip/probe_table.ts";
import {
  ipv6Prober,
  type Ipv6Target,
  parseIpv6Target,
  type Prober,
  requireZone,
} from "./_stack_ipv6.ts";
import { tracePath } from "./_traceroute.ts";
import type { PingOptions, PingReply, TracerouteHop, TracerouteOptions } from "./_stack_types.ts";
import { needService } from "./_stack_need.ts";
import { checkFlag, stackClosedError } from "./sockets/errors.ts";

/** `ping` and `traceroute` of one stack, with the last IPv4 destination's prober kept. */
export class StackProbes {
  readonly #kernel: Dispatcher;
  /**
   * How to fail each call still waiting: once the stack is closed its
   * timers never run, so a probe's answer or time-out never comes.
   */
  readonly #waiting = new Set<() => void>();

  constructor(kernel: Dispatcher) {
    this.#kernel = kernel;
  }

  /** The stack is closed: every waiting ping and traceroute fails (`Deno.errors.Interrupted`). */
  close(): void {
    for (const stop of [...this.#waiting]) stop();
    this.#waiting.clear();
  }

  /** `settle`, failed with `Interrupted` if the stack closes first. */
  #untilClosed<T>(
    what: string,
    settle: (resolve: (v: T) => void, reject: (e: unknown) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const stop = () => reject(stackClosedError(`Cannot ${what}`, true));
      this.#waiting.add(stop);
      const fail = (e: unknown) => {
        this.#waiting.delete(stop);
        reject(e);
      };
      try {
        settle((v) => {
          this.#waiting.delete(stop);
          resolve(v);
        }, fail);
      } catch (e) {
        fail(e); // refused at once: nothing waits
      }
    });
  }

  /** `Stack.ping`. */
  ping(host: string, options: PingOptions): Promise<PingReply> {
    const p = this.#prober(host, "ping");
    if (p instanceof TypeError) return Promise.reject(p);
    let echo: EchoOptions;
    try {
      echo = echoOptions(options, `Cannot ping ${host}`);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#untilClosed(`ping ${host}`, (resolve, reject) => {
      p.echo(echo, (r) => {
        if (typeof r !== "string") resolve(pingReply(r));
        else if (r.startsWith("no reply")) reject(new Deno.errors.TimedOut(r));
        // As a datagram socket's send (Linux's EACCES): the caller's to allow.
        else if (r.endsWith(": broadcast not permitted")) {
          reject(new Deno.errors.PermissionDenied(`${r} (broadcast: true allows it)`));
        } else if (r.endsWith(NO_SOURCE)) reject(new Deno.errors.AddrNotAvailable(r));
        else reject(new Deno.errors.NetworkUnreachable(r));
      });
    });
  }

  /** `Stack.traceroute`. */
  async traceroute(host: string, options: TracerouteOptions): Promise<TracerouteHop[]> {
    const p = this.#prober(host, "traceroute");
    if (p instanceof TypeError) throw p;
    return await this.#untilClosed<TracerouteHop[]>(
      `traceroute ${host}`,
      (resolve, reject) => tracePath(p, host, options).then(resolve, reject),
    );
  }

  /** The IPv4 text `#prober` last parsed, and its prober (issue 13: `ping(host)` in a loop). */
  #probedHost = "";
  #probedV4: Prober | null = null;

  /** How to probe `host` (IPv4, or IPv6 with perhaps a zone); a TypeError when it is neither. */
  #prober(host: string, what: string): Prober | TypeError {
    // Only IPv4 text is kept: what an IPv6 zone names changes with the interfaces.
    if (host === this.#probedHost && this.#probedV4 !== null) return this.#probedV4;
    let v6: Ipv6Target | null;
    try {
      v6 = parseIpv6Target(host, this.#kernel.interfaces, `Cannot ${what} "${host}"`);
      if (v6 !== null) requireZone(v6, `Cannot ${what} "${host}"`);
    } catch (e) {
      return e as TypeError;
    }
    if (v6 !== null) {
      return ipv6Prober(needService<Icmpv6EchoService>(this.#kernel, "icmpv6.echo", what), v6);
    }
    const echo = needService<IcmpEchoService>(this.#kernel, "icmp.echo", what);
    const dst = parseIpv4Address(host);
    if (dst === null) return new TypeError(`Cannot ${what} "${host}": not an IPv4 or IPv6 address`);
    this.#probedHost = host;
    return this.#probedV4 = {
      target: host,
      unreachable: 3,
      echo: (o, done) => echo.echo(dst, o, done),
      probe: (o, done) => echo.probe(dst, o, done),
    };
  }
}

/** `Stack.ping`'s options (ms) checked and turned into the echo service's (µs). */
function echoOptions(o: PingOptions, action: string): EchoOptions {
  checkProbeOptions(o, action);
  checkFlag(o.dontFragment, "dontFragment", action);
  checkFlag(o.broadcast, "broadcast", action);
  if (o.timeout === undefined) return o;
  return { ...o, timeout: checkMillis(o.timeout, action, "timeout") };
}

/** The echo service's reply (rtt in µs) as `Stack.ping` gives it (rtt in ms). */
function pingReply(r: EchoReply): PingReply {
  return {
    sequence: r.sequence,
    rtt: r.rtt / MILLISECOND,
    from: r.from,
    ttl: r.ttl,
    bytes: r.bytes,
  };
}

/** `Stack.sendRawIpv4`: `packet` is copied, then sent with the header included. */
export function sendRawIpv4(kernel: Dispatcher, packet: Uint8Array): void {
  const ipv4 = needService<Ipv4Service>(kernel, "ipv4.send", "send a raw IPv4 packet");
  if (!(packet instanceof Uint8Array)) {
    throw new TypeError("Cannot send a raw IPv4 packet: expected a Uint8Array");
  }
  const pkt = kernel.pool.copyOf(packet);
  let err: string | undefined;
  try {
    err = ipv4.send(pkt, 0, 0, 0, 0, Ipv4SendFlags.HEADER_INCLUDED);
  } catch (e) {
    pkt.release(); // refused before anything was done: still ours
    throw e;
  }
  if (err !== undefined) {
    throw new Deno.errors.NetworkUnreachable(
      `Cannot send a raw IPv4 packet: ${err.replaceAll("_", " ")}`,
    );
  }
}

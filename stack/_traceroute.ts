/**
 * The probe loop of `Stack.traceroute`: one probe per TTL until the
 * destination (or an unreachable) answers or `maxHops` is reached.
 *
 * @module
 */
import type { ProbeResult } from "./services.ts";
import type { Prober } from "./_stack_ipv6.ts";
import type { TracerouteHop, TracerouteOptions } from "./_stack_types.ts";
import { checkInteger, checkMillis, checkProbeOptions } from "./validate.ts";
import { MILLISECOND } from "./clock.ts";
import { NO_SOURCE } from "./ip/probe_table.ts";

/**
 * Traces the path to `host` through `p` (see `Stack.traceroute`).
 *
 * @throws {TypeError | RangeError} Bad options.
 * @throws {Deno.errors.NetworkUnreachable} When a probe cannot be sent (no route).
 * @throws {Deno.errors.AddrNotAvailable} When a route exists but no source address is usable.
 */
export async function tracePath(
  p: Prober,
  host: string,
  options: TracerouteOptions,
): Promise<TracerouteHop[]> {
  const action = `Cannot traceroute ${host}`;
  const protocol = options.protocol ?? "udp";
  if (protocol !== "udp" && protocol !== "icmp") {
    throw new TypeError(`${action}: protocol "${protocol}" is not "udp" or "icmp"`);
  }
  const maxHops = checkInteger(options.maxHops ?? 30, 1, 255, action, "maxHops");
  checkInteger(options.firstHop ?? 1, 1, maxHops, action, "firstHop");
  checkProbeOptions({ ...options, ttl: maxHops }, action);
  const timeout = options.timeout === undefined
    ? undefined
    : checkMillis(options.timeout, action, "timeout"); // µs, the echo service's unit
  const hops: TracerouteHop[] = [];
  for (let ttl = options.firstHop ?? 1; ttl <= (options.maxHops ?? 30); ttl++) {
    const r = await new Promise<ProbeResult>((resolve) =>
      p.probe({
        protocol,
        ttl,
        ...(timeout !== undefined ? { timeout } : {}),
        ...(options.size !== undefined ? { size: options.size } : {}),
      }, resolve)
    );
    if (r.kind === "unsent" && r.reason === "addr_not_available") {
      throw new Deno.errors.AddrNotAvailable(`Cannot traceroute ${host}: ${NO_SOURCE}`);
    }
    if (r.kind === "unsent") {
      throw new Deno.errors.NetworkUnreachable(
        `Cannot traceroute ${host}: ${(r.reason ?? "").replaceAll("_", " ")}`,
      );
    }
    if (r.kind === "timeout") {
      hops.push({ ttl, reached: false });
      continue;
    }
    // The destination answers with an echo reply or a port/protocol
    // unreachable; any other unreachable (!N, !H in traceroute) ends it too.
    const reached = r.kind === "reply" || r.from === p.target;
    hops.push({ ttl, from: r.from, rtt: r.rtt / MILLISECOND, type: r.type, code: r.code, reached });
    if (reached || r.type === p.unreachable) break; // any unreachable ends it (!N, !H)
  }
  return hops;
}

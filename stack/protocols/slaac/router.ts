/**
 * Router mode (RFC 4861 §6.2): Router Advertisements for the configured
 * prefixes on an advertising interface, unsolicited at a random interval
 * in [MinRtrAdvInterval, MaxRtrAdvInterval] (the first few at most 16 s
 * apart), and in answer to Router Solicitations after a random delay of up
 * to 500 ms, never two multicast RAs within 3 s. Always to ff02::1 from our
 * link-local address, with hop limit 255.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { RxVerdict } from "../../manifest.ts";
import { CONSUMED } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import { validateNdp } from "../../wire/icmpv6_ndp.ts";
import { SECOND } from "./config.ts";
import { learnSender, usable } from "./host.ts";
import type { Link, SlaacEnv } from "./link.ts";
import { ALL_NODES, buildRouterAdvertisement } from "./messages.ts";

/** RFC 4861 §10: MAX_INITIAL_RTR_ADVERT_INTERVAL. */
export const MAX_INITIAL_RTR_ADVERT_INTERVAL = 16 * SECOND;
/** RFC 4861 §10: MAX_INITIAL_RTR_ADVERTISEMENTS. */
export const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
/** RFC 4861 §10: MAX_RA_DELAY_TIME. */
export const MAX_RA_DELAY_TIME = 500_000;
/** RFC 4861 §10: MIN_DELAY_BETWEEN_RAS. */
export const MIN_DELAY_BETWEEN_RAS = 3 * SECOND;

/**
 * Makes `link` an advertising interface: ff02::2 becomes ours there, and
 * the first RA leaves soon after its link-local address is usable.
 */
export function startAdvertising(env: SlaacEnv, link: Link): void {
  env.routes.setLinkParameters(link.iface.index, { router: true });
  link.solicitTimer.cancel();
  link.initialAdvertisements = MAX_INITIAL_RTR_ADVERTISEMENTS;
  link.lastAdvertisement = -Infinity;
  linkLocalReady(env, link);
}

/** The link-local address may have become usable: schedule the first RA if none is. */
export function linkLocalReady(env: SlaacEnv, link: Link): void {
  if (link.advertised.length === 0 || !link.iface.up || !usable(link, link.linkLocal)) return;
  if (link.advertiseTimer.armed) return;
  schedule(link, env.ctx.now() + env.ctx.rng.range(0, MAX_RA_DELAY_TIME));
}

/**
 * Stops advertising on `link`: a last RA with Router Lifetime 0 tells
 * hosts we are no longer a default router (RFC 4861 §6.2.5).
 */
export function stopAdvertising(env: SlaacEnv, link: Link): void {
  if (link.advertised.length === 0) return;
  link.advertiseTimer.cancel();
  if (link.iface.up) send(env, link, 0);
  link.advertised = [];
  env.routes.setLinkParameters(link.iface.index, { router: false });
}

function schedule(link: Link, at: Instant): void {
  // MIN_DELAY_BETWEEN_RAS (§6.2.6): a multicast RA at most every 3 s.
  const earliest = link.lastAdvertisement + MIN_DELAY_BETWEEN_RAS;
  link.advertiseTimer.armEarlier(Math.max(at, earliest));
}

/** The advertise timer fired: send, then schedule the next unsolicited one (§6.2.4). */
export function advertise(env: SlaacEnv, link: Link, now: Instant): void {
  if (link.advertised.length === 0 || !link.iface.up) return;
  if (!send(env, link, env.config.routerLifetime)) return; // re-armed when the address is ready
  link.lastAdvertisement = now;
  let interval = env.ctx.rng.range(env.config.minRtrAdvInterval, env.config.maxRtrAdvInterval);
  if (link.initialAdvertisements > 0) {
    link.initialAdvertisements--;
    interval = Math.min(interval, MAX_INITIAL_RTR_ADVERT_INTERVAL);
  }
  link.advertiseTimer.arm(now + interval);
}

/**
 * How many Prefix Information options an RA may carry: at most `max`, and
 * no more than fit in one packet of the link's MTU (header, fixed part,
 * MTU and SLLA options: an RA is never fragmented).
 *
 * @example
 * ```ts
 * import { prefixesThatFit } from "./router.ts";
 * import assert from "node:assert/strict";
 * assert.equal(prefixesThatFit(16, 1500), 16);
 * assert.equal(prefixesThatFit(1024, 1280), 37);
 * ```
 */
export function prefixesThatFit(max: number, mtu: number): number {
  return Math.min(max, Math.floor((Math.max(mtu, 1280) - 40 - 16 - 16) / 32));
}

/** Sends one RA with `routerLifetime`; false when there is no usable link-local source. */
function send(env: SlaacEnv, link: Link, routerLifetime: number): boolean {
  const ll = link.linkLocal;
  if (ll === null || !usable(link, ll)) {
    env.c.noLinkLocal.value++; // RFC 4861 §6.1.2: an RA's source must be link-local
    return false;
  }
  const cfg = env.config;
  const iface = link.iface;
  const mtu = cfg.advertiseMtu === -1 ? 0 : cfg.advertiseMtu === 0 ? iface.mtu : cfg.advertiseMtu;
  const pkt = buildRouterAdvertisement(env.ctx.pool, ll.key, ALL_NODES, {
    hopLimit: cfg.advertiseHopLimit,
    routerLifetime,
    mac: iface.mac,
    mtu,
    prefixes: link.advertised.slice(0, prefixesThatFit(cfg.maxPrefixes, iface.mtu)).map((p) => ({ // copy: a few prefixes, not per packet
      prefix: p.prefix,
      length: p.length,
      validLifetime: cfg.validLifetime,
      preferredLifetime: cfg.preferredLifetime,
    })),
  });
  env.c.advertisementsOut.value++;
  env.ctx.linkOutput(iface.index, 6, ALL_NODES, pkt);
  return true;
}

/**
 * A Router Solicitation on `link`: validated (RFC 4861 §6.1.1); on an
 * advertising interface, answered with a multicast RA after a random delay
 * of up to MAX_RA_DELAY_TIME (§6.2.6), unless one is due sooner. Borrows
 * `pkt`.
 */
export function receiveSolicitation(env: SlaacEnv, link: Link, pkt: PacketBuffer): RxVerdict {
  const problem = validateNdp(pkt.buf, pkt.l3, pkt.start, pkt.end);
  if (problem !== null) return problem;
  if (link.advertised.length === 0 || !link.iface.up) return "rs_ignored";
  env.c.solicitationsIn.value++;
  // §6.2.6: the soliciting host's link address, STALE, and not a router.
  learnSender(env, link, pkt, pkt.start + 8, false);
  if (!usable(link, link.linkLocal)) return CONSUMED; // the first RA follows DAD anyway
  schedule(link, env.ctx.now() + env.ctx.rng.range(0, MAX_RA_DELAY_TIME));
  return CONSUMED;
}

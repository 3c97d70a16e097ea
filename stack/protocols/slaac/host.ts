/**
 * The host side: the link-local address (RFC 4862 §5.3), Router
 * Solicitation (RFC 4861 §6.3.7), Router Advertisement processing (RFC
 * 4861 §6.3.4: default routers, on-link prefixes, MTU, hop limit, timers)
 * and stateless address autoconfiguration (RFC 4862 §5.5.3, with the
 * two-hour rule), lifetimes kept on the stack's clock (§5.5.4), and new
 * stable-privacy addresses after DAD failures (RFC 7217 §6).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { RxVerdict } from "../../manifest.ts";
import { CONSUMED } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import { type IpKey, ipKeyAt, isLinkLocalKey } from "../../wire/ip_address.ts";
import { isUsableIpv6 } from "../../netif.ts";
import {
  isPrefixInformation,
  mtuOptionValue,
  ndpFindNextOption,
  ndpFindOption,
  NdpOptionType,
  PrefixInformationFlags,
  prefixInformationFlags,
  prefixInformationLength,
  prefixInformationPreferredLifetime,
  prefixInformationPrefixKey,
  prefixInformationValidLifetime,
  routerAdvertisementHopLimit,
  routerAdvertisementLifetime,
  routerAdvertisementReachableTime,
  routerAdvertisementRetransTimer,
  validateNdp,
} from "../../wire/icmpv6_ndp.ts";
import { LINK_LOCAL_PREFIX } from "../../wire/ipv6_interface_id.ts";
import { maskIpv6 } from "../../wire/ipv6_scope.ts";
import { SECOND } from "./config.ts";
import {
  type LearnedPrefix,
  type Link,
  type OwnedAddress,
  ownedAddress,
  prefixId,
  rekey,
  type SlaacEnv,
} from "./link.ts";
import { ALL_ROUTERS, buildRouterSolicitation, UNSPECIFIED } from "./messages.ts";

/** RFC 4862 §5.5.3 (e): a Valid Lifetime an unauthenticated RA cannot shorten below. */
export const TWO_HOURS = 7200 * SECOND;
/** Metric of default routes from RAs (Linux's). */
export const DEFAULT_ROUTE_METRIC = 1024;
/** Metric of on-link prefix routes from RAs (Linux's; the same as a connected route, which it replaces). */
export const PREFIX_ROUTE_METRIC = 256;
const INFINITE = 0xffffffff;

/** An instant `seconds` (a lifetime field) from `now`; Infinity for 0xffffffff. */
export function lifetimeEnd(now: Instant, seconds: number): Instant {
  return seconds === INFINITE ? Infinity : now + seconds * SECOND;
}

/** Whether `a` is usable (preferred or deprecated) on `link`'s interface now. */
export function usable(link: Link, a: OwnedAddress | null): boolean {
  if (a === null) return false;
  const s = link.iface.ipv6Address(a.bytes)?.state;
  return s === "preferred" || s === "deprecated";
}

/**
 * The first usable link-local address on `link`'s interface (ours or the
 * user's), or null while every one is tentative or duplicate.
 */
export function linkLocalSource(link: Link): IpKey | null {
  for (const a of link.iface.ipv6) {
    if (a.address[0] === 0xfe && (a.address[1]! & 0xc0) === 0x80 && isUsableIpv6(a)) {
      return ipKeyAt(a.address, 0, 6);
    }
  }
  return null;
}

/**
 * A link-local address of `link` may have passed DAD: the first time since
 * the link came up, the held SLAAC addresses go to DAD and Router
 * Solicitation starts (RFC 4862 §5.4: the link-local address first; §5.5.1:
 * then the RS). Returns whether the link became ready now.
 */
export function markLinkLocalReady(env: SlaacEnv, link: Link): boolean {
  if (link.linkLocalReady || !link.iface.up || linkLocalSource(link) === null) return false;
  link.linkLocalReady = true;
  for (const [id, p] of link.prefixes) {
    const a = p.address;
    if (a === null || !a.held) continue;
    a.held = false;
    if (!addTentative(env, link, a)) {
      p.address = null; // configured meanwhile by someone else
      if (p.onLinkUntil === 0) link.prefixes.delete(id);
    }
  }
  return true;
}

/** Forms the link-local address of `link` (tentative: DAD is the ndp plugin's). */
export function formLinkLocal(env: SlaacEnv, link: Link): void {
  if (link.linkLocal !== null) return;
  const key = env.ids.address(LINK_LOCAL_PREFIX, link.iface.name, link.iface.mac, 0);
  if (key === null) {
    env.c.noInterfaceId.value++;
    return;
  }
  const a = ownedAddress(key, LINK_LOCAL_PREFIX, "link-local", {
    validUntil: Infinity,
    preferredUntil: Infinity,
  });
  link.linkLocal = a;
  if (!addTentative(env, link, a)) link.linkLocal = null;
}

function addTentative(env: SlaacEnv, link: Link, a: OwnedAddress): boolean {
  const ok = env.ctx.addAddress(link.iface.index, a.cidr, {
    state: "tentative",
    origin: a.origin,
    validUntil: a.validUntil,
    preferredUntil: a.preferredUntil,
  });
  if (ok) env.c.addressesFormed.value++;
  return ok;
}

/**
 * Starts soliciting routers: the first RS after a random delay (RFC 4861
 * §6.3.7), once a link-local address passed DAD (RFC 4862 §5.5.1, as
 * Linux's addrconf_dad_completed); not on a link whose link-local address
 * is a duplicate (§5.4.5).
 */
export function startSolicitation(env: SlaacEnv, link: Link): void {
  link.solicitations = 0;
  link.heardRouter = false;
  if (
    !env.config.acceptRa || link.advertised.length > 0 || env.config.routerSolicitations === 0 ||
    !link.linkLocalReady || link.autoconfStopped
  ) {
    link.solicitTimer.cancel();
    return;
  }
  const delay = env.ctx.rng.range(0, env.config.routerSolicitationDelay);
  link.solicitTimer.arm(env.ctx.now() + delay);
}

/** The solicit timer fired: one RS, then the next at the interval, up to the limit. */
export function solicit(env: SlaacEnv, link: Link, now: Instant): void {
  if (!link.iface.up || link.heardRouter || link.advertised.length > 0) return;
  if (link.solicitations >= env.config.routerSolicitations) return;
  const source = linkLocalSource(link);
  if (source === null) {
    env.c.noLinkLocal.value++; // removed since it passed DAD
    return;
  }
  const pkt = buildRouterSolicitation(env.ctx.pool, source, link.iface.mac);
  link.solicitations++;
  env.c.solicitationsOut.value++;
  env.ctx.linkOutput(link.iface.index, 6, ALL_ROUTERS, pkt);
  if (link.solicitations < env.config.routerSolicitations) {
    link.solicitTimer.arm(now + env.config.routerSolicitationInterval);
  }
}

/** Reasons {@linkcode receiveAdvertisement} drops a whole RA for. */
export type AdvertisementDrop = ReturnType<typeof validateNdp> | "ra_ignored";

/**
 * A Router Advertisement on `link` (`pkt.start` at the ICMPv6 header,
 * checksum verified): validated (RFC 4861 §6.1.2), then applied. Borrows
 * `pkt`.
 */
export function receiveAdvertisement(env: SlaacEnv, link: Link, pkt: PacketBuffer): RxVerdict {
  const b = pkt.buf;
  const off = pkt.start;
  const end = pkt.end;
  const problem = validateNdp(b, pkt.l3, off, end);
  if (problem !== null) return problem;
  // The sender is a router, at the SLLA option's address (RFC 4861 §6.3.4);
  // learned even where RAs configure nothing, as Linux does.
  learnSender(env, link, pkt, off + 16, true);
  // Routers do not configure themselves from other routers' RAs (RFC 4861 §6.2.7).
  if (!env.config.acceptRa || link.advertised.length > 0) return "ra_ignored";
  env.c.advertisementsIn.value++;
  const now = env.ctx.now();
  const ifindex = link.iface.index;
  const hopLimit = routerAdvertisementHopLimit(b, off);
  if (hopLimit !== 0) env.routes.setLinkParameters(ifindex, { hopLimit });
  learnTimers(
    env,
    link,
    routerAdvertisementReachableTime(b, off),
    routerAdvertisementRetransTimer(b, off),
  );
  learnRouter(env, link, pkt.srcKey(), routerAdvertisementLifetime(b, off), now);
  const opts = off + 16;
  const mtuAt = ndpFindOption(b, opts, end, NdpOptionType.MTU);
  if (mtuAt >= 0) {
    const mtu = mtuOptionValue(b, mtuAt);
    // RFC 4861 §6.3.4: a value the link cannot carry, or below IPv6's minimum, is ignored.
    if (b[mtuAt + 1] !== 1 || mtu < 1280 || mtu > link.iface.mtu) env.c.badMtuOption.value++;
    else env.routes.setLinkParameters(ifindex, { mtu });
  }
  for (
    let at = ndpFindOption(b, opts, end, NdpOptionType.PREFIX_INFORMATION);
    at >= 0;
    at = ndpFindNextOption(b, at, end, NdpOptionType.PREFIX_INFORMATION)
  ) {
    if (!isPrefixInformation(b, at)) env.c.badPrefixOption.value++;
    else learnPrefix(env, link, b, at, now);
  }
  env.rearmLifetimes();
  return CONSUMED;
}

/** RFC 4861 §6.2.1: MAX_REACHABLE_TIME (ms); a larger Reachable Time is ignored. */
const MAX_REACHABLE_TIME = 3_600_000;

function learnTimers(env: SlaacEnv, link: Link, reachable: number, retrans: number): void {
  if (reachable > MAX_REACHABLE_TIME) {
    env.c.badReachableTime.value++;
    reachable = 0;
  }
  if (reachable === 0 && retrans === 0) return;
  if (reachable !== 0) link.reachableTime = reachable;
  if (retrans !== 0) link.retransTimer = retrans;
  if (env.neighbors === undefined) {
    env.c.timersUnused.value++;
    return;
  }
  env.neighbors.setLinkTimers(link.iface.index, {
    ...(reachable !== 0 ? { reachableTime: reachable * 1000 } : {}),
    ...(retrans !== 0 ? { retransTimer: retrans * 1000 } : {}),
  });
}

/**
 * Hands the sender of a valid RA (`isRouter`) or RS and its Source
 * Link-Layer Address option (options from `opts`) to the neighbour cache
 * (RFC 4861 §6.3.4, §6.2.6). Nothing without the NDP plugin, or from `::`.
 */
export function learnSender(
  env: SlaacEnv,
  link: Link,
  pkt: PacketBuffer,
  opts: number,
  isRouter: boolean,
): void {
  if (env.neighbors === undefined) return;
  const b = pkt.buf;
  const at = ndpFindOption(b, opts, pkt.end, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS);
  // An option too short for an Ethernet address (length 1 holds 6 bytes) is not one.
  const mac = at >= 0 && (b[at + 1]! << 3) - 2 >= 6 ? b.subarray(at + 2, at + 8) : null;
  env.neighbors.learnRouterDiscovery(link.iface.index, { address: pkt.srcKey(), mac, isRouter });
}

function learnRouter(
  env: SlaacEnv,
  link: Link,
  address: IpKey,
  lifetime: number,
  now: Instant,
): void {
  const ifindex = link.iface.index;
  const known = link.routers.get(address);
  if (lifetime === 0) {
    // RFC 4861 §6.3.4: a zero Router Lifetime times the entry out at once.
    if (known !== undefined) {
      link.routers.delete(address);
      env.routes.remove(UNSPECIFIED, 0, address, ifindex);
    }
    return;
  }
  link.heardRouter = true;
  link.solicitTimer.cancel();
  if (known === undefined && link.routers.size >= env.config.maxRouters) {
    env.c.tooManyRouters.value++;
    return;
  }
  const expires = now + lifetime * SECOND;
  const added = env.routes.add({
    destination: UNSPECIFIED,
    prefixLength: 0,
    gateway: address,
    ifindex,
    metric: DEFAULT_ROUTE_METRIC,
    origin: "ra",
    expires,
  });
  if (!added) {
    env.c.routeTableFull.value++;
    return;
  }
  if (known !== undefined) known.expires = expires;
  else link.routers.set(address, { address, expires });
}

/** One Prefix Information option at `at` (well-formed). */
function learnPrefix(env: SlaacEnv, link: Link, b: Uint8Array, at: number, now: Instant): void {
  const length = prefixInformationLength(b, at);
  const prefix = maskIpv6(prefixInformationPrefixKey(b, at), length);
  if (isLinkLocalKey(prefix)) {
    env.c.prefixLinkLocal.value++; // RFC 4861 §6.3.4, RFC 4862 §5.5.3 (b)
    return;
  }
  const flags = prefixInformationFlags(b, at);
  const valid = prefixInformationValidLifetime(b, at);
  const preferred = prefixInformationPreferredLifetime(b, at);
  const onLink = (flags & PrefixInformationFlags.ON_LINK) !== 0;
  const autonomous = env.config.autoconf && (flags & PrefixInformationFlags.AUTONOMOUS) !== 0;
  const id = prefixId(prefix, length);
  let p = link.prefixes.get(id);
  if (p === undefined) {
    if (valid === 0 || (!onLink && !autonomous)) return;
    if (link.prefixes.size >= env.config.maxPrefixes) {
      env.c.tooManyPrefixes.value++;
      return;
    }
    p = { prefix, length, onLinkUntil: 0, address: null };
    link.prefixes.set(id, p);
  }
  if (onLink) learnOnLink(env, link, p, valid, now);
  if (autonomous) autoconfigure(env, link, p, valid, preferred, now);
  if (p.onLinkUntil === 0 && p.address === null) link.prefixes.delete(id);
}

function learnOnLink(
  env: SlaacEnv,
  link: Link,
  p: LearnedPrefix,
  valid: number,
  now: Instant,
): void {
  const ifindex = link.iface.index;
  if (valid === 0) {
    if (p.onLinkUntil !== 0) env.routes.remove(p.prefix, p.length, UNSPECIFIED, ifindex);
    p.onLinkUntil = 0;
    return;
  }
  p.onLinkUntil = lifetimeEnd(now, valid);
  if (!addPrefixRoute(env, link, p)) {
    env.c.routeTableFull.value++;
    p.onLinkUntil = 0;
  }
}

/** Adds (or refreshes) the on-link route of `p`; false when the table is full. */
export function addPrefixRoute(env: SlaacEnv, link: Link, p: LearnedPrefix): boolean {
  return env.routes.add({
    destination: p.prefix,
    prefixLength: p.length,
    gateway: UNSPECIFIED,
    ifindex: link.iface.index,
    metric: PREFIX_ROUTE_METRIC,
    origin: "ra",
    expires: p.onLinkUntil === Infinity ? 0 : p.onLinkUntil,
  });
}

/** RFC 4862 §5.5.3 (c) to (e) for an autonomous prefix. */
function autoconfigure(
  env: SlaacEnv,
  link: Link,
  p: LearnedPrefix,
  valid: number,
  preferred: number,
  now: Instant,
): void {
  if (preferred > valid) {
    env.c.prefixBadLifetimes.value++; // (c)
    return;
  }
  if (p.length !== 64) {
    // (d): prefix and identifier must make 128 bits; ours are 64 (RFC 4291 §2.5.1).
    env.c.prefixBadLength.value++;
    return;
  }
  const a = p.address;
  if (a === null) {
    if (valid === 0) return;
    if (link.autoconfStopped) {
      env.c.autoconfStopped.value++; // RFC 4862 §5.4.5: the link-local address is a duplicate
      return;
    }
    const key = env.ids.address(p.prefix, link.iface.name, link.iface.mac, 0);
    if (key === null) {
      env.c.noInterfaceId.value++;
      return;
    }
    const fresh = ownedAddress(key, p.prefix, "autoconf", {
      validUntil: lifetimeEnd(now, valid),
      preferredUntil: lifetimeEnd(now, preferred),
    });
    p.address = fresh;
    if (!link.linkLocalReady) {
      // RFC 4862 §5.4: its DAD waits for the link-local address's.
      fresh.held = true;
      env.c.addressesHeld.value++;
      return;
    }
    if (!addTentative(env, link, fresh)) p.address = null; // already configured by someone else
    return;
  }
  // (e): preferred lifetime as received; valid lifetime by the two-hour rule.
  a.preferredUntil = lifetimeEnd(now, preferred);
  const received = lifetimeEnd(now, valid);
  const remaining = a.validUntil - now;
  if (valid * SECOND > TWO_HOURS || received > a.validUntil) a.validUntil = received;
  else if (remaining > TWO_HOURS) a.validUntil = now + TWO_HOURS;
  syncLifetimes(env, link, a, now);
}

/** Copies `a`'s lifetimes to the interface's entry and fixes its state (preferred/deprecated). */
function syncLifetimes(env: SlaacEnv, link: Link, a: OwnedAddress, now: Instant): void {
  const entry = link.iface.ipv6Address(a.bytes);
  if (entry === undefined) return;
  entry.validUntil = a.validUntil;
  entry.preferredUntil = a.preferredUntil;
  if (entry.state === "deprecated" && a.preferredUntil > now) {
    env.ctx.setAddressState(link.iface.index, a.bytes, "preferred");
  } else if (entry.state === "preferred" && a.preferredUntil <= now) {
    env.c.addressesDeprecated.value++;
    env.ctx.setAddressState(link.iface.index, a.bytes, "deprecated");
  }
}

/**
 * Lifetimes due at `now` on `link`: addresses deprecated (preferred
 * lifetime over) or removed (valid lifetime over), prefixes and routers
 * forgotten (their routes the ipv6 plugin expires itself). Returns the
 * next instant something is due there, or Infinity.
 */
export function expireLifetimes(env: SlaacEnv, link: Link, now: Instant): Instant {
  let next = Infinity;
  for (const [id, p] of link.prefixes) {
    const a = p.address;
    if (a !== null) {
      if (a.validUntil <= now) {
        p.address = null;
        env.c.addressesExpired.value++;
        if (!a.held) env.ctx.removeAddress(link.iface.index, a.cidr);
      } else {
        syncLifetimes(env, link, a, now);
        next = Math.min(next, a.validUntil);
        if (a.preferredUntil > now) next = Math.min(next, a.preferredUntil);
      }
    }
    if (p.onLinkUntil !== 0 && p.onLinkUntil <= now) p.onLinkUntil = 0;
    if (p.onLinkUntil !== 0) next = Math.min(next, p.onLinkUntil);
    if (p.onLinkUntil === 0 && p.address === null) link.prefixes.delete(id);
  }
  for (const [key, r] of link.routers) {
    if (r.expires <= now) link.routers.delete(key);
    else next = Math.min(next, r.expires);
  }
  return next;
}

/** The owned address of `link` whose key is `key`, if any. */
export function ownedBy(link: Link, key: IpKey): OwnedAddress | null {
  if (link.linkLocal?.key === key) return link.linkLocal;
  for (const p of link.prefixes.values()) if (p.address?.key === key) return p.address;
  return null;
}

/**
 * DAD failed for `a` (the ndp plugin set it `duplicate`): logged and
 * counted; a stable-privacy address is replaced by the next DAD_Counter's
 * (RFC 7217 §6) up to `idgenRetries` times; otherwise it stays, unused and
 * visible as duplicate.
 */
export function dadFailed(env: SlaacEnv, link: Link, a: OwnedAddress): void {
  env.c.dadFailed.value++;
  env.ctx.log.warn(`${link.iface.name}: ${a.cidr} is a duplicate (DAD failed)`);
  if (env.ids.mode !== "stable-privacy" || a.dadCounter >= env.config.idgenRetries) {
    if (a === link.linkLocal && linkLocalSource(link) === null) stopAutoconf(env, link);
    return;
  }
  const key = env.ids.address(a.prefix, link.iface.name, link.iface.mac, a.dadCounter + 1);
  if (key === null) return;
  const old = a.cidr;
  a.dadCounter++;
  rekey(a, key); // first: the removal below is then not taken for the user's
  env.ctx.removeAddress(link.iface.index, old);
  env.c.dadRetries.value++;
  if (!addTentative(env, link, a)) forget(link, a);
}

/** Forgets `a` (removed by someone else). */
export function forget(link: Link, a: OwnedAddress): void {
  if (link.linkLocal === a) {
    link.linkLocal = null;
    return;
  }
  for (const [id, p] of link.prefixes) {
    if (p.address === a) {
      p.address = null;
      if (p.onLinkUntil === 0) link.prefixes.delete(id);
    }
  }
}

/**
 * RFC 4862 §5.4.5: the link-local address is a duplicate and no other is
 * usable, so autoconfiguration stops on `link`: no RS, held addresses
 * dropped, no new ones (manual configuration still works).
 */
function stopAutoconf(env: SlaacEnv, link: Link): void {
  link.autoconfStopped = true;
  link.solicitTimer.cancel();
  env.ctx.log.warn(
    `${link.iface.name}: link-local address is a duplicate; autoconfiguration stopped`,
  );
  for (const [id, p] of link.prefixes) {
    if (p.address?.held) {
      p.address = null;
      env.c.autoconfStopped.value++;
      if (p.onLinkUntil === 0) link.prefixes.delete(id);
    }
  }
}

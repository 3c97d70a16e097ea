/**
 * The `slaac` plugin: link-local addresses, Router Discovery and SLAAC on
 * hosts, Router Advertisements in router mode. The parts are in `host.ts`
 * and `router.ts`; this file keeps one {@linkcode Link} per interface with
 * a link layer and follows the stack's interface and address events.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type {
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
  StackEvent,
} from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import type { Ipv6RoutesService, NdpService } from "../../services.ts";
import { ICMPV6_ROUTER_ADVERTISEMENT, ICMPV6_ROUTER_SOLICITATION } from "../../wire/icmpv6.ts";
import { NDP_PROBLEMS } from "../../wire/icmpv6_ndp.ts";
import { IpAddress, isLinkLocalKey } from "../../wire/ip_address.ts";
import {
  type AdvertisedPrefix,
  parseAdvertisedPrefix,
  parseSlaacConfig,
  SLAAC_OPTIONS,
} from "./config.ts";
import {
  addPrefixRoute,
  dadFailed,
  expireLifetimes,
  forget,
  formLinkLocal,
  markLinkLocalReady,
  ownedBy,
  receiveAdvertisement,
  solicit,
  startSolicitation,
} from "./host.ts";
import { InterfaceIds, secretHash } from "./identifiers.ts";
import { type Link, SLAAC_COUNTERS, slaacCounters, type SlaacEnv } from "./link.ts";
import {
  advertise,
  linkLocalReady,
  receiveSolicitation,
  startAdvertising,
  stopAdvertising,
} from "./router.ts";
import { UNSPECIFIED } from "./messages.ts";
import type { SlaacService } from "./service.ts";

/** The `slaac` plugin. */
export const slaacPlugin: ProtocolPlugin = {
  manifest: {
    name: "slaac",
    version: "0.1.0",
    api: "^1.0.0",
    description:
      "IPv6 link-local addresses, Router Discovery, SLAAC (RFC 4862, RFC 7217), router mode",
    layer: "service",
    dependencies: ["ipv6", "icmpv6"],
    binds: [
      { table: "icmpv6.message", key: ICMPV6_ROUTER_SOLICITATION },
      { table: "icmpv6.message", key: ICMPV6_ROUTER_ADVERTISEMENT },
    ],
    events: [
      "interface-added",
      "interface-removed",
      "link-changed",
      "address-added",
      "address-removed",
      "address-changed",
    ],
    provides: ["slaac"],
    requires: ["ipv6.routes", { service: "neighbor.ipv6", optional: true }],
    counters: [...SLAAC_COUNTERS, ...NDP_PROBLEMS.map((p) => `rx.${p}`)],
    options: SLAAC_OPTIONS,
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const config = parseSlaacConfig(ctx.options);
    // RFC 7217 §5: the secret is drawn once, at set-up (deterministic per seed).
    const ids = new InterfaceIds(config.addressGeneration, secretHash(config.secret ?? ctx.rng));
    const links = new Map<number, Link>(); // by ifindex
    const lifetimeTimer = ctx.timer(onLifetimes);
    const env: SlaacEnv = {
      ctx,
      config,
      ids,
      routes: ctx.service<Ipv6RoutesService>("ipv6.routes"),
      c: slaacCounters(ctx),
      neighbors: undefined,
      rearmLifetimes,
    };

    function onLifetimes(now: Instant): void {
      let next = Infinity;
      for (const link of links.values()) next = Math.min(next, expireLifetimes(env, link, now));
      if (next === Infinity) lifetimeTimer.cancel();
      else lifetimeTimer.arm(next);
    }

    function rearmLifetimes(): void {
      onLifetimes(ctx.now());
    }

    function advertisedOn(iface: NetInterface): AdvertisedPrefix[] {
      return config.advertise.filter((p) => p.ifname === "" || p.ifname === iface.name);
    }

    function addLink(iface: NetInterface): void {
      if (iface.mac === null || links.has(iface.index)) return; // no link layer: no link-local
      const link: Link = {
        iface,
        advertised: advertisedOn(iface),
        linkLocal: null,
        routers: new Map(),
        prefixes: new Map(),
        solicitations: 0,
        heardRouter: false,
        linkLocalReady: false,
        autoconfStopped: false,
        upTimer: ctx.timer(() => linkUp(link)),
        solicitTimer: ctx.timer((now) => solicit(env, link, now)),
        advertiseTimer: ctx.timer((now) => advertise(env, link, now)),
        initialAdvertisements: 0,
        lastAdvertisement: -Infinity,
        reachableTime: 0,
        retransTimer: 0,
      };
      links.set(iface.index, link);
      if (iface.up) link.upTimer.arm(ctx.now());
    }

    function linkUp(link: Link): void {
      if (!link.iface.up) return;
      link.linkLocalReady = false;
      formLinkLocal(env, link);
      if (link.advertised.length > 0) startAdvertising(env, link);
      linkLocalChanged(link);
    }

    /** Once a link-local address is usable: held addresses to DAD, then RS (hosts). */
    function linkLocalChanged(link: Link): void {
      if (markLinkLocalReady(env, link) && link.advertised.length === 0) {
        startSolicitation(env, link);
      }
    }

    function linkDown(link: Link): void {
      link.linkLocalReady = false;
      link.upTimer.cancel();
      link.solicitTimer.cancel();
      link.advertiseTimer.cancel();
    }

    function removeLink(index: number): void {
      const link = links.get(index);
      if (link === undefined) return;
      linkDown(link);
      for (const r of link.routers.values()) env.routes.remove(UNSPECIFIED, 0, r.address, index);
      for (const p of link.prefixes.values()) {
        if (p.onLinkUntil !== 0) env.routes.remove(p.prefix, p.length, UNSPECIFIED, index);
      }
      links.delete(index);
    }

    /** Our on-link routes again, after the ipv6 plugin rebuilt its connected ones. */
    function reassertPrefixRoutes(): void {
      const now = ctx.now();
      for (const link of links.values()) {
        for (const p of link.prefixes.values()) {
          if (p.onLinkUntil > now) addPrefixRoute(env, link, p);
        }
      }
    }

    function onAddressEvent(ev: StackEvent & { iface: NetInterface; address: string }): void {
      const link = links.get(ev.iface.index);
      if (link === undefined) return;
      const key = IpAddress.parse(ev.address)?.key;
      const a = key === undefined ? null : ownedBy(link, key);
      if (ev.type === "address-removed" && a !== null) forget(link, a);
      if (key !== undefined && isLinkLocalKey(key)) linkLocalChanged(link);
      if (ev.type !== "address-changed" || a === null) return;
      const state = (ev as { state?: string }).state;
      if (state === "duplicate") dadFailed(env, link, a);
      else if (state === "preferred") {
        if (a.preferredUntil <= ctx.now()) {
          // Its preferred lifetime ended during DAD (RFC 4862 §5.5.4).
          env.c.addressesDeprecated.value++;
          ctx.setAddressState(link.iface.index, a.bytes, "deprecated");
        }
        if (a === link.linkLocal) linkLocalReady(env, link);
      }
    }

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      const link = links.get(rx.iface.index);
      if (link === undefined) return "no_link_layer";
      return pkt.buf[pkt.start] === ICMPV6_ROUTER_ADVERTISEMENT
        ? receiveAdvertisement(env, link, pkt)
        : receiveSolicitation(env, link, pkt);
    }

    const service: SlaacService = {
      routers: () =>
        [...links.values()].flatMap((l) =>
          [...l.routers.values()].map((r) => ({
            ifname: l.iface.name,
            address: IpAddress.fromKey(r.address).toString(),
            expires: r.expires,
          }))
        ),
      prefixes: () =>
        [...links.values()].flatMap((l) =>
          [...l.prefixes.values()].map((p) => ({
            ifname: l.iface.name,
            prefix: `${IpAddress.fromKey(p.prefix)}/${p.length}`,
            onLinkUntil: p.onLinkUntil,
            address: p.address === null ? null : IpAddress.fromKey(p.address.key).toString(),
            validUntil: p.address?.validUntil ?? 0,
            preferredUntil: p.address?.preferredUntil ?? 0,
          }))
        ),
      linkTimers(ifindex) {
        const l = links.get(ifindex);
        return { reachableTime: l?.reachableTime ?? 0, retransTimer: l?.retransTimer ?? 0 };
      },
      advertise(ifindex, prefix) {
        const p = parseAdvertisedPrefix(prefix);
        const link = links.get(ifindex);
        if (link === undefined) {
          throw new RangeError(
            `Cannot advertise ${prefix}: no interface ${ifindex} with a link layer`,
          );
        }
        if (link.advertised.some((x) => x.prefix === p.prefix && x.length === p.length)) return;
        if (link.advertised.length >= config.maxPrefixes) {
          throw new RangeError(
            `Cannot advertise ${prefix}: ${config.maxPrefixes} prefixes already`,
          );
        }
        const first = link.advertised.length === 0;
        link.advertised.push({ ...p, ifname: link.iface.name });
        if (first && link.iface.up) startAdvertising(env, link);
      },
      withdraw(ifindex, prefix) {
        const p = parseAdvertisedPrefix(prefix);
        const link = links.get(ifindex);
        if (link === undefined) return false;
        const i = link.advertised.findIndex((x) => x.prefix === p.prefix && x.length === p.length);
        if (i < 0) return false;
        if (link.advertised.length === 1) {
          stopAdvertising(env, link);
          if (link.iface.up) startSolicitation(env, link);
        } else link.advertised.splice(i, 1);
        return true;
      },
      advertised: (ifindex) =>
        (links.get(ifindex)?.advertised ?? []).map((p) =>
          `${IpAddress.fromKey(p.prefix)}/${p.length}`
        ),
    };

    return {
      receive,
      services: { slaac: service },
      ready() {
        env.neighbors = ctx.optionalService<NdpService>("neighbor.ipv6");
        for (const iface of ctx.interfaces.list()) addLink(iface);
      },
      onEvent(ev) {
        const iface = (ev as { iface?: NetInterface }).iface;
        if (iface === undefined) return;
        switch (ev.type) {
          case "interface-added":
            addLink(iface);
            return;
          case "interface-removed":
            removeLink(iface.index);
            return;
          case "link-changed": {
            const link = links.get(iface.index);
            if (link !== undefined) iface.up ? link.upTimer.arm(ctx.now()) : linkDown(link);
            return;
          }
        }
        if ((ev as { family?: number }).family !== 6) return;
        onAddressEvent(ev as StackEvent & { iface: NetInterface; address: string });
        reassertPrefixRoutes();
      },
      teardown() {
        lifetimeTimer.cancel();
        for (const link of links.values()) linkDown(link);
      },
    };
  },
};

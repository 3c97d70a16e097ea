/**
 * Test stand-ins for the slaac unit tests (crafted frames on one host):
 * a `neighbor.ipv6` with the `NdpService` type that maps multicast groups
 * to 33:33 MACs (RFC 2464 §7) and unicast next hops from a static table,
 * and records what Router Discovery hands the ndp plugin (link timers,
 * senders' link addresses) so a test can check it exactly; and a DAD
 * stand-in that marks tentative addresses preferred (or duplicate, when
 * told) at a fixed delay, for staging DAD failures. Nothing in them
 * pretends to be NDP: no NS/NA is sent. The LAN and TAP tests use the real
 * ndp plugin (tests/ipv6/_lan.ts).
 *
 * @module
 */
import type { Instant } from "../../stack/clock.ts";
import type { PluginContext, ProtocolPlugin, StackEvent } from "../../stack/manifest.ts";
import type { NetInterface } from "../../stack/netif.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { NdpService } from "../../stack/services.ts";
import { formatMac } from "../../stack/wire/mac.ts";
import { IpAddress, type IpKey } from "../../stack/wire/ip_address.ts";
import { writeIpv6MulticastMac } from "../../stack/wire/ipv6_scope.ts";
import { testPlugin } from "../_harness.ts";
import { mac as parseMac } from "../_convert.ts";

/** What the resolver stand-in recorded. */
export interface ResolverStandIn {
  /** The plugin (provides `neighbor.ipv6`). */
  readonly plugin: ProtocolPlugin;
  /** `setLinkTimers` calls: ifindex and the times (µs). */
  readonly timers: { ifindex: number; reachableTime?: number; retransTimer?: number }[];
  /** `learnRouterDiscovery` calls: ifindex, address text, MAC text ("" for none), isRouter. */
  readonly senders: { ifindex: number; address: string; mac: string; isRouter: boolean }[];
  /** Unicast next hops it could not map (dropped). */
  readonly unresolved: string[];
}

/**
 * A `neighbor.ipv6` stand-in with the {@linkcode NdpService} type:
 * multicast mapped, unicast by `lookup` (address text → MAC text, e.g. an
 * oracle over the test's stacks), anything else dropped and recorded; what
 * Router Discovery hands it (`setLinkTimers`, `learnRouterDiscovery`) is
 * recorded, not applied. No NS/NA is sent; `addStatic` throws.
 */
export function resolverStandIn(
  lookup: (address: string) => string | undefined = () => undefined,
): ResolverStandIn {
  const timers: ResolverStandIn["timers"] = [];
  const senders: ResolverStandIn["senders"] = [];
  const unresolved: string[] = [];
  const out = new Uint8Array(6);
  const plugin = testPlugin(
    { name: "ndp_standin", layer: "network", provides: ["neighbor.ipv6"] },
    () => {
      const resolver: NdpService = {
        family: 6,
        resolve(_ifindex: number, hop: IpKey, pkt: PacketBuffer): Uint8Array | null {
          if (((hop as string).charCodeAt(0) >> 8) === 0xff) {
            writeIpv6MulticastMac(hop, out, 0);
            return out;
          }
          const text = IpAddress.fromKey(hop).toString();
          const m = lookup(text);
          if (m !== undefined) return parseMac(m);
          unresolved.push(text);
          pkt.release();
          return null;
        },
        onUnresolved() {},
        entries: () => [],
        addStatic() {
          throw new Error("The neighbor.ipv6 stand-in keeps no static entries");
        },
        confirmReachable: () => Number.MAX_SAFE_INTEGER, // nothing to confirm: never again
        setLinkTimers(ifindex, t) {
          timers.push({ ifindex, ...t });
        },
        learnRouterDiscovery(ifindex, s) {
          senders.push({
            ifindex,
            address: IpAddress.fromKey(s.address).toString(),
            mac: s.mac === null ? "" : formatMac(s.mac),
            isRouter: s.isRouter,
          });
          return true;
        },
      };
      return { services: { "neighbor.ipv6": resolver } };
    },
  );
  return { plugin, timers, senders, unresolved };
}

/**
 * A DAD stand-in: every IPv6 address added tentative becomes preferred
 * `delay` µs later, or duplicate when `isDuplicate(address text)` says so
 * (a conflict the test stages).
 */
export function dadStandIn(
  options: { readonly delay?: number; readonly isDuplicate?: (address: string) => boolean } = {},
): ProtocolPlugin {
  const delay = options.delay ?? 1_000_000;
  return testPlugin(
    { name: "dad_standin", layer: "network", events: ["address-added"] },
    (ctx: PluginContext) => {
      const pending: { at: Instant; iface: NetInterface; address: string }[] = [];
      const timer = ctx.timer((now) => {
        while (pending.length > 0 && pending[0]!.at <= now) {
          const p = pending.shift()!;
          const bytes = IpAddress.parse(p.address)!.bytes();
          const dup = options.isDuplicate?.(p.address) ?? false;
          ctx.setAddressState(p.iface.index, bytes, dup ? "duplicate" : "preferred");
        }
        if (pending.length > 0) timer.arm(pending[0]!.at);
      });
      return {
        onEvent(ev: StackEvent) {
          if (ev.type !== "address-added" || (ev as { family: number }).family !== 6) return;
          const e = ev as { iface: NetInterface; address: string };
          const entry = e.iface.ipv6Address(IpAddress.parse(e.address)!.bytes());
          if (entry?.state !== "tentative") return;
          pending.push({ at: ctx.now() + delay, iface: e.iface, address: e.address });
          timer.armEarlier(pending[0]!.at);
        },
      };
    },
  );
}

/**
 * A plugin that watches hook points and records what each sees of the
 * packets passing (the partial-checksum tests of tests/hooks and
 * tests/ipv6): the point, whether the transport checksum is partial
 * (`PacketFlags.CHECKSUM_PARTIAL`), and whatever else the test looks at.
 *
 * @module
 */
import {
  ACCEPT,
  HOOK_POINTS,
  type HookPoint,
  type PacketBuffer,
  PacketFlags,
  type ProtocolPlugin,
} from "../../mod.ts";

/** What every record holds: where the packet was seen, and whether its checksum was partial. */
export interface HookSight {
  readonly point: HookPoint;
  readonly partial: boolean;
}

/** Options of {@linkcode hookWatcher}. */
export interface HookWatcherOptions {
  /** The plugin's name (default "watch"): two watchers on one stack need two. */
  readonly name?: string;
  /** The points it joins (default: all of them). */
  readonly points?: readonly HookPoint[];
}

/**
 * A middlebox plugin joining `options.points` that accepts every packet and,
 * for each one `look` returns fields for (null: not recorded), appends
 * `{ point, partial, ...fields }` to `seen`. `look` reads the packet as the
 * point sees it (on a raw-IP link the IP header is at `pkt.start`).
 */
export function hookWatcher<T extends object>(
  seen: (HookSight & T)[],
  look: (pkt: PacketBuffer) => T | null,
  options: HookWatcherOptions = {},
): ProtocolPlugin {
  const points = options.points ?? HOOK_POINTS;
  return {
    manifest: {
      name: options.name ?? "watch",
      version: "1.0.0",
      api: "^1.0.0",
      description: "records what hook points see of transport checksums",
      layer: "middlebox",
      binds: [],
      hooks: points.map((point) => ({ point })),
      counters: [],
    },
    setup() {
      return {
        hook(point: HookPoint, pkt: PacketBuffer) {
          const fields = look(pkt);
          if (fields !== null) {
            const partial = (pkt.flags & PacketFlags.CHECKSUM_PARTIAL) !== 0;
            seen.push({ point, partial, ...fields });
          }
          return ACCEPT;
        },
      };
    },
  };
}

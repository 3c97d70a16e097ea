/**
 * Whether each hook point has a chain, as the dispatcher answers plugins'
 * `hasHooks(point)` on the packet path. Private to `dispatcher.ts`.
 *
 * @module
 */
import type { HookPoint } from "./manifest.ts";

/** Whether each hook point has a chain (final at boot). */
export type HookPresence = Record<HookPoint, boolean>;

/**
 * `p[point]` without a keyed load: one load site seeing all seven names
 * goes megamorphic (`KeyedLoadIC_Megamorphic`, a stub-cache probe, four
 * times per datagram in a profile of the UDP echo); here each case is a
 * named load, and where `point` is a constant (every plugin call site) the
 * optimizer folds the switch away.
 */
export function hookPresent(p: HookPresence, point: HookPoint): boolean {
  switch (point) {
    case "prerouting":
      return p.prerouting;
    case "input":
      return p.input;
    case "output":
      return p.output;
    case "postrouting":
      return p.postrouting;
    case "forward":
      return p.forward;
    case "ingress":
      return p.ingress;
    case "egress":
      return p.egress;
    default:
      return false;
  }
}

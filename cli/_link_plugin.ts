/**
 * A check `up` runs before it opens a device: some plugin must receive and
 * send the device's link type, or the stack would say "ready" and drop every
 * frame (`dispatcher.rx.no_binding`, `dispatcher.tx.no_link_output`), as it
 * did for a TUN device under a manifest without `rawip`.
 *
 * @module
 */
import type { Stack } from "../stack/stack.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../stack/wire/numbers.ts";

/** What a device of `up` carries, and the built-in plugin that serves it. */
const LINK_PLUGINS: ReadonlyMap<number, { readonly what: string; readonly plugin: string }> =
  new Map([
    [LINKTYPE_ETHERNET, { what: "Ethernet", plugin: "ethernet" }],
    [LINKTYPE_RAW, { what: "raw IP", plugin: "rawip" }],
  ]);

/**
 * Throws, naming the plugin to add, when no plugin of `stack` both receives
 * (a `link` table binding) and sends (a link output) frames of `linkType`.
 *
 * @param stack The booted stack, before any interface is added.
 * @param linkType The device's link type (1 Ethernet, 101 raw IP).
 * @param device How the error names the device ("the tun device", "tun1 (tun)").
 *
 * @example
 * ```ts
 * import { checkLinkPlugin } from "./_link_plugin.ts";
 * import { createStack, ethernetPlugin, ipv4Plugin } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ plugins: [ethernetPlugin, ipv4Plugin] });
 * checkLinkPlugin(stack, 1, "the tap device");
 * assert.throws(() => checkLinkPlugin(stack, 101, "the tun device"), /add "rawip" to the manifest/);
 * stack.close();
 * ```
 */
export function checkLinkPlugin(stack: Stack, linkType: number, device: string): void {
  const d = stack.describe();
  const receives = d.tables.find((t) => t.name === "link")?.entries
    .some((e) => e.key === linkType) ?? false;
  const sends = d.linkOutputs?.some((o) => o.linkType === linkType) ?? false;
  if (receives && sends) return;
  const known = LINK_PLUGINS.get(linkType);
  const carries = `${device} carries ${known?.what ?? "frames"} (link type ${linkType})`;
  const gap = receives ? "sends" : sends ? "receives" : "takes";
  const fix = known === undefined ? "" : `: add "${known.plugin}" to the manifest`;
  throw new Error(`${carries} and no plugin ${gap} it${fix}`);
}

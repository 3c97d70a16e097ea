/**
 * An example firewall hook: drops IPv4 packets from listed source networks
 * at `prerouting`, before the stack looks at them. It shows a plugin that
 * binds nothing and joins a hook chain instead; its drops are counted as
 * `block_source.prerouting.blocked`.
 *
 * - **Hooks:** prerouting (before any `nat` plugin, so it sees original addresses);
 *   per fragment, unless another prerouting plugin asks for `defrag`.
 * - **Counters:** `prerouting.blocked`, `passed`.
 * - **Options:** `sources`: comma-separated CIDRs, e.g. `"10.0.0.3/32,192.168.0.0/16"`.
 *
 * @example
 * ```ts
 * import { loadStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = await loadStack({
 *   plugins: ["ethernet", "arp", "ipv4", "icmp",
 *     { use: new URL("./mod.ts", import.meta.url).href, options: { sources: "10.0.0.3/32" } }],
 * });
 * assert.deepEqual(stack.describe().hooks.prerouting, ["block_source"]);
 * ```
 *
 * @module
 */
import type { HookContext, HookVerdict, PacketBuffer, ProtocolPlugin } from "../../mod.ts";
import { ACCEPT, ipv4Mask, parseIpv4Cidr } from "../../mod.ts";

/** The block_source plugin. */
export const plugin: ProtocolPlugin = {
  manifest: {
    name: "block_source",
    version: "1.0.0",
    api: "^1.0.0",
    description: "Example firewall: drop IPv4 from listed source networks",
    layer: "middlebox",
    binds: [],
    hooks: [{ point: "prerouting", before: ["nat"] }],
    counters: ["prerouting.blocked", "passed"],
    options: {
      sources: { default: "", description: "comma-separated source CIDRs to drop" },
    },
  },
  setup(ctx) {
    const rules = String(ctx.options.sources).split(",").map((s) => s.trim()).filter(Boolean).map(
      (s) => {
        const c = parseIpv4Cidr(s);
        if (!c) throw new TypeError(`block_source: cannot parse "${s}" as a CIDR`);
        const mask = ipv4Mask(c.prefixLength);
        return { network: (c.address & mask) >>> 0, mask };
      },
    );
    const passed = ctx.counter("passed");
    return {
      // The context (input interface here) is unused: the rule is on the source alone.
      hook(_point, pkt: PacketBuffer, _hctx: HookContext): HookVerdict {
        if (pkt.family === 4) {
          for (const r of rules) {
            if (((pkt.dv.getUint32(pkt.srcAt) & r.mask) >>> 0) === r.network) return "blocked";
          }
        }
        passed.value++;
        return ACCEPT;
      },
    };
  },
};

export default plugin;

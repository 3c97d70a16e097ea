/**
 * A user's service plugin for `up --manifest` in the keep-warm tests: it
 * does nothing but record its setups in `_warm_probe.ts`'s list, so a
 * test sees how many stacks set it up.
 *
 * @module
 */
import type { ProtocolPlugin } from "../../mod.ts";
import { probeSetups } from "./_warm_probe.ts";

/** The service probe. */
export const plugin: ProtocolPlugin = {
  manifest: {
    name: "warmprobe_service",
    version: "1.0.0",
    api: "^1.0.0",
    description: "records its setups (keep-warm tests)",
    layer: "service",
    binds: [],
    counters: [],
  },
  setup(ctx) {
    probeSetups.push({ plugin: ctx.name, hooked: 0 });
    return {};
  },
};

/**
 * A user's plugin for `up --manifest` in the keep-warm tests: a middlebox
 * at `input` that counts, per stack it is set up in, the packets it sees.
 * `up` runs in the test's process, so the manifest's import of this module
 * is the test's: {@linkcode probeSetups} lists each setup in order (`up`'s
 * stack boots before the keep-warm's shadow).
 *
 * @module
 */
import { ACCEPT, type ProtocolPlugin } from "../../mod.ts";

/** One setup of a probe: which probe, and the packets its hook saw. */
export interface ProbeSetup {
  readonly plugin: string;
  hooked: number;
}

/** Every setup of {@linkcode plugin} and of the service probe, in order (tests empty it). */
export const probeSetups: ProbeSetup[] = [];

/** The hook probe. */
export const plugin: ProtocolPlugin = {
  manifest: {
    name: "warmprobe",
    version: "1.0.0",
    api: "^1.0.0",
    description: "counts the packets each stack's input hook sees (keep-warm tests)",
    layer: "middlebox",
    binds: [],
    hooks: [{ point: "input" }],
    counters: [],
  },
  setup(ctx) {
    const seen: ProbeSetup = { plugin: ctx.name, hooked: 0 };
    probeSetups.push(seen);
    return {
      hook() {
        seen.hooked++;
        return ACCEPT;
      },
    };
  },
};

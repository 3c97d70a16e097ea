/**
 * TCP MSS clamping on a router, as iptables' `-j TCPMSS
 * --clamp-mss-to-pmtu`: the MSS option of every forwarded SYN and SYN-ACK is
 * lowered to what fits the path (the smaller of the outgoing route's MTU and
 * the incoming interface's, so that both directions of the connection fit,
 * as Linux does), minus 40 bytes for IPv4 and TCP or 60 for IPv6 and TCP;
 * the TCP checksum is updated incrementally. For links that drop ICMP
 * (Packet Too Big never arrives) or tunnels with a smaller MTU.
 *
 * - **Binds:** nothing; a `middlebox`.
 * - **Hooks:** `forward` (a forwarded packet's in and out interfaces and
 *   route are known there).
 * - **Counters:** `clamped`, `kept` (already small enough), `no_option` (a
 *   SYN without MSS: left alone), `bad_options` (malformed options: left
 *   alone for the receiver to judge).
 * - **Options:** `mss`: a fixed MSS to clamp to (iptables' `--set-mss`,
 *   still never raised), 0 (default) for the path MTU.
 * - **Depends on:** an IP plugin running the `forward` hook.
 * - **Not supported:** adding an MSS option to a SYN that has none (Linux
 *   adds one when the path's MSS is below 536), locally sent SYNs (the
 *   stack's own TCP already announces what fits), fragments (only a
 *   first one holds the SYN's header: it is clamped). TCP behind IPv6
 *   extension headers is found (`pkt.l4`); the overhead stays 60, as
 *   Linux's TCPMSS counts it.
 *
 * Graph: `eth0 -> ipv4 -> [forward: mssclamp] -> eth1`
 *
 * @example
 * ```ts
 * import { createStack, DEFAULT_PLUGINS } from "../../../mod.ts";
 * import { mssClampPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ plugins: [...DEFAULT_PLUGINS, mssClampPlugin] });
 * assert.deepEqual(stack.describe().hooks.forward, ["mssclamp"]);
 * stack.close();
 * ```
 *
 * @module
 */
import { ACCEPT, type HookPoint, type HookVerdict, type ProtocolPlugin } from "../../manifest.ts";
import type { HookContext } from "../../hooks.ts";
import type { PacketBuffer } from "../../packet.ts";
import { checkInteger } from "../../validate.ts";
import { clampSynMss, MSS_OVERHEAD_V4, MSS_OVERHEAD_V6 } from "./clamp.ts";

export { type ClampResult, clampSynMss, MSS_OVERHEAD_V4, MSS_OVERHEAD_V6 } from "./clamp.ts";

const TCP = 6;

/** The MSS clamping plugin. */
export const mssClampPlugin: ProtocolPlugin = {
  manifest: {
    name: "mssclamp",
    version: "1.0.0",
    api: "^1.0.0",
    description: "TCP MSS clamping of forwarded SYNs to the path MTU (iptables TCPMSS)",
    layer: "middlebox",
    binds: [],
    hooks: [{ point: "forward" }],
    counters: ["clamped", "kept", "no_option", "bad_options"],
    options: {
      mss: { default: 0, description: "fixed MSS to clamp to; 0: the path MTU's" },
    },
  },
  setup(ctx) {
    const fixed = checkInteger(ctx.options.mss, 0, 65535, "Cannot set up mssclamp", "mss");
    const c = {
      clamped: ctx.counter("clamped"),
      kept: ctx.counter("kept"),
      noOption: ctx.counter("no_option"),
      badOptions: ctx.counter("bad_options"),
    };
    return {
      /** Rewrites the MSS option of `pkt` in place (borrows it). */
      hook(_point: HookPoint, pkt: PacketBuffer, hctx: HookContext): HookVerdict {
        // The network layer says where TCP is, past IPv6 extension headers
        // too; -1 in a later fragment (stack/hooks.ts).
        const tcp = pkt.l4;
        if (pkt.proto !== TCP || tcp < 0) return ACCEPT;
        let overhead: number;
        if (pkt.family === 4) overhead = MSS_OVERHEAD_V4;
        else if (pkt.family === 6) overhead = MSS_OVERHEAD_V6;
        else return ACCEPT;
        const b = pkt.buf;
        if (tcp + 14 > pkt.end || (b[tcp + 13]! & 0x02) === 0) return ACCEPT; // not a SYN
        let mss = fixed;
        if (mss === 0) {
          let mtu = hctx.route?.mtu ?? hctx.outIface?.mtu ?? 0;
          const back = hctx.inIface?.mtu ?? 0;
          if (back > 0 && back < mtu) mtu = back;
          if (mtu <= overhead) return ACCEPT;
          mss = mtu - overhead;
        }
        const r = clampSynMss(b, tcp, pkt.end, mss);
        if (r === "clamped") c.clamped.value++;
        else if (r === "kept") c.kept.value++;
        else if (r === "no_option") c.noOption.value++;
        else if (r === "bad_options") c.badOptions.value++;
        return ACCEPT;
      },
    };
  },
};

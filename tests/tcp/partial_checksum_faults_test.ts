/**
 * Review of CHECKSUM_PARTIAL on transmit (tcp/output.ts, loopback/_lane.ts):
 * between two stacks on one in-memory link, with no capture tap in front
 * (a tap turns the partial path off), TCP/IPv4 segments cross with only
 * the pseudo-header sum in their checksum field. A link that damages bytes
 * must leave each damaged segment with a whole checksum computed before the
 * damage, as on a wire: a receiver that completes a still-partial checksum
 * (an `input` hook makes IPv4 do so, ipv4.ts) would otherwise sum the
 * damaged bytes and accept them. The transfer must arrive intact and the
 * receivers count the damaged segments they dropped. At MTU 1500 and at
 * MTU 65535 (64 KiB segments the receive queue holds instead of copying).
 */
import assert from "node:assert/strict";
import { ACCEPT, HOOK_POINTS, type ProtocolPlugin } from "../../mod.ts";
import { makeLink, ms } from "../_harness.ts";
import { exchangeBoth } from "./_transfer.ts";

/** A plugin that joins `input` and lets everything through: IPv4 completes partial checksums for it. */
const inputHook: ProtocolPlugin = {
  manifest: {
    name: "input-watch",
    version: "1.0.0",
    api: "^1.0.0",
    description: "joins the input hook point, accepts everything",
    layer: "middlebox",
    binds: [],
    hooks: HOOK_POINTS.filter((p) => p === "input").map((point) => ({ point })),
    counters: [],
  },
  setup() {
    return { hook: () => ACCEPT };
  },
};

for (const mtu of [1500, 65535]) {
  for (const hooked of [false, true]) {
    Deno.test(
      `tcp over an in-memory link that corrupts bytes, no capture, MTU ${mtu}${
        hooked ? ", an input hook on both" : ""
      }: damaged segments are found and dropped`,
      async () => {
        const env = makeLink({
          seed: 7,
          mtu,
          faults: { corrupt: mtu > 1500 ? 0.1 : 0.02, delay: ms(1) },
          withoutPlugins: ["ndp", "mld", "slaac"],
          ...(hooked ? { extraPlugins: [inputHook] } : {}),
        });
        try {
          const l = env.b.listen({ port: 9000 });
          await env.run(async () => {
            const [c, s] = await Promise.all([
              env.a.connect({ hostname: "10.0.0.2", port: 9000 }),
              l.accept(),
            ]);
            await exchangeBoth(c, s, 7, 4 * 1024 * 1024); // asserts the bytes (SHA-256) each way
            c.close();
            s.close();
          }, { timeout: 600_000_000 });
          l.close();
          env.runFor(ms(200_000));
          const corrupted = env.link.stats("a->b").corrupted + env.link.stats("b->a").corrupted;
          assert.ok(corrupted > 5, `the link damaged ${corrupted} frames`);
          const bad = env.a.counters.get("tcp.rx.bad_checksum").value +
            env.b.counters.get("tcp.rx.bad_checksum").value;
          // A bit flipped in the IPv4 header is dropped there instead, a flip in
          // the Ethernet header may miss the host: some, not all, reach TCP.
          assert.ok(bad > 0, `TCP found ${bad} of ${corrupted} damaged frames`);
          env.finish();
        } finally {
          env.close();
        }
      },
    );
  }
}

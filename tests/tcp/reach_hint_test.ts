/**
 * TCP's forward progress confirms the peer to the network layer
 * (`RouteService.confirmReachable`, RFC 4861 §7.3.1) once per the hint the
 * layer answers, per peer: many short connections to one peer confirm it
 * as one long one does, not once each.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { RouteService } from "../../stack/services.ts";

Deno.test("tcp forward progress of 20 short connections to one peer confirms it once per hint (7.5 s), not 20 times", async () => {
  const env = makeLink({ seed: 5, faults: { delay: ms(1) } });
  await env.run(() => env.a.ping("10.0.0.2"));
  const route = env.a.service<RouteService>("ipv4.route")!;
  const confirm = route.confirmReachable!.bind(route);
  const hints: number[] = [];
  route.confirmReachable = (addr, scope) => {
    const until = confirm(addr, scope);
    hints.push(until);
    return until;
  };
  const l = env.b.listen({ port: 80 });
  const burst = () =>
    env.run(async () => {
      for (let i = 0; i < 20; i++) {
        const [c, s] = await Promise.all([
          env.a.connect({ hostname: "10.0.0.2", port: 80 }),
          l.accept(),
        ]);
        c.close();
        s.close();
      }
    });
  await burst();
  assert.equal(hints.length, 1, `confirmations ${hints.length}`);
  assert.ok(hints[0]! > env.net.now(), "the hint lies ahead");
  // Past the hint, the next connection's progress confirms the peer again.
  env.runFor(hints[0]! - env.net.now() + ms(1));
  await burst();
  assert.equal(hints.length, 2, `confirmations ${hints.length}`);
  l.close();
  env.runFor(ms(130_000));
  env.finish();
});

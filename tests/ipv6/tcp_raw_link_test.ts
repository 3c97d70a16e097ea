/**
 * TCP between two stacks over IPv6 on a raw-IP link, through the real IPv6
 * and ICMPv6 plugins (no stand-in): connect, transfer under loss and
 * reordering, close.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { readFull } from "../../drivers/loopback/scenario.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

Deno.test("ipv6 tcp: 200 kB over a lossy, reordering raw link arrive intact", async () => {
  const env = makeLink({
    seed: 21,
    linkType: 101,
    addresses: [["fd00::1/64"], ["fd00::2/64"]],
    extraPlugins: [ipv6Plugin, icmpv6Plugin],
    faults: { delay: ms(2), loss: 0.02, reorder: 0.05 },
  });
  const data = pattern(200_000);
  await env.run(async () => {
    using l = env.b.listen({ hostname: "fd00::2", port: 80 });
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "fd00::2", port: 80 }),
      l.accept(),
    ]);
    assert.equal(c.remoteAddr.hostname, "fd00::2");
    assert.equal(s.remoteAddr.hostname, "fd00::1");
    const writer = (async () => {
      for (let at = 0; at < data.length; at += 16384) {
        await c.write(data.subarray(at, Math.min(data.length, at + 16384)));
      }
    })();
    const got = new Uint8Array(data.length);
    const whole = await readFull(s, got);
    await writer;
    assert.ok(whole, "the whole payload arrived");
    assert.deepEqual(got, data);
    c.close();
    s.close();
  }, { timeout: ms(120_000) });
  assert.ok(env.a.counters.value("ipv6.tx.packets") > 100);
  assert.equal(env.b.counters.value("ipv6.rx.bad_payload_length"), 0);
  env.finish();
});

/**
 * ECN over IPv6 (RFC 3168 §5: the ECN field is the traffic class's low two
 * bits): an ECN connection between two stacks across a raw-IP link whose
 * queue marks CE: ECT(0) data, CE marks echoed, no data dropped or retransmitted.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";

Deno.test("ipv6 tcp ECN: ECT(0) in the traffic class, CE marks reach the receiver, no data dropped", async () => {
  const lane = {
    bandwidth: 10_000_000,
    delay: ms(5),
    queueLimit: { bytes: 200_000 },
    ecnMarkThreshold: 15_000,
  };
  const env = makeLink({
    seed: 22,
    linkType: 101,
    addresses: [["fd00::1/64"], ["fd00::2/64"]],
    extraPlugins: [ipv6Plugin, icmpv6Plugin],
    capture: true,
    directions: { "a->b": lane, "b->a": { delay: ms(5) } },
  });
  const data = new Uint8Array(1_000_000).fill(7);
  let info: ReturnType<typeof env.a.sockets>[number] | undefined;
  await env.run(async () => {
    using l = env.b.listen({ hostname: "fd00::2", port: 80 });
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "fd00::2", port: 80, ecn: true }),
      l.accept(),
    ]);
    const writer = (async () => {
      for (let at = 0; at < data.length;) at += await c.write(data.subarray(at));
    })();
    let n = 0;
    const buf = new Uint8Array(65536);
    while (n < data.length) {
      const r = await s.read(buf);
      if (r === null) break;
      n += r;
    }
    await writer;
    assert.equal(n, data.length);
    info = env.a.sockets().find((x) => x.remote === "[fd00::2]:80");
    c.close();
    s.close();
  }, { timeout: ms(120_000) });
  const st = env.link.stats("a->b");
  assert.equal(info?.ecn, true);
  assert.equal(info?.retrans ?? 0, 0);
  assert.ok(st.ceMarked > 0);
  assert.equal(st.dropped.queue_full, 0);
  // Only Not-ECT packets (a FIN, a pure ACK, neighbour discovery) can be dropped.
  assert.ok(st.dropped.aqm <= 2, `${st.dropped.aqm} Not-ECT packets dropped`);
  assert.equal(env.b.counters.value("tcp.ecn_ce_received"), st.ceMarked);
  // The sender's frames in the capture (raw IPv6): data is ECT(0), never CE at the source.
  const frames = env.capture!.frames().filter((f) => f.length > 40 && f[0]! >> 4 === 6);
  const ecnOf = (f: Uint8Array) => (f[1]! >> 4) & 3;
  const data6 = frames.filter((f) => f[6] === 6 && f.length > 40 + 32);
  assert.ok(data6.length > 100 && data6.some((f) => ecnOf(f) === 2));
  env.finish();
});

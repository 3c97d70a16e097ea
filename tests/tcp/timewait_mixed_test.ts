/**
 * Review of the TIME-WAIT table's IPv6 address array (`timewait_table.ts`,
 * session 12: made at the first IPv6 record, sized to the rows then):
 * IPv4 records first, then IPv4 and IPv6 alternately across two row
 * doublings; every record keeps its tuple (a connect from its port to the
 * same address is refused) while the same port towards the other family's
 * address is free, `ss` lists each with its family, and all end on time.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";

Deno.test("tcp TIME-WAIT records of IPv4 then mixed IPv4/IPv6 connections are kept apart across row growth", async () => {
  const env = makeLink({
    seed: 12,
    faults: { delay: ms(1) },
    addresses: [["10.0.0.1/24", "fd00::1/64"], ["10.0.0.2/24", "fd00::2/64"]],
  });
  env.runFor(ms(5_000)); // IPv6 duplicate address detection
  const l4 = env.b.listen({ hostname: "10.0.0.2", port: 7 });
  const l6 = env.b.listen({ hostname: "fd00::2", port: 7 });
  const v4: number[] = [];
  const v6: number[] = [];
  await env.run(async () => {
    // 20 IPv4 records (rows 16 → 32), then 40 alternating (rows → 64).
    for (let i = 0; i < 60; i++) {
      const six = i >= 20 && i % 2 === 1;
      const [c, s]: [TcpConn, TcpConn] = await Promise.all([
        env.a.connect({ hostname: six ? "fd00::2" : "10.0.0.2", port: 7 }),
        (six ? l6 : l4).accept(),
      ]);
      (six ? v6 : v4).push(c.localAddr.port);
      c.close(); // a closes first: a holds TIME-WAIT
      s.close();
    }
  }, { timeout: 120_000_000 });
  env.runFor(ms(100));
  const tw = env.a.sockets().filter((s) => s.state === "TIME-WAIT");
  assert.deepEqual(
    tw.map((s) => `${s.local} ${s.remote}`).sort(),
    [
      ...v4.map((p) => `10.0.0.1:${p} 10.0.0.2:7`),
      ...v6.map((p) => `[fd00::1]:${p} [fd00::2]:7`),
    ].sort(),
  );
  for (
    const [port, host] of [[v4[0]!, "10.0.0.2"], [v4[25]!, "10.0.0.2"], [v6[0]!, "fd00::2"], [
      v6.at(-1)!,
      "fd00::2",
    ]] as const
  ) {
    await assert.rejects(
      env.run(() => env.a.connect({ hostname: host, port: 7, localPort: port })),
      Deno.errors.AddrInUse,
      `${host} from ${port}`,
    );
  }
  // The same port towards the other family's address is another tuple.
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "fd00::2", port: 7, localPort: v4[0]! }), l6.accept()])
  );
  c.close();
  s.close();
  env.runFor(ms(61_000));
  assert.equal(env.a.sockets().filter((s) => s.state === "TIME-WAIT").length, 0);
  l4.close();
  l6.close();
  env.finish();
});

import assert from "node:assert/strict";
import { formatNatRule, parsePortForward } from "../../stack/protocols/nat/mod.ts";
import { count, makeNatNet, P, PUBLIC } from "./_nat.ts";

Deno.test("nat: a port forward without an interface (as --forward-port builds it) takes only traffic to the NAT's own addresses", async () => {
  const rule = formatNatRule(parsePortForward("tcp:8080=10.1.0.20:80"));
  const n = makeNatNet({ rules: [rule] });
  const lp = n.p.listen({ port: 8080 });
  const l2 = n.h2.listen({ port: 80 });
  // H1's own connection to P:8080 is transit: it reaches P, translated by masquerade only.
  const [c1, s1] = await n.run(() =>
    Promise.all([n.h1.connect({ hostname: P, port: 8080 }), lp.accept()])
  );
  assert.equal(s1.remoteAddr.hostname, PUBLIC);
  // P's connection to the public address, port 8080, is forwarded to H2:80.
  const [c2, s2] = await n.run(() =>
    Promise.all([n.p.connect({ hostname: PUBLIC, port: 8080 }), l2.accept()])
  );
  assert.equal(s2.remoteAddr.hostname, P);
  assert.equal(count(n.nat, "nat.flow.dnat"), 1);
  for (const x of [c1, s1, c2, s2, lp, l2]) x.close();
  n.runFor(200_000_000);
  n.finish();
});

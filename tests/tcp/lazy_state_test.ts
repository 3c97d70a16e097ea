/**
 * State a connection rarely uses is made on first use, not with every
 * endpoint (issue 13's connection rate: a smaller endpoint to build and to
 * collect): ECN's marks and responses (`EcnState`), urgent data
 * (`UrgentState`) and D-SACK (`DsackState`). A connection that moves data
 * with ECN agreed but sees no mark, no urgent byte and no duplicate makes
 * none of them; an urgent byte makes the urgent state at both ends.
 */
import assert from "node:assert/strict";
import { makeLink } from "../_harness.ts";
import { TcpEndpoint } from "../../stack/protocols/tcp/endpoint.ts";

/** Runs `body` while every endpoint that changes state is collected. */
async function collecting(body: () => Promise<void>): Promise<Set<TcpEndpoint>> {
  const seen = new Set<TcpEndpoint>();
  const setState = TcpEndpoint.prototype.setState;
  TcpEndpoint.prototype.setState = function (this: TcpEndpoint, to) {
    seen.add(this);
    setState.call(this, to);
  };
  try {
    await body();
  } finally {
    TcpEndpoint.prototype.setState = setState;
  }
  return seen;
}

Deno.test("tcp: 10 ECN connections moving 20 KB each way with no mark, urgent byte or D-SACK make no EcnState, UrgentState or DsackState", async () => {
  const env = makeLink({ seed: 3 });
  const l = env.b.listen({ port: 80 });
  const seen = await collecting(() =>
    env.run(async () => {
      for (let i = 0; i < 10; i++) {
        const [c, s] = await Promise.all([
          env.a.connect({ hostname: "10.0.0.2", port: 80, ecn: true }),
          l.accept(),
        ]);
        const data = new Uint8Array(20_000).fill(i);
        const buf = new Uint8Array(65536);
        for (const [w, r] of [[c, s], [s, c]] as const) {
          const writing = w.write(data);
          for (let got = 0; got < data.length;) got += (await r.read(buf))!;
          await writing;
        }
        c.close();
        s.close();
      }
    })
  );
  assert.equal(seen.size, 20);
  for (const ep of seen) {
    assert.equal(ep.ecnOk, true, "ECN agreed");
    assert.equal(ep.ecn, null);
    assert.equal(ep.urgent, null);
    assert.equal(ep.dsack, null);
  }
  l.close();
});

Deno.test("tcp: an urgent byte makes the urgent state at both ends, and only there", async () => {
  const env = makeLink({ seed: 4 });
  const l = env.b.listen({ port: 80 });
  const seen = await collecting(() =>
    env.run(async () => {
      const [c, s] = await Promise.all([
        env.a.connect({ hostname: "10.0.0.2", port: 80 }),
        l.accept(),
      ]);
      assert.equal(await c.sendUrgent(7), 1);
      const buf = new Uint8Array(16);
      assert.equal(await s.read(buf), 1);
      assert.equal(buf[0], 7);
      c.close();
      s.close();
    })
  );
  assert.equal(seen.size, 2);
  for (const ep of seen) {
    assert.notEqual(ep.urgent, null, ep.passive ? "receiver" : "sender");
    assert.equal(ep.ecn, null);
    assert.equal(ep.dsack, null);
  }
  l.close();
});

import assert from "node:assert/strict";
import type { NatService } from "../../mod.ts";
import { count, makeNatNet, P, PUBLIC } from "./_nat.ts";

const enc = new TextEncoder();

Deno.test("nat hairpin, address-dependent filtering: two inside hosts punch holes to each other's public endpoints (RFC 4787 REQ-9)", async () => {
  const n = makeNatNet();
  const b1 = n.h1.listenDatagram({ transport: "udp", port: 4001 });
  const b2 = n.h2.listenDatagram({ transport: "udp", port: 4000 });
  const ps = n.p.listenDatagram({ transport: "udp", port: 7 });
  // Both register with P: mappings PUBLIC:4001 (H1) and PUBLIC:4000 (H2), ports preserved.
  await n.run(async () => {
    await b1.send(enc.encode("reg"), { transport: "udp", hostname: P, port: 7 });
    await b2.send(enc.encode("reg"), { transport: "udp", hostname: P, port: 7 });
    await ps.receive();
    await ps.receive();
  });
  const external = n.nat.service<NatService>("nat.table")!.mappings()
    .map((m) => m.external).sort();
  assert.deepEqual(external, [`${PUBLIC}:4000`, `${PUBLIC}:4001`]);
  // H1's punch towards H2's endpoint is filtered (H2 never sent to PUBLIC) but opens H1's mapping.
  await n.run(() =>
    b1.send(enc.encode("punch"), { transport: "udp", hostname: PUBLIC, port: 4000 })
  );
  n.runFor(100_000);
  assert.equal(count(n.nat, "nat.prerouting.filtered"), 1);
  // H2's punch towards H1's endpoint now gets through, from H2's public endpoint.
  const [data, from] = await n.run(async () => {
    await b2.send(enc.encode("hello"), { transport: "udp", hostname: PUBLIC, port: 4001 });
    return await b1.receive();
  });
  assert.equal(new TextDecoder().decode(data), "hello");
  assert.deepEqual([from.hostname, from.port], [PUBLIC, 4000]);
  // And H1's second punch reaches H2, from H1's public endpoint.
  const [, from2] = await n.run(async () => {
    await b1.send(enc.encode("again"), { transport: "udp", hostname: PUBLIC, port: 4000 });
    return await b2.receive();
  });
  assert.deepEqual([from2.hostname, from2.port], [PUBLIC, 4001]);
  b1.close();
  b2.close();
  ps.close();
  n.finish();
});

Deno.test("nat: a mapping remembers at most maxRemotes remote endpoints for its filtering (map.remotes_full)", async () => {
  const n = makeNatNet({ nat: { maxRemotes: 2 } });
  const b = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  await n.run(async () => {
    for (const port of [1001, 1002, 1003]) {
      await b.send(enc.encode("x"), { transport: "udp", hostname: P, port });
    }
  });
  n.runFor(100_000);
  assert.equal(count(n.nat, "nat.map.remotes_full"), 1);
  b.close();
  n.finish();
});

import assert from "node:assert/strict";
import { MAPPING_BYTES, REMOTE_BYTES } from "../../stack/protocols/nat/mappings.ts";
import { count, makeNatNet, P } from "./_nat.ts";

const enc = new TextEncoder();

Deno.test("nat: the maxBytes budget refuses new mappings once spent (nat.postrouting.map_bytes_full) and the table stops growing; expiry frees it", async () => {
  // Room for three mappings with one remote each, not a fourth.
  const budget = 3 * (MAPPING_BYTES + REMOTE_BYTES) + MAPPING_BYTES - 1;
  const n = makeNatNet({ nat: { maxBytes: budget } });
  const socks = Array.from(
    { length: 8 },
    (_, i) => n.h1.listenDatagram({ transport: "udp", port: 6000 + i }),
  );
  await n.run(async () => {
    for (const s of socks) {
      await s.send(enc.encode("x"), { transport: "udp", hostname: P, port: 9 });
    }
  });
  n.runFor(100_000);
  assert.equal(count(n.nat, "nat.map.created"), 3);
  assert.equal(count(n.nat, "nat.postrouting.map_bytes_full"), 5);
  const before = count(n.nat, "nat.map.created");
  // More new flows: still refused, nothing more held.
  await n.run(async () => {
    for (const s of socks) {
      await s.send(enc.encode("y"), { transport: "udp", hostname: P, port: 9 });
    }
  });
  n.runFor(100_000);
  assert.equal(count(n.nat, "nat.map.created"), before);
  assert.equal(count(n.nat, "nat.postrouting.map_bytes_full"), 10);
  // Expiry gives the bytes back: 30 s for the flows, 120 s more for the mappings.
  n.runFor(200_000_000);
  assert.equal(count(n.nat, "nat.map.expired"), 3);
  await n.run(async () => {
    for (const s of socks.slice(5)) {
      await s.send(enc.encode("z"), { transport: "udp", hostname: P, port: 9 });
    }
  });
  n.runFor(100_000);
  assert.equal(count(n.nat, "nat.map.created"), 6);
  assert.equal(count(n.nat, "nat.postrouting.map_bytes_full"), 10);
  for (const s of socks) s.close();
  n.finish();
});

Deno.test("nat: the maxBytes budget refuses a new remembered remote (nat.map.remotes_bytes_full)", async () => {
  const n = makeNatNet({ nat: { maxBytes: MAPPING_BYTES + REMOTE_BYTES } });
  const b = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  await n.run(async () => {
    for (const port of [1001, 1002, 1003]) {
      await b.send(enc.encode("x"), { transport: "udp", hostname: P, port });
    }
  });
  n.runFor(100_000);
  assert.equal(count(n.nat, "nat.map.created"), 1);
  assert.equal(count(n.nat, "nat.map.remotes_bytes_full"), 2);
  b.close();
  n.finish();
});

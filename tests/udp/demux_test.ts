import assert from "node:assert/strict";
import { type LinkPair, makeLink, withEnv } from "../_harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Host a (10.0.0.1) and host b with two addresses, 10.0.0.2 and 10.0.0.3. */
function twoAddressLink(): LinkPair {
  return makeLink({ seed: 5, addresses: [["10.0.0.1/24"], ["10.0.0.2/24", "10.0.0.3/24"]] });
}

/** Sends `text` from a fresh socket on `env.a` bound to `fromPort`. */
async function sendFrom(
  env: LinkPair,
  fromPort: number,
  to: string,
  port: number,
  text: string,
): Promise<void> {
  const c = env.a.listenDatagram({ transport: "udp", port: fromPort });
  await c.send(enc.encode(text), { hostname: to, port });
  c.close();
}

Deno.test("udp demux: a connected socket beats a specific bind, which beats the wildcard", async () => {
  await withEnv(twoAddressLink(), async (env) => {
    const b = env.b;
    const wildcard = b.listenDatagram({ transport: "udp", port: 5000, reuseAddress: true });
    const specific = b.listenDatagram({
      transport: "udp",
      hostname: "10.0.0.2",
      port: 5000,
      reuseAddress: true,
    });
    const connected = b.listenDatagram({
      transport: "udp",
      hostname: "10.0.0.2",
      port: 5000,
      reuseAddress: true,
    });
    connected.connect({ hostname: "10.0.0.1", port: 4000 });
    const got = await env.run(async () => {
      await sendFrom(env, 4000, "10.0.0.2", 5000, "from 4000 to .2");
      await sendFrom(env, 4001, "10.0.0.2", 5000, "from 4001 to .2");
      await sendFrom(env, 4000, "10.0.0.3", 5000, "from 4000 to .3");
      const [c] = await connected.receive();
      const [s] = await specific.receive();
      const [w] = await wildcard.receive();
      return [c, s, w].map((d) => dec.decode(d));
    });
    assert.deepEqual(got, ["from 4000 to .2", "from 4001 to .2", "from 4000 to .3"]);
    for (const conn of [wildcard, specific, connected]) {
      assert.equal(conn.dropped, 0);
      conn.close();
    }
    assert.equal(b.counters.get("udp.rx.datagrams").value, 3);
  });
});

Deno.test("udp demux: a specific bind and the wildcard split traffic by destination", async () => {
  await withEnv(twoAddressLink(), async (env) => {
    const b = env.b;
    const wildcard = b.listenDatagram({ transport: "udp", port: 6000, reuseAddress: true });
    const specific = b.listenDatagram({
      transport: "udp",
      hostname: "10.0.0.3",
      port: 6000,
      reuseAddress: true,
    });
    const got = await env.run(async () => {
      await sendFrom(env, 4000, "10.0.0.3", 6000, "to .3");
      await sendFrom(env, 4000, "10.0.0.2", 6000, "to .2");
      const [s] = await specific.receive();
      const [w] = await wildcard.receive();
      return [dec.decode(s), dec.decode(w)];
    });
    assert.deepEqual(got, ["to .3", "to .2"]);
    wildcard.close();
    specific.close();
  });
});

Deno.test("udp bind: the wildcard and a specific address conflict unless both set reuseAddress", async () => {
  await withEnv(twoAddressLink(), (env) => {
    const b = env.b;
    const w = b.listenDatagram({ transport: "udp", port: 7000 });
    assert.throws(
      () => b.listenDatagram({ transport: "udp", hostname: "10.0.0.2", port: 7000 }),
      Deno.errors.AddrInUse,
    );
    assert.throws(
      () =>
        b.listenDatagram({
          transport: "udp",
          hostname: "10.0.0.2",
          port: 7000,
          reuseAddress: true,
        }),
      Deno.errors.AddrInUse,
      "only one of the two set it",
    );
    assert.throws(() => b.listenDatagram({ transport: "udp", port: 7000 }), Deno.errors.AddrInUse);
    w.close();
    // Two different specific addresses never overlap.
    const s2 = b.listenDatagram({ transport: "udp", hostname: "10.0.0.2", port: 7000 });
    const s3 = b.listenDatagram({ transport: "udp", hostname: "10.0.0.3", port: 7000 });
    assert.throws(() => b.listenDatagram({ transport: "udp", port: 7000 }), Deno.errors.AddrInUse);
    s2.close();
    s3.close();
  });
});

Deno.test("udp reuseAddress: unicast goes to the most recently bound socket", async () => {
  await withEnv(twoAddressLink(), async (env) => {
    const b = env.b;
    const older = b.listenDatagram({ transport: "udp", port: 8000, reuseAddress: true });
    const newer = b.listenDatagram({ transport: "udp", port: 8000, reuseAddress: true });
    const got = await env.run(async () => {
      await sendFrom(env, 4000, "10.0.0.2", 8000, "first");
      const [n] = await newer.receive();
      newer.close();
      await sendFrom(env, 4000, "10.0.0.2", 8000, "second");
      const [o] = await older.receive();
      return [dec.decode(n), dec.decode(o)];
    });
    assert.deepEqual(got, ["first", "second"]);
    older.close();
  });
});

Deno.test("udp connected socket ignores datagrams from other peers", async () => {
  await withEnv(twoAddressLink(), async (env) => {
    const b = env.b;
    const conn = b.listenDatagram({ transport: "udp", port: 9000 });
    conn.connect({ hostname: "10.0.0.1", port: 4000 });
    // Bound to the wildcard, connect() fixed the local address to the
    // route's source (Linux), one of b's two addresses.
    const local = conn.addr.hostname;
    assert.ok(local === "10.0.0.2" || local === "10.0.0.3", local);
    const got = await env.run(async () => {
      await sendFrom(env, 4001, local, 9000, "stranger");
      await sendFrom(env, 4000, local === "10.0.0.2" ? "10.0.0.3" : "10.0.0.2", 9000, "other");
      await sendFrom(env, 4000, local, 9000, "peer");
      const [d, from] = await conn.receive();
      return { text: dec.decode(d), from };
    });
    assert.equal(got.text, "peer");
    assert.deepEqual(got.from, { transport: "udp", hostname: "10.0.0.1", port: 4000 });
    assert.equal(b.counters.get("udp.rx.no_socket").value, 2);
    assert.equal(b.counters.get("udp.rx.datagrams").value, 1);
    conn.close();
  });
});

Deno.test("udp connected socket sends to its peer without an address", async () => {
  await withEnv(twoAddressLink(), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", hostname: "10.0.0.3", port: 53 });
    const client = env.a.listenDatagram({ transport: "udp", port: 4444 });
    client.connect({ hostname: "10.0.0.3", port: 53 });
    assert.deepEqual(client.remoteAddr, { transport: "udp", hostname: "10.0.0.3", port: 53 });
    assert.deepEqual(client.addr, { transport: "udp", hostname: "10.0.0.1", port: 4444 });
    const reply = await env.run(async () => {
      assert.equal(await client.send(enc.encode("ping")), 4);
      const [d, from] = await server.receive();
      await server.send(d, from);
      const [r, rfrom] = await client.receive();
      return { text: dec.decode(r), rfrom };
    });
    assert.equal(reply.text, "ping");
    assert.deepEqual(reply.rfrom, { transport: "udp", hostname: "10.0.0.3", port: 53 });
    server.close();
    client.close();
  });
});

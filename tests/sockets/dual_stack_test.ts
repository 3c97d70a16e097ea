/**
 * Dual-stack sockets over the real IPv6 and ICMPv6 plugins, on a raw-IP
 * link (no Neighbor Discovery needed): a `::` listener takes both families
 * and reports IPv4 peers IPv4-mapped as Deno does on Linux
 * (`::ffff:10.0.0.1`, measured with Deno 2.9.6), `v6only`, IPv4-mapped
 * literals, and the same errors for the same mistakes as over IPv4.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import type { UdpService } from "../../mod.ts";
import { dualLink } from "./_dual.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("dual-stack listener on :: accepts IPv4 (shown ::ffff:…) and IPv6 connections", async () => {
  const env = dualLink();
  await env.run(async () => {
    using l = env.b.listen({ hostname: "::", port: 80 });
    assert.deepEqual(l.addr, { transport: "tcp", hostname: "::", port: 80 });
    const [c4, s4] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    // The client is an IPv4 socket: plain IPv4 (Deno: client side "127.0.0.1").
    assert.equal(c4.remoteAddr.hostname, "10.0.0.2");
    assert.equal(c4.localAddr.hostname, "10.0.0.1");
    // The server's accepted socket is IPv6: both ends IPv4-mapped, as Deno shows them.
    assert.deepEqual(s4.remoteAddr, {
      transport: "tcp",
      hostname: "::ffff:10.0.0.1",
      port: c4.localAddr.port,
    });
    assert.deepEqual(s4.localAddr, { transport: "tcp", hostname: "::ffff:10.0.0.2", port: 80 });
    // ss shows the IPv6 socket's view too; the client's is plain IPv4.
    const row = (h: typeof env.a) =>
      h.sockets().filter((x) => x.state === "ESTABLISHED").map((x) => `${x.local} ${x.remote}`);
    assert.deepEqual(row(env.b), [`[::ffff:10.0.0.2]:80 [::ffff:10.0.0.1]:${c4.localAddr.port}`]);
    assert.deepEqual(row(env.a), [`10.0.0.1:${c4.localAddr.port} 10.0.0.2:80`]);
    const [c6, s6] = await Promise.all([
      env.a.connect({ hostname: "fd00::2", port: 80 }),
      l.accept(),
    ]);
    assert.equal(s6.remoteAddr.hostname, "fd00::1");
    assert.equal(s6.localAddr.hostname, "fd00::2");
    assert.equal(c6.remoteAddr.hostname, "fd00::2");
    for (const [c, s] of [[c4, s4], [c6, s6]] as const) {
      await c.write(enc.encode("ping"));
      const buf = new Uint8Array(4);
      assert.equal(await s.read(buf), 4);
      assert.equal(dec.decode(buf), "ping");
      c.close();
      s.close();
    }
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("dual-stack: ss shows a :: listener as *:80 and a v6only one as [::]:81", () => {
  const env = dualLink();
  const l = env.b.listen({ hostname: "::", port: 80 });
  const l6 = env.b.listen({ hostname: "::", port: 81, v6only: true });
  const rows = env.b.sockets().filter((s) => s.state === "LISTEN").map((s) =>
    `${s.local} ${s.remote}`
  );
  assert.deepEqual(rows.sort(), ["*:80 *:*", "[::]:81 [::]:*"]);
  l.close();
  l6.close();
  env.finish();
});

Deno.test("dual-stack: :: and 0.0.0.0 on one port clash either way unless v6only", () => {
  const env = dualLink();
  const any6 = env.b.listen({ hostname: "::", port: 80 });
  assert.throws(() => env.b.listen({ hostname: "0.0.0.0", port: 80 }), Deno.errors.AddrInUse);
  assert.throws(() => env.b.listen({ hostname: "10.0.0.2", port: 80 }), Deno.errors.AddrInUse);
  any6.close();
  const any4 = env.b.listen({ hostname: "0.0.0.0", port: 80 });
  assert.throws(() => env.b.listen({ hostname: "::", port: 80 }), Deno.errors.AddrInUse);
  const only6 = env.b.listen({ hostname: "::", port: 80, v6only: true });
  assert.throws(() => env.b.listen({ hostname: "[::]", port: 80 }), Deno.errors.AddrInUse);
  only6.close();
  any4.close();
  assert.throws(
    () => env.b.listen({ hostname: "::", port: 80, v6only: "yes" as never }),
    TypeError,
  );
  env.finish();
});

Deno.test("v6only listener: IPv4 connections are refused, IPv6 ones accepted", async () => {
  const env = dualLink();
  await env.run(async () => {
    using l = env.b.listen({ hostname: "::", port: 80, v6only: true });
    await assert.rejects(
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      Deno.errors.ConnectionRefused,
    );
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "fd00::2", port: 80 }),
      l.accept(),
    ]);
    assert.equal(s.remoteAddr.hostname, "fd00::1");
    c.close();
    s.close();
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("an IPv4-mapped literal connects over IPv4 and shows the mapped form", async () => {
  const env = dualLink();
  await env.run(async () => {
    using l = env.b.listen({ hostname: "::ffff:10.0.0.2", port: 80 });
    assert.equal(l.addr.hostname, "::ffff:10.0.0.2");
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "::ffff:10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    assert.equal(c.remoteAddr.hostname, "::ffff:10.0.0.2");
    assert.equal(c.localAddr.hostname, "::ffff:10.0.0.1");
    assert.equal(s.remoteAddr.hostname, "::ffff:10.0.0.1");
    c.close();
    s.close();
  }, { timeout: ms(10_000) });
  assert.ok(env.a.counters.value("ipv4.tx.packets") > 0, "went over IPv4");
  env.finish();
});

Deno.test("IPv6 sockets fail with the same errors as IPv4 for the same mistakes", async () => {
  const env = dualLink();
  await env.run(async () => {
    for (const [v4, v6] of [["10.0.0.2", "fd00::2"], ["10.0.0.9", "fd00::9"]]) {
      const e4 = await env.a.connect({ hostname: v4!, port: 81 }).then(() => null, (e) => e);
      const e6 = await env.a.connect({ hostname: v6!, port: 81 }).then(() => null, (e) => e);
      assert.ok(e4 !== null && e6 !== null);
      assert.equal(e6.constructor, e4.constructor, `${v4}: ${e4}, ${v6}: ${e6}`);
    }
  }, { timeout: ms(600_000) });
  for (const [v4, v6] of [["192.168.9.9", "2001:db8::9"]]) {
    await assert.rejects(
      env.a.connect({ hostname: v4!, port: 80 }),
      Deno.errors.NetworkUnreachable,
    );
    await assert.rejects(
      env.a.connect({ hostname: v6!, port: 80 }),
      Deno.errors.NetworkUnreachable,
    );
  }
  for (const h of ["10.0.0.2", "fd00::2"]) {
    await assert.rejects(env.a.connect({ hostname: h, port: 70000 }), RangeError);
    await assert.rejects(env.a.connect({ hostname: h, port: 1.5 }), TypeError);
  }
  for (const h of ["10.0.0.1", "fd00::1"]) {
    const l = env.a.listen({ hostname: h, port: 80 });
    assert.throws(() => env.a.listen({ hostname: h, port: 80 }), Deno.errors.AddrInUse);
    l.close();
  }
  assert.throws(
    () => env.a.listen({ hostname: "10.0.0.7", port: 80 }),
    Deno.errors.AddrNotAvailable,
  );
  assert.throws(
    () => env.a.listen({ hostname: "fd00::7", port: 80 }),
    Deno.errors.AddrNotAvailable,
  );
  assert.throws(() => env.a.listen({ hostname: "fd00::zz", port: 80 }), TypeError);
  env.finish();
});

Deno.test("UDP on :: receives IPv4 datagrams from ::ffff:… and answers them", async () => {
  const env = dualLink();
  await env.run(async () => {
    using server = env.b.listenDatagram({ transport: "udp", hostname: "::", port: 53 });
    using client4 = env.a.listenDatagram({ transport: "udp", hostname: "10.0.0.1", port: 5000 });
    using client6 = env.a.listenDatagram({ transport: "udp", hostname: "fd00::1", port: 5000 });
    await client4.send(enc.encode("q4"), { hostname: "10.0.0.2", port: 53 });
    const [d4, from4] = await server.receive();
    assert.equal(dec.decode(d4), "q4");
    assert.deepEqual(from4, { transport: "udp", hostname: "::ffff:10.0.0.1", port: 5000 });
    await server.send(enc.encode("a4"), from4);
    const [r4, rfrom4] = await client4.receive();
    assert.equal(dec.decode(r4), "a4");
    assert.deepEqual(rfrom4, { transport: "udp", hostname: "10.0.0.2", port: 53 });
    // A plain IPv4 literal works from a dual-stack socket too (Deno: it does).
    await server.send(enc.encode("b4"), { hostname: "10.0.0.1", port: 5000 });
    assert.equal(dec.decode((await client4.receive())[0]), "b4");
    await client6.send(enc.encode("q6"), { hostname: "fd00::2", port: 53 });
    const [, from6] = await server.receive();
    assert.deepEqual(from6, { transport: "udp", hostname: "fd00::1", port: 5000 });
    const rows = [env.a, env.b].flatMap((h) => h.service<UdpService>("udp.sockets")!.list());
    assert.deepEqual(
      rows.map((s) => `${s.local} ${s.remote}`).sort(),
      ["*:53 *:*", "10.0.0.1:5000 0.0.0.0:*", "[fd00::1]:5000 [::]:*"].sort(),
    );
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("UDP v6only :: shares its port with 0.0.0.0, which gets the IPv4 datagrams; sending to IPv4 is a TypeError", async () => {
  const env = dualLink();
  await env.run(async () => {
    using server = env.b.listenDatagram({
      transport: "udp",
      hostname: "::",
      port: 53,
      v6only: true,
    });
    using v4 = env.b.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 53 });
    using client = env.a.listenDatagram({ transport: "udp", port: 5000 });
    await client.send(enc.encode("q4"), { hostname: "10.0.0.2", port: 53 });
    const [, from] = await v4.receive();
    assert.equal(from.hostname, "10.0.0.1");
    assert.equal(server.dropped, 0);
    await assert.rejects(
      server.send(enc.encode("x"), { hostname: "10.0.0.1", port: 5000 }),
      TypeError,
    );
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("UDP on :: connects to an IPv4-mapped peer: IPv4 on the wire, mapped in the API", async () => {
  const env = dualLink();
  await env.run(async () => {
    using server = env.b.listenDatagram({ transport: "udp", hostname: "10.0.0.2", port: 53 });
    using client = env.a.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
    client.connect({ hostname: "::ffff:10.0.0.2", port: 53 });
    assert.deepEqual(client.remoteAddr, {
      transport: "udp",
      hostname: "::ffff:10.0.0.2",
      port: 53,
    });
    assert.deepEqual(client.addr, { transport: "udp", hostname: "::ffff:10.0.0.1", port: 5000 });
    await client.send(enc.encode("q"));
    const [, from] = await server.receive();
    assert.deepEqual(from, { transport: "udp", hostname: "10.0.0.1", port: 5000 });
    await server.send(enc.encode("a"), from);
    const [data, back] = await client.receive();
    assert.equal(dec.decode(data), "a");
    assert.equal(back.hostname, "::ffff:10.0.0.2");
    // Connected to IPv4, its source is an IPv4 address now: it sends IPv4 only.
    await assert.rejects(
      client.send(enc.encode("x"), { hostname: "fd00::2", port: 53 }),
      TypeError,
    );
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("UDP :: and 0.0.0.0 sharing a port (SO_REUSEADDR): IPv4 goes to the IPv4 socket first", async () => {
  const env = dualLink();
  await env.run(async () => {
    assert.throws(() => {
      using _a = env.b.listenDatagram({ transport: "udp", hostname: "::", port: 53 });
      env.b.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 53 });
    }, Deno.errors.AddrInUse);
    // The IPv4 one first: among equals the newest wins, so only the family's point decides.
    using any4 = env.b.listenDatagram({
      transport: "udp",
      hostname: "0.0.0.0",
      port: 53,
      reuseAddress: true,
    });
    using any6 = env.b.listenDatagram({
      transport: "udp",
      hostname: "::",
      port: 53,
      reuseAddress: true,
    });
    using client = env.a.listenDatagram({ transport: "udp", hostname: "::" });
    await client.send(enc.encode("4"), { hostname: "10.0.0.2", port: 53 });
    await client.send(enc.encode("6"), { hostname: "fd00::2", port: 53 });
    const [d4, from4] = await any4.receive();
    const [d6, from6] = await any6.receive();
    assert.deepEqual([dec.decode(d4), from4.hostname], ["4", "10.0.0.1"]);
    assert.deepEqual([dec.decode(d6), from6.hostname], ["6", "fd00::1"]);
  }, { timeout: ms(10_000) });
  env.finish();
});

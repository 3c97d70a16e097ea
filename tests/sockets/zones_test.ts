/**
 * IPv6 zones (RFC 4007 §11) on sockets: `fe80::2%tun1` reaches the
 * neighbour on that link even when another link has a host with the same
 * link-local address; a link-local peer or local address without a zone is
 * refused as Linux refuses it (EINVAL, a `TypeError` in Deno), and a UDP
 * send without one too unless the socket's zone or the stack's only
 * interface names the link; `remoteAddr` shows no zone, as
 * Deno's does not (measured with Deno 2.9.6 over a veth pair). A UDP
 * datagram's sender shows the zone it arrived on when it is link-local
 * (`fe80::2%tun1`, Linux's `sin6_scope_id`), so that answering it works
 * on a host with several links.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { twoLinksThroughA } from "./_zones.ts";

/** Host a on two raw-IP links, to b (tun0) and to c (tun1); b and c both are fe80::2. */
function twoLinks() {
  return twoLinksThroughA(41, {
    aTun0: ["fe80::1/64", "fd00:b::1/64"],
    aTun1: ["fe80::1:1/64", "fd00:c::1/64"],
    b: ["fe80::2/64", "fd00:b::2/64"],
    c: ["fe80::2/64", "fd00:c::2/64"],
  });
}

const enc = new TextEncoder();
const isTypeError = (message: RegExp) => (e: unknown) =>
  e instanceof TypeError && message.test(e.message);

Deno.test("tcp connect to fe80::2%tun1 reaches the host on tun1, not the fe80::2 on tun0", async () => {
  const { env, a, b, c } = twoLinks();
  const tun1 = a.interfaces.byName("tun1")!.index;
  await env.run(async () => {
    using lb = b.listen({ hostname: "::", port: 80 });
    using lc = c.listen({ hostname: "::", port: 80 });
    const gotB = lb.accept();
    for (const hostname of ["fe80::2%tun1", `fe80::2%${tun1}`, `[fe80::2%tun1]`]) {
      const [conn, s] = await Promise.all([a.connect({ hostname, port: 80 }), lc.accept()]);
      // Deno's remoteAddr carries no zone (Rust's Ipv6Addr text).
      assert.deepEqual(conn.remoteAddr, { transport: "tcp", hostname: "fe80::2", port: 80 });
      assert.equal(conn.localAddr.hostname, "fe80::1:1", "the source is tun1's link-local");
      assert.equal(s.remoteAddr.hostname, "fe80::1:1");
      await conn.write(enc.encode("hi"));
      assert.equal(await s.read(new Uint8Array(2)), 2);
      conn.close();
      s.close();
    }
    const [toB, sb] = await Promise.all([a.connect({ hostname: "fe80::2%tun0", port: 80 }), gotB]);
    assert.equal(toB.localAddr.hostname, "fe80::1");
    assert.equal(sb.remoteAddr.hostname, "fe80::1");
    toB.close();
    sb.close();
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("tcp connect to a link-local address: no zone is a TypeError unless the local address names the link", async () => {
  const { env, a, c } = twoLinks();
  await assert.rejects(a.connect({ hostname: "fe80::2", port: 80 }), TypeError);
  await assert.rejects(a.connect({ hostname: "fe80::2%eth9", port: 80 }), TypeError);
  await assert.rejects(a.connect({ hostname: "fe80::2%99", port: 80 }), TypeError);
  await assert.rejects(a.connect({ hostname: "10.0.0.1%tun0", port: 80 }), TypeError);
  // Linux: a link-local local address without its zone is bind()'s EINVAL,
  // a zoned global one names no link, and two zones must agree.
  await assert.rejects(
    a.connect({ hostname: "fe80::2", port: 80, localAddress: "fe80::1:1" }),
    isTypeError(/^Cannot bind to fe80::1:1: a link-local address needs a zone/),
  );
  await assert.rejects(
    a.connect({ hostname: "fe80::2%tun1", port: 80, localAddress: "fe80::1:1" }),
    TypeError,
  );
  await assert.rejects(
    a.connect({ hostname: "fe80::2", port: 80, localAddress: "fd00:c::1%tun1" }),
    TypeError,
  );
  await assert.rejects(
    a.connect({ hostname: "fe80::2%tun0", port: 80, localAddress: "fe80::1:1%tun1" }),
    isTypeError(/name different links/),
  );
  await env.run(async () => {
    using lc = c.listen({ hostname: "fe80::2%tun0", port: 80 });
    const [conn, s] = await Promise.all([
      a.connect({ hostname: "fe80::2", port: 80, localAddress: "fe80::1:1%tun1" }),
      lc.accept(),
    ]);
    assert.equal(s.remoteAddr.hostname, "fe80::1:1");
    conn.close();
    s.close();
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("udp send and connect with a zone pick the link; the sender shows its zone", async () => {
  const { env, a, b, c } = twoLinks();
  await env.run(async () => {
    using sb = b.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
    using sc = c.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
    using client = a.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
    await client.send(enc.encode("to c"), { hostname: "fe80::2%tun1", port: 7 });
    const [data, from] = await sc.receive();
    assert.equal(new TextDecoder().decode(data), "to c");
    assert.deepEqual(from, { transport: "udp", hostname: "fe80::1:1%tun0", port: 5000 });
    await sc.send(data, from);
    const [, back] = await client.receive();
    assert.equal(back.hostname, "fe80::2%tun1", "c's answer came in on tun1");
    assert.equal(sb.dropped, 0);
    assert.throws(() => client.connect({ hostname: "fe80::2", port: 7 }), TypeError);
    client.connect({ hostname: "fe80::2%tun0", port: 7 });
    await client.send(enc.encode("to b"));
    const [, fromB] = await sb.receive();
    assert.equal(fromB.hostname, "fe80::1%tun0");
  }, { timeout: ms(10_000) });
  env.finish();
});

Deno.test("udp to ff02::1%tun1 reaches the hosts on tun1 only", async () => {
  const { env, a, b, c } = twoLinks();
  await env.run(async () => {
    using _sb = b.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
    using sc = c.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
    using client = a.listenDatagram({ transport: "udp", hostname: "::" });
    await client.send(enc.encode("all"), { hostname: "ff02::1%tun1", port: 7 });
    const [, from] = await sc.receive();
    assert.equal(from.hostname, "fe80::1:1%tun0");
  }, { timeout: ms(10_000) });
  assert.equal(b.counters.value("udp.rx.datagrams"), 0);
  assert.equal(c.counters.value("udp.rx.datagrams"), 1);
  env.finish();
});

Deno.test("udp send to a link-local address without a zone: a TypeError on a two-link stack unless the socket is bound with a zone; bind needs the zone too", async () => {
  const { env, a, b, c } = twoLinks();
  assert.throws(
    () => a.listenDatagram({ transport: "udp", hostname: "fe80::1:1", port: 6000 }),
    isTypeError(/needs a zone/),
  );
  await env.run(async () => {
    using sb = b.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
    using sc = c.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
    using any = a.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
    await assert.rejects(
      any.send(enc.encode("where?"), { hostname: "fe80::2", port: 7 }),
      isTypeError(/^Cannot send to \[fe80::2\]:7: a link-local address needs a zone/),
    );
    using onTun1 = a.listenDatagram({ transport: "udp", hostname: "fe80::1:1%tun1", port: 5001 });
    await onTun1.send(enc.encode("to c"), { hostname: "fe80::2", port: 7 });
    const [data, from] = await sc.receive();
    assert.equal(new TextDecoder().decode(data), "to c");
    assert.deepEqual(from, { transport: "udp", hostname: "fe80::1:1%tun0", port: 5001 });
    assert.equal(sb.dropped, 0);
  }, { timeout: ms(10_000) });
  assert.equal(b.counters.value("udp.rx.datagrams"), 0);
  env.finish();
});

Deno.test("udp server on two links answers each link-local sender at its from address, on the link it came from", async () => {
  // b and c both are fe80::2: only the zone in `from` tells the links apart.
  const { env, a, b, c } = twoLinks();
  await env.run(async () => {
    using server = a.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
    const echo = (async () => {
      for await (const [data, from] of server) await server.send(data, from);
    })();
    using fromB = b.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
    using fromC = c.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
    await fromC.send(enc.encode("from c"), { hostname: "fe80::1:1%tun0", port: 7 });
    await fromB.send(enc.encode("from b"), { hostname: "fe80::1%tun0", port: 7 });
    const [dataC, serverSeenByC] = await fromC.receive();
    const [dataB, serverSeenByB] = await fromB.receive();
    assert.equal(new TextDecoder().decode(dataC), "from c");
    assert.equal(new TextDecoder().decode(dataB), "from b");
    assert.equal(serverSeenByC.hostname, "fe80::1:1%tun0");
    assert.equal(serverSeenByB.hostname, "fe80::1%tun0");
    server.close();
    await echo;
    assert.equal(fromB.dropped + fromC.dropped, 0);
  }, { timeout: ms(10_000) });
  // Each answer went out on the link its request came in on.
  assert.equal(b.counters.value("udp.rx.datagrams"), 1);
  assert.equal(c.counters.value("udp.rx.datagrams"), 1);
  env.finish();
});

Deno.test("udp sender text keeps no zone for a global IPv6 sender (IPv4 and mapped ones: dual_stack_test)", async () => {
  const { env, a, c } = twoLinks();
  await env.run(async () => {
    using server = a.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
    using client = c.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
    await client.send(enc.encode("global"), { hostname: "fd00:c::1", port: 7 });
    const [, from] = await server.receive();
    assert.deepEqual(from, { transport: "udp", hostname: "fd00:c::2", port: 5000 });
    await server.send(enc.encode("back"), from);
    const [, back] = await client.receive();
    assert.deepEqual(back, { transport: "udp", hostname: "fd00:c::1", port: 7 });
  }, { timeout: ms(10_000) });
  env.finish();
});

/**
 * NPTv6 (RFC 6296) on a router between two LANs: ping, TCP and UDP across
 * in both directions, ICMPv6 errors with their quoted headers translated,
 * checksums valid untouched (tshark), and the unmappable subnet dropped.
 */
import assert from "node:assert/strict";
import { assertTsharkClean } from "../_tshark.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ipv6DestinationKey, ipv6NextHeader, ipv6SourceKey } from "../../stack/wire/ipv6.ts";
import { verifyIcmpv6Checksum } from "../../stack/wire/icmpv6.ts";
import { H1_OUTSIDE, makeNptNet } from "./_npt_net.ts";

const k = (s: string) => IpAddress.parse(s)!.key;
const H1 = "fd01:203:405:1::10";
const H3 = "2001:db8:ff::30";

/** The IPv6 packets of `frames` whose source is `src`. */
function from(frames: Uint8Array[], src: string): Uint8Array[] {
  return frames.filter((f) => ipv6SourceKey(f, 0) === k(src));
}

Deno.test("nptv6 ping inside → outside: H3 sees H1's outside address, H1 gets the reply", async () => {
  const n = makeNptNet();
  const reply = await n.run(() => n.h1.ping(H3));
  assert.equal(reply.from, H3);
  assert.equal(from(n.outside.frames(), H1_OUTSIDE).length, 1);
  assert.equal(from(n.outside.frames(), H1).length, 0, "the inside address never leaves");
  assert.equal(n.r.counters.value("nptv6.outbound"), 1);
  assert.equal(n.r.counters.value("nptv6.inbound"), 1);
  for (const c of [n.inside, n.outside]) await assertTsharkClean(c.bytes());
  n.finish();
});

Deno.test("nptv6 TCP both ways: the outside sees the translated address, and can connect to it", async () => {
  const n = makeNptNet();
  await n.run(async () => {
    using l3 = n.h3.listen({ hostname: H3, port: 9 });
    const [c, s] = await Promise.all([n.h1.connect({ hostname: H3, port: 9 }), l3.accept()]);
    assert.equal(s.remoteAddr.hostname, H1_OUTSIDE);
    assert.equal(c.localAddr.hostname, H1);
    const data = new Uint8Array(20_000).map((_, i) => (i * 7) & 0xff);
    const writing = (async () => {
      for (let w = 0; w < data.length;) w += await c.write(data.subarray(w));
    })();
    const got = new Uint8Array(data.length);
    let at = 0;
    while (at < got.length) at += (await s.read(got.subarray(at)))!;
    await writing;
    assert.deepEqual(got, data);
    c.close();
    s.close();
    // Stateless: a connection from outside to the outside address reaches H1.
    using l1 = n.h1.listen({ hostname: "::", port: 8080 });
    const [c2, s2] = await Promise.all([
      n.h3.connect({ hostname: H1_OUTSIDE, port: 8080 }),
      l1.accept(),
    ]);
    assert.equal(s2.remoteAddr.hostname, H3);
    assert.equal(c2.remoteAddr.hostname, H1_OUTSIDE);
    c2.close();
    s2.close();
  });
  for (const c of [n.inside, n.outside]) await assertTsharkClean(c.bytes());
  n.finish();
});

Deno.test("nptv6 UDP across: the answer goes back to the translated address and reaches H1", async () => {
  const n = makeNptNet();
  const text = new TextEncoder();
  await n.run(async () => {
    using srv = n.h3.listenDatagram({ transport: "udp", hostname: H3, port: 7 });
    using cli = n.h1.listenDatagram({ transport: "udp", hostname: H1, port: 40000 });
    await cli.send(text.encode("ping"), { transport: "udp", hostname: H3, port: 7 });
    const [q, who] = await srv.receive();
    assert.equal(new TextDecoder().decode(q), "ping");
    assert.equal((who as Deno.NetAddr).hostname, H1_OUTSIDE);
    assert.equal((who as Deno.NetAddr).port, 40000);
    await srv.send(text.encode("pong"), who);
    const [a, peer] = await cli.receive();
    assert.equal(new TextDecoder().decode(a), "pong");
    assert.equal((peer as Deno.NetAddr).hostname, H3);
  });
  for (const c of [n.inside, n.outside]) await assertTsharkClean(c.bytes());
  n.finish();
});

Deno.test("nptv6 port unreachable from outside: its quoted source is translated back, checksum still valid", async () => {
  const n = makeNptNet();
  await n.run(async () => {
    using cli = n.h1.listenDatagram({ transport: "udp", hostname: H1, port: 40001 });
    await cli.send(new Uint8Array(8), { transport: "udp", hostname: H3, port: 9999 });
  });
  n.runFor(10_000);
  const out = n.outside.frames().filter((f) => ipv6NextHeader(f, 0) === 58 && f[40] === 1);
  assert.equal(out.length, 1);
  assert.equal(ipv6SourceKey(out[0]!, 48), k(H1_OUTSIDE), "outside, it quotes the outside address");
  const inn = n.inside.frames().filter((f) => ipv6NextHeader(f, 0) === 58 && f[40] === 1);
  assert.equal(inn.length, 1);
  const e = inn[0]!;
  assert.equal(ipv6DestinationKey(e, 0), k(H1));
  assert.equal(ipv6SourceKey(e, 48), k(H1), "inside, the quote names H1's own address");
  assert.ok(verifyIcmpv6Checksum(e, 0, 40, e.length));
  assert.equal(n.r.counters.value("nptv6.icmp_quoted"), 1);
  for (const c of [n.inside, n.outside]) await assertTsharkClean(c.bytes());
  n.finish();
});

Deno.test("nptv6 time exceeded at R for an inbound probe quotes the outside address the prober used", async () => {
  const n = makeNptNet();
  await assert.rejects(
    n.run(() => n.h3.ping(H1_OUTSIDE, { ttl: 1 })),
    (e: Error) => /exceeded in transit from 2001:db8:ff::1$/.test(e.message),
  );
  const te = n.outside.frames().filter((f) => ipv6NextHeader(f, 0) === 58 && f[40] === 3);
  assert.equal(te.length, 1);
  assert.equal(ipv6DestinationKey(te[0]!, 48), k(H1_OUTSIDE));
  assert.ok(verifyIcmpv6Checksum(te[0]!, 0, 40, te[0]!.length));
  await assertTsharkClean(n.outside.bytes());
  n.finish();
});

Deno.test("nptv6 drops a packet from the subnet whose adjustment word is 0xFFFF (RFC 6296 §3.4)", async () => {
  const n = makeNptNet();
  await n.run(async () => {
    using cli = n.h1.listenDatagram({
      transport: "udp",
      hostname: "fd01:203:405:ffff::10",
      port: 40002,
    });
    await cli.send(new Uint8Array(8), { transport: "udp", hostname: H3, port: 7 });
  });
  n.runFor(10_000);
  assert.equal(n.r.counters.value("nptv6.postrouting.unmappable"), 1);
  assert.equal(n.outside.frames().filter((f) => ipv6NextHeader(f, 0) === 17).length, 0);
  n.finish();
});

import assert from "node:assert/strict";
import { assertTsharkClean } from "../_tshark.ts";
import { count, makeNatNet, P, PUBLIC } from "./_nat.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("nat: port forwarding: P reaches H2:80 through the public address, port 8080", async () => {
  const n = makeNatNet({ rules: ["dnat -i eth1 -p tcp --dport 8080 --to 10.1.0.20:80"] });
  const l = n.h2.listen({ port: 80 });
  await n.run(async () => {
    const [c, s] = await Promise.all([n.p.connect({ hostname: PUBLIC, port: 8080 }), l.accept()]);
    assert.equal(s.remoteAddr.hostname, P); // no SNAT towards the LAN
    assert.equal(c.remoteAddr.port, 8080);
    await c.write(enc.encode("GET / HTTP/1.0\r\n\r\n"));
    const b = new Uint8Array(64);
    const k = (await s.read(b))!;
    assert.equal(dec.decode(b.subarray(0, k)), "GET / HTTP/1.0\r\n\r\n");
    await s.write(enc.encode("HTTP/1.0 200 OK\r\n\r\n"));
    const k2 = (await c.read(b))!;
    assert.equal(dec.decode(b.subarray(0, k2)), "HTTP/1.0 200 OK\r\n\r\n");
    c.close();
    s.close();
  });
  l.close();
  n.runFor(1_000_000);
  assert.equal(count(n.nat, "nat.flow.dnat"), 1);
  for (const cap of [n.lan, n.wan, n.far]) await assertTsharkClean(cap.bytes());
  n.runFor(200_000_000);
  n.finish();
});

Deno.test("nat: hairpin: H1 reaches the forwarded port on the public address; H2 sees the public address as source", async () => {
  const n = makeNatNet({ rules: ["dnat -p tcp --dport 8080 -d 203.0.113.1 --to 10.1.0.20:80"] });
  const l = n.h2.listen({ port: 80 });
  await n.run(async () => {
    const [c, s] = await Promise.all([n.h1.connect({ hostname: PUBLIC, port: 8080 }), l.accept()]);
    // Translated, so that H2's answers go back through the NAT (RFC 4787 REQ-9).
    assert.equal(s.remoteAddr.hostname, PUBLIC);
    await c.write(enc.encode("ping"));
    const b = new Uint8Array(8);
    assert.equal(await s.read(b), 4);
    await s.write(enc.encode("pong"));
    assert.equal(await c.read(b), 4);
    assert.equal(dec.decode(b.subarray(0, 4)), "pong");
    c.close();
    s.close();
  });
  l.close();
  n.runFor(1_000_000);
  assert.equal(count(n.nat, "nat.flow.hairpin"), 1);
  await assertTsharkClean(n.lan.bytes());
  n.runFor(200_000_000);
  n.finish();
});

Deno.test("nat: hairpin through a UDP mapping (endpoint-independent filtering): H1 reaches H2's mapping", async () => {
  const n = makeNatNet({ nat: { filtering: "endpoint" } });
  const b2 = n.h2.listenDatagram({ transport: "udp", port: 4000 });
  const ps = n.p.listenDatagram({ transport: "udp", port: 7 });
  await n.run(async () => {
    await b2.send(enc.encode("open"), { transport: "udp", hostname: P, port: 7 });
    await ps.receive();
  });
  ps.close();
  const b1 = n.h1.listenDatagram({ transport: "udp", port: 4001 });
  await n.run(async () => {
    await b1.send(enc.encode("hairpin"), { transport: "udp", hostname: PUBLIC, port: 4000 });
    const [d, from] = await b2.receive();
    assert.equal(dec.decode(d), "hairpin");
    assert.equal((from as Deno.NetAddr).hostname, PUBLIC);
    await b2.send(enc.encode("back"), from);
    const [d2, from2] = await b1.receive();
    assert.equal(dec.decode(d2), "back");
    assert.deepEqual([(from2 as Deno.NetAddr).hostname, (from2 as Deno.NetAddr).port], [
      PUBLIC,
      4000,
    ]);
  });
  b1.close();
  b2.close();
  n.finish();
});

Deno.test("nat: REDIRECT sends P's connections to port 80 to the NAT's own port 8080", async () => {
  const n = makeNatNet({ rules: ["redirect -i eth1 -p tcp --dport 80 --to 8080"] });
  const l = n.nat.listen({ port: 8080 });
  await n.run(async () => {
    const [c, s] = await Promise.all([n.p.connect({ hostname: PUBLIC, port: 80 }), l.accept()]);
    assert.equal(s.localAddr.port, 8080);
    assert.equal(c.remoteAddr.port, 80);
    await c.write(enc.encode("hi"));
    assert.equal(await s.read(new Uint8Array(4)), 2);
    c.close();
    s.close();
  });
  l.close();
  n.runFor(200_000_000);
  n.finish();
});

Deno.test("nat: DNAT at output: the NAT's own connection to its public port 8080 goes to H2:80", async () => {
  const n = makeNatNet({ rules: ["dnat -p tcp -d 203.0.113.1 --dport 8080 --to 10.1.0.20:80"] });
  const l = n.h2.listen({ port: 80 });
  await n.run(async () => {
    const [c, s] = await Promise.all([n.nat.connect({ hostname: PUBLIC, port: 8080 }), l.accept()]);
    // Routed again after output (out by the LAN), the source it chose kept,
    // as Linux's ip_route_me_harder(): H2 answers via its default route, the NAT.
    assert.equal(s.remoteAddr.hostname, PUBLIC);
    await s.write(enc.encode("hello"));
    assert.equal(await c.read(new Uint8Array(8)), 5);
    c.close();
    s.close();
  });
  l.close();
  n.runFor(200_000_000);
  n.finish();
});

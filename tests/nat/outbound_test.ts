import assert from "node:assert/strict";
import type { NatService } from "../../mod.ts";
import { checkEthernet, checkIcmp, checkIpv4, framesMatching, ipv4Packet } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { count, makeNatNet, P, PUBLIC } from "./_nat.ts";

const enc = new TextEncoder();

function natTable(n: ReturnType<typeof makeNatNet>): NatService {
  return n.nat.service<NatService>("nat.table")!;
}

Deno.test("nat: ping from inside reaches P from the public address; the identifier is kept when free", async () => {
  const n = makeNatNet();
  const reply = await n.run(() => n.h1.ping(P));
  assert.equal(reply.from, P);
  const requests = framesMatching(
    n.far.frames(),
    checkEthernet({}, checkIpv4({ src: PUBLIC, dst: P }, checkIcmp({ type: 8 }))),
  );
  assert.equal(requests.length, 1);
  const [m] = natTable(n).mappings();
  assert.equal(m!.protocol, "icmp");
  assert.equal(m!.internal.split(":")[1], m!.external.split(":")[1]);
  for (const cap of [n.lan, n.wan, n.far]) await assertTsharkClean(cap.bytes());
  n.finish();
});

/** A UDP echo server on P, port 7, until `close()`. */
function udpEcho(n: ReturnType<typeof makeNatNet>, port = 7) {
  const server = n.p.listenDatagram({ transport: "udp", port });
  const seen: string[] = [];
  const done = (async () => {
    for (;;) {
      const [d, from] = await server.receive();
      seen.push(`${(from as Deno.NetAddr).hostname}:${(from as Deno.NetAddr).port}`);
      await server.send(d, from);
    }
  })().catch(() => {});
  return {
    seen,
    async close() {
      server.close();
      await done;
    },
  };
}

Deno.test("nat: UDP from inside is seen from the public address with the port preserved, and the answer comes back", async () => {
  const n = makeNatNet();
  const echo = udpEcho(n);
  const c = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  await n.run(async () => {
    await c.send(enc.encode("hello"), { transport: "udp", hostname: P, port: 7 });
    const [data, from] = await c.receive();
    assert.equal(new TextDecoder().decode(data), "hello");
    assert.equal((from as Deno.NetAddr).hostname, P);
  });
  assert.deepEqual(echo.seen, [`${PUBLIC}:5000`]);
  assert.deepEqual(natTable(n).mappings(), [
    { protocol: "udp", internal: "10.1.0.10:5000", external: `${PUBLIC}:5000`, flows: 1 },
  ]);
  c.close();
  await echo.close();
  for (const cap of [n.lan, n.wan, n.far]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("nat: two inside hosts with the same source port get distinct mappings (random, same parity)", async () => {
  const n = makeNatNet();
  const echo = udpEcho(n);
  for (const h of [n.h1, n.h2, n.h3]) {
    const c = h.listenDatagram({ transport: "udp", port: 5000 });
    await n.run(async () => {
      await c.send(enc.encode("x"), { transport: "udp", hostname: P, port: 7 });
      await c.receive();
    });
    c.close();
  }
  const ports = echo.seen.map((s) => Number(s.split(":")[1]));
  assert.equal(ports[0], 5000);
  assert.equal(new Set(ports).size, 3);
  for (const p of ports) {
    assert.equal(p % 2, 0, `parity of ${p}`);
    assert.ok(p >= 1024, `${p} stays above 1023`);
  }
  // Not the next ports in sequence.
  assert.ok(!ports.includes(5002) || !ports.includes(5004), String(ports));
  await echo.close();
  n.finish();
});

Deno.test("nat: endpoint-independent mapping: one inside endpoint keeps its external port towards two destinations", async () => {
  const n = makeNatNet();
  const e7 = udpEcho(n, 7);
  const e9 = udpEcho(n, 9);
  // H2 first takes 5000, so H1's mapping is a random port: it must be the same for both.
  for (const [h, port] of [[n.h2, 7], [n.h1, 7], [n.h1, 9]] as const) {
    const c = h.listenDatagram({ transport: "udp", port: 5000 });
    await n.run(async () => {
      await c.send(enc.encode("x"), { transport: "udp", hostname: P, port });
      await c.receive();
    });
    c.close();
  }
  assert.equal(e7.seen[0], `${PUBLIC}:5000`);
  assert.notEqual(e7.seen[1], `${PUBLIC}:5000`);
  assert.equal(e9.seen[0], e7.seen[1]);
  assert.equal(natTable(n).mappings().length, 2);
  await e7.close();
  await e9.close();
  n.finish();
});

Deno.test("nat: address-dependent filtering: P may answer from another port, R2 may not reach the mapping", async () => {
  const n = makeNatNet();
  const c = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  const fromP = n.p.listenDatagram({ transport: "udp", port: 7 });
  await n.run(async () => {
    await c.send(enc.encode("x"), { transport: "udp", hostname: P, port: 7 });
    await fromP.receive();
  });
  fromP.close();
  // From P, another port: the same address, so it passes (RFC 4787 REQ-8 default).
  const other = n.p.listenDatagram({ transport: "udp", port: 7777 });
  const r2 = n.r2.listenDatagram({ transport: "udp", port: 7777 });
  await n.run(async () => {
    await other.send(enc.encode("from p"), { transport: "udp", hostname: PUBLIC, port: 5000 });
    const [d, from] = await c.receive();
    assert.equal(new TextDecoder().decode(d), "from p");
    assert.equal((from as Deno.NetAddr).port, 7777);
    await r2.send(enc.encode("from r2"), { transport: "udp", hostname: PUBLIC, port: 5000 });
  });
  n.runFor(10_000);
  assert.equal(count(n.nat, "nat.prerouting.filtered"), 1);
  other.close();
  r2.close();
  c.close();
  n.finish();
});

Deno.test("nat: endpoint-independent filtering (option) lets any remote reach a mapping", async () => {
  const n = makeNatNet({ nat: { filtering: "endpoint" } });
  const c = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  const fromP = n.p.listenDatagram({ transport: "udp", port: 7 });
  await n.run(async () => {
    await c.send(enc.encode("x"), { transport: "udp", hostname: P, port: 7 });
    await fromP.receive();
  });
  fromP.close();
  const r2 = n.r2.listenDatagram({ transport: "udp", port: 7777 });
  await n.run(async () => {
    await r2.send(enc.encode("from r2"), { transport: "udp", hostname: PUBLIC, port: 5000 });
    const [d] = await c.receive();
    assert.equal(new TextDecoder().decode(d), "from r2");
  });
  assert.equal(count(n.nat, "nat.prerouting.filtered"), 0);
  r2.close();
  c.close();
  n.finish();
});

Deno.test("nat: TCP from inside: P sees the public address; data both ways; the flow closes cleanly", async () => {
  const n = makeNatNet();
  const l = n.p.listen({ port: 9000 }); // not 80: tshark would read the bytes as HTTP
  await n.run(async () => {
    const [c, s] = await Promise.all([n.h1.connect({ hostname: P, port: 9000 }), l.accept()]);
    assert.equal(s.remoteAddr.hostname, PUBLIC);
    const data = new Uint8Array(100_000).map((_, i) => i * 7);
    const got = new Uint8Array(data.length);
    const reading = (async () => {
      let at = 0;
      while (at < got.length) {
        const k = await s.read(got.subarray(at));
        if (k === null) break;
        at += k;
      }
      return at;
    })();
    await c.write(data);
    assert.equal(await reading, data.length);
    assert.deepEqual(got, data);
    await s.write(enc.encode("bye"));
    const b = new Uint8Array(3);
    assert.equal(await c.read(b), 3);
    c.close();
    s.close();
  });
  l.close();
  n.runFor(1_000_000);
  assert.equal(n.nat.conntrack().find((r) => r.protocol === "tcp")?.state, "TIME_WAIT");
  // Window tracking followed every segment (scaled windows included): none went untranslated.
  assert.equal(count(n.nat, "conntrack.track.invalid"), 0);
  n.runFor(200_000_000);
  for (const cap of [n.lan, n.wan, n.far]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("nat: SNAT to an address range and port range: paired pooling, ports in range, parity kept", async () => {
  const n = makeNatNet();
  n.nat.addAddress("eth1", "203.0.113.5/24");
  n.nat.addAddress("eth1", "203.0.113.6/24");
  const nat = natTable(n);
  nat.clearRules();
  nat.addRule("snat -s 10.1.0.0/24 -o eth1 -p udp --to 203.0.113.5-203.0.113.6:20000-20099");
  const echo = udpEcho(n);
  for (const h of [n.h1, n.h2, n.h3]) {
    for (const port of [5000, 5001]) {
      const c = h.listenDatagram({ transport: "udp", port });
      await n.run(async () => {
        await c.send(enc.encode("x"), { transport: "udp", hostname: P, port: 7 });
        await c.receive();
      });
      c.close();
    }
  }
  const seen = echo.seen.map((s) => s.split(":"));
  // One external address per inside host (REQ-2), ports in range with the inside port's parity.
  for (let i = 0; i < 6; i += 2) assert.equal(seen[i]![0], seen[i + 1]![0]);
  for (const [i, [addr, port]] of seen.entries()) {
    assert.match(addr!, /^203\.0\.113\.[56]$/);
    assert.ok(Number(port) >= 20000 && Number(port) <= 20099, port);
    assert.equal(Number(port) % 2, i % 2, `parity of ${port}`);
  }
  await echo.close();
  n.finish();
});

Deno.test("nat: a protocol without ports (GRE) is translated by address, both ways", () => {
  const n = makeNatNet();
  const gre = (src: string, dst: string) =>
    ipv4Packet({ src, dst, protocol: 47 }, new Uint8Array([0, 0, 0x08, 0x00, 1, 2, 3, 4]));
  n.h1.sendRawIpv4(gre("10.1.0.10", P));
  n.runFor(10_000);
  const out = framesMatching(
    n.far.frames(),
    checkEthernet({}, checkIpv4({ src: PUBLIC, dst: P, protocol: 47 })),
  );
  assert.equal(out.length, 1);
  n.p.sendRawIpv4(gre(P, PUBLIC));
  n.runFor(10_000);
  const back = framesMatching(
    n.lan.frames(),
    checkEthernet({}, checkIpv4({ src: P, dst: "10.1.0.10", protocol: 47 })),
  );
  assert.equal(back.length, 1);
  assert.deepEqual(natTable(n).mappings().map((m) => m.external), [`${PUBLIC}:0`]);
  n.finish();
});

import assert from "node:assert/strict";
import { conntrackPlugin } from "../../mod.ts";
import { count, makeRoutedNet6 } from "../ipv6/_topology6.ts";
import { makeHost } from "../_harness.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { writeIpv6Header } from "../../stack/wire/ipv6.ts";

Deno.test("conntrack IPv6: a forwarded ping6 and a TCP connection are tracked on R1", async () => {
  const n = makeRoutedNet6({ r1Plugins: [conntrackPlugin] });
  await n.run(() => n.h1.ping("fd03::30"));
  const l = n.h3.listen({ hostname: "::", port: 9000 });
  await n.run(async () => {
    const [c, s] = await Promise.all([
      n.h1.connect({ hostname: "fd03::30", port: 9000 }),
      l.accept(),
    ]);
    await c.write(new Uint8Array(20_000));
    const b = new Uint8Array(4096);
    let got = 0;
    while (got < 20_000) got += (await s.read(b)) ?? 0;
    c.close();
    s.close();
  });
  l.close();
  n.runFor(1_000_000);
  const rows = n.r1.conntrack().map((r) =>
    `${r.family} ${r.protocol} ${r.state || "-"} ${r.original.src}>${r.original.dst} ${r.flags}`
  );
  assert.deepEqual(rows, [
    "6 icmpv6 - fd01::10>fd03::30 [ASSURED]",
    "6 tcp TIME_WAIT fd01::10>fd03::30 [ASSURED]",
  ]);
  assert.equal(count(n.r1, "conntrack.track.invalid"), 0);
  n.runFor(200_000_000);
  n.finish();
});

Deno.test("conntrack IPv6: a fragmented datagram is reassembled before tracking (defrag) and forwarded", async () => {
  const n = makeRoutedNet6({ r1Plugins: [conntrackPlugin] });
  const server = n.h3.listenDatagram({ transport: "udp", hostname: "::", port: 7 });
  const client = n.h1.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
  await n.run(async () => {
    await client.send(new Uint8Array(3000), { transport: "udp", hostname: "fd03::30", port: 7 });
    const [d] = await server.receive();
    assert.equal(d.length, 3000);
  });
  assert.equal(count(n.r1, "ipv6.rx.reassembled"), 1);
  // Judged by its largest fragment, not refused as too big: fragmented again.
  assert.equal(count(n.r1, "ipv6.rx.fwd_too_big"), 0);
  assert.equal(count(n.r1, "ipv6.tx.fragmented"), 1);
  const [row] = n.r1.conntrack();
  assert.deepEqual([row!.protocol, row!.original.srcPort, row!.original.dstPort], ["udp", 5000, 7]);
  server.close();
  client.close();
  n.finish();
});

Deno.test("conntrack IPv6: an ICMPv6 port unreachable is RELATED to the UDP flow it quotes", async () => {
  const n = makeRoutedNet6({ r1Plugins: [conntrackPlugin] });
  const client = n.h1.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
  await n.run(() =>
    client.send(new Uint8Array(8), { transport: "udp", hostname: "fd03::30", port: 9 })
  );
  n.runFor(10_000);
  assert.equal(count(n.r1, "conntrack.track.related"), 1);
  assert.equal(count(n.r1, "conntrack.track.related_unknown"), 0);
  assert.equal(n.r1.conntrack()[0]!.flags, "[UNREPLIED]");
  client.close();
  n.finish();
});

Deno.test("conntrack IPv6: a forwarded datagram is tracked past Destination Options a destination would refuse", () => {
  const h = makeHost({
    linkType: 101,
    addresses: ["fd00::1/64"],
    withoutPlugins: ["mld"],
    extraPlugins: [conntrackPlugin],
  });
  h.stack.setForwarding(true, 6);
  h.stack.addRoute("fd99::/64", { gateway: "fd00::2" });
  // UDP 5000 → 7 behind an option of type 0x41 (01xxxxxx: a destination
  // discards it, RFC 8200 §4.2; a router forwards it, and tracks its flow).
  const rest = [17, 0, 0x41, 4, 0, 0, 0, 0, 0x13, 0x88, 0, 7, 0, 8, 0, 0];
  const p = new Uint8Array(40 + rest.length);
  const key = (s: string) => IpAddress.parse(s)!.key;
  writeIpv6Header(p, 0, rest.length, 60, 64, key("fd00::2"), key("fd99::5"));
  p.set(rest, 40);
  assert.equal(h.inject(p).length, 1, "forwarded");
  const rows = h.stack.conntrack().map((r) =>
    `${r.protocol} ${r.original.src}:${r.original.srcPort}>${r.original.dst}:${r.original.dstPort}`
  );
  assert.deepEqual(rows, ["udp fd00::2:5000>fd99::5:7"]);
  h.finish();
});

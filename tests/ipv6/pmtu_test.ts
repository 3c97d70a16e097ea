/**
 * Path MTU discovery for IPv6 (RFC 8201) across a 1280-byte middle link:
 * R1 answers with Packet Too Big carrying the outgoing link's MTU, the
 * sender learns it per destination (floor 1280, 10 minutes), fragments at
 * the source from then on, and TCP lowers its MSS.
 */
import assert from "node:assert/strict";
import type { RouteService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import {
  ipv6NextHeader,
  ipv6PayloadLength,
  ipv6SourceKey,
  writeIpv6Header,
} from "../../stack/wire/ipv6.ts";
import { setIcmpv6Checksum } from "../../stack/wire/icmpv6.ts";
import { kernelOf } from "../../stack/stack.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { count, makeRoutedNet6 } from "./_topology6.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

Deno.test("ipv6 pmtu: R1 answers Packet Too Big (mtu 1280); H1 learns it for 10 minutes", async () => {
  const n = makeRoutedNet6({ midMtu: 1280 });
  assert.equal(n.h1.routeGet("fd03::30")!.mtu, 1500);
  await assert.rejects(
    n.run(() => n.h1.ping("fd03::30", { size: 1400, dontFragment: true })),
    (e: Error) => e.message === "packet too big (mtu 1280) from fd01::1",
  );
  // The error on H1's link: type 2 code 0, MTU 1280, as much of the packet as fits in 1280 bytes.
  const ptb = n.lan1.frames().filter((f) =>
    ipv6NextHeader(f, 0) === 58 && f[40] === 2 && ipv6SourceKey(f, 0) === k("fd01::1")
  );
  assert.equal(ptb.length, 1);
  const f = ptb[0]!;
  assert.equal(f.length, 1280);
  assert.equal(ipv6PayloadLength(f, 0), 1240);
  assert.equal(f[41], 0);
  assert.equal(new DataView(f.buffer, f.byteOffset).getUint32(44), 1280);
  assert.equal(count(n.r1, "ipv6.rx.fwd_too_big"), 1);
  const route = n.h1.routeGet("fd03::30")!;
  assert.equal(route.mtu, 1280);
  assert.ok(route.pmtuExpires! > 599_000 && route.pmtuExpires! <= 600_000);
  assert.equal(n.h1.routeGet("fd01::1")!.mtu, 1500, "per destination");
  // From now on H1 fragments at the source. H3's 1448-byte reply is the
  // next to meet the middle link: R2 tells H3, and that reply is lost.
  await assert.rejects(n.run(() => n.h1.ping("fd03::30", { size: 1400 })), Deno.errors.TimedOut);
  assert.equal(count(n.r2, "ipv6.rx.fwd_too_big"), 1);
  assert.equal(n.h3.routeGet("fd01::10")!.mtu, 1280);
  // Now both ends know the path: the ping gets through, fragmented both ways.
  const reply = await n.run(() => n.h1.ping("fd03::30", { size: 1400 }));
  assert.equal(reply.bytes, 1400);
  assert.equal(count(n.h1, "ipv6.tx.fragmented"), 2);
  assert.equal(count(n.h3, "ipv6.tx.fragmented"), 1);
  assert.equal(count(n.h3, "ipv6.rx.reassembled"), 2);
  assert.ok(n.mid.frames().every((x) => x.length <= 1280));
  for (const c of [n.lan1, n.mid]) await assertTsharkClean(c.bytes());
  // RFC 8201 §4: the estimate ages out, so a larger MTU is found again.
  n.net.runFor(600_000_000);
  assert.equal(n.h1.routeGet("fd03::30")!.mtu, 1500);
  assert.equal(n.h1.routeGet("fd03::30")!.pmtuExpires, undefined);
  n.finish();
});

Deno.test("ipv6 pmtu: a report is never above the link, never raises, never goes below 1280", () => {
  const n = makeRoutedNet6();
  const route = n.h1.service<RouteService>("ipv6.route")!;
  const dst = k("fd03::30");
  assert.equal(route.learnPathMtu(dst, 9000), 1500); // not above the link's MTU
  assert.equal(route.pmtuExpires(dst), 0);
  assert.equal(route.learnPathMtu(dst, 1400), 1400);
  assert.equal(route.learnPathMtu(dst, 1450), 1400); // RFC 8201 §4: never raised by a report
  assert.equal(route.learnPathMtu(dst, 600), 1280); // floor: the IPv6 minimum link MTU
  assert.equal(route.pathMtu(dst), 1280);
  assert.equal(route.pmtuExpires(dst), n.net.now() + 600_000_000);
  n.finish();
});

Deno.test("ipv6 pmtu: TCP over IPv6 lowers its MSS from Packet Too Big and never fragments", async () => {
  const n = makeRoutedNet6({ midMtu: 1280 });
  const data = new Uint8Array(100_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
  const l = n.h3.listen({ hostname: "::", port: 9000 });
  await n.run(async () => {
    const [c, s] = await Promise.all([
      n.h1.connect({ hostname: "fd03::30", port: 9000 }),
      l.accept(),
    ]);
    const writer = c.write(data).then(() => c.closeWrite());
    const got = new Uint8Array(data.length + 1);
    let at = 0;
    for (;;) {
      const r = await s.read(got.subarray(at)); // one spare byte: a read never gets an empty buffer
      if (r === null) break;
      at += r;
    }
    await writer;
    assert.equal(at, data.length);
    assert.deepEqual(got.subarray(0, at), data);
    // 1280 − 40 (IPv6) − 20 (TCP) − 12 (timestamps) = 1208.
    const info = n.h1.sockets().find((x) => x.remote.startsWith("[fd03::30]:9000"))!;
    assert.equal(info.mss, 1208);
    c.close();
    s.close();
  }, { timeout: 60_000_000 });
  l.close();
  assert.ok(count(n.r1, "ipv6.rx.fwd_too_big") > 0);
  assert.equal(count(n.h1, "ipv6.tx.fragmented"), 0);
  assert.equal(n.h1.routeGet("fd03::30")!.mtu, 1280);
  assert.ok(n.mid.frames().every((x) => x.length <= 1280));
  n.net.runFor(200_000_000); // TIME-WAIT
  n.finish();
});

Deno.test("ipv6 pmtu: a Packet Too Big quoting a TCP segment outside the window is ignored", async () => {
  const n = makeRoutedNet6();
  const l = n.h3.listen({ hostname: "::", port: 9000 });
  await n.run(async () => {
    const [c, s] = await Promise.all([
      n.h1.connect({ hostname: "fd03::30", port: 9000 }),
      l.accept(),
    ]);
    await c.write(new Uint8Array(3000));
    const got = new Uint8Array(3001);
    let at = 0;
    while (at < 3000) at += (await s.read(got.subarray(at)))!;
    // A data segment H1 sent, its sequence number moved far behind SND.UNA (an off-path forgery).
    const seg = n.lan1.frames().find((f) =>
      ipv6NextHeader(f, 0) === 6 && ipv6SourceKey(f, 0) === k("fd01::10") && f.length > 1000
    )!.slice(0, 1232); // copy: the quote
    const dv = new DataView(seg.buffer);
    dv.setUint32(44, (dv.getUint32(44) - 100_000) >>> 0);
    const ptb = new Uint8Array(48 + seg.length);
    writeIpv6Header(ptb, 0, 8 + seg.length, 58, 64, k("fd01::1"), k("fd01::10"));
    ptb.set([2, 0, 0, 0, 0, 0, 0x05, 0x00], 40); // Packet Too Big, MTU 1280
    ptb.set(seg, 48);
    setIcmpv6Checksum(ptb, 0, 40, ptb.length);
    kernelOf(n.h1).inject(n.h1.interfaces.byName("eth0")!.index, ptb);
    n.net.runFor(0);
    assert.equal(count(n.h1, "tcp.rx.icmp_bad_seq"), 1);
    assert.equal(n.h1.routeGet("fd03::30")!.mtu, 1500, "RFC 5927 §4.1: not lowered by a forgery");
    c.close();
    s.close();
  }, { timeout: 10_000_000 });
  l.close();
  n.net.runFor(200_000_000);
  n.finish();
});

import assert from "node:assert/strict";
import {
  checkEthernet,
  checkIcmp,
  checkIpv4,
  checksum,
  framesMatching,
  ip,
  ipv4Packet,
} from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { tcpHeader, transportPacket } from "../conntrack/_conntrack.ts";
import { count, makeNatNet, P, portUnreachableFromP, PUBLIC } from "./_nat.ts";

const enc = new TextEncoder();

/** The quoted datagram of each ICMP error (type `type`) to `dst` in `frames`. */
function quotedIn(frames: Uint8Array[], dst: string, type: number): Uint8Array[] {
  return framesMatching(
    frames,
    checkEthernet({}, checkIpv4({ dst, protocol: 1 }, checkIcmp({ type }))),
  )
    .map((f) => f.subarray(14 + ((f[14]! & 0x0f) << 2) + 8));
}

/** Source, destination and ports of a quoted IPv4 datagram, as `a:p>b:q`. */
function endpoints(q: Uint8Array): string {
  const dv = new DataView(q.buffer, q.byteOffset, q.byteLength);
  const l4 = (q[0]! & 0x0f) << 2;
  const fmt = (a: number) => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join(".");
  return `${fmt(dv.getUint32(12))}:${dv.getUint16(l4)}>${fmt(dv.getUint32(16))}:${
    dv.getUint16(l4 + 2)
  }`;
}

/** Whether the whole quoted UDP datagram's checksum verifies with its (inner) addresses. */
function quotedUdpChecksumOk(q: Uint8Array): boolean {
  const l4 = (q[0]! & 0x0f) << 2;
  const udp = q.subarray(l4, l4 + ((q[l4 + 4]! << 8) | q[l4 + 5]!));
  const pseudo = new Uint8Array(12 + udp.length);
  pseudo.set(q.subarray(12, 20));
  pseudo[9] = 17;
  pseudo[10] = udp.length >> 8;
  pseudo[11] = udp.length & 255;
  pseudo.set(udp, 12);
  return checksum(pseudo) === 0 && checksum(q.subarray(0, l4)) === 0;
}

Deno.test("nat ICMP: P's port unreachable reaches H1 with the outer and quoted headers translated back (RFC 5508)", async () => {
  const n = makeNatNet();
  const c = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  await n.run(() => c.send(enc.encode("anyone?"), { transport: "udp", hostname: P, port: 9 }));
  n.runFor(10_000);
  // As P sent it: to the public address, about the translated datagram.
  const outside = quotedIn(n.far.frames(), PUBLIC, 3);
  assert.equal(outside.length, 1);
  assert.equal(endpoints(outside[0]!), `${PUBLIC}:5000>${P}:9`);
  // As H1 gets it: to H1, about the datagram H1 sent; every checksum right.
  const inside = quotedIn(n.lan.frames(), "10.1.0.10", 3);
  assert.equal(inside.length, 1);
  assert.equal(endpoints(inside[0]!), `10.1.0.10:5000>${P}:9`);
  assert.ok(quotedUdpChecksumOk(inside[0]!), "quoted UDP checksum");
  assert.equal(count(n.nat, "conntrack.track.related"), 1);
  for (const cap of [n.lan, n.wan, n.far]) await assertTsharkClean(cap.bytes());
  c.close();
  n.finish();
});

Deno.test("nat ICMP: traceroute from inside names the NAT, R2 (time exceeded translated) and P", async () => {
  const n = makeNatNet();
  for (const protocol of ["udp", "icmp"] as const) {
    const hops = await n.run(() => n.h1.traceroute(P, { protocol }));
    assert.deepEqual(
      hops.map((h) => [h.ttl, h.from, h.type, h.reached]),
      [[1, "10.1.0.1", 11, false], [2, "203.0.113.2", 11, false], [
        3,
        P,
        protocol === "udp" ? 3 : 0,
        true,
      ]],
      protocol,
    );
  }
  const exceeded = quotedIn(n.lan.frames(), "10.1.0.10", 11);
  assert.ok(exceeded.length >= 4, `${exceeded.length} time exceeded on the LAN`);
  for (const q of exceeded) {
    assert.equal(new DataView(q.buffer, q.byteOffset).getUint32(12), ip("10.1.0.10"));
  }
  for (const cap of [n.lan, n.wan, n.far]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("nat ICMP: fragmentation needed from R2 reaches H1 translated (MTU kept); H1's socket learns the path MTU", async () => {
  const n = makeNatNet({ farMtu: 1000 });
  const c = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  // 1400 bytes with DF from H1's bound port (UDP itself never sets DF).
  const udp = new Uint8Array(8 + 1372);
  const uv = new DataView(udp.buffer);
  uv.setUint16(0, 5000);
  uv.setUint16(2, 9);
  uv.setUint16(4, udp.length);
  const pseudo = new Uint8Array(12 + udp.length);
  const pv = new DataView(pseudo.buffer);
  pv.setUint32(0, ip("10.1.0.10"));
  pv.setUint32(4, ip(P));
  pv.setUint16(8, 17);
  pv.setUint16(10, udp.length);
  pseudo.set(udp, 12);
  uv.setUint16(6, checksum(pseudo));
  n.h1.sendRawIpv4(ipv4Packet({ src: "10.1.0.10", dst: P, protocol: 17, dontFragment: true }, udp));
  n.runFor(10_000);
  assert.equal(count(n.r2, "ipv4.rx.fwd_frag_needed"), 1);
  const outside = quotedIn(n.wan.frames(), PUBLIC, 3);
  assert.equal(outside.length, 1);
  assert.equal(endpoints(outside[0]!), `${PUBLIC}:5000>${P}:9`);
  const errors = framesMatching(
    n.lan.frames(),
    checkEthernet(
      {},
      checkIpv4({ dst: "10.1.0.10", protocol: 1 }, checkIcmp({ type: 3, code: 4 })),
    ),
  );
  assert.equal(errors.length, 1);
  const f = errors[0]!;
  assert.equal(new DataView(f.buffer, f.byteOffset).getUint16(14 + 20 + 6), 1000); // next-hop MTU
  const inside = quotedIn(n.lan.frames(), "10.1.0.10", 3);
  assert.equal(endpoints(inside[0]!), `10.1.0.10:5000>${P}:9`);
  assert.equal(count(n.h1, "udp.rx.pmtu_updates"), 1);
  assert.equal(n.h1.routeGet(P)?.mtu, 1000);
  for (const cap of [n.lan, n.wan, n.far]) await assertTsharkClean(cap.bytes());
  c.close();
  n.finish();
});

Deno.test("nat ICMP: H1's port unreachable about an inbound datagram leaves with the public address inside and out", async () => {
  const n = makeNatNet();
  const c = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  const ps = n.p.listenDatagram({ transport: "udp", port: 7 });
  await n.run(async () => {
    await c.send(enc.encode("x"), { transport: "udp", hostname: P, port: 7 });
    await ps.receive();
  });
  c.close(); // H1's port closes; the mapping and the flow stay
  await n.run(() =>
    ps.send(enc.encode("late"), { transport: "udp", hostname: PUBLIC, port: 5000 })
  );
  n.runFor(10_000);
  const outside = quotedIn(n.far.frames(), P, 3);
  assert.equal(outside.length, 1);
  const f = framesMatching(
    n.far.frames(),
    checkEthernet({}, checkIpv4({ dst: P, protocol: 1 }, checkIcmp({ type: 3 }))),
  )[0]!;
  assert.equal(new DataView(f.buffer, f.byteOffset).getUint32(14 + 12), ip(PUBLIC));
  assert.equal(endpoints(outside[0]!), `${P}:7>${PUBLIC}:5000`);
  assert.ok(quotedUdpChecksumOk(outside[0]!));
  await assertTsharkClean(n.far.bytes());
  ps.close();
  n.finish();
});

Deno.test("nat ICMP: an error quoting the public address with no flow is dropped (prerouting.unknown_error)", async () => {
  const n = makeNatNet();
  await n.run(() => n.h1.ping(P)); // the NAT has handed out the public address
  const packet = portUnreachableFromP({
    publicPort: 40000,
    totalLength: 28,
    ttl: 64,
    udpLength: 8,
  });
  n.p.sendRawIpv4(packet);
  n.runFor(10_000);
  assert.equal(count(n.nat, "nat.prerouting.unknown_error"), 1);
  n.finish();
});

Deno.test("nat ICMP: the NAT's own time exceeded about a forwarded port's first SYN quotes the public address P sent to", async () => {
  const n = makeNatNet({ rules: ["dnat -i eth1 -p tcp --dport 8080 --to 10.1.0.20:80"] });
  // A SYN from P to PUBLIC:8080 whose TTL runs out at the NAT (tcptraceroute-style).
  const syn = transportPacket(P, PUBLIC, 6, tcpHeader(40000, 8080, 1000, 0, 0x02));
  syn[8] = 2;
  syn[10] = syn[11] = 0;
  new DataView(syn.buffer).setUint16(10, checksum(syn.subarray(0, 20)));
  n.p.sendRawIpv4(syn);
  n.runFor(100_000);
  const quoted = quotedIn(n.far.frames(), P, 11);
  assert.deepEqual(quoted.map(endpoints), [`${P}:40000>${PUBLIC}:8080`]);
  // Outer source the NAT's public address; every checksum right.
  const te = framesMatching(n.far.frames(), checkEthernet({}, checkIpv4({ dst: P, protocol: 1 })));
  assert.equal(te.length, 1);
  assert.deepEqual([...te[0]!.subarray(26, 30)], [203, 0, 113, 1]);
  assert.equal(checksum(te[0]!.subarray(34)), 0);
  assert.equal(count(n.nat, "conntrack.track.related_unknown"), 0);
  await assertTsharkClean(n.far.bytes());
  n.finish();
});

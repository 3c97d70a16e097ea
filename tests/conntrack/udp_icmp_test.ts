import assert from "node:assert/strict";
import { count } from "../routing/_topology.ts";
import { rows, trackedNet, transportPacket, udpHeader } from "./_conntrack.ts";

const enc = new TextEncoder();

Deno.test("conntrack UDP: unreplied (30 s) until the answer, then assured (120 s)", async () => {
  const n = trackedNet();
  const server = n.h3.listenDatagram({ transport: "udp", port: 7 });
  const client = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  await n.run(async () => {
    await client.send(enc.encode("ping"), { transport: "udp", hostname: "10.3.0.30", port: 7 });
    const [data, from] = await server.receive();
    assert.deepEqual(rows(n.r1), [
      "udp - 10.1.0.10:5000>10.3.0.30:7 10.3.0.30:7>10.1.0.10:5000 [UNREPLIED]",
    ]);
    assert.equal(n.r1.conntrack()[0]!.timeout, 30);
    await server.send(data, from);
    await client.receive();
  });
  assert.deepEqual(rows(n.r1), [
    "udp - 10.1.0.10:5000>10.3.0.30:7 10.3.0.30:7>10.1.0.10:5000 [ASSURED]",
  ]);
  assert.equal(n.r1.conntrack()[0]!.timeout, 120);
  n.runFor(119_000_000);
  assert.equal(rows(n.r1).length, 1);
  n.runFor(2_000_000);
  assert.deepEqual(rows(n.r1), []);
  assert.equal(count(n.r1, "conntrack.track.expired"), 1);
  server.close();
  client.close();
  n.finish();
});

Deno.test("conntrack UDP: an unreplied flow expires after udpTimeout (configurable)", () => {
  const n = trackedNet({ udpTimeout: 5_000_000 });
  n.h1.sendRawIpv4(
    transportPacket("10.1.0.10", "10.3.0.30", 17, udpHeader(5000, 9), enc.encode("x")),
  );
  n.runFor(4_000_000);
  assert.equal(rows(n.r1).length, 1);
  n.runFor(1_500_000);
  assert.deepEqual(rows(n.r1), []);
  n.finish();
});

Deno.test("conntrack ICMP: echo tracked by identifier, replied; expires after 30 s", async () => {
  const n = trackedNet();
  await n.run(() => n.h1.ping("10.3.0.30"));
  const [row] = n.r1.conntrack();
  assert.equal(row!.protocol, "icmp");
  assert.equal(row!.flags, "[ASSURED]");
  assert.equal(row!.original.srcPort, row!.reply.dstPort); // the identifier
  n.runFor(31_000_000);
  assert.deepEqual(rows(n.r1), []);
  n.finish();
});

Deno.test("conntrack ICMP: port unreachable and time exceeded are RELATED to the flow they quote", async () => {
  const n = trackedNet();
  // UDP to a closed port of H3: H3's port unreachable quotes it.
  n.h1.sendRawIpv4(
    transportPacket("10.1.0.10", "10.3.0.30", 17, udpHeader(5000, 9), enc.encode("x")),
  );
  n.runFor(10_000);
  assert.equal(count(n.h3, "udp.tx.port_unreachable"), 1);
  assert.equal(count(n.r1, "conntrack.track.related"), 1);
  // The error is not a reply: the flow stays unreplied.
  assert.deepEqual(rows(n.r1), [
    "udp - 10.1.0.10:5000>10.3.0.30:9 10.3.0.30:9>10.1.0.10:5000 [UNREPLIED]",
  ]);
  // Traceroute over UDP: R2's time exceeded (and H3's port unreachable) cross R1.
  const hops = await n.run(() => n.h1.traceroute("10.3.0.30"));
  assert.equal(hops.length, 3);
  // R2's time exceeded (TTL 2) and H3's port unreachable (TTL 3) cross R1
  // as RELATED. The TTL 1 probe dies in R1's forward step before its flow
  // is confirmed; R1's own time exceeded about it is RELATED all the same
  // (Linux's icmp_glue_bits() attaches the dropped packet's ct to the error).
  assert.equal(count(n.r1, "conntrack.track.related"), 4);
  assert.equal(count(n.r1, "conntrack.track.related_unknown"), 0);
  n.finish();
});

Deno.test("conntrack ICMP: an error quoting no known flow is counted and passed untracked", () => {
  const n = trackedNet();
  // H3 is told about a datagram nobody sent through R1: an error from H3 quoting it.
  const quoted = transportPacket("10.1.0.10", "10.3.0.30", 17, udpHeader(6000, 9));
  const icmp = new Uint8Array(8 + 28);
  icmp[0] = 3;
  icmp[1] = 3;
  icmp.set(quoted.subarray(0, 28), 8);
  let sum = 0;
  for (let i = 0; i < icmp.length; i += 2) sum += (icmp[i]! << 8) | (icmp[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  new DataView(icmp.buffer).setUint16(2, ~sum & 0xffff);
  const before = count(n.r1, "conntrack.track.related_unknown");
  n.h3.sendRawIpv4(
    new Uint8Array([
      0x45,
      0,
      0,
      20 + icmp.length,
      0,
      0,
      0,
      0,
      64,
      1,
      0,
      0,
      10,
      3,
      0,
      30,
      10,
      1,
      0,
      10,
      ...icmp,
    ]),
  );
  n.runFor(10_000);
  assert.equal(count(n.r1, "conntrack.track.related_unknown") - before, 1);
  assert.deepEqual(rows(n.r1), []);
  n.finish();
});

Deno.test("conntrack defrag: a fragmented datagram is reassembled before tracking, tracked once, and fragmented again", async () => {
  const n = trackedNet();
  const server = n.h3.listenDatagram({ transport: "udp", port: 7 });
  const client = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  await n.run(async () => {
    await client.send(new Uint8Array(4000).fill(7), {
      transport: "udp",
      hostname: "10.3.0.30",
      port: 7,
    });
    const [data] = await server.receive();
    assert.equal(data.length, 4000);
  });
  assert.equal(count(n.r1, "ipv4.rx.reassembled"), 1);
  assert.equal(count(n.r1, "ipv4.tx.fragmented"), 1);
  assert.deepEqual(rows(n.r1), [
    "udp - 10.1.0.10:5000>10.3.0.30:7 10.3.0.30:7>10.1.0.10:5000 [UNREPLIED]",
  ]);
  assert.equal(count(n.r1, "conntrack.track.invalid"), 0);
  server.close();
  client.close();
  n.finish();
});

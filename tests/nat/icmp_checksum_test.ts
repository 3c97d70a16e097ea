import assert from "node:assert/strict";
import { checkEthernet, checkIpv4, checksum, framesMatching, ip } from "../_harness.ts";
import { count, makeNatNet, P, PUBLIC } from "./_nat.ts";

const enc = new TextEncoder();

/** An IPv4 packet from P to the public address: a port unreachable quoting PUBLIC:5000 > P:9 (UDP), its ICMP checksum XORed with `corrupt`. */
function portUnreachable(corrupt: number): Uint8Array {
  const quoted = new Uint8Array(28);
  const qv = new DataView(quoted.buffer);
  qv.setUint16(0, 0x4500);
  qv.setUint16(2, 29);
  qv.setUint8(8, 63);
  qv.setUint8(9, 17);
  qv.setUint32(12, ip(PUBLIC));
  qv.setUint32(16, ip(P));
  qv.setUint16(10, checksum(quoted.subarray(0, 20)));
  qv.setUint16(20, 5000);
  qv.setUint16(22, 9);
  qv.setUint16(24, 9);
  const icmp = new Uint8Array(8 + 28);
  icmp[0] = 3;
  icmp[1] = 3;
  icmp.set(quoted, 8);
  new DataView(icmp.buffer).setUint16(2, (checksum(icmp) ^ corrupt) & 0xffff);
  const packet = new Uint8Array(20 + icmp.length);
  const pv = new DataView(packet.buffer);
  pv.setUint16(0, 0x4500);
  pv.setUint16(2, packet.length);
  pv.setUint8(8, 64);
  pv.setUint8(9, 1);
  pv.setUint32(12, ip(P));
  pv.setUint32(16, ip(PUBLIC));
  pv.setUint16(10, checksum(packet.subarray(0, 20)));
  packet.set(icmp, 20);
  return packet;
}

Deno.test("nat ICMP: an error with a bad ICMP checksum about a live flow is not translated (no fresh checksum); a good one is", async () => {
  const n = makeNatNet();
  const c = n.h1.listenDatagram({ transport: "udp", port: 5000 });
  const ps = n.p.listenDatagram({ transport: "udp", port: 9 });
  await n.run(async () => {
    await c.send(enc.encode("x"), { transport: "udp", hostname: P, port: 9 });
    await ps.receive();
  });
  const toH1 = () =>
    framesMatching(n.lan.frames(), checkEthernet({}, checkIpv4({ dst: "10.1.0.10", protocol: 1 })));
  n.p.sendRawIpv4(portUnreachable(0x1234));
  n.runFor(10_000);
  assert.equal(toH1().length, 0);
  assert.equal(count(n.nat, "conntrack.track.error_bad_checksum"), 1);
  // The same error with its checksum right is translated, and its checksum stays right.
  n.p.sendRawIpv4(portUnreachable(0));
  n.runFor(10_000);
  const got = toH1();
  assert.equal(got.length, 1);
  assert.equal(checksum(got[0]!.subarray(34)), 0);
  c.close();
  ps.close();
  n.finish();
});

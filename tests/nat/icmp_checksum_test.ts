import assert from "node:assert/strict";
import { checkEthernet, checkIpv4, checksum, framesMatching } from "../_harness.ts";
import { count, makeNatNet, P, portUnreachableFromP } from "./_nat.ts";

const enc = new TextEncoder();

/** A port unreachable quoting PUBLIC:5000 > P:9 (UDP), its ICMP checksum XORed with `corrupt`. */
function portUnreachable(corrupt: number): Uint8Array {
  return portUnreachableFromP({
    publicPort: 5000,
    totalLength: 29,
    ttl: 63,
    udpLength: 9,
    corrupt,
  });
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

/**
 * Issue 16, finding 6: a "fragmentation needed" lowers the path MTU only
 * when the flow it quotes is one of ours (RFC 5927 §4.1, as Linux): TCP
 * with a sequence number in SND.UNA..SND.NXT, UDP with a socket bound to
 * the quoted ports. A forged one changes nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ethernetFrame, icmpFragNeeded, ipv4Packet, makeHost, withEnv } from "../_harness.ts";

function fromHex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

/**
 * Issue 16's frame: from 203.0.113.9 to 10.0.0.2, "fragmentation needed,
 * MTU 68", quoting a TCP segment 10.0.0.2:4444 → 10.0.0.1:5555 with
 * sequence number 0xdeadbeef that no connection sent.
 */
const FORGED = fromHex(
  "0200000000020206060606060800450000381234000040012286cb0071090a0000020304380b000000444500001c12340000400654a60a0000020a000001115c15b3deadbeef",
);

Deno.test("icmp fragmentation needed quoting no connection leaves the path MTU alone", async () => {
  await withEnv(makeHost({ mac: "02:00:00:00:00:02", addresses: ["10.0.0.2/24"] }), (h) => {
    h.inject(FORGED);
    assert.equal(h.counter("icmp.rx.frag_needed"), 1);
    assert.equal(h.counter("tcp.rx.icmp_no_socket"), 1);
    // Before: the route's MTU fell to 552 (the floor) for 10 minutes.
    assert.equal(h.stack.routeGet("10.0.0.1")!.mtu, 1500);
  });
});

/** A UDP datagram header 10.0.0.1:`srcPort` → 10.0.0.9:53 in an IP packet, as we would send it. */
function ourUdp(srcPort: number): Uint8Array {
  const udp = new Uint8Array(8 + 1392);
  const dv = new DataView(udp.buffer);
  dv.setUint16(0, srcPort);
  dv.setUint16(2, 53);
  dv.setUint16(4, udp.length);
  return ipv4Packet({ src: "10.0.0.1", dst: "10.0.0.9", protocol: 17, dontFragment: true }, udp);
}

/** "Fragmentation needed, next-hop MTU `mtu`" from a router, quoting `quoted`. */
function fragNeeded(quoted: Uint8Array, mtu: number): Uint8Array {
  const m = icmpFragNeeded(quoted, mtu);
  return ethernetFrame(
    { dst: "02:00:00:00:00:01", src: "02:00:00:00:00:fe", etherType: 0x0800 },
    ipv4Packet({ src: "10.0.0.254", dst: "10.0.0.1", protocol: 1 }, m),
  );
}

Deno.test("udp fragmentation needed lowers the path MTU only when a socket is bound to the quoted port", async () => {
  await withEnv(makeHost({ mac: "02:00:00:00:00:01" }), (h) => {
    const sock = h.stack.listenDatagram({ transport: "udp", port: 5000 });
    h.inject(fragNeeded(ourUdp(5001), 1280));
    assert.equal(h.counter("udp.rx.error_no_socket"), 1);
    assert.equal(h.stack.routeGet("10.0.0.9")!.mtu, 1500);
    h.inject(fragNeeded(ourUdp(5000), 1280));
    assert.equal(h.counter("udp.rx.pmtu_updates"), 1);
    assert.equal(h.stack.routeGet("10.0.0.9")!.mtu, 1280);
    sock.close();
  });
});

/**
 * RFC 4291 §2.7 on the wire: a multicast address of scope 0 (reserved) or
 * 1 (interface-local) names nothing beyond this node. Such a packet
 * received from a link is dropped (`ipv6.rx.bad_destination`), as Linux's
 * `ip6_rcv_core` drops it; link-local scope (ff02::1) still answers.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { NdpService } from "../../mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ethernetFrame, type Host, mac, makeHost } from "../_harness.ts";
import { icmpv6Packet, multicastMac } from "../ndp/_ndp.ts";

const PEER_MAC = "02:00:00:00:00:09";

function host(): Host {
  const h = makeHost({ addresses: ["fd00::1/64"], withoutPlugins: ["mld"] });
  h.runFor(3_000_000); // DAD done
  h.stack.service<NdpService>("neighbor.ipv6")!
    .addStatic(h.iface.index, IpAddress.parse("fd00::9")!.key, mac(PEER_MAC));
  h.take();
  return h;
}

/** An echo request from fd00::9 to `group`, sent to the group's MAC. */
function echoTo(group: string): Uint8Array {
  const echo = Uint8Array.from([128, 0, 0, 0, 0, 7, 0, 1, 1, 2, 3, 4]);
  return ethernetFrame(
    { dst: multicastMac(group), src: PEER_MAC, etherType: 0x86dd },
    icmpv6Packet("fd00::9", group, echo, 64),
  );
}

for (const group of ["ff01::1", "ff00::1", "ff01::2", "ff11::1"]) {
  Deno.test(`ipv6 multicast scope: an echo request to ${group} from the wire is dropped, unanswered`, () => {
    const h = host();
    assert.deepEqual(h.inject(echoTo(group), 1_000_000), []);
    assert.equal(h.counter("ipv6.rx.bad_destination"), 1);
    assert.equal(h.counter("icmpv6.rx.echo_requests"), 0);
    h.finish();
  });
}

Deno.test("ipv6 multicast scope: an echo request to ff02::1 from the wire is answered", () => {
  const h = host();
  const out = h.inject(echoTo("ff02::1"), 1_000_000);
  assert.ok(out.some((f) => f[12] === 0x86 && f[14 + 6] === 58 && f[14 + 40] === 129));
  assert.equal(h.counter("ipv6.rx.bad_destination"), 0);
  h.finish();
});

for (const group of ["ff01::1", "ff01::1234", "ff00::1"]) {
  Deno.test(`ipv6 multicast scope: a datagram to ${group} never leaves on a link`, async () => {
    const h = host();
    const c = h.stack.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
    const sent = c.send(new Uint8Array(4), { transport: "udp", hostname: group, port: 9 });
    h.runFor(100_000);
    await sent; // as Linux: the send succeeds, the datagram goes no further than this node
    assert.deepEqual(h.take(), []);
    assert.equal(h.counter("ipv6.tx.node_local_multicast"), 1);
    c.close();
    h.finish();
  });
}

Deno.test("ipv6 multicast scope: a member of ff01::1234 on this node gets one copy, the link none", async () => {
  const h = makeHost({ addresses: ["fd00::1/64"] }); // with MLD: groups joined
  h.runFor(3_000_000);
  const rx = h.stack.listenDatagram({ transport: "udp", hostname: "::", port: 9 });
  const membership = rx.joinMulticastV6("ff01::1234", h.iface.index);
  h.runFor(100_000);
  await membership;
  const tx = h.stack.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
  h.take();
  const got = rx.receive();
  await tx.send(Uint8Array.from([1, 2, 3]), { transport: "udp", hostname: "ff01::1234", port: 9 });
  h.runFor(100_000);
  const [data] = await got;
  assert.deepEqual([...data], [1, 2, 3]);
  assert.equal(h.counter("udp.rx.datagrams"), 1, "one copy, looped by UDP");
  assert.deepEqual(h.take(), []);
  assert.equal(h.counter("ipv6.tx.node_local_multicast"), 1);
  rx.close();
  tx.close();
  h.finish();
});

/**
 * Issue 16, finding 7: martian sources (our own address, a broadcast of one
 * of our subnets, 0/8) from the wire are dropped with named counters before
 * any protocol sees them and are never forwarded; the optional reverse-path
 * check (`rpFilter`, Linux's rp_filter) drops a source whose route back
 * leaves by another interface.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ethernetFrame, hostMac, ipv4Packet, makeHost, withEnv } from "../_harness.ts";
import { makeRoutedNet } from "../routing/_topology.ts";
import { kernelOf } from "../../stack/stack.ts";

const US = hostMac(1);
const PEER = "02:00:00:00:00:07";

function fromHex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** Issue 16's LAND SYN: 10.0.0.1:80 → 10.0.0.1:80, to the MAC of 10.0.0.1. */
const LAND_SYN = fromHex(
  "020000000001020000000007080045000028123400004006549b0a0000010a00000100500050000003e8000000005002ffff97590000",
);

/** A TCP SYN to 10.0.0.1:80 from `src` (checksum not checked before the martian test). */
function synFrom(src: string, dst = "10.0.0.1"): Uint8Array {
  const tcp = new Uint8Array(20);
  tcp.set([0x30, 0x39, 0x00, 0x50, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff]);
  return ethernetFrame(
    { dst: US, src: PEER, etherType: 0x0800 },
    ipv4Packet({ src, dst, protocol: 6 }, tcp),
  );
}

Deno.test("ipv4 drops the LAND SYN (our address as source) as rx.martian_own_source", async () => {
  await withEnv(makeHost({ mac: US, addresses: ["10.0.0.1/24"] }), (h) => {
    const listener = h.stack.listen({ port: 80 });
    const out = h.inject(LAND_SYN);
    assert.equal(h.counter("ipv4.rx.martian_own_source"), 1);
    assert.equal(h.counter("ipv4.rx.delivered"), 0);
    assert.deepEqual(out, []);
    // No half-open connection with ourselves (before: SYN-RECEIVED).
    assert.deepEqual(h.stack.sockets().filter((s) => s.state !== "LISTEN"), []);
    listener.close();
  });
});

Deno.test("ipv4 drops SYNs from a subnet broadcast, the network address and 0/8 as martians", async () => {
  await withEnv(makeHost({ mac: US, addresses: ["10.0.0.1/24"] }), (h) => {
    const listener = h.stack.listen({ port: 80 });
    h.inject(synFrom("10.0.0.255"));
    h.inject(synFrom("10.0.0.0"));
    h.inject(synFrom("0.0.0.0"));
    h.inject(synFrom("0.1.2.3"));
    assert.equal(h.counter("ipv4.rx.martian_broadcast_source"), 2);
    assert.equal(h.counter("ipv4.rx.martian_zero_source"), 2);
    assert.equal(h.counter("ipv4.rx.delivered"), 0);
    assert.deepEqual(h.stack.sockets().filter((s) => s.state !== "LISTEN"), []);
    listener.close();
  });
});

Deno.test("ipv4 accepts 0.0.0.0 to the limited broadcast (a DHCP client without an address)", async () => {
  await withEnv(makeHost({ mac: US, addresses: ["10.0.0.1/24"] }), async (h) => {
    const udp = h.stack.listenDatagram({ transport: "udp", port: 67 });
    const frame = ethernetFrame(
      { dst: "ff:ff:ff:ff:ff:ff", src: PEER, etherType: 0x0800 },
      ipv4Packet(
        { src: "0.0.0.0", dst: "255.255.255.255", protocol: 17 },
        new Uint8Array([0, 68, 0, 67, 0, 9, 0, 0, 0x2a]),
      ),
    );
    h.inject(frame);
    assert.equal(h.counter("ipv4.rx.martian_zero_source"), 0);
    const [data, from] = await h.run(() => udp.receive());
    assert.deepEqual([...data], [0x2a]);
    assert.equal((from as Deno.NetAddr).hostname, "0.0.0.0");
    udp.close();
  });
});

Deno.test("ipv4 with forwarding on never forwards a datagram spoofing the router's own address", async () => {
  await withEnv(makeRoutedNet(), (n) => {
    const eth0 = n.r1.interfaces.byName("eth0")!;
    const own = n.r1.interfaces.byName("eth1")!.ipv4[0]!.address;
    const src = [own >>> 24, (own >>> 16) & 0xff, (own >>> 8) & 0xff, own & 0xff].join(".");
    kernelOf(n.r1).inject(
      eth0.index,
      ethernetFrame(
        { dst: eth0.mac!, src: PEER, etherType: 0x0800 },
        ipv4Packet({ src, dst: "10.3.0.30", protocol: 17 }, new Uint8Array(8)),
      ),
    );
    n.runFor(1_000_000);
    assert.equal(n.r1.counters.get("ipv4.rx.martian_own_source").value, 1);
    assert.equal(n.r1.counters.get("ipv4.fwd.forwarded").value, 0);
  });
});

Deno.test("ipv4 rpFilter 1 (strict) drops a source whose route back leaves by another interface", async () => {
  for (const rpFilter of [0, 1, 2]) {
    await withEnv(
      makeHost({ mac: US, addresses: ["10.0.0.1/24"], plugins: { ipv4: { rpFilter } } }),
      (h) => {
        const udp = h.stack.listenDatagram({ transport: "udp", port: 9 });
        // Reachable only through a second interface: on eth0 it is spoofed.
        const other = h.net.link({ linkType: 1 });
        h.stack.addInterface({ driver: other.a, addresses: ["192.168.5.1/24"] });
        const datagram = (src: string) =>
          ethernetFrame(
            { dst: US, src: PEER, etherType: 0x0800 },
            ipv4Packet({ src, dst: "10.0.0.1", protocol: 17 }, new Uint8Array(8)),
          );
        h.inject(datagram("192.168.5.9")); // route back: the other interface
        h.inject(datagram("10.0.0.9")); // route back: this interface
        h.inject(datagram("172.16.0.1")); // no route back at all
        const dropped = rpFilter === 0 ? 0 : rpFilter === 1 ? 2 : 1;
        assert.equal(h.counter("ipv4.rx.rp_filter"), dropped, `rpFilter ${rpFilter}`);
        assert.equal(h.counter("ipv4.rx.delivered"), 3 - dropped);
        udp.close();
      },
    );
  }
});

Deno.test("ipv4 refuses an rpFilter other than 0, 1 or 2 at boot", () => {
  assert.throws(
    () => makeHost({ plugins: { ipv4: { rpFilter: 3 } } }),
    /rpFilter 3 is not 0, 1 or 2/,
  );
});

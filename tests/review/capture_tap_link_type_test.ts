/**
 * A capture tap refuses, when made, a writer whose link type is not its
 * driver's (review17, after 5eb4cb6 refused a pcapng writer without the
 * interface). Before, an Ethernet link tapped into `PcapWriter({ linkType:
 * 101 })` recorded every frame with no error: a capture whose packets
 * tshark shows as "Raw packet data" (and raw IP under Ethernet: malformed).
 */
import assert from "node:assert/strict";
import {
  CaptureTap,
  createStack,
  parseCapture,
  PcapngWriter,
  PcapWriter,
  SECOND,
  VirtualNetwork,
} from "../../mod.ts";

const mismatch = (e: unknown) =>
  e instanceof RangeError &&
  /^Cannot create capture tap: the writer records link type 101, the driver carries 1$/.test(
    e.message,
  );

Deno.test("CaptureTap: a writer of another link type is refused; the driver's own records", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link(); // Ethernet: link type 1
  assert.throws(
    () => new CaptureTap(link.a, { writer: new PcapWriter({ linkType: 101 }) }),
    mismatch,
  );
  assert.throws(
    () => new CaptureTap(link.a, { writer: new PcapngWriter({ interfaces: [{ linkType: 101 }] }) }),
    mismatch,
  );
  assert.throws(
    () =>
      new CaptureTap(link.a, {
        writer: new PcapngWriter({ interfaces: [{ linkType: 1 }, { linkType: 101 }] }),
        interfaceId: 1,
      }),
    mismatch,
  );
  const writer = new PcapngWriter({ interfaces: [{ linkType: 101 }, { linkType: 1 }] });
  const tap = new CaptureTap(link.a, { writer, interfaceId: 1 });
  const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
  a.addInterface({ driver: tap, addresses: ["10.0.0.1/24"] });
  b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  await net.run(async () => {
    await a.ping("10.0.0.2");
  }, { timeout: 5 * SECOND });
  assert.equal(tap.errors, 0);
  const { records } = parseCapture(writer.bytes());
  assert.ok(records.length >= 4); // ARP and the echo, both ways
  assert.ok(records.every((r) => r.interfaceId === 1));
  a.close();
  b.close();
  net.close();
});

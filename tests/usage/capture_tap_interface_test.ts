/**
 * A capture tap on a pcapng writer that does not describe the tap's
 * interface fails when it is made, with how to fix it. It used to record
 * nothing: the writer refused every frame and the tap only counted the
 * refusals (`tap.errors`), so a test hashing the capture hashed the same
 * 52-byte header for every seed (found writing docs/TESTING.md's example).
 */
import assert from "node:assert/strict";
import { createStack, VirtualNetwork } from "../../mod.ts";
import { CaptureTap, parseCapture, PcapngWriter } from "../../drivers/pcapfile/mod.ts";

Deno.test("CaptureTap refuses a pcapng writer without its interface, and records with one", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link();
  assert.throws(
    () => new CaptureTap(link.a, { writer: new PcapngWriter() }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot create capture tap: the pcapng writer has no interface 0 " +
          "(give it interfaces: [{ linkType: 1 }], or use addInterface)",
  );
  const one = new PcapngWriter({ interfaces: [{ linkType: link.a.linkType }] });
  assert.throws(() => new CaptureTap(link.a, { writer: one, interfaceId: 1 }), RangeError);

  const tap = new CaptureTap(link.a, { writer: one });
  const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
  a.addInterface({ driver: tap, addresses: ["10.0.0.1/24"] });
  b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  await net.run(() => a.ping("10.0.0.2"));
  assert.equal(tap.errors, 0);
  const { records, error } = parseCapture(one.bytes());
  assert.equal(error, null);
  assert.equal(records.length, tap.recorded);
  assert.ok(tap.recorded >= 4, "ARP request and reply, echo request and reply at least");
  a.close();
  b.close();
  net.close();
});

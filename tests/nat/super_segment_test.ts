/**
 * NAT of super-segments the host sends (TSO/USO): their checksum field
 * holds only the pseudo-header sum (`PacketFlags.CHECKSUM_PARTIAL`), which
 * an address rewrite must move as a partial sum and a port rewrite must
 * leave alone. Here a UDP super-datagram from a `segmentSize` send, through
 * SNAT and DNAT, to a link with USO (the seed checked against the
 * translated addresses and by a device's segmentation) and to one without
 * (each datagram cut after NAT verifies). TCP super-segments are covered in
 * `stack/protocols/nat/rewrite_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { conntrackPlugin, createStack, natPlugin, type Stack } from "../../mod.ts";
import type { LinkDriver } from "../../stack/driver.ts";
import { pseudoHeaderSumV4 } from "../../stack/wire/checksum.ts";
import { pluginsWith } from "../_harness.ts";
import { cut, deviceSegments, pattern, udpChecksumOk, UsoDriver } from "../udp/_uso.ts";

function stackOn(driver: LinkDriver, rules: string): Stack {
  const stack = createStack({
    seed: 27,
    plugins: pluginsWith({ conntrack: {}, nat: { rules } }, [conntrackPlugin, natPlugin]),
  });
  stack.addInterface({ name: "eth0", driver, addresses: ["10.0.0.1/24"] });
  return stack;
}

Deno.test("nat SNAT and DNAT of a super-datagram the host sends over a USO link keep the partial checksum right", async () => {
  const driver = new UsoDriver();
  const stack = stackOn(
    driver,
    "snat -o eth0 -p udp --to 10.0.0.99;dnat -p udp --dport 7000 --to 10.0.0.3:7777",
  );
  const tx = stack.listenDatagram({ transport: "udp", port: 7001, segmentSize: 1000 });
  const data = pattern(2500);
  await tx.send(data, { hostname: "10.0.0.2", port: 7000 });
  tx.close();
  stack.close();
  assert.equal(driver.sent.length, 1);
  const bytes = driver.sent[0]!.bytes;
  const dv = new DataView(bytes.buffer);
  assert.deepEqual([dv.getUint32(12), dv.getUint32(16), dv.getUint16(22)], [
    0x0a000063,
    0x0a000003,
    7777,
  ]);
  // The seed is the pseudo-header sum of the translated addresses.
  assert.equal(dv.getUint16(26), pseudoHeaderSumV4(0x0a000063, 0x0a000003, 17, 2508));
  const wire = deviceSegments(bytes, 1000);
  assert.equal(wire.length, 3);
  assert.ok(wire.every(udpChecksumOk));
});

Deno.test("nat SNAT of a super-datagram over a link without USO: every datagram cut after it verifies", async () => {
  const sent: Uint8Array[] = [];
  const driver: LinkDriver = {
    linkType: 101,
    mtu: 1500,
    attach() {},
    transmit(p) {
      sent.push(p.data.slice());
      p.release();
    },
    close() {},
  };
  const stack = stackOn(driver, "snat -o eth0 -p udp --to 10.0.0.99");
  const tx = stack.listenDatagram({ transport: "udp", port: 7001, segmentSize: 1000 });
  const data = pattern(2500);
  await tx.send(data, { hostname: "10.0.0.2", port: 7000 });
  tx.close();
  stack.close();
  assert.equal(sent.length, 3);
  assert.deepEqual(sent.map((d) => d.subarray(28)), cut(data, 1000));
  for (const d of sent) {
    assert.equal(new DataView(d.buffer).getUint32(12), 0x0a000063);
    assert.ok(udpChecksumOk(d));
  }
});

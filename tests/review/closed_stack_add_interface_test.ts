/**
 * A closed stack refuses a new interface as it refuses new sockets. Before,
 * `addInterface` after `close()` attached the driver to the dead stack and
 * nothing closed it (close() had run): a TUN driver's descriptor and reader
 * leaked, a virtual link's port stayed attached (review17).
 */
import assert from "node:assert/strict";
import { createStack, type LinkDriver, VirtualNetwork } from "../../mod.ts";

Deno.test("after close(), addInterface fails with BadResource and leaves the driver unattached", () => {
  const net = new VirtualNetwork({ seed: 1 });
  const stack = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  stack.close();
  const inner = net.link().a;
  const calls: string[] = [];
  const driver: LinkDriver = {
    linkType: inner.linkType,
    mtu: inner.mtu,
    ...(inner.mac === undefined ? {} : { mac: inner.mac }),
    attach: (port) => {
      calls.push("attach");
      inner.attach(port);
    },
    transmit: (pkt) => inner.transmit(pkt),
    close: () => {
      calls.push("close");
      inner.close();
    },
  };
  assert.throws(
    () => stack.addInterface({ driver, addresses: ["10.1.0.1/24"] }),
    (e: unknown) =>
      e instanceof Deno.errors.BadResource &&
      e.message === "Cannot add an interface: the stack is closed",
  );
  assert.deepEqual(calls, []); // never attached, so nothing is left to close
  assert.equal(stack.interfaces.list().length, 0);
  net.close();
});

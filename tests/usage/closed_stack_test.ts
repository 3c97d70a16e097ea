/**
 * A closed stack refuses new work with one error, `Deno.errors.BadResource`
 * naming the call, as a closed Deno resource does. Before, `listen` and
 * `listenDatagram` returned sockets of the dead stack and `connect` never
 * settled (an `await` that hung the program: found importing `mod.ts` from
 * outside, session 15).
 */
import assert from "node:assert/strict";
import { createStack, SECOND, VirtualNetwork } from "../../mod.ts";

Deno.test("after close(), listen, listenDatagram, connect, ping, traceroute, serve and fetch fail with BadResource", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link();
  const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
  a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
  b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  const listener = b.listen({ port: 80 });
  a.close();
  a.close(); // closing again does nothing
  const closed = (what: string) => (e: unknown) =>
    e instanceof Deno.errors.BadResource && e.message === `Cannot ${what}: the stack is closed`;
  assert.throws(() => a.listen({ port: 80 }), closed("listen"));
  assert.throws(() => a.listenDatagram({ transport: "udp", port: 53 }), closed("listen"));
  assert.throws(() => a.serve({ port: 8080 }, () => new Response("")), closed("serve"));
  await net.run(async () => {
    // Each settles at once: a pending promise would make run() time out.
    await assert.rejects(a.connect({ hostname: "10.0.0.2", port: 80 }), closed("connect"));
    await assert.rejects(a.ping("10.0.0.2"), closed("ping 10.0.0.2"));
    await assert.rejects(a.traceroute("10.0.0.2"), closed("traceroute 10.0.0.2"));
    const err = await a.fetch("http://10.0.0.2/").catch((e: unknown) => e);
    assert.ok(err instanceof TypeError && closed("fetch")(err.cause), String(err));
  }, { timeout: SECOND });
  listener.close();
  b.close();
  net.close();
});

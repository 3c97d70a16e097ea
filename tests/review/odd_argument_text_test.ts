/**
 * The socket calls' messages for arguments that are not strings or
 * numbers (review17, after ef9203f unified them): an object without
 * `toString` (`Object.create(null)`) made building the message throw
 * "Cannot convert object to primitive value", a TypeError that named no
 * call and no argument; a bigint port read "port 80 is not an integer".
 */
import assert from "node:assert/strict";
import { createStack, VirtualNetwork } from "../../mod.ts";

Deno.test("odd hostnames and ports: a TypeError naming the call and the value", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const stack = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  stack.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24"] });
  const bare = Object.create(null);
  const udp = stack.listenDatagram({ transport: "udp", port: 7 });
  const said = (text: RegExp) => (e: unknown) =>
    e instanceof TypeError && text.test(e.message) ? true : assert.fail(String(e));
  assert.throws(
    () => stack.listen({ port: 80, hostname: bare }),
    said(/^Cannot listen on \(an object without toString\):80: .* is not an IP address/),
  );
  assert.throws(
    () => stack.listenDatagram({ transport: "udp", port: 80, hostname: bare }),
    said(/^Cannot listen on \(an object without toString\):80: .* is not an IP address/),
  );
  assert.throws(
    () => stack.listen({ port: bare }),
    said(/^Cannot listen on 0\.0\.0\.0:\(an object without toString\): port .* is not an integer$/),
  );
  await assert.rejects(
    stack.connect({ hostname: "10.0.0.2", port: bare }),
    said(/^Cannot connect to 10\.0\.0\.2:\(an object without toString\): port /),
  );
  await assert.rejects(
    udp.send(new Uint8Array(1), { transport: "udp", hostname: "10.0.0.2", port: bare }),
    said(/^Cannot send to 10\.0\.0\.2:\(an object without toString\): port /),
  );
  // deno-lint-ignore no-explicit-any
  const big = 80n as any;
  await assert.rejects(
    stack.connect({ hostname: "10.0.0.2", port: big }),
    said(/^Cannot connect to 10\.0\.0\.2:80n: port 80n is not an integer$/),
  );
  assert.throws(
    () => stack.listenDatagram({ transport: "udp", port: big }),
    said(/^Cannot listen on 0\.0\.0\.0:80n: port 80n is not an integer$/),
  );
  udp.close();
  stack.close();
  net.close();
});

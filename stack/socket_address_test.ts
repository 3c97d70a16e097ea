import assert from "node:assert/strict";
import { createStack, type Stack } from "../mod.ts";
import { checkSocketPort, parseSocketHost } from "./socket_address.ts";

function stack(): Stack {
  const s = createStack({ seed: 1 });
  s.addInterface({
    driver: { linkType: 101, mtu: 1500, attach() {}, transmit: (p) => p.release(), close() {} },
    addresses: ["10.0.0.1/24"],
  });
  return s;
}

Deno.test("parseSocketHost() takes IPv4, IPv6 and localhost, and nothing else", () => {
  assert.equal(parseSocketHost("10.0.0.1", "x").toString(), "10.0.0.1");
  assert.equal(parseSocketHost("::", "x").toString(), "::");
  assert.equal(parseSocketHost("localhost", "x").toString(), "127.0.0.1");
  for (const bad of ["", "example.com", "10.0.0", "010.0.0.1", "::g"]) {
    assert.throws(() => parseSocketHost(bad, "Cannot x"), TypeError, bad);
  }
});

Deno.test("checkSocketPort(): TypeError for a non-number, RangeError out of range", () => {
  assert.equal(checkSocketPort(0, "x", true), 0);
  assert.equal(checkSocketPort(65535, "x", false), 65535);
  for (const bad of [0, -1, 65536, 1.5, NaN, Infinity]) {
    assert.throws(() => checkSocketPort(bad, "x", false), RangeError, String(bad));
  }
  for (const bad of ["80", undefined, null, 80n]) {
    assert.throws(() => checkSocketPort(bad, "x", false), TypeError, String(bad));
  }
});

Deno.test("tcp and udp give the same error class for the same mistake", async () => {
  const s = stack();
  const udp = s.listenDatagram({ transport: "udp" });
  const mistakes: [string, number | string, ErrorConstructor][] = [
    ["10.0.0.2", 70000, RangeError],
    ["10.0.0.2", 0, RangeError],
    ["10.0.0.2", "80", TypeError],
    ["example.com", 80, TypeError],
  ];
  for (const [hostname, port, cls] of mistakes) {
    const what = `${hostname}:${port}`;
    await assert.rejects(s.connect({ hostname, port: port as number }), cls, `tcp ${what}`);
    await assert.rejects(
      udp.send(new Uint8Array(1), { hostname, port: port as number }),
      cls,
      `udp ${what}`,
    );
  }
  assert.throws(() => s.listen({ port: 70000 }), RangeError);
  assert.throws(() => s.listenDatagram({ transport: "udp", port: 70000 }), RangeError);
  udp.close();
  s.close();
});

Deno.test("tcp and udp both take localhost (127.0.0.1)", async () => {
  const s = stack();
  const server = s.listenDatagram({ transport: "udp", hostname: "localhost", port: 5000 });
  assert.equal(server.addr.hostname, "127.0.0.1");
  const client = s.listenDatagram({ transport: "udp" });
  assert.equal(await client.send(new Uint8Array([1, 2]), { hostname: "localhost", port: 5000 }), 2);
  const [data, from] = await server.receive();
  assert.deepEqual([...data], [1, 2]);
  assert.equal(from.hostname, "127.0.0.1");
  const listener = s.listen({ hostname: "localhost", port: 80 });
  const [c, a] = await Promise.all([
    s.connect({ hostname: "localhost", port: 80 }),
    listener.accept(),
  ]);
  assert.equal(c.remoteAddr.hostname, "127.0.0.1");
  for (const x of [c, a, listener, client, server]) x.close();
  s.close();
});

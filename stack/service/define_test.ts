/**
 * `defineService`'s argument checks (before anything is made), the option
 * checks at boot, what `setup` must return, the host's deadlines and
 * counters, with the same error for the same mistake as `listen()`,
 * `listenDatagram()` and the other public calls.
 */
import assert from "node:assert/strict";
import {
  createStack,
  type DatagramConn,
  MILLISECOND,
  PluginManifestError,
  SERVICE_HOST_OPTIONS,
  type ServiceHost,
  VirtualNetwork,
} from "../../mod.ts";
import { defineService } from "./define.ts";
import { probeSpec as spec, serverAndClient } from "./_test_spec.ts";

/** The error class and message `fn` throws. */
function thrown(fn: () => unknown): { type: string; message: string } {
  try {
    fn();
  } catch (e) {
    return { type: (e as Error).constructor.name, message: (e as Error).message };
  }
  assert.fail("did not throw");
}

Deno.test("defineService: a port is checked as listen() checks it (same class, same words)", () => {
  const stack = createStack();
  try {
    const cases: [unknown, string][] = [
      [70000, "port 70000 is not in 1..65535"],
      [-1, "port -1 is not in 1..65535"],
      [0, "port 0 is not in 1..65535"],
      [1.5, "port 1.5 is not an integer"],
      ["80", 'port "80" is not an integer'],
      [NaN, "port NaN is not an integer"],
      [80n, "port 80n is not an integer"],
    ];
    for (const [port, words] of cases) {
      const ours = thrown(() => defineService(spec({ port })));
      assert.equal(ours.message, `Cannot define service probe: ${words}`);
      if (port === 0) {
        assert.equal(ours.type, "RangeError"); // listen() takes 0: any free port
        continue;
      }
      const listen = thrown(() => stack.listen({ port } as never));
      assert.equal(ours.type, listen.type, String(port));
      assert.match(
        listen.message,
        new RegExp(`: port ${words.slice(5, words.indexOf(" is "))} is not `),
      );
    }
  } finally {
    stack.close();
  }
});

Deno.test("defineService: every other field is checked before anything is made", () => {
  const cases: [Record<string, unknown> | null, string, RegExp][] = [
    [null, "TypeError", /^Cannot define a service: null is not a spec object$/],
    [{ name: 5 }, "TypeError", /name 5 is not a string/],
    [{ name: "Bad Name" }, "PluginManifestError", /name must be lowercase/],
    [{ description: undefined }, "TypeError", /description is not a string/],
    [{ transports: [] }, "TypeError", /transports must be a non-empty array/],
    [{ transports: "tcp" }, "TypeError", /transports must be a non-empty array/],
    [{ transports: ["sctp"] }, "TypeError", /transport "sctp" is not "tcp" or "udp"/],
    [{ transports: ["tcp", "tcp"] }, "TypeError", /transport "tcp" is listed twice/],
    [{ maxConnections: 0 }, "RangeError", /maxConnections 0 is not in 1\.\.65535/],
    [{ maxConnections: 1.5 }, "TypeError", /maxConnections 1\.5 is not an integer/],
    [{ lingerMs: -1 }, "RangeError", /lingerMs -1 is not in 0\.\.2147483647 ms/],
    [{ lingerMs: NaN }, "TypeError", /lingerMs NaN is not a number/],
    [{ setup: undefined }, "TypeError", /setup is not a function/],
    [{ options: { port: { default: 1, description: "" } } }, "TypeError", /"port" is the host's/],
    [{ options: 5 }, "TypeError", /options is not an object/],
    [{ counters: "bytes" }, "TypeError", /counters is not an array/],
    [{ counters: ["Bad Counter"] }, "PluginManifestError", /counter/],
    [{ requires: "x" }, "TypeError", /requires is not an array/],
  ];
  for (const [over, type, message] of cases) {
    const e = thrown(() => defineService(over === null ? (null as never) : spec(over)));
    assert.equal(e.type, type, JSON.stringify(over));
    assert.match(e.message, message);
  }
  assert.ok(PluginManifestError); // the class the manifest checks throw, exported
});

Deno.test("defineService: the manifest every service shares", () => {
  const p = defineService(spec({ counters: ["bytes"], maxConnections: 8, lingerMs: 500 }));
  const m = p.manifest;
  assert.equal(m.layer, "service");
  assert.deepEqual(m.binds, []);
  assert.deepEqual(m.counters, [
    "connections",
    "rejected",
    "datagrams",
    "loop_drops",
    "errors",
    "bytes",
  ]);
  assert.deepEqual(Object.keys(m.options!), SERVICE_HOST_OPTIONS);
  assert.equal(m.options!.maxConnections!.default, 8);
  assert.equal(m.options!.lingerMs!.default, 500);
  assert.ok(Object.isFrozen(p));
  const tcpOnly = defineService(
    spec({ transports: ["tcp"], setup: () => ({ tcp: async () => {} }) }),
  );
  assert.equal(tcpOnly.manifest.options!.udp, undefined);
});

Deno.test("defineService: option values given at boot are checked, the stack is not made", () => {
  const cases: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ port: 0 }, RangeError, /Cannot set up probe: port 0 is not in 1\.\.65535/],
    [{ port: 1.5 }, TypeError, /port 1\.5 is not an integer/],
    [{ hostname: "example.com" }, TypeError, /"example.com" is not an IP address/],
    [{ maxConnections: 0 }, RangeError, /maxConnections 0 is not in 1\.\.65535/],
    [{ lingerMs: -5 }, RangeError, /lingerMs -5 is not in 0\.\.2147483647 ms/],
  ];
  for (const [options, cause, message] of cases) {
    assert.throws(
      () =>
        createStack({
          extraPlugins: [{ plugin: defineService(spec()), options: options as never }],
        }),
      (e: unknown) => {
        // The stack's rule for bad option values: the class kept, the plugin named.
        assert.ok(e instanceof cause, String(e));
        assert.match(e.message, /^Plugin "probe" failed in setup\(\): Cannot set up probe: /);
        assert.match(e.message, message);
        return true;
      },
    );
  }
});

Deno.test("defineService: setup must return a handler for each transport it offers, no other", () => {
  const cases: [unknown, RegExp][] = [
    [null, /setup returned null, not the handlers/],
    [{ tcp: async () => {} }, /the udp handler is not a function \(it offers udp\)/],
    [{ udp: () => {}, tcp: "x" }, /the tcp handler is not a function/],
    [{ tcp: async () => {}, udp: () => {}, teardown: 5 }, /teardown is not a function/],
    [
      {
        tcp: async () => {},
        udp: () => {},
        udpQueue: { receiveQueueLimit: 0, receiveQueueBytes: 1 },
      },
      /receiveQueueLimit 0 is not in 1\.\./,
    ],
  ];
  for (const [handlers, message] of cases) {
    const plugin = defineService(spec({ setup: () => handlers }));
    assert.throws(() => createStack({ extraPlugins: [plugin] }), (e: unknown) => {
      assert.ok(e instanceof TypeError || e instanceof RangeError, String(e));
      assert.match(e.message, /^Plugin "probe" failed in setup\(\): Cannot set up probe: /);
      assert.match(e.message, message);
      return true;
    });
  }
  const udpOnly = defineService(
    spec({ transports: ["udp"], setup: () => ({ udp: () => {}, tcp: async () => {} }) }),
  );
  assert.throws(
    () => createStack({ extraPlugins: [udpOnly] }),
    (e: unknown) =>
      e instanceof TypeError && /a tcp handler, but tcp is not in its transports/.test(e.message),
  );
});

Deno.test("ServiceHost.deadline: checked arguments, a bound, all cancelled at teardown", () => {
  let host: ServiceHost | undefined;
  let tornDown = 0;
  const fired: number[] = [];
  const plugin = defineService(spec({
    maxConnections: 1,
    setup: (_ctx: unknown, h: ServiceHost) => {
      host = h;
      return { tcp: async () => {}, udp: () => {}, teardown: () => void tornDown++ };
    },
  }));
  const net = new VirtualNetwork({ seed: 1 });
  const stack = net.addNode(createStack({ clock: net.clock, seed: 1, extraPlugins: [plugin] }));
  try {
    const h = host!;
    assert.throws(() => h.deadline("5" as never, () => {}), TypeError);
    assert.throws(() => h.deadline(NaN, () => {}), TypeError);
    assert.throws(() => h.deadline(-1, () => {}), RangeError);
    assert.throws(() => h.deadline(Infinity, () => {}), RangeError);
    assert.throws(() => h.deadline(1, "x" as never), TypeError);
    assert.equal(h.maxDeadlines, 68, "4 per connection allowed, plus 64");
    const timers = [];
    for (let i = 0; i < h.maxDeadlines; i++) {
      timers.push(h.deadline((i + 1) * MILLISECOND, () => fired.push(i)));
    }
    assert.throws(() => h.deadline(1, () => {}), Deno.errors.Busy);
    h.cancel(timers[0]!);
    assert.equal(h.pendingDeadlines, h.maxDeadlines - 1);
    net.runFor(2.5 * MILLISECOND);
    assert.deepEqual(fired, [1]);
    assert.equal(h.pendingDeadlines, h.maxDeadlines - 2);
    stack.close();
    assert.equal(tornDown, 1);
    assert.equal(h.pendingDeadlines, 0);
    net.runFor(1000 * MILLISECOND);
    assert.deepEqual(fired, [1], "none fired after the stack closed");
    assert.throws(() => h.deadline(1, () => {}), Deno.errors.BadResource);
  } finally {
    stack.close();
    net.close();
  }
});

Deno.test("defineService: datagrams from other simple services' ports are dropped and counted", async () => {
  const answered: number[] = [];
  const plugin = defineService(spec({
    transports: ["udp"],
    setup: () => ({
      async udp(data: Uint8Array, from: Deno.NetAddr, sock: DatagramConn) {
        answered.push(from.port);
        await sock.send(data, from);
      },
    }),
  }));
  const { net, server, client, close } = serverAndClient(plugin);
  try {
    await net.run(async () => {
      for (const port of [7, 19, 4000]) {
        const sock = client.listenDatagram({ transport: "udp", port });
        await sock.send(new Uint8Array([1]), { hostname: "10.0.0.2", port: 7100 });
        sock.close();
      }
      await new Promise<void>((r) => net.at(net.now() + 10 * MILLISECOND, r));
    });
    assert.deepEqual(answered, [4000]);
    assert.equal(server.counters.value("probe.datagrams"), 3);
    assert.equal(server.counters.value("probe.loop_drops"), 2);
  } finally {
    close();
  }
});

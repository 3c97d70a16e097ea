/**
 * `defineService` and its host against hostile arguments and hostile
 * peers: seeded specs and `setup` results made of wrong types and values
 * (only TypeError, RangeError or PluginManifestError, each with the
 * action's words, never a stack made half-way); deadlines whose function
 * throws (counted as a handler's throw, not a plugin fault that would end
 * the service); `cancel` of things that are not deadlines; more
 * connections than `maxConnections` to a handler that never returns; a
 * UDP flood into a handler that never returns (the socket's queue bounds
 * it, each drop counted).
 */
import assert from "node:assert/strict";
import {
  createStack,
  defineService,
  MILLISECOND,
  PluginManifestError,
  type ServiceHost,
  type Stack,
} from "../../mod.ts";
import { prng } from "./_fuzz.ts";
import { probeSpec as spec, serverAndClient } from "../../stack/service/_test_spec.ts";

const HOSTILE: readonly unknown[] = [
  undefined,
  null,
  NaN,
  -1,
  0,
  1.5,
  2 ** 53,
  Infinity,
  "",
  "x",
  "Bad Name",
  10n,
  true,
  [],
  ["tcp", "tcp"],
  ["sctp"],
  [null],
  {},
  { port: { default: 1, description: "" } },
  { receiveQueueLimit: 0, receiveQueueBytes: 1 },
  () => {},
  Symbol("s"),
  Object.create(null),
];

const FIELDS = [
  "name",
  "description",
  "version",
  "port",
  "transports",
  "maxConnections",
  "lingerMs",
  "counters",
  "options",
  "requires",
  "setup",
];

/** The class and message of what `fn` throws, or null. */
function thrown(fn: () => unknown): Error | null {
  try {
    fn();
    return null;
  } catch (e) {
    return e as Error;
  }
}

Deno.test("defineService fuzz: 600 specs of hostile fields throw only its own errors, in its words", () => {
  const r = prng(19);
  let refused = 0;
  for (let i = 0; i < 600; i++) {
    const over: Record<string, unknown> = {};
    for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
      over[FIELDS[Math.floor(r() * FIELDS.length)]!] = HOSTILE[Math.floor(r() * HOSTILE.length)];
    }
    const where = `case ${i}: ${Object.keys(over).join(",")}`;
    const e = thrown(() => defineService(spec(over)));
    if (e === null) continue;
    refused++;
    assert.ok(
      e instanceof TypeError || e instanceof RangeError || e instanceof PluginManifestError,
      `${where}: ${e}`,
    );
    assert.match(
      e.message,
      /^(Cannot define (a service|service [^:]*): |Invalid manifest for plugin )/,
      `${where}: ${e}`,
    );
    assert.doesNotMatch(
      e.message,
      /Cannot read prop|of undefined|of null|is not iterable|Cannot convert|primitive value/,
      `${where}: ${e.message}`,
    );
  }
  assert.ok(refused > 400, `${refused} refused`);
  // Seen to fail before: String() of an object without toString threw its
  // own TypeError from the check, a bigint read as the number, a string unquoted.
  for (
    const [value, shown] of [
      [Object.create(null), "(an object without toString)"],
      [10n, "10n"],
      ["8", '"8"'],
    ]
  ) {
    for (const field of ["maxConnections", "lingerMs"]) {
      const e = thrown(() => defineService(spec({ [field]: value })));
      assert.ok(e instanceof TypeError);
      const what = field === "lingerMs" ? "a number" : "an integer";
      assert.equal(e.message, `Cannot define service probe: ${field} ${shown} is not ${what}`);
    }
  }
});

Deno.test("defineService fuzz: 300 hostile setup results fail the stack in the host's words", () => {
  const r = prng(20);
  const pick = () => HOSTILE[Math.floor(r() * HOSTILE.length)];
  for (let i = 0; i < 300; i++) {
    const handlers: Record<string, unknown> = { tcp: async () => {}, udp: () => {} };
    for (const k of ["tcp", "udp", "udpQueue", "teardown"]) if (r() < 0.35) handlers[k] = pick();
    const result = r() < 0.1 ? pick() : handlers;
    const plugin = defineService(spec({ setup: () => result }));
    const e = thrown(() => createStack({ extraPlugins: [plugin] }).close());
    if (e === null) continue;
    const where = `case ${i}: ${JSON.stringify(Object.keys(handlers))}`;
    assert.ok(e instanceof TypeError || e instanceof RangeError, `${where}: ${e}`);
    assert.match(e.message, /^Plugin "probe" failed in setup\(\): Cannot set up probe: /, where);
    assert.doesNotMatch(
      e.message,
      /Cannot read prop|of undefined|of null|Cannot convert|primitive value/,
      `${where}: ${e.message}`,
    );
  }
  // Seen to fail before: a udpQueue of null was read as an object.
  const nul = defineService(spec({
    setup: () => ({ tcp: async () => {}, udp: () => {}, udpQueue: null }),
  }));
  assert.throws(
    () => createStack({ extraPlugins: [nul] }),
    /Cannot set up probe: udpQueue null is not an object$/,
  );
});

const value = (s: Stack, name: string) => s.counters.value(name);

Deno.test("ServiceHost.deadline: a throwing function is counted in errors, not a plugin fault that ends the service", () => {
  let host: ServiceHost | undefined;
  const { net, server, close } = serverAndClient(defineService(spec({
    setup: (_ctx: unknown, h: ServiceHost) => {
      host = h;
      return { tcp: async () => {}, udp: () => {} };
    },
  })));
  try {
    const h = host!;
    // Seen to fail before: each throw was a plugin fault, and enough of
    // them quarantined the service.
    for (let i = 0; i < 40; i++) {
      h.deadline(MILLISECOND, () => {
        throw new Error("boom");
      });
      h.deadline(MILLISECOND, () => {
        throw new Deno.errors.BadResource("closed already"); // the peer went first
      });
      net.runFor(2 * MILLISECOND);
    }
    assert.equal(value(server, "dispatcher.plugin_fault"), 0);
    assert.equal(server.isQuarantined("probe"), false);
    assert.equal(value(server, "probe.errors"), 40);
    assert.equal(h.pendingDeadlines, 0);
    // cancel(): a deadline, one already fired (nothing), not a timer (TypeError in its words).
    const t = h.deadline(MILLISECOND, () => {});
    h.cancel(t);
    h.cancel(t);
    assert.equal(h.pendingDeadlines, 0);
    for (const bad of [null, undefined, 5, "t", {}]) {
      assert.throws(() => h.cancel(bad as never), (e: unknown) => {
        assert.ok(e instanceof TypeError, String(e));
        assert.match(e.message, /^Cannot cancel a deadline: .* is not a deadline$/);
        return true;
      });
    }
  } finally {
    close();
  }
});

Deno.test("defineService: more connections than maxConnections to a handler that never returns are reset and counted", async () => {
  const served: number[] = [];
  let host: ServiceHost | undefined;
  const plugin = defineService(spec({
    transports: ["tcp"],
    maxConnections: 4,
    setup: (_ctx: unknown, h: ServiceHost) => {
      host = h;
      return {
        tcp: (conn: { remoteAddr: Deno.NetAddr }) => {
          served.push(conn.remoteAddr.port);
          if (served.length === 2) throw new Error("a handler that throws");
          return new Promise<void>(() => {}); // never returns
        },
      };
    },
  }));
  const { net, server, client, close } = serverAndClient(plugin);
  try {
    const conns = await net.run(async () => {
      const out = [];
      for (let i = 0; i < 12; i++) {
        out.push(await client.connect({ hostname: "10.0.0.2", port: 7100 }));
        await new Promise<void>((r) => net.at(net.now() + MILLISECOND, r));
      }
      return out;
    });
    net.runFor(100 * MILLISECOND);
    const h = host!;
    // The second handler threw: its connection left, a fifth took its place.
    assert.equal(h.activeConnections, 4);
    assert.equal(served.length, 5);
    assert.equal(value(server, "probe.connections"), 5);
    assert.equal(value(server, "probe.rejected"), 7);
    assert.equal(value(server, "probe.errors"), 1);
    assert.equal(value(server, "dispatcher.plugin_fault"), 0);
    for (const c of conns) c.close();
    net.runFor(100 * MILLISECOND);
  } finally {
    close();
  }
  assert.equal(host!.activeConnections, 0, "closing the stack ends every connection");
});

Deno.test("defineService: a UDP flood into a handler that never returns is bounded by the socket's queue, drops counted", async () => {
  const plugin = defineService(spec({
    transports: ["udp"],
    setup: () => ({
      udp: () => new Promise<void>(() => {}), // never returns: nothing more is read
      udpQueue: { receiveQueueLimit: 8, receiveQueueBytes: 16384 },
    }),
  }));
  const { net, server, client, close } = serverAndClient(plugin);
  try {
    await net.run(async () => {
      const sock = client.listenDatagram({ transport: "udp", port: 4000 });
      for (let i = 0; i < 300; i++) {
        await sock.send(new Uint8Array(1000), { hostname: "10.0.0.2", port: 7100 });
      }
      await new Promise<void>((r) => net.at(net.now() + 10 * MILLISECOND, r));
      sock.close();
    });
    assert.equal(value(server, "probe.datagrams"), 1, "the handler holds the loop");
    // Taken by the socket (one read, the rest queued) or dropped, counted.
    const taken = value(server, "udp.rx.datagrams");
    const dropped = value(server, "udp.rx.rcvbuf_full");
    // The client's first ones waited for ARP, its queue bounded too.
    const unsent = value(client, "arp.tx.queue_full");
    assert.equal(taken + dropped + unsent, 300, `${taken} ${dropped} ${unsent}`);
    assert.ok(dropped > 100, `${dropped} dropped`);
    assert.ok(taken <= 1 + 8, `${taken} taken, ${dropped} dropped`);
    assert.equal(value(server, "dispatcher.plugin_fault"), 0);
  } finally {
    close();
  }
});

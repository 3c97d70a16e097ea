/**
 * The same mistake, the same error, whoever makes it: TCP or UDP, IPv4 or
 * IPv6, listen, connect or send. Each row is one mistake; every call that can
 * make it must throw (or reject with) the same class, and the message must
 * start with the call and the endpoint as given, an IPv6 address in brackets
 * (`Cannot listen on [fd00::1]:-1: …`; was `fd00::1:-1`, and UDP's listen
 * said only `Cannot listen: …`), a string port quoted (`port "80" is not an
 * integer`; was `port 80 is not an integer`).
 */
import assert from "node:assert/strict";
import { createStack, SECOND, type Stack, VirtualNetwork } from "../../mod.ts";

type Call = (s: Stack, host: string, port: unknown) => unknown;

/** Every way to name an endpoint: the message starts `<verb> <host:port>`. */
const CALLS: Record<string, { verb: string; call: Call }> = {
  "tcp listen": {
    verb: "Cannot listen on",
    call: (s, h, p) => s.listen({ hostname: h, port: p as number }),
  },
  "udp listen": {
    verb: "Cannot listen on",
    call: (s, h, p) => s.listenDatagram({ transport: "udp", hostname: h, port: p as number }),
  },
  "tcp connect": {
    verb: "Cannot connect to",
    call: (s, h, p) => s.connect({ hostname: h, port: p as number, timeout: 1000 }),
  },
  "udp send": {
    verb: "Cannot send to",
    call: (s, h, p) => {
      const sock = s.listenDatagram({ transport: "udp", port: 0 });
      return sock.send(new Uint8Array(1), { transport: "udp", hostname: h, port: p as number })
        .finally(() => sock.close());
    },
  },
};

const MISTAKES: {
  what: string;
  port: unknown;
  error: ErrorConstructor;
  text: string;
  calls: string[];
}[] = [
  {
    what: "negative port",
    port: -1,
    error: RangeError,
    text: "-1",
    calls: ["tcp listen", "udp listen", "tcp connect", "udp send"],
  },
  {
    what: "port above 65535",
    port: 65536,
    error: RangeError,
    text: "65536",
    calls: Object.keys(CALLS),
  },
  { what: "fractional port", port: 1.5, error: TypeError, text: "1.5", calls: Object.keys(CALLS) },
  {
    what: "port as a string",
    port: "80",
    error: TypeError,
    text: '"80"',
    calls: Object.keys(CALLS),
  },
  {
    what: "port 0 to a peer",
    port: 0,
    error: RangeError,
    text: "0",
    calls: ["tcp connect", "udp send"],
  },
];

async function outcome(f: () => unknown): Promise<unknown> {
  try {
    await f();
    return undefined;
  } catch (e) {
    return e;
  }
}

Deno.test("a bad port: one error class per mistake across TCP/UDP and IPv4/IPv6, the endpoint as given in the message", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const s = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  s.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  await net.run(async () => {
    await new Promise<void>((r) => net.at(net.now() + 3 * SECOND, r)); // IPv6 DAD
    for (const [host, shown] of [["10.0.0.1", "10.0.0.1"], ["fd00::1", "[fd00::1]"]]) {
      for (const m of MISTAKES) {
        for (const name of m.calls) {
          const { verb, call } = CALLS[name]!;
          const e = await outcome(() => call(s, host!, m.port));
          const where = `${name} ${host} with a ${m.what}`;
          assert.ok(e instanceof m.error, `${where}: ${String(e)}`);
          assert.ok(
            (e as Error).message.startsWith(`${verb} ${shown}:${m.text}: port ${m.text} is not `),
            `${where}: ${(e as Error).message}`,
          );
        }
      }
    }
  });
  s.close();
  net.close();
});

Deno.test("a taken port and an address not ours: the same class and words for TCP and UDP, IPv4 and IPv6", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const s = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  s.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  await net.run(() => new Promise<void>((r) => net.at(net.now() + 3 * SECOND, r))); // IPv6 DAD
  for (
    const [host, shown, other] of [["10.0.0.1", "10.0.0.1", "192.0.2.9"], [
      "fd00::1",
      "[fd00::1]",
      "2001:db8::9",
    ]]
  ) {
    for (const name of ["tcp listen", "udp listen"]) {
      const held = CALLS[name]!.call(s, host!, 4000) as { close(): void };
      assert.throws(
        () => CALLS[name]!.call(s, host!, 4000),
        (e: unknown) =>
          e instanceof Deno.errors.AddrInUse &&
          e.message === `Cannot listen on ${shown}:4000: address in use`,
      );
      held.close();
      assert.throws(
        () => CALLS[name]!.call(s, other!, 4000),
        (e: unknown) =>
          e instanceof Deno.errors.AddrNotAvailable &&
          e.message.startsWith(
            `Cannot listen on ${other!.includes(":") ? `[${other}]` : other}:4000: `,
          ),
      );
    }
  }
  s.close();
  net.close();
});
